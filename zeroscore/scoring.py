"""``zeroscore.score``: all requested indicators of one model on one batch, through one shared probe."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from zeroscore.indicators.base import (
    Indicator,
    MissingInputError,
    get_indicator,
    list_indicators,
)
from zeroscore.probe import Probe, derived_seed


@dataclass
class ScoreResult(Mapping):
    """Indicator name -> value (float; NaN where the indicator failed), plus timings and errors."""

    values: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def to_frame(self):
        """One row per indicator: value, seconds, error."""
        import pandas as pd

        return pd.DataFrame(
            {
                "indicator": list(self.values),
                "value": [self.values[n] for n in self.values],
                "seconds": [self.seconds.get(n, math.nan) for n in self.values],
                "error": [self.errors.get(n) for n in self.values],
            }
        ).set_index("indicator")

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:.6g}" for k, v in self.values.items())
        return f"ScoreResult({body}{'; errors: ' + ', '.join(self.errors) if self.errors else ''})"


IndicatorSpec = str | Indicator | Iterable[str | Indicator] | Mapping[str, Mapping[str, Any]]


def resolve_indicators(indicators: IndicatorSpec = "all") -> list[Indicator]:
    """Turn ``"all"``, a wildcard pattern, a name list, instances or ``{name: params}`` into instances.

    Unknown names raise :class:`~zeroscore.indicators.base.UnknownIndicatorError` before anything runs.
    """
    if isinstance(indicators, Indicator):
        return [indicators]
    if isinstance(indicators, str):
        if indicators == "all":
            return [get_indicator(n) for n in list_indicators()]
        if any(ch in indicators for ch in "*?["):
            names = list_indicators(indicators)
            if not names:
                raise ValueError(f"no indicator matches {indicators!r}; known: {', '.join(list_indicators())}")
            return [get_indicator(n) for n in names]
        return [get_indicator(n) for n in indicators.split(",")] if "," in indicators else [get_indicator(indicators)]
    if isinstance(indicators, Mapping):
        return [get_indicator(n, **dict(p or {})) for n, p in indicators.items()]
    out: list[Indicator] = []
    for item in indicators:
        out.extend(resolve_indicators(item))
    names = [i.name for i in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"indicator(s) requested twice: {sorted(dupes)}")
    return out


def check_needs(indicator: Indicator, targets: torch.Tensor | None) -> str | None:
    """Why ``indicator`` cannot run with what the caller gave, or None."""
    if "labels" in indicator.needs and targets is None:
        return f"indicator {indicator.name!r} needs labels: pass `targets` (integer class labels, one per input)"
    return None


def score(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    indicators: IndicatorSpec = "all",
    seed: int = 0,
    device: str | torch.device | None = None,
    probe: Probe | None = None,
) -> ScoreResult:
    """Score ``model`` on the batch ``inputs`` with training-free indicators.

    Args:
        model: any ``nn.Module`` returning logits ``(N, num_classes)``. It is never modified: scoring runs on a
            private copy (see :mod:`zeroscore.probe`).
        inputs: a batch, e.g. ``zeroscore.data.load_batch("cifar10")[0]``.
        targets: integer labels; required by label-needing indicators when they are requested by name.
        indicators: ``"all"``, a wildcard such as ``"ntk*"``, a list of names/instances, or ``{name: params}``.
        seed: seeds every random choice of the indicators (projections, crops, re-initialisations);
            the caller's global RNG state is left as it was.
        device: where to compute; only copies are moved. Results are Python floats.
        probe: reuse an existing :class:`~zeroscore.probe.Probe` (advanced; model/inputs are then ignored).

    Returns:
        :class:`ScoreResult`: ``result["naswot"]``, ``result.seconds``, ``result.errors``.

    An indicator that fails records NaN and its error text; the others still run. An explicitly named
    indicator whose needs are not met (e.g. labels) raises :class:`MissingInputError` before any work; with
    ``"all"`` or a wildcard such indicators are recorded as NaN with the reason.
    """
    explicit = not (isinstance(indicators, str) and (indicators == "all" or any(c in indicators for c in "*?[")))
    chosen = resolve_indicators(indicators)
    if explicit:
        problems = [p for p in (check_needs(i, targets) for i in chosen) if p]
        if problems:
            raise MissingInputError("; ".join(problems))
    if probe is None:
        probe = Probe(model, inputs, targets, seed=seed, device=device)
    result = ScoreResult()
    devices = [probe.device] if probe.device.type == "cuda" else []
    with _full_fp32():
        _score_into(result, probe, chosen, devices)
    return result


@contextlib.contextmanager
def _full_fp32():
    """Compute in full float32 on GPUs: cuDNN's TF32 convolutions (PyTorch's default) keep 10 mantissa bits,
    which moves condition numbers and log-determinants and makes GPU scores disagree with CPU ones. The flags
    are process-wide, so they are restored afterwards."""
    old = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


def _score_into(result: ScoreResult, probe: Probe, chosen, devices) -> None:
    for ind in chosen:
        result.params[ind.name] = ind.get_params()
        problem = check_needs(ind, probe.targets)
        if problem:
            result.values[ind.name] = math.nan
            result.errors[ind.name] = problem
            result.seconds[ind.name] = 0.0
            continue
        start = time.perf_counter()
        try:
            try:
                value = _compute(ind, probe, devices)
            except torch.cuda.OutOfMemoryError:
                # several scoring processes may share one GPU: free this one's cached passes and blocks, retry once
                probe.clear_cache()
                probe.restore()
                torch.cuda.empty_cache()
                value = _compute(ind, probe, devices)
            result.values[ind.name] = value
            if math.isnan(value):
                result.errors[ind.name] = "indicator returned NaN"
        except Exception as err:  # one failing indicator never stops the others
            result.values[ind.name] = math.nan
            result.errors[ind.name] = f"{type(err).__name__}: {err}"
        finally:
            probe.restore()
            result.seconds[ind.name] = time.perf_counter() - start


def _compute(ind, probe: Probe, devices) -> float:
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(derived_seed(probe.seed, ind.name))
        return float(ind.compute(probe))
