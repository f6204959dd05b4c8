"""The report as one self-contained HTML file laid out as an MPEG input contribution.

Template ``templates/contribution.html.j2`` (extends ``base.html.j2``) renders the content tree of
``document.build_document`` (the same tree the .docx is written from: the same numbered captions,
cells, notes under the tables and column proportions) through the shared
environment of ``core.templating`` (autoescaped, StrictUndefined, URLs defanged); CSS and the
matplotlib SVG figures inline, no scripts, no fonts, no external resource.
"""

from __future__ import annotations

from pathlib import Path

from ..core.jsonio import atomic_write_text
from ..core.templating import render
from .document import Document, acc_factor, build_document, column_widths, rate_name
from .meta import Meta
from .model import ReportModel

TEMPLATE = "contribution.html.j2"


def figures_svg(model: ReportModel, percent: bool = True, log_rate: bool = True) -> dict:
    from markupsafe import Markup

    from . import plots

    out = {}
    for sec in model.sections:
        for scale in sec.scales():
            fig = plots.figure(sec, scale, acc_factor(sec, percent), rate_name(sec), log_rate)
            out[(sec.condition, scale)] = Markup(plots.svg(fig))
    return out


def render_html(model: ReportModel, meta: Meta | None = None, *, percent: bool = True, log_rate: bool = True,
                doc: Document | None = None) -> str:
    doc = doc or build_document(model, meta, percent=percent)
    return render(TEMPLATE, doc=doc, figures=figures_svg(model, percent, log_rate), widths=_widths)


def _widths(table) -> list[str]:
    """Column widths in percent of the table width: the proportions the .docx uses."""
    ws = column_widths(table)
    return [f"{100 * w / sum(ws):.1f}" for w in ws]


def write_html(model: ReportModel, path: str | Path, meta: Meta | None = None, **kw) -> Path:
    """Write the HTML document atomically (UTF-8)."""
    return atomic_write_text(path, render_html(model, meta, **kw))
