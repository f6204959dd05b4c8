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
    header = rows[4]
    assert header[:8] == ("Condition", "Dataset", "Scale", "Anchor", "Test", "Quality", "BD-rate", "BD-quality")
    data = rows[5:9]
    assert [r[4] for r in data] == ["VVenC medium", "VVenC medium", "Proposal X", "Proposal X"]
    for r in data:
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in r[6:12])
    assert data[0][6] == pytest.approx(-0.10) and data[2][6] == pytest.approx(-0.30)
    assert ws.cell(6, 7).number_format == "0.00%"
    assert data[0][12] == "pchip-jvet"


def test_condition_sheet_side_by_side_and_chart(workbook):
    wb, _ = workbook
    ws = wb["vcm-oiv6-det"]
    assert ws.cell(4, 3).value == "Anchor: VTM-12.0 anchor (vtm-12.0)"
    assert ws.cell(4, 10).value == "Test: VVenC medium (vvenc-1.15)"
    head = [ws.cell(5, c).value for c in range(1, 10)]
    assert head == ["Dataset", "Scale", "QP", "bpp", "map50_oid", "Enc. time (s)", "Dec. time (s)", "Bits", "Pixels"]
    first = [ws.cell(6, c).value for c in range(1, 12)]
    assert first[:5] == ["OpenImages V6 5k detection", 1.0, 22, pytest.approx(1.52), 0.781]
    assert first[9] == 22 and first[10] == pytest.approx(1.368)
    assert len(ws._charts) == 1
    assert len(ws._charts[0].series) == 6  # 3 sets x 2 scales


def test_provenance_sheet(workbook):
    wb, model = workbook
    values = [c for row in wb["Provenance"].iter_rows(values_only=True) for c in row if c]
    assert model.entries[0].signature in values
    assert make_anchor().signature in values
    assert "EncoderApp -c encoder_intra_vtm.cfg -q 22" in values
    assert "environment.scipy" in values


def test_long_and_odd_condition_names_make_valid_unique_sheets(tmp_path):
    long = "cond/with[odd]*chars?" + "x" * 40
    anchors = [make_anchor(long), make_anchor(long + "2")]
    model = build_report(anchors, [make_test(long), make_test(long + "2")])
    wb = openpyxl.load_workbook(write_xlsx(model, tmp_path / "o.xlsx"))
    names = wb.sheetnames[1:-1]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
