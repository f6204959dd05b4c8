"""The report as an Excel workbook (XlsxWriter) in the shape of the CTC reporting templates.

Sheets:

* ``Summary``: the BD method named; first the summary figures the test conditions define
  (``model.summaries``: test, figure, scope, BD-rate, BD-accuracy, rule, source), then the per-scale
  detail: one row per dataset (condition) and scale per test with BD-rate, BD-accuracy, the bootstrap
  interval where one was computed ("CI level (%)", "CI low (%)", "CI high (%)"), EncT and DecT (the
  test's total encode / decode time over the anchor's, in percent, live formulas into the condition
  sheet), the quality and rate overlaps and the points.  Long texts (BD notes, warnings, reasons) are
  numbered notes under the tables, referenced from the "Notes" column.  No row averages BD-rates that
  no condition tells to average.
* one sheet per condition: per scale, the rows per QP of the anchor and each test side by side
  (QP, bits, pixels, bpp = bits / pixels as a formula, accuracy, encode and decode seconds; for a
  test also the EncT/DecT ratio to the anchor's row), then a Total row (SUM of bits, pixels and
  times, bpp over the totals, AVERAGE of accuracy, ratio of total times); a native scatter chart
  per scale (logarithmic rate axis from a power of ten to a power of ten, axes titled with their
  units, one legend entry per curve naming its role, label, codec and condition).
* ``Provenance``: signatures, environment, command lines (local paths reduced to file names).

Every formula is stored with the value vcmbench computed for it (the same numbers the HTML and .docx
show), so readers that do not calculate (pandas, openpyxl ``data_only=True``) see numbers;
spreadsheet programs recalculate on opening.  Every number is stored as shown, in the units of
``core.units``: accuracy of fraction keys in percent (``map50 (%)``), BD-rate in percent, BD-accuracy
in percentage points (``pp``), overlaps and time ratios in percent, scales in percent; the header names
the unit and the number format shows the unit's decimals.  BD values are numbers computed by
vcmbench (the BD integral is not a spreadsheet formula); one that was not computed is an empty cell
with its reason in a note.  Every text that comes from an input (labels, datasets, conditions, notes)
is written as a string cell (``core.sheets.text_value``): characters XML cannot hold are removed and
a leading ``= + - @`` carries the quote prefix, never a formula.  Print layout: A4 landscape, repeated
header rows, bordered tables, wrapped long texts; a sheet is fitted to one page wide only when it then
prints at ``xlsx_writer.MIN_PRINT_SCALE`` (60 %) or more (otherwise its first columns repeat on each page).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..core import units
from ..core.jsonio import atomic_write_bytes
from ..core.sheets import ILLEGAL
from .document import acc_factor, rate_name, scrub
from .model import ConditionSection, ReportModel, SummaryEntry, set_label
from .xlsx_writer import Book, Sheet, fit_row

SEC = "0.00"
INT = "0"
# (colour, XlsxWriter marker) per curve: anchor first
SERIES_STYLE = [("#000000", "circle"), ("#D62728", "square"), ("#1F77B4", "triangle"), ("#2CA02C", "diamond"),
                ("#9467BD", "x"), ("#FF7F0E", "star"), ("#8C564B", "plus")]


def _sheet_name(text: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", ILLEGAL.sub("", text)).strip() or "condition"
    base = base[:31]
    name, n = base, 2
    while name.lower() in used or name.lower() in ("summary", "provenance"):
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _quantities(sec: ConditionSection, percent: bool) -> tuple[units.Quantity, units.Quantity]:
    """Accuracy and BD-accuracy of ``sec`` as shown: percent and percentage points for fractions."""
    key = sec.quality_key
    if acc_factor(sec, percent) == 100.0:
        return units.Quantity(key, "%", 100.0, 3), units.Quantity(f"BD-{key}", "pp", 100.0, 2, signed=True)
    return units.Quantity(key, "", 1.0, 3), units.Quantity(f"BD-{key}", "", 1.0, 2, signed=True)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


CHART_PX = (680, 420)
CHART_ROWS = 24  # rows of 15 pt (20 px) per chart
SET_COLS = ["QP", "Bits", "Pixels", "{rate}", "{acc}", "EncT (s)", "DecT (s)", "EncT ratio (%)", "DecT ratio (%)"]
SET_WIDTHS = [5, 12, 12, 9, 10, 9, 9, 9, 9]


def _ratio(t, a):
    """``=IF(a>0,100*t/a,"")`` as the spreadsheet computes it (an empty cell counts as 0)."""
    return 100.0 * (t or 0.0) / a if a is not None and a > 0 else ""


def _condition_sheet(book: Book, sec: ConditionSection, name: str, percent: bool) -> dict:
    """Write one condition sheet; returns {(test index, scale): ((EncT ref, value), (DecT ref, value))}."""
    sh = book.sheet(name)
    acc_q, _ = _quantities(sec, percent)
    acc_head = acc_q.header(sec.quality_key)
    rate = rate_name(sec)
    rate_q = units.rate(rate)
    # a video class (report.inputs.video_class_sets): one row per rate point, whose rank the QP column holds
    cols = ["Rank" if (sec.anchor.provenance or {}).get("video_class") else SET_COLS[0], *SET_COLS[1:]]
    sh.text(0, 0, f"Condition {sec.condition}", bold=True)
    sh.text(1, 0, f"Dataset: {sec.dataset}    Accuracy: {sec.metric} ({acc_head})")
    sets = [sec.anchor, *sec.tests]
    ncols = [7 if k == 0 else 9 for k in range(len(sets))]
    starts = [2 + sum(ncols[:k]) for k in range(len(sets))]
    head_row, col_row = 3, 4
    sh.text(col_row, 0, "Dataset", head=True)
    sh.text(col_row, 1, "Scale (%)", head=True)
    titles = []
    for k, rs in enumerate(sets):
        titles.append(f"{'Anchor' if k == 0 else 'Test'}: {set_label(rs)} ({rs.codec}), {rs.condition}")
        sh.ws.merge_range(head_row, starts[k], head_row, starts[k] + ncols[k] - 1, "", book.fmt(bold=True, wrap=True))
        sh.text(head_row, starts[k], titles[-1], bold=True, wrap=True)
        for j in range(ncols[k]):
            sh.text(col_row, starts[k] + j, cols[j].format(rate=rate, acc=acc_head), head=True)
    fit_row(sh, col_row, [("Scale (%)", 7)] + [(cols[j].format(rate=rate, acc=acc_head), SET_WIDTHS[j])
                                                for j in range(9)])
    row = col_row + 1
    ratio_cells: dict = {}
    charts = []
    for scale in sec.scales():
        per_set = [sec.points(rs, scale) for rs in sets]
        n = max(len(p) for p in per_set)
        first = row
        for i in range(n):
            sh.text(row + i, 0, sec.dataset, border=True)
            sh.num(row + i, 1, scale * 100, "General", border=True)
        values: list[dict] = []  # per set: column offset -> list of the values written (for the totals)
        for k, pts in enumerate(per_set):
            c0, vals = starts[k], {j: [] for j in range(9)}
            values.append(vals)
            for i, p in enumerate(pts):
                r = row + i
                sh.num(r, c0, p.qp, INT, border=True)
                sh.num(r, c0 + 1, p.bits, INT, border=True)
                sh.num(r, c0 + 2, p.pixels, INT, border=True)
                if p.pixels > 0:
                    bpp = p.bits / p.pixels
                    sh.formula(r, c0 + 3, f"={sh.cell(r, c0 + 1)}/{sh.cell(r, c0 + 2)}", bpp, rate_q.xlsx_format,
                               border=True)
                else:  # a curve file without bits/pixels: the rate as given
                    sh.num(r, c0 + 3, p.bpp, rate_q.xlsx_format, border=True)
                acc = p.accuracy.get(sec.quality_key)
                sh.num(r, c0 + 4, None if acc is None else acc_q.value(acc), acc_q.xlsx_format, border=True)
                sh.num(r, c0 + 5, p.encode_seconds, SEC, border=True)
                sh.num(r, c0 + 6, p.decode_seconds, SEC, border=True)
                for j, v in ((1, p.bits), (2, p.pixels), (4, None if acc is None else acc_q.value(acc)),
                             (5, p.encode_seconds), (6, p.decode_seconds)):
                    if v is not None:
                        vals[j].append(v)
                if k > 0 and i < len(per_set[0]):
                    a = per_set[0][i]
                    for j, aj, tv, av in ((7, 5, p.encode_seconds, a.encode_seconds),
                                          (8, 6, p.decode_seconds, a.decode_seconds)):
                        ra, rt = sh.cell(r, starts[0] + aj), sh.cell(r, c0 + aj)
                        sh.formula(r, c0 + j, f'=IF({ra}>0,100*{rt}/{ra},"")', _ratio(tv, av),
                                   units.TIME_RATIO.xlsx_format, border=True)
        total = row + n
        sh.text(total, 0, "Total / average", bold=True, border=True)
        sh.num(total, 1, scale * 100, "General", bold=True, border=True)
        sums: list[dict] = []
        for k, pts in enumerate(per_set):
            c0, vals = starts[k], values[k]
            sums.append({j: sum(vals[j]) for j in (1, 2, 5, 6)})
            if not pts:
                continue
            last = row + len(pts) - 1

            def rng(j):
                return f"{sh.cell(first, c0 + j)}:{sh.cell(last, c0 + j)}"  # noqa: B023

            sh.formula(total, c0 + 1, f"=SUM({rng(1)})", sums[k][1], INT, bold=True, border=True)
            sh.formula(total, c0 + 2, f"=SUM({rng(2)})", sums[k][2], INT, bold=True, border=True)
            if all(p.pixels > 0 for p in pts):
                sh.formula(total, c0 + 3, f"={sh.cell(total, c0 + 1)}/{sh.cell(total, c0 + 2)}",
                           sums[k][1] / sums[k][2], rate_q.xlsx_format, bold=True, border=True)
            if vals[4]:
                sh.formula(total, c0 + 4, f"=AVERAGE({rng(4)})", _mean(vals[4]), acc_q.xlsx_format, bold=True,
                           border=True)
            sh.formula(total, c0 + 5, f"=SUM({rng(5)})", sums[k][5], SEC, bold=True, border=True)
            sh.formula(total, c0 + 6, f"=SUM({rng(6)})", sums[k][6], SEC, bold=True, border=True)
            if k > 0:
                cells = []
                for j, aj in ((7, 5), (8, 6)):
                    ra, rt = sh.cell(total, starts[0] + aj), sh.cell(total, c0 + aj)
                    value = _ratio(sums[k][aj], sums[0][aj])
                    sh.formula(total, c0 + j, f'=IF({ra}>0,100*{rt}/{ra},"")', value, units.TIME_RATIO.xlsx_format,
                               bold=True, border=True)
                    cells.append((sh.qcell(total, c0 + j), value))
                ratio_cells[(k - 1, scale)] = tuple(cells)
        charts.append((scale, per_set, row))
        row = total + 2
    # one chart per printed page, below the tables, under a caption line (charts stretch with the columns in
    # some programs, so they are not set side by side)
    breaks = []
    for i, (scale, per_set, first) in enumerate(charts):
        at = row + 1 + i * CHART_ROWS
        breaks.append(at)
        sh.text(at, 0, f"Scale {units.scale_text(scale)}: {sec.condition}, {acc_head} against {rate} (logarithmic "
                       "rate axis)", bold=True)
        chart = _chart(book, sh, sec, per_set, starts, first, head_row, col_row, at, acc_q)
        sh.ws.insert_chart(at + 1, 0, chart, {"x_offset": 5, "y_offset": 5})
    sh.ws.set_h_pagebreaks(breaks)
    widths = {0: 24, 1: 7}
    for k, c0 in enumerate(starts):
        widths.update({c0 + j: SET_WIDTHS[j] for j in range(ncols[k])})
    sh.set_widths(widths)
    sh.ws.freeze_panes(col_row + 1, 2)
    sh.print_setup(header_rows=(head_row, col_row), key_cols=(0, 1))
    return ratio_cells


def _log_bounds(values: list[float]) -> tuple[float, float, str] | None:
    """Powers of ten around ``values`` and a tick format with as many decimals as the lower bound needs."""
    vals = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    if not vals:
        return None
    lo_e, hi_e = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals)))
    if hi_e <= lo_e:
        hi_e = lo_e + 1
    if lo_e < -300 or hi_e > 300:
        return None
    decimals = max(0, -lo_e)
    fmt = ("0" if decimals == 0 else "0." + "0" * decimals) if decimals <= 6 else "0.0E+00"
    return (10 ** lo_e if lo_e >= 0 else 10.0 ** lo_e), (10 ** hi_e if hi_e >= 0 else 10.0 ** hi_e), fmt


def _chart(book: Book, sh: Sheet, sec: ConditionSection, per_set, starts, first: int, head_row: int, col_row: int,
           caption_row: int, acc_q: units.Quantity):
    """A scatter chart of one scale.  Every text in it (title, legend, axis titles) is a reference to a text cell
    of the sheet, never a literal: XlsxWriter reads a literal that looks like ``Sheet!A1`` as a reference."""
    chart = book.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    chart.set_title({"name": [sh.name, caption_row, 0], "name_font": {"size": 11, "bold": True}})
    rates = []
    for k, pts in enumerate(per_set):
        if not pts:
            continue
        c0 = starts[k]
        rates += [p.bits / p.pixels if p.pixels > 0 else p.bpp for p in pts]
        colour, symbol = SERIES_STYLE[k % len(SERIES_STYLE)]
        chart.add_series({
            "name": [sh.name, head_row, c0],
            "categories": [sh.name, first, c0 + 3, first + len(pts) - 1, c0 + 3],
            "values": [sh.name, first, c0 + 4, first + len(pts) - 1, c0 + 4],
            "marker": {"type": symbol, "size": 7, "border": {"color": colour}, "fill": {"color": colour}},
            "line": {"color": colour, "width": 1.5, **({"dash_type": "dash"} if k > 0 else {})},
        })
    grid = {"visible": True, "line": {"color": "#D9D9D9", "width": 0.5}}
    x_axis = {"name": [sh.name, col_row, starts[0] + 3], "log_base": 10, "major_gridlines": grid, "minor_tick_mark": "outside",
              "crossing": "min", "num_font": {"size": 9}}
    bounds = _log_bounds(rates)
    if bounds:
        x_axis.update({"min": bounds[0], "max": bounds[1], "num_format": bounds[2]})
    chart.set_x_axis(x_axis)
    y_axis = {"name": [sh.name, col_row, starts[0] + 4], "num_format": "0.0" if acc_q.factor == 100.0 else "0.00", "major_gridlines": grid,
              "num_font": {"size": 9}}
    accs = [acc_q.value(p.accuracy[sec.quality_key]) for pts in per_set for p in pts if sec.quality_key in p.accuracy]
    accs = [a for a in accs if math.isfinite(a)]
    if acc_q.factor == 100.0 and accs and 0 <= min(accs) and max(accs) <= 100:  # percent: whole tens around the data
        lo, hi = 10 * math.floor(min(accs) / 10), 10 * math.ceil(max(accs) / 10)
        y_axis.update({"min": lo, "max": hi if hi > lo else lo + 10})
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "bottom", "font": {"size": 9}})
    chart.set_size({"width": CHART_PX[0], "height": CHART_PX[1]})
    return chart


class _Notes:
    """Long texts as numbered notes under the tables; a row's "Notes" cell holds its note's number."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}

    def ref(self, texts) -> str:
        """The number of the note that holds ``texts`` (one row's notes, joined), "" when there are none."""
        text = "; ".join(t for t in (scrub(x).strip() for x in texts) if t)
        return str(self.texts.setdefault(text, len(self.texts) + 1)) if text else ""


def _ci_note(ci: dict | None) -> list[str]:
    """The interval's method, resamples, items and seed (run.bootstrap's dict), or why there is none."""
    if not ci:
        return []
    level = ci.get("level")
    head = f"{level:g} % CI" if isinstance(level, (int, float)) else "CI"
    if ci.get("error"):
        return [f"{head} not computed: {ci['error']}"]
    parts = [str(ci["method"])] if ci.get("method") else []
    if ci.get("resamples") is not None:
        parts.append(f"{ci['resamples']} resamples" + (f" of {ci['requested']}" if ci.get("requested") not in
                                                       (None, ci["resamples"]) else ""))
    if ci.get("items") is not None:
        parts.append(f"{ci['items']} items")
    if ci.get("seed") is not None:
        parts.append(f"seed {ci['seed']}")
    return ([f"{head}: " + ", ".join(parts)] if parts else []) + [f"{head}: {w}" for w in ci.get("warnings") or []]


def _bd_notes(res) -> list[str]:
    return list(res.warnings) + list(res.notes) + ([f"BD-accuracy not computed: {res.bd_quality_error}"]
                                                   if res.bd_quality_error else [])


def _summary(book: Book, sh: Sheet, model: ReportModel, ratio_cells: dict, percent: bool) -> None:
    quant = {s.condition: _quantities(s, percent) for s in model.sections}
    bd_units = {q[1].unit for q in quant.values()}
    bd_head = {frozenset({"pp"}): "BD-accuracy (pp)", frozenset({""}): "BD-accuracy"}.get(
        frozenset(bd_units), "BD-accuracy (pp for accuracies in %)")
    has_ci = any(x.ci for x in [*model.entries, *model.summaries])
    cols = ["Dataset", "Condition", "Scale (%)", "Anchor", "Test", "Accuracy", "BD-rate (%)", bd_head]
    widths = [18, 14, 7, 14, 14, 13, 9, 12]
    if has_ci:
        cols += ["CI level (%)", "CI low (%)", "CI high (%)"]
        widths += [8, 9, 9]
    cols += ["EncT (%)", "DecT (%)", "Quality overlap (%)", "Rate overlap (%)", "Points anchor", "Points test",
             "Method", "Notes"]
    widths += [8, 8, 9, 9, 7, 7, 13, 7]
    C = {name: j for j, name in enumerate(cols)}
    last = len(cols) - 1
    sh.set_widths(dict(enumerate(widths)))
    notes = _Notes()
    bd_fmt = units.BD_RATE.xlsx_format

    def head(r: int, names: list[str]) -> None:
        for j, name in enumerate(names):
            sh.text(r, j, name, head=True)
        fit_row(sh, r, [(t, widths[j]) for j, t in enumerate(names)])

    def ci_cells(r: int, ci: dict | None) -> None:
        if not has_ci:
            return
        ok = bool(ci) and not ci.get("error")
        sh.num(r, C["CI level (%)"], ci.get("level") if ok else None, "General", border=True)
        sh.num(r, C["CI low (%)"], ci.get("low") if ok else None, bd_fmt, border=True)
        sh.num(r, C["CI high (%)"], ci.get("high") if ok else None, bd_fmt, border=True)

    sh.text(0, 0, model.title, bold=True)
    info = [("BD method", model.bd_signature_part), ("Remedy for non-monotonic curves", ", ".join(model.remedies) or "none"),
            ("Generated (UTC)", model.provenance.get("generated_utc", "")),
            ("Units", "accuracy of fraction metrics (mAP, AP, MOTA…) in percent; BD-rate in percent (negative = "
                      "bit-rate saving); BD-accuracy in percentage points (pp); overlaps, scales and EncT/DecT "
                      "(test time over anchor time) in percent")]
    for i, (k, v) in enumerate(info, 1):
        sh.text(i, 0, k)
        sh.ws.merge_range(i, 2, i, last, "", book.fmt(wrap=True))
        sh.text(i, 2, v, wrap=True)
        fit_row(sh, i, [(str(v), sum(widths[2:]))])
    r = len(info) + 2
    # 1. the figures the test conditions define
    sh.text(r, 0, "Summary figures (as the test conditions define them)", bold=True)
    r += 1
    rule_cols = (C["EncT (%)"], C["Rate overlap (%)"])
    src_cols = (C["Points anchor"], C["Method"])
    span = lambda a, b: sum(widths[a:b + 1])  # noqa: E731
    if not model.summaries:
        sh.text(r, 0, "None: no test condition defines a summary figure for these results; the per-scale figures "
                      "follow.")
        r += 1
    else:
        names = ["Figure", "Scope", "Scales (%)", "Anchor", "Test", "Accuracy", "BD-rate (%)", bd_head] + (
            ["CI level (%)", "CI low (%)", "CI high (%)"] if has_ci else [])
        head(r, names)
        for a, b, name in ((*rule_cols, "Rule"), (*src_cols, "Source")):
            sh.ws.merge_range(r, a, r, b, "", book.fmt(head=True))
            sh.text(r, a, name, head=True)
        sh.text(r, last, "Notes", head=True)
        for s in model.summaries:
            r += 1
            _summary_row(sh, r, s, model, quant, C, notes, ci_cells, rule_cols, src_cols, last, book)
            fit_row(sh, r, [(s.name, widths[0]), (s.scope, widths[1]), (s.test_label, widths[4]),
                             (s.rule, span(*rule_cols)), (s.source, span(*src_cols))])
        r += 1
    # 2. the per-scale detail
    r += 1
    sh.text(r, 0, "BD per dataset and scale", bold=True)
    r += 1
    detail_head = r
    head(r, cols)
    for sec in model.sections:
        acc_q, bd_q = quant[sec.condition]
        for e in sec.entries:
            r += 1
            ti = next(i for i, t in enumerate(sec.tests) if set_label(t) == e.test_label)
            sh.text(r, 0, sec.dataset, wrap=True, border=True)
            sh.text(r, 1, e.condition, wrap=True, border=True)
            sh.num(r, 2, e.scale * 100, "General", border=True)
            sh.text(r, 3, e.anchor_label, wrap=True, border=True)
            sh.text(r, 4, e.test_label, wrap=True, border=True)
            sh.text(r, 5, acc_q.header(e.quality_key), wrap=True, border=True)
            for j, name in enumerate(("EncT (%)", "DecT (%)")):
                ref = ratio_cells.get((sec.condition, ti, e.scale))
                if ref:
                    sh.formula(r, C[name], f"={ref[j][0]}", ref[j][1], units.TIME_RATIO.xlsx_format, border=True)
                else:
                    sh.num(r, C[name], None, border=True)
            res = e.result
            texts = [] if res is None else _bd_notes(res)
            if res is None:
                texts = [f"BD not computed: {e.error}"]
            ci_cells(r, e.ci)
            texts += _ci_note(e.ci)
            sh.num(r, C["BD-rate (%)"], None if res is None else res.bd_rate_pct, bd_fmt, border=True)
            sh.num(r, C[bd_head], None if res is None or res.bd_quality is None else bd_q.value(res.bd_quality),
                   bd_q.xlsx_format, border=True)
            sh.num(r, C["Quality overlap (%)"], None if res is None else units.OVERLAP.value(res.overlap),
                   units.OVERLAP.xlsx_format, border=True)
            sh.num(r, C["Rate overlap (%)"], None if res is None or res.overlap_rate is None
                   else units.OVERLAP.value(res.overlap_rate), units.OVERLAP.xlsx_format, border=True)
            sh.num(r, C["Points anchor"], None if res is None else res.points_anchor, INT, border=True)
            sh.num(r, C["Points test"], None if res is None else res.points_test, INT, border=True)
            sh.text(r, C["Method"], e.method if res is None else res.signature_part, wrap=True, border=True)
            sh.text(r, C["Notes"], notes.ref(texts), wrap=True, border=True)
            fit_row(sh, r, [(sec.dataset, widths[0]), (e.condition, widths[1]), (e.anchor_label, widths[3]),
                             (e.test_label, widths[4]), (acc_q.header(e.quality_key), widths[5])])
    r += 1
    # 3. notes, warnings, where the signatures are
    blocks = [("Notes", [(f"{n})", t) for t, n in notes.texts.items()]),
              ("Warnings", [("", w) for w in model.warnings]),
              ("Signatures", [("", "Every BD figure's signature is on the sheet Provenance.")])]
    for title, items in blocks:
        if not items:
            continue
        r += 1
        sh.text(r, 0, title, bold=True)
        for label, text in items:
            r += 1
            sh.text(r, 0, label)
            sh.ws.merge_range(r, 1, r, last, "", book.fmt(wrap=True))
            sh.text(r, 1, scrub(text), wrap=True)
            fit_row(sh, r, [(scrub(text), sum(widths[1:]))])
    sh.print_setup(header_rows=(detail_head, detail_head), key_cols=(0, 1))


def _summary_row(sh: Sheet, r: int, s: SummaryEntry, model: ReportModel, quant: dict, C: dict, notes: _Notes,
                 ci_cells, rule_cols, src_cols, last: int, book: Book) -> None:
    # SummaryEntry.condition / .scales (filled by report.model) where present; else every condition with the test
    cond, scales = getattr(s, "condition", "") or "", getattr(s, "scales", ()) or ()
    secs = [sec for sec in model.sections if (sec.condition == cond if cond else
                                              any(set_label(t) == s.test_label for t in sec.tests))]
    qs = {(quant[sec.condition][0].header(sec.quality_key), quant[sec.condition][1]) for sec in secs}
    texts: list[str] = []
    sh.text(r, 0, s.name, wrap=True, border=True)
    sh.text(r, 1, cond if cond and s.scope == "dataset" else s.scope, wrap=True, border=True)
    sh.text(r, 2, ", ".join(f"{x * 100:g}" for x in scales), wrap=True, border=True)
    sh.text(r, 3, ", ".join(dict.fromkeys(set_label(sec.anchor) for sec in secs)), wrap=True, border=True)
    sh.text(r, 4, s.test_label, wrap=True, border=True)
    acc_head, bd_q = next(iter(qs)) if len(qs) == 1 else ("", None)
    sh.text(r, 5, acc_head, wrap=True, border=True)
    sh.num(r, C["BD-rate (%)"], s.bd_rate_pct, units.BD_RATE.xlsx_format, border=True)
    bdq = s.bd_quality  # a BD computation's, or an aggregate's (video Overall: the mean of the class BD-accuracies)
    if bdq is not None and bd_q is None:
        texts.append("BD-accuracy: see the per-scale rows (the conditions' accuracies have different units)")
    bd_col = [j for name, j in C.items() if name.startswith("BD-accuracy")][0]
    sh.num(r, bd_col, None if bdq is None or bd_q is None else bd_q.value(bdq),
           None if bd_q is None else bd_q.xlsx_format, border=True)
    ci_cells(r, s.ci)
    if s.result is not None:
        texts += _bd_notes(s.result)
    if s.bd_rate_pct is None:
        texts.append(f"{s.name}: not computed: {s.error or 'no value'}")
    texts += _ci_note(s.ci)
    for (a, b), text in ((rule_cols, s.rule), (src_cols, s.source)):
        sh.ws.merge_range(r, a, r, b, "", book.fmt(wrap=True, border=True))
        sh.text(r, a, text, wrap=True, border=True)
    sh.text(r, last, notes.ref(texts), wrap=True, border=True)


def _provenance(book: Book, model: ReportModel) -> None:
    from .document import _annex

    sh = book.sheet("Provenance")
    sh.set_widths({0: 32, 1: 100})
    blocks = [(t.caption, [] if t.key_value else t.headers, t.rows) for _, t in _annex(model)]
    seen = {str(v) for _, _, rows in blocks for row in rows for v in row}
    extra = [[f"{s.test_label} / {s.name}", scrub(s.signature)] for s in model.summaries
             if s.signature and scrub(s.signature) not in seen]
    if extra:
        blocks.append(("Summary figure signatures", ["Test / figure", "Signature"], extra))
    ncols = max((len(row) for _, head, rows in blocks for row in [head, *rows]), default=2)
    sh.set_widths({j: 30 for j in range(2, ncols)})
    r = -1
    for caption, head, rows in blocks:
        r += 1
        sh.text(r, 0, caption, bold=True)
        for k, row in enumerate([head, *rows] if head else rows):
            r += 1
            for j, v in enumerate(row):
                sh.text(r, j, v, wrap=True, border=True, head=bool(head) and k == 0)
            fit_row(sh, r, [(str(v), sh.widths[j]) for j, v in enumerate(row)])
        r += 1
    sh.print_setup()


def workbook_bytes(model: ReportModel, *, percent: bool = True) -> bytes:
    book = Book()
    used: set[str] = set()
    summary = book.sheet("Summary")  # first in the workbook, filled once the condition sheets' cells are known
    ratio_cells: dict = {}
    for sec in model.sections:
        cells = _condition_sheet(book, sec, _sheet_name(sec.condition, used), percent)
        ratio_cells.update({(sec.condition, *k): v for k, v in cells.items()})
    _summary(book, summary, model, ratio_cells, percent)
    _provenance(book, model)
    return book.close()


def write_xlsx(model: ReportModel, path: str | Path, **kw) -> Path:
    """Write the workbook atomically."""
    return atomic_write_bytes(path, workbook_bytes(model, **kw))
