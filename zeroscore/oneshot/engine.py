"""One weight-sharing search, end to end: :func:`search` and its :class:`OneShotResult`.

Everything a user can get wrong (method, epochs, space, dataset, split file, device) is checked before any data is
read or any network built. The search never reads ground truth: the result holds the architecture only; the CLI and
the benchmark script look its accuracy up afterwards (:func:`zeroscore.truth.lookup_accuracy`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from zeroscore.errors import UsageError
from zeroscore.names import space_name
from zeroscore.spaces.supernet import Supernet, build_supernet, supernet_class

from .batches import SearchData
from .config import TrainConfig, default_config
from .methods import method_class
from .paths import path_arch
from .splits import read_split_file, split_dataset
from .trainer import Trainer

__all__ = ["search", "OneShotResult", "supernet_options", "state_digest"]


@dataclass
class OneShotResult:
    """What :func:`search` returns.

    Attributes:
        arch: the architecture found (NB201 cell string, DARTS ``Genotype``).
        epochs: training epochs; ``images_seen``: images through the supernet (weight and architecture steps,
            selection); ``wall_seconds``: training (over every run of a resumed search) plus selection.
        history: one dict per epoch (``train_loss``, ``train_acc``, ``arch_loss``, ``arch_acc``, ``lr``, GDAS's
            ``tau``, the alphas as ``op_weights`` per cell type and the ``arch`` they give).
        selection: how the final architecture was chosen (e.g. RSPS's best one-shot accuracy).
        data: which images trained weights and architecture; ``config``: the training settings;
            ``supernet_options``: how the supernet was built; ``resumed_at``: first epoch of this run.
        supernet: the trained supernet (for one-shot evaluation, :func:`~zeroscore.oneshot.evaluate`).
    """

    method: str
    space: str
    dataset: str
    seed: int
    arch: Any
    epochs: int
    images_seen: int
    wall_seconds: float
    history: list[dict]
    selection: dict
    data: str
    config: dict
    supernet_options: dict
    resumed_at: int = 0
    supernet: Supernet | None = field(default=None, repr=False)

    def record(self) -> dict[str, Any]:
        """A JSON-ready summary (no supernet, no per-epoch alphas)."""
        history = [{k: v for k, v in row.items() if k != "op_weights"} for row in self.history]
        return {"method": self.method, "space": self.space, "dataset": self.dataset, "seed": self.seed,
                "arch": str(self.arch), "epochs": self.epochs, "images_seen": self.images_seen,
                "wall_seconds": round(self.wall_seconds, 3), "selection": self.selection, "data": self.data,
                "config": self.config, "supernet_options": self.supernet_options, "history": history}


def supernet_options(space: str, method: str, channels: int = 16, cells: int = 5, num_classes: int = 10,
                     **extra: Any) -> dict[str, Any]:
    """Constructor options of the supernet ``method`` trains: ``channels`` / ``cells`` (NB201: ``C`` / ``N`` cells
    per stage; DARTS: ``C`` / ``layers``), the method's BatchNorm settings, then ``extra``."""
    depth_key = "N" if space_name(space) == "nb201" else "layers"
    return {"C": int(channels), depth_key: int(cells), "num_classes": int(num_classes),
            **method_class(method).supernet_options, **extra}


def state_digest(state: dict) -> str:
    """A short hash of a state dict's names and values (what a warm-started checkpoint started from)."""
    digest = hashlib.sha1()
    for name in sorted(state):
        value = state[name]
        digest.update(name.encode())
        if isinstance(value, torch.Tensor):
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _device(device) -> torch.device:
    dev = torch.device(device if device is not None else "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {str(dev)!r} requested, but this torch has no CUDA device; use device='cpu'")
    return dev


def search(method: str = "darts", space: str = "nb201", dataset: str = "cifar10", *, epochs: int | None = None,
           channels: int = 16, cells: int = 5, seed: int = 0, root=None, split_file=None, checkpoint=None,
           device=None, progress: bool = False, data: SearchData | None = None, config: TrainConfig | None = None,
           options: dict | None = None, supernet_kwargs: dict | None = None, init_state: dict | None = None,
           on_epoch=None, **settings: Any) -> OneShotResult:
    """Train a supernet of ``space`` with ``method`` on ``dataset``'s search split and derive an architecture.

    ``epochs`` and ``settings`` (``batch_size``, ``lr``, ... see :class:`TrainConfig`) override the method's
    defaults (:func:`default_config`), or give a whole ``config``; ``options`` are the method's own options (e.g.
    ``{"candidates": 100}``, ``{"tau_max": 10}``). ``data``: a :class:`SearchData` to use instead of the data
    location (``dataset`` then only names it). ``checkpoint``: a folder to checkpoint every epoch in and to resume
    from. ``supernet_kwargs``: extra supernet options (e.g. ``{"track_running_stats": True}``). ``init_state``: a
    state dict of a supernet built the same way to start from instead of a fresh initialisation (the warm start of
    Few-shot NAS's sub-supernets from the one-shot weights); a checkpoint remembers which state it started from.
    ``on_epoch(epoch, supernet)``: called after every trained epoch (:class:`~zeroscore.oneshot.trainer.Trainer`).
    """
    cls = method_class(method)
    if config is None:
        config = default_config(cls.name, epochs=epochs, **settings)
    elif epochs is not None or settings:
        raise UsageError("give either a config or epochs / settings, not both")
    if options:
        config.options = {**config.options, **options}
    config.check()
    supernet_class(space)
    dev = _device(device)
    if data is None:
        split_dataset(dataset)
        if split_file is not None:
            read_split_file(split_file, dataset)  # a file of another dataset fails here, before any training
    method_obj = cls(config)  # unknown method options fail here

    if data is None:
        data = SearchData.load(dataset, root=root, split_file=split_file, seed=seed)
    opts = supernet_options(space, cls.name, channels, cells, data.num_classes, **(supernet_kwargs or {}))
    supernet = build_supernet(space, seed=seed, **opts).to(dev)
    fingerprint = {"method": cls.name, "space": space_name(space), "dataset": data.name, "seed": int(seed),
                   "config": config.as_dict(), "supernet": opts, "data": data.describe()}
    if init_state is not None:
        fingerprint["init_state"] = state_digest(init_state)
    trainer = Trainer(supernet, method_obj, data, config, seed=seed, checkpoint_dir=checkpoint,
                      fingerprint=fingerprint, progress=progress, on_epoch=on_epoch)
    if init_state is not None:  # after the method's own initialisation (DI-NAS), before a resume
        try:
            supernet.load_state_dict(init_state)
        except RuntimeError as error:
            raise UsageError(f"init_state does not fit this supernet ({opts}): {str(error).splitlines()[0]}") from None
    record = trainer.train()
    started = time.perf_counter()
    path, selection = method_obj.derive(supernet, data)
    selection_seconds = time.perf_counter() - started
    return OneShotResult(
        method=cls.name, space=space_name(space), dataset=data.name, seed=int(seed),
        arch=path_arch(supernet.layout, path), epochs=config.epochs,
        images_seen=record.images_seen + int(selection.get("images", 0)),
        wall_seconds=record.wall_seconds + selection_seconds, history=record.history, selection=selection,
        data=data.describe(), config=config.as_dict(), supernet_options=opts, resumed_at=record.resumed_at,
        supernet=supernet)
