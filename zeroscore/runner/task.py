"""One task of a run: one architecture with one seed, scored by the :class:`~zeroscore.scorer.Scorer` into rows.

A top-level, picklable function, so process pools and Ray can ship it with a :class:`~zeroscore.runner.plan.Job`
and an arch id (never a module). Everything random is seeded from the task's seed, so values do not depend on
the order of the work or on where it runs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

from zeroscore.runner.plan import Job

__all__ = ["score_task"]

#: serialises tasks run in threads of one process: network builds and indicators seed torch's process-wide
#: default generator, so two tasks interleaving in threads would change each other's random draws
_RNG_LOCK = threading.RLock()


@functools.lru_cache(maxsize=16)
def _cached_space(name: str):
    from zeroscore import spaces

    return spaces.get(name)


@functools.lru_cache(maxsize=8)
def _batch(dataset: str, root: str | None, batch_size: int, split: str, seed: int):
    from zeroscore import data

    return data.load_batch(dataset, root=root, batch_size=batch_size, split=split, seed=seed)


def score_task(job: Job, arch: Any, seed: int, only: Sequence[str] | None = None, use_gpu: bool = False) -> list[dict]:
    """Score one architecture with one seed; returns the result rows (nothing is written anywhere).

    ``only``: ``params_hash`` es of the indicators to compute (default: all of ``job.indicators``). ``use_gpu``:
    score on ``"cuda"`` when ``job.device`` is not set (Ray tasks given a GPU). ``arch`` is the canonical arch.
    """
    import torch

    from zeroscore.scorer import Scorer

    if job.threads and torch.get_num_threads() != job.threads:
        torch.set_num_threads(job.threads)
    space = _cached_space(job.space) if isinstance(job.space, str) else job.space
    wanted = [p for p in job.indicators if only is None or p.params_hash in set(only)]
    device = job.device if job.device is not None else ("cuda" if use_gpu else None)
    scorer = Scorer([p.indicator for p in wanted], seed=int(seed), device=device)
    with _RNG_LOCK:  # torch's default generator is per process: tasks in threads must not interleave
        x, y = _batch(job.dataset, job.root, job.batch_size, job.split, int(seed))
        try:
            result = scorer.score_arch(space, arch, x, y, num_classes=job.num_classes, plan=wanted)
        finally:
            if device is not None and str(device).startswith("cuda"):
                torch.cuda.empty_cache()  # hand the cached blocks back: other worker processes may share this GPU
    return scorer.rows(result, wanted, space=job.space_name, arch=arch, dataset=job.dataset, seed=seed,
                       batch_size=job.batch_size, split=job.split)
