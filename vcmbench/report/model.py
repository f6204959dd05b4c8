"""The report model: result sets paired with their anchor per condition, BD per scale.

Pairing rule: a test result set is compared with the anchor result set of the same
``condition``; exactly one anchor per condition.  Before a BD number is computed the two
signatures must agree on ``signature.BD_COMPARABLE_PARTS`` (condition, task, metric, rate
definition, ground truth); a difference is refused unless ``force=True``, which is recorded
(section ``forced``, model warnings, and a ``forced:`` part in the BD signature).

BD is computed per scale present in both sets (scales as fractions, 1.0 = 100 %), on
(bpp, accuracy[anchor.quality_key]).  A BD value that cannot be computed is kept as an entry
with ``error`` set (the reason), never as a NaN.
"""

from __future__ import annotations

import datetime as _dt
import platform
import re
import sys
from dataclasses import dataclass, field
from typing import Sequence

from .. import __version__
from ..bd import DEFAULT_METHOD, MIN_OVERLAP, BDResult, compare, signature_part
from ..core.errors import BDError, DataError, SignatureMismatch, UsageError
from ..core.records import RatePoint, ResultSet
from ..core.signature import BD_COMPARABLE_PARTS, Signature
from .summaries import point_name, set_label, twins  # noqa: F401  (set_label, twins re-exported)


@dataclass
class BDEntry:
    condition: str
    scale: float
    anchor_label: str
    test_label: str
    method: str
    quality_key: str
    result: BDResult | None = None
    error: str | None = None  # why no BD value (then result is None)
    signature: str = ""
    # Bootstrap confidence interval (run.bootstrap), None when not asked for or not computable:
    # {"level": 95.0, "low": float, "high": float (BD-rate, percent), "resamples": int, "seed": int,
    #  "items": int, "method": str, "bd_quality_low"/"bd_quality_high": float | None (stored units)}
    # or {"level": 95.0, "error": "why not (e.g. CSV input has no per-image records)"}.
    ci: dict | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass
class SummaryEntry:
    """A summary figure the conditions define (the report's first BD figure per test), with its rule and source.

    ``scope``: "dataset" (one condition's figure across its scales, e.g. BD-rate on the Pareto fronts of
    all scale x QP points) or "overall" (across conditions/classes as the reporting template defines it).
    ``result`` holds a BD computation; ``value_pct`` (and ``value_quality``, its BD-accuracy) an aggregate that is
    not one BD computation (e.g. a mean over classes the template defines); ``error`` why none was computed.
    """
    test_label: str
    scope: str
    name: str
    rule: str
    source: str
    result: BDResult | None = None
    value_pct: float | None = None
    value_quality: float | None = None  # BD-accuracy of such an aggregate (stored units), None where not computed
    error: str | None = None
    signature: str = ""
    ci: dict | None = None  # same form as BDEntry.ci
    condition: str = ""  # the condition (dataset) the figure is for; "" for scope "overall"
    quality_key: str = ""  # accuracy key of BD-accuracy (its unit: core.units.bd_accuracy)
    scales: tuple[float, ...] = ()  # scales whose points entered the figure
    selection: str = ""  # "pareto" when each side was reduced to its Pareto front (run.resultset.pareto_points)

    @property
    def bd_rate_pct(self) -> float | None:
        if self.result is not None:
            return self.result.bd_rate_pct
        return self.value_pct

    @property
    def bd_quality(self) -> float | None:
        if self.result is not None:
            return self.result.bd_quality
        return self.value_quality


@dataclass
class ConditionSection:
    condition: str
    dataset: str
    metric: str
    quality_key: str
    anchor: ResultSet
    tests: list[ResultSet]
    entries: list[BDEntry] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)  # "test label: part: anchor value vs test value"
    mixed: list[str] = field(default_factory=list)  # "test label: what" allowed by --allow-mixed

    def scales(self) -> list[float]:
        found = {p.scale for rs in [self.anchor, *self.tests] for p in rs.points}
        return sorted(found, reverse=True)

    def points(self, rs: ResultSet, scale: float | None = None) -> list[RatePoint]:
        pts = [p for p in rs.points if scale is None or abs(p.scale - scale) < 1e-9]
        return sorted(pts, key=lambda p: (-p.scale, p.qp))


@dataclass
class ReportModel:
    title: str
    method: str
    remedies: tuple[str, ...]
    extend: str
    sections: list[ConditionSection]
    provenance: dict
    warnings: list[str] = field(default_factory=list)
    abstract: str = ""
    summaries: list[SummaryEntry] = field(default_factory=list)  # condition-defined figures, shown first

    @property
    def entries(self) -> list[BDEntry]:
        return [e for s in self.sections for e in s.entries]

    @property
    def bd_signature_part(self) -> str:
        return signature_part(self.method, self.remedies, self.extend)


def _clean_sig_value(text: str) -> str:
    return re.sub(r"[|:\s]+", "_", str(text)).strip("_") or "unnamed"


def pair_result_sets(anchor_sets: Sequence[ResultSet], test_sets: Sequence[ResultSet]
                     ) -> list[tuple[ResultSet, list[ResultSet]]]:
    """Group the tests by condition with that condition's single anchor (order of first appearance)."""
    if not anchor_sets:
        raise DataError("No anchor result set given. Give one per condition (--anchor RUNDIR_OR_JSON).")
    if not test_sets:
        raise DataError("No test result set given. Give at least one (--test RUNDIR_OR_JSON).")
    anchors: dict[str, ResultSet] = {}
    for a in anchor_sets:
        if a.condition in anchors:
            raise DataError(f"Two anchor result sets for condition {a.condition!r} ({set_label(anchors[a.condition])!r} "
                            f"and {set_label(a)!r}). Give one anchor per condition.")
        anchors[a.condition] = a
    groups: dict[str, list[ResultSet]] = {}
    for t in test_sets:
        if t.condition not in anchors:  # a twin condition (bd.twin: same images, network, metric) pairs with its anchor
            match = [c for c, a in anchors.items() if twins(a, t)]
            if len(match) == 1:
                groups.setdefault(match[0], []).append(t)
                continue
        if t.condition not in anchors:
            raise DataError(f"Test result set {set_label(t)!r} is for condition {t.condition!r}, but no anchor is: "
                            f"anchors cover {sorted(anchors)}. Add --anchor for that condition.")
        groups.setdefault(t.condition, []).append(t)
    return [(anchors[c], ts) for c, ts in groups.items()]


def _environment() -> dict:
    import numpy
    import scipy

    return {"vcmbench": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
            "numpy": numpy.__version__, "scipy": scipy.__version__}


def bd_signature(test_signature: str, part: str, scale: float | None, forced: Sequence[str],
                 anchor: str | None = None, source: str = "the test", mixed: Sequence[str] = (),
                 selection: str | None = None) -> str:
    """Signature of one BD result: the test's own signature plus ``scale``, ``bd`` (method and
    remedies), ``anchor`` (what it was compared with), ``forced`` (signature parts overridden),
    ``mixed`` (differences allowed by --allow-mixed, report.summaries.check_mixed) and ``selection``
    (``pareto`` for the Pareto-front summary figure)."""
    try:
        sig = Signature.parse(test_signature) if test_signature else Signature()
    except UsageError as exc:
        raise DataError(f"{source} carries a malformed signature ({exc}); re-create it with vcmbench "
                        "or remove its signature field.") from None
    if selection:  # first, as run.resultset.pareto_front marks a selection: the same signature either way
        sig = sig.with_part("selection", selection)
    if scale is not None:
        sig = sig.with_part("scale", f"{round(scale * 100):d}")
    sig = sig.with_part("bd", part)
    if anchor:
        sig = sig.with_part("anchor", _clean_sig_value(anchor))
    if forced:
        sig = sig.with_part("forced", ",".join(sorted(forced)))
    if mixed:
        sig = sig.with_part("mixed", ",".join(sorted(mixed)))
    return str(sig.with_version())


def build_report(anchor_sets: Sequence[ResultSet], test_sets: Sequence[ResultSet], method: str = DEFAULT_METHOD, *,
                 remedies: Sequence[str] = (), extend: str = "none", force: bool = False, title: str | None = None,
                 abstract: str = "", command_line: str | None = None, min_overlap: float = MIN_OVERLAP,
                 allow_mixed: bool = False) -> ReportModel:
    """Pair result sets, check comparability, compute BD per condition and scale, then the summary figure
    of each test per condition (``report.summaries``: Pareto fronts over all scales, or the one curve).

    What is compared is checked by ``report.summaries.check_mixed`` (kind, dataset, image count):
    refused unless ``allow_mixed``, which is recorded like ``force``.  Pareto selections
    (``resultset-pareto.json``) are refused: the report selects the front itself from the full set.
    """
    from ..bd import METHODS
    from ..run.resultset import is_pareto_selection
    from .summaries import check_mixed

    METHODS.get(method)
    for rs in [*anchor_sets, *test_sets]:
        if is_pareto_selection(rs):
            raise DataError(f"Result set {set_label(rs)!r} is a Pareto selection (resultset-pareto.json): its points mix "
                            "scales. Give the full result set (resultset.json); the report computes the Pareto-front "
                            "figure itself, and `vcmbench bdrate` compares Pareto selections directly.")
    remedies = tuple(dict.fromkeys(remedies))
    part = signature_part(method, remedies, extend)
    warnings: list[str] = []
    sections = []
    summaries: list[SummaryEntry] = []
    for anchor, tests in pair_result_sets(anchor_sets, test_sets):
        qkey = anchor.quality_key
        sec = ConditionSection(anchor.condition, anchor.dataset, anchor.metric or qkey, qkey, anchor, list(tests))
        for t in tests:
            parts = tuple(k for k in BD_COMPARABLE_PARTS if not (k == "cttc" and twins(anchor, t)))
            diffs = Signature.parse(anchor.signature).differences(Signature.parse(t.signature), parts)
            if diffs:
                text = [f"{set_label(t)}: {k}: {a!r} vs {b!r}" for k, a, b in diffs]
                if not force:
                    detail = "; ".join(f"{k}: {a!r} vs {b!r}" for k, a, b in diffs)
                    raise SignatureMismatch(
                        f"Refusing to compute BD of {set_label(t)!r} against anchor {set_label(anchor)!r} for "
                        f"condition {anchor.condition!r}: signature parts differ ({detail}). Compare results produced "
                        "under the same condition, or pass --force (recorded in the report and the signature)."
                    )
                sec.forced += text
                warnings += [f"FORCED comparison despite differing signature part — {x}" for x in text]
            mixed_warn, mixed = check_mixed(anchor, t, allow_mixed)
            warnings += [f"{anchor.condition}: {w}" for w in mixed_warn]
            sec.mixed += [f"{set_label(t)}: {m}" for m in mixed]
            if t.quality_key != qkey:
                warnings.append(f"{anchor.condition}: test {set_label(t)!r} names quality {t.quality_key!r}; "
                                f"the anchor's {qkey!r} is used for both")
            a_scales = {p.scale for p in anchor.points}
            t_scales = {p.scale for p in t.points}
            common = sorted(a_scales & t_scales, reverse=True)
            if not common:
                raise DataError(f"Condition {anchor.condition!r}: anchor scales {sorted(a_scales)} and test "
                                f"{set_label(t)!r} scales {sorted(t_scales)} have nothing in common.")
            for s in sorted(t_scales - a_scales):
                warnings.append(f"{anchor.condition}: test {set_label(t)!r} scale {s * 100:g} % has no anchor points; skipped")
            t_forced = [k for k, _, _ in diffs]
            for scale in common:
                entry = BDEntry(anchor.condition, scale, set_label(anchor), set_label(t), method, qkey)
                try:
                    a_used = [p for p in sec.points(anchor, scale) if qkey in p.accuracy]
                    t_used = sec.points(t, scale)
                    for p in t_used:
                        if qkey not in p.accuracy:
                            raise BDError(f"test point scale {p.scale * 100:g} % QP {p.qp} has no {qkey!r} accuracy")
                    entry.result = compare([(p.bpp, p.accuracy[qkey]) for p in a_used],
                                           [(p.bpp, p.accuracy[qkey]) for p in t_used], method, remedies=remedies,
                                           extend=extend, min_overlap=min_overlap,
                                           anchor_names=_names(anchor, a_used), test_names=_names(t, t_used))
                    entry.signature = bd_signature(t.signature, part, scale, t_forced, anchor=anchor.codec or anchor.label,
                                                   source=f"result set {t.label!r}", mixed=mixed)
                    warnings += [f"{anchor.condition} {set_label(t)} scale {scale * 100:g} %: {w}" for w in entry.result.warnings]
                except BDError as exc:
                    entry.error = str(exc)
                    warnings.append(f"{anchor.condition} {set_label(t)} scale {scale * 100:g} %: BD not computed: {exc}")
                sec.entries.append(entry)
            summary = dataset_summary(anchor, t, [e for e in sec.entries if e.test_label == set_label(t)], method,
                                      remedies=remedies, extend=extend, min_overlap=min_overlap, forced=t_forced,
                                      mixed=mixed)
            if summary.error:
                warnings.append(f"{anchor.condition} {set_label(t)}: summary figure not computed: {summary.error}")
            else:
                warnings += [f"{anchor.condition} {set_label(t)} summary ({summary.name}): {w}"
                             for w in summary.result.warnings] if summary.result is not None and len(common) > 1 else []
            summaries.append(summary)
        sections.append(sec)
    overall = video_overall_entries(anchor_sets, test_sets, summaries)
    warnings += [f"{e.test_label} Overall: not computed: {e.error}" for e in overall if e.error]
    summaries += overall
    provenance = {
        "generated_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "command_line": command_line or "",
        "bd_method": part,
        "environment": _environment(),
        "forced": [f for s in sections for f in s.forced],
        "mixed": [f for s in sections for f in s.mixed],
    }
    if title is None:
        conds = ", ".join(s.condition for s in sections)
        title = f"Results of {', '.join(dict.fromkeys(set_label(t) for t in test_sets))} under {conds}"
    return ReportModel(title=title, method=method, remedies=remedies, extend=extend, sections=sections,
                       provenance=provenance, warnings=warnings, abstract=abstract, summaries=summaries)


def video_overall_entries(anchor_sets: Sequence[ResultSet], test_sets: Sequence[ResultSet],
                          summaries: Sequence[SummaryEntry]) -> list[SummaryEntry]:
    """Overall (scope "overall") per video condition and test: the mean of the test's class summary BD-rates
    (``metrics.video.overall``; rule and source ``report.summaries.OVERALL_*``) over every class of the anchor's
    video run (class sets from ``report.inputs.video_class_sets``).  A class without a BD value leaves Overall
    uncomputed, with the reason."""
    from ..metrics.video import overall
    from .summaries import OVERALL_NAME, OVERALL_RULE, OVERALL_SOURCE

    out = []
    videos = list(dict.fromkeys((a.provenance or {}).get("video_condition") for a in anchor_sets
                                if (a.provenance or {}).get("video_class")))
    for vc in videos:
        mine = [a for a in anchor_sets if (a.provenance or {}).get("video_condition") == vc]
        classes = [a.condition for a in mine]
        classes += [c for c in (mine[0].provenance.get("run_classes") or []) if c not in classes]  # unscored ones
        classes = list(dict.fromkeys(classes))
        for label in dict.fromkeys(set_label(t) for t in test_sets if t.condition in classes):
            got = {s.condition: s for s in summaries if s.scope == "dataset" and s.test_label == label
                   and s.condition in classes}
            e = SummaryEntry(test_label=label, scope="overall", name=OVERALL_NAME, rule=OVERALL_RULE,
                             source=OVERALL_SOURCE, quality_key=mine[0].quality_key, scales=(1.0,))
            lacking = [c for c in classes if c not in got or got[c].bd_rate_pct is None]
            if lacking:
                c = lacking[0]
                why = got[c].error if c in got else ("no test result" if c in [a.condition for a in mine]
                                                     else "no scored rate point in the anchor run")
                e.error = f"{vc}: class {c} has no BD-rate ({why}); Overall is the mean over every class"
            else:
                e.value_pct = overall({c: got[c].bd_rate_pct for c in classes})
                bq = {c: got[c].bd_quality for c in classes}  # as `bdrate` (report.video_inputs.video_overall)
                e.value_quality = overall(bq) if all(v is not None for v in bq.values()) else None
            out.append(e)
    return out


def _names(rs: ResultSet, points: Sequence[RatePoint]) -> list[str] | None:
    """Points named by scale and QP for messages; None when the QPs are only row numbers (CSV without a qp column)."""
    if (rs.provenance or {}).get("qp_from_index"):
        return None
    return [point_name(p.scale, p.qp) for p in points]


def _scales_of(rs) -> list[float]:
    return sorted({float(p.scale) for p in rs.points}, reverse=True)


def dataset_summary(anchor, test, entries, method: str, *, remedies=(), extend: str = "none",
                    min_overlap: float | None = None, forced=(), mixed=()):
    """The summary figure of ``test`` against ``anchor`` for one condition (``SummaryEntry``, scope "dataset").

    One scale each: the per-scale entry's figure (``entries``, the same BD computation).  More scales on
    either side: BD between the Pareto fronts over all scale x QP points (``run.resultset.pareto_points``
    on bpp and the anchor's quality key), with the kept points named in the notes.
    """
    from ..core.errors import VcmbenchError
    from ..run.resultset import pareto_points
    from .summaries import (
        ONE_CURVE_NAME,
        ONE_CURVE_RULE,
        ONE_CURVE_SOURCE,
        PARETO_NAME,
        PARETO_RULE,
        PARETO_SOURCE,
        kept_points,
    )

    qkey = anchor.quality_key
    sa, st = _scales_of(anchor), _scales_of(test)
    common = tuple(s for s in sa if s in st)
    base = dict(test_label=set_label(test), scope="dataset", condition=anchor.condition, quality_key=qkey)
    if len(sa) <= 1 and len(st) <= 1:
        e = entries[0] if entries else None
        return SummaryEntry(**base, name=ONE_CURVE_NAME, rule=ONE_CURVE_RULE, source=ONE_CURVE_SOURCE,
                            result=None if e is None else e.result,
                            error=("no curve in common" if e is None else e.error),
                            signature="" if e is None else e.signature, scales=common)
    out = SummaryEntry(**base, name=PARETO_NAME, rule=PARETO_RULE, source=PARETO_SOURCE,
                       scales=tuple(sorted(set(sa) | set(st), reverse=True)), selection="pareto")
    try:
        fa = pareto_points(anchor.points, qkey)
        ft = pareto_points(test.points, qkey)
        out.result = compare([(p.bpp, p.accuracy[qkey]) for p in fa], [(p.bpp, p.accuracy[qkey]) for p in ft], method,
                             remedies=remedies, extend=extend,
                             min_overlap=MIN_OVERLAP if min_overlap is None else min_overlap,
                             anchor_names=_names(anchor, fa), test_names=_names(test, ft))
        out.result.notes = [f"anchor Pareto front: {len(fa)} of {len(anchor.points)} points ({kept_points(fa)})",
                            f"test Pareto front: {len(ft)} of {len(test.points)} points ({kept_points(ft)})",
                            *out.result.notes]
        out.signature = bd_signature(test.signature, signature_part(method, remedies, extend), None, forced,
                                     anchor=anchor.codec or anchor.label, source=f"result set {test.label!r}",
                                     mixed=mixed, selection="pareto")
    except VcmbenchError as exc:
        out.result, out.error = None, str(exc)
    return out
