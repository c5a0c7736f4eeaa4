"""Supernets that train only BatchNorm: the plain BN-only supernet and DI-NAS, a RECONSTRUCTION.

``bn_only`` (the BN-NAS idea, Chen et al., ICCV 2021): RSPS's uniform single-path training, but every parameter
that is not a BatchNorm weight or bias keeps its (PyTorch default) initialisation; the ops' BatchNorms are affine.
Parameter-free ops carry no BatchNorm, so this supernet can only re-weight the ops that have one -- the fairness
question. Selection: RSPS's (best of 100 random cells, one validation batch each).

``di_nas`` -- "Dynamical Isometry based Rigorous Fair NAS" (Luo et al., 2023) publishes no code and only its
abstract was available: this is a RECONSTRUCTION from the abstract and its predecessors, labelled so wherever it
appears. What it does:

* every candidate op starts at dynamical isometry: convolutions delta-orthogonal (Xiao et al., ICML 2018: the
  centre tap an orthogonal matrix, the other taps zero) with ReLU's critical gain ``sqrt(2)``, the classifier
  orthogonal, and an affine BatchNorm after every op, ``skip``, pooling and ``none`` included (``op_bn="all"``), so
  that every candidate on an edge has the same trainable part and starts with unit output variance. The other
  convolutions (stem, reduction blocks) get the same initialisation. :func:`op_spectra` measures each candidate
  module's Jacobian spectrum (mean squared singular value ``m1``, spread ``m2 / m1^2`` and the isometry gap of
  :mod:`zeroscore.indicators._isometry`) on Gaussian inputs of the shape the edge receives -- the per-op fairness
  check, committed with the results;
* the weights stay frozen at that initialisation; only BatchNorm affine parameters train, with uniform
  single-path sampling (RSPS's weight step);
* module selection: per edge, among the candidate ops whose Jacobian is still well conditioned after training
  (isometry gap ``<= threshold``; ``none`` never is: its Jacobian is zero), the op with the lowest
  generalisation-error estimate -- the mean validation loss of ``paths`` random paths through it (each on one
  validation batch, as RSPS scores candidates; ``selection="val_loss"``, the default) or the largest mean |gamma|
  of its BatchNorm (BN-NAS's score; ``selection="gamma"``). Both cells are reported.

Threshold: the gap of a ReLU op at delta-orthogonal init is about ``log 2`` (the ReLU zeroes half of the input
directions, so ``m2 / m1^2 = 2``) plus ``log(m1)^2`` from the BatchNorm's rescaling; the default ``1.0`` keeps ops
conditioned like one ReLU layer and drops the ones whose spectrum is spread further (3x3 average pooling, whose
high frequencies vanish, and ``none``). It was fixed from these spectra, before any accuracy was looked at.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from zeroscore.errors import UsageError
from zeroscore.indicators._isometry import _haar_frame, isometry_gap, jacobian_moments
from zeroscore.spaces.supernet import MixedOp, Supernet

from ..paths import path_arch
from .base import freeze_all_but_batchnorm, is_batchnorm
from .rsps import Rsps

__all__ = ["BnOnly", "DiNas", "isometric_init", "op_spectra", "CRITICAL_GAIN"]

#: He / critical gain of a ReLU network: the mean squared singular value of ReLU(W x) is 1 at this weight scale
CRITICAL_GAIN = math.sqrt(2.0)


def _orthogonal(rows: int, cols: int, generator: torch.Generator) -> torch.Tensor:
    """A ``(rows, cols)`` matrix with orthonormal rows or columns (whichever are fewer), Haar distributed."""
    q = _haar_frame(max(rows, cols), min(rows, cols), generator)
    return (q if rows >= cols else q.T).float()


@torch.no_grad()
def isometric_init(model: nn.Module, generator: torch.Generator, gain: float = CRITICAL_GAIN) -> None:
    """Dynamical-isometry initialisation: every ``Conv2d`` delta-orthogonal (per group; centre tap ``gain`` times an
    orthogonal matrix, other taps and biases zero), every ``Linear`` orthogonal (gain 1, bias zero), every affine
    BatchNorm weight 1 and bias 0. Deterministic for a ``generator`` state."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            w = module.weight
            w.zero_()
            out_per_group, in_per_group = w.shape[0] // module.groups, w.shape[1]
            kh, kw = w.shape[2] // 2, w.shape[3] // 2
            for g in range(module.groups):
                block = slice(g * out_per_group, (g + 1) * out_per_group)
                w[block, :, kh, kw] = gain * _orthogonal(out_per_group, in_per_group, generator).to(w)
        elif isinstance(module, nn.Linear):
            n_out, n_in = module.weight.shape
            module.weight.copy_(_orthogonal(n_out, n_in, generator).to(module.weight))
        else:
            if is_batchnorm(module) and module.affine:
                module.weight.fill_(1.0)
                module.bias.zero_()
            continue
        if module.bias is not None:
            module.bias.zero_()


def _edge_input_shapes(supernet: Supernet, x: torch.Tensor) -> dict[int, torch.Size]:
    """Shape of the input every mixed op (by ``id``) receives on ``x`` (any path gives the same shapes)."""
    shapes: dict[int, torch.Size] = {}

    def hook(module, args):
        shapes.setdefault(id(module), args[0].shape)

    handles = [m.register_forward_pre_hook(hook) for m in supernet.modules() if isinstance(m, MixedOp)]
    saved = supernet.masks
    try:
        supernet.set_op_mask(supernet.layout.full_masks())
        with torch.no_grad():
            supernet(x)
    finally:
        for h in handles:
            h.remove()
        supernet.set_op_mask(saved)
    return shapes


def _reset_batchnorm_affine(module: nn.Module) -> nn.Module:
    module = copy.deepcopy(module)
    with torch.no_grad():
        for m in module.modules():
            if is_batchnorm(m) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()
    return module


def op_spectra(supernet: Supernet, x: torch.Tensor, generator: torch.Generator, batch: int = 8,
               projections: int = 16, as_initialised: bool = False) -> pd.DataFrame:
    """Jacobian spectrum of every candidate op module: one row per (cell, edge, op) with ``m1`` (mean squared
    singular value), ``spread`` (``m2 / m1^2``, 1 for an isometry up to scale) and ``gap``
    (:func:`~zeroscore.indicators._isometry.isometry_gap`), measured in train mode (batch statistics) on
    ``batch`` Gaussian inputs of the shape the op's edge receives when the supernet runs on ``x``.
    ``as_initialised``: on a copy with every BatchNorm affine reset to (1, 0) -- the op at DI-NAS's initialisation,
    since its other weights are frozen. The supernet's modes and parameters are left as they were."""
    shapes = _edge_input_shapes(supernet, x[:batch])
    rows = []
    was_training = supernet.training
    supernet.train()
    try:
        for index, cell in supernet.search_cells():
            for edge, mixed in zip(supernet.edge_names, cell.mixed_ops()):
                shape = shapes[id(mixed)]
                for op, module in zip(supernet.op_names, mixed.candidates):
                    probe = _reset_batchnorm_affine(module) if as_initialised else module
                    inputs = torch.randn(shape, generator=generator).to(x.device)
                    m1, m2 = jacobian_moments(probe, inputs, projections, generator)
                    spread = m2 / (m1 * m1) if m1 > 0 else math.inf
                    rows.append({"cell": index, "edge": edge, "op": op, "m1": m1, "spread": spread,
                                 "gap": isometry_gap(m1, m2)})
    finally:
        supernet.train(was_training)
    return pd.DataFrame(rows)


def _finite(value) -> float | None:
    """A float for JSON: ``None`` for an infinite or missing value (``none``'s isometry gap, an op no path used)."""
    value = float(value)
    return value if math.isfinite(value) else None


class BnOnly(Rsps):
    """The plain BN-only supernet (see the module docstring): RSPS training of the BatchNorm affine parameters."""

    name = "bn_only"
    supernet_options = {"affine": True, "track_running_stats": False}

    def prepare(self, supernet, rng, generator):
        super().prepare(supernet, rng, generator)
        freeze_all_but_batchnorm(supernet)


class DiNas(BnOnly):
    """DI-NAS, a RECONSTRUCTION (see the module docstring)."""

    name = "di_nas"
    OPTIONS = {"allowed": None, "group": None, "threshold": 1.0, "selection": "val_loss", "paths": 100,
               "projections": 16}
    supernet_options = {"affine": True, "track_running_stats": False, "op_bn": "all"}

    def __init__(self, config):
        super().__init__(config)
        if self.options["selection"] not in ("val_loss", "gamma"):
            raise UsageError(f"di_nas selection must be 'val_loss' or 'gamma', got {self.options['selection']!r}")

    def prepare(self, supernet, rng, generator):
        if len(supernet.layout.cell_types) != 1:
            raise UsageError("di_nas's per-edge module selection is implemented for NB201 supernets (one cell type)")
        isometric_init(supernet, generator)
        super().prepare(supernet, rng, generator)

    def _path_losses(self, supernet: Supernet, data) -> tuple[list, list[float], int]:
        batches = itertools.cycle(list(data.valid_batches(self.config.eval_batch_size, self.rng)))
        paths, losses, images = [], [], 0
        saved, was_training = supernet.masks, supernet.training
        supernet.eval()
        try:
            with torch.no_grad():
                for _ in range(int(self.options["paths"])):
                    path = self.sample_path(self.rng)
                    x, y = next(batches)
                    supernet.set_op_mask(path)
                    losses.append(float(F.cross_entropy(supernet(x.to(self.device)), y.to(self.device))))
                    paths.append(path)
                    images += len(y)
        finally:
            supernet.set_op_mask(saved)
            supernet.train(was_training)
        return paths, losses, images

    def _gamma(self, supernet: Supernet) -> np.ndarray:
        """Mean |gamma| of each candidate's last BatchNorm over the cells, ``(edges, ops)``."""
        total = np.zeros(self.layout.mask_shape)
        count = np.zeros(self.layout.mask_shape)
        for place, module in supernet.candidate_ops():
            norms = [m for m in module.modules() if is_batchnorm(m) and m.affine]
            if norms:
                e, o = self.layout.edge_index(place.edge), self.layout.op_index(place.op)
                total[e, o] += float(norms[-1].weight.detach().abs().mean())
                count[e, o] += 1
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def derive(self, supernet, data):
        x, _ = next(iter(data.valid_batches(self.config.eval_batch_size)))
        x = x.to(self.device)
        gen = torch.Generator().manual_seed(int(self.rng.integers(2**31)))
        k = int(self.options["projections"])
        at_init = op_spectra(supernet, x, gen, projections=k, as_initialised=True)
        trained = op_spectra(supernet, x, gen, projections=k)
        shape = self.layout.mask_shape
        gap = trained.groupby(["edge", "op"])["gap"].mean()
        gaps = np.array([[gap[(e, o)] for o in self.layout.op_names] for e in self.layout.edge_names])

        paths, losses, images = self._path_losses(supernet, data)
        loss_sum, loss_count = np.zeros(shape), np.zeros(shape)
        for path, loss in zip(paths, losses):
            loss_sum += path[0] * loss
            loss_count += path[0]
        mean_loss = np.where(loss_count > 0, loss_sum / np.maximum(loss_count, 1), np.inf)
        gamma = self._gamma(supernet)

        allowed = self.sample_path.allowed_columns
        cells, unconditioned = {}, set()
        for rule, score in (("val_loss", -mean_loss), ("gamma", np.nan_to_num(gamma, nan=-np.inf))):
            choice = []
            for e in range(self.layout.num_edges):
                candidates = allowed[e] if allowed is not None else list(range(self.layout.num_ops))
                conditioned = [o for o in candidates if gaps[e, o] <= float(self.options["threshold"])]
                if not conditioned:  # fall back to every candidate, and say so
                    unconditioned.add(self.layout.edge_names[e])
                pool = conditioned or candidates
                choice.append(max(pool, key=lambda o: (score[e, o], -o)))
            path = [np.zeros(shape, dtype=bool)]
            path[0][np.arange(self.layout.num_edges), choice] = True
            cells[rule] = path
        chosen = cells[self.options["selection"]]
        spectra = at_init.groupby(["edge", "op"], sort=False)[["m1", "spread", "gap"]].mean()
        spectra["gap_trained"] = gap
        rule = (f"lowest mean validation loss of {self.options['paths']} random paths"
                if self.options["selection"] == "val_loss" else "largest mean |gamma|")
        details = {
            "selection": f"per edge, among ops with isometry gap <= {self.options['threshold']} after training, the "
                         f"{rule} (DI-NAS reconstruction)",
            "arch": str(path_arch(self.layout, chosen)),
            "arch_val_loss": str(path_arch(self.layout, cells["val_loss"])),
            "arch_gamma": str(path_arch(self.layout, cells["gamma"])),
            "threshold": float(self.options["threshold"]),
            "edges_without_conditioned_op": sorted(unconditioned),
            "op_spectra": [{"edge": e, "op": o, **{c: _finite(v) for c, v in r.items()}}
                           for (e, o), r in spectra.iterrows()],
            "op_val_loss": [[_finite(v) for v in row] for row in mean_loss],
            "op_gamma": [[_finite(v) for v in row] for row in gamma],
            "images": images,
        }
        return chosen, details
