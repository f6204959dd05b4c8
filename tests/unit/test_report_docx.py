"""The Word contribution as a delegate submits it (issue 24): A4 with the MPEG template's margins,
numbered tables and figures with real SEQ caption fields kept with their table or figure, column
widths sized to content and summing to the text width, remarks as numbered notes under the table,
the condition-defined summary first (with its confidence interval), a clean Annex A, and the same
numbers in the HTML rendering of the same content tree."""

from __future__ import annotations

import io
import re

import docx
import pytest
from docx.shared import Mm

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.bd import compare
from vcmbench.core.errors import DataError
from vcmbench.report import build_report
from vcmbench.report.document import MAX_CELL, TEXT_WIDTH_MM, Table, build_document, column_widths
from vcmbench.report.docx import docx_bytes
from vcmbench.report.html import render_html
from vcmbench.report.meta import Meta, check_dates, check_m_number, check_meeting, meta_from_dict
from vcmbench.report.model import SummaryEntry
from vcmbench.report.summaries import NO_OVERALL

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CI = {"level": 95.0, "low": -25.1, "high": -20.31, "resamples": 1000, "seed": 7, "items": 5000,
      "method": "paired bootstrap over images"}


def _model():
    a = make_anchor()
    a.provenance.update({
        "run_dir": "/home/someone/runs/anchor",
        "command_line": ["vcmbench", "run", "--title", "my run", "--out", "/tmp/x/run1"],
        "uncompressed_accuracy": {"map50_oid": 0.7812},
        "nested": {"packages": {"numpy": "2.0", "deep": {"a": {"b": 1}}}, "list": [{"k": 1}, {"k": 2}]},
        "result_error": 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nValueError: boom',
    })
    t = make_test(rate_factor=0.78)
    t.provenance["uncompressed_accuracy"] = {"map50_oid": 0.7812}
    model = build_report([a], [t], command_line="vcmbench report --anchor a --test 'my test'")
    e = model.entries[0]
    e.ci = dict(CI)
    e.result.warnings.append("quality overlap 70.0 % is below 75 %: the BD-rate rests on a part of the curves "
                             "only; say so when you quote it")
    res = compare([(p.bpp, p.accuracy["map50_oid"]) for p in model.sections[0].points(a, 1.0)],
                  [(p.bpp, p.accuracy["map50_oid"]) for p in model.sections[0].points(t, 1.0)], "pchip-jvet")
    model.summaries = [SummaryEntry("VVenC medium", "dataset", "Pareto front of all scales",
                                    "BD-rate on the Pareto fronts of all scale x QP points", "VCM CTC (hand-made)",
                                    result=res, ci=dict(CI), condition="vcm-oiv6-det", quality_key="map50_oid")]
    return model


@pytest.fixture(scope="module")
def built():
    model = _model()
    meta = meta_from_dict({"m_number": "M70001", "meeting": 151, "dates": "2026-01-13/2026-01-17"})
    doc = build_document(model, meta)
    data = docx_bytes(model, meta, doc=doc)
    return model, doc, docx.Document(io.BytesIO(data)), render_html(model, meta, doc=doc)


def _body(d):
    return list(d.element.body.iterchildren())


def _text(el) -> str:
    return "".join(t.text or "" for t in el.iter(f"{W}t"))


def test_a4_portrait_with_template_margins(built):
    sec = built[2].sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(0.1) and abs(sec.page_height - Mm(297)) < Mm(0.1)
    assert all(abs(m - Mm(25)) < Mm(0.1) for m in (sec.left_margin, sec.right_margin, sec.top_margin))
    for name in ("Heading 1", "Heading 2", "Caption"):  # one family: no theme font overriding Times New Roman
        st = built[2].styles[name]
        assert st.font.name == "Times New Roman" and f"{W}asciiTheme" not in st.element.rPr.rFonts.attrib


def test_tables_and_figures_numbered_with_seq_fields_kept_with_their_object(built):
    body = _body(built[2])
    seen = {"Table": 0, "Figure": 0}
    for i, el in enumerate(body):
        style = el.find(f"{W}pPr/{W}pStyle")
        if el.tag != f"{W}p" or style is None or style.get(f"{W}val") != "Caption":
            continue
        kind = _text(el).split()[0]
        seen[kind] += 1
        instr = "".join(x.text for x in el.iter(f"{W}instrText"))
        assert instr.strip() == f"SEQ {kind} \\* ARABIC"
        assert _text(el).startswith(f"{kind} {seen[kind]} – ")  # the cached result is the number
        assert len(list(el.iter(f"{W}fldChar"))) == 3
        if kind == "Table":  # caption above, kept with the table that follows it
            assert el.find(f"{W}pPr/{W}keepNext") is not None and body[i + 1].tag == f"{W}tbl"
        else:  # picture above, kept with its caption
            pic = body[i - 1]
            assert list(pic.iter("{http://schemas.openxmlformats.org/drawingml/2006/picture}pic"))
            assert pic.find(f"{W}pPr/{W}keepNext") is not None
    assert seen["Figure"] == 2 and seen["Table"] >= 8
    assert built[1].sections[-1].blocks[0][1].number > 1  # Annex tables continue the numbering


def test_rows_never_split_and_widths_fill_the_text_width(built):
    d = built[2]
    for tbl in d.tables[1:]:
        grid = [int(g.get(f"{W}w")) for g in tbl._tbl.tblGrid.iter(f"{W}gridCol")]
        assert abs(sum(grid) / 56.6929 - TEXT_WIDTH_MM) < 1.0
        assert tbl._tbl.tblPr.find(f"{W}tblLayout").get(f"{W}type") == "fixed"
        assert all(r._tr.trPr is not None and r._tr.trPr.find(f"{W}cantSplit") is not None for r in tbl.rows)


def test_column_widths_follow_content():
    t = Table(["Test", "Scale", "BD-rate", "Notes"], [["VVenC medium", "100 %", "-10.00 %", "a " * 60]], "x",
              numeric=[False, True, True, False])
    w = column_widths(t)
    assert abs(sum(w) - TEXT_WIDTH_MM) < 1e-6
    assert w[3] > 2 * w[1] and w[3] > 2 * w[2]  # the text column is wide, the figures narrow
    # a figure never wraps: its column holds the whole number with its unit
    assert w[2] >= len("-10.00 %") * 8 * 0.55 * 25.4 / 72


def test_bd_table_kept_on_one_page_with_notes_and_ci(built):
    doc, d = built[1], built[2]
    bd = next(item for s in doc.sections for k, item in s.blocks if k == "table" and item.caption.startswith("BD against"))
    assert bd.keep_together and "95 % CI" in bd.headers
    assert bd.rows[0][bd.headers.index("95 % CI")] == "[-25.10, -20.31] %"
    assert any("below 75 %" in n for n in bd.notes) and any("1000 resamples, seed 7" in n for n in bd.notes)
    assert bd.rows[0][bd.headers.index("BD-rate")] == "-22.00 %"  # 0.78 x the anchor's rate at equal accuracy
    tbl = next(t for t in d.tables if any(c.text == "BD-map50_oid" for c in t.rows[0].cells))
    sups = [r for c in tbl.rows[1].cells for p in c.paragraphs for r in p.runs if r.font.superscript]
    assert sups and sups[0].text == "1"
    rows = tbl.rows[:-1]
    assert all(p.paragraph_format.keep_with_next for r in rows for c in r.cells for p in c.paragraphs)
    after = tbl._tbl.getnext()
    assert _text(after).startswith("1) quality overlap 70.0 % is below 75 %")


def test_summary_first_in_section_4(built):
    doc = built[1]
    s4 = next(s for s in doc.sections if s.heading.startswith("4 "))
    first = s4.blocks[0][1]
    assert first.caption == "Summary figure per test and condition (rule and source in the notes)"
    assert first.rows[0][:3] == ["VVenC medium", "vcm-oiv6-det", "Pareto front of all scales"]
    assert first.rows[0][first.headers.index("95 % CI")] == "[-25.10, -20.31] %"
    assert first.rows[0][-1].endswith(" pp")
    assert first.notes[0] == "BD-rate on the Pareto fronts of all scale x QP points Source: VCM CTC (hand-made)."
    assert s4.blocks[1] == ("p", NO_OVERALL)  # no Overall: no source defines one
    detail = s4.blocks[2][1]
    assert detail.caption == "BD-rate per condition and scale (detail)"
    bd = next(item for s in doc.sections for k, item in s.blocks if k == "table" and item.caption.startswith("BD against"))
    assert detail.notes == [f"see the notes under Table {bd.number}"]  # no note repeated in the detail
    assert detail.refs == {(0, 3): [1], (0, 4): [1]}  # BD-rate and CI cells of the row that has notes


def test_no_long_cells_and_units(built):
    doc = built[1]
    tables = [item for s in doc.sections for k, item in s.blocks if k == "table" and not item.key_value]
    assert all(len(c) <= MAX_CELL for t in tables for r in t.rows for c in r)
    per_qp = next(t for t in tables if t.caption.startswith("Rate and accuracy per QP"))
    assert per_qp.headers[2:4] == ["bpp", "map50_oid (%)"]
    assert per_qp.rows[0][2:4] == ["1.5200", "78.100"]  # bpp 4 decimals, accuracy in percent, 3 decimals


def test_test_conditions_state_items_and_uncompressed_accuracy(built):
    doc = built[1]
    s2 = next(s for s in doc.sections if s.heading.startswith("2 "))
    text = " ".join(item for k, item in s2.blocks if k == "p")
    assert "5000 images used" in text and "Uncompressed accuracy: 78.120 %." in text


def test_annex_has_no_json_no_paths_no_traceback_and_the_command_as_typed(built):
    d = built[2]
    annex = False
    texts = []
    for el in _body(d):
        if el.tag == f"{W}p" and _text(el).startswith("Annex A"):
            annex = True
        elif annex and el.tag in (f"{W}p", f"{W}tbl"):
            texts.append(_text(el) if el.tag == f"{W}p" else "\n".join(c.text for r in docx.table.Table(el, d).rows
                                                                          for c in r.cells))
    text = "\n".join(texts)
    assert "{" not in text and "}" not in text
    assert "/home" not in text and "/tmp" not in text and "Traceback" not in text and "boom" in text
    assert "vcmbench run --title 'my run' --out run1" in text
    assert "vcmbench report --anchor a --test 'my test'" in text
    assert "nested: list [1]\nk: 1" in text and "nested: packages: deep\na: (b: 1)" in text


def test_html_shows_the_same_cells(built):
    import markupsafe as h

    doc, html = built[1], built[3]

    for s in doc.sections:
        for k, item in s.blocks:
            if k == "table":
                assert str(h.escape(item.title)) in html
                for row in item.rows:
                    for c in row:
                        assert str(h.escape(c)) in html
                for n in item.notes:
                    assert str(h.escape(n)) in html
            elif k == "figure":
                assert str(h.escape(item.title)) in html


def test_metadata_checked_and_normalised():
    assert check_m_number("M71234") == "m71234" == check_m_number(71234) == check_m_number(" m71234 ")
    for bad in ("m71234-v2", "w21000", "m", "71234a", "m0"):
        with pytest.raises(DataError, match=r"m followed by digits, e\.g\. m71234"):
            check_m_number(bad)
    assert check_meeting(151) == check_meeting("151st MPEG meeting") == check_meeting("MPEG 151") == "151"
    for bad in (0, -3, "next meeting", "151.5", True):
        with pytest.raises(DataError, match="positive integer"):
            check_meeting(bad)
    import datetime as dt

    assert check_dates("2026-01-13/2026-01-17") == "2026-01-13/2026-01-17"
    assert check_dates([dt.date(2026, 1, 13), dt.date(2026, 1, 17)]) == "2026-01-13/2026-01-17"
    assert check_dates(dt.date(2026, 1, 13)) == "2026-01-13"
    for bad in ("January 2026", "13-17 January 2026", "2026-02-30", "2026-1-3"):
        with pytest.raises(DataError, match="ISO"):
            check_dates(bad)
    with pytest.raises(DataError, match="after the end"):
        check_dates("2026-01-17/2026-01-13")
    m = meta_from_dict({"meeting": "151st MPEG meeting", "dates": "2026-01-28/2026-02-01", "m_number": "M7"})
    assert (m.meeting_text, m.dates_text, m.doc_number) == ("151st MPEG meeting", "28 January – 1 February 2026", "m7")
    assert Meta(meeting="152", dates="2026-04-20/2026-04-24").dates_text == "20–24 April 2026"
    assert meta_from_dict({"meeting": 153}).meeting_text == "153rd MPEG meeting"
    assert meta_from_dict({"meeting": 111}).meeting_text == "111th MPEG meeting"


def test_meta_error_exits_2_without_traceback(tmp_path):
    from click.testing import CliRunner

    from vcmbench.cli import cli

    rs = tmp_path / "a.json"
    make_anchor().save(rs)
    (tmp_path / "meta.yaml").write_text("m_number: 71234-v2\n")
    for extra in (["--meta", str(tmp_path / "meta.yaml")], ["--meeting", "soon"]):
        r = CliRunner().invoke(cli, ["report", "--anchor", str(rs), "--test", str(rs), "-o", str(tmp_path / "r.docx"),
                                     *extra])
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        assert re.search(r"m followed by digits|positive integer", r.output)
        assert not (tmp_path / "r.docx").exists()


def test_study_report_docx(tmp_path):
    """``study report -o x.docx``: the study sections in the same A4 styles, numbered, same cells as the HTML."""
    import markupsafe

    from vcmbench.studies.report import document_sections, write_docx, write_html

    res = {"study": "s1", "title": "Layer study", "type": "layers", "images": 3, "signature": "study:s1|v:1",
           "tables": [{"name": "AP per layer", "columns": ["layer", "AP"], "rows": [["p2", 0.5], ["p3", 0.25]],
                       "note": "AP at IoU 0.5"}],
           "plots": [{"kind": "lines", "name": "AP against strength", "x_label": "strength", "y_label": "AP",
                      "series": [{"label": "p2", "points": [[1, 0.5], [2, 0.4]]}]},
                     {"kind": "heatmap", "name": "Heat", "maps": ["p2", "p3"], "scales": ["small"],
                      "cells": [{"map": "p2", "factor": 2, "small": -0.01}, {"map": "p3", "factor": 2, "small": 0.02}]}],
           "published": {"source": "the paper", "tables": [{"name": "T1", "columns": ["a"], "rows": [[1.0]]}]}}
    path = write_docx([res], tmp_path / "s.docx")
    d = docx.Document(str(path))
    assert abs(d.sections[0].page_width - Mm(210)) < Mm(0.1)
    caps = [p.text for p in d.paragraphs if p.style.name == "Caption"]
    assert caps[:3] == ["Table 1 – Study s1", "Table 2 – AP per layer", "Figure 1 – AP against strength"]
    assert "Figure 2 – Heat" in caps and any(c.startswith("Table 4 – Published: T1") for c in caps)
    sections, _ = document_sections([res])
    html = write_html([res], tmp_path / "s.html").read_text()
    cells = [c for k, t in sections[0].blocks if k == "table" and not t.key_value for r in t.rows for c in r]
    assert "0.5000" in cells and all(str(markupsafe.escape(c)) in html for c in cells)


def test_notes_name_points_by_qp_and_scale_not_raw_floats():
    from vcmbench.bd import _fmt
    from vcmbench.report.document import name_points

    model = build_report([make_anchor()], [make_test()])
    p = model.sections[0].points(model.sections[0].anchor, 0.5)[1]
    text = f"anchor: drop-nonmono dropped {_fmt(p.bpp, p.accuracy['map50_oid'])}"
    assert name_points(text, model.sections, "vcm-oiv6-det", 0.5) == (
        "anchor: drop-nonmono dropped QP 27 (scale 50 %, bpp 0.2800, map50_oid 73.300 %)")
    other = f"x {_fmt(0.123, 0.5)}"  # no such point: left as it is
    assert name_points(other, model.sections, "vcm-oiv6-det", 0.5) == other
