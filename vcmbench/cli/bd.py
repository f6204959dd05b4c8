"""``vcmbench bdrate``: BD-rate / BD-quality of a test curve against an anchor curve."""

from __future__ import annotations

import click

from .common import EXTEND_NAMES, REMEDY_NAMES, bd_json_fields, ci_options, echo_json, percent_list, table
from .params import FRACTION

METHOD_HELP = "pchip-jvet (default; the JCTVC/JVET spreadsheet), cubic, pchip, akima, pchip-trapz"


@click.command("bdrate")
@click.option("--anchor", required=True, type=click.Path(exists=True),
              help="Anchor: CSV/TSV (vcmbench, CompressAI-Vision), result-set or CompressAI-style JSON, run directory.")
@click.option("--test", "test_", required=True, type=click.Path(exists=True), help="Test: same kinds of input.")
@click.option("--method", "-m", "methods", multiple=True, default=("pchip-jvet",), show_default=True,
              help=f"BD method; repeat for a comparison table: {METHOD_HELP}.")
@click.option("--rate-col", default=None,
              help="Rate column (CSV; default the first of bpp, avg_bpp, 'bitrate (kbps)', kbps, bits) or 'bpp'/'bits' "
                   "for result sets.")
@click.option("--quality-col", default=None,
              help="Quality column (CSV; default the first of mAP, AP, end_accuracy, mIoU, MOTA) or accuracy key "
                   "for result sets.")
@click.option("--scale", "scales", multiple=True, help="Only these scales, in percent (e.g. 100, 75); repeatable.")
@click.option("--remedy", "remedies", multiple=True, type=click.Choice(REMEDY_NAMES),
              help="Explicit remedy for non-monotonic curves (off by default; recorded in the signature).")
@click.option("--extend", type=click.Choice(EXTEND_NAMES), default="none", show_default=True,
              help="pchip-jvet extension mode (the VBA's bdRateExtend modes).")
@click.option("--min-overlap", type=FRACTION, default=0.75, show_default=True, help="Warn when the overlap is below this fraction.")
@click.option("--force", is_flag=True, help="Compare result sets whose signatures differ in a part that matters (recorded).")
@click.option("--allow-mixed", is_flag=True,
              help="Compare result sets that differ in kind (image vs feature coding, not twins), dataset or number of "
                   "images, which no condition allows (recorded in the signature as mixed:<what>).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@ci_options
def bdrate(anchor, test_, methods, rate_col, quality_col, scales, remedies, extend, min_overlap, force, allow_mixed,
           as_json, ci_level, resamples, seed):
    """BD-rate (percent, negative = the test saves rate) and BD-accuracy of TEST against ANCHOR.

    Prints the summary figure first, with its rule and source, then the per-scale detail.  The
    summary: one scale (or one curve each) -> the BD of that curve; several scales -> BD between the
    Pareto fronts of anchor and test over all their scale x QP points, the selection of `vcmbench
    results --pareto` (so bdrate on the two resultset-pareto.json files gives the same figure).  No
    public text of the conditions defines that aggregation; the output says so.  Each row: BD-rate
    (%), BD-accuracy (percentage points, pp, for accuracies stored as fractions), the quality
    overlap (the share of the two quality ranges that BD-rate integrates over), the points used, the
    method.  A CSV with a Dataset (sequence, class) column gives one figure per dataset (never one
    pooled curve).  Non-monotonic curves, too few points, duplicate rates and non-overlapping curves
    are refused (exit code 2) unless a remedy is named.  Anchor and test of different datasets,
    numbers of images, or kinds (image vs feature coding that are not twin conditions) are refused
    unless --allow-mixed; twins are compared with a warning, each curve named by condition and codec.

    Video runs (and final_SFU.csv files): rate in kbps (--rate-col bpp on request), one BD per class
    (rate point i = the i-th QP of every sequence), then Overall = the mean of the class BD-rates
    (issue 22; no public source computes it, the output says so), and one BD per sequence as detail.
    A class on one side only is refused.

    \b
    Example:
      vcmbench bdrate --anchor anchor.csv --test proposal.csv -m pchip-jvet -m cubic
      vcmbench bdrate --anchor runs/vtm --test runs/vvenc --scale 75 --json
      vcmbench bdrate --anchor final_OIV6_anchor.csv --test final_OIV6.csv --remedy cubic-fit-pcs2024
      vcmbench bdrate --anchor runs/vtm --test runs/vvenc --ci 95 --resamples 1000 --seed 0 --json
      vcmbench bdrate --anchor runs/sfu-vtm --test runs/sfu-proposal --json

    With --ci LEVEL, each BD-rate gets a LEVEL % confidence interval: a paired percentile bootstrap
    over the images (the same draw for anchor and test and every point), rate and accuracy of each
    point recomputed from the run's per-image records.  It measures the sampling uncertainty of the
    image set only, not codec or network variation.
    """
    from ..core import units
    from ..core.errors import BDError
    from ..report.inputs import compare_inputs, load_curves, summarize_inputs
    from ..report.summaries import describe
    from ..report.video_inputs import video_overall

    scales = percent_list(scales, "scale")
    if ci_level is not None:
        from ..run.bootstrap import check_options

        ci_level, resamples, seed = check_options(ci_level, resamples, seed)

    a = load_curves(anchor, rate_col, quality_col)
    t = load_curves(test_, rate_col, quality_col)
    if ci_level is not None and (a.video or t.video):
        from ..core.errors import UsageError

        raise UsageError("--ci resamples the images of an image run; video inputs have no such interval yet. Drop --ci.")
    rows = compare_inputs(a, t, list(dict.fromkeys(methods)), remedies=tuple(remedies), extend=extend,
                          scales=scales, force=force, min_overlap=min_overlap, allow_mixed=allow_mixed)
    summary = summarize_inputs(a, t, rows, remedies=tuple(remedies), extend=extend, scales=scales,
                               min_overlap=min_overlap)
    if ci_level is not None:
        from ..report.ci import attach_to_rows

        attach_to_rows(rows, a, t, level=ci_level, resamples=resamples, seed=seed, remedies=tuple(remedies),
                       extend=extend, min_overlap=min_overlap, summary=summary)
    video = a.video or t.video
    overall = video_overall(a, t, summary) if video else []
    if video:  # the figure per class (then Overall); sequences are detail
        summary = [s for s in summary if s["group"] in a.class_groups()]
    compared = rows[0]["compared"] if rows else []
    acc = units.bd_accuracy(a.quality_name)
    label_a = describe(a.result_set, "anchor") if a.result_set is not None else f"anchor: {a.label}"
    label_t = describe(t.result_set, "test") if t.result_set is not None else f"test: {t.label}"
    if as_json:
        echo_json({"anchor": a.source, "test": t.source, "anchor_label": label_a, "test_label": label_t,
                   "rate": a.rate_name, "quality": a.quality_name,
                   "bd_quality_unit": "fraction" if acc.unit == "pp" else (a.quality_name + " units"),
                   "compared": compared,
                   "summary": [{"method": s["method"], "group": s["group"], "name": s["name"], "rule": s["rule"],
                                "source": s["source"], "selection": s["selection"],
                                "scales_pct": [None if x is None else round(x * 100, 6) for x in s["scales"]],
                                "signature": s["signature"], "error": s["error"],
                                **({"ci": s.get("ci")} if ci_level is not None else {}),
                                **bd_json_fields(s["result"], a.quality_name)} for s in summary],
                   "results": [{"method": r["method"], "group": r["group"],
                                "scale_pct": None if r["scale"] is None else round(r["scale"] * 100, 6),
                                "signature": r["signature"], "forced": r["forced"], "mixed": r["mixed"],
                                "error": r["error"], **({"ci": r["ci"]} if ci_level is not None else {}),
                                **bd_json_fields(r["result"], a.quality_name)} for r in rows],
                   **({"video": True, "levels": {g: a.levels.get(g) for g in a.groups()},
                       "overall": [_overall_json(o, a.quality_name) for o in overall]} if video else {})})
    else:
        click.echo(f"{label_a}   [{a.source}]")
        click.echo(f"{label_t}   [{t.source}]")
        click.echo(f"rate: {a.rate_name}   quality: {a.quality_name}"
                   + ("   (BD-accuracy in percentage points, pp)" if acc.unit == "pp" else ""))
        grouped = any(r["group"] is not None for r in rows)
        head = ["BD-rate", acc.header("BD-accuracy") if acc.unit else "BD-accuracy", "quality overlap", "points A/T"]
        body = []
        for s in summary:
            body.append(([s["group"] or "-"] if grouped else []) + [_method(s), _short(s)] + _cells(s["result"], acc))
        for o in overall:
            body.append(["Overall", o["method"], "mean of the classes",
                         "not computed" if o["bd_rate_pct"] is None else units.BD_RATE.text(o["bd_rate_pct"], unit=True),
                         "" if o["bd_quality"] is None else acc.text(o["bd_quality"], unit=True), "", ""])
        click.echo("summary per class, then Overall (per-sequence detail below):" if video
                   else "summary (the figure first; per-scale detail below):")
        click.echo(table((["dataset"] if grouped else []) + ["method", "figure"] + head, body))
        for short, name, rule, source in dict.fromkeys((_short(s), s["name"], s["rule"], s["source"]) for s in summary):
            click.echo(f"  {short!r} = {name}\n    rule: {rule}\n    source: {source}")
        for name, rule, source in dict.fromkeys((o["name"], o["rule"], o["source"]) for o in overall):
            click.echo(f"  'Overall' = {name}\n    rule: {rule}\n    source: {source}")
        body = []
        detail = [r for r in rows if a.levels.get(r["group"]) != "class"] if video else rows  # a class: its summary
        for r in detail:
            sc = "-" if r["scale"] is None else units.scale_text(r["scale"])
            note = ", ".join(x for x in ("FORCED" if r["forced"] else "", "MIXED" if r["mixed"] else "") if x)
            body.append(([r["group"] or "-"] if grouped else []) + [_method(r), sc] + _cells(r["result"], acc) + [note])
        click.echo("detail per sequence:" if video else "detail per scale:")
        click.echo(table((["dataset"] if grouped else []) + ["method", "scale"] + head + ["note"], body))
        for r in [*summary, *detail]:
            if r["error"]:
                where = " ".join(x for x in (r["group"], None if r.get("scale") is None else
                                             units.scale_text(r["scale"]), r.get("name")) if x)
                click.echo(f"not computed ({r['method']}{', ' + where if where else ''}): {r['error']}", err=True)
        if ci_level is not None:
            for line in ci_lines([*[dict(x, scale=None, group=x["group"] or "summary") for x in summary], *rows],
                                 a.quality_name):
                click.echo(line)
        sigs = list(dict.fromkeys(r["signature"] for r in [*summary, *rows] if r["result"]))
        for sg in sigs:
            click.echo(f"signature: {sg}")
    for w in compared:
        click.echo(f"warning: {w}", err=True)
    # each curve's messages once, named by the curve: a video class of one sequence and that sequence are two
    # curves with the same numbers, hence the same messages; the name tells them apart
    messages: list[str] = []
    for r in [*[dict(x, method=f"{x['method']} summary") for x in summary if x["selection"]], *rows]:
        res = r["result"]
        name = _curve_name(r, a.levels if video else {})
        who = r["method"] + (f", {name}" if name else "")
        messages += [f"warning: {who}: confidence interval: {w}" for w in ((r.get("ci") or {}).get("warnings") or [])]
        messages += [f"warning: {who}: {w}" for w in (res.warnings if res else [])]
        messages += [f"note: {who}: {n}" for n in (res.notes if res else [])]
        if res and res.bd_quality_error:
            messages.append(f"note: {who}: BD-accuracy not computed: {res.bd_quality_error}")
    for m in dict.fromkeys(messages):
        click.echo(m, err=True)
    if any(r["forced"] for r in rows):
        click.echo(f"warning: FORCED despite differing signature parts {rows[0]['forced']}", err=True)
    for o in overall:
        if o["error"]:
            click.echo(f"not computed ({o['method']}, Overall): {o['error']}", err=True)
    failed = [r for r in [*summary, *rows, *overall] if r["error"]]
    if failed:
        raise BDError(f"{len(failed)} of {len(rows) + len(summary) + len(overall)} BD computation(s) refused; first: "
                      f"{failed[0]['method']}: {failed[0]['error']}")


def _overall_json(o: dict, quality: str) -> dict:
    """An Overall row in JSON: BD-rate in percent, BD-accuracy as stored (fraction), with rule and source."""
    from ..core import units

    acc = units.bd_accuracy(quality)
    out = {k: o[k] for k in ("method", "group", "name", "rule", "source", "classes", "error")}
    out["bd_rate_pct"] = o["bd_rate_pct"]
    out["bd_quality"] = o["bd_quality"]
    out["bd_quality_unit"] = "fraction" if acc.unit == "pp" else f"{quality} units"
    if acc.unit == "pp":
        out["bd_quality_pp"] = None if o["bd_quality"] is None else o["bd_quality"] * 100.0
    return out


def _curve_name(r: dict, levels: dict) -> str:
    """The curve a BD row was computed on, for its messages: ``class curve CLASS-D`` / ``sequence curve NAME`` on
    video inputs (``levels``: group -> level), else the group and the scale where the row has them."""
    from ..core import units

    level = levels.get(r.get("group"))
    if level in ("class", "sequence"):
        return f"{level} curve {r['group']}"
    return " ".join(x for x in (r.get("group"), None if r.get("scale") is None else units.scale_text(r["scale"])) if x)


def _short(s: dict) -> str:
    return "Pareto fronts, all scales" if s.get("selection") == "pareto" else "one curve"


def _method(r: dict) -> str:
    res = r["result"]
    return r["method"] if res is None else res.signature_part


def _cells(res, acc) -> list[str]:
    """BD-rate, BD-accuracy, quality overlap, points: in core.units' units and decimals."""
    from ..core import units

    if res is None:
        return ["not computed", "", "", ""]
    q = "n/a" if res.bd_quality is None else acc.text(res.bd_quality, unit=True)
    return [units.BD_RATE.text(res.bd_rate_pct, unit=True), q, units.OVERLAP.text(res.overlap, unit=True),
            f"{res.points_anchor}/{res.points_test}"]


def ci_lines(rows: list[dict], quality: str) -> list[str]:
    """One line per BD value with its confidence interval, or why there is none."""
    from ..core.units import BD_RATE, bd_accuracy

    out = []
    bq = bd_accuracy(quality)
    for r in rows:
        ci = r.get("ci")
        if not ci:
            continue
        method = r["result"].signature_part if r.get("result") is not None else r["method"]
        where = ", ".join(x for x in (r["group"], None if r["scale"] is None else f"scale {r['scale'] * 100:g} %",
                                      method) if x)
        head = f"{ci['level']:g} % CI of BD-rate ({where})"
        if "error" in ci:
            out.append(f"{head}: not available: {ci['error']}")
            continue
        text = f"{head}: [{BD_RATE.text(ci['low'])}, {BD_RATE.text(ci['high'])}] %"
        if ci.get("bd_quality_low") is not None:
            unit = f" {bq.unit}" if bq.unit else ""
            text += f"; BD-{quality} [{bq.text(ci['bd_quality_low'])}, {bq.text(ci['bd_quality_high'])}]{unit}"
        text += (f" ({ci['resamples']} resamples used of {ci['requested']}, {ci['failed']} refused, seed {ci['seed']}, "
                 f"{ci['items']} images)")
        out.append(text)
    return out
