"""Progress of a run: the library reports ``ProgressEvent``s through a callback; renderers draw them.

The pipeline never prints.  The CLI chooses a renderer: ``TtyProgress`` (a tqdm bar on a
terminal: done/total, jobs/s, ETA, rewritten in place) or ``LogProgress`` (plain log lines,
at most one every ``interval`` seconds, for pipes, files and cluster logs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TextIO


@dataclass
class ProgressEvent:
    done: int  # jobs finished in this session (run or skipped)
    total: int
    skipped: int  # finished earlier (found in the store)
    failed: int  # bitstreams that did not verify
    errors: int  # jobs that raised
    elapsed: float  # seconds since the run started
    message: str = ""  # the last job, e.g. "img 184324 scale 1 qp 37"
    phase: str = "jobs"

    @property
    def rate(self) -> float:
        """Jobs actually run per second (skipped ones excluded)."""
        ran = self.done - self.skipped
        return ran / self.elapsed if self.elapsed > 0 and ran > 0 else 0.0

    @property
    def eta(self) -> float | None:
        left = self.total - self.done
        return left / self.rate if self.rate > 0 else None


ProgressCallback = Callable[[ProgressEvent], None]


def _fmt_time(s: float | None) -> str:
    if s is None:
        return "--:--"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def _counts(ev: ProgressEvent) -> list[str]:
    """The non-zero cached / not-verified / error counts, as words."""
    return [f"{n} {what}" for n, what in ((ev.skipped, "cached"), (ev.failed, "not verified"), (ev.errors, "errors"))
            if n]


def format_line(ev: ProgressEvent, width: int = 24) -> str:
    frac = ev.done / ev.total if ev.total else 1.0
    fill = int(round(frac * width))
    bar = "#" * fill + "-" * (width - fill)
    extra = _counts(ev)
    tail = f" ({', '.join(extra)})" if extra else ""
    return (f"{ev.phase} [{bar}] {ev.done}/{ev.total} {ev.rate:.2f} jobs/s "
            f"elapsed {_fmt_time(ev.elapsed)} ETA {_fmt_time(ev.eta)}{tail}")


class TtyProgress:
    """A progress bar on a terminal (tqdm: done/total, jobs/s, ETA, rewritten in place)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._bar = None

    def __call__(self, ev: ProgressEvent) -> None:
        from tqdm import tqdm

        if self._bar is None or self._bar.desc != ev.phase:
            self._close()
            # cached jobs are the bar's initial count, so the rate and ETA count the jobs actually run
            self._bar = tqdm(total=ev.total, initial=ev.done, desc=ev.phase, unit="job", file=self.stream,
                             dynamic_ncols=True, mininterval=0.2, leave=True)
        bar = self._bar
        bar.total = ev.total
        extra = _counts(ev)
        if extra:
            bar.set_postfix_str(", ".join(extra), refresh=False)
        bar.update(ev.done - bar.n)
        if ev.done >= ev.total:
            self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LogProgress:
    """Plain log lines (timestamped), at most one every ``interval`` seconds, plus the last one."""

    def __init__(self, stream: TextIO, interval: float = 10.0) -> None:
        self.stream = stream
        self.interval = interval
        self._last = -1e9

    def __call__(self, ev: ProgressEvent) -> None:
        now = time.monotonic()
        if ev.done < ev.total and now - self._last < self.interval:
            return
        self._last = now
        stamp = time.strftime("%H:%M:%S")
        self.stream.write(f"{stamp} {format_line(ev)}\n")
        self.stream.flush()


def renderer_for(stream: TextIO, interval: float = 10.0) -> ProgressCallback:
    """TtyProgress when ``stream`` is a terminal, LogProgress otherwise."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return TtyProgress(stream) if tty else LogProgress(stream, interval)
