"""Helpers for the hostile-input tests: run a CLI command in-process with a hard time limit and
check that it ends in a documented exit code without a traceback."""

from __future__ import annotations

import signal
import traceback
from contextlib import contextmanager

from click.testing import CliRunner

from vcmbench.cli import cli

DOCUMENTED = {0, 1, 2, 3, 4}


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise Hang in the main thread after ``seconds`` (a hang becomes a failure, not a stuck suite)."""

    def on_alarm(signum, frame):
        raise Hang(f"no verdict within {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def invoke(args: list[str], seconds: float = 20.0, input: bytes | None = None):
    """Run ``vcmbench ARGS``; fail on a hang, an undocumented exit code or a traceback."""
    with time_limit(seconds):
        r = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        tb = "".join(traceback.format_exception(*r.exc_info))
        raise AssertionError(f"vcmbench {' '.join(map(str, args))} raised instead of a verdict:\n{tb}")
    assert r.exit_code in DOCUMENTED, (r.exit_code, r.output)
    assert "Traceback" not in r.output, r.output
    return r
