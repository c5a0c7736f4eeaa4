"""Where zeroscore looks for benchmark files and image data (the "data location").

The data location is a setting, resolved in this order:

1. an explicit ``root`` argument passed to a loader (``--data`` on the command line);
2. the ``ZEROSCORE_DATA`` environment variable;
3. a per-user cache directory (``$XDG_CACHE_HOME/zeroscore`` or ``~/.cache/zeroscore``).

zeroscore never downloads anything. The benchmark accuracy tables ship with the package (see
:mod:`zeroscore.truth`), so an empty data location is fine for them; everything else is read from the data location
when a user has put it there. ``zeroscore data check`` (:func:`zeroscore.truth.check_data`) lists what the location
holds and where to get what is missing. The layout is the one of the project's shared data folder::

    nasbench201/nb201_tss_accuracies.csv.gz      (overrides the shipped table)
    natsbench_sss/nats_sss_accuracies.csv.gz     (overrides the shipped table)
    nasbench101/nb101_accuracies.csv.gz          (full NB101 table, written by `zeroscore data export`)
    cifar10_sample/cifar-10-batches-py/...       (or cifar-10-batches-py/ directly)
    cifar100_sample/cifar-100-python/...         (or cifar-100-python/ directly)
    ImageNet16/...                               (downsampled ImageNet pickles)
    NATS-tss-v1_0-3ffb9-simple/, NATS-sss-v1_0-50262-simple/, NAS-Bench-201-v1_1-096897.pth,
    nasbench_only108.tfrecord                    (official benchmark files, directly or in the folders above)
    nas_splits/, zc_proxies_reference/

Security: the data location is trusted input. CIFAR / ImageNet16 batch files, NATS-Bench archives and the
NAS-Bench-201 ``.pth`` are Python pickles, and loading a pickle can run arbitrary code: point the data location
only at files from a source you trust.
"""

from __future__ import annotations

import os
from pathlib import Path

from zeroscore.errors import DataNotFoundError, UsageError

__all__ = ["ENV_VAR", "default_root", "data_root", "resolve_root", "where_hint", "DataNotFoundError"]

ENV_VAR = "ZEROSCORE_DATA"

#: how the data location was chosen, as :func:`resolve_root` reports it
HOW_ARGUMENT, HOW_ENV, HOW_DEFAULT = "argument", f"${ENV_VAR}", "default cache"

_CHECK_HINT = "`zeroscore data check` lists what the data location holds and where to get the rest"


def default_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "zeroscore"


def resolve_root(root: str | os.PathLike | None = None) -> tuple[Path, str]:
    """``(data location, how it was set)``; how is ``"argument"``, ``"$ZEROSCORE_DATA"`` or ``"default cache"``."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            # load_batch("cifar10", 64) passes 64 as the root: name the slip rather than failing inside pathlib
            hint = " (a number here is usually a batch size passed by position: pass batch_size=... by name)" \
                if isinstance(root, (int, float)) and not isinstance(root, bool) else ""
            raise UsageError(f"the data location must be a path (str or os.PathLike), got "
                             f"{type(root).__name__} {root!r}{hint}")
        return Path(root).expanduser(), HOW_ARGUMENT
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser(), HOW_ENV
    return default_root(), HOW_DEFAULT


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data location (argument > ``$ZEROSCORE_DATA`` > user cache)."""
    return resolve_root(root)[0]


def where_hint() -> str:
    """The closing sentence of every missing-data message: how the data location is set and how to inspect it."""
    return f"({_CHECK_HINT}; data location: argument `root` / `--data`, env var {ENV_VAR}, default {default_root()})"
