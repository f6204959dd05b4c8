"""xlsx report: every formula stored with its value (pandas reads numbers), units in headers and cells,
summary figures first, bootstrap intervals, print layout, native charts, provenance, untrusted text."""

from __future__ import annotations

import math
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.bd import compare
from vcmbench.core import units
from vcmbench.report import build_report, write_xlsx
from vcmbench.report.model import SummaryEntry

BD_HEADS = ("BD-rate (%)", "BD-accuracy (pp)")


def stored(v: float) -> float:
    """``v`` as a workbook holds a number cell: 16 significant digits (XlsxWriter's ``%.16G``, as Excel)."""
    return float(f"{v:.16g}")


def _model():
    return build_report([make_anchor()], [make_test(), make_test(label="Proposal X", rate_factor=0.7)],
                        title="VVenC vs VTM")


def _with_summaries_and_ci(model):
    """A hand-made model: one condition-defined figure per test and a bootstrap interval on some entries."""
    sec = model.sections[0]
    model.summaries.clear()  # whatever report.model filled: these hand-made figures instead
    for t in sec.tests:
        pts = lambda rs: [(p.bpp, p.accuracy["map50_oid"]) for p in rs.points]  # noqa: E731
        res = compare(pts(sec.anchor), pts(t), "pchip-jvet", remedies=("upper-hull",))
        model.summaries.append(SummaryEntry(t.label, "dataset", "BD-rate over all scale x QP points",
                                            "Pareto front of all scale x QP points of anchor and test",
                                            "a hand-made source (test)", result=res, signature=f"sig-{t.label}",
                                            ci={"level": 95.0, "low": res.bd_rate_pct - 1.5,
                                                "high": res.bd_rate_pct + 1.25, "resamples": 1000, "seed": 7,
                                                "items": 5000, "method": "paired percentile bootstrap over images"}))
    model.summaries[0].condition, model.summaries[0].scales = "vcm-oiv6-det", (1.0, 0.5)  # fields of report.model
    model.entries[0].ci = {"level": 95.0, "low": -12.5, "high": -7.75, "resamples": 996, "requested": 1000, "seed": 7,
                           "items": 5000, "method": "paired percentile bootstrap over images",
                           "warnings": ["4 of 1000 resamples gave no BD-rate"]}
    model.entries[1].ci = {"level": 95.0, "error": "CSV input has no per-image records"}
    return model


@pytest.fixture
def workbook(tmp_path):
    model = _model()
    path = write_xlsx(model, tmp_path / "out.xlsx")
    return openpyxl.load_workbook(path), model, path


def _tables(frame: pd.DataFrame, first: str) -> list[tuple[int, list]]:
    """(header row index, header values) of every table whose first header cell is ``first``."""
    return [(i, list(row)) for i, row in frame.iterrows() if row.iloc[0] == first]


def _rows_below(frame: pd.DataFrame, head: int) -> list[list]:
    out = []
    for i in range(head + 1, len(frame)):
        row = list(frame.iloc[i])
        if all(isinstance(v, float) and math.isnan(v) for v in row):
            break
        out.append(row)
    return out


def test_sheets(workbook):
    wb, _, _ = workbook
    assert wb.sheetnames == ["Summary", "vcm-oiv6-det", "Provenance"]


def test_pandas_reads_every_bd_cell_as_the_models_number(tmp_path):
    """The issue's done-when: pandas (no spreadsheet program, no recalculation) reads every BD cell of every
    sheet as a float equal to the model's value (to the 16 significant digits a number cell holds); BD-accuracy in
    percentage points (x100 of the stored fraction)."""
    model = _with_summaries_and_ci(_model())
    sheets = pd.read_excel(write_xlsx(model, tmp_path / "o.xlsx"), sheet_name=None, header=None)
    checked = 0
    for name, frame in sheets.items():
        for head, cols in _tables(frame, "Dataset") + _tables(frame, "Figure"):
            idx = {h: cols.index(h) for h in BD_HEADS if h in cols}
            if not idx:
                continue
            for row in _rows_below(frame, head):
                if row[0] == "Dataset" or cols[0] == "Dataset" and row[0] == "Total / average":
                    continue
                if cols[0] == "Figure":
                    e = next(s for s in model.summaries if s.test_label == row[4])
                    res = e.result
                else:
                    e = next(x for x in model.entries if (x.condition, x.test_label, x.scale * 100) == (row[1], row[4],
                                                                                                      row[2]))
                    res = e.result
                for h, j in idx.items():
                    want = res.bd_rate_pct if h == "BD-rate (%)" else res.bd_quality * 100
                    assert isinstance(row[j], float) and row[j] == stored(want), (name, h, row)
                    checked += 1
    assert checked == 2 * (len(model.entries) + len(model.summaries))


def test_formulas_stay_formulas_and_carry_their_values(workbook):
    """openpyxl sees the formulas; openpyxl data_only (what pandas reads) sees the values vcmbench computed."""
    wb, model, path = workbook
    values = openpyxl.load_workbook(path, data_only=True)
    formulas = [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert len(formulas) > 50
    for title, coord, f in formulas:
        v = values[title][coord].value
        assert isinstance(v, (int, float)) and not isinstance(v, bool), (title, coord, f, v)
    ws, wv = wb["vcm-oiv6-det"], values["vcm-oiv6-det"]
    assert ws["F6"].value == "=D6/E6" and wv["F6"].value == wv["D6"].value / wv["E6"].value
    assert ws["D12"].value == "=SUM(D6:D11)" and wv["D12"].value == sum(wv[f"D{r}"].value for r in range(6, 12))
    assert ws["G12"].value == "=AVERAGE(G6:G11)"
    assert wv["G12"].value == pytest.approx(sum(wv[f"G{r}"].value for r in range(6, 12)) / 6, rel=1e-15)
    assert ws["Q6"].value == '=IF(H6>0,100*O6/H6,"")' and wv["Q6"].value == 100.0
    summary = wb["Summary"]
    enc = [c for row in summary.iter_rows() for c in row if c.data_type == "f"]
    assert enc and all(c.value.startswith("='vcm-oiv6-det'!") for c in enc)
    assert all(values["Summary"][c.coordinate].value == 100.0 for c in enc)  # equal encode times in these sets


def test_units_in_headers_cells_and_number_formats(workbook):
    wb, model, _ = workbook
    ws = wb["vcm-oiv6-det"]
    assert ws.cell(4, 3).value == "Anchor: VTM-12.0 anchor (vtm-12.0), vcm-oiv6-det"
    assert ws.cell(4, 10).value == "Test: VVenC medium (vvenc-1.15), vcm-oiv6-det"
    head = [ws.cell(5, c).value for c in range(1, 19)]
    assert head == ["Dataset", "Scale (%)", "QP", "Bits", "Pixels", "bpp", "map50_oid (%)", "EncT (s)", "DecT (s)",
                    "QP", "Bits", "Pixels", "bpp", "map50_oid (%)", "EncT (s)", "DecT (s)", "EncT ratio (%)",
                    "DecT ratio (%)"]
    assert [ws.cell(6, c).value for c in (1, 2, 3)] == ["OpenImages V6 5k detection", 100, 22]
    assert ws["G6"].value == 100 * 0.781 and ws["G6"].number_format == units.accuracy("AP").xlsx_format
    assert ws["F6"].number_format == units.BPP.xlsx_format and ws["Q6"].number_format == "0.0"
    summary = wb["Summary"]
    rows = list(summary.iter_rows(values_only=True))
    hr = next(i for i, r in enumerate(rows) if r[0] == "Dataset")
    assert list(rows[hr][:8]) == ["Dataset", "Condition", "Scale (%)", "Anchor", "Test", "Accuracy", "BD-rate (%)",
                                  "BD-accuracy (pp)"]
    assert list(rows[hr][8:]) == ["EncT (%)", "DecT (%)", "Quality overlap (%)", "Rate overlap (%)", "Points anchor",
                                  "Points test", "Method", "Notes"]
    data = rows[hr + 1:hr + 5]
    assert [r[4] for r in data] == ["VVenC medium", "VVenC medium", "Proposal X", "Proposal X"]
    assert data[0][2] == 100 and data[1][2] == 50 and data[0][5] == "map50_oid (%)"
    assert data[0][6] == pytest.approx(-10.0) and data[2][6] == pytest.approx(-30.0)
    assert data[0][10] == 100 * model.entries[0].result.overlap and data[0][14] == "pchip-jvet"
    cells = {c.value: c for c in summary[hr + 2]}
    assert summary.cell(hr + 2, 7).number_format == units.BD_RATE.xlsx_format == "+0.00;-0.00;0.00"
    assert summary.cell(hr + 2, 8).number_format == units.bd_accuracy("AP").xlsx_format
    assert summary.cell(hr + 2, 11).number_format == units.OVERLAP.xlsx_format
    assert cells
    # no row averages BD-rates that no condition tells to average
    assert not [r for r in rows if r[0] == "Overall"]


def test_no_summary_figure_is_said(tmp_path):
    model = _model()
    model.summaries.clear()
    rows = list(openpyxl.load_workbook(write_xlsx(model, tmp_path / "o.xlsx"))["Summary"].iter_rows(values_only=True))
    i = next(i for i, r in enumerate(rows) if r[0] == "Summary figures (as the test conditions define them)")
    assert rows[i + 1][0].startswith("None: no test condition defines a summary figure")
    assert not [r for r in rows if r[0] in ("Figure", "Overall")]


def test_headers_are_whole_and_wrapped(workbook):
    """Every header cell wraps (so "BD-rate (%)" is never cut to "BD-ra") and every table is bordered."""
    wb, _, _ = workbook
    for ws in (wb["Summary"], wb["vcm-oiv6-det"]):
        heads = [c for row in ws.iter_rows() for c in row if c.value and str(c.fill.fgColor.rgb).endswith("E7E6E6")]
        assert len(heads) > 15
        assert all(c.alignment.wrap_text and c.font.b and c.border.left.style for c in heads), ws.title
        for c in heads:
            width = ws.column_dimensions[c.column_letter].width
            assert width >= max(len(w) for w in str(c.value).split()), (ws.title, c.value, width)


def test_print_layout(workbook):
    wb, _, _ = workbook
    for ws in wb:
        ps = ws.page_setup
        assert ps.orientation == "landscape" and str(ps.paperSize) == "9", ws.title
    summary, prov = wb["Summary"], wb["Provenance"]
    for ws in (summary, prov):
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None)
        assert ws.page_setup.fitToHeight == 0
    assert re.fullmatch(r"\$\d+:\$\d+", summary.print_title_rows)
    head = int(summary.print_title_rows.split(":")[0][1:])
    assert summary.cell(head, 1).value == "Dataset"
    assert all(c.alignment.wrap_text for c in prov["B"] if c.value)
    cond = wb["vcm-oiv6-det"]  # 27 columns: too wide for one readable page; the key columns repeat instead
    assert not cond.sheet_properties.pageSetUpPr.fitToPage and cond.print_title_cols == "$A:$B"
    assert cond.print_title_rows == "$4:$5" and cond.freeze_panes == "C6"


def _chart_texts(xml: str) -> list[tuple[str, str]]:
    """(cell reference, cached text) of every text in a chart (title, series names, axis titles)."""
    return re.findall(r"<c:tx><c:strRef><c:f>([^<]*)</c:f><c:strCache>.*?<c:v>([^<]*)</c:v>", xml)


def test_charts_axes_and_legend(workbook):
    wb, _, path = workbook
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        xml = [z.read(n).decode() for n in charts]
    assert len(xml) == 2  # one per scale
    first = xml[0]
    assert '<c:logBase val="10"/>' in first
    assert '<c:min val="0.01"/>' in first and '<c:max val="10"/>' in first  # 0.03..1.52 bpp -> 0.01..10
    assert '<c:min val="50"/>' in first and '<c:max val="80"/>' in first  # accuracy 56.1..78.1 % -> 50..80
    assert '<c:crosses val="min"/>' in first  # the accuracy axis sits at the left end of the log rate axis
    assert 'formatCode="0.00"' in first and 'formatCode="0.0"' in first
    texts = _chart_texts(first)
    assert [t for _, t in texts] == [
        "Scale 100 %: vcm-oiv6-det, map50_oid (%) against bpp (logarithmic rate axis)",
        "Anchor: VTM-12.0 anchor (vtm-12.0), vcm-oiv6-det", "Test: VVenC medium (vvenc-1.15), vcm-oiv6-det",
        "Test: Proposal X (vvenc-1.15), vcm-oiv6-det", "bpp", "map50_oid (%)"]
    ws = wb["vcm-oiv6-det"]
    for ref, text in texts:  # every chart text is a reference to the sheet's own text cell
        sheet, cell = ref.split("!")
        assert sheet == "'vcm-oiv6-det'" and ws[cell.replace("$", "")].value == text
    assert len(set(re.findall(r'<a:srgbClr val="([0-9A-F]{6})"/>', first))) >= 3
    assert "Scale 50 %: vcm-oiv6-det" in xml[1] and '<c:min val="0.001"/>' in xml[1]
    assert 'formatCode="0.000"' in xml[1]


def test_summary_figures_first_with_rule_source_and_ci(tmp_path):
    model = _with_summaries_and_ci(_model())
    path = write_xlsx(model, tmp_path / "o.xlsx")
    rows = list(openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True))
    fig = next(i for i, r in enumerate(rows) if r[0] == "Figure")
    det = next(i for i, r in enumerate(rows) if r[0] == "Dataset")
    assert fig < det
    head = rows[fig]
    assert list(head[:11]) == ["Figure", "Scope", "Scales (%)", "Anchor", "Test", "Accuracy", "BD-rate (%)", "BD-accuracy (pp)",
                               "CI level (%)", "CI low (%)", "CI high (%)"]
    assert head[11] == "Rule" and head[15] == "Source" and head[-1] == "Notes"
    s0 = rows[fig + 1]
    assert s0[0] == "BD-rate over all scale x QP points" and s0[1:5] == ("vcm-oiv6-det", "100, 50", "VTM-12.0 anchor",
                                                                         "VVenC medium")
    assert rows[fig + 2][1:3] == ("dataset", None)  # no condition named: the scope as given
    assert s0[6] == stored(model.summaries[0].bd_rate_pct)
    assert s0[7] == stored(100 * model.summaries[0].result.bd_quality)
    assert s0[8:11] == (95, stored(model.summaries[0].ci["low"]), stored(model.summaries[0].ci["high"]))
    assert s0[11].startswith("Pareto front") and s0[15] == "a hand-made source (test)"
    assert list(rows[det][8:11]) == ["CI level (%)", "CI low (%)", "CI high (%)"]
    d0, d1 = rows[det + 1], rows[det + 2]
    assert d0[8:11] == (95, -12.5, -7.75) and d1[8:11] == (None, None, None)
    notes = {r[0]: r[1] for r in rows[det:] if r[0] and re.fullmatch(r"\d+\)", str(r[0]))}
    assert notes[f"{d1[-1]})"] == "95 % CI not computed: CSV input has no per-image records"
    assert notes[f"{d0[-1]})"] == ("95 % CI: paired percentile bootstrap over images, 996 resamples of 1000, "
                                   "5000 items, seed 7; 95 % CI: 4 of 1000 resamples gave no BD-rate")
    s1 = notes[f"{s0[-1]})"]  # one note per row: the BD notes of the figure, then its interval
    assert s1.startswith("anchor: upper-hull dropped") and s1.endswith(
        "95 % CI: paired percentile bootstrap over images, 1000 resamples, 5000 items, seed 7")
    prov = [c for row in openpyxl.load_workbook(path)["Provenance"].iter_rows(values_only=True) for c in row if c]
    assert "sig-VVenC medium" in prov and "sig-Proposal X" in prov


def test_uncomputed_bd_is_an_empty_cell_with_its_reason(tmp_path):
    t = make_test()
    t.points = [p for p in t.points if p.scale == 1.0][:2] + [p for p in t.points if p.scale == 0.5]
    model = build_report([make_anchor()], [t], method="cubic")
    rows = list(openpyxl.load_workbook(write_xlsx(model, tmp_path / "o.xlsx"))["Summary"].iter_rows(values_only=True))
    det = next(i for i, r in enumerate(rows) if r[0] == "Dataset")
    bad = rows[det + 1]
    assert bad[2] == 100 and bad[6] is None and bad[7] is None
    notes = {r[0]: r[1] for r in rows if r[0] and re.fullmatch(r"\d+\)", str(r[0]))}
    assert "needs at least 4" in notes[f"{bad[-1]})"] and notes[f"{bad[-1]})"].startswith("BD not computed: ")


def test_provenance_sheet(workbook):
    wb, model, _ = workbook
    values = [c for row in wb["Provenance"].iter_rows(values_only=True) for c in row if c]
    assert model.entries[0].signature in values
    assert make_anchor().signature in values
    assert "EncoderApp -c encoder_intra_vtm.cfg -q 22" in values
    assert "environment: scipy" in values and "anchor" in values  # run_dir reduced to its last component


@pytest.mark.parametrize("evil", ['=HYPERLINK("hxxp://x","y")\x07\x1b', "Other!A1", "@cmd|' /C calc'!A0"])
def test_untrusted_text_is_text_and_xml_safe(tmp_path, evil):
    model = build_report([make_anchor()], [make_test(label=evil)])
    path = write_xlsx(model, tmp_path / "o.xlsx")
    wb = openpyxl.load_workbook(path)
    clean = evil.replace("\x07", "").replace("\x1b", "")
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str) and clean in c.value]
    assert cells and all(c.data_type == "s" and "\x07" not in c.value for c in cells)
    with zipfile.ZipFile(path) as z:  # chart texts refer to the sheet's own cells, whatever the label says
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    refs = [f for x in charts for f in re.findall(r"<c:f>([^<]*)</c:f>", x)]
    assert refs and all(re.fullmatch(r"'vcm-oiv6-det'!\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?", f) for f in refs), refs


def test_long_and_odd_condition_names_make_valid_unique_sheets(tmp_path):
    long = "cond/with[odd]*chars?" + "x" * 40
    anchors = [make_anchor(long), make_anchor(long + "2")]
    model = build_report(anchors, [make_test(long), make_test(long + "2")])
    wb = openpyxl.load_workbook(write_xlsx(model, tmp_path / "o.xlsx"))
    names = wb.sheetnames[1:-1]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
