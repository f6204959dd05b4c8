"""Executors: run independent jobs and hand back their results as they finish.

The pipeline (and every long command) talks only to the small ``Executor`` interface:
``run(fn, items)`` yields ``(item, result, error)`` in completion order; ``fn`` is a picklable
top-level function, ``item`` a picklable spec carrying everything the job needs, and ``error`` is
the exception text when ``fn`` raised (the job is reported, the run goes on).

* ``SerialExecutor``  runs in the calling process (``--jobs 1``; tests, debugging).
* ``LocalPoolExecutor`` N ``spawn``ed worker processes (``--jobs N``, default = cores), one job each
  at a time, taking jobs from the (streamed) job list as they free up: a huge list costs no memory.
* ``run.dask_executor.DaskExecutor`` (``--executor dask``): a Dask LocalCluster, an existing
  scheduler, or a dask-jobqueue cluster (SLURM, PBS, SGE, LSF).

Faults, the same on every executor:

* **per-job timeout** (``timeout`` seconds, ``None`` = no limit): a job still running after it is
  interrupted inside its worker (``JobTimeout``, reported with the job's error; the worker stays
  usable).  A job stuck in native code that ignores the interruption for ``HARD_GRACE`` more
  seconds makes its worker process exit: the worker is replaced and the job counts a failed try.
* **a worker process dies** (killed, out of memory): the jobs it was running are tried again on
  another worker, at most ``max_tries`` times in all; a job that kills its worker every time is
  reported with that error.  Re-runs are counted in ``Executor.retries``.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..core.errors import UsageError
from .executor_base import (  # noqa: F401 - the executor API in one place
    DEFAULT_MAX_TRIES,
    EXECUTORS,
    HARD_GRACE,
    Executor,
    JobTimeout,
    Outcome,
    _describe,
    default_jobs,
    guarded_call,
)


class SerialExecutor(Executor):
    workers = 1

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout

    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        for item in items:
            try:
                res = guarded_call(fn, item, self.timeout, hard_exit=False)
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
    import time

    def watch() -> None:
        from ..core.process import kill_live_groups

        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                kill_live_groups()  # the job's encoder/decoder groups go with it
                os._exit(3)

    threading.Thread(target=watch, name="vcmbench-parent-watch", daemon=True).start()


def _preload(modules: Sequence[str]) -> None:
    """Import ``modules`` now (what does not import is skipped): a worker started beside the parent's
    planning is ready when its first job comes (importing torch alone takes about 1.3 s here)."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that cannot load fails the jobs that need it, with its error
            pass


def _pool_worker(conn: Any, preload: Sequence[str] = ()) -> None:
    """A pool worker: receive ``(fn, item)``, send back ``(True, result)`` or ``(False, error text)``; it also
    tells the parent each tool process group it starts and ends (``("group", pid, start)``, ``("ungroup", ...)``),
    so that the parent kills them when this worker dies or is ended."""
    from ..core.process import set_group_listener

    _worker_init()
    set_group_listener(lambda event, pid, start: conn.send((event, pid, start)))
    _preload(preload)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        fn, item, timeout = msg
        conn.send(("started",))  # the timeout counts from here, not from the worker's start-up
        try:
            out = (True, guarded_call(fn, item, timeout, hard_exit=False))
        except BaseException as exc:  # noqa: BLE001 - reported per job
            out = (False, _describe(exc))
        try:
            conn.send(out)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send((False, f"the job's result could not be sent back: {_describe(exc)}"))


class _Slot:
    """One worker process of the pool, and the job it is running."""

    def __init__(self, ctx: Any, preload: Sequence[str] = ()) -> None:
        parent, child = ctx.Pipe()
        self.conn = parent
        self.proc = ctx.Process(target=_pool_worker, args=(child, tuple(preload)), daemon=True, name="vcmbench-worker")
        self.proc.start()
        child.close()
        self.job: tuple[Any, int] | None = None  # (item, tries before this one)
        self.groups: dict[int, str | None] = {}  # the worker's running tool process groups -> leader start time
        self.started: float | None = None  # when the worker began the job

    def note(self, msg: Any) -> bool:
        """Keep track of a ``("group"|"ungroup", pid, start)`` message; whether it was one."""
        if isinstance(msg, tuple) and len(msg) == 3 and msg[0] in ("group", "ungroup"):
            if msg[0] == "group":
                self.groups[int(msg[1])] = msg[2]
            else:
                self.groups.pop(int(msg[1]), None)
            return True
        return False

    def kill_groups(self) -> None:
        """The dead or ended worker's tools go with it."""
        from ..core.process import kill_group_if_same

        try:
            while self.conn.poll():
                self.note(self.conn.recv())
        except (EOFError, OSError, ValueError):
            pass
        for pid, start in self.groups.items():
            kill_group_if_same(pid, start)
        self.groups.clear()

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                kill = True
            else:
                self.proc.join(5.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5.0)
        self.kill_groups()
        self.conn.close()


class LocalPoolExecutor(Executor):
    """N ``spawn``ed worker processes, one job each at a time.  The parent knows which worker runs which
    job, so a worker that dies costs only its own job a try.  A job past its timeout is interrupted inside its
    worker (``guarded_call``: the job's tool processes are killed, the worker stays); one that does not stop
    within ``hard_grace`` more seconds (stuck in native code) is ended with its worker, which is replaced."""

    def __init__(self, workers: int, timeout: float | None = None, max_tries: int = DEFAULT_MAX_TRIES,
                 hard_grace: float = HARD_GRACE, preload: Sequence[str] = ()) -> None:
        import multiprocessing

        if workers < 1:
            raise UsageError(f"--jobs must be at least 1, got {workers}.")
        self.workers = workers
        self.timeout = timeout
        self.max_tries = max_tries
        self.hard_grace = hard_grace
        self.retries = 0
        self._ctx = multiprocessing.get_context("spawn")
        self._preload = tuple(preload)
        self._slots = [_Slot(self._ctx, self._preload) for _ in range(workers)]

    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        import time
        from multiprocessing.connection import wait

        it = iter(items)
        retry: list[tuple[Any, int]] = []
        exhausted = False
        try:
            while True:
                for i, slot in enumerate(self._slots):  # keep every worker busy
                    if slot.job is not None:
                        continue
                    if retry:
                        item, tries = retry.pop(0)
                    elif not exhausted:
                        try:
                            item, tries = next(it), 0
                        except StopIteration:
                            exhausted = True
                            break
                    else:
                        break
                    try:
                        slot.conn.send((fn, item, self.timeout))
                    except (OSError, ValueError):  # the worker is gone: replace it, try again next round
                        slot.stop(kill=True)
                        self._slots[i] = _Slot(self._ctx, self._preload)
                        retry.insert(0, (item, tries))
                        continue
                    slot.job, slot.started = (item, tries), None
                busy = [s for s in self._slots if s.job is not None]
                if not busy:
                    return
                wait_s = None
                running = [s.started for s in busy if s.started is not None]
                if self.timeout is not None and running:
                    wait_s = max(0.0, min(running) + self.timeout + self.hard_grace - time.monotonic()) + 0.01
                wait([x for s in busy for x in (s.conn, s.proc.sentinel)], timeout=wait_s)
                for i, slot in enumerate(self._slots):
                    if slot.job is None:
                        continue
                    item, tries = slot.job
                    got = None
                    try:
                        while slot.conn.poll():
                            got = slot.conn.recv()
                            if got == ("started",):
                                slot.started, got = time.monotonic(), None
                                continue
                            if slot.note(got):
                                got = None
                                continue
                            break
                    except (EOFError, OSError):
                        got = None
                    if got is not None:
                        slot.job = None
                        ok, val = got
                        yield (item, val, None) if ok else (item, None, val)
                        continue
                    if not slot.proc.is_alive():  # killed, out of memory, ...
                        slot.stop(kill=True)
                        self._slots[i] = _Slot(self._ctx, self._preload)
                        if tries + 1 >= self.max_tries:
                            yield item, None, (f"WorkerDied: the worker process running this job died {tries + 1} "
                                               f"time(s) (exit status {slot.proc.exitcode}); not tried again")
                        else:
                            retry.append((item, tries + 1))
                            self.retries += 1
                        continue
                    if (self.timeout is not None and slot.started is not None
                            and time.monotonic() - slot.started > self.timeout + self.hard_grace):
                        slot.stop(kill=True)
                        self._slots[i] = _Slot(self._ctx, self._preload)
                        yield item, None, (f"JobTimeout: the job ran longer than its timeout of {self.timeout:g} s and did "
                                           f"not stop within {self.hard_grace:g} s more: its worker was ended "
                                           "(raise --timeout if it is legitimately slow)")
        finally:
            for i, slot in enumerate(self._slots):  # a job abandoned mid-way: end its worker
                if slot.job is not None:
                    slot.stop(kill=True)
                    self._slots[i] = _Slot(self._ctx, self._preload)

    def close(self) -> None:
        for slot in self._slots:
            slot.stop()
        self._slots = []


# What workers that run task networks import as they start, while the parent plans the run.
TASK_PRELOAD = ("vcmbench.run.execute", "torch")


def make_executor(jobs: int | None = None, executor: str = "local", *, timeout: float | None = None,
                  scheduler: str | None = None, cluster: str | None = None,
                  cluster_options: dict[str, str] | None = None, preload: Sequence[str] = (),
                  worker_wait: float | None = None) -> Executor:
    """The executor ``--executor`` names.  ``local``: ``SerialExecutor`` for 1 job, else a
    ``LocalPoolExecutor`` (``None``: one per core).  ``dask``: ``run.dask_executor.DaskExecutor``
    (a LocalCluster of ``jobs`` workers, ``scheduler`` an existing one, or a ``cluster`` job queue; a run stops,
    resumable, when no worker has been connected for ``worker_wait`` seconds, default 600).
    ``preload``: modules the local pool's workers import as they start, beside the parent's planning
    (``TASK_PRELOAD`` for runs of task networks; a Dask LocalCluster would wait for them before planning)."""
    if timeout is not None and not (0 < float(timeout) < float("inf")):
        raise UsageError(f"--timeout must be a finite number of seconds > 0, got {timeout}.")
    if executor not in EXECUTORS:
        raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}; got {executor!r}.")
    if jobs is not None and int(jobs) < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}.")
    if executor == "dask":
        from .dask_executor import DaskExecutor

        return DaskExecutor(jobs, scheduler=scheduler, cluster=cluster, cluster_options=cluster_options,
                            timeout=timeout, worker_wait=worker_wait)
    if scheduler or cluster or cluster_options or worker_wait is not None:
        raise UsageError("--scheduler, --cluster, --cluster-opt and --worker-wait need --executor dask.")
    n = default_jobs() if jobs is None else int(jobs)
    return SerialExecutor(timeout) if n == 1 else LocalPoolExecutor(n, timeout, preload=preload)
