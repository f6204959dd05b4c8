"""Executors: run independent jobs and hand back their results as they finish.

The pipeline talks only to the small ``Executor`` interface, so a distributed engine (SLURM,
Ray, ...) can replace the local pool: ``run(fn, items)`` yields ``(item, result, error)`` in
completion order; ``fn`` is a picklable top-level function, ``item`` a picklable spec, and
``error`` is the exception text when ``fn`` raised (the job is reported, the run goes on).

* ``SerialExecutor``  runs in the calling process (``--jobs 1``; tests, debugging).
* ``LocalPoolExecutor`` a ``spawn`` process pool of N workers (``--jobs N``, default = cores),
  keeping at most ``2 N`` jobs in flight so that a huge job list costs no memory.
"""

from __future__ import annotations

import os
import traceback
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable, Iterator

from ..core.errors import UsageError, VcmbenchError

Outcome = tuple[Any, Any, "str | None"]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, VcmbenchError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-6:])


class Executor(ABC):
    workers: int = 1

    @abstractmethod
    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        """Yield ``(item, result, None)`` or ``(item, None, error text)`` as jobs finish."""

    def close(self) -> None:
        """Release workers (idempotent)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SerialExecutor(Executor):
    workers = 1

    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        for item in items:
            try:
                res = fn(item)
            except Exception as exc:  # noqa: BLE001 - reported per job
                yield item, None, _describe(exc)
            else:
                yield item, res, None


def _worker_init() -> None:
    # One job per core: keep the libraries inside a worker single-threaded.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    _watch_parent(os.getppid())


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """Leave when the parent dies (e.g. ``kill -9`` of the run): an orphaned worker would otherwise wait
    on its job queue forever.  A job in flight is abandoned; its outputs were never recorded."""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="vcmbench-parent-watch", daemon=True).start()


class LocalPoolExecutor(Executor):
    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise UsageError(f"--jobs must be at least 1, got {workers}.")
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_worker_init)

    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        it = iter(items)
        pending: dict[Any, Any] = {}
        limit = 2 * self.workers
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < limit:
                    try:
                        item = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    try:
                        pending[self._pool.submit(fn, item)] = item
                    except BrokenProcessPool as exc:
                        raise VcmbenchError(f"A worker process died ({exc}); the finished jobs are stored — "
                                            "re-run the same command to resume.") from None
                if not pending:
                    return
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    item = pending.pop(fut)
                    exc = fut.exception()
                    if exc is not None:
                        yield item, None, _describe(exc)
                    else:
                        yield item, fut.result(), None
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def default_jobs() -> int:
    """Number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def make_executor(jobs: int | None = None) -> Executor:
    """``SerialExecutor`` for 1 job, else a ``LocalPoolExecutor`` (``None``: one per core)."""
    n = default_jobs() if jobs is None else int(jobs)
    if n < 1:
        raise UsageError(f"--jobs must be at least 1, got {n}.")
    return SerialExecutor() if n == 1 else LocalPoolExecutor(n)
