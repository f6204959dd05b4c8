"""The contribution document as one content tree, rendered to HTML (html.py) and .docx (docx.py).

Layout of an MPEG input document: the organisation header with the working group's line and
subtitle (``meta.WG_SUBTITLES``), the document number and meeting, a Title / Source / Purpose
table, then Abstract, 1 Introduction, 2 Test conditions, 3 Results (per condition: per-QP table,
one figure per scale, BD table), 4 BD-rate summary (the summary figure per test and condition with its
rule and source — ``summary_rows`` — then the per-scale detail; no Overall figure: no source defines one),
5 Proposal, 6 Conclusion and Annex A (provenance as readable tables).

Blocks are tuples: ``("p", text)``, ``("placeholder", text)``, ``("table", Table)`` and
``("figure", Figure)``.  Every cell is already formatted text, so both renderers print the same
numbers.  Local paths never reach the document: ``scrub`` keeps only the last path component.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..core.templating import fixed
from .meta import Meta
from .model import ConditionSection, ReportModel, set_label
from .summaries import describe

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ABS_PATH = re.compile(r"(?<![\w.:/-])(?:[A-Za-z]:\\|~?/)(?:[^\s/\\'\"|]+[/\\])*([^\s/\\'\"|]*)")


def scrub(text) -> str:
    """A value as readable text: local absolute paths reduced to their last component, characters
    XML cannot hold removed."""
    if isinstance(text, (dict, list, tuple)):
        text = json.dumps(text, default=str, sort_keys=True)
    return _ABS_PATH.sub(lambda m: m.group(1) or ".", _ILLEGAL.sub("", "" if text is None else str(text)))


def acc_factor(sec: ConditionSection, percent: bool) -> float:
    """100 when accuracies stored as fractions are shown in percent; 1 when already in percent."""
    vals = [v for rs in [sec.anchor, *sec.tests] for p in rs.points for v in [p.accuracy.get(sec.quality_key)]
            if v is not None]
    return 100.0 if percent and vals and max(vals) <= 1.0 else 1.0


def rate_name(sec: ConditionSection) -> str:
    return str(sec.anchor.provenance.get("rate_name") or "bpp")


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


@dataclass
class Figure:
    condition: str
    scale: float
    caption: str


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
        text += " Per scale: " + "; ".join(f"{e.test_label}, {e.condition}, scale {e.scale:.0%}: BD-rate "
                                           f"{pct(e.result.bd_rate_pct)}" for e in ok) + "."
    missing = len(model.entries) - len(ok)
    if missing:
        text += f" {missing} of {len(model.entries)} BD values could not be computed (reasons in Section 3)."
    return text


def _paragraphs(text: str) -> list[tuple]:
    return [("p", p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _conditions_table(model: ReportModel) -> Table:
    rows = []
    for s in model.sections:
        for k, rs in enumerate([s.anchor, *s.tests]):
            qps = ", ".join(str(q) for q in sorted({p.qp for p in rs.points}))
            scales = ", ".join(f"{sc * 100:g} %" for sc in sorted({p.scale for p in rs.points}, reverse=True))
            rows.append([scrub(s.condition), scrub(s.dataset), scrub(f"{s.metric} ({s.quality_key})"),
                         "anchor" if k == 0 else "test", scrub(set_label(rs)), scrub(rs.codec), qps, scales])
    return Table(["Condition", "Dataset", "Accuracy metric", "Role", "Result set", "Codec", "QPs", "Scales"], rows)


def _results_table(sec: ConditionSection, scale: float, factor: float) -> Table:
    sets = [sec.anchor, *sec.tests]
    unit = " (%)" if factor == 100.0 else ""
    headers = []
    for k, rs in enumerate(sets):
        role = "Anchor" if k == 0 else "Test"
        headers += [f"{role} QP", f"{rate_name(sec)}", f"{sec.quality_key}{unit}", "Enc. (s)", "Dec. (s)"]
    per = [sec.points(rs, scale) for rs in sets]
    rows = []
    for i in range(max(len(p) for p in per)):
        row = []
        for pts in per:
            p = pts[i] if i < len(pts) else None
            if p is None:
                row += [""] * 5
            else:
                acc = p.accuracy.get(sec.quality_key)
                row += [str(p.qp), f"{p.bpp:.6f}", num(None if acc is None else acc * factor, 4 if factor == 1 else 2),
                        num(p.encode_seconds, 2), num(p.decode_seconds, 2)]
        rows.append(row)
    names = "; ".join(scrub(describe(rs, "anchor" if k == 0 else "test")) for k, rs in enumerate(sets))
    return Table(headers, rows, caption=f"{scrub(sec.condition)}, scale {scale * 100:g} % ({names})")


def _bd_rows(entries, factor: float) -> list[list[str]]:
    rows = []
    for e in entries:
        if e.ok:
            r = e.result
            notes = "; ".join(r.warnings + r.notes + ([f"BD-quality: {r.bd_quality_error}"] if r.bd_quality_error else []))
            rows.append([scrub(e.condition), scrub(e.test_label), f"{e.scale * 100:g} %", pct(r.bd_rate_pct),
                         "" if r.bd_quality is None else f"{r.bd_quality * factor:+.{2 if factor == 100 else 4}f}",
                         f"{r.overlap:.0%}", f"{r.points_anchor}/{r.points_test}", scrub(notes)])
        else:
            rows.append([scrub(e.condition), scrub(e.test_label), f"{e.scale * 100:g} %", "not computed", "", "", "",
                         scrub(e.error)])
    return rows


SUMMARY_HEAD = ["Test", "Condition", "Figure", "BD-rate", "BD-accuracy", "Rule", "Source"]


def summary_rows(model: ReportModel) -> list[list[str]]:
    """Rows of the summary table (``SUMMARY_HEAD``): per test and condition the figure the conditions define
    (``model.summaries``; see ``report.summaries``), with its rule and source.  No row is an "Overall" unless a
    source defines one; no mean of per-scale BD-rates is made."""
    from ..core import units

    rows = []
    for e in model.summaries:
        r = e.result
        if r is None:
            rate, acc = "not computed", scrub(e.error or "")
        else:
            rate = units.BD_RATE.text(r.bd_rate_pct, unit=True)
            acc = "" if r.bd_quality is None else units.bd_accuracy(e.quality_key).text(r.bd_quality, unit=True)
        if r is None and e.value_pct is not None:
            rate = units.BD_RATE.text(e.value_pct, unit=True)
        rows.append([scrub(e.test_label), scrub(e.condition or "all conditions"), scrub(e.name), rate, acc,
                     scrub(e.rule), scrub(e.source)])
    return rows


def _annex(model: ReportModel) -> list[tuple]:
    prov = model.provenance
    rows = [["Generated (UTC)", str(prov.get("generated_utc", ""))],
            ["Command line", scrub(prov.get("command_line", ""))],
            ["BD method", str(prov.get("bd_method", ""))]]
    rows += [[f"environment: {k}", scrub(v)] for k, v in prov.get("environment", {}).items()]
    rows += [["FORCED", scrub(f)] for f in prov.get("forced", [])]
    rows += [["MIXED (--allow-mixed)", scrub(f)] for f in prov.get("mixed", [])]
    blocks: list[tuple] = [("table", Table(["Item", "Value"], rows, "Report provenance", key_value=True))]
    blocks.append(("table", Table(["Condition / test / scale", "BD signature"],
                                  [[scrub(f"{e.condition} / {e.test_label} / summary: {e.name}"),
                                    scrub(e.signature) if e.result is not None else "not computed"]
                                   for e in model.summaries]
                                  + [[scrub(f"{e.condition} / {e.test_label} / {e.scale * 100:g} %"),
                                      scrub(e.signature) if e.ok else "not computed"] for e in model.entries],
                                  "BD signatures")))
    for s in model.sections:
        for k, rs in enumerate([s.anchor, *s.tests]):
            rows = [["condition", scrub(rs.condition)], ["codec", scrub(rs.codec)], ["signature", scrub(rs.signature)],
                    ["metric", scrub(rs.metric)], ["dataset", scrub(rs.dataset)]]
            for key, v in rs.provenance.items():
                if isinstance(v, dict):
                    rows += [[f"{key}: {kk}", scrub(vv)] for kk, vv in v.items()]
                elif isinstance(v, (list, tuple)):
                    rows += [[key if i == 0 else "", scrub(item)] for i, item in enumerate(v)]
                else:
                    rows.append([key, scrub(v)])
            rows += [["note", scrub(n)] for n in rs.notes]
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
    where = ", ".join(x for x in (meta.meeting, meta.location) if x)
    if not meta.meeting:
        placeholders.append("meeting")
    if not meta.location:
        placeholders.append("location")
    if not meta.dates:
        placeholders.append("dates")
    place = f"{where or '[meeting, location]'} – {meta.dates or '[dates]'}"
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
    secs.append(Section("2 Test conditions", 1, [("table", _conditions_table(model)), (
        "p", f"BD-rate: {model.bd_signature_part} (x = accuracy, y = log10 rate, integrated over the overlap of the "
             f"accuracy ranges; negative = bit-rate saving). BD-accuracy: the same with the axes swapped, in the "
             f"accuracy's units.{remedy}")]))
    res = Section("3 Results", 1)
    secs.append(res)
    bd_head = ["Condition", "Test", "Scale", "BD-rate", "BD-accuracy", "Overlap", "Points (A/T)", "Notes"]
    fig_no = 0
    for i, s in enumerate(model.sections, 1):
        f = acc_factor(s, percent)
        sub = Section(f"3.{i} {scrub(s.condition)}", 2)
        for scale in s.scales():
            sub.blocks.append(("table", _results_table(s, scale, f)))
            fig_no += 1
            sub.blocks.append(("figure", Figure(s.condition, scale, f"Figure {fig_no} – {scrub(s.quality_key)} vs "
                                                f"{rate_name(s)}, {scrub(s.condition)}, scale {scale * 100:g} %.")))
        sub.blocks.append(("table", Table(bd_head, _bd_rows(s.entries, f), f"BD vs anchor, {scrub(s.condition)}")))
        if s.forced:
            sub.blocks.append(("p", "Comparison forced despite differing signature parts: " + scrub("; ".join(s.forced))))
        secs.append(sub)
    from .summaries import NO_OVERALL

    detail = _bd_rows(model.entries, 1.0)
    for row in detail:
        row[4] = ""  # BD-accuracy units differ between conditions: in the per-condition tables only
    secs.append(Section("4 BD-rate summary", 1, [
        ("table", Table(SUMMARY_HEAD, summary_rows(model), "Summary figure per test and condition (rule and source named)")),
        ("p", NO_OVERALL),
        ("table", Table(bd_head, detail, "Detail: BD-rate per condition and scale"))]
        + [("p", "Warning: " + scrub(w)) for w in model.warnings]))
    secs.append(Section("5 Proposal", 1, _paragraphs(meta.proposal) if meta.proposal else [
        ("p", "This contribution is provided for information.")]))
    secs.append(Section("6 Conclusion", 1, _paragraphs(meta.conclusion) if meta.conclusion else [
        ph("conclusion", "[Conclusion and proposal to the group (meta: conclusion).]")]))
    secs.append(Section("Annex A – Provenance", 1, _annex(model)))
    return Document(meta, scrub(title), header, [doc_no, place], meta_rows, secs, placeholders)
