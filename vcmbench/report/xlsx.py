"""The report as an Excel workbook (openpyxl), in the shape of the MPEG/JVET reporting sheets.

Sheets: ``Summary`` (BD-rate and BD-quality per condition and scale vs the anchor, method,
overlap), one sheet per condition (per-QP rows of the anchor and each test side by side:
dataset, scale, QP, bpp, accuracy, encode/decode time, bits, pixels; a native scatter RD chart),
and ``Provenance`` (signatures, environment, command lines).

Numbers are stored as numbers: BD-rate and overlaps as fractions with a percent number format
(-0.1 shows as -10.00 %, as the JVET VBA returns it), BD-quality in the quality's units.
A BD value that could not be computed is the text "not computed" with the reason beside it.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from ..core.jsonio import atomic_write_bytes
from .model import ConditionSection, ReportModel, set_label

PCT = "0.00%"
NUM4 = "0.0000"
SEC = "0.00"
SET_COLS = ("QP", "bpp", "{metric}", "Enc. time (s)", "Dec. time (s)", "Bits", "Pixels")


def _sheet_name(text: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", text).strip() or "condition"
    base = base[:31]
    name, n = base, 2
    while name.lower() in used or name.lower() in ("summary", "provenance"):
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _widths(ws, widths: dict[str, int]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[col].width = w


def _summary(wb, model: ReportModel, bold) -> None:
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = model.title
    ws["A1"].font = bold
    ws["A2"] = "BD method"
    ws["B2"] = model.bd_signature_part
    ws["A3"] = "Generated (UTC)"
    ws["B3"] = model.provenance.get("generated_utc", "")
    headers = ["Condition", "Dataset", "Scale", "Anchor", "Test", "Quality", "BD-rate", "BD-quality",
               "Overlap (quality)", "Overlap (rate)", "Points anchor", "Points test", "Method", "Signature", "Notes"]
    ws.append([])
    ws.append(headers)
    for c in ws[ws.max_row]:
        c.font = bold
    for sec in model.sections:
        for e in sec.entries:
            r = e.result
            if r is None:
                row = [e.condition, sec.dataset, e.scale, e.anchor_label, e.test_label, e.quality_key,
                       "not computed", None, None, None, None, None, e.method, "", e.error]
            else:
                notes = "; ".join(r.warnings + r.notes + ([f"BD-quality: {r.bd_quality_error}"] if r.bd_quality_error else []))
                row = [e.condition, sec.dataset, e.scale, e.anchor_label, e.test_label, e.quality_key,
                       r.bd_rate_pct / 100.0, r.bd_quality, r.overlap, r.overlap_rate, r.points_anchor,
                       r.points_test, r.signature_part, e.signature, notes]
            ws.append(row)
            i = ws.max_row
            ws.cell(i, 3).number_format = "0%"
            ws.cell(i, 7).number_format = PCT
            ws.cell(i, 8).number_format = NUM4
            ws.cell(i, 9).number_format = "0.0%"
            ws.cell(i, 10).number_format = "0.0%"
    if model.warnings:
        ws.append([])
        ws.append(["Warnings"])
        ws.cell(ws.max_row, 1).font = bold
        for w in model.warnings:
            ws.append([w])
    _widths(ws, {"A": 22, "B": 26, "C": 8, "D": 18, "E": 18, "F": 12, "G": 10, "H": 11, "I": 10, "J": 10,
                 "K": 8, "L": 8, "M": 16, "N": 60, "O": 60})


def _condition_sheet(wb, sec: ConditionSection, name: str, bold) -> None:
    from openpyxl.chart import Reference, ScatterChart, Series

    ws = wb.create_sheet(name)
    ws["A1"] = f"Condition {sec.condition}"
    ws["A1"].font = bold
    ws["A2"] = f"Dataset: {sec.dataset}    Accuracy: {sec.metric} ({sec.quality_key})"
    sets = [sec.anchor, *sec.tests]
    width = len(SET_COLS)
    head_row, col_row = 4, 5
    ws.cell(col_row, 1, "Dataset").font = bold
    ws.cell(col_row, 2, "Scale").font = bold
    for k, rs in enumerate(sets):
        c0 = 3 + k * width
        role = "Anchor" if k == 0 else "Test"
        ws.cell(head_row, c0, f"{role}: {set_label(rs)} ({rs.codec})").font = bold
        for j, h in enumerate(SET_COLS):
            ws.cell(col_row, c0 + j, h.format(metric=sec.quality_key)).font = bold
    row = col_row + 1
    ranges: dict[tuple[int, float], tuple[int, int]] = {}  # (set index, scale) -> (first row, last row)
    for scale in sec.scales():
        per_set = [sec.points(rs, scale) for rs in sets]
        n = max(len(p) for p in per_set)
        for i in range(n):
            ws.cell(row + i, 1, sec.dataset)
            ws.cell(row + i, 2, scale).number_format = "0%"
        for k, pts in enumerate(per_set):
            c0 = 3 + k * width
            for i, p in enumerate(pts):
                vals = [p.qp, p.bpp, p.accuracy.get(sec.quality_key), p.encode_seconds, p.decode_seconds, p.bits, p.pixels]
                fmts = ["0", "0.000000", NUM4, SEC, SEC, "0", "0"]
                for j, (v, f) in enumerate(zip(vals, fmts)):
                    cell = ws.cell(row + i, c0 + j, v)
                    cell.number_format = f
            if pts:
                ranges[(k, scale)] = (row, row + len(pts) - 1)
        row += n + 1
    # BD rows
    row += 1
    ws.cell(row, 1, "BD vs anchor").font = bold
    for e in sec.entries:
        row += 1
        k = 1 + next(i for i, t in enumerate(sec.tests) if set_label(t) == e.test_label)
        c0 = 3 + k * width
        ws.cell(row, 1, f"{e.test_label}, scale {e.scale:.0%}")
        if e.result is None:
            ws.cell(row, 2, "not computed")
            ws.cell(row, c0, e.error)
            continue
        ws.cell(row, c0, "BD-rate")
        ws.cell(row, c0 + 1, e.result.bd_rate_pct / 100.0).number_format = PCT
        ws.cell(row, c0 + 2, "BD-quality")
        if e.result.bd_quality is not None:
            ws.cell(row, c0 + 3, e.result.bd_quality).number_format = NUM4
        ws.cell(row, c0 + 4, "overlap")
        ws.cell(row, c0 + 5, e.result.overlap).number_format = "0.0%"
        ws.cell(row, c0 + 6, e.result.signature_part)
    # Native RD chart: one series per (set, scale)
    chart = ScatterChart()
    chart.title = f"{sec.condition}: {sec.quality_key} vs bpp"
    chart.style = 13
    chart.x_axis.title = "bpp"
    chart.y_axis.title = sec.quality_key
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for (k, scale), (r0, r1) in ranges.items():
        c0 = 3 + k * width
        xs = Reference(ws, min_col=c0 + 1, min_row=r0, max_row=r1)
        ys = Reference(ws, min_col=c0 + 2, min_row=r0, max_row=r1)
        s = Series(ys, xs, title=f"{set_label(sets[k])} {scale:.0%}")
        s.marker.symbol = "circle" if k == 0 else "triangle"
        s.smooth = False
        chart.series.append(s)
    chart.height, chart.width = 9, 16
    ws.add_chart(chart, f"A{row + 3}")
    ws.column_dimensions["A"].width = 26


def _provenance(wb, model: ReportModel, bold) -> None:
    ws = wb.create_sheet("Provenance")
    ws.append(["Report"])
    ws.cell(1, 1).font = bold
    p = model.provenance
    for k in ("generated_utc", "command_line", "bd_method"):
        ws.append([k, str(p.get(k, ""))])
    for k, v in p.get("environment", {}).items():
        ws.append([f"environment.{k}", str(v)])
    for f in p.get("forced", []):
        ws.append(["FORCED", f])
    ws.append([])
    ws.append(["BD signatures"])
    ws.cell(ws.max_row, 1).font = bold
    for e in model.entries:
        ws.append([f"{e.condition} / {e.test_label} / {e.scale:.0%}", e.signature or f"not computed: {e.error}"])
    for sec in model.sections:
        for role, rs in [("anchor", sec.anchor)] + [("test", t) for t in sec.tests]:
            ws.append([])
            ws.append([f"{role}: {set_label(rs)}"])
            ws.cell(ws.max_row, 1).font = bold
            for k, v in (("condition", rs.condition), ("codec", rs.codec), ("signature", rs.signature),
                         ("metric", rs.metric), ("dataset", rs.dataset), ("quality_key", rs.quality_key)):
                ws.append([k, v])
            for k, v in rs.provenance.items():
                if isinstance(v, (list, tuple)):
                    for item in v:
                        ws.append([k, item if isinstance(item, str) else json.dumps(item, default=str)])
                else:
                    ws.append([k, v if isinstance(v, str) else json.dumps(v, default=str, sort_keys=True)])
            for note in rs.notes:
                ws.append(["note", note])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 110


def workbook_bytes(model: ReportModel) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = Workbook()
    _summary(wb, model, bold)
    used: set[str] = set()
    for sec in model.sections:
        _condition_sheet(wb, sec, _sheet_name(sec.condition, used), bold)
    _provenance(wb, model, bold)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_xlsx(model: ReportModel, path: str | Path) -> Path:
    """Write the workbook atomically."""
    return atomic_write_bytes(path, workbook_bytes(model))
