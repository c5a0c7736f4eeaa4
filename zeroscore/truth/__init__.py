"""Benchmark ground truth (trained accuracies) as one pandas table per search space.

``load(space)`` returns a DataFrame indexed by the canonical architecture key (index name ``arch``):

* ``nb201`` (alias ``nats_tss``, ``nas-bench-201``, ...): the NAS-Bench-201 cell string, e.g.
  ``|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|``;
* ``nats_sss``: the channel string ``a:b:c:d:e``;
* ``nb101``: :func:`~zeroscore.truth.compact.nb101_key` of the cell: the canonical pruned spec of
  ``zeroscore.spaces.get("nb101")``.

``darts`` has no benchmark table (:class:`~zeroscore.errors.NoGroundTruthError`). ``describe(space)`` documents every
column (dataset, split, epochs; see :mod:`zeroscore.truth.columns`), ``default_target(space, dataset)`` names the
column papers rank against, ``df.attrs["source"]`` says which file a table came from (``"<source>:<path>"``).

Where a table comes from (``source="auto"``), first found wins:

1. the data location: the explicit ``root`` argument, else ``$ZEROSCORE_DATA``, else ``~/.cache/zeroscore``
   (:func:`zeroscore.settings.data_root`). In it, first a compact table (``"compact"``; gzip'd CSV, layout of the
   project's shared data folder or the file names directly in the root; ``COMPACT_FILES``)::

       nasbench201/nb201_tss_accuracies.csv.gz      all 15,625 NB201 cells
       natsbench_sss/nats_sss_accuracies.csv.gz     all 32,768 SSS channel configs
       nasbench101/nb101_accuracies.csv.gz          full NB101 table written by `export` from the .tfrecord
       nasbench101/naslib_nb101_zc_sample.csv.gz    500-cell NASLib sample (used when the full one is absent)

2. then the official files there (at ``root/<name>``, ``root/<sub folder>/<name>``, or ``root`` itself being the
   official folder or file): ``"nats"``, the NATS-Bench folders ``NATS-tss-v1_0-3ffb9-simple`` /
   ``NATS-sss-v1_0-50262-simple`` (:func:`from_nats_bench`); ``"pth"``, NAS-Bench-201's
   ``NAS-Bench-201-v1_1-096897.pth`` (:func:`from_nas201_pth`); ``"tfrecord"``, NAS-Bench-101's
   ``nasbench_only108.tfrecord`` read without TensorFlow (:func:`from_nb101_tfrecord`). Reading them takes minutes;
   ``export()`` (CLI ``zeroscore data export --from OFFICIAL --to DIR``) converts them once into compact tables.
   The NATS / .pth readers need ``pip install 'zeroscore[official]'``;
3. ``"shipped"``: the tables that ship with the package in ``zeroscore/truth/tables/`` (NB201 and NATS-SSS
   complete, NB101 the 500-cell NASLib sample; provenance and licenses in ``tables/ATTRIBUTION.md``). So a fresh
   install with an empty data location has all three tables. They are byte-identical rebuilds of the project's
   shared compact tables (``export``), so a table from there and the shipped one are equal.

``source="local"`` is 1-2 only (no shipped fallback); a single name restricts to that source.
``check_data()`` lists what the data location holds and where to get what is missing.

Security: the data location is trusted input. The official NATS-Bench / NAS-Bench-201 files are pickles (the
``.pth`` is loaded with full unpickling), and unpickling can run code: only read files from a source you trust.
Compact tables and the tfrecord are parsed as data.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from zeroscore.errors import DataNotFoundError, UsageError
from zeroscore.settings import data_root, where_hint

from . import compact
from .check import check_data
from .columns import benchmark_space, default_target, describe
from .export_tables import export
from .files import (
    COMPACT_FILES,
    HOW,
    OFFICIAL_KINDS,
    SHIPPED_DIR,
    SHIPPED_FILES,
    compact_candidates,
    official_candidates,
    shipped_path,
)
from .nats_folder import from_nats_bench
from .nb101_tfrecord import from_nb101_tfrecord
from .nb201_pth import from_nas201_pth

__all__ = [
    "load",
    "describe",
    "default_target",
    "check_data",
    "from_nats_bench",
    "from_nas201_pth",
    "from_nb101_tfrecord",
    "export",
    "COMPACT_FILES",
    "SHIPPED_DIR",
    "SHIPPED_FILES",
    "lookup_accuracy",
]


@functools.lru_cache(maxsize=4)
def _read_official(path: str, mtime_ns: int, space: str, kind: str) -> pd.DataFrame:
    if kind == "nats":
        return from_nats_bench(path, space)
    if kind == "pth":
        return from_nas201_pth(path)
    return from_nb101_tfrecord(path)


def _sources(space: str, source: str) -> list[str]:
    local = ["compact", *OFFICIAL_KINDS[space]]
    chosen = {"auto": local + ["shipped"], "local": local}.get(source)
    if chosen is not None:
        return chosen
    if source in local or source == "shipped":
        return [source]
    raise UsageError(f"source {source!r} not available for {space}; choose from "
                     f"{['auto', 'local', *local, 'shipped']}")


def _copy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.attrs = dict(df.attrs)
    return out


def load(space: str, root=None, source: str = "auto") -> pd.DataFrame:
    """Ground-truth table of ``space`` (``nb201``/``nats_tss``, ``nats_sss``, ``nb101`` or any alias of them).

    ``root``: the data location (default ``$ZEROSCORE_DATA``, else ``~/.cache/zeroscore``); it may also be an
    official folder or file itself. ``source``: ``"auto"`` (compact table, then official files, in the data
    location, then the shipped table; see the module docstring), ``"local"`` (the data location only), or one of
    ``"compact"``, ``"nats"``, ``"pth"``, ``"tfrecord"``, ``"shipped"``. Raises
    :class:`~zeroscore.errors.DataNotFoundError` listing every path looked at when nothing is found,
    :class:`~zeroscore.errors.DamagedFileError` naming a file that cannot be read,
    :class:`~zeroscore.errors.UnknownSpaceError` / :class:`~zeroscore.errors.NoGroundTruthError` for a space
    without a table. Results are cached in-process (keyed by file and modification time); a copy is returned.
    """
    space = benchmark_space(space)
    base = data_root(root)
    tried: list[Path] = []
    for src in _sources(space, source):
        if src == "shipped":
            candidates = [shipped_path(space)]
        elif src == "compact":
            candidates = compact_candidates(base, space)
        else:
            candidates = official_candidates(base, space, src)
        for path in candidates:
            if src in ("compact", "shipped") and path.is_file():
                return _copy(compact.read(path, space, kind=src))
            if src not in ("compact", "shipped") and path.exists():
                return _copy(_read_official(str(path), path.stat().st_mtime_ns, space, src))
        tried += candidates
    where = "does not exist" if not base.exists() else "exists but holds none of the expected files"
    listing = "\n  ".join(str(p) for p in tried)
    raise DataNotFoundError(f"{space} ground truth: data location {base} {where}. {HOW[space]} {where_hint()}\n"
                            f"Looked for:\n  {listing}")


def lookup_accuracy(space: str, arch, dataset: str, root=None) -> tuple[float | None, str | None, str | None]:
    """``(accuracy, column, note)`` of ``arch`` in ``space``'s table for a search on ``dataset``, or ``(None, column
    or None, reason)``; what a search reports after it returned (searches themselves never read it).
    ``imagenet16_standin`` is reported against ImageNet16-120 with a note that the search used stand-in data."""
    from zeroscore.errors import ZeroscoreError
    from zeroscore.names import benchmark_dataset

    try:
        target, standin = benchmark_dataset(dataset)
        column = default_target(space, target)
        table = load(space, root=root)
    except (ZeroscoreError, KeyError, ValueError) as err:
        return None, None, f"no ground truth: {str(err).splitlines()[0]}"
    note = ("searched on imagenet16_standin (CIFAR-100 images downsampled to 16x16, NOT ImageNet16-120); accuracy "
            "is ImageNet16-120's") if standin else None
    key = str(arch)
    if key not in table.index:
        return None, column, f"{key} not in the {space} table"
    return float(table.loc[key, column]), column, note
