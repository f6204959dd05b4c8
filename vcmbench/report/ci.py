"""Bootstrap confidence intervals for ``bdrate --ci`` and ``report --ci`` (``run.bootstrap``).

The interval needs per-image records, i.e. run directories (or result sets whose provenance names
their run directory).  A CSV or CompressAI JSON holds only per-point figures: its interval is
marked unavailable with that reason (``{"level": .., "error": ..}``), and the BD value itself is
unaffected.  Every interval is checked: its statistic on the full image set (every weight 1) must
reproduce the BD-rate it belongs to, else it is not given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..core.errors import DataError, VcmbenchError
from ..core.signature import Signature
from ..run.bootstrap import ci_part, paired_bootstrap

REPRODUCE_TOL = 1e-6  # BD-rate percent: the statistic at weights 1 against the point estimate


def no_records_reason(source: str, kind: str = "") -> str:
    name = Path(str(source)).name or str(source)
    what = "a CSV holds" if kind == "csv" or str(source).lower().endswith((".csv", ".tsv", ".tab")) \
        else "such a file holds"
    return f"no per-image records in {name} ({what} only per-point figures): the interval needs run directories"


def run_dir_of(result_set: Any) -> Path | None:
    """The run directory a result set was built from (its provenance), when it is still there."""
    d = ((getattr(result_set, "provenance", None) or {}).get("run_dir"))
    if d and (Path(d) / "run.json").is_file():
        return Path(d)
    return None


class ItemCache:
    """Per-item records of each result set, built once (keyed by object identity)."""

    def __init__(self) -> None:
        self._cache: dict[int, Any] = {}

    def get(self, result_set: Any, source: str, quality_key: str):
        """The result set's ``ItemCurves``; raises DataError with the reason when it has none."""
        key = id(result_set)
        if key not in self._cache:
            try:
                if result_set is None:
                    raise DataError(no_records_reason(source))
                run_dir = run_dir_of(result_set)
                if run_dir is None:
                    prov = getattr(result_set, "provenance", None) or {}
                    if prov.get("run_dir"):
                        raise DataError(f"the run directory {prov['run_dir']} of {source} is not there: the interval "
                                        "needs its store")
                    raise DataError(no_records_reason(prov.get("source") or source))
                from ..run.run_items import run_item_curves

                self._cache[key] = run_item_curves(run_dir, result_set, quality_key)
            except VcmbenchError as exc:  # the reason goes into the ci dict; the BD value stands
                self._cache[key] = DataError(str(exc))
        val = self._cache[key]
        if isinstance(val, DataError):
            raise val
        return val


def bd_statistic(method: str, remedies: Sequence[str], extend: str, min_overlap: float, pareto: bool = False):
    from ..bd import compare

    def stat(a: list[tuple[float, float]], t: list[tuple[float, float]]):
        if pareto:
            a, t = pareto_pairs(a), pareto_pairs(t)
        r = compare(a, t, method, remedies=remedies, extend=extend, min_overlap=min_overlap)
        return r.bd_rate_pct, r.bd_quality
    return stat


def pareto_pairs(pairs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (rate, quality) pairs no other pair dominates, by ascending rate (``run.resultset.pareto_indices``,
    the selection of ``results --pareto`` and the summary figure)."""
    from ..run.resultset import pareto_indices

    return [pairs[i] for i in pareto_indices(pairs)]


def interval(anchor_items, test_items, scale: float | None, *, method: str, remedies: Sequence[str], extend: str,
             min_overlap: float, level: float, resamples: int, seed: int, expected_bd: float | None) -> dict:
    """The ``ci`` dict of one BD value (one scale, or all points through their Pareto fronts when ``scale`` is
    None); ``{"level", "error"}`` when it cannot be computed."""
    try:
        if anchor_items.items != test_items.items:
            raise DataError(f"anchor and test are not on the same images ({len(anchor_items.items)} vs "
                            f"{len(test_items.items)} items, or other ids): a paired interval needs the same images")
        if scale is None:  # the Pareto fronts of all points (as run.resultset.pareto_front: complete points only)
            pa = [p for p in anchor_items.points if p.counted.all()]
            pt = [p for p in test_items.points if p.counted.all()]
        else:
            pa, pt = anchor_items.at_scale(scale), test_items.at_scale(scale)
        stat = bd_statistic(method, remedies, extend, min_overlap, pareto=scale is None)
        if expected_bd is not None:
            import numpy as np

            from ..run.bootstrap import curve_values

            ones = np.ones((1, len(anchor_items.items)))
            (ra, qa), (rt, qt) = curve_values(pa, ones), curve_values(pt, ones)
            b, _ = stat(list(zip(ra[0], qa[0])), list(zip(rt[0], qt[0])))
            if abs(b - expected_bd) > REPRODUCE_TOL * max(1.0, abs(expected_bd)):
                raise DataError(f"the per-image records give BD-rate {b:+.6f} %, not the reported {expected_bd:+.6f} %: "
                                "the interval would belong to another figure")
        return paired_bootstrap(pa, pt, len(anchor_items.items), stat, level, resamples, seed)
    except VcmbenchError as exc:  # BDError, DataError, EvaluationError ...: no interval, with the reason
        return {"level": float(level), "error": str(exc)}


def with_ci_part(signature: str, ci: dict | None, level: float, resamples: int, seed: int) -> str:
    """The BD signature plus ``ci:<level>-b<resamples>-s<seed>`` when an interval was computed."""
    if not signature or not ci or "error" in ci:
        return signature
    sig = Signature.parse(signature)
    parts = [(k, v) for k, v in sig.parts if k not in ("ci", "v")] + [("ci", ci_part(level, resamples, seed))]
    version = sig.get("v")
    return str(Signature.of(parts + ([("v", version)] if version else [])))


def attach_to_rows(rows: list[dict], anchor, test, *, level: float, resamples: int, seed: int,
                   remedies: Sequence[str], extend: str, min_overlap: float, summary: list[dict] = ()) -> None:
    """``bdrate --ci``: set ``row["ci"]`` (and the ``ci`` signature part) on each row of ``compare_inputs``
    and on each ``summary`` figure (``summarize_inputs``): a one-curve summary takes its row's interval, a
    Pareto-front summary resamples all points and selects the fronts in every resample."""
    cache = ItemCache()
    _attach(rows, anchor, test, cache, level=level, resamples=resamples, seed=seed, remedies=remedies,
            extend=extend, min_overlap=min_overlap)
    for s in summary:
        if s["selection"] != "pareto":
            row = next((r for r in rows if r["method"] == s["method"] and r["group"] == s["group"]
                        and r["scale"] == s["scales"][0]), None)
            s["ci"] = None if row is None else row.get("ci")
            if row is not None:
                s["signature"] = row["signature"]
            continue
        _attach([s], anchor, test, cache, level=level, resamples=resamples, seed=seed, remedies=remedies,
                extend=extend, min_overlap=min_overlap)


def _attach(rows, anchor, test, cache, *, level, resamples, seed, remedies, extend, min_overlap) -> None:
    for row in rows:
        if row["result"] is None:
            row["ci"] = None
            continue
        try:
            if anchor.result_set is not None and anchor.rate_name != "bpp":
                raise DataError(f"the interval resamples the dataset rate in bpp, not {anchor.rate_name!r}: leave "
                                "--rate-col at bpp for --ci")
            a = cache.get(anchor.result_set, anchor.source, anchor.quality_name)
            t = cache.get(test.result_set, test.source, anchor.quality_name)
        except DataError as exc:
            row["ci"] = {"level": float(level), "error": str(exc)}
            continue
        row["ci"] = interval(a, t, row.get("scale"), method=row["method"], remedies=remedies, extend=extend,
                             min_overlap=min_overlap, level=level, resamples=resamples, seed=seed,
                             expected_bd=row["result"].bd_rate_pct)
        row["signature"] = with_ci_part(row["signature"], row["ci"], level, resamples, seed)


def fill_model(model, *, level: float, resamples: int, seed: int, min_overlap: float | None = None) -> None:
    """``report --ci``: fill ``BDEntry.ci`` of every computed entry (and ``SummaryEntry.ci`` of dataset-scope
    summaries, through the Pareto fronts of all points) and add the ``ci`` signature part."""
    from ..bd import MIN_OVERLAP
    from .model import set_label

    mo = MIN_OVERLAP if min_overlap is None else min_overlap
    cache = ItemCache()
    kw = dict(method=model.method, remedies=model.remedies, extend=model.extend, min_overlap=mo, level=level,
              resamples=resamples, seed=seed)
    by_label: dict[str, tuple[Any, Any]] = {}
    for sec in model.sections:
        for t in sec.tests:
            by_label.setdefault(set_label(t), (sec.anchor, t))
        for e in sec.entries:
            if not e.ok:
                continue
            t = next((x for x in sec.tests if set_label(x) == e.test_label), None)
            e.ci = _one(cache, sec.anchor, t, e.scale, e.result.bd_rate_pct, sec.quality_key, kw)
            e.signature = with_ci_part(e.signature, e.ci, level, resamples, seed)
    for s in getattr(model, "summaries", []) or []:
        if s.result is None:
            continue
        if s.scope != "dataset" or s.test_label not in by_label:
            s.ci = {"level": float(level), "error": f"no interval for the {s.scope} figure ({s.name}): only BD values "
                                                    "of one dataset's curves are resampled"}
            continue
        anchor, t = by_label[s.test_label]
        scale = None if s.selection == "pareto" or len(s.scales) != 1 else s.scales[0]
        s.ci = _one(cache, anchor, t, scale, s.result.bd_rate_pct, anchor.quality_key, kw)
        s.signature = with_ci_part(s.signature, s.ci, level, resamples, seed)


def _one(cache: ItemCache, anchor, test, scale, expected, qkey, kw) -> dict:
    try:
        a = cache.get(anchor, _source(anchor), qkey)
        t = cache.get(test, _source(test), qkey)
    except DataError as exc:
        return {"level": float(kw["level"]), "error": str(exc)}
    return interval(a, t, scale, expected_bd=expected, **kw)


def _source(rs) -> str:
    prov = getattr(rs, "provenance", None) or {}
    return str(prov.get("source") or prov.get("run_dir") or getattr(rs, "label", "") or "input")
