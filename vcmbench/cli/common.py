"""Helpers shared by the CLI modules: JSON output, tables, exit with a verdict code."""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

import click

from ..core.jsonio import _default


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=_default))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain fixed-width text table."""
    rows = [["" if c is None else (f"{c:.6g}" if isinstance(c, float) else str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([line, sep, *body])


def exit_with(code: int) -> None:
    """Leave the command with ``code`` (used for verdict exit codes such as regression)."""
    raise SystemExit(code)


# -- executor options: one definition for every command that runs many jobs (--jobs/--executor mean the same
#    everywhere) ------------------------------------------------------------------------------------------------
class ExecutorChoice:
    """What the executor options asked for; ``make()`` builds it (``run.executor.make_executor``)."""

    def __init__(self, jobs: int | None, executor: str, scheduler: str | None, cluster: str | None,
                 cluster_opts: Sequence[str]) -> None:
        self.jobs, self.executor, self.scheduler, self.cluster = jobs, executor, scheduler, cluster
        self.cluster_opts = tuple(cluster_opts or ())

    def make(self, timeout: float | None = None):
        from ..run.executor import make_executor

        opts = None
        if self.cluster_opts:
            from ..run.dask_executor import parse_cluster_options

            opts = parse_cluster_options(self.cluster_opts)
        ex = make_executor(self.jobs, self.executor, timeout=timeout, scheduler=self.scheduler, cluster=self.cluster,
                           cluster_options=opts)
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
]


def executor_options(f):
    """Add the shared executor options; the command receives one ``ex_choice`` (``ExecutorChoice``)."""
    import functools

    @functools.wraps(f)
    def wrapper(*args, jobs, executor_name, scheduler, cluster, cluster_opts, **kwargs):
        return f(*args, ex_choice=ExecutorChoice(jobs, executor_name, scheduler, cluster, cluster_opts), **kwargs)

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
