"""Score many architectures of a search space into a resumable store: :func:`score_many` (CLI ``zeroscore run``).

For every architecture and seed a task builds the network with ``space.build(arch, num_classes=
data.num_classes(dataset), seed=seed)``, draws the batch ``data.load_batch(dataset, batch_size=batch_size,
split=split, seed=seed)`` and scores it with the :class:`~zeroscore.scorer.Scorer` (the same path as
:func:`zeroscore.score`), so the values do not depend on the order of the work or on where it runs.

Linear regions on the thin network (TE-NAS protocol)
    TE-NAS counts linear regions on a tiny copy of the network (one cell, C=1, no stem) fed ``3x3`` crops of ONE
    random input channel, because on the full-width network nearly every sample lands in its own region and the
    count saturates. The Scorer does this for every indicator that declares ``network = "thin"`` when the space
    has a thin network (``space.has_thin()``); the stored parameters of such a row get the extra key
    ``"network": "thin"`` and therefore their own ``params_hash``. ``thin_linear_regions=False`` (CLI
    ``--full-linear-regions``) scores it on the full network like any other indicator.

Store and resumption
    With ``store=PATH`` the rows go to a SQLite store (:mod:`zeroscore.store`): the rows of one (arch, seed) are
    written in one transaction, so a run killed at any point leaves only complete architectures, and a rerun
    computes only what is missing. Only the calling process writes the store; workers return rows.

Stopping
    The first Ctrl-C (SIGINT) or SIGTERM lets the current architecture finish and be written; then Ctrl-C raises
    ``KeyboardInterrupt`` (the run is marked ``interrupted``; the CLI prints how to resume and exits with 130) and
    SIGTERM exits with status 143 (marked ``terminated``). A second signal stops at once (the unfinished
    architecture is not written). Rerunning the same call resumes.

Reproducibility
    float32 results depend on torch's thread count in their last digits (up to ~4e-5 relative for 6-9 indicators
    between 1 and 2 threads on CPU). Every task computes with the run's thread count (the calling process's unless
    ``threads=`` is given), recorded in the run's metadata, so process pools and Ray reproduce a serial run
    exactly; runs with different thread counts agree to that tolerance.

Executors: see :mod:`zeroscore.runner.executors`.
"""

from __future__ import annotations

import json
import platform
import signal
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from zeroscore.errors import UsageError
from zeroscore.results import ROW_COLUMNS
from zeroscore.runner.executors import describe_executor, drive, make_backend, process_pool
from zeroscore.runner.plan import IndicatorJob, Job, plan_indicators
from zeroscore.runner.task import score_task

__all__ = ["score_many", "score_task", "Job", "IndicatorJob", "plan_indicators", "process_pool", "RESULT_COLUMNS"]

#: the columns of the frames :func:`score_many` returns (the Scorer's row schema)
RESULT_COLUMNS = ROW_COLUMNS


class _Stop:
    """First SIGINT/SIGTERM: set ``requested`` (finish the current arch); second: stop at once."""

    def __init__(self):
        self.requested = None  # None, "interrupted" or "terminated"
        self._old: dict = {}

    def _handler(self, signum, frame):
        reason = "terminated" if signum == signal.SIGTERM else "interrupted"
        if self.requested:
            if reason == "terminated":
                raise SystemExit(128 + signal.SIGTERM)
            raise KeyboardInterrupt
        self.requested = reason
        print("\nzeroscore: stopping after the current architecture (signal again to stop now)", file=sys.stderr,
              flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    self._old[sig] = signal.signal(sig, self._handler)
                except ValueError:  # pragma: no cover - not the main interpreter thread
                    pass
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False


def _versions(threads: int) -> dict:
    import numpy
    import torch

    from zeroscore._version import __version__
    from zeroscore.machine import cpu_model

    return {"zeroscore_version": __version__, "torch_version": torch.__version__, "numpy_version": numpy.__version__,
            "python_version": platform.python_version(), "platform": platform.platform(), "cpu": cpu_model(),
            "torch_threads": torch.get_num_threads(), "task_threads": threads,
            "cuda_available": bool(torch.cuda.is_available())}


def _space(space):
    if isinstance(space, str):
        from zeroscore import spaces

        return spaces.get(space)
    return space


def score_many(space, archs, indicators="all", dataset: str = "cifar10", store=None, seeds: Iterable[int] = (0,),
               batch_size: int = 64, executor=None, progress: bool = True, root=None, device=None,
               split: str = "train", thin_linear_regions: bool = True, run_info: Mapping[str, Any] | None = None,
               max_in_flight: int | None = None, params: Mapping[str, Mapping[str, Any]] | None = None,
               threads: int | None = None):
    """Score architectures of a search space; one row per (arch, indicator, seed).

    Args:
        space: a space name for :func:`zeroscore.spaces.get` or a Space object (``name``, ``canonical``,
            ``build``; optional ``build_thin``/``has_thin``).
        archs: architectures (any form ``space.canonical`` accepts), or an int ``n`` for ``space.sample(n, seed=0)``.
            Duplicates (after canonicalisation) are scored once.
        indicators, params: as for :class:`~zeroscore.scorer.Scorer`.
        dataset: batch source (see :mod:`zeroscore.data`); the head has ``data.num_classes(dataset)`` classes.
        store: path of a SQLite store to write to and resume from; ``None`` keeps the results in memory only.
        seeds: one network initialisation + batch + indicator randomness per seed.
        batch_size, split: the batch spec (``load_batch(dataset, batch_size=..., split=..., seed=seed)``).
        executor: ``None``, ``"process[:N]"``, ``"ray"``, ``"auto"``, ``"ray://..."`` or a
            ``concurrent.futures.Executor`` (see :mod:`zeroscore.runner.executors`).
        progress: a progress bar (rate and ETA) on stderr.
        root: data location (default ``$ZEROSCORE_DATA``).
        device: where to score (default: CPU; Ray GPU tasks use their GPU).
        thin_linear_regions: TE-NAS protocol for ``linear_regions`` (see the module docstring).
        run_info: extra metadata stored with the run (e.g. the command line).
        max_in_flight: tasks submitted ahead to an executor (default: 2 x its workers).
        threads: torch threads per task (default: this process's count; see "Reproducibility").

    Returns:
        DataFrame with columns :data:`RESULT_COLUMNS`: the requested rows, including those already in the store
        (``value`` NaN where an indicator failed, ``error`` says why). ``attrs`` gives ``rows_written`` (computed
        by this call) and ``rows_skipped`` (already stored).

    Raises:
        KeyboardInterrupt: after Ctrl-C, once the current architecture is written (rerun to resume).
        SystemExit: status 143 after SIGTERM, once the current architecture is written.
    """
    import pandas as pd
    import torch

    from zeroscore import data
    from zeroscore.store import open_store

    space_obj = _space(space)
    space_name = getattr(space_obj, "name", None) or type(space_obj).__name__
    if isinstance(archs, int):
        archs = space_obj.sample(archs, seed=0)
    canon: dict[str, Any] = {}
    for a in archs:
        c = space_obj.canonical(a) if hasattr(space_obj, "canonical") else a
        canon.setdefault(str(c), c)
    seeds = [int(s) for s in ([seeds] if isinstance(seeds, int) else seeds)]
    if not seeds:
        raise UsageError("seeds is empty")
    if any(s < 0 for s in seeds):
        raise UsageError(f"seeds must be non-negative, got {seeds}")
    plan = plan_indicators(indicators, space_obj, thin_linear_regions, params=params)
    threads = int(threads or torch.get_num_threads())
    job = Job(space=space if isinstance(space, str) else space_obj, space_name=space_name, dataset=str(dataset),
              batch_size=int(batch_size), split=str(split), root=None if root is None else str(root),
              device=None if device is None else str(device), indicators=tuple(plan),
              num_classes=data.num_classes(dataset), threads=threads)
    hashes = [p.params_hash for p in plan]

    st = open_store(store) if store is not None else None
    rows_in_memory: list[dict] = []
    counts = {"written": 0, "failed": 0}
    try:
        done = st.done(space_name, job.dataset, job.batch_size, job.split,
                       keys={(p.name, p.params_hash) for p in plan}) if st is not None else set()
        tasks = []
        for a_str, a in canon.items():
            for s in seeds:
                missing = [p.params_hash for p in plan if (a_str, s, p.name, p.params_hash) not in done]
                if missing:
                    tasks.append((a, s, None if len(missing) == len(plan) else missing))
        skipped_rows = len(canon) * len(seeds) * len(plan) - sum(len(plan) if o is None else len(o) for *_, o in tasks)
        run_id = None
        if st is not None:
            info = {**_versions(threads), "space": space_name, "dataset": job.dataset,
                    "data": data.describe(dataset, root), "batch_size": job.batch_size, "split": job.split,
                    "seeds": seeds, "indicators": {p.name: json.loads(p.params) for p in plan},
                    "params_hash": {p.name: p.params_hash for p in plan}, "n_archs": len(canon),
                    "n_tasks": len(tasks), "n_tasks_done_before": len(canon) * len(seeds) - len(tasks),
                    "rows_skipped": skipped_rows, "executor": describe_executor(executor), "device": job.device,
                    "thin_linear_regions": bool(thin_linear_regions), "argv": list(sys.argv)}
            info.update(dict(run_info or {}))
            run_id = st.start_run(info)

        def write(rows: list[dict]) -> None:
            counts["failed"] += sum(1 for r in rows if r["error"])
            if st is not None:
                counts["written"] += st.add_rows(rows, run_id=run_id)
            else:
                counts["written"] += len(rows)
                rows_in_memory.extend(rows)

        bar = None
        if progress and tasks:
            from tqdm.auto import tqdm

            already = len(canon) * len(seeds) - len(tasks)
            bar = tqdm(total=len(tasks), desc=f"{space_name}/{job.dataset}", unit="arch", dynamic_ncols=True,
                       file=sys.stderr, postfix={"already": already} if already else None)

        def tick() -> None:
            if bar is not None:
                bar.update(1)
                if counts["failed"]:
                    bar.set_postfix(failed_rows=counts["failed"], refresh=False)

        status = "finished"
        backend = make_backend(executor, threads) if tasks else None
        try:
            with _Stop() as stop:
                if backend is not None:
                    drive(backend, job, tasks, write, stop, max_in_flight, tick)
                status = stop.requested or "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except SystemExit:
            status = "terminated"
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            if bar is not None:
                bar.close()
            if backend is not None:
                backend.close()
            if st is not None and run_id is not None:
                st.finish_run(run_id, status=status, rows_written=counts["written"], failed_rows=counts["failed"])
        if status == "interrupted":
            raise KeyboardInterrupt("interrupted after a complete architecture; rerun to resume")
        if status == "terminated":
            raise SystemExit(128 + signal.SIGTERM)

        if st is not None:
            df = st.scores(space=space_name, dataset=job.dataset, batch_size=job.batch_size, split=job.split,
                           seeds=seeds, indicators=sorted({p.name for p in plan}))
            df = df[df["params_hash"].isin(hashes) & df["arch"].isin(set(canon))].drop(columns=["run_id"])
        else:
            df = pd.DataFrame(rows_in_memory, columns=RESULT_COLUMNS)
    finally:
        if st is not None:
            st.close()
    order_arch = {a: i for i, a in enumerate(canon)}
    order_ind = {h: i for i, h in enumerate(hashes)}
    df = df.assign(_a=df["arch"].map(order_arch), _i=df["params_hash"].map(order_ind))
    df = df.sort_values(["_a", "seed", "_i"], kind="stable").drop(columns=["_a", "_i"]).reset_index(drop=True)
    df = df[RESULT_COLUMNS]
    df.attrs.update({"space": space_name, "dataset": job.dataset, "batch_size": job.batch_size, "split": job.split,
                     "rows_written": counts["written"], "rows_skipped": skipped_rows})
    return df
