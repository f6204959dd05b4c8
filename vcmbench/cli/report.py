"""``vcmbench report``: the workbook, the HTML and the .docx contribution document from result sets."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from ..core.templating import fixed
from .common import EXTEND_NAMES, REMEDY_NAMES, echo_json, table

METHOD_HELP = "pchip-jvet (default), cubic, pchip, akima, pchip-trapz"


def _command_line(anchors, tests, method, remedies, extend, force, title, outputs, meta) -> str:
    parts = ["vcmbench", "report"]
    for a in anchors:
        parts += ["--anchor", Path(a).name]
    for t in tests:
        parts += ["--test", Path(t).name]
    parts += ["--method", method]
    for r in remedies:
        parts += ["--remedy", r]
    if extend != "none":
        parts += ["--extend", extend]
    if force:
        parts.append("--force")
    if title:
        parts += ["--title", title]
    if meta:
        parts += ["--meta", Path(meta).name]
    for o in outputs:
        parts += ["-o", Path(o).name]
    return shlex.join(parts)


def _load_sets(paths, role: str) -> list:
    from ..report.inputs import load_curves, result_sets_from_curves

    out = []
    for p in paths:
        out += result_sets_from_curves(load_curves(p), role)
    return out


@click.command("report")
@click.option("--anchor", "anchors", required=True, multiple=True, type=click.Path(exists=True),
              help="Anchor: run directory, result-set JSON, CSV (vcmbench / CompressAI-Vision) or CompressAI-style "
                   "JSON; one per condition (dataset), repeatable.")
@click.option("--test", "tests", required=True, multiple=True, type=click.Path(exists=True),
              help="Test: the same kinds of input; repeatable.")
@click.option("--method", "-m", default="pchip-jvet", show_default=True, help=f"BD method: {METHOD_HELP}.")
@click.option("--remedy", "remedies", multiple=True, type=click.Choice(REMEDY_NAMES),
              help="Explicit remedy for non-monotonic curves (off by default; named in the report and signature).")
@click.option("--extend", type=click.Choice(EXTEND_NAMES), default="none", show_default=True,
              help="pchip-jvet extension mode (the VBA's bdRateExtend modes).")
@click.option("--meta", "meta_file", type=click.Path(exists=True, dir_okay=False),
              help="YAML with the document metadata: m_number, wg, meeting, location, dates, title, purpose, "
                   "authors [{name, affiliation, email}], abstract, introduction, proposal, conclusion.")
@click.option("--title", default=None, help="Document title (default: meta title, else derived from the results).")
@click.option("--abstract", default=None, help="Abstract text (default: meta abstract, else generated).")
@click.option("--m-number", default=None, help="MPEG document number, e.g. m71234 (overrides meta).")
@click.option("--meeting", default=None, help="Meeting number, e.g. 151 (overrides meta).")
@click.option("--author", "authors", multiple=True, help="'Name, Affiliation, e-mail'; repeatable (overrides meta).")
@click.option("--accuracy-units", type=click.Choice(["percent", "fraction"]), default="percent", show_default=True,
              help="Accuracy in the tables, figures and workbook.")
@click.option("--rate-axis", type=click.Choice(["log", "linear"]), default="log", show_default=True,
              help="Rate axis of the figures.")
@click.option("--force", is_flag=True, help="Compare result sets whose signatures differ in a part that matters (recorded).")
@click.option("-o", "--output", "outputs", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Output file: .xlsx (workbook), .html or .docx (contribution document); repeatable, all written "
                   "or none.")
@click.option("--json", "as_json", is_flag=True, help="Print the BD results as JSON.")
def report(anchors, tests, method, remedies, extend, meta_file, title, abstract, m_number, meeting, authors,
           accuracy_units, rate_axis, force, outputs, as_json):
    """Write the BD-rate workbook and the MPEG contribution (.docx and/or HTML) from one model.

    Test result sets are paired with the anchor of the same condition (for CSV inputs: the
    same Dataset / sequence / class); BD-rate and BD-accuracy are computed per scale present in
    both.  The workbook has a summary (per-dataset rows and an Overall row), one sheet per
    condition with per-QP rows, totals, time ratios and charts, and a provenance sheet.  The
    .docx and HTML are the same document: header for the working group, metadata from --meta,
    results, figures, Annex A.  All outputs are written, or none.

    \b
    Example:
      vcmbench report --anchor runs/vtm-oiv6 --test runs/proposal-oiv6 --meta meta.yaml \\
          -o contribution.docx -o contribution.html -o results.xlsx
    """
    from dataclasses import replace

    from ..report import build_report, load_meta
    from ..report.meta import Meta, check_meta, parse_author
    from ..report.publish import output_kind, write_reports

    for o in outputs:
        output_kind(o)
    meta = load_meta(meta_file) if meta_file else Meta()
    over = {k: v for k, v in (("title", title), ("abstract", abstract), ("m_number", m_number),
                              ("meeting", meeting)) if v is not None}
    if authors:
        over["authors"] = [parse_author(a) for a in authors]
    meta = check_meta(replace(meta, **over), "--meta / --m-number / --meeting")
    model = build_report(_load_sets(anchors, "anchor"), _load_sets(tests, "test"), method,
                         remedies=remedies, extend=extend, force=force, title=meta.title or None,
                         abstract=meta.abstract,
                         command_line=_command_line(anchors, tests, method, remedies, extend, force, title, outputs,
                                                    meta_file))
    written = write_reports(model, list(outputs), meta, percent=accuracy_units == "percent",
                            log_rate=rate_axis == "log")
    if as_json:
        echo_json({"method": model.bd_signature_part, "remedies": list(model.remedies),
                   "results": [{"condition": e.condition, "test": e.test_label, "scale_pct": round(e.scale * 100, 6),
                                "error": e.error, "signature": e.signature,
                                **({"bd": e.result.to_dict()} if e.result else {})} for e in model.entries],
                   "outputs": [str(w) for w in written], "warnings": model.warnings})
    else:
        rows = []
        for e in model.entries:
            r = e.result
            rows.append([e.condition, e.test_label, f"{e.scale * 100:g} %",
                         "not computed" if r is None else f"{fixed(r.bd_rate_pct, 2, signed=True)} %",
                         "" if r is None or r.bd_quality is None else fixed(r.bd_quality, 4, signed=True),
                         "" if r is None else f"{r.overlap:.0%}"])
        click.echo(table(["condition", "test", "scale", "BD-rate", "BD-accuracy", "overlap"], rows))
        click.echo(f"method: {model.bd_signature_part}"
                   + (f" (remedy: {', '.join(model.remedies)})" if model.remedies else " (no remedy)"))
        for w in written:
            click.echo(f"wrote {w}")
    for w in model.warnings:
        click.echo(f"warning: {w}", err=True)
    missing = meta.missing()
    if any(output_kind(o) in ("html", "docx") for o in outputs) and missing:
        click.echo(f"note: the document keeps placeholders for {', '.join(missing)}; give them in --meta.", err=True)
    failed = [e for e in model.entries if not e.ok]
    if failed:  # the same verdict as `vcmbench bdrate` on the same curves (the outputs say why)
        from ..core.errors import BDError

        raise BDError(f"{len(failed)} of {len(model.entries)} BD values not computed; first: {failed[0].condition} "
                      f"{failed[0].test_label} scale {failed[0].scale * 100:g} %: {failed[0].error}. The outputs were "
                      "written and say why; a remedy (--remedy) may apply.")
