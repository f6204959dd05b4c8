"""The contribution as a Word document (python-docx), from the same content tree as the HTML.

Layout of an MPEG input document (the MPEG template): A4 portrait, 2.5 cm margins, Times New Roman;
the centred organisation header (working group line and its subtitle), the right-aligned document
number and meeting, the Title / Source / Purpose table, headings in the styles ``Heading 1`` /
``Heading 2``.  Tables: caption above in the style ``Caption`` as "Table N – …" where N is a real
``SEQ Table`` field (its cached result is the number, so the document reads right without a field
update), kept with its table (keep-with-next); column widths sized to content
(``document.column_widths``, fixed layout, total = text width); rows never split across pages and
the header row repeated; BD tables held on one page where they fit; remarks as numbered notes under
the table ("1) …"), referenced by superscript numbers in the cells.  Figures: one PNG per
condition and scale, the picture kept with its caption below ("Figure N – …", a ``SEQ Figure``
field).  Annex A as two-column tables.  Text is stripped of characters XML 1.0 cannot hold
(python-docx would otherwise refuse the document or write one Word reports as corrupt).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from ..core.jsonio import atomic_write_bytes
from . import document as dm
from .document import Document, acc_factor, build_document, column_widths, nobreak, rate_name
from .meta import Meta
from .model import ReportModel

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FIGURE_WIDTH_MM = 150.0
KEEP_TOGETHER_ROWS = 40  # a longer table cannot stay on one page anyway: let it flow


def xml_safe(text) -> str:
    return _BAD_XML.sub("", "" if text is None else str(text))


def _el(tag: str, **attrs):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    e = OxmlElement(tag)
    for k, v in attrs.items():
        e.set(qn(k.replace("_", ":", 1)), str(v))
    return e


def add_field(par, instr: str, result: str) -> None:
    """A complex field (``begin`` / instruction / ``separate`` / cached result / ``end``) in ``par``."""
    par.add_run()._r.append(_el("w:fldChar", w_fldCharType="begin"))
    it = _el("w:instrText", xml_space="preserve")
    it.text = f" {instr} "
    par.add_run()._r.append(it)
    par.add_run()._r.append(_el("w:fldChar", w_fldCharType="separate"))
    par.add_run(result)
    par.add_run()._r.append(_el("w:fldChar", w_fldCharType="end"))


def caption(d, kind: str, number: int, text: str, keep_with_next: bool):
    """``Table 3 – text`` in the style Caption, the number a ``SEQ kind`` field."""
    par = d.add_paragraph(style="Caption")
    par.alignment = 1
    par.paragraph_format.keep_with_next = keep_with_next
    if number:
        par.add_run(f"{kind} ")
        add_field(par, f"SEQ {kind} \\* ARABIC", str(number))
        par.add_run(" – ")
    par.add_run(xml_safe(text))
    return par


def _row_props(row, header: bool = False) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(_el("w:cantSplit"))
    if header:
        tr_pr.append(_el("w:tblHeader"))


def _fixed_widths(table, widths_mm) -> None:
    from docx.shared import Mm

    tbl = table._tbl
    tbl_pr = tbl.tblPr
    for old in tbl_pr.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblW"):
        tbl_pr.remove(old)
    tbl_pr.append(_el("w:tblW", w_w=int(round(sum(widths_mm) * 56.6929)), w_type="dxa"))
    tbl_pr.append(_el("w:tblLayout", w_type="fixed"))
    table.autofit = False
    for gc, w in zip(tbl.tblGrid.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}gridCol"),
                     widths_mm):
        gc.set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w", str(int(round(w * 56.6929))))
    for row in table.rows:
        for c, w in zip(row.cells, widths_mm):
            c.width = Mm(w)


def _cell(cell, text: str, ref: str, *, bold=False, right=False, size=dm.TABLE_FONT_PT) -> None:
    from docx.shared import Pt

    par = cell.paragraphs[0]
    par.paragraph_format.space_after = Pt(0)
    par.paragraph_format.space_before = Pt(0)
    if right:
        par.alignment = 2
    run = par.add_run(xml_safe(nobreak(text)))
    run.bold = bold
    run.font.size = Pt(size)
    if ref:
        sup = par.add_run(xml_safe(ref))
        sup.font.superscript = True
        sup.font.size = Pt(size)


def _table(d, t) -> None:
    from docx.shared import Pt

    if t.caption:
        caption(d, "Table", t.number, t.caption, keep_with_next=True)
    ncols = 2 if t.key_value else len(t.headers)
    table = d.add_table(rows=0, cols=ncols)
    table.style = "Table Grid"
    table.alignment = 1
    numeric = [c < len(t.numeric) and t.numeric[c] for c in range(ncols)]
    if not t.key_value:
        row = table.add_row()
        _row_props(row, header=True)
        for c, h in zip(row.cells, t.headers):
            _cell(c, h, "", bold=True)
    for i, values in enumerate(t.rows):
        row = table.add_row()
        _row_props(row)
        for j, (c, v) in enumerate(zip(row.cells, values)):
            _cell(c, v, t.ref_text(i, j), bold=t.key_value and j == 0, right=numeric[j])
    _fixed_widths(table, column_widths(t))
    rows = list(table.rows)
    keep = t.keep_together and len(rows) <= KEEP_TOGETHER_ROWS
    for k, row in enumerate(rows):
        last = k == len(rows) - 1
        if (keep and not last) or (last and t.notes) or k == 0:
            for c in row.cells:
                for p in c.paragraphs:
                    p.paragraph_format.keep_with_next = True
    for k, note in enumerate(t.notes, 1):
        par = d.add_paragraph()
        par.paragraph_format.space_after = Pt(0 if k < len(t.notes) else 6)
        par.paragraph_format.keep_with_next = k < len(t.notes)
        par.paragraph_format.left_indent = Pt(12)
        par.paragraph_format.first_line_indent = Pt(-12)
        run = par.add_run(xml_safe(f"{k}) {note}"))
        run.font.size = Pt(dm.TABLE_FONT_PT)
    if not t.notes:
        d.add_paragraph().paragraph_format.space_after = Pt(0)


def _bold_lines(d, lines, alignment) -> None:
    """One paragraph of bold lines (line breaks between them), aligned."""
    par = d.add_paragraph()
    par.alignment = alignment
    for i, line in enumerate(lines):
        run = par.add_run(xml_safe(line))
        run.bold = True
        if i < len(lines) - 1:
            run.add_break()


def _styles(d) -> None:
    from docx.shared import Mm, Pt, RGBColor

    sec = d.sections[0]
    sec.orientation = 0  # portrait
    sec.page_width, sec.page_height = Mm(dm.PAGE_MM[0]), Mm(dm.PAGE_MM[1])
    sec.left_margin = sec.right_margin = sec.top_margin = sec.bottom_margin = Mm(dm.MARGIN_MM)
    normal = d.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Heading 1", 13), ("Heading 2", 12), ("Caption", 10)):
        st = d.styles[name]
        st.font.name = "Times New Roman"
        st.font.size = Pt(size)
        st.font.bold = True
        st.font.italic = False
        st.font.color.rgb = RGBColor(0, 0, 0)
        fonts = st.element.rPr.rFonts if st.element.rPr is not None else None
        for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):  # a theme font would win over the name
            if fonts is not None:
                fonts.attrib.pop(f"{{http://schemas.openxmlformats.org/wordprocessingml/2006/main}}{attr}", None)
        st.paragraph_format.space_before = Pt(12 if name.startswith("Heading") else 6)
        st.paragraph_format.space_after = Pt(6 if name.startswith("Heading") else 4)


def new_document(title: str = "", author: str = ""):
    """An empty A4 document in the contribution's styles."""
    import docx

    d = docx.Document()
    _styles(d)
    d.core_properties.title = xml_safe(title)[:255]
    d.core_properties.author = xml_safe(author)[:255]
    return d


def add_sections(d, sections, figures: dict) -> None:
    """Write content-tree sections (``document.Section``): headings, paragraphs, tables with their captions
    and notes, figures (PNG bytes from ``figures[(figure.condition, figure.scale)]``) with their captions."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    for sec in sections:
        d.add_heading(xml_safe(sec.heading), level=min(max(sec.level, 1), 2))
        for kind, item in sec.blocks:
            if kind in ("p", "placeholder"):
                p = d.add_paragraph(xml_safe(item))
                if kind == "placeholder":
                    p.runs[0].italic = True
            elif kind == "table":
                _table(d, item)
            elif kind == "figure":
                d.add_picture(io.BytesIO(figures[(item.condition, item.scale)]), width=Mm(FIGURE_WIDTH_MM))
                pic = d.paragraphs[-1]
                pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
                pic.paragraph_format.keep_with_next = True
                pic.paragraph_format.space_after = Pt(0)
                caption(d, "Figure", item.number, item.caption, keep_with_next=False)


def to_bytes(d) -> bytes:
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def docx_bytes(model: ReportModel, meta: Meta | None = None, *, percent: bool = True, log_rate: bool = True,
               doc: Document | None = None) -> bytes:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    from . import plots

    doc = doc or build_document(model, meta, percent=percent)
    d = new_document(doc.title, "; ".join(a.name for a in doc.meta.authors))
    _bold_lines(d, doc.header_lines, WD_ALIGN_PARAGRAPH.CENTER)
    _bold_lines(d, doc.doc_lines, WD_ALIGN_PARAGRAPH.RIGHT)
    mt = d.add_table(rows=0, cols=2)
    for label, text, _ in doc.meta_rows:
        cells = mt.add_row().cells
        _cell(cells[0], label + ":", "", bold=True, size=11)
        _cell(cells[1], text, "", size=11)
    _fixed_widths(mt, [30.0, dm.TEXT_WIDTH_MM - 30.0])
    t = d.add_paragraph()
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    t.paragraph_format.space_before = Pt(12)
    tr = t.add_run(xml_safe(doc.title))
    tr.bold = True
    tr.font.size = Pt(14)
    figs = {}
    for sec in model.sections:
        for scale in sec.scales():
            figs[(sec.condition, scale)] = plots.png(
                plots.figure(sec, scale, acc_factor(sec, percent), rate_name(sec), log_rate))
    add_sections(d, doc.sections, figs)
    return to_bytes(d)


def write_docx(model: ReportModel, path: str | Path, meta: Meta | None = None, **kw) -> Path:
    return atomic_write_bytes(path, docx_bytes(model, meta, **kw))
