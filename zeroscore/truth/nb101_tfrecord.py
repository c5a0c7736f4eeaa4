"""Read NAS-Bench-101's official ``nasbench_only108.tfrecord`` (or ``nasbench_full.tfrecord``) into the columns of
the NB101 compact table, without TensorFlow (the record format is decoded in :mod:`zeroscore.truth.tfrecord`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zeroscore.errors import DamagedFileError, DataNotFoundError, UsageError

from .compact import finish
from .files import HOW
from .tfrecord import iter_nasbench_records

_NB101_RUN_KEYS = ("validation_accuracy", "test_accuracy", "train_accuracy", "training_time")


def from_nb101_tfrecord(path, epochs: int = 108, verify: bool = True) -> pd.DataFrame:
    """NB101 table from ``nasbench_only108.tfrecord`` (or the full ``nasbench_full.tfrecord``), no TensorFlow.

    One row per module hash, using the records trained for ``epochs`` epochs: final (last evaluation) validation /
    test / train accuracy as % (mean over repeats, and per repeat ``*_r{k}``), ``trainable_parameters`` and
    ``params`` (millions), mean final ``training_time``. ``verify`` checks the TFRecord CRC-32C checksums; a
    damaged file raises :class:`~zeroscore.errors.DamagedFileError` naming it.
    The full only108 file (~1.3M records) takes a few minutes (pure-Python protobuf decoding).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"NAS-Bench-101 file: expected {path} but it does not exist. {HOW['nb101']}")
    cells: dict[str, dict] = {}
    for rec in iter_nasbench_records(path, verify=verify):
        if rec["epochs"] != epochs:
            continue
        m = rec["metrics"]
        if not m["evaluation_data"]:
            raise DamagedFileError(f"{path}: record of {rec['hash']} has no evaluation data")
        final = max(m["evaluation_data"], key=lambda e: e.get("current_epoch", 0.0))
        cell = cells.setdefault(rec["hash"], {"adjacency": rec["adjacency"], "ops": rec["ops"],
                                              "trainable_parameters": m["trainable_parameters"], "runs": []})
        cell["runs"].append(tuple(final.get(k, np.nan) for k in _NB101_RUN_KEYS))  # small: ~1.3M runs
    if not cells:
        raise UsageError(f"{path}: no records with {epochs} epochs (nasbench_only108.tfrecord holds 108 only)")
    n_rep = max(len(c["runs"]) for c in cells.values())
    rows = []
    for h, c in cells.items():
        runs = c["runs"]
        row: dict[str, Any] = {"adjacency": json.dumps(c["adjacency"], separators=(",", ":")),
               "ops": json.dumps(c["ops"], separators=(",", ":")), "hash": h}
        for j, short in enumerate(("val", "test", "train")):
            vals = [100.0 * r[j] for r in runs]
            row[f"{short}_accuracy"] = float(np.mean(vals))
            if short != "train":
                for k in range(n_rep):
                    row[f"{short}_accuracy_r{k}"] = vals[k] if k < len(vals) else np.nan
        row["n_repeats"] = len(runs)
        tp = c["trainable_parameters"]
        row["trainable_parameters"] = tp
        row["params"] = tp / 1e6 if tp is not None else np.nan
        row["training_time"] = float(np.mean([r[3] for r in runs]))
        rows.append(row)
    return finish(pd.DataFrame(rows), "nb101", f"tfrecord:{path}")
