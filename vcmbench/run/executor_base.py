"""What every executor shares: the ``Executor`` interface, the per-job timeout guard, error texts.

(Apart from ``run.executor`` so that the Dask executor, which ``run.executor.make_executor`` builds, can use
them without an import circle.)  See ``run.executor`` for the contract and the fault rules.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import traceback
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable, Iterator

from ..core.errors import VcmbenchError

Outcome = tuple[Any, Any, "str | None"]
HARD_GRACE = 30.0  # seconds a timed-out job may take to unwind before its worker process is ended
DEFAULT_MAX_TRIES = 3
EXECUTORS = ("local", "dask")


class JobTimeout(VcmbenchError):
    """A job ran longer than its per-job timeout."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, VcmbenchError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-6:])


def guarded_call(fn: Callable[[Any], Any], item: Any, timeout: float | None, hard_exit: bool = True) -> Any:
    """``fn(item)`` interrupted with ``JobTimeout`` after ``timeout`` seconds.

    In a main thread the interruption is ``SIGALRM`` (it also breaks blocking sleeps and waits);
    in another thread (a Dask worker's executor thread) it is an asynchronous exception raised in
    that thread.  With ``hard_exit`` (worker processes only) a job that does not unwind within
    ``HARD_GRACE`` seconds ends the worker process (exit status 70): the executor replaces it."""
    if timeout is None:
        return fn(item)
    timeout = float(timeout)
    done = threading.Event()
    job_thread = threading.get_ident()
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    msg = f"the job ran longer than its timeout of {timeout:g} s and was stopped (raise --timeout if it is legitimately slow)"

    def watchdog() -> None:
        if done.wait(timeout):
            return
        if not use_alarm:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(job_thread), ctypes.py_object(JobTimeout))
        if hard_exit and not done.wait(HARD_GRACE):
            os._exit(70)

    old = None
    if use_alarm:
        def on_alarm(signum: int, frame: Any) -> None:
            raise JobTimeout(msg)

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    threading.Thread(target=watchdog, name="vcmbench-job-watchdog", daemon=True).start()
    try:
        return fn(item)
    except JobTimeout as exc:
        if str(exc) == msg:
            raise
        raise JobTimeout(msg) from None
    finally:
        done.set()
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


class Executor(ABC):
    workers: int = 1
    timeout: float | None = None
    retries: int = 0  # jobs started again after their worker died

    @abstractmethod
    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        """Yield ``(item, result, None)`` or ``(item, None, error text)`` as jobs finish."""

    def describe(self) -> dict[str, Any]:
        """Provenance: executor name, worker count (and, on a job queue, the job ids)."""
        return {"executor": "local", "workers": self.workers, "timeout": self.timeout}

    def check_shared_dir(self, path: str | os.PathLike) -> None:
        """Check that the workers see ``path`` (a run directory); local executors share this machine's."""

    @property
    def dashboard(self) -> str | None:
        return None

    def close(self) -> None:
        """Release workers (idempotent)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def default_jobs() -> int:
    """Number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
