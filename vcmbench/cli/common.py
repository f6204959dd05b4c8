"""Helpers shared by the CLI modules: JSON output, tables, option vocabularies, exit with a verdict code."""

from __future__ import annotations

import json
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


def terminal_width() -> int:
    return max(60, shutil.get_terminal_size((120, 24)).columns)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], width: int | None = None) -> str:
    """A text table that fits the terminal (rich wraps long cells inside their column)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for h in headers:
        t.add_column(str(h), overflow="fold")
    for r in rows:
        t.add_row(*["" if c is None else (f"{c:.6g}" if isinstance(c, float) else str(c)) for c in r])
    console = Console(width=width or terminal_width(), no_color=True, highlight=False, markup=False,
                      emoji=False, color_system=None, force_terminal=False, soft_wrap=False)
    with console.capture() as cap:
        console.print(t)
    return "\n".join(line.rstrip() for line in cap.get().rstrip("\n").splitlines())


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
