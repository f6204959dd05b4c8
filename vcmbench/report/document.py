"""The contribution document as one content tree, rendered to HTML (html.py) and .docx (docx.py).

Layout of an MPEG input document: the organisation header with the working group's line and
subtitle (``meta.WG_SUBTITLES``), the document number and meeting, a Title / Source / Purpose
table, then Abstract, 1 Introduction, 2 Test conditions (result sets, number of images or
sequences, uncompressed accuracy), 3 Results (per condition: per-QP table, one figure per scale,
BD table), 4 BD-rate summary (the condition-defined figures of ``model.summaries`` first, then the
per-condition and per-scale detail), 5 Proposal, 6 Conclusion and Annex A (provenance as readable
two-column tables: nested values flattened, no JSON, no traceback, no local path).

Blocks are tuples: ``("p", text)``, ``("placeholder", text)``, ``("table", Table)`` and
``("figure", Figure)``.  Every cell is already formatted text (units and decimals of
``core.units``), so both renderers print the same numbers.  Tables and figures are numbered in
reading order ("Table 3 – …", "Figure 2 – …"); a table's remarks are numbered notes under it
(``Table.notes``), referenced from cells (``Table.refs``) instead of long cells.  Column widths
are sized to content (``column_widths``, the same proportions in both renderers).  Local paths
never reach the document: ``scrub`` keeps only the last path component.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from ..core import units
from ..core.templating import fixed
from .meta import Meta
from .model import ConditionSection, ReportModel, set_label

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ABS_PATH = re.compile(r"(?<![\w.:/-])(?:[A-Za-z]:\\|~?/)(?:[^\s/\\'\"|]+[/\\])*([^\s/\\'\"|]*)")

# A4 portrait with the MPEG template's 2.5 cm margins: 210 - 2 x 25 mm of text width.
PAGE_MM = (210.0, 297.0)
MARGIN_MM = 25.0
TEXT_WIDTH_MM = PAGE_MM[0] - 2 * MARGIN_MM
TABLE_FONT_PT = 8.0
# Width of an average character of Times New Roman (digits are 0.5 em) and a cell's left + right padding.
_CHAR_EM = 0.55
_CELL_PAD_MM = 5.0  # Word's "Table Grid": 0.08 in (2 mm) each side, plus a margin for bold and rounding
MAX_CELL = 80  # characters in a data-table cell; longer remarks become numbered notes under the table
MAX_VALUE = 400  # characters of one Annex value (the full value stays in the result set)


def scrub(text) -> str:
    """A value as readable text: local absolute paths reduced to their last component, characters
    XML cannot hold removed; a mapping or list as ``key: value`` / comma-separated text (never JSON)."""
    if isinstance(text, dict):
        text = "; ".join(f"{k}: {_plain(v)}" for k, v in text.items())
    elif isinstance(text, (list, tuple)):
        text = ", ".join(_plain(v) for v in text)
    return _ABS_PATH.sub(_last_component, _ILLEGAL.sub("", "" if text is None else str(text)))


def _last_component(m: re.Match) -> str:
    if m.group(0) in ("/", "~/"):  # a lone slash ("a / b") is no path
        return m.group(0)
    return m.group(1) or "."


def _plain(v) -> str:
    if isinstance(v, dict):
        return "(" + "; ".join(f"{k}: {_plain(x)}" for k, x in v.items()) + ")"
    if isinstance(v, (list, tuple)):
        return ", ".join(_plain(x) for x in v)
    return "" if v is None else str(v)


def clean_error(text) -> str:
    """An error for a reader: a Python traceback reduced to its last line (the message)."""
    text = "" if text is None else str(text)
    if "Traceback (most recent call last)" in text or re.search(r'^\s*File ".*", line \d+', text, re.M):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        text = lines[-1] if lines else ""
    return text


def acc_quantity(sec: ConditionSection, percent: bool = True) -> units.Quantity:
    """How the accuracy of ``sec`` is shown: percent (3 decimals) for fraction keys (``core.units``);
    with ``percent=False`` the stored fraction, 5 decimals."""
    q = units.accuracy(sec.quality_key)
    return q if percent or q.factor == 1.0 else units.Quantity(q.name, "", 1.0, 5)


def acc_factor(sec: ConditionSection, percent: bool) -> float:
    """100 when the accuracy key is a fraction shown in percent (``core.units.is_fraction_key``), else 1."""
    return acc_quantity(sec, percent).factor


def bd_acc_quantity(key: str, percent: bool = True) -> units.Quantity:
    q = units.bd_accuracy(key)
    return q if percent or q.factor == 1.0 else units.Quantity(q.name, "", 1.0, 4, signed=True)


def bd_acc_text(v, key: str, percent: bool = True) -> str:
    """BD-accuracy with its unit: ``+4.03 pp`` for fraction keys, ``+0.52 (mae)`` for keys shown as stored."""
    if v is None:
        return ""
    q = bd_acc_quantity(key, percent)
    return q.text(v, unit=True) if q.unit else f"{q.text(v)} ({key})"


def ci_text(ci: dict | None) -> str:
    """A BD-rate confidence interval ``[-25.10, -20.31] %``; empty when absent, ``not computed`` with an error."""
    if not ci:
        return ""
    if ci.get("error") or ci.get("low") is None or ci.get("high") is None:
        return "not computed"
    return f"[{fixed(ci['low'], 2, signed=True)}, {fixed(ci['high'], 2, signed=True)}] %"


def ci_note(ci: dict | None, noun: str = "items") -> str:
    if not ci:
        return ""
    level = f"{float(ci.get('level', 95)):g} %"
    if ci.get("error") or ci.get("low") is None:
        return f"{level} confidence interval not computed: {clean_error(ci.get('error', 'no interval'))}"
    parts = [f"{level} confidence interval of the BD-rate: paired bootstrap"]
    if ci.get("items"):
        parts.append(f"over {ci['items']} {noun}")
    if ci.get("resamples"):
        parts.append(f"{ci['resamples']} resamples")
    if ci.get("seed") is not None:
        parts.append(f"seed {ci['seed']}")
    if ci.get("method"):
        parts.append(str(ci["method"]))
    return ", ".join(parts)


def rate_name(sec: ConditionSection) -> str:
    return str(sec.anchor.provenance.get("rate_name") or "bpp")


def item_noun(sec: ConditionSection) -> str:
    """What one unit of coding is: sequences for video conditions (rate in kbps), images otherwise."""
    return "sequences" if rate_name(sec).lower() == "kbps" else "images"


def pct(v: float | None, digits: int = 2) -> str:
    return "" if v is None else f"{fixed(v, digits, signed=True)} %"


def num(v, digits: int) -> str:
    return "" if v is None else fixed(v, digits)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    key_value: bool = False  # a two-column name/value table (Annex A)
    numeric: list[bool] = field(default_factory=list)  # per column: figures (right-aligned, never wrapped)
    notes: list[str] = field(default_factory=list)  # numbered notes under the table: "1) ..."
    refs: dict = field(default_factory=dict)  # (row, column) -> [note numbers] shown as superscripts
    number: int = 0  # "Table N", in reading order (build_document)
    keep_together: bool = False  # on one page where it fits (BD tables)

    @property
    def title(self) -> str:
        """The caption as shown: ``Table 3 – BD vs anchor, …``."""
        return f"Table {self.number} – {self.caption}" if self.number else self.caption

    def note(self, row: int, col: int, text) -> None:
        """Attach a numbered note to cell (row, col); the same text keeps one number."""
        text = scrub(clean_error(text)).strip()
        if not text:
            return
        if text not in self.notes:
            self.notes.append(text)
        n = self.notes.index(text) + 1
        refs = self.refs.setdefault((row, col), [])
        if n not in refs:
            refs.append(n)

    def is_numeric(self, col: int) -> bool:
        return col < len(self.numeric) and self.numeric[col]

    def ref_text(self, row: int, col: int) -> str:
        return ",".join(str(n) for n in self.refs.get((row, col), []))


@dataclass
class Figure:
    condition: str
    scale: float
    caption: str
    number: int = 0

    @property
    def title(self) -> str:
        return f"Figure {self.number} – {self.caption}" if self.number else self.caption


@dataclass
class Section:
    heading: str
    level: int
    blocks: list[tuple] = field(default_factory=list)


@dataclass
class Document:
    meta: Meta
    title: str
    header_lines: list[str]
    doc_lines: list[str]
    meta_rows: list[tuple[str, str, bool]]  # (label, text, is_placeholder)
    sections: list[Section]
    placeholders: list[str]


_BREAK = re.compile(r"\s+(?!%|pp\b)")


def words_of(text: str) -> list[str]:
    """The unbreakable pieces of a cell: a number keeps its unit (``-25.00 %``, ``+4.03 pp``)."""
    return [w for w in _BREAK.split(text) if w]


def nobreak(text: str) -> str:
    """``text`` with a no-break space between a number and its unit (``75 %``, ``+4.03 pp``)."""
    return re.sub(r"(?<=[\d\]]) (?=%|pp\b)", "\u00a0", text)


def column_widths(t: Table, total_mm: float = TEXT_WIDTH_MM, font_pt: float = TABLE_FONT_PT) -> list[float]:
    """Column widths in mm summing to ``total_mm``, sized to content: each column at least as wide as its
    longest unbreakable word (a figure is one word: it never wraps), the rest shared by how much
    text each column holds; narrow figure columns, wide text columns."""
    ncols = len(t.headers) if not t.key_value else 2
    char_mm = font_pt * _CHAR_EM * 25.4 / 72
    cap = 0.45 * total_mm  # one long token (a signature) wraps rather than crowd every other column out
    mins, nats = [], []
    for c in range(ncols):
        numeric = c < len(t.numeric) and t.numeric[c]
        texts = [r[c] + (" " + t.ref_text(i, c) if t.refs.get((i, c)) else "") for i, r in enumerate(t.rows)
                 if c < len(r)]
        head = t.headers[c] if c < len(t.headers) and not t.key_value else ""
        words = [w for x in texts for w in ([x] if numeric else words_of(x))] + words_of(head)
        longest = max((len(w) for w in words), default=1)
        natural = max([len(x) for x in texts] + [len(head)], default=1)
        mins.append(min(longest * char_mm * (1.1 if not numeric else 1.0) + _CELL_PAD_MM, cap))
        nats.append(max(natural * char_mm + _CELL_PAD_MM, mins[-1]))
    if sum(nats) <= total_mm:  # everything fits on one line: share the spare width by content
        return [w * total_mm / sum(nats) for w in nats]
    if sum(mins) >= total_mm:
        return [w * total_mm / sum(mins) for w in mins]
    spare = total_mm - sum(mins)
    want = [n - m for n, m in zip(nats, mins)]
    return [m + spare * w / sum(want) for m, w in zip(mins, want)]


def _abstract(model: ReportModel) -> str:
    tests = ", ".join(dict.fromkeys(e.test_label for e in model.entries))
    conds = ", ".join(s.condition for s in model.sections)
    ok = [e for e in model.entries if e.ok]
    text = (f"This contribution reports results of {tests} against the anchor under {conds}, following the "
            f"common test conditions. BD-rates are computed with {model.bd_signature_part}")
    text += (f" (remedy for non-monotonic curves: {', '.join(model.remedies)})." if model.remedies else
             " (no remedy for non-monotonic curves).")
    firsts = [s for s in model.summaries if s.bd_rate_pct is not None]
    if firsts:
        text += " Summary: " + "; ".join(f"{s.test_label}, {s.name}: BD-rate {pct(s.bd_rate_pct)}" for s in firsts) + "."
    elif ok:
        text += " Summary: " + "; ".join(f"{e.test_label}, {e.condition}, scale {units.scale_text(e.scale)}: BD-rate "
                                         f"{pct(e.result.bd_rate_pct)}" for e in ok) + "."
    missing = len(model.entries) - len(ok)
    if missing:
        text += f" {missing} of {len(model.entries)} BD values could not be computed (reasons in Section 3)."
    return text


def _paragraphs(text: str) -> list[tuple]:
    return [("p", p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _items(rs) -> int:
    return max((p.images for p in rs.points), default=0)


def _conditions_table(model: ReportModel) -> Table:
    rows = []
    for s in model.sections:
        for k, rs in enumerate([s.anchor, *s.tests]):
            qps = ", ".join(str(q) for q in sorted({p.qp for p in rs.points}))
            scales = ", ".join(units.scale_text(sc) for sc in sorted({p.scale for p in rs.points}, reverse=True))
            rows.append([scrub(s.condition), "anchor" if k == 0 else "test", scrub(set_label(rs)), scrub(rs.codec),
                         qps, scales, str(_items(rs))])
    return Table(["Condition", "Role", "Result set", "Codec", "QPs", "Scales", "Images / sequences"], rows,
                 "Test conditions and result sets", numeric=[False] * 6 + [True])


def _uncompressed(rs, key: str):
    ua = rs.provenance.get("uncompressed_accuracy")
    if isinstance(ua, dict) and isinstance(ua.get(key), (int, float)) and not isinstance(ua.get(key), bool):
        return float(ua[key])
    return None


def _condition_text(sec: ConditionSection, percent: bool) -> str:
    """The condition in words: dataset, how many images or sequences were used, accuracy metric and unit,
    the uncompressed accuracy (result set provenance ``uncompressed_accuracy``)."""
    q = acc_quantity(sec, percent)
    noun = item_noun(sec)
    sets = [sec.anchor, *sec.tests]
    counts = [_items(rs) for rs in sets]
    used = (f"{counts[0]} {noun} used" if len(set(counts)) == 1 else
            f"{noun} used: " + ", ".join(f"{n} ({scrub(set_label(rs))})" for n, rs in zip(counts, sets)))
    unit = "in percent" if q.unit == "%" else "as stored"
    text = (f"{scrub(sec.condition)}: dataset {scrub(sec.dataset) or 'not named'}, {used}; accuracy "
            f"{scrub(sec.metric)} ({scrub(sec.quality_key)}), {unit}. ")
    ua = [(_uncompressed(rs, sec.quality_key), rs) for rs in sets]
    known = [(v, rs) for v, rs in ua if v is not None]
    if known and len({round(v, 12) for v, _ in known}) == 1:
        text += f"Uncompressed accuracy: {q.text(known[0][0], unit=True)}."
    elif known:
        text += "Uncompressed accuracy: " + ", ".join(f"{q.text(v, unit=True)} ({scrub(set_label(rs))})"
                                                       for v, rs in known) + "."
    elif any("reference-output" in f"{rs.signature} {rs.metric} {' '.join(rs.notes)}" for rs in sets):
        text += ("Uncompressed accuracy: not applicable (the ground truth is the task network's own output on the "
                 "uncompressed images).")
    else:
        text += "Uncompressed accuracy: not recorded in the result sets."
    return text


def _results_table(sec: ConditionSection, scale: float, percent: bool) -> Table:
    """Per QP: one row per result set and QP (anchor rows first), so the table keeps six columns."""
    q = acc_quantity(sec, percent)
    r = units.rate(rate_name(sec))
    rows = []
    for k, rs in enumerate([sec.anchor, *sec.tests]):
        for i, p in enumerate(sec.points(rs, scale)):
            acc = p.accuracy.get(sec.quality_key)
            name = f"{'Anchor' if k == 0 else 'Test'}: {scrub(set_label(rs))}" if i == 0 else ""
            rows.append([name, str(p.qp), r.text(p.bpp), q.text(acc), num(p.encode_seconds, 2),
                         num(p.decode_seconds, 2)])
    headers = ["Result set", "QP", r.header(rate_name(sec)), q.header(sec.quality_key), "Encoding (s)",
               "Decoding (s)"]
    return Table(headers, rows, f"Rate and accuracy per QP, {scrub(sec.condition)}, scale {units.scale_text(scale)}",
                 numeric=[False] + [True] * 5)


def _bd_table(entries, caption: str, percent: bool, with_condition: bool, keys: dict) -> Table:
    """BD per condition and scale; warnings, notes and reasons as numbered notes under the table."""
    has_ci = any(e.ci for e in entries)
    level = next((f"{float(e.ci.get('level', 95)):g} %" for e in entries if e.ci), "95 %")
    headers = (["Condition"] if with_condition else []) + ["Test", "Scale", "BD-rate"]
    headers += [f"{level} CI"] if has_ci else []
    headers += ["BD-accuracy" if with_condition else f"BD-{entries[0].quality_key if entries else 'accuracy'}",
                "Quality overlap", "Points (A/T)"]
    t = Table(headers, [], caption, numeric=[False] * (2 + with_condition) + [True] * (len(headers) - 2 - with_condition),
              keep_together=True)
    col = headers.index("BD-rate")
    for e in entries:
        row = ([scrub(e.condition)] if with_condition else []) + [scrub(e.test_label), units.scale_text(e.scale)]
        i = len(t.rows)
        if e.ok:
            r = e.result
            row += [units.BD_RATE.text(r.bd_rate_pct, unit=True)] + ([ci_text(e.ci)] if has_ci else [])
            row += [bd_acc_text(r.bd_quality, e.quality_key, percent), units.OVERLAP.text(r.overlap, unit=True),
                    f"{r.points_anchor}/{r.points_test}"]
            t.rows.append(row)
            for n in r.warnings + r.notes + ([f"BD-accuracy not computed: {r.bd_quality_error}"]
                                             if r.bd_quality_error else []):
                t.note(i, col, n)
        else:
            row += ["not computed"] + ([ci_text(e.ci)] if has_ci else []) + ["", "", ""]
            t.rows.append(row)
            t.note(i, col, f"BD not computed: {e.error}")
        if e.ci:
            t.note(i, col + 1, ci_note(e.ci, keys.get(e.condition, "images")))
    return t


def _summary_table(model: ReportModel, percent: bool) -> Table | None:
    """The condition-defined summary figures (``model.summaries``), each with its rule and source as a note."""
    if not model.summaries:
        return None
    has_ci = any(s.ci for s in model.summaries)
    level = next((f"{float(s.ci.get('level', 95)):g} %" for s in model.summaries if s.ci), "95 %")
    headers = ["Test", "Figure", "BD-rate"] + ([f"{level} CI"] if has_ci else []) + ["BD-accuracy"]
    t = Table(headers, [], "Summary figures as the test conditions define them", keep_together=True,
              numeric=[False, False] + [True] * (len(headers) - 2))
    for s in model.summaries:
        keys = {sec.quality_key for sec in model.sections if s.test_label in {set_label(x) for x in sec.tests}}
        i = len(t.rows)
        rate = units.BD_RATE.text(s.bd_rate_pct, unit=True) if s.bd_rate_pct is not None else "not computed"
        bq = s.result.bd_quality if s.result is not None else None
        row = [scrub(s.test_label), scrub(s.name), rate] + ([ci_text(s.ci)] if has_ci else [])
        row.append(bd_acc_text(bq, next(iter(keys)), percent) if bq is not None and len(keys) == 1 else "")
        t.rows.append(row)
        t.note(i, 1, f"{s.rule} Source: {s.source}." if s.source else s.rule)
        if s.error:
            t.note(i, 2, f"not computed: {s.error}")
        if s.result is not None:
            for n in s.result.warnings + s.result.notes:
                t.note(i, 2, n)
        if s.ci:
            t.note(i, 3, ci_note(s.ci))
    return t


def overall_rows(model: ReportModel) -> list[list[str]]:
    """Per test: the mean BD-rate over every (condition, scale) computed; named as such."""
    out = []
    for label in dict.fromkeys(e.test_label for e in model.entries):
        es = [e for e in model.entries if e.test_label == label]
        ok = [e.result.bd_rate_pct for e in es if e.ok]
        if not ok:
            out.append(["Overall", scrub(label), "", "not computed", "", "", "", "no BD value computed"])
            continue
        note = f"mean of {len(ok)} BD-rates" + (f"; {len(es) - len(ok)} not computed, left out" if len(ok) < len(es)
                                                 else "")
        out.append(["Overall", scrub(label), "", pct(sum(ok) / len(ok)), "", "", "", note])
    return out


def command_text(value) -> str:
    """A command line as typed: an argument list shell-quoted (``shlex.join``), a string as it is."""
    if isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
        return shlex.join(value)
    return "" if value is None else str(value)


def _value(v) -> str:
    text = scrub(clean_error(v) if isinstance(v, str) else v)
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE].rstrip() + f" … ({len(text)} characters; the full value is in the result set)"
    return text


def _flatten(key: str, v, depth: int = 0) -> list[list[str]]:
    """Rows ``[name, text]`` of one provenance value: mappings as ``key: sub`` rows, a command line (argument
    list) shell-quoted, other lists one row per item unless short, empty values left out; never JSON."""
    if v is None or v == "" or v == [] or v == {}:
        return []
    if "command" in key and isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v) \
            and not key.rstrip("s").endswith("command"):  # one argument list ("command_line": [argv])
        return [[key, _value(command_text(v))]]
    if isinstance(v, dict):
        if depth >= 2:
            return [[key, _value(v)]]
        return [row for k, x in v.items() for row in _flatten(f"{key}: {k}" if key else str(k), x, depth + 1)]
    if isinstance(v, (list, tuple)):
        if "command" not in key and all(not isinstance(x, (dict, list, tuple)) for x in v) \
                and len(", ".join(map(str, v))) <= 120:
            return [[key, _value(", ".join(map(str, v)))]]
        rows = []
        for i, x in enumerate(v, 1):
            if "command" in key and (isinstance(x, str) or isinstance(x, (list, tuple))):
                rows.append([f"{key} [{i}]", _value(command_text(x))])
            else:
                rows += _flatten(f"{key} [{i}]", x, depth + 1)
        return rows
    if isinstance(v, float):
        return [[key, f"{v:g}"]]
    return [[key, _value(v)]]


def _annex(model: ReportModel) -> list[tuple]:
    prov = model.provenance
    rows = [["Generated (UTC)", str(prov.get("generated_utc", ""))],
            ["Command line", _value(command_text(prov.get("command_line", "")))],
            ["BD method", str(prov.get("bd_method", ""))]]
    rows += [[f"environment: {k}", _value(v)] for k, v in prov.get("environment", {}).items()]
    rows += [["FORCED", _value(f)] for f in prov.get("forced", [])]
    blocks: list[tuple] = [("table", Table(["Item", "Value"], rows, "Report provenance", key_value=True))]
    blocks.append(("table", Table(["Condition / test / scale", "BD signature"],
                                  [[" / ".join((scrub(e.condition), scrub(e.test_label), units.scale_text(e.scale))),
                                    scrub(e.signature) if e.ok else "not computed"] for e in model.entries],
                                  "BD signatures", key_value=True)))
    for s in model.sections:
        for k, rs in enumerate([s.anchor, *s.tests]):
            rows = [["condition", scrub(rs.condition)], ["codec", scrub(rs.codec)], ["signature", scrub(rs.signature)],
                    ["metric", scrub(rs.metric)], ["dataset", scrub(rs.dataset)]]
            for key, v in rs.provenance.items():
                rows += _flatten(str(key), v)
            rows += [["note", _value(n)] for n in rs.notes]
            role = "Anchor" if k == 0 else "Test"
            blocks.append(("table", Table(["Item", "Value"], rows, f"{role} result set {scrub(set_label(rs))}",
                                          key_value=True)))
    return blocks


def build_document(model: ReportModel, meta: Meta | None = None, *, percent: bool = True) -> Document:
    meta = meta or Meta()
    title = meta.title or model.title
    placeholders: list[str] = []

    def ph(key: str, text: str) -> tuple:
        placeholders.append(key)
        return ("placeholder", text)

    header = ["INTERNATIONAL ORGANIZATION FOR STANDARDIZATION", "ORGANISATION INTERNATIONALE DE NORMALISATION",
              meta.wg_line, meta.subtitle.upper()]
    if meta.doc_number:
        doc_no = f"{meta.wg_line} {meta.doc_number}"
    else:
        placeholders.append("m_number")
        doc_no = f"{meta.wg_line} [m-number]"
    where = ", ".join(x for x in (meta.meeting_text, meta.location) if x)
    if not meta.meeting:
        placeholders.append("meeting")
    if not meta.location:
        placeholders.append("location")
    if not meta.dates:
        placeholders.append("dates")
    place = f"{where or '[meeting, location]'} – {meta.dates_text or '[dates]'}"
    authors = "; ".join(a.line() for a in meta.authors)
    if not authors:
        placeholders.append("authors")
    meta_rows = [("Title", scrub(title), False), ("Source", authors or "[authors, affiliations, e-mail addresses]",
                                                   not authors),
                 ("Purpose", meta.purpose or "Information", False),
                 ("Generated", f"{model.provenance.get('generated_utc', '')} by vcmbench "
                               f"{model.provenance.get('environment', {}).get('vcmbench', '')}", False)]
    secs: list[Section] = []
    secs.append(Section("Abstract", 1, _paragraphs(meta.abstract) if meta.abstract else [("p", _abstract(model))]))
    intro = _paragraphs(meta.introduction) if meta.introduction else [
        ph("introduction", "[Introduction: the proposed technology and its motivation (meta: introduction).]")]
    intro.append(("p", "All numbers in this document were produced by vcmbench from the result sets listed in "
                       "Annex A; each carries a signature naming the test condition, codec, task network, accuracy "
                       "metric and BD method."))
    secs.append(Section("1 Introduction", 1, intro))
    remedy = (f" Non-monotonic curves were repaired with the remedy {', '.join(model.remedies)}; points it dropped or "
              "refitted are marked in the figures." if model.remedies else " No remedy for non-monotonic curves.")
    cond_blocks: list[tuple] = [("table", _conditions_table(model))]
    cond_blocks += [("p", _condition_text(s, percent)) for s in model.sections]
    pp = "percentage points (pp)" if percent else "the accuracy's stored units"
    cond_blocks.append((
        "p", f"BD-rate: {model.bd_signature_part} (x = accuracy, y = log10 rate, integrated over the overlap of the "
             f"accuracy ranges — the quality overlap shown in the tables; negative = bit-rate saving). BD-accuracy: "
             f"the same with the axes swapped, in {pp} for accuracies shown in percent.{remedy}"))
    secs.append(Section("2 Test conditions", 1, cond_blocks))
    secs.append(Section("3 Results", 1))
    nouns = {s.condition: item_noun(s) for s in model.sections}
    for i, s in enumerate(model.sections, 1):
        sub = Section(f"3.{i} {scrub(s.condition)}", 2)
        q = acc_quantity(s, percent)
        for scale in s.scales():
            sub.blocks.append(("table", _results_table(s, scale, percent)))
            sub.blocks.append(("figure", Figure(s.condition, scale, f"{q.header(scrub(s.quality_key))} against "
                                                f"{rate_name(s)}, {scrub(s.condition)}, scale {units.scale_text(scale)}")))
        sub.blocks.append(("table", _bd_table(s.entries, f"BD against the anchor, {scrub(s.condition)}", percent,
                                              False, nouns)))
        if s.forced:
            sub.blocks.append(("p", "Comparison forced despite differing signature parts: " + scrub("; ".join(s.forced))))
        secs.append(sub)
    summary_blocks: list[tuple] = []
    first = _summary_table(model, percent)
    if first is not None:
        summary_blocks.append(("table", first))
    summary_blocks.append(("table", _bd_table(model.entries, "BD-rate per condition and scale (detail)", percent, True,
                                              nouns)))
    summary_blocks += [("p", "Warning: " + scrub(clean_error(w))) for w in model.warnings]
    secs.append(Section("4 BD-rate summary", 1, summary_blocks))
    secs.append(Section("5 Proposal", 1, _paragraphs(meta.proposal) if meta.proposal else [
        ("p", "This contribution is provided for information.")]))
    secs.append(Section("6 Conclusion", 1, _paragraphs(meta.conclusion) if meta.conclusion else [
        ph("conclusion", "[Conclusion and proposal to the group (meta: conclusion).]")]))
    secs.append(Section("Annex A – Provenance", 1, _annex(model)))
    tables = figures = 0
    for sec in secs:  # number tables and figures in reading order
        for kind, item in sec.blocks:
            if kind == "table" and item.caption:
                tables += 1
                item.number = tables
            elif kind == "figure":
                figures += 1
                item.number = figures
    return Document(meta, scrub(title), header, [doc_no, place], meta_rows, secs, placeholders)
