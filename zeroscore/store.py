"""Resumable SQLite store of indicator scores.

One row per (space, arch, dataset, batch spec, seed, indicator, indicator parameters). The table::

    scores(space, arch, dataset, batch_size, split, seed, indicator, params_hash,   -- primary key
           params, value, seconds, error, run_id, created)

* ``arch`` is the architecture's stable string form (``str(space.canonical(arch))``);
* ``batch_size`` and ``split`` are the batch spec (:func:`zeroscore.data.load_batch` arguments); the batch
  itself is chosen by ``seed``;
* ``params_hash`` is :func:`params_hash` of the indicator's hyper-parameters
  (``json.dumps(indicator.get_params(), sort_keys=True)``, plus the runner's protocol keys such as
  ``"network": "thin"``), so changing a hyper-parameter gives new rows instead of overwriting old ones;
  ``params`` keeps the JSON itself;
* ``value`` is NULL where the indicator failed (``error`` says why); it is read back as NaN.

The database is in WAL mode; :meth:`Store.add_rows` inserts all rows of one architecture in ONE transaction,
so a run killed at any moment leaves only complete architectures, and ``INSERT OR IGNORE`` on the primary key
means every row exists at most once even if two runs write the same store. A ``runs`` table records each run's
metadata (zeroscore/torch/python versions, data description, settings, command line, start/finish time);
``scores.run_id`` points to the run that wrote a row.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Store", "open_store", "load_scores", "load_runs", "params_hash", "params_json", "SCORE_COLUMNS"]

SCHEMA_VERSION = 1

#: columns of a tidy score frame, in order
SCORE_COLUMNS = ["space", "arch", "dataset", "batch_size", "split", "seed", "indicator", "params_hash", "params",
                 "value", "seconds", "error"]
_KEY = ["space", "arch", "dataset", "batch_size", "split", "seed", "indicator", "params_hash"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    finished REAL,
    status TEXT,
    info TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    space TEXT NOT NULL,
    arch TEXT NOT NULL,
    dataset TEXT NOT NULL,
    batch_size INTEGER NOT NULL,
    split TEXT NOT NULL,
    seed INTEGER NOT NULL,
    indicator TEXT NOT NULL,
    params_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    value REAL,
    seconds REAL,
    error TEXT,
    run_id INTEGER,
    created REAL,
    PRIMARY KEY (space, arch, dataset, batch_size, split, seed, indicator, params_hash)
);
CREATE INDEX IF NOT EXISTS scores_by_run ON scores (space, dataset, batch_size, split, indicator, params_hash);
"""


def params_json(params: Mapping[str, Any]) -> str:
    """Canonical JSON of indicator hyper-parameters (sorted keys; tuples become lists; others via ``str``)."""
    return json.dumps(dict(params), sort_keys=True, default=_json_default)


def _json_default(obj: Any):
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    return str(obj)


def params_hash(params: Mapping[str, Any]) -> str:
    """Short stable hash (first 16 hex digits of SHA-256) of :func:`params_json`."""
    return hashlib.sha256(params_json(params).encode()).hexdigest()[:16]


class Store:
    """A score database (use :func:`open_store`). Safe to use from one thread; open one per process."""

    def __init__(self, path: str | os.PathLike, timeout: float = 60.0):
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        with self.transaction():
            for stmt in _SCHEMA.strip().split(";"):
                if stmt.strip():
                    self.conn.execute(stmt)
            self.conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                              (str(SCHEMA_VERSION),))

    # ------------------------------------------------------------------ plumbing
    def transaction(self):
        """Context manager: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any exception)."""
        return _Transaction(self.conn)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {str(self.path)!r}>"

    # ------------------------------------------------------------------ runs
    def start_run(self, info: Mapping[str, Any]) -> int:
        """Record a run's metadata; returns its ``run_id``."""
        with self.transaction():
            cur = self.conn.execute("INSERT INTO runs (created, status, info) VALUES (?, 'running', ?)",
                                    (time.time(), json.dumps(dict(info), sort_keys=True, default=str)))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str = "finished", **extra: Any) -> None:
        """Mark a run finished/interrupted/failed; ``extra`` is merged into its info."""
        with self.transaction():
            row = self.conn.execute("SELECT info FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            info = json.loads(row[0]) if row else {}
            info.update(extra)
            self.conn.execute("UPDATE runs SET finished = ?, status = ?, info = ? WHERE run_id = ?",
                              (time.time(), status, json.dumps(info, sort_keys=True, default=str), run_id))

    def runs(self):
        """The ``runs`` table as a DataFrame (``info`` expanded into columns)."""
        import pandas as pd

        rows = self.conn.execute("SELECT run_id, created, finished, status, info FROM runs ORDER BY run_id").fetchall()
        out = []
        for run_id, created, finished, status, info in rows:
            d = {"run_id": run_id, "created": created, "finished": finished, "status": status}
            d.update(json.loads(info))
            out.append(d)
        return pd.DataFrame(out)

    # ------------------------------------------------------------------ scores
    def add_rows(self, rows: Sequence[Mapping[str, Any]], run_id: int | None = None) -> int:
        """Insert the rows of ONE architecture atomically (all or none). Existing keys are left as they are.

        Returns the number of rows actually inserted.
        """
        now = time.time()
        data = []
        for r in rows:
            v = r.get("value")
            v = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            data.append((r["space"], str(r["arch"]), r["dataset"], int(r["batch_size"]), r["split"], int(r["seed"]),
                         r["indicator"], r["params_hash"], r["params"] if isinstance(r["params"], str)
                         else params_json(r["params"]), v, _float_or_none(r.get("seconds")), r.get("error"),
                         run_id, now))
        with self.transaction():
            before = self.conn.total_changes
            self.conn.executemany(
                "INSERT OR IGNORE INTO scores (space, arch, dataset, batch_size, split, seed, indicator, params_hash, "
                "params, value, seconds, error, run_id, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", data)
            return self.conn.total_changes - before

    def done(self, space: str, dataset: str, batch_size: int, split: str,
             keys: Iterable[tuple[str, str]] | None = None) -> set[tuple[str, int, str, str]]:
        """``{(arch, seed, indicator, params_hash)}`` already stored for this space/dataset/batch spec.

        ``keys`` restricts to the given ``(indicator, params_hash)`` pairs.
        """
        rows = self.conn.execute(
            "SELECT arch, seed, indicator, params_hash FROM scores WHERE space = ? AND dataset = ? AND batch_size = ? "
            "AND split = ?", (space, dataset, int(batch_size), split)).fetchall()
        wanted = set(keys) if keys is not None else None
        return {(a, int(s), i, h) for a, s, i, h in rows if wanted is None or (i, h) in wanted}

    def merge(self, other: str | os.PathLike) -> int:
        """Copy the runs and score rows of the store at ``other`` into this one (e.g. parts scored on several
        machines). Rows whose key is already here are kept as they are; ``other``'s runs get new ids and its rows
        point to them. Returns the number of score rows added."""
        src = sqlite3.connect(f"file:{Path(other)}?mode=ro", uri=True)
        try:
            runs = src.execute("SELECT run_id, created, finished, status, info FROM runs ORDER BY run_id").fetchall()
            cols = _KEY + ["params", "value", "seconds", "error", "run_id", "created"]
            rows = src.execute(f"SELECT {', '.join(cols)} FROM scores").fetchall()
        finally:
            src.close()
        with self.transaction():
            new_id = {}
            for run_id, created, finished, status, info in runs:
                cur = self.conn.execute("INSERT INTO runs (created, finished, status, info) VALUES (?, ?, ?, ?)",
                                        (created, finished, status, info))
                new_id[run_id] = cur.lastrowid
            before = self.count()
            rid = cols.index("run_id")
            self.conn.executemany(
                f"INSERT OR IGNORE INTO scores ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [r[:rid] + (new_id.get(r[rid]),) + r[rid + 1:] for r in rows])
            return self.count() - before

    def forget_failed(self, match: str | None = None) -> int:
        """Delete the rows whose indicator failed (``error`` containing ``match``, if given), so that the next
        run computes them again (e.g. after out-of-memory errors). Returns the number of rows deleted."""
        sql, args = "DELETE FROM scores WHERE error IS NOT NULL", []
        if match:
            sql += " AND instr(error, ?) > 0"
            args.append(match)
        with self.transaction():
            return self.conn.execute(sql, args).rowcount

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0])

    def scores(self, space: str | None = None, dataset: str | None = None, indicators: Iterable[str] | None = None,
               seeds: Iterable[int] | None = None, batch_size: int | None = None, split: str | None = None,
               archs: Iterable[str] | None = None):
        """Stored rows as a tidy DataFrame (columns :data:`SCORE_COLUMNS` + ``run_id``), filtered."""
        import pandas as pd

        where, args = [], []
        for col, val in (("space", space), ("dataset", dataset), ("batch_size", batch_size), ("split", split)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        for col, vals in (("indicator", indicators), ("seed", seeds)):
            if vals is not None:
                vals = [vals] if isinstance(vals, (str, int)) else list(vals)
                where.append(f"{col} IN ({','.join('?' * len(vals))})")
                args.extend(vals)
        sql = f"SELECT {', '.join(SCORE_COLUMNS)}, run_id FROM scores"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY space, dataset, batch_size, split, indicator, params_hash, seed, arch"
        df = pd.DataFrame(self.conn.execute(sql, args).fetchall(), columns=SCORE_COLUMNS + ["run_id"])
        if archs is not None:
            keep = {str(a) for a in archs}
            df = df[df["arch"].isin(keep)].reset_index(drop=True)
        df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)  # NULL -> NaN
        df["seconds"] = pd.to_numeric(df["seconds"], errors="coerce").astype(float)
        df["seed"] = df["seed"].astype(int)
        df["batch_size"] = df["batch_size"].astype(int)
        return df


def _float_or_none(v):
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False


def open_store(path: str | os.PathLike) -> Store:
    """Open (creating if needed) the score store at ``path``."""
    return Store(path)


def load_scores(path: str | os.PathLike, space: str | None = None, dataset: str | None = None,
                indicators: Iterable[str] | None = None, seeds: Iterable[int] | None = None,
                batch_size: int | None = None, split: str | None = None, archs: Iterable[str] | None = None):
    """Tidy DataFrame of the scores stored at ``path`` (see :meth:`Store.scores` for the filters)."""
    if not Path(path).exists():
        raise FileNotFoundError(f"no score store at {path}")
    with open_store(path) as st:
        return st.scores(space=space, dataset=dataset, indicators=indicators, seeds=seeds, batch_size=batch_size,
                         split=split, archs=archs)


def load_runs(path: str | os.PathLike):
    """The run metadata stored at ``path`` as a DataFrame."""
    with open_store(path) as st:
        return st.runs()
