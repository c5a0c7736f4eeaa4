"""The :class:`Scorer`: the one path from "these indicators" to values, used by every consumer.

``zeroscore.score``, the runner's tasks, search objectives and the supernet pruner all go through it. It owns:

* the indicator spec (``"all"``, a wildcard, comma-separated names, instances, ``{name: params}``), parsed here
  and nowhere else (:func:`parse_indicators`);
* the needs check: an explicitly named indicator whose needs are not met (labels) raises
  :class:`~zeroscore.errors.MissingInputError` before any work; with ``"all"`` or a wildcard it is recorded as NaN
  with the reason;
* the thin-network rule: an indicator declaring ``network = "thin"`` (``linear_regions``, TE-NAS's protocol) is
  computed on the space's thin network (``space.has_thin()``) with its thin-protocol parameters
  (``indicator.for_thin_network()``), fed every channel of every image as a one-channel image;
* directions (``scorer.direction(name)``) and the result rows (:data:`ROW_COLUMNS`, the schema of the runner's
  frames and of the store).

One model and batch are scored through one shared :class:`~zeroscore.probe.Probe`; a failing indicator records NaN
and its error and the others still run.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from zeroscore import _nn
from zeroscore.errors import InvalidInputError, MissingInputError, UnknownIndicatorError, UsageError
from zeroscore.indicators.base import Indicator, get_indicator, indicator_class, list_indicators
from zeroscore.probe import Probe
from zeroscore.results import ROW_COLUMNS, PlannedIndicator, ScoreResult, params_hash, params_json

__all__ = ["Scorer", "ScoreResult", "PlannedIndicator", "score", "parse_indicators", "has_thin", "params_json",
           "params_hash", "ROW_COLUMNS", "IndicatorSpec"]

#: what may name indicators: "all", a wildcard, comma-separated names, instances, lists of those, {name: params}
IndicatorSpec = str | Indicator | Iterable[str | Indicator] | Mapping[str, Mapping[str, Any]]

# ---------------------------------------------------------------------------------------------------------------
# the indicator spec


def _is_pattern(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def parse_indicators(spec: IndicatorSpec = "all", params: Mapping[str, Mapping[str, Any]] | None = None
                     ) -> tuple[list[Indicator], bool]:
    """``(instances, explicit)`` for an indicator spec; the only parser of specs in zeroscore.

    ``spec``: ``"all"``; a wildcard (``"ntk*"``); comma-separated names and wildcards (``"naswot,ntk*"``); an
    :class:`~zeroscore.indicators.base.Indicator`; a list of any of these; or ``{name: {param: value}}``.
    ``params``: ``{name: {param: value}}`` for indicators chosen by ``spec`` (naming one that is not chosen is an
    error). ``explicit`` is False when ``"all"`` or a wildcard chose indicators (their unmet needs then give NaN
    instead of an error). Unknown names raise :class:`~zeroscore.errors.UnknownIndicatorError` before any work.
    """
    explicit = True
    chosen: list[Indicator] = []

    def add(item) -> None:
        nonlocal explicit
        if isinstance(item, Indicator):
            chosen.append(item)
        elif isinstance(item, str):
            for part in [p.strip() for p in item.split(",") if p.strip()] or [item]:
                if part == "all" or _is_pattern(part):
                    explicit = False
                    names = list_indicators("*" if part == "all" else part)
                    if not names:
                        raise UnknownIndicatorError(f"no indicator matches {part!r}; `zeroscore list` (or "
                                                    "zeroscore.list_indicators()) shows them all")
                    chosen.extend(get_indicator(n) for n in names)
                else:
                    chosen.append(get_indicator(part))
        elif isinstance(item, Mapping):
            for name, p in item.items():
                chosen.append(get_indicator(name, **dict(p or {})))
        elif isinstance(item, Iterable):
            for sub in item:
                add(sub)
        else:
            raise UsageError(f"indicators must be names, a wildcard, Indicator instances or {{name: params}}, "
                             f"got {type(item).__name__}")

    add(spec)
    names = [i.name for i in chosen]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"indicator(s) requested twice: {dupes}")
    if params:
        stray = [n for n in params if n not in names]
        if stray:
            raise UsageError(f"parameters given for {stray}, which are not among the requested indicators "
                             f"({', '.join(names)}); add them to the indicators or drop their parameters")
        chosen = [get_indicator(i.name, **{**i.get_params(), **dict(params[i.name])}) if i.name in params else i
                  for i in chosen]
    if not chosen:
        raise UsageError("no indicators requested")
    return chosen, explicit


def has_thin(space: Any) -> bool:
    """Whether ``space`` builds TE-NAS's thin network (``space.has_thin()``; duck-typed spaces: ``build_thin``)."""
    if space is None:
        return False
    check = getattr(space, "has_thin", None)
    if callable(check):
        return bool(check())
    return callable(getattr(space, "build_thin", None))


# ---------------------------------------------------------------------------------------------------------------
# the scorer


class Scorer:
    """Scores models, or architectures of a space, with a fixed set of indicators.

    Args:
        indicators: an indicator spec (see :func:`parse_indicators`).
        params: ``{name: {param: value}}`` for some of them.
        seed: default seed of every call: it seeds the indicators' random draws (projections, crops,
            re-initialisations) and, in :meth:`score_arch`, the network's initialisation.
        device: where to compute (only private copies move there; results are Python floats).
        logits: which part of a model's output holds the logits (see :func:`zeroscore.probe.select_logits`).
        thin: follow TE-NAS's thin-network protocol for indicators that declare it (default True).
    """

    def __init__(self, indicators: IndicatorSpec = "all", params: Mapping[str, Mapping[str, Any]] | None = None,
                 seed: int = 0, device: str | torch.device | None = None, logits: Any = None, thin: bool = True):
        self.indicators, self.explicit = parse_indicators(indicators, params)
        self.seed = int(seed)
        self.device = device
        self.logits = logits
        self.thin = bool(thin)

    # ------------------------------------------------------------------ metadata
    @property
    def names(self) -> list[str]:
        return [i.name for i in self.indicators]

    def higher_is_better(self, name: str) -> bool:
        return bool(indicator_class(name).higher_is_better)

    def direction(self, name: str) -> str:
        """``"higher"`` or ``"lower"``: which values of ``name`` predict a better architecture."""
        return "higher" if self.higher_is_better(name) else "lower"

    def needs_labels(self) -> bool:
        return any("labels" in i.needs for i in self.indicators)

    def check_needs(self, targets: torch.Tensor | None, indicators: Iterable[Indicator] | None = None) -> None:
        """Raise :class:`MissingInputError` when explicitly named indicators lack what they need."""
        if not self.explicit:
            return
        problems = [p for p in (_unmet(i, targets) for i in (indicators or self.indicators)) if p]
        if problems:
            raise MissingInputError("; ".join(problems))

    def plan(self, space: Any = None, thin_available: bool | None = None) -> list[PlannedIndicator]:
        """How each indicator is computed for architectures of ``space`` (network and stored parameters).
        ``thin_available`` overrides ``has_thin(space)`` (e.g. for supernets, which come in both widths)."""
        thin_ok = self.thin and (has_thin(space) if thin_available is None else thin_available)
        out = []
        for ind in self.indicators:
            if thin_ok and getattr(ind, "network", "full") == "thin":
                ind = ind.for_thin_network()
                stored = {**ind.get_params(), "network": "thin"}
                out.append(PlannedIndicator(ind, params_json(stored), params_hash(stored), "thin"))
            else:
                stored = ind.get_params()
                out.append(PlannedIndicator(ind, params_json(stored), params_hash(stored), "full"))
        return out

    # ------------------------------------------------------------------ scoring
    def score(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None, *,
              seed: int | None = None, indicators: Iterable[Indicator] | None = None, probe: Probe | None = None,
              progress: bool = False) -> ScoreResult:
        """Every indicator (or the given subset) of ``model`` on one batch, through one shared probe."""
        chosen = list(indicators) if indicators is not None else list(self.indicators)
        self.check_needs(targets, chosen)
        result = ScoreResult()
        bar = None
        # scoring needs autograd even when the caller sits in torch.inference_mode() / torch.no_grad(), and the
        # caller's process-wide module hooks must not fire on the private copy
        with _full_fp32(), torch.inference_mode(False), torch.enable_grad(), _nn.no_global_module_hooks(), \
                _nn.cyclic_gc_paused():
            owned = probe is None
            if probe is None:  # lives for this call only: it may read the caller's tensors to restore its copy
                probe = Probe(model, inputs, targets, seed=self.seed if seed is None else seed, device=self.device,
                              logits=self.logits, snapshot=False)
            probe.planned = frozenset(ind.name for ind in chosen)
            devices = [probe.device] if probe.device.type == "cuda" else []
            bar = _progress(chosen, progress)
            try:
                for k, ind in enumerate(chosen):
                    if bar is not None:
                        bar.set_postfix_str(ind.name, refresh=True)
                    # a probe of this call is not restored after its last indicator: nothing reads it again
                    _score_one(result, probe, ind, devices, restore=not owned or k + 1 < len(chosen))
                    if bar is not None:
                        bar.update(1)
            finally:
                if bar is not None:
                    bar.close()
                # free the private copy while the collector is still paused: re-enabling it with thousands of
                # young objects alive makes the next collection walk (and promote) all of them
                probe = None
        return result

    def score_arch(self, space: Any, arch: Any, inputs: torch.Tensor, targets: torch.Tensor | None = None, *,
                   num_classes: int = 10, seed: int | None = None, plan: list[PlannedIndicator] | None = None
                   ) -> ScoreResult:
        """The indicators of an architecture of ``space``: ``space.build(arch, num_classes, seed=seed)`` for the
        full-network ones, ``space.build_thin`` (fed one-channel images) for the thin ones. A network that fails
        to build fails its indicators (NaN, ``"build failed: ..."``), not the caller."""
        seed = self.seed if seed is None else int(seed)
        plan = self.plan(space) if plan is None else plan
        result = ScoreResult()
        for network in ("full", "thin"):
            group = [p for p in plan if p.network == network]
            if not group:
                continue
            start = time.perf_counter()
            try:
                build = space.build_thin if network == "thin" else space.build
                model = build(arch, num_classes=num_classes, seed=seed)
            except Exception as err:  # a broken arch fails its rows, not the run
                for p in group:
                    result.values[p.name] = math.nan
                    result.errors[p.name] = f"build failed: {type(err).__name__}: {err}"
                    result.seconds[p.name] = time.perf_counter() - start
                    result.params[p.name] = p.indicator.get_params()
                continue
            x, y = (thin_batch(inputs, targets) if network == "thin" else (inputs, targets))
            try:
                part = self.score(model, x, y, seed=seed, indicators=[p.indicator for p in group])
            except InvalidInputError as err:  # this network cannot be scored as built: its rows fail, not the run
                part = ScoreResult(values={p.name: math.nan for p in group},
                                   seconds={p.name: time.perf_counter() - start for p in group},
                                   errors={p.name: f"InvalidInputError: {err}" for p in group},
                                   params={p.name: p.indicator.get_params() for p in group})
            for attr in ("values", "seconds", "errors", "params"):
                getattr(result, attr).update(getattr(part, attr))
            del model
        return result

    @staticmethod
    def rows(result: ScoreResult, plan: list[PlannedIndicator], **keys: Any) -> list[dict]:
        """Result rows (:data:`ROW_COLUMNS`) of ``result``; ``keys`` gives space, arch, dataset, seed, batch_size,
        split."""
        return [{
            "space": keys.get("space"), "arch": str(keys.get("arch")), "dataset": keys.get("dataset"),
            "seed": int(keys.get("seed", 0)), "indicator": p.name,
            "value": float(result.values.get(p.name, math.nan)),
            "seconds": float(result.seconds.get(p.name, math.nan)), "error": result.errors.get(p.name),
            "batch_size": int(keys.get("batch_size", 0)), "split": keys.get("split"),
            "params_hash": p.params_hash, "params": p.params,
        } for p in plan]

    def __repr__(self) -> str:
        return f"Scorer({', '.join(self.names)}; seed={self.seed}, device={self.device!r})"


def thin_batch(inputs: torch.Tensor, targets: torch.Tensor | None):
    """TE-NAS's thin-network input: every channel of every image becomes a one-channel image (its label
    repeated), so a random crop of an "image" is a crop of one random channel of a random image."""
    if inputs.dim() != 4 or inputs.shape[1] == 1:
        return inputs, targets
    channels = inputs.shape[1]
    x = inputs.reshape(-1, 1, *inputs.shape[2:])
    y = None if targets is None else targets.repeat_interleave(channels)
    return x, y


def score(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None,
          indicators: IndicatorSpec = "all", seed: int = 0, device: str | torch.device | None = None,
          probe: Probe | None = None, logits: Any = None, progress: bool = False) -> ScoreResult:
    """Score ``model`` on the batch ``inputs`` with training-free indicators (a one-call :class:`Scorer`).

    Args:
        model: any ``nn.Module`` returning logits ``(N, num_classes)``. It is never modified: scoring runs on a
            private copy (see :mod:`zeroscore.probe`).
        inputs: a batch, e.g. ``zeroscore.data.load_batch("cifar10")[0]`` (any dtype: token ids stay integers).
        targets: integer class labels ``(N,)``; required by label-needing indicators when they are named.
        indicators: ``"all"``, a wildcard such as ``"ntk*"``, names, instances, or ``{name: params}``.
        seed: seeds every random choice of the indicators; the caller's global RNG state is left as it was.
        device: where to compute; only copies are moved. Results are Python floats.
        probe: reuse an existing :class:`~zeroscore.probe.Probe` (advanced; model/inputs are then ignored).
        logits: which part of a tuple/dict output holds the logits (index, key or callable).
        progress: a progress bar with ETA over the indicators on stderr.

    Returns:
        :class:`ScoreResult`: ``result["naswot"]``, ``result.seconds``, ``result.errors``, ``result.to_frame()``.
    """
    scorer = Scorer(indicators, seed=seed, device=device, logits=logits)
    return scorer.score(model, inputs, targets, probe=probe, progress=progress)


# ---------------------------------------------------------------------------------------------------------------
# internals


def _unmet(indicator: Indicator, targets: torch.Tensor | None) -> str | None:
    if "labels" in indicator.needs and targets is None:
        return f"indicator {indicator.name!r} needs labels: pass `targets` (integer class labels, one per input)"
    return None


def _progress(chosen: list[Indicator], enabled: bool):
    if not enabled or len(chosen) < 2:
        return None
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=len(chosen), desc="indicators", unit="ind", file=sys.stderr, dynamic_ncols=True, leave=False)


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


def _score_one(result: ScoreResult, probe: Probe, ind: Indicator, devices, restore: bool = True) -> None:
    """Compute one indicator into ``result``: NaN plus the error if it fails, never an exception, except for
    :class:`InvalidInputError` (the model or the batch, not the indicator, is at fault: every indicator would fail).
    Whatever the indicator did to torch's default dtype or to the torch-function mode stack is undone, and with
    ``restore`` what it did to the probe's copy (not after the last indicator on a probe nothing reads again)."""
    result.params[ind.name] = ind.get_params()
    problem = _unmet(ind, probe.targets) or probe.unmet(ind)
    if problem:
        result.values[ind.name] = math.nan
        result.errors[ind.name] = problem
        result.seconds[ind.name] = 0.0
        return
    start = time.perf_counter()
    dtype, modes = torch.get_default_dtype(), torch._C._len_torch_function_stack()
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
    except InvalidInputError:
        raise
    except Exception as err:  # one failing indicator never stops the others
        result.values[ind.name] = math.nan
        result.errors[ind.name] = f"{type(err).__name__}: {err}"
    finally:
        while torch._C._len_torch_function_stack() > modes:  # a mode the indicator entered and never left
            torch._C._pop_torch_function_stack()
        torch.set_default_dtype(dtype)
        if restore:
            probe.restore()
        result.seconds[ind.name] = time.perf_counter() - start


def _compute(ind: Indicator, probe: Probe, devices) -> float:
    with _nn.seeded_rng(probe.derived_seed(ind.name), devices):
        return float(ind.compute(probe))
