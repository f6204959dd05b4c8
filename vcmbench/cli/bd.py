"""``vcmbench bdrate``: BD-rate / BD-quality of a test curve against an anchor curve."""

from __future__ import annotations

import click

from .common import echo_json, table
from .params import FRACTION, FiniteFloat

METHOD_HELP = "pchip-jvet (default; the JCTVC/JVET spreadsheet), cubic, pchip, akima, pchip-trapz"
REMEDY_NAMES = ("drop-nonmono", "upper-hull", "monotone-fit")
EXTEND_NAMES = ("none", "low", "high", "both", "low-always", "high-always", "both-always")


@click.command("bdrate")
@click.option("--anchor", required=True, type=click.Path(exists=True), help="Anchor: CSV/TSV, result-set JSON or run directory.")
@click.option("--test", "test_", required=True, type=click.Path(exists=True), help="Test: same kinds of input.")
@click.option("--method", "-m", "methods", multiple=True, default=("pchip-jvet",), show_default=True,
              help=f"BD method; repeat for a comparison table: {METHOD_HELP}.")
@click.option("--rate-col", default=None, help="Rate column (CSV, default bpp) or 'bpp'/'bits' for result sets.")
@click.option("--quality-col", default=None, help="Quality column (CSV, default mAP) or accuracy key for result sets.")
@click.option("--scale", "scales", type=FiniteFloat(0.0, 1.0, min_open=True), multiple=True, help="Only these scales (fractions, e.g. 1.0, 0.5).")
@click.option("--remedy", "remedies", multiple=True, type=click.Choice(REMEDY_NAMES),
              help="Explicit remedy for non-monotonic curves (off by default; recorded in the signature).")
@click.option("--extend", type=click.Choice(EXTEND_NAMES), default="none", show_default=True,
              help="pchip-jvet extension mode (the VBA's bdRateExtend modes).")
@click.option("--min-overlap", type=FRACTION, default=0.75, show_default=True, help="Warn when the overlap is below this fraction.")
@click.option("--force", is_flag=True, help="Compare result sets whose signatures differ in a part that matters (recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bdrate(anchor, test_, methods, rate_col, quality_col, scales, remedies, extend, min_overlap, force, as_json):
    """BD-rate (percent, negative = the test saves rate) and BD-quality of TEST against ANCHOR.

    Prints BD-rate, BD-quality (BD-mAP / BD-PSNR, in the quality's units), the overlap of the
    quality ranges, the points used, the method and the signature.  Result sets with several
    scales give one row per scale present in both.  Non-monotonic curves, too few points,
    duplicate rates and non-overlapping curves are refused (exit code 2) unless a remedy is named.

    \b
    Example:
      vcmbench bdrate --anchor anchor.csv --test proposal.csv -m pchip-jvet -m cubic
      vcmbench bdrate --anchor runs/vtm --test runs/vvenc --json
    """
    from ..core.errors import BDError
    from ..report.inputs import compare_inputs, load_curves

    a = load_curves(anchor, rate_col, quality_col)
    t = load_curves(test_, rate_col, quality_col)
    rows = compare_inputs(a, t, list(dict.fromkeys(methods)), remedies=tuple(remedies), extend=extend,
                          scales=list(scales), force=force, min_overlap=min_overlap)
    if as_json:
        echo_json({"anchor": a.source, "test": t.source, "rate": a.rate_name, "quality": a.quality_name,
                   "results": [{"method": r["method"], "scale": r["scale"], "signature": r["signature"],
                                "forced": r["forced"], "error": r["error"],
                                **({"bd": r["result"].to_dict()} if r["result"] else {})} for r in rows]})
    else:
        click.echo(f"anchor: {a.source} ({a.label})   test: {t.source} ({t.label})")
        click.echo(f"rate: {a.rate_name}   quality: {a.quality_name}")
        body = []
        for r in rows:
            res = r["result"]
            sc = "-" if r["scale"] is None else f"{r['scale']:.0%}"
            if res is None:
                body.append([r["method"], sc, "not computed", "", "", "", r["error"]])
            else:
                q = "n/a" if res.bd_quality is None else f"{res.bd_quality:+.4f}"
                body.append([res.signature_part, sc, f"{res.bd_rate_pct:+.4f} %", q, f"{res.overlap:.1%}",
                             f"{res.points_anchor}/{res.points_test}", r["signature"]])
        click.echo(table(["method", "scale", "BD-rate", "BD-quality", "overlap", "points A/T", "signature"], body))
    for r in rows:
        res = r["result"]
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
