"""``vcmbench report``: the xlsx workbook and/or the HTML contribution document from result sets."""

from __future__ import annotations

import shlex

import click

from .common import table

METHOD_HELP = "pchip-jvet (default), cubic, pchip, akima, pchip-trapz"
REMEDY_NAMES = ("drop-nonmono", "upper-hull", "monotone-fit")
EXTEND_NAMES = ("none", "low", "high", "both", "low-always", "high-always", "both-always")
KINDS = {".xlsx": "xlsx", ".html": "html", ".htm": "html"}


def _command_line(anchors, tests, method, remedies, extend, force, title, outputs) -> str:
    parts = ["vcmbench", "report"]
    for a in anchors:
        parts += ["--anchor", a]
    for t in tests:
        parts += ["--test", t]
    parts += ["--method", method]
    for r in remedies:
        parts += ["--remedy", r]
    if extend != "none":
        parts += ["--extend", extend]
    if force:
        parts.append("--force")
    if title:
        parts += ["--title", title]
    for o in outputs:
        parts += ["-o", o]
    return shlex.join(parts)


@click.command("report")
@click.option("--anchor", "anchors", required=True, multiple=True, type=click.Path(exists=True),
              help="Anchor result set (run directory or result-set JSON); one per condition, repeatable.")
@click.option("--test", "tests", required=True, multiple=True, type=click.Path(exists=True),
              help="Test result set (run directory or result-set JSON); repeatable.")
@click.option("--method", "-m", default="pchip-jvet", show_default=True, help=f"BD method: {METHOD_HELP}.")
@click.option("--remedy", "remedies", multiple=True, type=click.Choice(REMEDY_NAMES),
              help="Explicit remedy for non-monotonic curves (off by default; recorded in the signature).")
@click.option("--extend", type=click.Choice(EXTEND_NAMES), default="none", show_default=True,
              help="pchip-jvet extension mode (the VBA's bdRateExtend modes).")
@click.option("--title", default=None, help="Document title (default: derived from the result sets).")
@click.option("--abstract", default="", help="Abstract text (default: generated from the results).")
@click.option("--force", is_flag=True, help="Compare result sets whose signatures differ in a part that matters (recorded).")
@click.option("-o", "--output", "outputs", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Output file: .xlsx (workbook) or .html (contribution document); repeatable.")
def report(anchors, tests, method, remedies, extend, title, abstract, force, outputs):
    """Write the BD-rate workbook and/or the MPEG-contribution HTML document.

    Test result sets are paired with the anchor of the same condition; BD-rate and BD-quality
    are computed per scale present in both.  The workbook has a summary sheet, one sheet per
    condition with the per-QP rows side by side and a native RD chart, and a provenance sheet.
    The HTML is a single self-contained file (inline CSS and SVG, no URL).

    \b
    Example:
      vcmbench report --anchor runs/vtm-oiv6 --test runs/proposal-oiv6 -o results.xlsx -o contribution.html
    """
    from pathlib import Path

    from ..core.errors import UsageError
    from ..core.records import load_result_set
    from ..report import build_report, write_html, write_xlsx

    kinds = []
    for o in outputs:
        kind = KINDS.get(Path(o).suffix.lower())
        if kind is None:
            raise UsageError(f"Output {o!r}: unknown type; use a name ending in .xlsx or .html.")
        kinds.append(kind)
    model = build_report([load_result_set(a) for a in anchors], [load_result_set(t) for t in tests], method,
                         remedies=remedies, extend=extend, force=force, title=title, abstract=abstract,
                         command_line=_command_line(anchors, tests, method, remedies, extend, force, title, outputs))
    rows = []
    for e in model.entries:
        r = e.result
        rows.append([e.condition, e.test_label, f"{e.scale:.0%}",
                     "not computed" if r is None else f"{r.bd_rate_pct:+.2f} %",
                     "" if r is None or r.bd_quality is None else f"{r.bd_quality:+.4f}",
                     "" if r is None else f"{r.overlap:.0%}"])
    click.echo(table(["condition", "test", "scale", "BD-rate", "BD-quality", "overlap"], rows))
    click.echo(f"method: {model.bd_signature_part}")
    for w in model.warnings:
        click.echo(f"warning: {w}", err=True)
    for o, kind in zip(outputs, kinds):
        path = write_xlsx(model, o) if kind == "xlsx" else write_html(model, o)
        click.echo(f"wrote {path}")
