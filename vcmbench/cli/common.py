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
