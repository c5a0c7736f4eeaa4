"""One alias table per kind of name (search spaces, datasets), so that every module resolves names the same way.

Names are compared after :func:`normalize` (case, surrounding blanks, ``-`` vs ``_`` and spaces do not matter), so
``"NAS-Bench-201"``, ``"nas_bench_201"`` and ``"nb201"`` are one space and ``"CIFAR-10"`` is ``"cifar10"``.
"""

from __future__ import annotations

import difflib

from zeroscore.errors import UnknownDatasetError, UnknownSpaceError

__all__ = ["normalize", "space_name", "dataset_name", "benchmark_dataset", "add_space_alias", "SPACE_ALIASES",
           "DATASET_ALIASES", "BENCHMARK_SPACES"]


def normalize(name: object) -> str:
    """Lower case, no surrounding blanks, ``-`` and blanks as ``_``."""
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


#: normalised alias -> registered space name
SPACE_ALIASES: dict[str, str] = {
    "nb201": "nb201", "nats_tss": "nb201", "tss": "nb201", "nasbench201": "nb201", "nas_bench_201": "nb201",
    "natsbench_tss": "nb201",
    "nats_sss": "nats_sss", "sss": "nats_sss", "natsbench_sss": "nats_sss", "nats_bench_sss": "nats_sss",
    "nb101": "nb101", "nasbench101": "nb101", "nas_bench_101": "nb101",
    "darts": "darts", "darts_cnn": "darts",
}

#: the spaces that have a benchmark table of trained accuracies
BENCHMARK_SPACES = ("nb201", "nats_sss", "nb101")

#: normalised alias -> dataset name as :mod:`zeroscore.data` knows it
DATASET_ALIASES: dict[str, str] = {
    "cifar10": "cifar10", "cifar_10": "cifar10",
    "cifar100": "cifar100", "cifar_100": "cifar100",
    "imagenet16": "imagenet16", "imagenet16_1000": "imagenet16",
    "imagenet16_120": "imagenet16-120",
    "imagenet16_standin": "imagenet16_standin", "imagenet16_120_standin": "imagenet16_standin",
    "gaussian": "gaussian", "gauss": "gaussian", "normal": "gaussian",
}

#: dataset -> the benchmark dataset whose accuracies a search or a correlation on it is compared with
_BENCHMARK_DATASET = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet16",
                      "imagenet16-120": "imagenet16", "imagenet16_standin": "imagenet16"}
#: names of benchmark datasets that are not loadable datasets (NB201's 25k-image CIFAR-10 training split)
_BENCHMARK_ONLY = {"cifar10_valid": "cifar10-valid", "cifar10valid": "cifar10-valid", "imagenet": "imagenet16"}


def _unknown(kind: str, name: object, known: list[str], hint: str) -> str:
    close = difflib.get_close_matches(normalize(name), known, n=3, cutoff=0.5)
    guess = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown {kind} {name!r}{guess} (known: {', '.join(sorted(set(known)))}; {hint})"


def space_name(name: object) -> str:
    """The registered name of a space or one of its aliases; :class:`UnknownSpaceError` otherwise."""
    if not isinstance(name, str):
        raise UnknownSpaceError(f"a space name must be a string, got {name!r}")
    key = normalize(name)
    if key not in SPACE_ALIASES:
        raise UnknownSpaceError(_unknown("space", name, sorted(set(SPACE_ALIASES.values())),
                                         "`zeroscore list --spaces` lists them"))
    return SPACE_ALIASES[key]


def add_space_alias(alias: str, name: str) -> None:
    """Register ``alias`` for the space ``name`` (used by :func:`zeroscore.spaces.register`)."""
    SPACE_ALIASES[normalize(alias)] = normalize(name)


def dataset_name(name: object) -> str:
    """The :mod:`zeroscore.data` name of a dataset or alias; :class:`UnknownDatasetError` otherwise."""
    key = normalize(name)
    if key not in DATASET_ALIASES:
        raise UnknownDatasetError(_unknown("dataset", name, sorted(set(DATASET_ALIASES.values())),
                                           "`zeroscore list --datasets` lists them"))
    return DATASET_ALIASES[key]


def benchmark_dataset(name: object) -> tuple[str, bool]:
    """``(benchmark dataset, is_standin)``: the dataset whose benchmark accuracies scores on ``name`` are compared
    with (``cifar10``, ``cifar10-valid``, ``cifar100`` or ``imagenet16``), and whether ``name`` only stands in for
    it (``imagenet16_standin`` -> ``("imagenet16", True)``). :class:`UnknownDatasetError` for ``gaussian`` and
    unknown names."""
    key = normalize(name)
    if key in _BENCHMARK_ONLY:
        return _BENCHMARK_ONLY[key], False
    data = dataset_name(name)
    if data not in _BENCHMARK_DATASET:
        raise UnknownDatasetError(f"dataset {name!r} is not a benchmark dataset: there are no accuracies for it "
                                  "(use cifar10, cifar100 or imagenet16 / imagenet16_standin)")
    return _BENCHMARK_DATASET[data], data == "imagenet16_standin"
