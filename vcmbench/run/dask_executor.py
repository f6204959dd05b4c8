"""The Dask executor (``--executor dask``): jobs on a ``dask.distributed`` cluster.

Three ways to get workers (README "Running on a cluster"):

* a ``LocalCluster`` of ``--jobs`` worker processes, one thread each (the default);
* ``--scheduler tcp://HOST:PORT``: join a running scheduler (``dask scheduler`` / ``dask worker``
  started by hand, over SSH, or by any other tool);
* ``--cluster slurm|pbs|sge|lsf --cluster-opt key=value ...``: start one with dask-jobqueue; every
  batch job runs ``cores`` single-threaded workers (options: queue, account, walltime, cores,
  memory, processes, job-extra (repeatable: one scheduler directive each), interface,
  local-directory, python).  ``jobqueue_cluster(...).job_script()`` shows the job script without
  submitting anything.

Contract (the same as the local pool, see ``run.executor``): the client (the ``vcmbench`` process)
is the only writer of the run store; workers write bitstreams, logs and decoded pictures into the
run directory, atomically (temporary name, then rename), so the run directory must be on a
filesystem every worker mounts at the same path — ``check_shared_dir`` proves it with a probe file
before the first job and every job checks the probe again (a worker that joins later).  A job
carries everything it needs (a ``JobSpec`` of a few hundred bytes: paths, options, signatures);
there are no large inputs to scatter.  A worker that dies mid-job: the scheduler gives the job to
another worker, at most ``max_tries`` tries in all (``distributed.scheduler.allowed-failures``),
then the job is reported with its error.  The per-job timeout is enforced inside the worker
(``run.executor.guarded_call``).

Cluster faults never hang a run (``worker_wait``, ``--worker-wait``, default :data:`WORKER_WAIT` seconds): when
no worker is connected (none started yet: a job queue that never runs the batch jobs, a scheduler nobody
joined; or all of them gone) for that long while jobs wait, the run stops with a :class:`ClusterError` that
says what was seen (for SLURM the batch jobs' state from ``squeue``).  A scheduler that goes away mid-run
(stopped, restarted): Dask cancels every job in flight; they are submitted again once the client has
reconnected and a worker is there (within ``worker_wait``), at most ``max_tries`` times each; otherwise the run
stops with a message naming how to resume.  The store is only written by the client, so nothing in it is lost
or half-written either way: the same command resumes.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..core.errors import ClusterError, UsageError, VcmbenchError
from .executor_base import DEFAULT_MAX_TRIES, Executor, Outcome, _describe, default_jobs, guarded_call

CLUSTERS = ("slurm", "pbs", "sge", "lsf")
_INT_OPTS = ("cores", "processes")
_LIST_OPTS = ("job_extra", "job_extra_directives", "worker_extra_args", "job_script_prologue")
PROBE_NAME = ".vcmbench-probe"
# The LocalCluster's workers, tuned for one long job per single-threaded worker (measured here on 2 cores):
# * no MALLOC_TRIM_THRESHOLD_: Dask's nanny sets 65536, which fixes glibc's mmap threshold, so every large
#   array is a fresh mmap; the SSD network ran 1.7x slower per picture;
# * no statistical profiler (a thread sampling the job's stack every 10 ms);
# * event-loop tick, memory and system monitors at 1 s instead of 20, 100 and 500 ms: an idle LocalCluster of
#   2 workers used 0.40 CPU-seconds per second with Dask's defaults, 0.22 with these.
# README "Running on a cluster" gives the same settings for workers started elsewhere.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                 "distributed.worker.profile.enabled": False,
                 "distributed.admin.tick.interval": "1s",
                 "distributed.worker.memory.monitor-interval": "1s",
                 "distributed.admin.system-monitor.interval": "1s"}


CONNECT_TIMEOUT = 20.0  # seconds to reach a scheduler and hear its handshake (--scheduler)
# seconds a run waits with no worker connected (--worker-wait): long enough for batch jobs that wait briefly in a
# queue or for workers on a slow shared filesystem to import the toolkit; a queue that makes jobs wait longer
# needs a larger --worker-wait (or a reservation)
WORKER_WAIT = 600.0
POLL_S = 1.0  # how often a run with jobs in flight checks that the cluster still has a worker
SUBMIT_COMMANDS = {"slurm": "sbatch", "pbs": "qsub", "sge": "qsub", "lsf": "bsub"}
_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
_MAX_HANDSHAKE = 1 << 20  # a scheduler's first message (its handshake) is a few hundred bytes


def check_submit_command(kind: str) -> None:
    """``--cluster KIND`` needs its batch system's submit command on PATH: refused at once (exit 2) otherwise,
    instead of waiting for workers that can never be submitted."""
    import shutil

    cmd = SUBMIT_COMMANDS.get(kind)
    if cmd and shutil.which(cmd) is None:
        raise UsageError(f"--cluster {kind} submits its workers with `{cmd}`, which is not on PATH: run vcmbench on a "
                         f"login node of the {kind.upper()} cluster (where `{cmd}` works), or use --executor local, or "
                         "--scheduler tcp://HOST:PORT to join workers started by hand.")


def check_scheduler(address: str, timeout: float | None = None) -> None:
    """Refuse, within ``timeout`` seconds, an address that is not a Dask scheduler: an unknown scheme
    (``junk://``), a port nobody listens on, a server that says nothing (Dask's says its handshake at once)
    or one that speaks another protocol.  :class:`UsageError` naming the address and the fix."""
    import socket
    import struct

    timeout = CONNECT_TIMEOUT if timeout is None else float(timeout)
    addr = str(address).strip()
    scheme, sep, loc = addr.partition("://")
    if not sep:
        scheme, loc = "tcp", addr
    fix = "Start it (`dask scheduler`) or check the address (tcp://HOST:PORT, the one the scheduler prints)."
    if scheme not in _SCHEMES:
        raise UsageError(f"--scheduler {address!r}: unknown address scheme {scheme!r} (Dask knows "
                         f"{', '.join(_SCHEMES)}). {fix}")
    if scheme != "tcp":
        return  # TLS/UCX/WebSocket handshakes are Dask's own, under its connect timeout
    host, _, port_text = loc.rpartition(":")
    host = host.strip("[]")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"--scheduler {address!r} is not tcp://HOST:PORT. {fix}")
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout) as sock:
            sock.settimeout(timeout)
            head = _recv_exactly(sock, 8)
            (size,) = struct.unpack("<Q", head)
            if not 0 < size <= _MAX_HANDSHAKE:
                raise UsageError(f"The server at {address} does not speak the Dask protocol (its first bytes are "
                                 f"{head!r}): is another program on that port? {fix}")
            _recv_exactly(sock, size)
    except socket.timeout:
        raise UsageError(f"The server at {address} accepted the connection but sent no Dask handshake within "
                         f"{timeout:g} s: it is not a Dask scheduler, or it is stuck. {fix}") from None
    except OSError as exc:
        raise UsageError(f"Cannot reach the Dask scheduler {address}: {exc.strerror or exc}. {fix}") from None


def _recv_exactly(sock, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 65536))
        if not chunk:
            raise ConnectionResetError(0, "the server closed the connection without a Dask handshake")
        buf += chunk
    return buf


def _need_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError("--executor dask needs Dask: pip install 'vcmbench[dask]' "
                         "(dask, distributed and dask-jobqueue).") from None


def parse_cluster_options(pairs: Iterable[str]) -> dict[str, Any]:
    """``key=value`` strings -> keyword arguments (dashes become underscores; job-extra repeatable)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = str(pair).partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise UsageError(f"--cluster-opt takes key=value (e.g. queue=gpu, walltime=02:00:00); got {pair!r}.")
        if key == "job_extra":
            key = "job_extra_directives"
        if key in _LIST_OPTS:
            out.setdefault(key, []).append(value)
        elif key in _INT_OPTS:
            try:
                out[key] = int(value)
            except ValueError:
                raise UsageError(f"--cluster-opt {key}= takes an integer; got {value!r}.") from None
        else:
            out[key] = value
    return out


def jobqueue_cluster(kind: str, options: dict[str, Any] | None = None) -> Any:
    """A dask-jobqueue cluster object (nothing submitted until it is scaled)."""
    _need_dask()
    try:
        import dask_jobqueue
    except ImportError:
        raise UsageError("--cluster needs dask-jobqueue: pip install 'vcmbench[dask]'.") from None
    classes = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster", "lsf": "LSFCluster"}
    if kind not in classes:
        raise UsageError(f"--cluster must be one of {', '.join(CLUSTERS)}; got {kind!r}.")
    opts = dict(options or {})
    opts.setdefault("cores", 1)
    opts.setdefault("memory", "4GB")
    opts.setdefault("processes", opts["cores"])  # single-threaded workers: results do not depend on threads
    try:
        return getattr(dask_jobqueue, classes[kind])(**opts)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--cluster {kind}: {exc}. Check the --cluster-opt keys (queue, account, walltime, cores, "
                         "memory, processes, job-extra, interface, local-directory, python).") from None


def _dask_job(fn: Callable[[Any], Any], item: Any, timeout: float | None, probe: str | None) -> Any:
    """Runs on a worker: check the shared run directory, then the job under its timeout."""
    if probe is not None and not os.path.exists(probe):
        import socket

        raise UsageError(f"worker on {socket.gethostname()} cannot see the run directory ({probe} is missing): "
                         "put --out on a filesystem every worker mounts at the same path.")
    return guarded_call(fn, item, timeout, hard_exit=True)


def _read_probe(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return f"missing: {exc}"


def _suspicious(key: str, dask_scheduler: Any = None) -> int:
    ts = dask_scheduler.tasks.get(key)
    return int(getattr(ts, "suspicious", 0) or 0) if ts is not None else 0


class DaskExecutor(Executor):
    def __init__(self, workers: int | None = None, *, scheduler: str | None = None, cluster: str | None = None,
                 cluster_options: dict[str, Any] | None = None, timeout: float | None = None,
                 max_tries: int = DEFAULT_MAX_TRIES, connect_timeout: float | None = None,
                 worker_wait: float | None = None) -> None:
        if cluster:
            check_submit_command(cluster)  # at once: before importing Dask or starting anything
        _need_dask()
        import logging

        import dask
        from distributed import Client, LocalCluster

        if scheduler and cluster:
            raise UsageError("Give either --scheduler (join a running cluster) or --cluster (start one), not both.")
        if cluster_options and not cluster:
            raise UsageError("--cluster-opt needs --cluster slurm|pbs|sge|lsf.")
        wait_s = WORKER_WAIT if worker_wait is None else float(worker_wait)
        if not 0 < wait_s < float("inf"):
            raise UsageError(f"--worker-wait must be a finite number of seconds > 0, got {worker_wait}.")
        self.worker_wait = wait_s
        self._no_worker_since: float | None = None
        self._scheduler_lost = 0  # times the client lost the scheduler under this run
        self.timeout = timeout
        self.max_tries = max_tries
        self.retries = 0
        self._probe: str | None = None
        self._cluster = None
        self._kind = "local-cluster"
        self._address = scheduler or ""
        self._requested = int(workers) if workers else default_jobs()
        config = {"distributed.scheduler.allowed-failures": max(0, max_tries - 1)}
        if not (scheduler or cluster):
            config.update(WORKER_CONFIG)
        with dask.config.set(config):
            if scheduler:
                self._kind = "scheduler"
                self._address = scheduler
                wait = CONNECT_TIMEOUT if connect_timeout is None else float(connect_timeout)
                check_scheduler(scheduler, wait)
                try:
                    self.client = Client(scheduler, timeout=wait)
                except (OSError, ValueError) as exc:
                    raise UsageError(f"Cannot reach the Dask scheduler {scheduler}: {exc}. Start it (`dask scheduler`) "
                                     "or check the address (tcp://HOST:PORT).") from None
            elif cluster:
                self._kind = cluster
                self._cluster = jobqueue_cluster(cluster, cluster_options)
                self._cluster.scale(n=self._requested)
                self.client = Client(self._cluster)
            else:
                # CRITICAL: a worker's heartbeat racing the cluster's shutdown logs an ERROR traceback; failed
                # jobs and dead workers are reported by run() itself
                self._cluster = LocalCluster(n_workers=self._requested, threads_per_worker=1, processes=True,
                                             dashboard_address=":0", silence_logs=logging.CRITICAL)
                self.client = Client(self._cluster)

    @property
    def workers(self) -> int:  # type: ignore[override]
        try:
            n = len(self.client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - a scheduler going away is reported by the jobs
            n = 0
        return n or self._requested

    @property
    def dashboard(self) -> str | None:
        import importlib.util

        if importlib.util.find_spec("bokeh") is None:  # the dashboard is only served with bokeh installed
            return None
        return self.client.dashboard_link

    def job_ids(self) -> list[str]:
        jobs = getattr(self._cluster, "workers", None) if self._kind in ("slurm", "pbs", "sge", "lsf") else None
        return sorted(str(j.job_id) for j in (jobs or {}).values() if getattr(j, "job_id", None))

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"executor": "dask", "workers": self.workers, "cluster": self._kind,
                                "scheduler": self.client.scheduler.address, "timeout": self.timeout,
                                "max_tries": self.max_tries, "worker_wait": self.worker_wait}
        if self.dashboard:
            info["dashboard"] = self.dashboard
        if self._kind in CLUSTERS:
            info["job_ids"] = self.job_ids()
        return info

    def check_shared_dir(self, path: str | os.PathLike) -> None:
        from ..core.jsonio import atomic_write_text

        probe = Path(path).resolve() / "tmp" / PROBE_NAME
        probe.parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        atomic_write_text(probe, token)
        self.wait_for_workers()
        seen = self.client.run(_read_probe, str(probe))  # the workers present now; later ones check per job
        blind = sorted(w for w, got in seen.items() if got != token)
        if blind:
            raise UsageError(f"Dask worker(s) {', '.join(blind[:3])} cannot see the run directory {Path(path).resolve()} "
                             f"(probe file {probe}): put --out on a filesystem every worker mounts at the same path "
                             "(shared home or scratch), or use --executor local.")
        self._probe = str(probe)

    # -- cluster faults ------------------------------------------------------------------------------------------
    def _connected_workers(self) -> int | None:
        """Workers the scheduler knows now; ``None`` while the client is not connected to it."""
        if self.client is None or self.client.status != "running":
            return None
        try:
            info = self.client.scheduler_info(n_workers=0)  # the count only (not every worker's details)
            return int(info.get("n_workers", len(info.get("workers", {}))))
        except Exception:  # noqa: BLE001 - a scheduler going away: the caller waits, bounded
            return None

    def _stalled(self, now: float) -> None:
        """Called while no job finishes: a :class:`ClusterError` once no worker (or no scheduler) has been there
        for ``worker_wait`` seconds."""
        n = self._connected_workers()
        if self.client is not None and self.client.status in ("closing", "closed"):
            raise ClusterError(self._lost_message())
        if n:
            self._no_worker_since = None
            return
        if self._no_worker_since is None:
            self._no_worker_since = now
        elif now - self._no_worker_since >= self.worker_wait:
            raise ClusterError(self._lost_message() if n is None else self._no_worker_message())

    def wait_for_workers(self) -> int:
        """Wait until at least one worker is connected, at most ``worker_wait`` seconds: the number of workers, or
        a :class:`ClusterError` that says what was seen (a job queue's batch jobs and their state)."""
        import time

        while True:
            n = self._connected_workers()
            if n:
                self._no_worker_since = None
                return n
            now = time.monotonic()
            self._stalled(now)
            time.sleep(POLL_S / 4)

    def _where(self) -> str:
        if self._kind in CLUSTERS:
            return f"the {self._kind.upper()} cluster"
        if self._kind == "scheduler":
            return f"the Dask scheduler {self._address}"
        return "the local Dask cluster"

    def _no_worker_message(self) -> str:
        fix = f"--worker-wait {self.worker_wait:g} seconds"
        if self._kind in CLUSTERS:
            ids = self.job_ids()
            seen = (f"batch job(s) {', '.join(ids)}: {self._queue_state(ids)}" if ids else
                    f"no batch job was accepted by `{SUBMIT_COMMANDS[self._kind]}` (its error is in the log above)")
            return (f"No Dask worker joined the run within {fix} ({seen}). Check the queue and the job options "
                    "(--cluster-opt queue, walltime, memory: a job the queue cannot run waits for ever), the batch "
                    "jobs' output (--cluster-opt log-directory=DIR), or give a larger --worker-wait when the queue "
                    "is busy. Jobs finished so far are stored: the same command resumes.")
        if self._kind == "scheduler":
            lost = ("The scheduler went away mid-run and came back, but Dask workers do not reconnect: they left "
                    "with it. " if self._scheduler_lost else "")
            return (f"{lost}No Dask worker is connected to the scheduler {self._address} (waited {fix}). Start workers "
                    f"(`dask worker {self._address} --nworkers N --nthreads 1`) and run the same command again; "
                    "jobs finished so far are stored, so it resumes.")
        return (f"The local Dask cluster has had no worker for {fix}: its worker processes died (out of memory?) "
                "or could not start. Jobs finished so far are stored: the same command resumes (or use "
                "--executor local).")

    def _lost_message(self) -> str:
        name = (f"the Dask scheduler {self._address}" if self._kind == "scheduler" else
                f"the scheduler of {self._where()}")
        return (f"Lost {name} mid-run (it stopped or restarted) and it did not come back "
                f"with a worker within --worker-wait {self.worker_wait:g} seconds. Jobs finished so far are stored: "
                "start the scheduler and its workers again and run the same command to resume.")

    def _queue_state(self, ids: list[str]) -> str:
        """What the batch system says of the jobs (SLURM: ``squeue``); best effort, never raises."""
        if self._kind != "slurm":
            return "see the batch system's queue"
        from ..core.process import run_process

        try:
            res = run_process(["squeue", "-h", "-j", ",".join(ids), "-o", "%i %T %r"], timeout=15)
        except VcmbenchError:
            return "squeue is not available"
        text = res.stdout.decode(errors="replace").strip().replace("\n", "; ") if res.returncode == 0 else ""
        return f"squeue says {text}" if text else "no longer in the queue (ended: see their output)"

    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        import time

        from distributed import wait
        from distributed.client import FuturesCancelledError

        it = iter(items)
        again: list[tuple[Any, int]] = []  # jobs a lost scheduler cancelled: submitted again before new ones
        live: dict[str, tuple[Any, Any, int]] = {}  # key -> (item, future, times its scheduler was lost)

        def submit_next() -> bool:
            if again:
                item, lost = again.pop(0)
            else:
                try:
                    item = next(it)
                except StopIteration:
                    return False
                lost = 0
            fut = self.client.submit(_dask_job, fn, item, self.timeout, self._probe, pure=False,
                                     key=f"vcmbench-job-{uuid.uuid4().hex}")
            live[fut.key] = (item, fut, lost)
            return True

        try:
            while True:
                # a bounded window, 2 jobs per worker (as many as asked for while they join): the job list is streamed
                window = 2 * max(1, self._connected_workers() or 0, 0 if self._kind == "scheduler" else self._requested)
                while len(live) < window and submit_next():
                    pass
                if not live:
                    return
                try:
                    done, _ = wait([f for _, f, _ in live.values()], timeout=POLL_S, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    self._stalled(time.monotonic())
                    continue
                except FuturesCancelledError:  # Dask cancelled the jobs in flight: it lost the scheduler
                    done = [f for _, f, _ in live.values() if f.status in ("finished", "error", "cancelled")]
                self._no_worker_since = None
                for fut in done:
                    item, _, lost = live.pop(fut.key)
                    if fut.status == "cancelled":  # only Dask cancels here: the scheduler connection was lost
                        if lost + 1 >= self.max_tries:
                            raise ClusterError(f"{self._where()}: the scheduler went away {lost + 1} times under the "
                                               "same job; stopped. Jobs finished so far are stored: run the same "
                                               "command again once the scheduler is stable.")
                        again.append((item, lost + 1))
                        self.retries += 1
                        self._scheduler_lost += 1
                        continue
                    try:
                        tries = self.client.run_on_scheduler(_suspicious, fut.key)
                    except Exception:  # noqa: BLE001 - provenance only
                        tries = 0
                    if fut.status == "error":
                        exc = fut.exception()
                        if type(exc).__name__ == "KilledWorker":
                            err = (f"WorkerDied: the worker running this job died {self.max_tries} time(s) "
                                   "(killed, out of memory, or stuck past its timeout); not tried again")
                        else:
                            err = _describe(exc)
                        out: Outcome = (item, None, err)
                    else:
                        self.retries += min(tries, self.max_tries)
                        out = (item, fut.result(), None)
                    fut.release()
                    yield out
                if again:  # the scheduler was lost: resubmit once it is back with a worker (bounded wait)
                    self.wait_for_workers()
        finally:
            left = [f for _, f, _ in live.values()]
            if left and self.client is not None and self.client.status == "running":
                self.client.cancel(left)

    def close(self) -> None:
        if self._probe:
            try:
                os.unlink(self._probe)
            except OSError:
                pass
            self._probe = None
        client, self.client = getattr(self, "client", None), None
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
