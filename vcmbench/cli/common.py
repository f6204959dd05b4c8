"""Helpers shared by the CLI modules: JSON output, tables, option vocabularies, exit with a verdict code."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any, Iterable, Sequence

import click

from ..core.jsonio import _default

# One vocabulary for every command (README "Command-line grammar").
REMEDY_NAMES = ("drop-nonmono", "upper-hull", "monotone-fit", "cubic-fit-pcs2024")
EXTEND_NAMES = ("none", "low", "high", "both", "low-always", "high-always", "both-always")
CTC_SCALES_PCT = (100, 75, 50, 25)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=_default))


def terminal_width() -> int | None:
    """The width tables are laid out for: ``COLUMNS`` when set (a user's or a test's choice), else the
    terminal's width when stdout is a terminal, else ``None`` — piped output is never folded (one line per
    row, whatever its length), so that another program reads whole rows and whole numbers."""
    import os
    import sys

    cols = os.environ.get("COLUMNS", "").strip()
    if cols.isdigit() and int(cols) > 0:
        return max(40, int(cols))
    try:
        if sys.stdout is not None and sys.stdout.isatty():
            return max(40, shutil.get_terminal_size((120, 24)).columns)
    except (AttributeError, ValueError, OSError):
        pass
    return None


# A cell that is a number, possibly signed, with a unit or a range marker: such a cell is never folded.
_NUMBER = re.compile(r"^[-+\u2212\u00b1]?(\d[\d,_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
                     r"( ?(%|pp|bpp|kbps|dB|s|x|\u00d7))?$")
_NUMBER_TOKEN = re.compile(r"[-+\u2212\u00b1]?(\d[\d,_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?")
_SEP = 3  # between two columns: padding 1, the (blank) divider of rich SIMPLE_HEAD, padding 1
_TEXT_MIN = 8  # a text column is never narrower than this (or its longest number), so that words wrap, not fold
_WORD_MAX = 20  # ... nor than its longest word up to this length (names and ids stay whole; longer paths fold)


def is_number_cell(text: str) -> bool:
    """True when ``text`` reads as one number (``0.625418``, ``-23.17 %``, ``+4.03 pp``, ``75 %``, ``-``)."""
    t = text.strip()
    return t in ("", "-", "\u2013") or bool(_NUMBER.match(t))


def _cell(c: Any) -> str:
    return "" if c is None else (f"{c:.6g}" if isinstance(c, float) else str(c))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], width: int | None = None,
          optional: Iterable[str] = ()) -> str:
    """A text table that never splits a number across lines.

    ``width``: the columns available (default ``terminal_width()``; ``None`` there — piped output — lays the
    table out at its natural width, one line per row).  Numeric cells never fold; text cells wrap at spaces
    (a word longer than its column folds, but a column is never narrower than the longest number inside
    its text).  When the table is too wide, the ``optional`` columns (header names) are dropped, in the order
    given; when it still does not fit, each row is printed as a block of ``header: value`` lines (all columns).
    """
    headers = [str(h) for h in headers]
    body = [[_cell(c) for c in r] for r in rows]
    if width is None:
        width = terminal_width()
    keep = list(range(len(headers)))
    if width is not None:
        drop = [i for name in dict.fromkeys(optional) for i in range(len(headers)) if headers[i] == name]
        while _min_width(headers, body, keep) > width and drop:
            keep.remove(drop.pop(0))
        if _min_width(headers, body, keep) > width:
            return _vertical(headers, body, width)
    return _horizontal([headers[i] for i in keep], [[r[i] if i < len(r) else "" for i in keep] for r in body],
                       width)


def _numeric_columns(headers: list[str], body: list[list[str]]) -> list[bool]:
    return [all(is_number_cell(r[i]) for r in body if i < len(r)) for i in range(len(headers))]


def _text_min(cells: list[str]) -> int:
    """The narrowest a text column may be: its longest number, its longest word up to ``_WORD_MAX``, ``_TEXT_MIN``."""
    nums = [len(m.group(0)) for c in cells for m in _NUMBER_TOKEN.finditer(c)]
    words = [min(len(w), _WORD_MAX) for c in cells for w in c.split()]
    return max([_TEXT_MIN, *nums, *words])


def _bounds(headers: list[str], body: list[list[str]]) -> list[tuple[int, int]]:
    """(narrowest, natural) width of each column.  A numeric column is never narrower than its longest cell
    (its header may wrap at spaces); a text column not narrower than ``_text_min``."""
    numeric = _numeric_columns(headers, body)
    out = []
    for i, h in enumerate(headers):
        cells = [r[i] if i < len(r) else "" for r in body]
        natural = max([len(h), *map(len, cells)])
        head_word = max([len(w) for w in h.split()] or [0])
        if numeric[i]:
            low = max([head_word, *map(len, cells)])
        else:
            low = max(head_word, _text_min(cells))
        out.append((min(low, natural), natural))
    return out


def _min_width(headers: list[str], body: list[list[str]], keep: list[int]) -> int:
    """The narrowest the kept columns can be laid out without folding a number."""
    bounds = _bounds([headers[i] for i in keep], [[r[i] if i < len(r) else "" for i in keep] for r in body])
    return sum(lo for lo, _ in bounds) + _SEP * max(0, len(keep) - 1)


def _widths(bounds: list[tuple[int, int]], width: int | None) -> list[int]:
    """Column widths: natural when they fit (or ``width`` is None); else each column's narrowest plus the room
    left, given one character at a time to the column furthest below its natural width."""
    natural = [n for _, n in bounds]
    if width is None or sum(natural) + _SEP * max(0, len(bounds) - 1) <= width:
        return natural
    out = [lo for lo, _ in bounds]
    room = width - _SEP * max(0, len(bounds) - 1) - sum(out)
    while room > 0:
        i = max(range(len(out)), key=lambda k: natural[k] - out[k])
        if natural[i] - out[i] <= 0:
            break
        out[i] += 1
        room -= 1
    return out


def _horizontal(headers: list[str], body: list[list[str]], width: int | None) -> str:
    """Rich lays the table out at the widths computed here (``width`` fixed per column): a numeric cell always
    fits its column, so it is never wrapped; text wraps at spaces (a word longer than its column folds)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    widths = _widths(_bounds(headers, body), width)
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for h, w in zip(headers, widths):
        t.add_column(h, overflow="fold", width=w, min_width=w, max_width=w)
    for r in body:
        t.add_row(*r)
    total = sum(widths) + _SEP * max(0, len(widths) - 1)
    console = Console(width=max(total, 1), no_color=True, highlight=False, markup=False, emoji=False,
                      color_system=None, force_terminal=False, soft_wrap=False)
    with console.capture() as cap:
        console.print(t)
    return "\n".join(line.rstrip() for line in cap.get().rstrip("\n").splitlines())


def _vertical(headers: list[str], body: list[list[str]], width: int | None) -> str:
    """One block per row, ``header: value`` per line (a table too wide for the terminal)."""
    import textwrap

    w = max(map(len, headers), default=0)
    room = max(20, (width or 80) - w - 2)

    def value(text: str) -> str:  # long text wraps at spaces under its value, never inside a word
        lines = textwrap.wrap(text, room, break_long_words=False, break_on_hyphens=False) or [""]
        return ("\n" + " " * (w + 2)).join(lines)

    blocks = ["\n".join(f"{h.rjust(w)}: {value(r[i] if i < len(r) else '')}".rstrip() for i, h in enumerate(headers))
              for r in body]
    return "\n\n".join(blocks)


def percent_list(values: Iterable[str] | str | None, what: str) -> list[float] | None:
    """Scales written as percent (``100,75`` or repeated); returns fractions.  Refuses fractions and
    anything outside (0, 100], naming the fix."""
    from ..core.errors import UsageError

    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    items = [x for v in values for x in str(v).replace(" ", ",").split(",") if x]
    if not items:
        return None
    out = []
    for x in items:
        try:
            v = float(x.rstrip("%"))
        except ValueError:
            raise UsageError(f"--{what} takes percentages (e.g. 100,75); got {x!r}.") from None
        if not (1 < v <= 100):
            raise UsageError(f"--{what} {x}: scales are written in percent, in (1, 100] (e.g. 100,75,50,25; "
                             f"{x} as a fraction would be {v * 100:g}).")
        out.append(v / 100.0)
    return out


def exit_with(code: int) -> None:
    """Leave the command with ``code`` (used for verdict exit codes such as regression)."""
    raise SystemExit(code)


# -- executor options: one definition for every command that runs many jobs (--jobs/--executor mean the same
#    everywhere) ------------------------------------------------------------------------------------------------
class ExecutorChoice:
    """What the executor options asked for; ``make()`` builds it (``run.executor.make_executor``)."""

    def __init__(self, jobs: int | None, executor: str, scheduler: str | None, cluster: str | None,
                 cluster_opts: Sequence[str], worker_wait: float | None = None) -> None:
        self.jobs, self.executor, self.scheduler, self.cluster = jobs, executor, scheduler, cluster
        self.cluster_opts = tuple(cluster_opts or ())
        self.worker_wait = worker_wait

    def make(self, timeout: float | None = None, tasks: bool = False):
        """The executor; ``tasks``: its jobs run task networks (local workers import them as they start)."""
        from ..run.executor import TASK_PRELOAD, make_executor

        opts = None
        if self.cluster_opts:
            from ..run.dask_executor import parse_cluster_options

            opts = parse_cluster_options(self.cluster_opts)
        ex = make_executor(self.jobs, self.executor, timeout=timeout, scheduler=self.scheduler, cluster=self.cluster,
                           cluster_options=opts, preload=TASK_PRELOAD if tasks else (), worker_wait=self.worker_wait)
        if ex.dashboard:
            click.echo(f"Dask dashboard: {ex.dashboard}", err=True)
        return ex


_EXECUTOR_OPTIONS = [
    click.option("--jobs", "-j", type=int, default=None,
                 help="Parallel jobs: worker processes (default: one per core; with --executor dask, the workers "
                      "of the LocalCluster or the job-queue cluster)."),
    click.option("--executor", "executor_name", type=click.Choice(["local", "dask"]), default="local",
                 show_default=True, help="local: a process pool on this machine; dask: a Dask cluster "
                                         "(pip install 'vcmbench[dask]')."),
    click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                 help="With --executor dask: join this running Dask scheduler."),
    click.option("--cluster", type=click.Choice(["slurm", "pbs", "sge", "lsf"]), default=None,
                 help="With --executor dask: start workers as batch jobs (dask-jobqueue)."),
    click.option("--cluster-opt", "cluster_opts", multiple=True, metavar="KEY=VALUE",
                 help="Job-queue option, repeatable: queue, account, walltime, cores, memory, processes, "
                      "job-extra (one scheduler directive each), interface, local-directory, python."),
    click.option("--worker-wait", "worker_wait", type=float, default=None, metavar="SECONDS",
                 help="With --executor dask: stop the run (resumable) when no worker has been connected for this "
                      "long: batch jobs that never start, workers that all died, a scheduler that went away "
                      "[default: 600]."),
]


def executor_options(f):
    """Add the shared executor options; the command receives one ``ex_choice`` (``ExecutorChoice``)."""
    import functools

    @functools.wraps(f)
    def wrapper(*args, jobs, executor_name, scheduler, cluster, cluster_opts, worker_wait, **kwargs):
        return f(*args, ex_choice=ExecutorChoice(jobs, executor_name, scheduler, cluster, cluster_opts, worker_wait),
                 **kwargs)

    for opt in reversed(_EXECUTOR_OPTIONS):
        wrapper = opt(wrapper)
    return wrapper


def progress_for(label: str, quiet: bool = False):
    """``on_done(done, total, what)`` drawing the run progress renderer (a bar on a TTY, log lines otherwise) on
    stderr, for commands that report progress as counts; ``None`` when ``quiet``."""
    import sys
    import time

    from ..run.progress import ProgressEvent, renderer_for

    if quiet:
        return None
    draw = renderer_for(sys.stderr)
    t0 = time.monotonic()

    def on_done(done: int, total: int, what: object = "") -> None:
        draw(ProgressEvent(done, total, 0, 0, 0, time.monotonic() - t0, str(what), phase=label))

    return on_done


def bd_json_fields(res, quality_key: str) -> dict:
    """JSON of one BD result (``bdrate``, ``report``): the stored values under unit-named keys, plus ``bd``
    (the full result); ``{}`` when not computed."""
    from ..core import units

    if res is None:
        return {}
    frac = units.bd_accuracy(quality_key).unit == "pp"
    out = {"bd_rate_pct": res.bd_rate_pct, "bd_quality": res.bd_quality,
           "bd_quality_unit": "fraction" if frac else f"{quality_key} units",
           "quality_overlap_pct": res.overlap * 100.0,
           "rate_overlap_pct": None if res.overlap_rate is None else res.overlap_rate * 100.0}
    if frac:
        out["bd_quality_pp"] = None if res.bd_quality is None else res.bd_quality * 100.0
    out["bd"] = res.to_dict()
    return out


def ci_options(fn):
    """``--ci LEVEL``, ``--resamples N``, ``--seed S`` (``bdrate`` and ``report``): the bootstrap interval."""
    fn = click.option("--seed", default=0, show_default=True, type=int, help="Seed of the bootstrap draws for --ci.")(fn)
    fn = click.option("--resamples", default=1000, show_default=True, type=int,
                      help="Bootstrap resamples for --ci (>= 100).")(fn)
    return click.option("--ci", "ci_level", default=None, metavar="LEVEL",
                        help="Confidence interval of each BD-rate at LEVEL percent (e.g. 95): paired bootstrap over "
                             "the images of run directories (CSV inputs have no per-image records: the interval is "
                             "marked unavailable).")(fn)
