"""Running external processes safely.

Every external process is started from an argument list (never a shell string), with a
timeout, and its stdout/stderr captured (and written to a log file when one is given).
A timeout kills the whole process group so that no decoder is left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

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
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
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
