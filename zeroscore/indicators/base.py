"""Indicator base class and the registry.

An indicator is a small class: metadata as class attributes (``name``, ``higher_is_better``, ``needs``,
``paper``, ``cost``), hyper-parameters as constructor arguments stored verbatim (scikit-learn style), and one
method, :meth:`Indicator.compute`, that reads what it needs from a :class:`zeroscore.probe.Probe`. The probe
computes shared forward/backward passes once per (model, batch), so indicators that need the same pass share it.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from typing import Any, ClassVar

from zeroscore.errors import IndicatorNotApplicable, MissingInputError, UnknownIndicatorError  # noqa: F401

#: What an indicator may need from the caller or the model.
#: ``data``: real inputs (not only shapes); ``labels``: targets; ``gradients``: a backward pass through the model;
#: ``relu``: ReLU activations (module or functional) in the forward pass.
KNOWN_NEEDS = frozenset({"data", "labels", "gradients", "relu"})

_REGISTRY: dict[str, type["Indicator"]] = {}


class Indicator:
    """Base class of every training-free indicator.

    Subclasses set the class attributes and implement :meth:`compute`. Constructor arguments are the
    hyper-parameters, with the reference paper's defaults; the constructor only stores them.
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    needs: ClassVar[frozenset[str]] = frozenset({"data"})
    paper: ClassVar[str] = ""
    #: rough cost class, for documentation: "none", "forward", "backward", "per-sample", "jvp"
    cost: ClassVar[str] = "forward"

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, as stored."""
        sig = inspect.signature(type(self).__init__)
        return {
            p: getattr(self, p)
            for p in sig.parameters
            if p != "self" and sig.parameters[p].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        }

    def compute(self, probe) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @property
    def direction(self) -> str:
        return "higher" if self.higher_is_better else "lower"


def register(cls: type[Indicator]) -> type[Indicator]:
    """Class decorator that adds an indicator to the registry under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no `name`")
    unknown = set(cls.needs) - KNOWN_NEEDS
    if unknown:
        raise ValueError(f"{cls.__name__}.needs has unknown entries {sorted(unknown)}; known: {sorted(KNOWN_NEEDS)}")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"indicator name {cls.name!r} registered twice ({_REGISTRY[cls.name].__name__}, {cls.__name__})")
    _REGISTRY[cls.name] = cls
    return cls


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
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=5, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownIndicatorError(
            f"unknown indicator {name!r}{hint} (zeroscore.list_indicators() lists all {len(_REGISTRY)})"
        ) from None


def get_indicator(name: str, **params: Any) -> Indicator:
    """An instance of the indicator ``name`` with the given hyper-parameters (paper defaults otherwise)."""
    cls = indicator_class(name)
    try:
        return cls(**params)
    except TypeError as err:
        raise TypeError(f"indicator {name!r}: {err}; its parameters are {list(inspect.signature(cls).parameters)}") from None
