"""The contribution as a Word document (python-docx), from the same content tree as the HTML.

Layout of an MPEG input document: the centred organisation header (working group line and its
subtitle), the right-aligned document number and meeting, the Title / Source / Purpose table,
numbered headings, tables with a header row, one PNG figure per condition and scale, Annex A as
two-column tables.  Text is stripped of characters XML 1.0 cannot hold (python-docx would
otherwise refuse the document or write one Word reports as corrupt).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from ..core.jsonio import atomic_write_bytes
from .document import Document, acc_factor, build_document, rate_name
from .meta import Meta
from .model import ReportModel

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text) -> str:
    return _BAD_XML.sub("", "" if text is None else str(text))


def _table(d, t) -> None:
    from docx.shared import Pt

    ncols = len(t.headers) if not t.key_value else 2
    table = d.add_table(rows=0 if t.key_value else 1, cols=ncols)
    table.style = "Table Grid"
    if not t.key_value:
        for c, h in zip(table.rows[0].cells, t.headers):
            c.text = xml_safe(h)
            for r in c.paragraphs[0].runs:
                r.bold = True
    for row in t.rows:
        cells = table.add_row().cells
        for c, v in zip(cells, row):
            c.text = xml_safe(v)
    for row in table.rows:
        for c in row.cells:
            for p in c.paragraphs:
                for r in p.runs:
                    r.font.size = Pt(8)
    if t.caption:
        cap = d.add_paragraph(xml_safe(t.caption))
        cap.alignment = 1
        cap.runs[0].italic = True


def _bold_lines(d, lines, alignment) -> None:
    """One paragraph of bold lines (line breaks between them), aligned."""
    par = d.add_paragraph()
    par.alignment = alignment
    for i, line in enumerate(lines):
        run = par.add_run(xml_safe(line))
        run.bold = True
        if i < len(lines) - 1:
            run.add_break()


def docx_bytes(model: ReportModel, meta: Meta | None = None, *, percent: bool = True, log_rate: bool = True,
               doc: Document | None = None) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Inches, Pt

    from . import plots

    doc = doc or build_document(model, meta, percent=percent)
    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    d.core_properties.title = xml_safe(doc.title)[:255]
    d.core_properties.author = xml_safe("; ".join(a.name for a in doc.meta.authors))[:255]
    _bold_lines(d, doc.header_lines, WD_ALIGN_PARAGRAPH.CENTER)
    _bold_lines(d, doc.doc_lines, WD_ALIGN_PARAGRAPH.RIGHT)
    mt = d.add_table(rows=0, cols=2)
    for label, text, _ in doc.meta_rows:
        cells = mt.add_row().cells
        cells[0].text = xml_safe(label + ":")
        cells[0].paragraphs[0].runs[0].bold = True
        cells[1].text = xml_safe(text)
    t = d.add_paragraph()
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tr = t.add_run(xml_safe(doc.title))
    tr.bold = True
    tr.font.size = Pt(14)
    figs = {}
    for sec in model.sections:
        for scale in sec.scales():
            figs[(sec.condition, scale)] = plots.png(
                plots.figure(sec, scale, acc_factor(sec, percent), rate_name(sec), log_rate))
    for sec in doc.sections:
        d.add_heading(xml_safe(sec.heading), level=sec.level)
        for kind, item in sec.blocks:
            if kind in ("p", "placeholder"):
                p = d.add_paragraph(xml_safe(item))
                if kind == "placeholder":
                    p.runs[0].italic = True
            elif kind == "table":
                _table(d, item)
            elif kind == "figure":
                d.add_picture(io.BytesIO(figs[(item.condition, item.scale)]), width=Inches(6.0))
                cap = d.add_paragraph(xml_safe(item.caption))
                cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def write_docx(model: ReportModel, path: str | Path, meta: Meta | None = None, **kw) -> Path:
    return atomic_write_bytes(path, docx_bytes(model, meta, **kw))
