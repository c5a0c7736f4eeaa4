"""The one training loop of every weight-sharing method: :class:`Trainer`.

Per epoch, for each pair of batches from :meth:`SearchData.search_batches`: set the learning rate (cosine from
``lr`` to ``lr_min`` over the epochs, updated every step with the fraction of the epoch done, as NB201's scheduler
does), then the method's architecture step and weight step in the method's order (NB201 baselines: weights first;
NASP: architecture first). The weight step is the same for every method: the method's logits, cross-entropy,
backward, gradient norm clipped to ``grad_clip``, SGD (momentum, nesterov, weight decay) on
:meth:`Method.weight_parameters`. The architecture optimiser is Adam on the method's alphas.

After every epoch the loop records the epoch (losses, accuracies, learning rate, the alphas as op weights and the
architecture they give) and writes a checkpoint (:mod:`zeroscore.oneshot.checkpoint`) when a folder is given; a new
run with the same folder continues after the last finished epoch and ends with the same result as an uninterrupted
one. A progress bar (loss, accuracy, ETA) goes to stderr when ``progress`` is on. ``on_epoch(epoch, supernet)`` is
called after each finished epoch's checkpoint (epochs a resumed run skips are not called again); it must leave the
supernet as it found it (:func:`~zeroscore.oneshot.evaluation.evaluate` does), e.g. to follow a ranking over epochs.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from zeroscore.spaces.supernet import Supernet

from .batches import SearchData
from .checkpoint import load_checkpoint, restore_rng_states, rng_states, save_checkpoint
from .config import TrainConfig
from .evaluation import count_correct
from .methods import Method
from .paths import path_arch, path_from_weights

__all__ = ["Trainer", "TrainingRecord", "cosine_lr"]


def cosine_lr(config: TrainConfig, progress_in_epochs: float) -> float:
    """``lr_min + (lr - lr_min) * (1 + cos(pi * t / epochs)) / 2`` at ``t`` epochs done."""
    fraction = min(1.0, progress_in_epochs / config.epochs)
    return config.lr_min + (config.lr - config.lr_min) * (1 + math.cos(math.pi * fraction)) / 2


@dataclass
class TrainingRecord:
    """What training produced: one dict per epoch, images through the supernet, seconds spent (over all runs of a
    resumed search), and the epoch the run started at (0 unless resumed)."""

    history: list[dict[str, Any]] = field(default_factory=list)
    images_seen: int = 0
    wall_seconds: float = 0.0
    resumed_at: int = 0


class _Mean:
    def __init__(self):
        self.loss = self.correct = self.count = 0.0

    def add(self, loss: float, correct: int, count: int) -> None:
        self.loss += loss * count
        self.correct += correct
        self.count += count

    def values(self) -> tuple[float, float]:
        n = max(self.count, 1)
        return self.loss / n, 100.0 * self.correct / n


class Trainer:
    """Trains ``supernet`` with ``method`` on ``data`` (see the module docstring)."""

    def __init__(self, supernet: Supernet, method: Method, data: SearchData, config: TrainConfig, seed: int = 0,
                 checkpoint_dir=None, fingerprint: dict | None = None, progress: bool = False,
                 on_epoch: Callable[[int, Supernet], None] | None = None):
        self.supernet = supernet
        self.method = method
        self.data = data
        self.config = config
        self.seed = int(seed)
        self.checkpoint_dir = checkpoint_dir
        self.fingerprint = fingerprint or {}
        self.progress = progress
        self.on_epoch = on_epoch
        self.device = next(supernet.parameters()).device
        self.rng = np.random.default_rng(self.seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        method.prepare(supernet, self.rng, self.generator)
        c = config
        self.weight_params = method.weight_parameters(supernet)
        self.w_opt = torch.optim.SGD(self.weight_params, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                                     weight_decay=c.weight_decay)
        self.a_opt = (torch.optim.Adam(method.alphas, lr=c.arch_lr, betas=(c.arch_betas[0], c.arch_betas[1]),
                                       weight_decay=c.arch_weight_decay) if method.alphas else None)

    # ------------------------------------------------------------------ checkpoints
    def _state(self, epoch: int, record: TrainingRecord) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "epoch": epoch, "supernet": self.supernet.state_dict(),
                "method": self.method.state_dict(), "w_opt": self.w_opt.state_dict(),
                "a_opt": None if self.a_opt is None else self.a_opt.state_dict(),
                "rng": rng_states(self.rng, self.generator), "history": record.history,
                "images_seen": record.images_seen, "wall_seconds": record.wall_seconds}

    def _resume(self, record: TrainingRecord) -> int:
        if self.checkpoint_dir is None:
            return 0
        state = load_checkpoint(self.checkpoint_dir, self.fingerprint)
        if state is None:
            return 0
        self.supernet.load_state_dict(state["supernet"])
        self.method.load_state_dict(state["method"])
        self.w_opt.load_state_dict(state["w_opt"])
        if self.a_opt is not None:
            self.a_opt.load_state_dict(state["a_opt"])
        restore_rng_states(state["rng"], self.rng, self.generator)
        record.history = list(state["history"])
        record.images_seen = int(state["images_seen"])
        record.wall_seconds = float(state["wall_seconds"])
        record.resumed_at = int(state["epoch"])
        return record.resumed_at

    # ------------------------------------------------------------------ training
    def _weight_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, int, int]:
        self.w_opt.zero_grad(set_to_none=True)
        logits = self.method.weight_logits(self.supernet, x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.weight_params, self.config.grad_clip)
        self.w_opt.step()
        return float(loss.detach()), count_correct(logits.detach(), y), len(y)

    def _epoch(self, epoch: int, bar) -> tuple[dict[str, Any], int]:
        steps = self.data.steps_per_epoch(self.config.batch_size)
        weights, arch = _Mean(), _Mean()
        images = 0
        self.method.start_epoch(epoch, self.config.epochs)
        self.supernet.train()
        lr = cosine_lr(self.config, epoch)
        for step, ((xw, yw), (xa, ya)) in enumerate(self.data.search_batches(self.config.batch_size, self.rng)):
            lr = cosine_lr(self.config, epoch + step / steps)
            for group in self.w_opt.param_groups:
                group["lr"] = lr
            xw, yw, xa, ya = (t.to(self.device) for t in (xw, yw, xa, ya))
            if self.method.arch_first:
                arch_result = self.method.arch_step(self.supernet, xa, ya, self.a_opt)
                weights.add(*self._weight_step(xw, yw))
            else:
                weights.add(*self._weight_step(xw, yw))
                arch_result = self.method.arch_step(self.supernet, xa, ya, self.a_opt)
            images += len(yw)
            if arch_result is not None:
                arch.add(*arch_result)
                images += len(ya)
            if bar is not None:
                loss, acc = weights.values()
                bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.1f}", refresh=False)
                bar.update(1)
        loss, acc = weights.values()
        row: dict[str, Any] = {"epoch": epoch + 1, "lr": lr, "train_loss": loss, "train_acc": acc}
        if arch.count:
            row["arch_loss"], row["arch_acc"] = arch.values()
        row.update(self.method.epoch_info())
        op_weights = self.method.arch_weights()
        if op_weights is not None:
            row["op_weights"] = [w.tolist() for w in op_weights]
            row["arch"] = str(path_arch(self.supernet.layout, path_from_weights(self.supernet.layout, op_weights)))
        return row, images

    def train(self) -> TrainingRecord:
        record = TrainingRecord()
        start_epoch = self._resume(record)
        steps = self.data.steps_per_epoch(self.config.batch_size)
        bar = None
        if self.progress and start_epoch < self.config.epochs:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.config.epochs * steps, initial=start_epoch * steps, desc=self.method.name,
                       unit="step", file=sys.stderr, dynamic_ncols=True)
        try:
            for epoch in range(start_epoch, self.config.epochs):
                started = time.perf_counter()
                row, images = self._epoch(epoch, bar)
                row["seconds"] = time.perf_counter() - started
                record.history.append(row)
                record.images_seen += images
                record.wall_seconds += row["seconds"]
                if self.checkpoint_dir is not None:
                    save_checkpoint(self.checkpoint_dir, self._state(epoch + 1, record))
                if self.on_epoch is not None:
                    self.on_epoch(epoch + 1, self.supernet)
        finally:
            if bar is not None:
                bar.close()
        self.supernet.set_op_mask(self.supernet.layout.full_masks())
        return record
