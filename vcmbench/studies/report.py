"""Study report sections: xlsx (openpyxl, one sheet per table, the published figures beside), HTML
(``templates/study.html.j2`` of the shared family, plots as inline SVG) and .docx (the contribution's
A4 styles of ``report.docx``: numbered tables and figures with SEQ caption fields, the same cells as
the HTML — figures with 4 decimals, as the study tables store them).

Plots: matplotlib (a dependency) renders lines (accuracy against strength or rate) and the S3 heat
map (ΔAP per map x factor, one panel per object scale) to inline SVG through ``report.plots.svg``
(no XML prolog, DOCTYPE, metadata or namespace URLs; deterministic).  The heat map's values are
also written as a table.

Published vs reproduced (:func:`comparison`): a reproduced table that carries ``compare`` (the study table
contract: the published table, the corresponding rows and columns, the paper's units, ``order_by``) gets a
side-by-side table — per paired row and column: the published figure as transcribed, the reproduced one
converted to the paper's units, its 95 % bootstrap interval (``ci``), the difference — with the number
of images and the trend verdict of ``studies.stats.trend_verdict`` over the paired rows of ``order_by``.
Conversion: ``units: percent`` multiplies a reproduced accuracy stored as a fraction (``core.units
.is_fraction_key`` of the column, a leading ``Δ`` ignored: AP, ΔAPs, mAP, accuracy …) by 100; other
columns and units are compared as stored; ``compare.factors`` ({reproduced column: factor}) overrides.
Under it: the study's declared deviations and this run's own facts (network, weights, data, images,
overrides, settings: ``run`` from ``OUT/study.json``, :func:`load_results`).
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any, Sequence

from ..core.jsonio import atomic_write_bytes, atomic_write_text, read_json

# decimals of a reproduced figure in the paper's units (core.units: accuracy in percent 3, PSNR 2)
UNIT_DECIMALS = {"percent": 3, "dB": 2, "years": 3}
SIDE_COLUMNS = ["row", "quantity", "published", "reproduced", "95 % interval", "reproduced − published"]
VERDICT_WORDS = {"yes": "yes: the reproduced ordering agrees with the paper's",
                 "no": "no: the reproduced ordering contradicts the paper's beyond the intervals",
                 "not significant": "not significant: the intervals of the rows that decide it overlap"}


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def factor_of(compare: dict[str, Any], column: str, unit: str | None = None) -> float:
    """The factor that converts reproduced ``column`` to the paper's units (see the module doc).  ``unit``: the
    column's own unit (``compare.column_units``, aligned with ``compare.columns``), where a study gives one:
    ``percent`` there means a fraction shown x 100."""
    from ..core.units import is_fraction_key

    given = (compare.get("factors") or {}).get(column)
    if given is not None:
        return float(given)
    if unit is not None and compare.get("column_units"):
        return 100.0 if unit == "percent" else 1.0
    return 100.0 if compare.get("units") == "percent" and is_fraction_key(str(column).lstrip("Δ")) else 1.0


def _label(rep_row: Sequence[Any], pub_row: Sequence[Any], i: int) -> str:
    parts = [str(v) for v in rep_row if isinstance(v, str)]
    if parts:
        return " · ".join(parts)
    parts = [str(v) for v in pub_row if isinstance(v, str)]
    return " · ".join(parts) if parts else f"row {i + 1}"


def _published_text(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    return f"{v:d}" if isinstance(v, int) else f"{float(v):g}"


def comparison(res: dict[str, Any], table: dict[str, Any]) -> dict[str, Any] | None:
    """The side-by-side comparison of reproduced ``table`` (with ``compare``) and its published table, or None
    when the table has no ``compare``.  Rows: ``{"row", "quantity", "published", "reproduced", "interval",
    "difference", "text": [cells as shown]}`` (numbers in the paper's units); ``verdict``: the trend verdict
    of ``order_by`` over the paired rows (``studies.stats.trend_verdict``) with ``text``."""
    from ..core.errors import DataError
    from ..core.templating import fixed
    from .stats import trend_verdict

    cmp = table.get("compare")
    if not cmp:
        return None
    pubs = {t["name"]: t for t in (res.get("published") or {}).get("tables", [])}
    pub = pubs.get(cmp.get("published"))
    if pub is None:
        raise DataError(f"Table {table['name']!r} of study {res.get('study')} compares with the published table "
                        f"{cmp.get('published')!r}, which the study does not hold ({', '.join(pubs) or 'none'}); "
                        "fix the study's summary or its published tables.")
    cols, pcols = list(table["columns"]), list(pub["columns"])
    units = str(cmp.get("units", ""))
    cis = table.get("ci") or []
    pairs_c = []
    for n, (rc, pc) in enumerate(cmp.get("columns", [])):
        # a column is named, or given by its index (a study's summary may give either)
        rc = cols[rc] if isinstance(rc, int) and not isinstance(rc, bool) and 0 <= rc < len(cols) else rc
        pc = pcols[pc] if isinstance(pc, int) and not isinstance(pc, bool) and 0 <= pc < len(pcols) else pc
        if rc not in cols or pc not in pcols:
            raise DataError(f"Table {table['name']!r}: compare names column {rc if rc not in cols else pc!r}, which "
                            "its table does not have; fix the study's summary.")
        cu = list(cmp.get("column_units") or [])
        pairs_c.append((rc, pc, str(cu[n]) if n < len(cu) else units))
    rows = []
    for rc, pc, cunit in pairs_c:
        f = factor_of(cmp, rc, cunit)
        decimals = UNIT_DECIMALS.get(cunit, 4)
        signed = str(rc).startswith("Δ")
        for ri, pi in cmp.get("rows", []):
            rrow, prow = table["rows"][ri], pub["rows"][pi]
            rv, pv = rrow[cols.index(rc)], prow[pcols.index(pc)]
            iv = cis[ri][cols.index(rc)] if ri < len(cis) and cols.index(rc) < len(cis[ri]) else None
            rv = float(rv) * f if _finite(rv) else None
            iv = [float(iv[0]) * f, float(iv[1]) * f] if iv and all(_finite(x) for x in iv) else None
            pv = pv if _finite(pv) else None
            diff = rv - float(pv) if rv is not None and pv is not None else None
            label = _label(rrow, prow, ri)
            rows.append({"row": label, "quantity": str(pc), "published": pv, "reproduced": rv, "interval": iv,
                         "difference": diff, "text": [
                             label, str(pc), _published_text(pv),
                             "–" if rv is None else fixed(rv, decimals, signed=signed),
                             "–" if iv is None else f"{fixed(iv[0], decimals, signed=signed)} … "
                                                    f"{fixed(iv[1], decimals, signed=signed)}",
                             "–" if diff is None else fixed(diff, decimals, signed=True)]})
    ob = cmp.get("order_by")
    pairs = cmp.get("rows", [])
    pc_of = {rc: pc for rc, pc, _ in pairs_c}
    if cmp.get("order_across") == "columns" and len(pairs) == 1:
        # the paper's claim is an ordering across the compared columns of one row (S4: original < restored < masked)
        (ri, pi), = pairs
        k = [cols.index(rc) for rc, _, _ in pairs_c]
        v = trend_verdict([pub["rows"][pi][pcols.index(pc)] for _, pc, _ in pairs_c],
                          [table["rows"][ri][j] for j in k],
                          [cis[ri][j] if ri < len(cis) and j < len(cis[ri]) else None for j in k])
        what, across = "the compared columns", f"{len(pairs_c)} columns of the paired row"
        ob = ", ".join(rc for rc, _, _ in pairs_c)
    elif ob in cols and ob in pc_of:
        k = cols.index(ob)
        v = trend_verdict([pub["rows"][pi][pcols.index(pc_of[ob])] for _, pi in pairs],
                          [table["rows"][ri][k] for ri, _ in pairs],
                          [cis[ri][k] if ri < len(cis) and k < len(cis[ri]) else None for ri, _ in pairs])
        what, across = ob, f"{len(pairs)} paired rows"
    else:
        v = {"verdict": None, "claims": 0}
        what, across = ob, ""
    if v["verdict"] is None:
        why = (f"no published ordering of {what} to test ({across})" if across else
               f"no published column for {ob!r}")
        text = f"Trend verdict: none — {why}."
    else:
        text = (f"Trend verdict on the ordering of {what} across {across}: "
                f"{VERDICT_WORDS[v['verdict']]} ({v['agree']} of {v['claims']} published orderings agree, "
                f"{v['separated']} of them beyond the intervals; {v.get('contradicted', 0)} contradicted).")
    images = table.get("images", res.get("images"))
    title = f"{table['name']} beside the published {pub['name']}"
    note = (f"{images} images; published figures as transcribed; reproduced figures in the paper's units "
            f"({units or 'as stored'}) with their 95 % bootstrap interval over images.")
    return {"name": title, "published": pub["name"], "units": units, "images": images, "columns": SIDE_COLUMNS,
            "rows": rows, "verdict": {**v, "text": text, "order_by": ob}, "note": note,
            "higher_is_better": cmp.get("higher_is_better")}


def deviations_line(res: dict[str, Any]) -> str:
    """One line under a comparison: the study's declared deviations (by name) and this run's network and data."""
    devs = [str(d.get("what", "")) for d in res.get("deviations") or []]
    facts = {k: v for k, v in run_facts(res)}
    parts = [f"Deviations from the paper declared by the study: {', '.join(devs) if devs else 'none'} (listed below)."]
    if facts:
        parts.append(f"This run: network {facts.get('network', '–')}"
                     + (f", weights {facts['weights']}" if facts.get("weights") else "")
                     + f"; data {facts.get('data', '–')}"
                     + ("; overrides " + facts["overrides of the study file"] if facts.get("overrides of the study file")
                        else "") + ".")
    return " ".join(parts)


def run_facts(res: dict[str, Any]) -> list[list[str]]:
    """This run's own network, data and settings (``res["run"]``, from OUT/study.json) as [what, value] rows."""
    import json

    run = res.get("run") or {}
    if not run:
        return []
    study = run.get("study") or {}
    task = study.get("task") or {}
    opts = (run.get("options") or {}).get("task_options") or {}
    rows = [["network", str(task.get("network", "–")) + (f" (split at {task['split_point']})"
                                                          if task.get("split_point") else "")]]
    if opts.get("weights"):
        rows.append(["weights", Path(str(opts["weights"])).name])
    data = str(study.get("condition", "–"))
    if run.get("data_dir"):
        data += f" from {Path(str(run['data_dir'])).name}"
    rows.append(["data", data + f", {res.get('images')} images" + (f" (--limit {run['limit']})" if run.get("limit")
                                                                     else "")])
    if study.get("overrides"):
        rows.append(["overrides of the study file", json.dumps(study["overrides"], sort_keys=True, ensure_ascii=False)])
    rows.append(["settings", json.dumps(study.get("settings") or {}, sort_keys=True, ensure_ascii=False)])
    boot = res.get("bootstrap")
    if boot:
        rows.append(["bootstrap", f"{boot.get('resamples')} resamples of the images, "
                                  f"{100 * float(boot.get('level', 0.95)):g} % percentile interval, seed {boot.get('seed')}"])
    return rows


def load_results(out: str | Path) -> dict[str, Any]:
    """``OUT/study-results.json`` with ``run``: what ``OUT/study.json`` records of the run (the study as run,
    data folder, limit, options); the report's deviations of the run come from it."""
    from .runner import read_results

    res = read_results(out)
    p = Path(out) / "study.json"
    if p.is_file():
        res = {**res, "run": read_json(p)}
    return res


def _cell(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return v


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "-", name)[:28]
    n, out = 1, base
    while out in used:
        n += 1
        out = f"{base[:26]}~{n}"
    used.add(out)
    return out


def write_xlsx(results: Sequence[dict[str, Any]], path: str | Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ..core.sheets import append_row  # every string from a study (labels, names, notes) is text

    wb = Workbook()
    ws0 = wb.active
    ws0.title = "studies"
    append_row(ws0, ["study", "title", "images", "signature", "reproduces"])
    used = {"studies"}
    for res in results:
        pub = res.get("published") or {}
        append_row(ws0, [res["study"], res["title"], res.get("images"), res["signature"], pub.get("source", "")])
        for t in res["tables"]:
            ws = wb.create_sheet(_sheet_name(t["name"], used))
            append_row(ws, [t["name"]])
            ws["A1"].font = Font(bold=True)
            append_row(ws, [f"study {res['study']} — {res['signature']}"])
            if table_note(t):
                append_row(ws, [table_note(t)])
            append_row(ws, list(t["columns"]))
            for c in ws[ws.max_row]:
                c.font = Font(bold=True)
            for row in t["rows"]:
                append_row(ws, [_cell(v) for v in row])
            ivs = interval_texts(t)
            if ivs:
                append_row(ws, [f"95 % bootstrap intervals over {t.get('images', '?')} images (lo … hi), cell by cell:"])
                for row in ivs:
                    append_row(ws, row)
            cmp = comparison(res, t)
            if cmp:
                ws = wb.create_sheet(_sheet_name(f"vs {t['name']}", used))
                append_row(ws, [cmp["name"]])
                ws["A1"].font = Font(bold=True)
                append_row(ws, [cmp["note"]])
                append_row(ws, ["row", "quantity", f"published ({cmp['units'] or 'as stored'})", "reproduced",
                                "interval low", "interval high", "reproduced − published"])
                for c in ws[ws.max_row]:
                    c.font = Font(bold=True)
                for r in cmp["rows"]:
                    iv = r["interval"] or [None, None]
                    append_row(ws, [r["row"], r["quantity"], r["published"], r["reproduced"], iv[0], iv[1],
                                    r["difference"]])
                append_row(ws, [cmp["verdict"]["text"]])
                append_row(ws, ["verdict", cmp["verdict"]["verdict"] or "none"])
                append_row(ws, [deviations_line(res)])
        for t in pub.get("tables", []):
            ws = wb.create_sheet(_sheet_name(f"pub {t['name']}", used))
            append_row(ws, [f"Published: {t['name']}"])
            ws["A1"].font = Font(bold=True)
            append_row(ws, [pub.get("source", "")])
            for note in (pub.get("note"), t.get("note")):
                if note:
                    append_row(ws, [note])
            append_row(ws, list(t["columns"]))
            for row in t["rows"]:
                append_row(ws, [_cell(v) for v in row])
        if res.get("deviations"):
            ws = wb.create_sheet(_sheet_name(f"dev {res['study']}", used))
            append_row(ws, [f"Deviations from the paper: {res['study']}"])
            ws["A1"].font = Font(bold=True)
            append_row(ws, ["what", "paper", "here", "why"])
            for d in res["deviations"]:
                append_row(ws, [str(d.get(k, "")) for k in ("what", "paper", "here", "why")])
        facts = run_facts(res)
        if facts:
            ws = wb.create_sheet(_sheet_name(f"run {res['study']}", used))
            append_row(ws, [f"This run of {res['study']}: network, data and settings actually used"])
            ws["A1"].font = Font(bold=True)
            for row in facts:
                append_row(ws, row)
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


def _figure(w: float, h: float):
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h))


def _svg(fig) -> str:
    from ..report.plots import svg

    return svg(fig)


def plot_svg(plot: dict[str, Any]) -> str:
    fig = plot_figure(plot)
    return "" if fig is None else _svg(fig)


def plot_figure(plot: dict[str, Any]):
    """The matplotlib figure of one study plot (lines or heat map); None for an unknown or empty plot."""
    if plot["kind"] == "lines":
        fig = _figure(6, 3.6)
        ax = fig.add_subplot()
        for s in plot["series"]:
            pts = sorted(tuple(p) for p in s["points"])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s["label"])
        if plot.get("baseline") is not None:
            ax.axhline(plot["baseline"], color="grey", ls=":", label="clean")
        ax.set_xlabel(plot["x_label"])
        ax.set_ylabel(plot["y_label"])
        ax.set_title(plot["name"], fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig
    if plot["kind"] == "heatmap":
        return heatmap_figure(plot)
    return None


def heatmap_grid(plot: dict[str, Any]) -> tuple[list[str], list[int], dict[str, list[list[float | None]]]]:
    maps = list(plot["maps"])
    factors = sorted({int(c["factor"]) for c in plot["cells"]})
    grids = {}
    for s in plot["scales"]:
        g: list[list[float | None]] = [[None] * len(factors) for _ in maps]
        for c in plot["cells"]:
            v = c.get(s)
            g[maps.index(c["map"])][factors.index(int(c["factor"]))] = v
        grids[s] = g
    return maps, factors, grids


def heatmap_svg(plot: dict[str, Any]) -> str:
    fig = heatmap_figure(plot)
    return "" if fig is None else _svg(fig)


def heatmap_figure(plot: dict[str, Any]):
    maps, factors, grids = heatmap_grid(plot)
    if not factors:
        return None
    import numpy as np

    vals = [abs(v) for g in grids.values() for r in g for v in r if v is not None and math.isfinite(v)]
    lim = max(vals) if vals else 1.0
    fig = _figure(3.0 * len(grids), 0.45 * len(maps) + 1.6)
    axes = fig.subplots(1, len(grids), squeeze=False)
    for ax, (s, g) in zip(axes[0], grids.items()):
        arr = np.array([[np.nan if v is None else v for v in r] for r in g], float)
        im = ax.imshow(arr, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_xticks(range(len(factors)), [str(f) for f in factors])
        ax.set_yticks(range(len(maps)), maps)
        ax.set_xlabel("factor")
        ax.set_title(f"ΔAP {s}", fontsize=9)
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                if np.isfinite(arr[i, j]):
                    ax.text(j, i, f"{arr[i, j] * 100:+.1f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    fig.suptitle(plot["name"] + " (points x100)", fontsize=10)
    return fig


def write_html(results: Sequence[dict[str, Any]], path: str | Path, out_dirs: Sequence[str] = ()) -> Path:
    from markupsafe import Markup

    from ..core.templating import render

    sections = []
    for res in results:
        plots = []
        for p in res.get("plots", []):
            svg = plot_svg(p)
            grid = heatmap_grid(p) if p["kind"] == "heatmap" else None
            plots.append({"name": p["name"], "svg": Markup(svg) if svg else "", "grid": grid})
        items = [{"t": t, "cmp": comparison(res, t), "ci": interval_texts(t), "note": table_note(t)}
                 for t in res.get("tables", [])]
        sections.append({**res, "plot_items": plots, "table_items": items, "dev_line": deviations_line(res),
                         "run_rows": run_facts(res)})
    html = render("study.html.j2", sections=sections, out_dirs=list(out_dirs))
    return atomic_write_text(path, html)


def interval_texts(t: dict[str, Any]) -> list[list[str]] | None:
    """Each cell's 95 % bootstrap interval as text (``lo … hi``, 4 decimals as the figures; ``""`` where none),
    row by row as ``t["rows"]``; None when the table has no intervals."""
    from ..core.templating import fmt_num

    cis = t.get("ci") or []
    if not any(iv for row in cis for iv in (row or [])):
        return None
    out = []
    for i, row in enumerate(t["rows"]):
        ci = cis[i] if i < len(cis) and cis[i] else []
        out.append([f"{fmt_num(ci[j][0], 4)} … {fmt_num(ci[j][1], 4)}"
                    if j < len(ci) and ci[j] and all(_finite(x) for x in ci[j]) else "" for j in range(len(row))])
    return out


def table_note(t: dict[str, Any]) -> str:
    """The table's note, with its number of images and, where it has intervals, what they are."""
    parts = [t.get("note") or ""]
    if t.get("images") is not None:
        parts.append(f"{t['images']} images" + ("; 95 % bootstrap intervals over images under the figures"
                                                  if interval_texts(t) else "") + ".")
    return " ".join(p for p in parts if p)


def _fmt(v: Any) -> str:
    from ..core.templating import fmt_num

    c = v if isinstance(v, str) else _cell(v)
    return c if isinstance(c, str) else fmt_num(c, 4)  # (an infinite figure, e.g. PSNR of equal pictures: "inf")


def _table(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], note: str = ""):
    from ..report.document import Table, scrub

    cells = [[scrub(_fmt(v)) for v in row] for row in rows]
    numeric = [all(not isinstance(r[c], str) for r in rows if c < len(r)) and bool(rows) for c in range(len(columns))]
    t = Table([scrub(c) for c in columns], cells, scrub(name), numeric=numeric)
    if note:
        t.notes.append(scrub(note))
    return t


def document_sections(results: Sequence[dict[str, Any]]) -> tuple[list, dict]:
    """The studies as content-tree sections (``report.document``) and their figures as PNG bytes."""
    from ..report.document import Figure, Section, Table, scrub
    from ..report.plots import png

    sections, figures = [], {}
    for res in results:
        sec = Section(scrub(res["title"]), 1)
        rows = [["Study", f"{scrub(res['study'])} ({scrub(res.get('type', ''))}), {res.get('images')} images"],
                ["Signature", scrub(res["signature"])]]
        pub = res.get("published") or {}
        if pub:
            rows.append(["Reproduces", scrub(pub.get("source", ""))])
        if res.get("labels"):
            rows.append(["Labels", scrub(res["labels"])])
        sec.blocks.append(("table", Table(["Item", "Value"], rows, f"Study {scrub(res['study'])}", key_value=True)))
        for t in res.get("tables", []):
            ivs = interval_texts(t)
            shown = t["rows"] if ivs is None else [
                [v if not iv else f"{_fmt(v)} [{iv}]" for v, iv in zip(row, ivr)] for row, ivr in zip(t["rows"], ivs)]
            sec.blocks.append(("table", _table(t["name"], t["columns"], shown, table_note(t))))
            cmp = comparison(res, t)
            if cmp:
                side = Table([scrub(c) for c in cmp["columns"]], [[scrub(c) for c in r["text"]] for r in cmp["rows"]],
                             scrub(cmp["name"]), numeric=[False, False, True, True, False, True])
                side.notes.append(scrub(cmp["note"]))
                sec.blocks.append(("table", side))
                sec.blocks.append(("p", scrub(cmp["verdict"]["text"])))
                sec.blocks.append(("p", scrub(deviations_line(res))))
        for k, p in enumerate(res.get("plots", [])):
            fig = plot_figure(p)
            if fig is not None:
                figures[(res["study"], k)] = png(fig)
                sec.blocks.append(("figure", Figure(res["study"], k, scrub(p["name"]))))
            if p["kind"] == "heatmap":
                maps, factors, grids = heatmap_grid(p)
                for scale, g in grids.items():
                    sec.blocks.append(("table", _table(f"{p['name']}: ΔAP {scale}", ["map", *map(str, factors)],
                                                       [[m, *r] for m, r in zip(maps, g)])))
        for t in pub.get("tables", []):
            note = " ".join(n for n in (pub.get("note"), t.get("note")) if n)
            sec.blocks.append(("table", _table(f"Published: {t['name']} ({pub.get('source', '')})", t["columns"],
                                               t["rows"], note)))
        if res.get("deviations"):
            sec.blocks.append(("table", _table(f"Deviations from the paper ({scrub(res['study'])})",
                                               ["what", "paper", "here", "why"],
                                               [[d.get(k, "") for k in ("what", "paper", "here", "why")]
                                                for d in res["deviations"]])))
        facts = run_facts(res)
        if facts:
            sec.blocks.append(("table", Table(["What", "Used in this run"], [[scrub(a), scrub(b)] for a, b in facts],
                                              f"This run of {scrub(res['study'])}: network, data and settings",
                                              key_value=True)))
        sections.append(sec)
    tables = figs = 0
    for sec in sections:
        for kind, item in sec.blocks:
            if kind == "table":
                tables += 1
                item.number = tables
            elif kind == "figure":
                figs += 1
                item.number = figs
    return sections, figures


def write_docx(results: Sequence[dict[str, Any]], path: str | Path) -> Path:
    from ..report.docx import add_sections, new_document, to_bytes

    sections, figures = document_sections(results)
    d = new_document("vcmbench studies")
    d.add_heading("Studies", level=1)
    add_sections(d, sections, figures)
    return atomic_write_bytes(path, to_bytes(d))
