"""Checkpoints of a weight-sharing search: everything needed to continue after a kill exactly where the last
finished epoch left off.

One file, ``<dir>/checkpoint.pt``, rewritten atomically (temporary file + rename) after every epoch. It holds the
supernet, the method's state (alphas, GDAS's temperature), both optimisers, every random generator the search
draws from (the numpy generator of batches and paths, the torch generator of initialisations and Gumbel noise,
torch's global CPU and CUDA states), the epoch history and the cost so far, and a *fingerprint* of the search (method,
space, dataset, split, seed, settings): resuming a different search from it is a :class:`~zeroscore.errors.
UsageError`, never a silent mix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zeroscore.errors import DamagedFileError, UsageError

__all__ = ["CHECKPOINT_NAME", "save_checkpoint", "load_checkpoint", "rng_states", "restore_rng_states"]

CHECKPOINT_NAME = "checkpoint.pt"


def rng_states(rng: np.random.Generator, generator: torch.Generator) -> dict[str, Any]:
    states: dict[str, Any] = {"numpy": rng.bit_generator.state, "torch_generator": generator.get_state(),
                              "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any], rng: np.random.Generator, generator: torch.Generator) -> None:
    rng.bit_generator.state = states["numpy"]
    generator.set_state(states["torch_generator"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(folder, state: dict[str, Any]) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CHECKPOINT_NAME
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a kill during the write leaves the previous checkpoint intact
    return path


def load_checkpoint(folder, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The checkpoint in ``folder`` (None when there is none); :class:`UsageError` when it belongs to another
    search."""
    path = Path(folder) / CHECKPOINT_NAME
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)  # our own file, trusted like the data
    except Exception as err:  # a damaged file fails in many ways
        raise DamagedFileError(f"{path} cannot be read as a search checkpoint ({type(err).__name__}: {err}); "
                               f"delete it to start over") from None
    saved = state.get("fingerprint", {})
    if saved != fingerprint:
        diff = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
        raise UsageError(f"{path} belongs to another search (differs in {', '.join(diff)}); use another checkpoint "
                         f"folder or delete it to start over")
    return state
