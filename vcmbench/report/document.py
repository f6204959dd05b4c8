"""The contribution document as one content tree, rendered to HTML (html.py) and .docx (docx.py).

Layout of an MPEG input document: the organisation header with the working group's line and
subtitle (``meta.WG_SUBTITLES``), the document number and meeting, a Title / Source / Purpose
table, then Abstract, 1 Introduction, 2 Test conditions (result sets, number of images or
sequences, uncompressed accuracy), 3 Results (per condition: per-QP table, one figure per scale,
BD table), 4 BD-rate summary (the summary figures of ``model.summaries`` with rule and source first —
no Overall figure: no source defines one — then the per-condition and per-scale detail), 5 Proposal, 6 Conclusion and Annex A (provenance as readable
two-column tables: nested values flattened, no JSON, no traceback, no local path).

Blocks are tuples: ``("p", text)``, ``("placeholder", text)``, ``("table", Table)`` and
``("figure", Figure)``.  Every cell is already formatted text (units and decimals of
``core.units``), so both renderers print the same numbers.  Tables and figures (``layout``) are numbered in
reading order ("Table 3 – …", "Figure 2 – …"); a table's remarks are numbered notes under it
(``Table.notes``), referenced from cells (``Table.refs``) instead of long cells.  Column widths
are sized to content (``column_widths``, the same proportions in both renderers).  Local paths
never reach the document: ``scrub`` keeps only the last path component.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core import units
from ..core.templating import fixed
from .annex import _annex, command_text
from .layout import (
    MARGIN_MM,
    MAX_CELL,
    PAGE_MM,
    TABLE_FONT_PT,
    TEXT_WIDTH_MM,
    Figure,
    Section,
    Table,
    clean_error,
    column_widths,
    nobreak,
    scrub,
    words_of,
)
from .meta import Meta
from .model import ConditionSection, ReportModel, set_label
from .summaries import describe

__all__ = ["MARGIN_MM", "MAX_CELL", "PAGE_MM", "TABLE_FONT_PT", "TEXT_WIDTH_MM", "Document", "Figure", "Section",
           "Table", "_annex", "acc_factor", "build_document", "clean_error", "column_widths", "command_text",
           "nobreak", "scrub", "words_of"]


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
class Document:
    meta: Meta
    title: str
    header_lines: list[str]
    doc_lines: list[str]
    meta_rows: list[tuple[str, str, bool]]  # (label, text, is_placeholder)
    sections: list[Section]
    placeholders: list[str]


def _abstract(model: ReportModel) -> str:
    tests = ", ".join(dict.fromkeys(e.test_label for e in model.entries))
    conds = ", ".join(s.condition for s in model.sections)
    ok = [e for e in model.entries if e.ok]
    text = (f"This contribution reports results of {tests} against the anchor under {conds}, following the "
            f"common test conditions. BD-rates are computed with {model.bd_signature_part}")
    text += (f" (remedy for non-monotonic curves: {', '.join(model.remedies)})." if model.remedies else
             " (no remedy for non-monotonic curves).")
    done = [e for e in model.summaries if e.result is not None]
    if done:
        text += " Summary: " + "; ".join(f"{e.test_label}, {e.condition}: {e.name} {pct(e.result.bd_rate_pct)}"
                                         for e in done) + " (rules and sources in Section 4)."
    elif ok:
        text += " Per scale: " + "; ".join(f"{e.test_label}, {e.condition}, scale {units.scale_text(e.scale)}: BD-rate "
                                           f"{pct(e.result.bd_rate_pct)}" for e in ok) + "."
    missing = len(model.entries) - len(ok)
    if missing:
        text += f" {missing} of {len(model.entries)} BD values could not be computed (reasons in Section 3)."
    return text


def _paragraphs(text: str) -> list[tuple]:
    return [("p", p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _items(rs) -> int:
    return max((p.images for p in rs.points), default=0)


def qp_text(qps: list[int]) -> str:
    """``22–47, step 5`` for an evenly spaced ladder of three or more QPs, else ``22, 27, 37``."""
    steps = {b - a for a, b in zip(qps, qps[1:])}
    if len(qps) >= 3 and len(steps) == 1:
        return f"{qps[0]}–{qps[-1]}, step {steps.pop()}"
    return ", ".join(str(q) for q in qps)


def _conditions_table(model: ReportModel) -> Table:
    rows = []
    for s in model.sections:
        for k, rs in enumerate([s.anchor, *s.tests]):
            qps = qp_text(sorted({p.qp for p in rs.points}))
            scales = ", ".join(units.scale_text(sc) for sc in sorted({p.scale for p in rs.points}, reverse=True))
            rows.append([scrub(s.condition), "anchor" if k == 0 else "test", scrub(set_label(rs)), scrub(rs.codec),
                         qps, scales, str(_items(rs))])
    nouns = sorted({item_noun(s) for s in model.sections})
    return Table(["Condition", "Role", "Result set", "Codec", "QPs", "Scales", " / ".join(nouns).capitalize()], rows,
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
    video = bool((sec.anchor.provenance or {}).get("video_class"))  # a video class: rate points, qp = the rank
    for k, rs in enumerate([sec.anchor, *sec.tests]):
        for i, p in enumerate(sec.points(rs, scale)):
            acc = p.accuracy.get(sec.quality_key)
            name = f"{'Anchor' if k == 0 else 'Test'}: {scrub(set_label(rs))}" if i == 0 else ""
            rows.append([name, str(p.qp), r.text(p.bpp), q.text(acc), num(p.encode_seconds, 2),
                         num(p.decode_seconds, 2)])
    headers = ["Result set", "Rank" if video else "QP", r.header(rate_name(sec)), q.header(sec.quality_key),
               "Encoding (s)", "Decoding (s)"]
    names = "; ".join(scrub(describe(rs, "anchor" if k == 0 else "test")) for k, rs in enumerate([sec.anchor, *sec.tests]))
    what = "per rate point (the i-th QP of every sequence of the class)" if video else "per QP"
    return Table(headers, rows, f"Rate and accuracy {what}, {scrub(sec.condition)}, scale {units.scale_text(scale)} "
                 f"({names})", numeric=[False] + [True] * 5, keep_together=True)


_RAW_POINT = re.compile(r"\(rate=([-+0-9.eE]+), quality=([-+0-9.eE]+)\)")


def name_points(text: str, sections, condition: str, scale: float, percent: bool = True) -> str:
    """A BD note with its raw ``(rate=…, quality=…)`` pairs named by the point they are: ``QP 27 (scale
    100 %, bpp 0.7542, AP 87.213 %)``; a pair that matches no point of the condition stays as it is."""
    sec = next((x for x in sections if x.condition == condition), None)
    if sec is None:
        return text
    q = acc_quantity(sec, percent)

    def name(m: re.Match) -> str:
        r, v = float(m.group(1)), float(m.group(2))
        for rs in [sec.anchor, *sec.tests]:
            for p in sec.points(rs, scale):
                acc = p.accuracy.get(sec.quality_key)
                if acc is not None and abs(p.bpp - r) <= 1e-9 * max(1.0, abs(r)) and abs(acc - v) <= 1e-9 * max(1.0, abs(v)):
                    return (f"QP {p.qp} (scale {units.scale_text(scale)}, {rate_name(sec)} "
                            f"{units.rate(rate_name(sec)).text(p.bpp)}, {q.header(sec.quality_key).split(' (')[0]} "
                            f"{q.text(acc, unit=True)})")
        return m.group(0)

    return _RAW_POINT.sub(name, text)


def _bd_table(entries, caption: str, percent: bool, with_condition: bool, keys: dict, sections=()) -> Table:
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
                t.note(i, col, name_points(n, sections, e.condition, e.scale, percent))
        else:
            row += ["not computed"] + ([ci_text(e.ci)] if has_ci else []) + ["", "", ""]
            t.rows.append(row)
            t.note(i, col, name_points(f"BD not computed: {e.error}", sections, e.condition, e.scale, percent))
        if e.ci:
            t.note(i, col + 1, ci_note(e.ci, keys.get(e.condition, "images")))
    return t


def _summary_table(model: ReportModel, percent: bool) -> Table | None:
    """The condition-defined summary figures (``model.summaries``), each with its rule and source as a note."""
    if not model.summaries:
        return None
    has_ci = any(s.ci for s in model.summaries)
    level = next((f"{float(s.ci.get('level', 95)):g} %" for s in model.summaries if s.ci), "95 %")
    headers = ["Test", "Condition", "Figure", "BD-rate"] + ([f"{level} CI"] if has_ci else []) + ["BD-accuracy"]
    t = Table(headers, [], "Summary figure per test and condition (rule and source in the notes)", keep_together=True,
              numeric=[False, False, False] + [True] * (len(headers) - 3))
    for s in model.summaries:
        i = len(t.rows)
        rate = units.BD_RATE.text(s.bd_rate_pct, unit=True) if s.bd_rate_pct is not None else "not computed"
        bq = s.bd_quality
        row = [scrub(s.test_label), scrub(s.condition), scrub(s.name), rate] + ([ci_text(s.ci)] if has_ci else [])
        row.append(bd_acc_text(bq, s.quality_key, percent) if bq is not None and s.quality_key else "")
        t.rows.append(row)
        t.note(i, 2, f"{s.rule} Source: {s.source}." if s.source else s.rule)
        if s.error:
            t.note(i, 3, f"not computed: {s.error}")
        if s.result is not None:
            for n in s.result.warnings + s.result.notes:
                t.note(i, 3, n)
        if s.ci:
            t.note(i, 4, ci_note(s.ci))
    return t


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
    per_condition: dict[str, Table] = {}
    for i, s in enumerate(model.sections, 1):
        sub = Section(f"3.{i} {scrub(s.condition)}", 2)
        q = acc_quantity(s, percent)
        for scale in s.scales():
            sub.blocks.append(("table", _results_table(s, scale, percent)))
            sub.blocks.append(("figure", Figure(s.condition, scale, f"{q.header(scrub(s.quality_key))} against "
                                                f"{rate_name(s)}, {scrub(s.condition)}, scale {units.scale_text(scale)}")))
        per_condition[s.condition] = _bd_table(s.entries, f"BD against the anchor, {scrub(s.condition)}", percent,
                                               False, nouns, model.sections)
        sub.blocks.append(("table", per_condition[s.condition]))
        if s.forced:
            sub.blocks.append(("p", "Comparison forced despite differing signature parts: " + scrub("; ".join(s.forced))))
        secs.append(sub)
    from .summaries import NO_OVERALL

    summary_blocks: list[tuple] = []
    first = _summary_table(model, percent)
    if first is not None:
        video = [s for s in model.summaries if s.scope == "overall"]
        summary_blocks += [("table", first), ("p", NO_OVERALL if not video else
                                              f"Overall (video): {video[0].rule}. Source: {video[0].source}. No other "
                                              "figure combines BD-rates across conditions.")]
    detail = _bd_table(model.entries, "BD-rate per condition and scale (detail)", percent, True, nouns)
    summary_blocks.append(("table", detail))
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
    cells, detail.notes, detail.refs = sorted(detail.refs), [], {}
    for i, c in cells:  # the detail repeats no note: it points to the per-condition table that holds them
        detail.note(i, c, f"see the notes under Table {per_condition[model.entries[i].condition].number}")
    return Document(meta, scrub(title), header, [doc_no, place], meta_rows, secs, placeholders)
