"""The report as one self-contained HTML file laid out as an MPEG input contribution.

Template ``templates/contribution.html.j2`` (extends ``base.html.j2``), rendered by the shared
environment of ``core.templating`` (autoescaped, StrictUndefined, URLs defanged); CSS and SVG plots
inline, no scripts, no fonts, no external resource.
"""

from __future__ import annotations

from pathlib import Path

from ..core.jsonio import atomic_write_text
from ..core.templating import render
from .model import ConditionSection, ReportModel, set_label
from .svg import PlotSeries, rd_plot_svg

TEMPLATE = "contribution.html.j2"


def _rows(sec: ConditionSection) -> list[dict]:
    """Per-scale, rank-aligned rows: anchor and tests side by side (QPs may differ)."""
    sets = [sec.anchor, *sec.tests]
    out = []
    for scale in sec.scales():
        per_set = [sec.points(rs, scale) for rs in sets]
        for i in range(max(len(p) for p in per_set)):
            cells = []
            for pts in per_set:
                p = pts[i] if i < len(pts) else None
                cells.append(None if p is None else {
                    "qp": p.qp, "bpp": p.bpp, "acc": p.accuracy.get(sec.quality_key),
                    "enc": p.encode_seconds, "dec": p.decode_seconds})
            out.append({"scale": scale, "cells": cells})
    return out


def _plot(sec: ConditionSection) -> str:
    series = []
    for k, rs in enumerate([sec.anchor, *sec.tests]):
        for scale in sec.scales():
            pts = [(p.bpp, p.accuracy[sec.quality_key]) for p in sec.points(rs, scale) if sec.quality_key in p.accuracy]
            if pts:
                series.append(PlotSeries(f"{set_label(rs)} {scale:.0%}", pts, role=k))
    return rd_plot_svg(series, "bpp", sec.quality_key, title=f"{sec.condition}: {sec.quality_key} vs bpp")


def render_html(model: ReportModel, wg: str = "ISO/IEC JTC 1/SC 29/WG 4") -> str:
    from markupsafe import Markup

    sections = [{"sec": s, "label": set_label, "rows": _rows(s), "plot": Markup(_plot(s)),
                 "sets": [s.anchor, *s.tests]} for s in model.sections]
    return render(TEMPLATE, model=model, sections=sections, label=set_label, wg=wg)


def write_html(model: ReportModel, path: str | Path) -> Path:
    """Write the HTML document atomically (UTF-8)."""
    return atomic_write_text(path, render_html(model))
