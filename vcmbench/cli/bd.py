"""``vcmbench bdrate``: BD-rate / BD-quality of a test curve against an anchor curve."""

from __future__ import annotations

import click

from .common import EXTEND_NAMES, REMEDY_NAMES, echo_json, percent_list, table
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
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--ci", "ci_level", default=None, metavar="LEVEL",
              help="Confidence interval at LEVEL percent (e.g. 95): paired bootstrap over the images of run "
                   "directories (CSV inputs have no per-image records: the interval is marked unavailable).")
@click.option("--resamples", default=1000, show_default=True, type=int, help="Bootstrap resamples for --ci (>= 100).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the bootstrap draws for --ci.")
def bdrate(anchor, test_, methods, rate_col, quality_col, scales, remedies, extend, min_overlap, force, as_json,
           ci_level, resamples, seed):
    """BD-rate (percent, negative = the test saves rate) and BD-quality of TEST against ANCHOR.

    Prints BD-rate, BD-quality (BD-mAP / BD-PSNR, in the quality's units), the overlap of the
    quality ranges, the points used, the method and the signature.  Inputs with several
    scales give one row per scale present in both; a CSV with a Dataset (sequence, class)
    column gives one row per dataset (a curve per dataset, never one pooled curve).  Non-monotonic curves, too few points,
    duplicate rates and non-overlapping curves are refused (exit code 2) unless a remedy is named.

    \b
    Example:
      vcmbench bdrate --anchor anchor.csv --test proposal.csv -m pchip-jvet -m cubic
      vcmbench bdrate --anchor runs/vtm --test runs/vvenc --scale 75 --json
      vcmbench bdrate --anchor final_OIV6_anchor.csv --test final_OIV6.csv --remedy cubic-fit-pcs2024
      vcmbench bdrate --anchor runs/vtm --test runs/vvenc --ci 95 --resamples 1000 --seed 0 --json

    With --ci LEVEL, each BD-rate gets a LEVEL % confidence interval: a paired percentile bootstrap
    over the images (the same draw for anchor and test and every point), rate and accuracy of each
    point recomputed from the run's per-image records.  It measures the sampling uncertainty of the
    image set only, not codec or network variation.
    """
    from ..core.errors import BDError
    from ..report.inputs import compare_inputs, load_curves

    scales = percent_list(scales, "scale")
    if ci_level is not None:
        from ..run.bootstrap import check_options

        ci_level, resamples, seed = check_options(ci_level, resamples, seed)

    a = load_curves(anchor, rate_col, quality_col)
    t = load_curves(test_, rate_col, quality_col)
    rows = compare_inputs(a, t, list(dict.fromkeys(methods)), remedies=tuple(remedies), extend=extend,
                          scales=scales, force=force, min_overlap=min_overlap)
    if ci_level is not None:
        from ..report.ci import attach_to_rows

        attach_to_rows(rows, a, t, level=ci_level, resamples=resamples, seed=seed, remedies=tuple(remedies),
                       extend=extend, min_overlap=min_overlap)
    if as_json:
        echo_json({"anchor": a.source, "test": t.source, "rate": a.rate_name, "quality": a.quality_name,
                   "results": [{"method": r["method"], "group": r["group"],
                                "scale_pct": None if r["scale"] is None else round(r["scale"] * 100, 6),
                                "signature": r["signature"],
                                "forced": r["forced"], "error": r["error"],
                                **({"ci": r["ci"]} if ci_level is not None else {}),
                                **({"bd": r["result"].to_dict()} if r["result"] else {})} for r in rows]})
    else:
        click.echo(f"anchor: {a.source} ({a.label})   test: {t.source} ({t.label})")
        click.echo(f"rate: {a.rate_name}   quality: {a.quality_name}")
        grouped = any(r["group"] is not None for r in rows)
        body = []
        for r in rows:
            res = r["result"]
            sc = "-" if r["scale"] is None else f"{r['scale'] * 100:g} %"
            first = ([r["group"] or "-"] if grouped else []) + [r["method"] if res is None else res.signature_part, sc]
            if res is None:
                body.append(first + ["not computed", "", "", "", ""])
            else:
                q = "n/a" if res.bd_quality is None else f"{res.bd_quality:+.4f}"
                body.append(first + [f"{res.bd_rate_pct:+.4f} %", q, f"{res.overlap:.1%}",
                                     f"{res.points_anchor}/{res.points_test}", "FORCED" if r["forced"] else ""])
        click.echo(table((["dataset"] if grouped else []) + ["method", "scale", "BD-rate", "BD-quality", "overlap",
                                                              "points A/T", "note"], body))
        for r in rows:
            if r["error"]:
                where = " ".join(x for x in (r["group"], None if r["scale"] is None else f"{r['scale'] * 100:g} %") if x)
                click.echo(f"not computed ({r['method']}{', ' + where if where else ''}): {r['error']}", err=True)
        if ci_level is not None:
            for line in ci_lines(rows, a.quality_name):
                click.echo(line)
        sigs = list(dict.fromkeys(r["signature"] for r in rows if r["result"]))
        for sg in sigs:
            click.echo(f"signature: {sg}")
    for r in rows:
        res = r["result"]
        for w in ((r.get("ci") or {}).get("warnings") or []):
            click.echo(f"warning: {r['method']}: confidence interval: {w}", err=True)
        for w in (res.warnings if res else []):
            click.echo(f"warning: {r['method']}: {w}", err=True)
        for n in (res.notes if res else []):
            click.echo(f"note: {r['method']}: {n}", err=True)
        if res and res.bd_quality_error:
            click.echo(f"note: {r['method']}: BD-quality not computed: {res.bd_quality_error}", err=True)
        if r["forced"]:
            click.echo(f"warning: FORCED despite differing signature parts {r['forced']}", err=True)
    failed = [r for r in rows if r["error"]]
    if failed:
        raise BDError(f"{len(failed)} of {len(rows)} BD computation(s) refused; first: {failed[0]['method']}: "
                      f"{failed[0]['error']}")


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
