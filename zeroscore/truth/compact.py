"""Compact tables: gzip'd CSV, one row per architecture. Reading (checked, so a damaged file is named, not
half-read), indexing by the canonical architecture key, and writing with identical bytes on every rebuild."""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import zlib
from pathlib import Path

import pandas as pd

from zeroscore.errors import DamagedFileError

#: columns a compact table must have, complete (no missing value), per space
REQUIRED = {
    "nb201": ["index", "arch_str", "cifar10_test_acc"],
    "nats_sss": ["index", "arch_str", "cifar10_test_acc"],
    "nb101": ["adjacency", "ops", "val_accuracy"],
}
#: columns that identify a row of the file (NB101: the spec as written; several unpruned specs may prune to one key)
ROW_KEYS = {"nb201": ["arch_str"], "nats_sss": ["arch_str"], "nb101": ["adjacency", "ops"]}
#: architectures in each benchmark: a table never has more rows, and ``index`` is below this
SPACE_SIZE = {"nb201": 15_625, "nats_sss": 32_768, "nb101": 423_624}

_REDO = "get it again or rebuild it with `zeroscore data export` (`zeroscore data check` says where it comes from)"


def nb101_key(adjacency, ops) -> str:
    """Canonical NB101 key: the pruned spec in the form of ``zeroscore.spaces.get("nb101").canonical``.

    Unpruned specs (NASLib's sample) and pruned ones (the official tfrecord) of the same network get the same key,
    so scores keyed by the space's canonical arch join with every table.
    """
    from zeroscore.spaces.nb101 import format_spec, parse_spec

    matrix, pruned_ops = parse_spec({"matrix": [[int(v) for v in row] for row in adjacency], "ops": list(ops)})
    return format_spec(matrix.tolist(), pruned_ops)


def finish(df: pd.DataFrame, space: str, source: str) -> pd.DataFrame:
    """Index a table by the canonical key and record where it came from (``attrs["source"]``, ``attrs["space"]``)."""
    if space == "nb101":
        from zeroscore.spaces.nb101 import nb101_hash, parse_spec

        keys = [nb101_key(json.loads(a), json.loads(o)) for a, o in zip(df["adjacency"], df["ops"])]
        if "hash" not in df.columns:
            df.insert(2, "hash", pd.NA)
        missing = df["hash"].isna() | (df["hash"].astype(str) == "")
        df.loc[missing, "hash"] = [nb101_hash(*parse_spec(k)) for k, m in zip(keys, missing) if m]
    else:
        keys = df["arch_str"].tolist()
    df.index = pd.Index(keys, name="arch")
    if space == "nb101" and not df.index.is_unique:
        # NASLib's sample holds unpruned specs; many prune to the same network, recorded with different training
        # seeds. One row per network: numeric columns (accuracy, proxies) averaged, the rest from the first record.
        counts = df.groupby(level=0, sort=False).size()
        numeric = df.select_dtypes("number").columns
        first = df.groupby(level=0, sort=False).first()
        first[numeric] = df[numeric].groupby(level=0, sort=False).mean()
        first["n_records"] = counts
        df = first
    if not df.index.is_unique:
        raise DamagedFileError(f"{source}: architecture keys are not unique")
    df.attrs["source"] = source
    df.attrs["space"] = space
    return df


def read_gzip(path: Path) -> bytes:
    """The decompressed bytes of a ``.csv.gz``; :class:`DamagedFileError` naming the file when it is not gzip."""
    try:
        with open(path, "rb") as f:
            return gzip.decompress(f.read())
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise DamagedFileError(f"{path}: not a complete gzip file ({err}); {_REDO}") from err


def _damaged(path, what: str) -> DamagedFileError:
    return DamagedFileError(f"{path}: {what}; {_REDO}")


def parse(raw: bytes, path, space: str) -> pd.DataFrame:
    """Parse and check the CSV text of a compact ``space`` table (``path`` only names it in errors).

    Checks: a CSV with a header, every line one row, the required columns present and complete, at most
    :data:`SPACE_SIZE` rows, no repeated row key, ``index`` (where present) unique integers in range.
    """
    try:
        df = pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise _damaged(path, f"not a CSV table ({err})") from err
    lines = sum(1 for line in raw.splitlines() if line.strip())
    if len(df) != lines - 1:  # pandas skips blank lines and may merge rows; a table written by export never has them
        raise _damaged(path, f"{lines - 1} data lines but {len(df)} rows parsed")
    missing = [c for c in REQUIRED[space] if c not in df.columns]
    if missing:
        raise _damaged(path, f"not a {space} table: missing columns {missing} (has {list(df.columns)})")
    if df.empty or len(df) > SPACE_SIZE[space]:
        raise _damaged(path, f"{len(df)} rows; a {space} table has 1 to {SPACE_SIZE[space]:,}")
    incomplete = [c for c in REQUIRED[space] if df[c].isna().any()]
    if incomplete:
        raise _damaged(path, f"missing values in {incomplete}")
    repeated = df.duplicated(ROW_KEYS[space])
    if repeated.any():
        first = df.loc[repeated, ROW_KEYS[space]].iloc[0].tolist()
        raise _damaged(path, f"{int(repeated.sum())} repeated architectures (first: {first})")
    if "index" in df.columns:
        index = df["index"]
        if index.dtype.kind not in "iu" or index.min() < 0 or index.max() >= SPACE_SIZE[space] or \
                not index.is_unique:
            raise _damaged(path, f"column 'index' must hold distinct integers 0..{SPACE_SIZE[space] - 1}")
    return df


def read(path: Path, space: str, kind: str = "compact") -> pd.DataFrame:
    """The checked, indexed table in ``path``; ``attrs["source"]`` is ``"<kind>:<path>"``. Cached per file version."""
    stat = path.stat()
    return _read_cached(str(path), stat.st_mtime_ns, stat.st_size, space, kind)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, size: int, space: str, kind: str) -> pd.DataFrame:
    df = parse(read_gzip(Path(path)), path, space)
    try:
        return finish(df, space, f"{kind}:{path}")
    except DamagedFileError:
        raise
    except (ValueError, TypeError, KeyError) as err:  # NB101: a spec that does not decode or prune
        raise _damaged(path, f"an architecture cannot be read ({type(err).__name__}: {err})") from err


def gzip_bytes(csv: bytes) -> bytes:
    """gzip with a fixed header (mtime 0, no file name) and level, so the same table always gives the same bytes."""
    return gzip.compress(csv, compresslevel=9, mtime=0)


def write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so an interrupted write never leaves half a table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)
