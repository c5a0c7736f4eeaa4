"""Write compact tables: from official benchmark files (minutes), or from compact tables already in a data folder
(checked, then written with identical bytes on every rebuild; this is how the tables shipped in ``tables/`` are
built)."""

from __future__ import annotations

import re
from pathlib import Path

from zeroscore.errors import DataNotFoundError, OutputExistsError, UsageError
from zeroscore.names import BENCHMARK_SPACES

from . import compact
from .columns import benchmark_space
from .files import COMPACT_FILES, NB101_TFRECORD, NB201_PTH, compact_candidates, nats_space_of
from .nats_folder import from_nats_bench
from .nb101_tfrecord import from_nb101_tfrecord
from .nb201_pth import from_nas201_pth

_NATS_NAME = re.compile(r"NATS-(tss|sss)", re.IGNORECASE)


def _official_kind(path: Path) -> str | None:
    """``nats``, ``pth``, ``tfrecord`` for an official file or folder, None for anything else."""
    name = path.name
    if path.is_dir() and ((path / "meta.pickle.pbz2").is_file() or _NATS_NAME.match(name)):
        return "nats"
    if path.is_file() and name.endswith(".pickle.pbz2") and _NATS_NAME.match(name):
        return "nats"
    if path.is_file() and name.endswith(".pth"):
        return "pth"
    if path.is_file() and ".tfrecord" in name:
        return "tfrecord"
    return None


def _space_of_table(path: Path, space: str | None) -> str:
    if space is not None:
        return space
    for name_space, (_, names) in COMPACT_FILES.items():
        if path.name in names:
            return name_space
    raise UsageError(f"{path}: cannot tell which space this table is for from its name "
                     f"(known: {', '.join(n for _, ns in COMPACT_FILES.values() for n in ns)}); pass space=")


def _tables_in(folder: Path, spaces) -> list[tuple[str, Path, str]]:
    """``(space, source file, output name)`` for every compact table in a data folder."""
    found = []
    for space in spaces:
        for name in COMPACT_FILES[space][1]:
            path = next((p for p in (folder / COMPACT_FILES[space][0] / name, folder / name) if p.is_file()), None)
            if path is not None:
                found.append((space, path, name))
    return found


def _target(to_dir: Path, space: str, name: str) -> Path:
    return to_dir / COMPACT_FILES[space][0] / name


def _refuse_existing(out: Path) -> None:
    raise OutputExistsError(f"{out} exists; pass overwrite=True (CLI: --overwrite) to replace it")


def _export_compact(tables, to_dir: Path, overwrite: bool) -> list[Path]:
    """Check every table (as ``load`` reads it), then write them all, or none when one is refused."""
    planned = []
    for space, path, name in tables:
        compact.read(path, space)  # checked as load reads it, keys included (NB101: every spec decodes and prunes)
        text = compact.read_gzip(path)  # the CSV text itself, so no value is re-formatted
        out = _target(to_dir, space, name)
        # same table text = a no-op rebuild (compared decompressed: another zlib may pack the same text differently)
        same = out.exists() and compact.read_gzip(out) == text
        if out.exists() and not overwrite and not same:
            _refuse_existing(out)
        planned.append((out, text, same))
    for out, text, same in planned:
        if not same:
            compact.write(out, compact.gzip_bytes(text))
    return [out for out, *_ in planned]


def export(from_path, to_dir, space: str | None = None, overwrite: bool = False) -> list[Path]:
    """Write compact gzip'd CSV tables into ``to_dir``; return their paths.

    ``from_path`` is one of:

    * an official file or folder (a NATS-Bench ``NATS-tss-v1_0-3ffb9-simple`` / ``NATS-sss-v1_0-50262-simple``
      folder, ``NAS-Bench-201-v1_1-096897.pth``, ``nasbench_only108.tfrecord``): converted (minutes) into
      ``nasbench201/nb201_tss_accuracies.csv.gz``, ``natsbench_sss/nats_sss_accuracies.csv.gz`` or
      ``nasbench101/nb101_accuracies.csv.gz``;
    * a data folder holding compact tables (``<sub folder>/<name>`` or ``<name>``, see ``COMPACT_FILES``), or one
      compact ``.csv.gz``: each table is checked (a CSV with the required columns, complete, at most the benchmark's
      number of rows, no repeated architecture) and re-written under the same sub folder and name.
      ``zeroscore data export --from /path/to/shared/data --to zeroscore/truth/tables`` rebuilds the shipped tables.

    ``space`` restricts a data folder to one space (and names the space of a table file with another name).
    Output is gzip with a fixed header (no time stamp, no file name), so a rebuild from the same input gives
    identical bytes. An existing table is replaced only with ``overwrite``, except that re-exporting compact
    tables onto identical files is allowed (nothing changes). Output layout = a data location: ``load(space,
    root=to_dir)`` reads it back.
    """
    from_path, to_dir = Path(from_path), Path(to_dir)
    space = benchmark_space(space) if space is not None else None
    if not from_path.exists():
        raise DataNotFoundError(f"export: {from_path} does not exist; give an official benchmark file or folder "
                                f"(NATS-Bench folder, {NB201_PTH}, {NB101_TFRECORD}) or a data folder holding "
                                "compact tables (`zeroscore data check --data FOLDER` shows what it holds)")
    kind = _official_kind(from_path)
    if kind is None and from_path.is_file():
        if not from_path.name.endswith(".csv.gz"):
            raise UsageError(f"{from_path}: not a recognised benchmark file (expected a NATS-tss/sss folder, "
                             f"{NB201_PTH}, {NB101_TFRECORD}, a compact .csv.gz or a data folder)")
        table_space = _space_of_table(from_path, space)
        names = COMPACT_FILES[table_space][1]
        name = from_path.name if from_path.name in names else names[0]
        return _export_compact([(table_space, from_path, name)], to_dir, overwrite)
    if kind is None:
        tables = _tables_in(from_path, [space] if space else BENCHMARK_SPACES)
        if not tables:
            looked = [p for s in ([space] if space else BENCHMARK_SPACES) for p in compact_candidates(from_path, s)]
            listing = "\n  ".join(str(p) for p in looked)
            raise DataNotFoundError(f"export: {from_path} is neither an official benchmark folder (NATS-Bench "
                                    "tss/sss) nor a data folder holding compact tables (`zeroscore data check "
                                    f"--data {from_path}` shows what it holds); looked for:\n  {listing}")
        return _export_compact(tables, to_dir, overwrite)
    return [_export_official(from_path, kind, to_dir, space, overwrite)]


def _export_official(from_path: Path, kind: str, to_dir: Path, space: str | None, overwrite: bool) -> Path:
    if kind == "nats":
        space = space or nats_space_of(from_path)
        if space is None:
            raise UsageError(f"cannot tell whether {from_path} is the NATS topology (tss) or size (sss) space; "
                             "pass space=")
    else:
        space = "nb201" if kind == "pth" else "nb101"
    out = _target(to_dir, space, COMPACT_FILES[space][1][0])
    if out.exists() and not overwrite:  # checked first: reading the official files takes minutes
        _refuse_existing(out)
    if kind == "nats":
        df = from_nats_bench(from_path, space)
    elif kind == "pth":
        df = from_nas201_pth(from_path)
    else:
        df = from_nb101_tfrecord(from_path)
    compact.write(out, compact.gzip_bytes(df.to_csv(index=False, lineterminator="\n").encode("utf-8")))
    return out
