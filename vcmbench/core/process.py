"""Running external processes safely.

Every external process is started from an argument list (never a shell string), with a
timeout, and its stdout/stderr captured (and written to a log file when one is given).
A timeout kills the whole process group so that no decoder is left running.

Every tool runs in its own process group (its own session), so a timeout can kill it and its children
without killing the caller.  Those groups must not outlive their job: each live one is known to this
process (:func:`kill_live_groups`: a pool worker calls it when its parent dies), and, inside a run's job
(:func:`tracking_groups`), recorded as a small file in the job's ``tmp/<job>/pgroups/`` until it ends, so that a
resume after ``kill -9`` of the whole run kills the ones still running (:func:`reap_recorded_groups`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .errors import CodecError


@dataclass
class ProcResult:
    """Outcome of one external process."""

    command: list[str]
    returncode: int | None  # None when it was killed on timeout
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def text(self) -> str:
        """stdout + stderr as text (errors replaced)."""
        return (self.stdout + b"\n" + self.stderr).decode("utf-8", "replace")

    def tail(self, n: int = 400) -> str:
        """The last ``n`` characters of stderr (or stdout), one line, for verdicts."""
        txt = (self.stderr or self.stdout).decode("utf-8", "replace").strip()
        return " ".join(txt[-n:].split())


_RECORDERS = threading.local()


@contextmanager
def recording_commands() -> Iterator[list[list[str]]]:
    """Collect the argument list of every process :func:`run_process` starts in this thread while the
    block runs (a job's ``commands.log``: FFmpeg conversions, encoder, decoders)."""
    stack = getattr(_RECORDERS, "stack", None)
    if stack is None:
        stack = _RECORDERS.stack = []
    got: list[list[str]] = []
    stack.append(got)
    try:
        yield got
    finally:
        stack.remove(got)


_LIVE: dict[int, Path | None] = {}  # process group id of a running tool -> its record file (or None)
_LIVE_LOCK = threading.Lock()
_TRACK = threading.local()
_LISTENERS: list[Callable[[str, int, str | None], None]] = []


def set_group_listener(fn: Callable[[str, int, str | None], None] | None) -> None:
    """``fn("group", pid, start_time)`` when a tool group starts, ``fn("ungroup", pid, None)`` when it ends (a
    pool worker tells its parent, which kills the groups of a worker that died)."""
    _LISTENERS[:] = [fn] if fn is not None else []


def _tell(event: str, pid: int, start: str | None) -> None:
    for fn in list(_LISTENERS):
        try:
            fn(event, pid, start)
        except Exception:  # noqa: BLE001 - a parent that is gone cannot be told
            pass


def kill_group_if_same(pid: int, start: str | None) -> bool:
    """Kill process group ``pid`` if its leader is still the process that started at ``start`` (never a later
    process with a reused id); whether it was signalled."""
    if pid <= 1 or start is None or _start_time(pid) != start:
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@contextmanager
def tracking_groups(folder: str | os.PathLike) -> Iterator[None]:
    """Record every process group :func:`run_process` (or :func:`register_group`) starts in this thread while
    the block runs as a file in ``folder`` (removed when the process ends)."""
    old = getattr(_TRACK, "dir", None)
    _TRACK.dir = Path(folder)
    try:
        yield
    finally:
        _TRACK.dir = old


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), which tells it from a later one with the same id."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def register_group(pid: int, command: Sequence[str], record: bool = True) -> None:
    """A tool process group leader ``pid`` started by this process (see the module docstring); ``record=False``:
    not recorded in the job's folder (a per-process server that outlives the job, such as the PyAV decoder)."""
    marker = None
    folder = getattr(_TRACK, "dir", None) if record else None
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            marker = folder / f"{socket.gethostname()}-{pid}.json"
            marker.write_text(json.dumps({"host": socket.gethostname(), "pid": pid, "start": _start_time(pid),
                                          "owner": os.getpid(), "command": [str(c) for c in command[:4]]}))
        except OSError:  # a full or read-only disk: the group is still killed with this process
            marker = None
    with _LIVE_LOCK:
        _LIVE[pid] = marker
    _tell("group", pid, _start_time(pid))


def unregister_group(pid: int) -> None:
    with _LIVE_LOCK:
        known = pid in _LIVE
        marker = _LIVE.pop(pid, None)
    if known:
        _tell("ungroup", pid, None)
    if marker is not None:
        try:
            marker.unlink()
        except OSError:
            pass


def kill_live_groups() -> int:
    """Kill every tool process group this process started and that still runs; how many were signalled."""
    with _LIVE_LOCK:
        pids = list(_LIVE)
    n = 0
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
            n += 1
        except (ProcessLookupError, PermissionError):
            pass
        unregister_group(pid)
    return n


def reap_recorded_groups(folder: str | os.PathLike) -> list[str]:
    """Kill the process groups recorded in ``folder`` (by :func:`tracking_groups`) that still run on this host
    (the same process: same id and start time), e.g. tools orphaned by ``kill -9`` of a run; remove the
    records.  Returns a description of each group killed."""
    killed: list[str] = []
    here = socket.gethostname()
    for marker in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []:
        try:
            rec = json.loads(marker.read_text())
            pid, start, host = int(rec["pid"]), rec.get("start"), rec.get("host")
        except (OSError, ValueError, KeyError, TypeError):
            pid, start, host = 0, None, None
        if host == here and rec.get("owner") == os.getpid() and pid in _LIVE:
            continue  # this process's own live tool (e.g. its persistent PyAV decoder): not a leftover
        if host == here and kill_group_if_same(pid, start):
            killed.append(f"process group {pid} ({' '.join(rec.get('command') or [])})")
        if host in (here, None):
            try:
                marker.unlink()
            except OSError:
                pass
    return killed


def run_process(cmd: Sequence[str | os.PathLike], *, timeout: float, log_path: Path | None = None,
                stdin: bytes | None = None, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> ProcResult:
    """Run ``cmd`` (an argument list) with a timeout; never raises for a non-zero exit.

    On timeout the process group is killed and ``timed_out`` is set.  A missing executable
    raises :class:`CodecError`.  When ``log_path`` is given, the command line, exit status and
    both output streams are written there.
    """
    args = [str(c) for c in cmd]
    for got in getattr(_RECORDERS, "stack", None) or ():
        got.append(list(args))
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                                start_new_session=True)
    except FileNotFoundError:
        raise CodecError(f"Executable not found: {args[0]}. Install it or point vcmbench to it "
                         "(see `vcmbench codecs`).") from None
    except PermissionError:
        raise CodecError(f"Executable {args[0]} is not executable. Check its permissions (chmod +x).") from None
    register_group(proc.pid, args)
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
    except BaseException:  # the job itself was stopped (per-job timeout, Ctrl-C): leave no orphaned tool running
        _kill_group(proc)
        proc.wait()
        raise
    finally:
        _kill_group(proc)  # the tool's own children (its group) end with it, even when it exited first
        unregister_group(proc.pid)
    seconds = time.perf_counter() - t0
    res = ProcResult(args, None if timed_out else proc.returncode, out or b"", err or b"", seconds, timed_out)
    if log_path is not None:
        write_log(log_path, res)
    return res


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def write_log(log_path: Path, res: ProcResult) -> None:
    """Write a process's command line, status and output streams to ``log_path``."""
    from .jsonio import atomic_write_bytes

    status = "timeout" if res.timed_out else f"exit {res.returncode}"
    head = (f"# command: {' '.join(res.command)}\n# status: {status}\n# seconds: {res.seconds:.3f}\n"
            "# ---- stdout ----\n").encode()
    body = head + res.stdout + b"\n# ---- stderr ----\n" + res.stderr
    atomic_write_bytes(log_path, body)
