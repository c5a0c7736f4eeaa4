"""Where zeroscore looks for benchmark tables and image data.

The data location is a setting, resolved in this order:

1. an explicit ``root`` argument passed to a loader;
2. the ``ZEROSCORE_DATA`` environment variable;
3. a per-user cache directory (``$XDG_CACHE_HOME/zeroscore`` or ``~/.cache/zeroscore``).

The expected layout is the one of the project's shared data folder::

    nasbench201/nb201_tss_accuracies.csv.gz
    natsbench_sss/nats_sss_accuracies.csv.gz
    nasbench101/naslib_nb101_zc_sample.csv.gz
    cifar10_sample/cifar-10-batches-py/...   (or cifar-10-batches-py/ directly)
    cifar100_sample/cifar-100-python/...     (or cifar-100-python/ directly)
    zc_proxies_reference/*.csv.gz
"""

from __future__ import annotations

import os
from pathlib import Path

from zeroscore.errors import DataNotFoundError

ENV_VAR = "ZEROSCORE_DATA"


def default_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "zeroscore"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data location (argument > ``$ZEROSCORE_DATA`` > user cache)."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return default_root()


def require(path: Path, what: str, how: str) -> Path:
    """Return ``path`` if it exists, else raise :class:`DataNotFoundError` with a useful message."""
    if not path.exists():
        raise DataNotFoundError(
            f"{what}: expected {path} but it does not exist. {how} "
            f"(data location: argument `root`, env var {ENV_VAR}, default {default_root()})"
        )
    return path


def require_any(candidates, what: str, how: str) -> Path:
    """Return the first existing path of ``candidates``, else raise :class:`DataNotFoundError` listing them all.

    Loaders accept several layouts (e.g. ``root/cifar10_sample/cifar-10-batches-py`` or
    ``root/cifar-10-batches-py``); when none matches, the user needs to see every place that was tried.
    """
    candidates = [Path(c) for c in candidates]
    for c in candidates:
        if c.exists():
            return c
    tried = "\n  ".join(str(c) for c in candidates)
    raise DataNotFoundError(
        f"{what}: none of these exist:\n  {tried}\n{how} "
        f"(data location: argument `root`, env var {ENV_VAR}, default {default_root()})"
    )
