"""Study report sections: xlsx (openpyxl, one sheet per table, the published figures beside), HTML
(``templates/study.html.j2`` of the shared family, plots as inline SVG) and .docx (the contribution's
A4 styles of ``report.docx``: numbered tables and figures with SEQ caption fields, the same cells as
the HTML — figures with 4 decimals, as the study tables store them).

Plots: matplotlib (a dependency) renders lines (accuracy against strength or rate) and the S3 heat
map (ΔAP per map x factor, one panel per object scale) to inline SVG through ``report.plots.svg``
(no XML prolog, DOCTYPE, metadata or namespace URLs; deterministic).  The heat map's values are
also written as a table.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any, Sequence

from ..core.jsonio import atomic_write_bytes, atomic_write_text


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
            if t.get("note"):
                append_row(ws, [t["note"]])
            append_row(ws, list(t["columns"]))
            for c in ws[ws.max_row]:
                c.font = Font(bold=True)
            for row in t["rows"]:
                append_row(ws, [_cell(v) for v in row])
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
        sections.append({**res, "plot_items": plots})
    html = render("study.html.j2", sections=sections, out_dirs=list(out_dirs))
    return atomic_write_text(path, html)


def _fmt(v: Any) -> str:
    from ..core.templating import fmt_num

    return v if isinstance(v, str) else fmt_num(_cell(v), 4)


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
            sec.blocks.append(("table", _table(t["name"], t["columns"], t["rows"], t.get("note", ""))))
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
        sections.append(sec)
    tables = figs = 0
    for sec in sections:
        for kind, item in sec.blocks:
            if kind == "table":
                tables += 1
                item.number = tables
            else:
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
