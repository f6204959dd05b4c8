"""The report as an Excel workbook (openpyxl) in the shape of the CTC reporting templates.

Sheets:

* ``Summary``: the BD method named; one row per dataset (condition) and scale per test with
  BD-rate, BD-accuracy, EncT and DecT (ratios of the test's total encode / decode time to the
  anchor's, live formulas into the condition sheet), overlap and points; an **Overall** row per
  test (live formulas: AVERAGE of the BD-rates, GEOMEAN of the time ratios, as the JVET/MPEG
  templates summarise per-sequence values).
* one sheet per condition: per scale, the rows per QP of the anchor and each test side by side
  (QP, bits, pixels, bpp = bits / pixels as a formula, accuracy, encode and decode seconds; for
  a test also EncT/DecT ratio to the anchor's row), then a Total row (SUM of bits, pixels and
  times, bpp over the totals, AVERAGE of accuracy, ratio of total times); a native scatter chart
  per scale with distinct colours and markers and a logarithmic rate axis.
* ``Provenance``: signatures, environment, command lines (local paths reduced to file names).

Accuracy is in percent by default (``percent=False``: as a fraction).  BD-rate and overlap are
fractions with a percent number format (-0.1 shows -10.00 %, as the JVET VBA returns it).  BD
values are numbers computed by vcmbench (the BD integral is not a spreadsheet formula).  Every text
that comes from an input (labels, datasets, conditions, notes) is written as text: characters
XML cannot hold are removed and a leading ``=`` can never become a live formula.  Columns have
widths, panes are frozen below the headers and every sheet prints landscape, one page wide.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from ..core.jsonio import atomic_write_bytes
from ..core.sheets import ILLEGAL, set_text
from .document import acc_factor, rate_name, scrub
from .model import ConditionSection, ReportModel, set_label

PCT = "0.00%"
NUM4 = "0.0000"
NUM2 = "0.00"
SEC = "0.00"
RATIO = "0.0%"
SERIES_STYLE = [("000000", "circle"), ("D62728", "square"), ("1F77B4", "triangle"), ("2CA02C", "diamond"),
                ("9467BD", "x"), ("FF7F0E", "star"), ("8C564B", "plus")]


def put_text(ws, row: int, col: int, value, bold=None):
    """Write untrusted text as text: XML-illegal characters removed, never a formula (core.sheets)."""
    cell = set_text(ws.cell(row, col), value)
    if bold is not None:
        cell.font = bold
    return cell


def put_num(ws, row: int, col: int, value, fmt: str | None = None):
    """A number (or None); a string that reached here from input is written as text, never a formula."""
    if isinstance(value, str):
        cell = set_text(ws.cell(row, col), value)
    else:
        cell = ws.cell(row, col, value)
    if fmt:
        cell.number_format = fmt
    return cell


def put_formula(ws, row: int, col: int, formula: str, fmt: str | None = None):
    """A formula this module built (cell references and functions only, no input text)."""
    cell = ws.cell(row, col, formula)
    if fmt:
        cell.number_format = fmt
    return cell


def _sheet_name(text: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", ILLEGAL.sub("", text)).strip() or "condition"
    base = base[:31]
    name, n = base, 2
    while name.lower() in used or name.lower() in ("summary", "provenance"):
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _page(ws, freeze: str | None, widths: dict[str, float]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    if freeze:
        ws.freeze_panes = freeze
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False


def _col(c: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(c)


ANCHOR_COLS = ["QP", "Bits", "Pixels", "{rate}", "{acc}", "EncT (s)", "DecT (s)"]
TEST_COLS = ANCHOR_COLS + ["EncT ratio", "DecT ratio"]


def _condition_sheet(wb, sec: ConditionSection, name: str, bold, percent: bool) -> dict:
    """Write one condition sheet; returns {(test index, scale): (EncT ratio cell, DecT ratio cell)}."""
    from openpyxl.chart import Reference, ScatterChart, Series

    ws = wb.create_sheet(name)
    factor = acc_factor(sec, percent)
    acc_name = f"{sec.quality_key} (%)" if factor == 100.0 else sec.quality_key
    rate = rate_name(sec)
    put_text(ws, 1, 1, f"Condition {sec.condition}", bold)
    put_text(ws, 2, 1, f"Dataset: {sec.dataset}    Accuracy: {sec.metric} ({acc_name})")
    sets = [sec.anchor, *sec.tests]
    starts, c = [], 3
    for k in range(len(sets)):
        starts.append(c)
        c += len(ANCHOR_COLS if k == 0 else TEST_COLS)
    head_row, col_row = 4, 5
    put_text(ws, col_row, 1, "Dataset", bold)
    put_text(ws, col_row, 2, "Scale", bold)
    for k, rs in enumerate(sets):
        put_text(ws, head_row, starts[k], f"{'Anchor' if k == 0 else 'Test'}: {set_label(rs)} ({rs.codec})", bold)
        for j, h in enumerate(ANCHOR_COLS if k == 0 else TEST_COLS):
            put_text(ws, col_row, starts[k] + j, h.format(rate=rate, acc=acc_name), bold)
    row = col_row + 1
    ratio_cells: dict = {}
    charts = []
    for scale in sec.scales():
        per_set = [sec.points(rs, scale) for rs in sets]
        n = max(len(p) for p in per_set)
        first = row
        for i in range(n):
            put_text(ws, row + i, 1, sec.dataset)
            put_num(ws, row + i, 2, scale, "0%")
        for k, pts in enumerate(per_set):
            c0 = starts[k]
            for i, p in enumerate(pts):
                r = row + i
                put_num(ws, r, c0, p.qp, "0")
                put_num(ws, r, c0 + 1, p.bits, "0")
                put_num(ws, r, c0 + 2, p.pixels, "0")
                if p.pixels > 0:
                    put_formula(ws, r, c0 + 3, f"={_col(c0 + 1)}{r}/{_col(c0 + 2)}{r}", "0.000000")
                else:  # a curve file without bits/pixels: the rate as given
                    put_num(ws, r, c0 + 3, p.bpp, "0.000000")
                acc = p.accuracy.get(sec.quality_key)
                put_num(ws, r, c0 + 4, None if acc is None else acc * factor, NUM2 if factor == 100.0 else NUM4)
                put_num(ws, r, c0 + 5, p.encode_seconds, SEC)
                put_num(ws, r, c0 + 6, p.decode_seconds, SEC)
                if k > 0 and i < len(per_set[0]):
                    a0 = starts[0]
                    for j, aj in ((7, 5), (8, 6)):
                        ref_a, ref_t = f"{_col(a0 + aj)}{r}", f"{_col(c0 + aj)}{r}"
                        put_formula(ws, r, c0 + j, f'=IF({ref_a}>0,{ref_t}/{ref_a},"")', RATIO)
        total = row + n
        put_text(ws, total, 1, "Total / average", bold)
        put_num(ws, total, 2, scale, "0%")
        for k, pts in enumerate(per_set):
            c0 = starts[k]
            if not pts:
                continue
            last = row + len(pts) - 1
            rng = lambda j: f"{_col(c0 + j)}{first}:{_col(c0 + j)}{last}"  # noqa: E731
            put_formula(ws, total, c0 + 1, f"=SUM({rng(1)})", "0")
            put_formula(ws, total, c0 + 2, f"=SUM({rng(2)})", "0")
            if all(p.pixels > 0 for p in pts):
                put_formula(ws, total, c0 + 3, f"={_col(c0 + 1)}{total}/{_col(c0 + 2)}{total}", "0.000000")
            put_formula(ws, total, c0 + 4, f"=AVERAGE({rng(4)})", NUM2 if factor == 100.0 else NUM4)
            put_formula(ws, total, c0 + 5, f"=SUM({rng(5)})", SEC)
            put_formula(ws, total, c0 + 6, f"=SUM({rng(6)})", SEC)
            if k > 0:
                a0 = starts[0]
                for j, aj in ((7, 5), (8, 6)):
                    ref_a, ref_t = f"{_col(a0 + aj)}{total}", f"{_col(c0 + aj)}{total}"
                    put_formula(ws, total, c0 + j, f'=IF({ref_a}>0,{ref_t}/{ref_a},"")', RATIO)
                ratio_cells[(k - 1, scale)] = (f"'{ws.title}'!{_col(c0 + 7)}{total}", f"'{ws.title}'!{_col(c0 + 8)}{total}")
        # chart for this scale
        chart = ScatterChart()
        chart.title = f"{sec.condition[:60]}, scale {scale * 100:g} %"
        chart.style = 2
        chart.x_axis.title = f"{rate} (log scale)"
        chart.y_axis.title = acc_name
        chart.x_axis.scaling.logBase = 10
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.legend.position = "b"
        for k, pts in enumerate(per_set):
            if not pts:
                continue
            c0 = starts[k]
            xs = Reference(ws, min_col=c0 + 3, min_row=row, max_row=row + len(pts) - 1)
            ys = Reference(ws, min_col=c0 + 4, min_row=row, max_row=row + len(pts) - 1)
            s = Series(ys, xs, title=ILLEGAL.sub("", f"{'Anchor' if k == 0 else 'Test'}: {set_label(sets[k])}")[:250])
            colour, symbol = SERIES_STYLE[k % len(SERIES_STYLE)]
            s.marker.symbol = symbol
            s.marker.size = 7
            s.marker.graphicalProperties.solidFill = colour
            s.marker.graphicalProperties.line.solidFill = colour
            s.graphicalProperties.line.solidFill = colour
            s.graphicalProperties.line.width = 19050
            if k > 0:
                s.graphicalProperties.line.dashStyle = "dash"
            s.smooth = False
            chart.series.append(s)
        chart.height, chart.width = 8, 14
        charts.append(chart)
        row = total + 2
    for i, chart in enumerate(charts):
        ws.add_chart(chart, f"{_col(1 + (i % 2) * 9)}{row + 1 + (i // 2) * 17}")
    widths = {"A": 28, "B": 7}
    for k, c0 in enumerate(starts):
        for j in range(len(ANCHOR_COLS if k == 0 else TEST_COLS)):
            widths[_col(c0 + j)] = [5, 12, 12, 10, 9, 10, 9, 10, 10][j]
    _page(ws, "C6", widths)
    return ratio_cells


def _summary(wb, model: ReportModel, bold, ratio_cells: dict, percent: bool) -> None:
    ws = wb.active
    ws.title = "Summary"
    put_text(ws, 1, 1, model.title, bold)
    put_text(ws, 2, 1, "BD method")
    put_text(ws, 2, 2, model.bd_signature_part)
    put_text(ws, 3, 1, "Remedy for non-monotonic curves")
    put_text(ws, 3, 2, ", ".join(model.remedies) or "none")
    put_text(ws, 4, 1, "Generated (UTC)")
    put_text(ws, 4, 2, model.provenance.get("generated_utc", ""))
    headers = ["Dataset", "Condition", "Scale", "Anchor", "Test", "Accuracy", "BD-rate", "BD-accuracy",
               "EncT", "DecT", "Overlap (accuracy)", "Overlap (rate)", "Points anchor", "Points test", "Method",
               "Signature", "Notes"]
    hr = 6
    for j, h in enumerate(headers, 1):
        put_text(ws, hr, j, h, bold)
    r = hr
    per_test: dict[str, list[int]] = {}
    for sec in model.sections:
        factor = acc_factor(sec, percent)
        for e in sec.entries:
            r += 1
            ti = next(i for i, t in enumerate(sec.tests) if set_label(t) == e.test_label)
            per_test.setdefault(e.test_label, []).append(r)
            for j, v in enumerate([sec.dataset, e.condition], 1):
                put_text(ws, r, j, v)
            put_num(ws, r, 3, e.scale, "0%")
            put_text(ws, r, 4, e.anchor_label)
            put_text(ws, r, 5, e.test_label)
            put_text(ws, r, 6, f"{e.quality_key} (%)" if factor == 100.0 else e.quality_key)
            enc, dec = ratio_cells.get((sec.condition, ti, e.scale), (None, None))
            if enc:
                put_formula(ws, r, 9, f"={enc}", RATIO)
                put_formula(ws, r, 10, f"={dec}", RATIO)
            res = e.result
            if res is None:
                put_text(ws, r, 7, "not computed")
                put_text(ws, r, 15, e.method)
                put_text(ws, r, 17, e.error)
                continue
            notes = "; ".join(res.warnings + res.notes + ([f"BD-quality: {res.bd_quality_error}"]
                                                          if res.bd_quality_error else []))
            put_num(ws, r, 7, res.bd_rate_pct / 100.0, PCT)
            put_num(ws, r, 8, None if res.bd_quality is None else res.bd_quality * factor,
                    NUM2 if factor == 100.0 else NUM4)
            put_num(ws, r, 11, res.overlap, "0.0%")
            put_num(ws, r, 12, res.overlap_rate, "0.0%")
            put_num(ws, r, 13, res.points_anchor, "0")
            put_num(ws, r, 14, res.points_test, "0")
            put_text(ws, r, 15, res.signature_part)
            put_text(ws, r, 16, scrub(e.signature))
            put_text(ws, r, 17, scrub(notes))
    for label, rows in per_test.items():
        r += 1
        put_text(ws, r, 1, "Overall", bold)
        put_text(ws, r, 5, label, bold)
        refs = ",".join(f"G{x}" for x in rows)
        put_formula(ws, r, 7, f'=IFERROR(AVERAGE({refs}),"not computed")', PCT).font = bold
        for col in ("I", "J"):
            cells = ",".join(f"{col}{x}" for x in rows)
            put_formula(ws, r, {"I": 9, "J": 10}[col], f'=IFERROR(GEOMEAN({cells}),"")', RATIO).font = bold
        put_text(ws, r, 17, "AVERAGE of the BD-rates above (not-computed ones left out); GEOMEAN of the time ratios")
    if model.warnings:
        r += 2
        put_text(ws, r, 1, "Warnings", bold)
        for w in model.warnings:
            r += 1
            put_text(ws, r, 1, scrub(w))
    _page(ws, "A7", {"A": 26, "B": 22, "C": 7, "D": 18, "E": 18, "F": 14, "G": 10, "H": 11, "I": 8, "J": 8,
                     "K": 10, "L": 10, "M": 8, "N": 8, "O": 18, "P": 50, "Q": 50})


def _provenance(wb, model: ReportModel, bold) -> None:
    from .document import _annex

    ws = wb.create_sheet("Provenance")
    r = 0
    for _, t in _annex(model):
        r += 1
        put_text(ws, r, 1, t.caption, bold)
        for row in t.rows:
            r += 1
            for j, v in enumerate(row, 1):
                put_text(ws, r, j, v)
        r += 1
    _page(ws, None, {"A": 34, "B": 110})


def workbook_bytes(model: ReportModel, *, percent: bool = True) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = Workbook()
    used: set[str] = set()
    ratio_cells: dict = {}
    sheets = []
    for sec in model.sections:
        sheets.append((sec, _sheet_name(sec.condition, used)))
    wb.active.title = "Summary"
    for sec, name in sheets:
        cells = _condition_sheet(wb, sec, name, bold, percent)
        ratio_cells.update({(sec.condition, *k): v for k, v in cells.items()})
    _summary(wb, model, bold, ratio_cells, percent)
    _provenance(wb, model, bold)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_xlsx(model: ReportModel, path: str | Path, **kw) -> Path:
    """Write the workbook atomically."""
    return atomic_write_bytes(path, workbook_bytes(model, **kw))
