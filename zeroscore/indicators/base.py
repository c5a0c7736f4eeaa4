"""Indicator base class and the registry.

An indicator is a small class: metadata as class attributes (``name``, ``higher_is_better``, ``needs``,
``paper``, ``cost``, ``network``), hyper-parameters as constructor arguments stored verbatim (scikit-learn style),
and one method, :meth:`Indicator.compute`, that reads what it needs from a :class:`zeroscore.probe.Probe` through
the shared passes of :mod:`zeroscore.passes`, computed once per (model, batch). :func:`register` checks the
metadata against the vocabularies below.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from typing import Any, ClassVar

from zeroscore.errors import InvalidParameterError, UnknownIndicatorError

#: What an indicator may need from the caller or the model.
KNOWN_NEEDS = {
    "data": "real inputs (its value depends on the batch's values, not only its shape)",
    "labels": "targets (integer class labels)",
    "gradients": "a backward pass through the model",
    "relu": "ReLU activations (modules or functional calls) in the forward pass",
    "float_inputs": "float inputs: it differentiates with respect to the inputs or feeds synthetic (Gaussian, "
                    "all-ones, interpolated) inputs of their shape, so token-id models cannot be scored",
}

#: Relative cost classes, cheapest first.
COSTS = {
    "none": "no forward pass (parameter shapes/values only)",
    "forward": "forward pass(es), no backward",
    "backward": "forward + backward (a few at most)",
    "jvp": "Jacobian-vector products (several forward/backward-like passes)",
    "per-sample": "per-sample gradients or Jacobians (cost grows with the batch)",
}

#: Networks an indicator can be computed on for an architecture of a space.
NETWORKS = ("full", "thin")

_REGISTRY: dict[str, type[Indicator]] = {}


class Indicator:
    """Base class of every training-free indicator.

    Subclasses set the class attributes and implement :meth:`compute`. Constructor arguments are the
    hyper-parameters, with the reference paper's defaults; the constructor only stores them.
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    #: what the indicator needs with its default parameters (keys of :data:`KNOWN_NEEDS`); see :meth:`requires`
    needs: ClassVar[frozenset[str]] = frozenset({"data"})
    paper: ClassVar[str] = ""
    #: cost class (a key of :data:`COSTS`)
    cost: ClassVar[str] = "forward"
    #: the network it is computed on for an architecture of a space: ``"full"``, or ``"thin"`` for TE-NAS's
    #: one-channel network (``Space.build_thin``) where the space has one
    network: ClassVar[str] = "full"
    #: the smallest batch it is defined on (statistics, kernels and correlations over the batch need 2 samples;
    #: indicators reading one sample or none say 1)
    min_batch: ClassVar[int] = 2

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, as stored."""
        sig = inspect.signature(type(self).__init__)
        skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        return {p: getattr(self, p) for p in sig.parameters if p != "self" and sig.parameters[p].kind not in skip}

    def requires(self) -> frozenset[str]:
        """What this instance needs (default: the class's ``needs``); override when parameters change it."""
        return frozenset(self.needs)

    def for_thin_network(self) -> Indicator:
        """The instance computed on a thin network (override to set the thin protocol's parameters)."""
        return self

    def compute(self, probe) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def register(cls: type[Indicator]) -> type[Indicator]:
    """Class decorator that adds an indicator to the registry under ``cls.name`` (metadata checked)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no `name`")
    unknown = set(cls.needs) - set(KNOWN_NEEDS)
    if unknown:
        raise ValueError(f"{cls.__name__}.needs has unknown entries {sorted(unknown)}; known: {sorted(KNOWN_NEEDS)}")
    if cls.cost not in COSTS:
        raise ValueError(f"{cls.__name__}.cost is {cls.cost!r}; known: {', '.join(COSTS)}")
    if cls.network not in NETWORKS:
        raise ValueError(f"{cls.__name__}.network is {cls.network!r}; known: {', '.join(NETWORKS)}")
    if not isinstance(cls.min_batch, int) or cls.min_batch < 1:
        raise ValueError(f"{cls.__name__}.min_batch must be a positive int")
    if not isinstance(cls.higher_is_better, bool):
        raise ValueError(f"{cls.__name__}.higher_is_better must be a bool")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"indicator name {cls.name!r} registered twice "
                         f"({_REGISTRY[cls.name].__name__}, {cls.__name__})")
    _REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove ``name`` from the registry (for tests and notebooks that register throw-away indicators)."""
    _REGISTRY.pop(name, None)


def _ensure_loaded() -> None:
    # Importing the package registers every indicator module in it.
    import zeroscore.indicators  # noqa: F401


def list_indicators(pattern: str = "*") -> list[str]:
    """Registered indicator names matching a shell-style ``pattern`` (e.g. ``"ntk*"``), sorted."""
    _ensure_loaded()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def indicator_class(name: str) -> type[Indicator]:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=5, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownIndicatorError(
            f"unknown indicator {name!r}{hint} (`zeroscore list` shows all {len(_REGISTRY)})"
        ) from None


def get_indicator(name: str, **params: Any) -> Indicator:
    """An instance of the indicator ``name`` with the given hyper-parameters (paper defaults otherwise)."""
    cls = indicator_class(name)
    try:
        return cls(**params)
    except TypeError as err:
        allowed = [p for p in inspect.signature(cls).parameters]
        raise InvalidParameterError(f"indicator {name!r}: {err}; its parameters are {allowed}") from None
