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
