"""Spreadsheet cells written from input are text (issue 26): a conformance case name, a study result or
a report label starting with ``=``, ``+``, ``-`` or ``@`` is a string cell with the quote prefix, never a
formula; numbers stay numbers and the report's own formulas stay formulas."""

from __future__ import annotations

import openpyxl
import pytest

from vcmbench.core.sheets import FORMULA_START, append_row, set_text

EVIL = ['=HYPERLINK("hxxp://x","y")', "+SUM(A1:A2)", "-2+3", "@cmd|' /C calc'!A0", '=1+1\x07']


def _text_cells(wb, needle_cells):
    return [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value in needle_cells]


def _assert_text(cells, expected):
    assert sorted({c.value for c in cells}) == sorted({e.replace("\x07", "") for e in expected})
    for c in cells:
        assert c.data_type == "s", (c.coordinate, c.value)
        assert c.quotePrefix == c.value.startswith(FORMULA_START)


def test_core_helpers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    append_row(ws, ["=1+1", 2, 2.5, None, True, [1, 2], {"a": "=b"}])
    set_text(ws.cell(2, 1), "@x")
    p = tmp_path / "h.xlsx"
    wb.save(p)
    ws = openpyxl.load_workbook(p).active
    row = [c for c in ws[1]]
    assert [c.value for c in row] == ["=1+1", 2, 2.5, None, True, "[1, 2]", "{'a': '=b'}"]
    assert row[0].data_type == "s" and row[0].quotePrefix and row[1].data_type == "n"
    assert ws.cell(2, 1).data_type == "s" and ws.cell(2, 1).value == "@x"


def test_conformance_case_names_are_text(tmp_path):
    from vcmbench.coding.conformance import CaseResult, SuiteReport, write_report

    cases = [CaseResult(name, f"{i}.266", i % 2 == 0, "+reason", "-" * 32, None, 0.25) for i, name in enumerate(EVIL)]
    rep = SuiteReport("=suite", "@decoder", "-1.0", cases)
    wb = openpyxl.load_workbook(write_report(rep, tmp_path / "c.xlsx"))
    names = [e.replace("\x07", "") for e in EVIL]
    _assert_text(_text_cells(wb, names), EVIL)
    ws = wb.active
    assert ws["B1"].value == "=suite" and ws["B1"].data_type == "s"
    assert ws["B2"].value == "@decoder" and ws["C2"].value == "-1.0" and ws["C2"].data_type == "s"
    assert ws["E6"].value == 0.25 and ws["E6"].data_type == "n"  # seconds: a number
    assert ws["F6"].value == "+reason" and ws["F6"].data_type == "s"


def test_study_results_are_text(tmp_path):
    from vcmbench.studies.report import write_xlsx

    res = {"study": "=study", "title": "+title", "images": 3, "signature": "@sig",
           "published": {"source": "-src", "tables": [{"name": "t", "columns": ["=c"], "rows": [["@p"]]}]},
           "tables": [{"name": "S1 rate", "note": "=note", "columns": ["=col", "n"],
                       "rows": [[e, 1.5] for e in EVIL] + [[["a", "=b"], float("inf")]]}]}
    wb = openpyxl.load_workbook(write_xlsx([res], tmp_path / "s.xlsx"))
    names = [e.replace("\x07", "") for e in EVIL]
    _assert_text(_text_cells(wb, names), EVIL)
    for v in ("=study", "+title", "@sig", "-src", "=c", "@p", "=note", "=col", "['a', '=b']"):
        cells = _text_cells(wb, [v])
        assert cells and all(c.data_type == "s" for c in cells), v
    ws = wb["S1 rate"]
    nums = [c for row in ws.iter_rows() for c in row if c.value == 1.5]
    assert len(nums) == len(EVIL) and all(c.data_type == "n" for c in nums)
    assert wb["studies"]["C2"].value == 3 and wb["studies"]["C2"].data_type == "n"


@pytest.mark.parametrize("label", EVIL)
def test_report_labels_are_text_and_formulas_stay(tmp_path, label):
    from tests.unit._resultsets import make_anchor, make_test
    from vcmbench.report import build_report, write_xlsx

    model = build_report([make_anchor()], [make_test(label=label)])
    wb = openpyxl.load_workbook(write_xlsx(model, tmp_path / "o.xlsx"))
    clean = label.replace("\x07", "")
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str) and clean in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
    assert any(c.value == clean and c.quotePrefix for c in cells)
    formulas = [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas and all(clean not in str(c.value) for c in formulas)


def test_report_sheet_writes_a_string_as_text(tmp_path):
    """The report workbook's writer (XlsxWriter): a string given as a number is text, a number a number, and a
    formula only what the module built, stored with its value."""
    from vcmbench.report.xlsx_writer import Book

    book = Book()
    sh = book.sheet("s")
    sh.num(0, 0, "=1+1")
    sh.num(0, 1, 3.0)
    sh.formula(0, 2, "=SUM(A1:B1)", 3.0)
    sh.text(0, 3, "@x")
    p = tmp_path / "s.xlsx"
    p.write_bytes(book.close())
    ws = openpyxl.load_workbook(p)["s"]
    assert ws["A1"].data_type == "s" and ws["A1"].value == "=1+1" and ws["A1"].quotePrefix
    assert ws["B1"].data_type == "n" and ws["C1"].data_type == "f" and ws["C1"].value == "=SUM(A1:B1)"
    assert ws["D1"].data_type == "s" and ws["D1"].quotePrefix
    assert openpyxl.load_workbook(p, data_only=True)["s"]["C1"].value == 3.0
