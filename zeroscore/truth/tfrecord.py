"""Read NAS-Bench-101's ``nasbench_only108.tfrecord`` without TensorFlow.

Why: the official NAS-Bench-101 API needs TensorFlow 1.x only to iterate over the records and to parse one small
protobuf message. Both formats are simple, so they are decoded here in a few lines of Python/numpy.

TFRecord framing (TensorFlow ``core/lib/io/record_writer``), repeated until end of file::

    uint64  length          (little endian)
    uint32  masked_crc32c(length bytes)
    bytes   data[length]
    uint32  masked_crc32c(data)

``masked_crc32c(x) = ((c >> 15) | (c << 17)) + 0xA282EAD8 (mod 2**32)`` with ``c = crc32c(x)`` (Castagnoli
polynomial, reflected 0x82F63B78). Both checksums are verified; a mismatch or a truncated record raises
:class:`~zeroscore.errors.DamagedFileError` (also importable here as ``TFRecordError``) naming the file.

Each NAS-Bench-101 record is UTF-8 JSON ``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]``:
``raw_adjacency`` a string of ``'0'``/``'1'`` (row-major n x n), ``raw_operations`` comma-separated op labels,
``raw_metrics`` base64 of a ``nasbench.ModelMetrics`` protobuf (``nasbench/lib/model_metrics.proto``)::

    ModelMetrics:   1 evaluation_data (repeated EvaluationData), 2 trainable_parameters (int32), 3 total_time (double)
    EvaluationData: 1 current_epoch, 2 training_time, 3 train_accuracy, 4 validation_accuracy, 5 test_accuracy
                    (all double), 6 checkpoint_path (string)

``evaluation_data`` holds the evaluations at step 0, half-way and at the end of training (accuracies are
fractions in [0, 1]).
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zeroscore.errors import DamagedFileError

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_MASK_DELTA = 0xA282EAD8

#: a file that is not a valid TFRecord file (truncated, checksum mismatch, undecodable record); every public
#: exception lives in :mod:`zeroscore.errors`, this name only keeps the reader's vocabulary
TFRecordError = DamagedFileError


def _make_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (pure Python, one byte at a time; reference for :func:`crc32c_batch`)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c_batch(messages: Sequence[bytes]) -> np.ndarray:
    """CRC-32C of many messages at once (uint32 array), vectorised over messages with numpy.

    A CRC is sequential within a message, but independent across messages: stepping all messages one byte
    position at a time makes the full NAS-Bench-101 file (~1.3M records) checkable in seconds instead of minutes.
    Messages are sorted by length so that at byte position j only the first ``k_j`` (still unfinished) ones update.
    """
    n = len(messages)
    out = np.zeros(n, dtype=np.uint32)
    if n == 0:
        return out
    lengths = np.array([len(m) for m in messages], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    lens_sorted = lengths[order]
    width = int(lens_sorted[0])
    buf = np.zeros((n, max(width, 1)), dtype=np.uint8)
    for row, i in enumerate(order):
        m = messages[i]
        buf[row, : len(m)] = np.frombuffer(m, dtype=np.uint8)
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    # active[j] = number of messages longer than j (lens_sorted is descending)
    active = np.searchsorted(-lens_sorted, -np.arange(width), side="left")
    for j in range(width):
        k = int(active[j])
        c = crc[:k]
        crc[:k] = _TABLE_NP[(c ^ buf[:k, j]) & 0xFF] ^ (c >> 8)
    out[order] = crc ^ np.uint32(0xFFFFFFFF)
    return out


def mask_crc(crc: int | np.ndarray):
    """TFRecord's masking of a CRC (works on ints and uint32 arrays)."""
    if isinstance(crc, np.ndarray):
        crc = crc.astype(np.uint64)
        return ((((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF).astype(np.uint32)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    return mask_crc(crc32c(data))


def read_records(path: str | Path, verify: bool = True, chunk: int = 8192) -> Iterator[bytes]:
    """Yield the payload of every record of a TFRecord file (uncompressed), checking both CRCs when ``verify``.

    Length CRCs are checked record by record (8 bytes, cheap); data CRCs are checked for ``chunk`` records at a
    time with :func:`crc32c_batch` before any of them is yielded.
    """
    path = Path(path)
    with open(path, "rb") as f:
        while True:
            payloads, crcs, offsets = [], [], []
            for _ in range(chunk):
                offset = f.tell()
                header = f.read(12)
                if not header:
                    break
                if len(header) < 12:
                    raise TFRecordError(f"{path}: truncated record header at byte {offset}")
                length_bytes, length_crc = header[:8], struct.unpack("<I", header[8:])[0]
                if verify and masked_crc32c(length_bytes) != length_crc:
                    raise TFRecordError(f"{path}: length checksum mismatch at byte {offset}")
                (length,) = struct.unpack("<Q", length_bytes)
                data = f.read(length)
                footer = f.read(4)
                if len(data) < length or len(footer) < 4:
                    raise TFRecordError(f"{path}: truncated record at byte {offset}")
                payloads.append(data)
                crcs.append(struct.unpack("<I", footer)[0])
                offsets.append(offset)
            if not payloads:
                return
            if verify:
                got = mask_crc(crc32c_batch(payloads))
                bad = np.nonzero(got != np.array(crcs, dtype=np.uint32))[0]
                if len(bad):
                    raise TFRecordError(f"{path}: data checksum mismatch in the record at byte {offsets[bad[0]]}")
            yield from payloads


# --- minimal protobuf wire-format decoding -------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def decode_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field_number, wire_type, value)`` of a protobuf message.

    Values: wire type 0 (varint) -> int, 1 (64-bit) -> 8 raw bytes, 2 (length-delimited) -> bytes,
    5 (32-bit) -> 4 raw bytes. The schema decides how to interpret them (see :func:`parse_model_metrics`).
    Groups (wire types 3/4, deprecated) are not supported.
    """
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} (field {field})")
        if pos > len(buf):
            raise ValueError("truncated protobuf message")
        yield field, wire, value


def _number(wire: int, value) -> float:
    """A numeric field as float, whatever its wire encoding (double, float or varint)."""
    if wire == 1:
        return struct.unpack("<d", value)[0]
    if wire == 5:
        return struct.unpack("<f", value)[0]
    if wire == 0:
        return float(value)
    raise ValueError(f"wire type {wire} is not numeric")


_EVAL_FIELDS = {1: "current_epoch", 2: "training_time", 3: "train_accuracy", 4: "validation_accuracy",
                5: "test_accuracy"}


def parse_model_metrics(buf: bytes) -> dict:
    """Decode a ``nasbench.ModelMetrics`` message into plain Python values."""
    out: dict[str, Any] = {"evaluation_data": [], "trainable_parameters": None, "total_time": None}
    for field, wire, value in decode_fields(buf):
        if field == 1 and wire == 2 and isinstance(value, bytes):
            ev: dict[str, Any] = {}
            for f2, w2, v2 in decode_fields(value):
                if f2 in _EVAL_FIELDS:
                    ev[_EVAL_FIELDS[f2]] = _number(w2, v2)
                elif f2 == 6 and w2 == 2 and isinstance(v2, bytes):
                    ev["checkpoint_path"] = v2.decode("utf-8", "replace")
            out["evaluation_data"].append(ev)
        elif field == 2 and wire == 0 and isinstance(value, int):
            out["trainable_parameters"] = value - (1 << 64) if value >= 1 << 63 else value  # int32 sign
        elif field == 3:
            out["total_time"] = _number(wire, value)
    return out


def _parse_record(payload: bytes) -> dict:
    module_hash, epochs, raw_adjacency, raw_operations, raw_metrics = json.loads(payload.decode("utf-8"))
    dim = int(round(len(raw_adjacency) ** 0.5))
    if dim * dim != len(raw_adjacency):
        raise ValueError(f"adjacency string of length {len(raw_adjacency)} is not square")
    adjacency = [[int(raw_adjacency[r * dim + c]) for c in range(dim)] for r in range(dim)]
    return {
        "hash": module_hash,
        "epochs": int(epochs),
        "adjacency": adjacency,
        "ops": raw_operations.split(","),
        "metrics": parse_model_metrics(base64.b64decode(raw_metrics)),
    }


def iter_nasbench_records(path: str | Path, verify: bool = True) -> Iterator[dict]:
    """Yield one dict per NAS-Bench-101 record: hash, epochs, adjacency (list of lists), ops (list), metrics.

    A record that is not NAS-Bench-101's JSON/protobuf payload raises :class:`TFRecordError` naming the file and the
    record number (a valid TFRecord file of something else, or a damaged one read with ``verify=False``).
    """
    for number, payload in enumerate(read_records(path, verify=verify)):
        try:
            record = _parse_record(payload)
        except (ValueError, TypeError, KeyError, IndexError, struct.error, UnicodeDecodeError) as err:
            raise TFRecordError(f"{path}: record {number} is not a NAS-Bench-101 record ({err}); download "
                                "nasbench_only108.tfrecord again") from err
        yield record
