"""xlsx report: sheets, numbers stored as numbers, native chart, provenance."""

from __future__ import annotations

import openpyxl
import pytest

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.report import build_report, write_xlsx


@pytest.fixture
def workbook(tmp_path):
    model = build_report([make_anchor()], [make_test(), make_test(label="Proposal X", rate_factor=0.7)],
                         title="VVenC vs VTM")
    path = write_xlsx(model, tmp_path / "out.xlsx")
    return openpyxl.load_workbook(path), model


def test_sheets(workbook):
    wb, _ = workbook
    assert wb.sheetnames == ["Summary", "vcm-oiv6-det", "Provenance"]


def test_summary_numbers_are_numbers(workbook):
    wb, model = workbook
    ws = wb["Summary"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:2] == ("BD method", "pchip-jvet") and rows[2][:2] == ("Remedy for non-monotonic curves", "none")
    header = rows[5]
    assert header[:10] == ("Dataset", "Condition", "Scale", "Anchor", "Test", "Accuracy", "BD-rate", "BD-accuracy",
                           "EncT", "DecT")
    data = rows[6:10]
    assert [r[4] for r in data] == ["VVenC medium", "VVenC medium", "Proposal X", "Proposal X"]
    for r in data:
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in r[6:8] + r[10:14])
        assert r[8].startswith("='vcm-oiv6-det'!") and r[9].startswith("='vcm-oiv6-det'!")  # live time ratios
    assert data[0][6] == pytest.approx(-0.10) and data[2][6] == pytest.approx(-0.30)
    assert data[0][5] == "map50_oid (%)" and data[0][7] == pytest.approx(100 * model.entries[0].result.bd_quality)
    assert ws.cell(7, 7).number_format == "0.00%"
    assert data[0][14] == "pchip-jvet"
    overall = [r for r in rows if r[0] == "Overall"]
    assert [r[4] for r in overall] == ["VVenC medium", "Proposal X"]
    assert overall[0][6] == '=IFERROR(AVERAGE(G7,G8),"not computed")'


def test_condition_sheet_formulas_totals_and_charts(workbook):
    wb, _ = workbook
    ws = wb["vcm-oiv6-det"]
    assert ws.cell(4, 3).value == "Anchor: VTM-12.0 anchor (vtm-12.0)"
    assert ws.cell(4, 10).value == "Test: VVenC medium (vvenc-1.15)"
    head = [ws.cell(5, c).value for c in range(1, 19)]
    assert head == ["Dataset", "Scale", "QP", "Bits", "Pixels", "bpp", "map50_oid (%)", "EncT (s)", "DecT (s)",
                    "QP", "Bits", "Pixels", "bpp", "map50_oid (%)", "EncT (s)", "DecT (s)", "EncT ratio", "DecT ratio"]
    first = [ws.cell(6, c).value for c in range(1, 19)]
    assert first[:3] == ["OpenImages V6 5k detection", 1.0, 22] and first[5] == "=D6/E6"
    assert first[6] == pytest.approx(78.1) and first[12] == "=K6/L6" and first[16] == '=IF(H6>0,O6/H6,"")'
    total = [ws.cell(12, c).value for c in range(1, 19)]
    assert total[0] == "Total / average" and total[3] == "=SUM(D6:D11)" and total[5] == "=D12/E12"
    assert total[6] == "=AVERAGE(G6:G11)" and total[16] == '=IF(H12>0,O12/H12,"")'
    assert ws.freeze_panes == "C6" and ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert len(ws._charts) == 2  # one per scale
    chart = ws._charts[0]
    assert len(chart.series) == 3 and chart.x_axis.scaling.logBase == 10
    colours = {str(s.graphicalProperties.line.solidFill.srgbClr) for s in chart.series}
    assert len(colours) == 3


def test_provenance_sheet(workbook):
    wb, model = workbook
    values = [c for row in wb["Provenance"].iter_rows(values_only=True) for c in row if c]
    assert model.entries[0].signature in values
    assert make_anchor().signature in values
    assert "EncoderApp -c encoder_intra_vtm.cfg -q 22" in values
    assert "environment: scipy" in values and "anchor" in values  # run_dir reduced to its last component


def test_untrusted_text_is_text_and_xml_safe(tmp_path):
    evil = '=HYPERLINK("hxxp://x","y")\x07\x1b'
    model = build_report([make_anchor()], [make_test(label=evil)])
    wb = openpyxl.load_workbook(write_xlsx(model, tmp_path / "o.xlsx"))
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and "\x07" not in c.value for c in cells)


def test_long_and_odd_condition_names_make_valid_unique_sheets(tmp_path):
    long = "cond/with[odd]*chars?" + "x" * 40
    anchors = [make_anchor(long), make_anchor(long + "2")]
    model = build_report(anchors, [make_test(long), make_test(long + "2")])
    wb = openpyxl.load_workbook(write_xlsx(model, tmp_path / "o.xlsx"))
    names = wb.sheetnames[1:-1]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
