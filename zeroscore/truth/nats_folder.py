"""Read the official NATS-Bench files (topology ``tss`` = NAS-Bench-201 cells, size ``sss``) with the ``nats_bench``
package, into the columns of the compact tables.

The package is an optional dependency (``pip install 'zeroscore[official]'``), imported only when a NATS file is
read. The files are pickles: read only files from a source you trust (see :mod:`zeroscore.settings`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from zeroscore.errors import DamagedFileError, DataNotFoundError, MissingExtraError, UsageError

from .columns import COLUMNS, NATS_TEST, NB201_METRICS, SSS_METRICS, SSS_PARAMS, benchmark_space
from .compact import finish
from .files import HOW, NATS_DIRS, nats_space_of


def _space(path: Path, space: str | None) -> str:
    if space is not None:
        space = benchmark_space(space)
        if space not in NATS_DIRS:
            raise UsageError(f"NATS-Bench holds the nb201 (tss) and nats_sss spaces, not {space}")
        return space
    found = nats_space_of(path)
    if found is None:
        raise UsageError(f"cannot tell whether {path} is the NATS topology (tss) or size (sss) space; pass space=")
    return found


def _official_folder(path: Path, space: str | None) -> Path:
    """``path`` itself, or the official folder inside it when ``path`` is its parent (chosen by ``space``, or the
    only one there)."""
    if not path.is_dir() or (path / "meta.pickle.pbz2").is_file():
        return path
    inside = {s: path / name for s, name in NATS_DIRS.items() if (path / name).is_dir()}
    if space is not None and benchmark_space(space) in inside:
        return inside[benchmark_space(space)]
    if len(inside) == 1:
        return next(iter(inside.values()))
    if inside:
        raise UsageError(f"{path} holds both NATS-Bench folders ({', '.join(p.name for p in inside.values())}); "
                         "pass space= or the folder itself")
    return path


def _create_api(path: Path, space: str, fast: bool):
    try:
        import nats_bench
    except ImportError as err:
        raise MissingExtraError("reading the official NATS-Bench files needs the `nats_bench` package: "
                                "pip install 'zeroscore[official]'") from err
    try:
        return nats_bench.create(str(path), "tss" if space == "nb201" else "sss", fast_mode=fast, verbose=False)
    except (AssertionError, OSError, EOFError, ValueError, KeyError) as err:  # how nats_bench reports a bad file
        raise DamagedFileError(f"{path}: the nats_bench package cannot read it as a NATS-Bench "
                               f"{'tss' if space == 'nb201' else 'sss'} file ({type(err).__name__}: {err}); "
                               f"download it again. {HOW[space]}") from err


def from_nats_bench(path, space: str | None = None, indices=None) -> pd.DataFrame:
    """Build the compact-table columns from an official NATS-Bench folder with the ``nats_bench`` API.

    ``path``: a ``NATS-tss-v1_0-3ffb9-simple`` / ``NATS-sss-v1_0-50262-simple`` folder (fast mode: one
    ``NNNNNN.pickle.pbz2`` per architecture), the folder holding it, or the single-file ``*.pickle.pbz2`` archive.
    ``space`` is taken from the name if not given. ``indices``: the architectures to read; default every
    architecture whose result file is present (all of them for a complete folder; a warning is issued when only
    some are).

    TSS (``hp="200"``): NB201-named columns from ``query_meta_info_by_index(i, "200").get_metrics(dataset, split)``
    (mean over seeds), ``nats_*`` from ``get_more_info(i, dataset, hp="200", is_random=False)["test-accuracy"]``,
    ``params_mb`` from ``get_cost_info(i, "cifar10", hp="200")["params"]``.
    SSS (``hp="90"``): ``get_more_info(i, dataset, hp="90", is_random=False)`` valid/test accuracy, params from
    ``get_cost_info`` (millions in the API) converted to counts.
    """
    path = Path(path)
    if not path.exists():
        which = benchmark_space(space) if space is not None else (nats_space_of(path) or "nb201")
        raise DataNotFoundError(f"NATS-Bench data: expected {path} but it does not exist. "
                                f"{HOW.get(which, HOW['nb201'])}")
    path = _official_folder(path, space)
    space = _space(path, space)
    fast = path.is_dir()
    api = _create_api(path, space, fast)
    if indices is None:
        if fast:
            indices = [i for i in range(len(api)) if (path / f"{i:06d}.pickle.pbz2").exists()]
            if len(indices) < len(api):
                warnings.warn(f"{path}: result files for only {len(indices)} of {len(api)} architectures",
                              stacklevel=1)
        else:
            indices = range(len(api))
    rows = []
    for i in indices:
        i = int(i)
        row = {"index": i, "arch_str": api.arch(i)}
        if space == "nb201":
            meta = api.query_meta_info_by_index(i, hp="200")
            for col, (ds, split) in NB201_METRICS.items():
                row[col] = meta.get_metrics(ds, split, is_random=False)["accuracy"]
            for col, ds in NATS_TEST.items():
                row[col] = api.get_more_info(i, ds, hp="200", is_random=False)["test-accuracy"]
            row["params_mb"] = float(api.get_cost_info(i, "cifar10", hp="200")["params"])
        else:
            for col, (ds, key) in SSS_METRICS.items():
                row[col] = api.get_more_info(i, ds, hp="90", is_random=False)[key]
            for col, ds in SSS_PARAMS.items():
                row[col] = int(round(float(api.get_cost_info(i, ds, hp="90")["params"]) * 1e6))
        rows.append(row)
        if fast and hasattr(api, "arch2infos_dict"):
            api.arch2infos_dict.pop(i, None)  # the API caches every record it loads; keep memory flat
    cols = [c for c, *_ in COLUMNS[space] if rows and c in rows[0]]
    return finish(pd.DataFrame(rows, columns=cols), space, f"nats:{path}")
