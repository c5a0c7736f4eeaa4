"""Where a run's tasks execute: a small backend protocol with three implementations, driven by one loop.

* ``None`` / ``"serial"``: in this process, one task after the other;
* ``"process"`` / ``"process:N"`` or any :class:`concurrent.futures.Executor`: futures. In a *thread* pool the
  tasks run one at a time (torch's random generator is per process and each task seeds it), so threads give the
  same results but no speed-up; use processes or Ray to go parallel;
* ``"ray"`` (local Ray, started if needed), ``"auto"`` or ``"ray://host:port"`` (a cluster): Ray tasks, with
  ``num_gpus=1`` per task when GPUs are available.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any, Protocol

from zeroscore.errors import UsageError
from zeroscore.runner.task import score_task

__all__ = ["Backend", "make_backend", "process_pool", "drive", "describe_executor"]


class Backend(Protocol):
    """What the run loop needs from an executor."""

    workers: int
    #: tasks kept submitted ahead (serial: 1, so every task is written as soon as it is computed)
    in_flight: int

    def submit(self, job: Any, arch: Any, seed: int, only: Any) -> Any: ...

    def wait(self, handles: list) -> tuple[list, list]:
        """``(finished, pending)`` once at least one handle finished."""

    def result(self, handle: Any) -> list[dict]: ...

    def stop(self, pending: list) -> None:
        """Drop what has not started; what runs finishes and is still collected."""

    def close(self) -> None: ...


class _Serial:
    workers = 1
    in_flight = 1

    def submit(self, job, arch, seed, only):
        return score_task(job, arch, seed, only)

    def wait(self, handles):
        return list(handles), []

    def result(self, handle):
        return handle

    def stop(self, pending):
        pass

    def close(self):
        pass


class _Futures:
    def __init__(self, executor: Executor, owned: bool):
        self.executor, self.owned = executor, owned
        self.workers = int(getattr(executor, "_max_workers", None) or os.cpu_count() or 1)
        self.in_flight = max(2, 2 * self.workers)

    def submit(self, job, arch, seed, only) -> Future:
        return self.executor.submit(score_task, job, arch, seed, only)

    def wait(self, handles):
        done, pending = wait(handles, return_when=FIRST_COMPLETED)
        return [f for f in done if not f.cancelled()], list(pending)

    def result(self, handle):
        return handle.result()

    def stop(self, pending):
        for f in pending:
            f.cancel()

    def close(self):
        if self.owned:
            self.executor.shutdown(wait=True, cancel_futures=True)


class _Ray:
    def __init__(self, ray):
        import torch

        self.ray = ray
        self.gpus = 1 if (torch.cuda.is_available() or ray.cluster_resources().get("GPU", 0) >= 1) else 0
        self.remote = ray.remote(num_gpus=self.gpus, max_retries=1)(score_task)
        self.workers = int(ray.cluster_resources().get("CPU", 1))
        self.in_flight = max(2, 2 * self.workers)
        self._job_refs: dict[int, Any] = {}

    def submit(self, job, arch, seed, only):
        if id(job) not in self._job_refs:
            self._job_refs[id(job)] = self.ray.put(job)
        return self.remote.remote(self._job_refs[id(job)], arch, seed, only, bool(self.gpus))

    def wait(self, handles):
        ready, pending = self.ray.wait(handles, num_returns=1, timeout=1.0)
        return list(ready), list(pending)

    def result(self, handle):
        return self.ray.get(handle)

    def stop(self, pending):
        pass  # tasks in flight finish and are written; nothing more is submitted

    def close(self):
        pass


def process_pool(workers: int, threads: int | None = None) -> Executor:
    """A pool of ``workers`` spawned processes for ``executor=``; each task sets torch's thread count to the run's
    (the driver's unless ``threads=`` is given to :func:`~zeroscore.score_many`). Reuse one pool across many calls
    (spawning workers costs seconds); shut it down when done."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_set_threads,
                               initargs=(threads,))


def _set_threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


def make_backend(executor: Any, threads: int | None = None) -> Backend:
    if executor is None or executor in ("serial", "none", "local-serial"):
        return _Serial()
    if isinstance(executor, Executor):
        return _Futures(executor, owned=False)
    if isinstance(executor, str) and executor.split(":")[0] == "process":
        try:
            n = int(executor.split(":")[1]) if ":" in executor else (os.cpu_count() or 1)
        except ValueError:
            raise UsageError(f"executor {executor!r}: the number after 'process:' must be an integer") from None
        return _Futures(process_pool(n, threads), owned=True)
    if isinstance(executor, str) and (executor in ("ray", "auto") or executor.startswith("ray://")):
        import ray

        if not ray.is_initialized():
            address = None if executor == "ray" else executor
            ray.init(address=address, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
        return _Ray(ray)
    if getattr(executor, "__name__", None) == "ray" or type(executor).__module__.startswith("ray"):
        return _Ray(__import__("ray"))
    raise UsageError(f"executor must be None, 'process[:N]', 'ray', 'auto', 'ray://host:port' or a "
                     f"concurrent.futures.Executor; got {executor!r}")


def describe_executor(executor: Any) -> str:
    if executor is None:
        return "serial"
    return executor if isinstance(executor, str) else type(executor).__name__


def drive(backend: Backend, job: Any, tasks: list, write: Callable[[list[dict]], None], stop: Any,
          max_in_flight: int | None = None, on_done: Callable[[], None] | None = None) -> None:
    """The run loop: keep up to ``max_in_flight`` tasks submitted (default: the backend's ``in_flight``), write
    each finished task's rows, and after a stop request submit nothing more while what runs finishes and is
    written."""
    limit = max_in_flight or backend.in_flight
    queue = list(reversed(tasks))
    pending: list = []
    try:
        while queue or pending:
            while queue and len(pending) < limit and not stop.requested:
                arch, seed, only = queue.pop()
                pending.append(backend.submit(job, arch, seed, only))
            if not pending:
                break
            finished, pending = backend.wait(pending)
            for handle in finished:
                write(backend.result(handle))
                if on_done is not None:
                    on_done()
            if stop.requested:
                queue.clear()
                backend.stop(pending)
    finally:
        backend.stop(pending)
