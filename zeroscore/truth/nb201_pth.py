"""Read NAS-Bench-201's official ``NAS-Bench-201-v1_1-096897.pth`` with the ``nas_201_api`` package, into the
columns of the NB201 compact table.

The package is an optional dependency (``pip install 'zeroscore[official]'``), imported only when the file is read.
The ``.pth`` is a pickle that is loaded with full unpickling: read only a file from a source you trust.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from zeroscore.errors import DataNotFoundError, MissingExtraError

from .columns import COLUMNS, NATS_TEST, NB201_METRICS
from .compact import finish
from .files import HOW


def _open_nas201(path: str):
    """Create the ``nas_201_api`` API object (separate so tests can substitute a fake one).

    The .pth is a pickled dict; torch>=2.6 defaults ``torch.load`` to ``weights_only=True``, which refuses it, so the
    package's own ``torch.load`` call is allowed full unpickling for this trusted official file.
    """
    try:
        from nas_201_api import NASBench201API
    except ImportError as err:
        raise MissingExtraError("reading NAS-Bench-201-v1_1-096897.pth needs the `nas_201_api` package "
                                "(PyPI: nas-bench-201): pip install 'zeroscore[official]'") from err

    old = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        return NASBench201API(path, verbose=False)
    finally:
        if old is None:
            os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = old


def from_nas201_pth(path, indices=None) -> pd.DataFrame:
    """NB201 table from ``NAS-Bench-201-v1_1-096897.pth`` via ``nas_201_api`` (needs ~8 GB RAM, minutes).

    For each index: ``query_meta_info_by_index(i, hp="200").get_metrics(dataset, split)["accuracy"]`` (mean over
    seeds) for the columns listed in :mod:`zeroscore.truth.columns` and ``get_compute_costs("cifar10")["params"]``
    for ``params_mb``. The ``nats_*`` columns are NaN (they come from the NATS file). This is how the shipped
    table's non-``nats_`` columns were produced (see tables/ATTRIBUTION.md). Not exercised on the real file offline:
    the column mapping is tested with a fake API.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"NAS-Bench-201 file: expected {path} but it does not exist. {HOW['nb201']}")
    api = _open_nas201(str(path))
    if indices is None:
        indices = range(len(api))
    rows = []
    for i in indices:
        i = int(i)
        meta = api.query_meta_info_by_index(i, hp="200")
        row = {"index": i, "arch_str": api.meta_archs[i]}
        for col, (ds, split) in NB201_METRICS.items():
            row[col] = meta.get_metrics(ds, split, is_random=False)["accuracy"]
        for col in NATS_TEST:
            row[col] = np.nan
        row["params_mb"] = float(meta.get_compute_costs("cifar10")["params"])
        rows.append(row)
    cols = [c for c, *_ in COLUMNS["nb201"]]
    return finish(pd.DataFrame(rows, columns=cols), "nb201", f"pth:{path}")
