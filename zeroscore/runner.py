"""Score many architectures of a search space into a resumable store: :func:`score_many` and ``zeroscore run``.

For every architecture and every seed the runner builds the network with
``space.build(arch, num_classes=data.num_classes(dataset), seed=seed)``, draws the batch
``data.load_batch(dataset, batch_size=batch_size, split=split, seed=seed)`` (cached, so once per seed and
process) and calls :func:`zeroscore.score` with the same ``seed``. Everything random is seeded from ``seed``,
so the values do not depend on the order of the work or on where it runs (serially, in a
``concurrent.futures`` executor or on Ray).

Linear regions on the thin network (TE-NAS protocol)
    TE-NAS (Chen et al., ICLR 2021) counts linear regions on a tiny copy of the network (one cell, C=1, no
    stem) fed ``3x3`` crops of ONE random input channel, because on the full-width network nearly every
    sample lands in its own region and the count saturates. So when ``linear_regions`` is requested and the
    space implements ``build_thin``, the runner scores it on ``space.build_thin(arch, num_classes, seed=seed)``
    with ``channels=1`` (unless the caller set ``channels``), feeding the batch with every channel of every image
    as a separate 1-channel image (``x.reshape(-1, 1, H, W)``), so each random crop is a crop of one random
    channel of a random image, as in TE-NAS. The stored parameters of that row get the extra
    key ``"network": "thin"`` and therefore their own ``params_hash``. Pass ``thin_linear_regions=False``
    (CLI ``--full-linear-regions``) to score ``linear_regions`` on the full network like any other indicator.

Store and resumption
    With ``store=PATH`` the rows go to a SQLite store (:mod:`zeroscore.store`): the rows of one
    (arch, seed) are written in one transaction, so a run killed at any point leaves only complete
    architectures, and a rerun computes only what is missing (an indicator added later is computed alone).
    Only the calling process writes the store; workers return rows.

Interrupting
    The first Ctrl-C (SIGINT) lets the current architecture finish and be written, then :func:`score_many`
    raises ``KeyboardInterrupt`` (the CLI prints how to resume and exits with 130); a second Ctrl-C stops at
    once (the unfinished architecture is not written). Rerunning the same call resumes.

Scale-out (``executor=``)
    ``None``: in-process. ``"process"`` / ``"process:N"``: a ``ProcessPoolExecutor`` (spawned workers, one torch
    thread each). Any :class:`concurrent.futures.Executor` instance: tasks are the picklable top-level
    :func:`score_task` with the arch id and the settings (never a module). In a *thread* pool the tasks run one at
    a time (torch's random generator is per process, and each task seeds it), so threads give no speed-up but
    the same results; use processes or Ray to go parallel. ``"ray"`` (local Ray, started if
    needed), ``"auto"`` or ``"ray://host:port"`` (a cluster): the same function as a Ray task, with
    ``num_gpus=1`` per task when GPUs are available (the task then scores on its GPU unless ``device`` is set;
    GPU values may differ from CPU ones in float round-off).
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from typing import Any

__all__ = ["score_many", "score_task", "Job", "IndicatorJob", "plan_indicators"]

RESULT_COLUMNS = ["space", "arch", "dataset", "seed", "indicator", "value", "seconds", "error", "batch_size",
                  "split", "params_hash", "params"]


# ---------------------------------------------------------------------------------------------------------------
# what to compute


@dataclass(frozen=True)
class IndicatorJob:
    """One indicator as the runner computes it: the instance, its stored parameters and their hash."""

    indicator: Any  # zeroscore Indicator instance
    params: str  # JSON stored in the `params` column (incl. protocol keys such as "network": "thin")
    params_hash: str
    thin: bool = False

    @property
    def name(self) -> str:
        return self.indicator.name


@dataclass(frozen=True)
class Job:
    """Settings shared by every task of a run (picklable; sent to workers with each arch id)."""

    space: Any  # a registered space name, or a Space object
    space_name: str
    dataset: str
    batch_size: int
    split: str
    root: str | None
    device: str | None
    indicators: tuple[IndicatorJob, ...] = field(default_factory=tuple)
    num_classes: int = 10


def _get_space(space):
    if isinstance(space, str):
        from zeroscore import spaces

        return spaces.get(space)
    return space


@functools.lru_cache(maxsize=16)
def _cached_space(name: str):
    return _get_space(name)


def has_thin(space) -> bool:
    """Whether ``space`` implements ``build_thin`` (TE-NAS's thin network for the linear-region count)."""
    fn = getattr(type(space), "build_thin", None)
    if fn is None:
        return False
    try:
        from zeroscore.spaces.base import Space
    except ImportError:  # pragma: no cover
        return True
    return fn is not Space.build_thin


def plan_indicators(indicators="all", space=None, thin_linear_regions: bool = True) -> list[IndicatorJob]:
    """Resolve an indicator spec (as for :func:`zeroscore.score`) into :class:`IndicatorJob` s.

    ``linear_regions`` is moved to the thin network (with ``channels=1`` unless set) when
    ``thin_linear_regions`` and ``space`` has ``build_thin``.
    """
    from zeroscore.scoring import resolve_indicators
    from zeroscore.store import params_hash, params_json

    out = []
    thin_ok = thin_linear_regions and space is not None and has_thin(space)
    for ind in resolve_indicators(indicators):
        params = ind.get_params()
        thin = thin_ok and ind.name == "linear_regions"
        stored = dict(params)
        if thin:
            if params.get("channels") is None:
                params = {**params, "channels": 1}
                ind = type(ind)(**params)
            stored = {**params, "network": "thin"}
        out.append(IndicatorJob(ind, params_json(stored), params_hash(stored), thin))
    return out


# ---------------------------------------------------------------------------------------------------------------
# one task: one (arch, seed)


#: serialises tasks run in threads of one process: network builds and indicators seed torch's process-wide
#: default generator, so two tasks interleaving in threads would change each other's random draws
_RNG_LOCK = threading.RLock()


@functools.lru_cache(maxsize=8)
def _batch(dataset: str, root: str | None, batch_size: int, split: str, seed: int):
    from zeroscore import data

    return data.load_batch(dataset, root=root, batch_size=batch_size, split=split, seed=seed)


def score_task(job: Job, arch: Any, seed: int, only: Sequence[str] | None = None,
               use_gpu: bool = False) -> list[dict]:
    """Score one architecture with one seed; returns the tidy rows (nothing is written anywhere).

    ``only``: ``params_hash`` es of the indicators to compute (default: all of ``job.indicators``).
    ``use_gpu``: score on ``"cuda"`` when ``job.device`` is not set (Ray tasks given a GPU).
    A top-level function so that process pools and Ray can ship it; ``arch`` is the canonical arch value.
    """
    space = _cached_space(job.space) if isinstance(job.space, str) else job.space
    wanted = [ij for ij in job.indicators if only is None or ij.params_hash in set(only)]
    device = job.device if job.device is not None else ("cuda" if use_gpu else None)
    rows = []

    def emit(ij: IndicatorJob, value: float, seconds: float, error: str | None):
        rows.append({
            "space": job.space_name, "arch": str(arch), "dataset": job.dataset, "seed": int(seed),
            "indicator": ij.name, "value": float(value), "seconds": float(seconds), "error": error,
            "batch_size": int(job.batch_size), "split": job.split, "params_hash": ij.params_hash, "params": ij.params,
        })

    with _RNG_LOCK:  # torch's default generator is per process: tasks in threads must not interleave
        x, y = _batch(job.dataset, job.root, job.batch_size, job.split, int(seed))
        try:
            _score_groups(job, space, arch, seed, wanted, device, x, y, emit)
        finally:
            if device is not None and str(device).startswith("cuda"):
                import torch

                # hand the cached blocks back: other worker processes may share this GPU
                torch.cuda.empty_cache()
    return rows


def _score_groups(job, space, arch, seed, wanted, device, x, y, emit) -> None:
    from zeroscore.scoring import score

    for thin in (False, True):
        group = [ij for ij in wanted if ij.thin == thin]
        if not group:
            continue
        start = time.perf_counter()
        try:
            if thin:
                model = space.build_thin(arch, num_classes=job.num_classes, seed=int(seed))
            else:
                model = space.build(arch, num_classes=job.num_classes, seed=int(seed))
        except Exception as err:  # a broken arch fails its rows, not the run
            msg = f"build failed: {type(err).__name__}: {err}"
            for ij in group:
                emit(ij, math.nan, time.perf_counter() - start, msg)
            continue
        if thin and x.dim() == 4 and x.shape[1] != 1:
            # the thin network takes 1-channel images: every channel of every image becomes one image, so a
            # random crop of a random "image" is a crop of one random channel of a random image (TE-NAS)
            xs, ys = x.reshape(-1, 1, *x.shape[2:]), y.repeat_interleave(x.shape[1])
        else:
            xs, ys = x, y
        result = score(model, xs, ys, indicators=[ij.indicator for ij in group], seed=int(seed), device=device)
        for ij in group:
            emit(ij, result.values.get(ij.name, math.nan), result.seconds.get(ij.name, math.nan),
                 result.errors.get(ij.name))
        del model


# ---------------------------------------------------------------------------------------------------------------
# Ctrl-C


class _GracefulInterrupt:
    """First SIGINT: set ``requested`` (finish the current arch); second: raise KeyboardInterrupt."""

    def __init__(self, announce: bool = True):
        self.requested = False
        self.announce = announce
        self._old = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.announce:
            print("\nzeroscore: stopping after the current architecture (Ctrl-C again to stop now)", file=sys.stderr,
                  flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._old = signal.signal(signal.SIGINT, self._handler)
            except ValueError:  # pragma: no cover
                self._old = None
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


# ---------------------------------------------------------------------------------------------------------------
# executors


def _limit_threads(n: int = 1) -> None:
    import torch

    torch.set_num_threads(n)


def process_pool(workers: int, threads: int = 1) -> Executor:
    """A pool of ``workers`` spawned processes with ``threads`` torch threads each, for ``executor=``. Reuse one
    pool across many :func:`score_many` calls (spawning workers costs seconds); shut it down when done."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_limit_threads,
                               initargs=(threads,))


def _make_executor(executor):
    """-> (kind, object, owned): kind "serial" | "futures" | "ray"."""
    if executor is None or executor in ("serial", "none", "local-serial"):
        return "serial", None, False
    if isinstance(executor, Executor):
        return "futures", executor, False
    if isinstance(executor, str) and executor.split(":")[0] == "process":
        n = int(executor.split(":")[1]) if ":" in executor else (os.cpu_count() or 1)
        return "futures", process_pool(n), True
    if isinstance(executor, str) and (executor in ("ray", "auto") or executor.startswith("ray://")):
        import ray

        if not ray.is_initialized():
            if executor == "ray":
                ray.init(include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
            else:
                ray.init(address=executor, ignore_reinit_error=True, log_to_driver=False)
        return "ray", ray, False
    if getattr(executor, "__name__", None) == "ray" or type(executor).__module__.startswith("ray"):
        return "ray", __import__("ray"), False
    raise ValueError(f"executor must be None, 'process[:N]', 'ray', 'auto', 'ray://host:port' or a "
                     f"concurrent.futures.Executor; got {executor!r}")


def _describe_executor(executor) -> str:
    if executor is None:
        return "serial"
    if isinstance(executor, str):
        return executor
    return type(executor).__name__


# ---------------------------------------------------------------------------------------------------------------
# the driver


def _versions() -> dict:
    import numpy
    import torch

    import zeroscore

    return {"zeroscore_version": getattr(zeroscore, "__version__", "?"), "torch_version": torch.__version__,
            "numpy_version": numpy.__version__, "python_version": platform.python_version(),
            "platform": platform.platform(), "torch_threads": torch.get_num_threads(),
            "cuda_available": bool(torch.cuda.is_available())}


def score_many(space, archs, indicators="all", dataset: str = "cifar10", store=None, seeds: Iterable[int] = (0,),
               batch_size: int = 64, executor=None, progress: bool = True, root=None, device=None,
               split: str = "train", thin_linear_regions: bool = True, run_info: Mapping[str, Any] | None = None,
               max_in_flight: int | None = None):
    """Score architectures of a search space; one tidy row per (arch, indicator, seed).

    Args:
        space: a space name for :func:`zeroscore.spaces.get` (``"nb201"``, ``"nats_sss"``, ``"nb101"``) or a
            Space object (``.name``, ``.canonical``, ``.build``; optional ``.build_thin``).
        archs: architectures (any form ``space.canonical`` accepts), or an int ``n`` for
            ``space.sample(n, seed=0)``. Duplicates (after canonicalisation) are scored once.
        indicators: as for :func:`zeroscore.score`: ``"all"``, a wildcard, names, instances or ``{name: params}``.
        dataset: batch source, see :mod:`zeroscore.data`; the head has ``data.num_classes(dataset)`` classes.
        store: path of a SQLite store (:mod:`zeroscore.store`) to write to and resume from; ``None`` keeps
            the results in memory only.
        seeds: one network initialisation + batch + indicator randomness per seed.
        batch_size, split: the batch spec (``load_batch(dataset, batch_size=..., split=..., seed=seed)``).
        executor: ``None``, ``"process[:N]"``, ``"ray"``, ``"auto"``, ``"ray://..."`` or a
            ``concurrent.futures.Executor`` (see the module docstring).
        progress: show a tqdm progress bar (rate and ETA) on stderr.
        root: data location (default ``$ZEROSCORE_DATA``).
        device: where to score (default: CPU; Ray GPU tasks use their GPU).
        thin_linear_regions: TE-NAS protocol for ``linear_regions`` (see the module docstring).
        run_info: extra metadata stored with the run (e.g. the command line).
        max_in_flight: tasks submitted ahead to an executor (default: 2 x its workers).

    Returns:
        DataFrame with columns ``space, arch, dataset, seed, indicator, value, seconds, error, batch_size,
        split, params_hash, params``: the requested rows, including those already in the store. ``value`` is NaN
        where an indicator failed (``error`` says why).

    Raises:
        KeyboardInterrupt: after Ctrl-C, once the current architecture is written (rerun to resume).
    """
    import pandas as pd

    from zeroscore import data
    from zeroscore.store import open_store

    space_obj = _get_space(space)
    space_name = getattr(space_obj, "name", None) or type(space_obj).__name__
    if isinstance(archs, int):
        archs = space_obj.sample(archs, seed=0)
    canon: dict[str, Any] = {}
    for a in archs:
        c = space_obj.canonical(a) if hasattr(space_obj, "canonical") else a
        canon.setdefault(str(c), c)
    seeds = [int(s) for s in ([seeds] if isinstance(seeds, int) else seeds)]
    if not seeds:
        raise ValueError("seeds is empty")
    plan = plan_indicators(indicators, space_obj, thin_linear_regions)
    if not plan:
        raise ValueError("no indicators to compute")
    job = Job(space=space if isinstance(space, str) else space_obj, space_name=space_name, dataset=str(dataset),
              batch_size=int(batch_size), split=str(split), root=None if root is None else str(root),
              device=None if device is None else str(device), indicators=tuple(plan),
              num_classes=data.num_classes(dataset))
    all_hashes = [ij.params_hash for ij in plan]

    st = open_store(store) if store is not None else None
    mem_rows: list[dict] = []
    try:
        done = st.done(space_name, job.dataset, job.batch_size, job.split,
                       keys={(ij.name, ij.params_hash) for ij in plan}) if st is not None else set()
        tasks = []
        for a_str, a in canon.items():
            for s in seeds:
                missing = [ij.params_hash for ij in plan if (a_str, s, ij.name, ij.params_hash) not in done]
                if missing:
                    tasks.append((a, s, None if len(missing) == len(plan) else missing))
        run_id = None
        if st is not None:
            try:
                data_desc = data.describe(dataset, root)
            except Exception as err:  # pragma: no cover
                data_desc = f"{dataset} ({err})"
            info = {**_versions(), "space": space_name, "dataset": job.dataset, "data": data_desc,
                    "batch_size": job.batch_size, "split": job.split, "seeds": seeds,
                    "indicators": {ij.name: json.loads(ij.params) for ij in plan},
                    "params_hash": {ij.name: ij.params_hash for ij in plan},
                    "n_archs": len(canon), "n_tasks": len(tasks), "n_tasks_done_before": len(canon) * len(seeds) -
                    len(tasks), "executor": _describe_executor(executor), "device": job.device,
                    "thin_linear_regions": bool(thin_linear_regions), "argv": list(sys.argv)}
            info.update(dict(run_info or {}))
            run_id = st.start_run(info)

        n_written = 0
        n_failed = 0

        def write(rows: list[dict]) -> None:
            nonlocal n_written, n_failed
            n_failed += sum(1 for r in rows if r["error"])
            if st is not None:
                n_written += st.add_rows(rows, run_id=run_id)
            else:
                mem_rows.extend(rows)

        bar = None
        if progress and tasks:
            from tqdm.auto import tqdm

            skipped = len(canon) * len(seeds) - len(tasks)
            bar = tqdm(total=len(tasks), desc=f"{space_name}/{job.dataset}", unit="arch", dynamic_ncols=True,
                       file=sys.stderr, postfix={"already": skipped} if skipped else None)
        kind, ex, owned = _make_executor(executor) if tasks else ("serial", None, False)
        status = "finished"
        try:
            with _GracefulInterrupt(announce=True) as stop:
                if kind == "serial":
                    for a, s, only in tasks:
                        if stop.requested:
                            break
                        write(score_task(job, a, s, only))
                        if bar is not None:
                            bar.update(1)
                            if n_failed:
                                bar.set_postfix(failed_rows=n_failed, refresh=False)
                elif kind == "futures":
                    _run_futures(ex, job, tasks, write, bar, stop, max_in_flight)
                else:
                    _run_ray(ex, job, tasks, write, bar, stop, max_in_flight)
                if stop.requested:
                    status = "interrupted"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            if bar is not None:
                bar.close()
            if owned:
                ex.shutdown(wait=True, cancel_futures=True)
            if st is not None and run_id is not None:
                st.finish_run(run_id, status=status, rows_written=n_written, failed_rows=n_failed)
        if status == "interrupted":
            raise KeyboardInterrupt("interrupted after a complete architecture; rerun to resume")

        if st is not None:
            df = st.scores(space=space_name, dataset=job.dataset, batch_size=job.batch_size, split=job.split,
                           seeds=seeds, indicators=sorted({ij.name for ij in plan}))
            df = df[df["params_hash"].isin(all_hashes) & df["arch"].isin(set(canon))].drop(columns=["run_id"])
        else:
            df = pd.DataFrame(mem_rows, columns=RESULT_COLUMNS)
    finally:
        if st is not None:
            st.close()
    order_arch = {a: i for i, a in enumerate(canon)}
    order_ind = {h: i for i, h in enumerate(all_hashes)}
    df = df.assign(_a=df["arch"].map(order_arch), _i=df["params_hash"].map(order_ind))
    df = df.sort_values(["_a", "seed", "_i"], kind="stable").drop(columns=["_a", "_i"]).reset_index(drop=True)
    df = df[RESULT_COLUMNS]
    df.attrs.update({"space": space_name, "dataset": job.dataset, "batch_size": job.batch_size, "split": job.split})
    return df


def _default_in_flight(workers: int | None) -> int:
    return max(2, 2 * int(workers or os.cpu_count() or 1))


def _run_futures(ex: Executor, job: Job, tasks, write, bar, stop, max_in_flight) -> None:
    limit = max_in_flight or _default_in_flight(getattr(ex, "_max_workers", None))
    queue = list(reversed(tasks))
    pending = set()
    try:
        while queue or pending:
            while queue and len(pending) < limit and not stop.requested:
                a, s, only = queue.pop()
                pending.add(ex.submit(score_task, job, a, s, only))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                if f.cancelled():
                    continue
                write(f.result())
                if bar is not None:
                    bar.update(1)
            if stop.requested:  # let running tasks finish and be written, drop the queued ones
                for f in pending:
                    f.cancel()
                queue.clear()
    finally:
        for f in pending:
            f.cancel()


def _run_ray(ray, job: Job, tasks, write, bar, stop, max_in_flight) -> None:
    import torch

    gpus = 1 if (torch.cuda.is_available() or ray.cluster_resources().get("GPU", 0) >= 1) else 0
    remote = ray.remote(num_gpus=gpus, max_retries=1)(score_task)
    job_ref = ray.put(job)
    limit = max_in_flight or _default_in_flight(int(ray.cluster_resources().get("CPU", 1)))
    queue = list(reversed(tasks))
    pending = []
    try:
        while queue or pending:
            while queue and len(pending) < limit and not stop.requested:
                a, s, only = queue.pop()
                pending.append(remote.remote(job_ref, a, s, only, bool(gpus)))
            if not pending:
                break
            ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
            for ref in ready:
                write(ray.get(ref))
                if bar is not None:
                    bar.update(1)
            if stop.requested:  # submit nothing more; the tasks in flight finish and are written
                queue.clear()
    finally:
        for ref in pending:
            try:
                ray.cancel(ref)
            except Exception:  # pragma: no cover
                pass
