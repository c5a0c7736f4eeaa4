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

The database is in WAL mode (rows live in the ``-wal`` file until a checkpoint: :meth:`Store.close` checkpoints,
so a closed store is one self-contained file; copy an open one with :meth:`Store.backup`, never with ``cp``);
:meth:`Store.add_rows` inserts all rows of one architecture in ONE transaction,
so a run killed at any moment leaves only complete architectures, and ``INSERT OR IGNORE`` on the primary key
means every row exists at most once even if two runs write the same store. A ``runs`` table records each run's
metadata (zeroscore/torch/python versions, data description, settings, command line, start/finish time);
``scores.run_id`` points to the run that wrote a row.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from zeroscore.errors import StoreError
from zeroscore.results import ROW_COLUMNS, params_hash, params_json

__all__ = ["Store", "open_store", "load_scores", "load_runs", "params_hash", "params_json", "SCORE_COLUMNS"]

SCHEMA_VERSION = 1

#: columns of a tidy score frame, in order (the Scorer's row schema)
SCORE_COLUMNS = ROW_COLUMNS
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


class Store:
    """A score database (use :func:`open_store`). Safe to use from one thread; open one per process."""

    def __init__(self, path: str | os.PathLike, timeout: float = 60.0):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            with self.transaction():
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
                self.conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                                  (str(SCHEMA_VERSION),))
            _check_columns(self.conn, self.path)
        except (sqlite3.Error, OSError) as err:
            if self._conn is not None:
                self._conn.close()
            raise StoreError(f"cannot use {self.path} as a score store: {_explain(err)}") from err

    # ------------------------------------------------------------------ plumbing
    @property
    def conn(self) -> sqlite3.Connection:
        """The SQLite connection (:class:`StoreError` once the store is closed)."""
        if self._conn is None:
            raise StoreError(f"the store {self.path} is closed")
        return self._conn

    def transaction(self):
        """Context manager: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any exception)."""
        return _Transaction(self.conn)

    def close(self) -> None:
        """Checkpoint the write-ahead log into the main file (so the ``.sqlite`` alone holds every row) and close."""
        if self._conn is not None:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:  # another process holds the log: it checkpoints when it closes
                pass
            self._conn.close()
            self._conn = None

    def backup(self, destination: str | os.PathLike) -> Path:
        """A consistent copy of the store, including rows still in its write-ahead log, at ``destination``;
        gzip-compressed where it ends in ``.gz`` (no time stamp in the gzip header, so a committed copy changes
        only when the store does)."""
        destination = Path(destination)
        if destination.suffix == ".gz":
            import gzip
            import shutil
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                plain = self.backup(Path(tmp) / destination.stem)
                with open(plain, "rb") as src, gzip.GzipFile(destination, "wb", mtime=0) as dst:
                    shutil.copyfileobj(src, dst)
            return destination
        target = sqlite3.connect(str(destination))
        try:
            self.conn.backup(target)
        finally:
            target.close()
        return destination

    def __enter__(self) -> Store:
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
            return int(cur.lastrowid or 0)

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
        point to them. ``other`` may be gzip-compressed (``*.gz``, how stores travel between machines and how
        the committed CPU stores are kept). Returns the number of score rows added."""
        if not Path(other).is_file():
            raise StoreError(f"no score store at {other} to merge")
        if Path(other).suffix == ".gz":
            import gzip
            import shutil
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                plain = Path(tmp) / Path(other).stem
                try:
                    with gzip.open(other, "rb") as src, open(plain, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                except (OSError, EOFError) as err:  # not gzip, or cut short in transfer
                    raise StoreError(f"cannot unpack {other} to merge it: {err}") from err
                return self.merge(plain)
        # an ordinary connection: a read-only one cannot see rows that are still in the source's -wal file
        src = sqlite3.connect(str(other), timeout=60.0)
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

        where: list[str] = []
        args: list[Any] = []
        for col, val in (("space", space), ("dataset", dataset), ("batch_size", batch_size), ("split", split)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        for col, given in (("indicator", indicators), ("seed", seeds)):
            if given is not None:
                values = [given] if isinstance(given, (str, int)) else list(given)
                where.append(f"{col} IN ({','.join('?' * len(values))})")
                args.extend(values)
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


def _explain(err: BaseException) -> str:
    text = str(err)
    if "not a database" in text or "malformed" in text:
        return f"{text} (the file is damaged or is not a zeroscore store)"
    if "readonly" in text or "unable to open" in text or isinstance(err, PermissionError):
        return f"{text} (check that the file and its folder are writable)"
    return text


def _check_columns(conn: sqlite3.Connection, path: Path) -> None:
    have = {row[1] for row in conn.execute("PRAGMA table_info(scores)")}
    missing = [c for c in SCORE_COLUMNS if c not in have]
    if missing:
        raise StoreError(f"{path} has a `scores` table without the columns {missing}: it is not a zeroscore store")


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
        raise StoreError(f"no score store at {path}; `zeroscore run ... --store {path}` writes one")
    with open_store(path) as st:
        return st.scores(space=space, dataset=dataset, indicators=indicators, seeds=seeds, batch_size=batch_size,
                         split=split, archs=archs)


def load_runs(path: str | os.PathLike):
    """The run metadata stored at ``path`` as a DataFrame."""
    with open_store(path) as st:
        return st.runs()
