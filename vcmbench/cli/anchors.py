"""`vcmbench anchors ...`: list, show, verify (regression check) and update the stored anchors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..core.errors import EXIT_REGRESSION, EXIT_USAGE
from .common import echo_json, executor_options, exit_with, table


def _dir(ctx: click.Context) -> str | None:
    return (ctx.obj or {}).get("anchors_dir")


@click.group("anchors")
@click.option("--anchors-dir", type=click.Path(file_okay=False), envvar="VCMBENCH_ANCHORS_DIR",
              help="Anchor store to use instead of the shipped anchors/ (env VCMBENCH_ANCHORS_DIR); "
                   "needed for `update` when the package is installed read-only.")
@click.pass_context
def anchors(ctx: click.Context, anchors_dir: str | None) -> None:
    """Stored reference results: regression anchors, published and smoke references.

    Each anchor holds rows (label, scale, QP, metric, expected, tolerance), the signature of the
    results it stores, its source and a history of every change. `verify` compares a run row by
    row and exits with code 3 when anything is out of tolerance.

    \b
    Example:
      vcmbench anchors list
      vcmbench anchors verify demo
    """
    ctx.ensure_object(dict)
    ctx.obj["anchors_dir"] = anchors_dir


@anchors.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the stored anchors (exit 2 if a file is invalid; it is listed with the problem).

    \b
    Example:
      vcmbench anchors list --json
    """
    from ..anchors import anchors_dir, list_anchors, load_anchor
    from ..core.errors import VcmbenchError

    out, broken = [], False
    for name in list_anchors(_dir(ctx)):
        try:
            a = load_anchor(name, _dir(ctx))
        except VcmbenchError as exc:
            broken = True
            out.append({"name": name, "kind": "INVALID", "condition": "", "labels": [], "rows": 0,
                        "title": str(exc), "updated": ""})
            continue
        out.append({"name": a.name, "kind": a.kind, "condition": a.condition, "labels": a.labels,
                    "rows": len(a.rows), "title": a.title, "updated": (a.history[-1]["date"] if a.history else "")})
    if as_json:
        echo_json(out)
    elif not out:
        click.echo(f"No anchors in {anchors_dir(_dir(ctx))}.")
    else:
        click.echo(table(["name", "kind", "condition", "rows", "labels", "title"],
                         [(r["name"], r["kind"], r["condition"], r["rows"], ",".join(r["labels"]), r["title"])
                          for r in out]))
    if broken:
        exit_with(EXIT_USAGE)


@anchors.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the anchor file's content as JSON.")
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show one anchor: source, signature, notes, rows with tolerances, history.

    \b
    Example:
      vcmbench anchors show seed-s1-table2
    """
    from ..anchors import load_anchor
    from ..core.units import scale_pct, scale_text

    a = load_anchor(name, _dir(ctx))
    if as_json:  # the anchor file's content; each row gains ``scale_pct`` (the file's ``scale`` is a fraction)
        d = a.to_dict()
        for row in d["rows"]:
            row["scale_pct"] = scale_pct(row["scale"])
        echo_json(d)
        return
    click.echo(f"{a.name}  ({a.kind})  {a.title}")
    click.echo(f"condition:  {a.condition}")
    click.echo(f"signature:  {a.signature}")
    click.echo(f"source:     {a.source}")
    if a.tolerance_rule:
        click.echo(f"tolerances: {a.tolerance_rule}")
    for k, spec in a.metric_keys.items():
        click.echo(f"metric {k!r} is compared with the run's {spec['key']!r} x {spec.get('factor', 1.0):g}")
    for n in a.notes:
        click.echo(f"note: {n}")
    for rep in a.reported:
        click.echo(f"reported: {rep.get('printed') or rep}"
                   + (f" — {rep['recomputed_note']}" if rep.get("recomputed_note") else ""))
    click.echo("")
    click.echo(table(["label", "scale", "QP", "metric", "expected", "tolerance", "unit"],
                     [(r.label, scale_text(r.scale), r.qp, r.metric, r.printed or _fmt(r.expected), _tol(r), r.unit)
                      for r in a.rows], optional=["unit"]))
    click.echo("")
    click.echo("history:")
    for h in a.history:
        click.echo(f"  {h.get('date')}  {h.get('reason')}" + (f"  (from {h['from_run']})" if h.get("from_run") else ""))


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if float(v).is_integer() and abs(v) >= 1:
        return str(int(v))
    return f"{v:.10g}"


def _tol(row) -> str:
    t = f"±{row.tolerance:.3g}" if row.tolerance else ("exact" if not row.rel_tolerance else "")
    if row.rel_tolerance:
        t = (t + " + " if t else "±") + f"{row.rel_tolerance:.3g}×|expected|"
    return t


def _expand_runs(paths: list[str]) -> list[str]:
    """Run directories; a `vcmbench demo` output folder stands for its anchor/ and test/ runs."""
    out = []
    for p in paths:
        d = Path(p)
        if d.is_dir() and not (d / "resultset.json").exists() and all((d / r / "resultset.json").exists()
                                                                     for r in ("anchor", "test")):
            out += [str(d / "anchor"), str(d / "test")]
        else:
            out.append(p)
    return out


def _rerun(anchor, work_dir: str | None, ex_choice=None) -> tuple[list[tuple[object, str]], Path]:
    """Re-run what an anchor stores (only anchors with a ``rerun`` recipe, i.e. the demo)."""
    from ..core.errors import UsageError
    from ..core.records import load_result_set

    if anchor.rerun != "demo":
        raise UsageError(
            f"Anchor {anchor.name!r} ({anchor.kind}) cannot be re-run by vcmbench: verify it against your own run "
            f"of condition {anchor.condition!r} with --run RUNDIR.")
    import tempfile

    from ..demo import run_demo

    out = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="vcmbench-anchor-demo-"))
    click.echo(f"re-running the demo into {out} (a few minutes)...", err=True)
    from ..run.progress import renderer_for

    if ex_choice is None:
        res = run_demo(out, progress=renderer_for(sys.stderr))
    else:
        with ex_choice.make(tasks=True) as ex:
            res = run_demo(out, progress=renderer_for(sys.stderr), executor=ex)
    return [(load_result_set(d), str(d)) for d in (res.anchor_dir, res.test_dir)], out


@anchors.command("verify")
@click.argument("name")
@click.option("--run", "run_dir", type=click.Path(exists=True), multiple=True,
              help="A finished run directory (or its resultset.json, or a `vcmbench demo` output folder) to "
                   "compare; repeatable. Without it the anchor is re-run (the demo anchor only).")
@click.option("--label", default=None, help="Which of the anchor's curves the run reproduces (e.g. anchor, proposal-rcan).")
@click.option("--work-dir", type=click.Path(file_okay=False), default=None,
              help="Where a re-run writes its run directory (default: a new temporary directory).")
@executor_options
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.pass_context
def verify(ctx: click.Context, name: str, run_dir: tuple[str, ...], label: str | None, work_dir: str | None,
           ex_choice, as_json: bool) -> None:
    """Compare a run with an anchor row by row; exit 3 when anything is out of tolerance.

    Refuses (exit 2) when a signature part that matters differs, naming the part. A smoke reference
    that fails also exits 3, labelled as a smoke check (a gross-error detector, not conformance).

    \b
    Example:
      vcmbench anchors verify demo
      vcmbench anchors verify cav-vtm12-oiv6-det-smoke --run runs/vcm-oiv6-det-vtm
    """
    from ..anchors import compare, load_anchor
    from ..core.errors import UsageError
    from ..core.records import load_result_set

    a = load_anchor(name, _dir(ctx))
    scratch = None
    if run_dir:
        runs = [(load_result_set(p), p) for p in _expand_runs(list(run_dir))]
    else:
        runs, out = _rerun(a, work_dir, ex_choice)
        scratch = None if work_dir else out
    if label and len(runs) > 1:
        raise UsageError("--label applies to a single run; give one --run.")
    results = []
    for rs, where in runs:
        lab = label
        if lab is None and len(runs) > 1 and rs.label not in a.labels:
            raise UsageError(f"Run {where} carries label {rs.label!r}, which anchor {a.name!r} does not hold "
                             f"({', '.join(a.labels)}).")
        results.append((compare(a, rs, lab), where))
    if as_json:
        out = [{**c.to_dict(), "run": w} for c, w in results]
        echo_json(out[0] if len(out) == 1 else out)
    else:
        for c, w in results:
            _print_comparison(a, c, w)
    if not all(c.passed for c, _ in results):
        if scratch is not None:
            click.echo(f"the re-run is kept for inspection in {scratch}", err=True)
        exit_with(EXIT_REGRESSION)
    if scratch is not None:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


def _print_comparison(a, cmp, where: str) -> None:
    from ..core.units import scale_text

    click.echo(f"anchor {a.name} ({a.kind}, label {cmp.label!r}) vs run {where} (label {cmp.run_label!r})")
    click.echo(f"signature parts checked: {', '.join(cmp.checked_parts) or '-'}"
               + (f"; not recorded by the anchor, not checked: {', '.join(cmp.unchecked_parts)}"
                  if cmp.unchecked_parts else ""))
    for line in cmp.info:
        click.echo(f"note: {line}")
    rows = []
    for r in cmp.rows:
        mark = {"ok": "ok", "out-of-tolerance": "DIFFERS", "missing": "missing"}[r.status]
        rows.append((r.row.label, scale_text(r.row.scale), r.row.qp, r.row.metric, r.row.printed or _fmt(r.row.expected),
                     _fmt(r.actual), "" if r.diff is None else f"{r.diff:+.3g}", _tol(r.row), mark, r.detail))
    click.echo(table(["label", "scale", "QP", "metric", "expected", "actual", "diff", "tolerance", "status", "detail"],
                     rows))
    n, bad = len(cmp.rows), len(cmp.failures)
    missing = sum(r.status == "missing" for r in cmp.rows)
    if cmp.passed:
        extra = f"; {missing} row(s) not in the run" if missing else ""
        click.echo(f"PASS: {cmp.compared} of {n} row(s) within tolerance{extra}.")
        if a.kind == "smoke-reference":
            click.echo("(smoke reference: a gross-error check, not a conformance verdict)")
        _print_environment(cmp)
        return
    if a.kind == "smoke-reference":
        click.echo(f"SMOKE CHECK FAILED: {bad} of {n} row(s) out of tolerance. This is a smoke reference (public "
                   "figures flagged as provisional by their source): look for a gross error — wrong QP, scale, "
                   "colour conversion or detector.")
    else:
        click.echo(f"REGRESSION: {bad} of {n} row(s) out of tolerance or missing. If the change is intended, "
                   f"record it with `vcmbench anchors update {a.name} --from RUNDIR --reason \"...\"`.")
    _print_environment(cmp)


def _print_environment(cmp) -> None:
    """The results-affecting packages that differ from the anchor's run, next to the verdict."""
    if cmp.environment_note:
        click.echo(f"note: {cmp.environment_note}.")
    elif cmp.environment_changes:
        head = ("These results-affecting packages differ from the anchor's run" if not cmp.passed else
                "note: these results-affecting packages differ from the anchor's run (the rows still agree)")
        click.echo(f"{head}:")
        for change in cmp.environment_changes:
            click.echo(f"  {change}")
    elif not cmp.passed:
        click.echo("No results-affecting package (nor the FFmpeg build) differs from the anchor's run.")


@anchors.command("update")
@click.argument("name")
@click.option("--from", "from_run", required=True, type=click.Path(exists=True), multiple=True,
              help="The run directory (or resultset.json, or a `vcmbench demo` output folder) whose numbers "
                   "become the anchor's; repeatable (one curve per run label).")
@click.option("--reason", required=True, help="Why the anchor changes; recorded in its history.")
@click.option("--create", is_flag=True, help="Create the anchor if it does not exist yet.")
@click.option("--title", default=None, help="Title of a newly created anchor.")
@click.option("--note", "notes", multiple=True, help="A note to add to the anchor (repeatable).")
@click.option("--rerun", type=click.Choice(["demo"]), default=None,
              help="How `verify` re-runs this anchor without --run (only the demo can be re-run).")
@click.pass_context
def update(ctx: click.Context, name: str, from_run: tuple[str, ...], reason: str, create: bool, title: str | None,
           notes: tuple[str, ...], rerun: str | None) -> None:
    """Replace a regression anchor's numbers by a run's, with a reason recorded in its history.

    Anchors never change silently: this is the only command that writes them, atomically.
    Published and smoke references are facts from their source and are refused.

    \b
    Example:
      vcmbench anchors update demo --from demo-out --reason "VVenC 1.15 -> 1.16: rates move"
    """
    from ..anchors import update_anchor
    from ..core.records import load_result_set

    paths = _expand_runs(list(from_run))
    sets = [load_result_set(p) for p in paths]
    anchor, changes = update_anchor(name, sets, reason, [os.path.abspath(p) for p in paths], directory=_dir(ctx),
                                    create=create, title=title, rerun=rerun, notes=notes)
    click.echo(f"anchor {anchor.name} written to {anchor.path}: {len(anchor.rows)} row(s), "
               f"{len(changes)} change(s).")
    for c in changes[:50]:
        click.echo(f"  {c}")
    if len(changes) > 50:
        click.echo(f"  ... and {len(changes) - 50} more")


def _sub_anchors_dir(ctx: click.Context, _param, value):
    if value:
        ctx.ensure_object(dict)
        ctx.obj["anchors_dir"] = value
    return value


# Group options are accepted after the subcommand too (`vcmbench anchors list --anchors-dir DIR`).
for _cmd in anchors.commands.values():
    _cmd.params.append(click.Option(["--anchors-dir"], type=click.Path(file_okay=False), expose_value=False,
                                    is_eager=True, callback=_sub_anchors_dir,
                                    help="Anchor store to use (as `vcmbench anchors --anchors-dir DIR ...`)."))
