"""``vcmbench report``: the workbook, the HTML and the .docx contribution document from result sets."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from .common import EXTEND_NAMES, REMEDY_NAMES, bd_json_fields, ci_options, echo_json, table

METHOD_HELP = "pchip-jvet (default), cubic, pchip, akima, pchip-trapz"


def _command_line(ctx: click.Context) -> str:
    """The command as typed, for the report's provenance: every option given (not left at its default), in the
    command's option order, file and directory values reduced to their names (no local paths)."""
    parts = ["vcmbench", ctx.info_name or "report"]
    for p in ctx.command.params:
        value = ctx.params.get(p.name)
        if value is None or value is False or value == () or value == p.default:
            continue
        flag = max(p.opts, key=len)
        for v in (value if p.multiple else [value]):
            if getattr(p, "is_flag", False):
                parts.append(flag)
            else:
                parts += [flag, Path(str(v)).name if isinstance(p.type, click.Path) else
                          (f"{v:g}" if isinstance(v, float) else str(v))]
    return shlex.join(parts)


def _load_sets(paths, role: str, rate_col: str | None = None, quality_col: str | None = None) -> list:
    """Result sets of the inputs; ``--rate-col/--quality-col`` pick the columns as `bdrate` does (``load_curves``).
    A result set (run directory, JSON) is reported in bpp; its quality axis becomes ``quality_col``."""
    from dataclasses import replace

    from ..core.errors import UsageError
    from ..report.inputs import load_curves, result_sets_from_curves

    out = []
    for p in paths:
        cs = load_curves(p, rate_col, quality_col)
        if cs.result_set is not None and cs.video:  # one set per class, rate kbps (bpp on request)
            out += result_sets_from_curves(cs, role)
            continue
        if cs.result_set is not None:
            if cs.rate_name != "bpp":
                raise UsageError(f"--rate-col {rate_col}: {p} is a result set, reported in bpp; leave --rate-col out "
                                 "(or give bpp) for run directories and result-set JSON.")
            if quality_col and quality_col != cs.result_set.quality_key:
                out.append(replace(cs.result_set, quality_key=quality_col))
                continue
        out += result_sets_from_curves(cs, role)
    return out


@click.command("report")
@click.option("--anchor", "anchors", required=True, multiple=True, type=click.Path(exists=True),
              help="Anchor: run directory, result-set JSON, CSV (vcmbench / CompressAI-Vision) or CompressAI-style "
                   "JSON; one per condition (dataset), repeatable.")
@click.option("--test", "tests", required=True, multiple=True, type=click.Path(exists=True),
              help="Test: the same kinds of input; repeatable.")
@click.option("--method", "-m", default="pchip-jvet", show_default=True, help=f"BD method: {METHOD_HELP}.")
@click.option("--rate-col", default=None,
              help="Rate column, as for `bdrate` (CSV; default the first of bpp, avg_bpp, 'bitrate (kbps)', kbps, "
                   "bits); result sets are reported in bpp.")
@click.option("--quality-col", default=None,
              help="Quality column, as for `bdrate` (CSV; default the first of mAP, AP, end_accuracy, mIoU, MOTA) or "
                   "the accuracy key of result sets (default: their quality key).")
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
@click.option("--allow-mixed", is_flag=True,
              help="Compare result sets that differ in kind (image vs feature coding, not twins), dataset or number of "
                   "images, which no condition allows (recorded in the signatures and Annex A).")
@click.option("-o", "--output", "outputs", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Output file: .xlsx (workbook), .html or .docx (contribution document); repeatable, all written "
                   "or none.")
@click.option("--json", "as_json", is_flag=True, help="Print the BD results as JSON.")
@ci_options
def report(anchors, tests, method, rate_col, quality_col, remedies, extend, meta_file, title, abstract, m_number,
           meeting, authors, accuracy_units, rate_axis, force, allow_mixed, outputs, as_json, ci_level, resamples, seed):
    """Write the BD-rate workbook and the MPEG contribution (.docx and/or HTML) from one model.

    Test result sets are paired with the anchor of the same condition (for CSV inputs: the
    same Dataset / sequence / class); BD-rate and BD-accuracy are computed per scale present in
    both, and first the summary figure per test and condition, with its rule and source: one
    scale -> that curve's BD; several -> BD between the Pareto fronts over all scale x QP points
    (as `vcmbench bdrate` and `results --pareto`).  No Overall across conditions: no source
    defines one; the one exception is a video run (or final_SFU.csv): one section per class (rows per
    rate point, kbps) and Overall = the mean of the class BD-rates, as issue 22 states it.  Result sets of different datasets, numbers of images or kinds (image vs feature
    coding, unless twin conditions) are refused unless --allow-mixed.  The workbook has a summary
    (the summary figures first, then BD per dataset and scale), one sheet per condition with per-QP
    rows, totals, time ratios and charts, and a provenance sheet.  The
    .docx and HTML are the same document: header for the working group, metadata from --meta,
    results, figures, Annex A.  All outputs are written, or none.

    \b
    Example:
      vcmbench report --anchor runs/vtm-oiv6 --test runs/proposal-oiv6 --meta meta.yaml \\
          -o contribution.docx -o contribution.html -o results.xlsx
      vcmbench report --anchor runs/vtm --test runs/proposal --ci 95 -o results.xlsx
      vcmbench report --anchor anchor.csv --test test.csv --rate-col avg_bpp --quality-col end_accuracy -o r.xlsx
    """
    from dataclasses import replace

    from ..core import units
    from ..report import build_report, load_meta
    from ..report.meta import Meta, check_meta, parse_author
    from ..report.publish import output_kind, write_reports

    for o in outputs:
        output_kind(o)
    if ci_level is not None:
        from ..run.bootstrap import check_options

        ci_level, resamples, seed = check_options(ci_level, resamples, seed)
    meta = load_meta(meta_file) if meta_file else Meta()
    over = {k: v for k, v in (("title", title), ("abstract", abstract), ("m_number", m_number),
                              ("meeting", meeting)) if v is not None}
    if authors:
        over["authors"] = [parse_author(a) for a in authors]
    meta = check_meta(replace(meta, **over), "--meta / --m-number / --meeting")
    anchor_sets = _load_sets(anchors, "anchor", rate_col, quality_col)
    test_sets = _load_sets(tests, "test", rate_col, quality_col)
    if ci_level is not None and any((rs.provenance or {}).get("video_class") for rs in [*anchor_sets, *test_sets]):
        from ..core.errors import UsageError

        raise UsageError("--ci resamples the images of an image run; video inputs have no such interval yet. Drop --ci.")
    model = build_report(anchor_sets, test_sets, method,
                         remedies=remedies, extend=extend, force=force, title=meta.title or None,
                         abstract=meta.abstract, allow_mixed=allow_mixed,
                         command_line=_command_line(click.get_current_context()))
    if ci_level is not None:
        from ..report.ci import fill_model

        fill_model(model, level=ci_level, resamples=resamples, seed=seed)
    written = write_reports(model, list(outputs), meta, percent=accuracy_units == "percent",
                            log_rate=rate_axis == "log")
    if as_json:
        echo_json({"method": model.bd_signature_part, "remedies": list(model.remedies),
                   "summary": [{"condition": e.condition, "test": e.test_label, "scope": e.scope, "name": e.name,
                                "rule": e.rule, "source": e.source, "selection": e.selection,
                                "scales_pct": [round(x * 100, 6) for x in e.scales], "error": e.error,
                                "signature": e.signature, **bd_json_fields(e.result, e.quality_key),
                                **(_aggregate_json(e) if e.result is None and e.value_pct is not None else {})}
                               for e in model.summaries],
                   "results": [{"condition": e.condition, "test": e.test_label, "scale_pct": round(e.scale * 100, 6),
                                "error": e.error, "signature": e.signature,
                                **({"ci": e.ci} if ci_level is not None else {}),
                                **bd_json_fields(e.result, e.quality_key)} for e in model.entries],
                   "mixed": model.provenance.get("mixed", []),
                   "outputs": [str(w) for w in written], "warnings": model.warnings})
    else:
        rows = [[e.condition, e.test_label, _figure(e)] + _cells(e.result, e.quality_key) if e.scope != "overall" else
                ["Overall", e.test_label, "mean of the classes",
                 "not computed" if e.value_pct is None else units.BD_RATE.text(e.value_pct, unit=True),
                 "" if e.value_quality is None else units.bd_accuracy(e.quality_key).text(e.value_quality, unit=True),
                 ""]
                for e in model.summaries]
        click.echo("summary (rules and sources in the document, section 4):")
        click.echo(table(["condition", "test", "figure", "BD-rate", "BD-accuracy", "quality overlap"], rows))
        rows = [[e.condition, e.test_label, units.scale_text(e.scale)] + _cells(e.result, e.quality_key)
                for e in model.entries]
        click.echo("detail per scale:")
        click.echo(table(["condition", "test", "scale", "BD-rate", "BD-accuracy", "quality overlap"], rows))
        if ci_level is not None:
            for line in model_ci_lines(model):
                click.echo(line)
        click.echo(f"method: {model.bd_signature_part}"
                   + (f" (remedy: {', '.join(model.remedies)})" if model.remedies else " (no remedy)"))
        for w in written:
            click.echo(f"wrote {w}")
    for w in model.warnings:
        click.echo(f"warning: {w}", err=True)
    for e in model.entries if ci_level is not None else []:
        for w in (e.ci or {}).get("warnings") or []:
            click.echo(f"warning: {e.condition} {e.test_label} scale {e.scale * 100:g} %: confidence interval: {w}",
                       err=True)
    missing = meta.missing()
    if any(output_kind(o) in ("html", "docx") for o in outputs) and missing:
        click.echo(f"note: the document keeps placeholders for {', '.join(missing)}; give them in --meta.", err=True)
    failed = [e for e in model.entries if not e.ok]
    failed += [e for e in model.summaries if e.error]
    if failed:  # the same verdict as `vcmbench bdrate` on the same curves (the outputs say why)
        from ..core.errors import BDError
        from ..report.model import BDEntry

        first = failed[0]
        where = f"scale {first.scale * 100:g} %" if isinstance(first, BDEntry) else first.name
        raise BDError(f"{len(failed)} of {len(model.entries) + len(model.summaries)} BD values not computed; first: "
                      f"{first.condition} {first.test_label} {where}: {first.error}. The outputs were written and say "
                      "why; a remedy (--remedy) may apply.")


def _figure(e) -> str:
    return "Pareto fronts, all scales" if e.selection == "pareto" else "one curve"


def _cells(res, quality_key: str) -> list[str]:
    """BD-rate (%), BD-accuracy (pp for fraction keys), quality overlap (%): core.units' units and decimals."""
    from ..core import units

    if res is None:
        return ["not computed", "", ""]
    acc = units.bd_accuracy(quality_key)
    return [units.BD_RATE.text(res.bd_rate_pct, unit=True),
            "" if res.bd_quality is None else acc.text(res.bd_quality, unit=True),
            units.OVERLAP.text(res.overlap, unit=True)]


def model_ci_lines(model) -> list[str]:
    """One line per BD value of the model with its confidence interval, or why there is none."""
    from .bd import ci_lines

    lines = []
    for s in model.summaries:
        if s.ci is not None:
            lines += ci_lines([{"ci": s.ci, "group": f"{s.condition} {s.test_label} summary", "scale": None,
                                "method": s.name, "result": s.result}], s.quality_key)
    for sec in model.sections:
        rows = [{"ci": e.ci, "group": f"{e.condition} {e.test_label}", "scale": e.scale, "method": e.method,
                 "result": e.result}
                for e in sec.entries]
        lines += ci_lines(rows, sec.quality_key)
    return lines


def _aggregate_json(e) -> dict:
    """A summary figure that is an aggregate (video Overall: the mean of the class figures), in JSON as ``bdrate``
    gives it: BD-rate in percent, BD-accuracy as stored (a fraction) plus ``bd_quality_pp`` for fraction keys."""
    from ..core import units

    frac = units.bd_accuracy(e.quality_key).unit == "pp"
    out = {"bd_rate_pct": e.value_pct, "bd_quality": e.value_quality,
           "bd_quality_unit": "fraction" if frac else f"{e.quality_key} units"}
    if frac:
        out["bd_quality_pp"] = None if e.value_quality is None else e.value_quality * 100.0
    return out
