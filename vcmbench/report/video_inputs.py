"""Video inputs of ``bdrate`` and ``report`` (issue 22): a video result set's curves per class and sequence, the
Overall of the class BD-rates, and one result set per class for the report.

A video result set (``run.video_results``, ``provenance.video``) gives one curve per class (group = the final CSV's
name ``CLASS-<class>``, or ``TVD``, ``HIEVE-1080P``, ``HIEVE-720P`` for the tracking classes, points in rank order)
and per sequence (its name, by QP); a CSV's rows whose Dataset starts with ``CLASS-`` or is one of those tracking
classes are classes too (``final_<DATASET>.csv``, ``vcmbench results --csv`` of a video run;
``metrics.video.is_class_name``).
"""

from __future__ import annotations

from ..core.errors import DataError
from .curves import CurveSet, Key

VIDEO_RATE_COLS = ("kbps", "bpp", "bits")


def video_curves(rs, source: str, rate_col: str | None, quality_col: str | None) -> CurveSet:
    """A video result set (``run.video_results``): one curve per class (group ``CLASS-<class>``, the final CSV's
    name, points in rank order) and per sequence (its name, points by QP); rate kbps unless ``rate_col`` asks
    for bpp or bits."""
    from ..run.video_results import csv_class_name

    rate = (rate_col or VIDEO_RATE_COLS[0]).strip().lower()
    if rate in ("bitrate (kbps)", "bitrate"):
        rate = "kbps"
    if rate not in VIDEO_RATE_COLS:
        raise DataError(f"Video result set {rs.label!r}: rate {rate_col!r} unknown; use one of {list(VIDEO_RATE_COLS)}.")
    qkey = quality_col or rs.quality_key
    curves: dict[Key, list[tuple[float, float]]] = {}
    qps: dict[Key, list[int | None]] = {}
    levels: dict[str | None, str] = {}
    labels: dict[Key, list[str]] = {}
    for p in sorted(rs.points, key=lambda p: p.qp):
        ex = p.extra or {}
        level, group = ex.get("level"), ex.get("group")
        if level not in ("class", "sequence") or not group:
            raise DataError(f"Video result set {rs.label!r}: a point lacks extra.level/extra.group; rebuild it with "
                            "`vcmbench results RUNDIR --rebuild`.")
        if qkey not in p.accuracy:
            raise DataError(f"Video result set {rs.label!r}: {level} {group} point {p.qp} has no accuracy {qkey!r} "
                            f"(it has {sorted(p.accuracy)}); choose one with --quality-col.")
        name = csv_class_name(str(group)) if level == "class" else str(group)
        r = float(ex["kbps"]) if rate == "kbps" else float(getattr(p, rate))
        key = (name, None)
        curves.setdefault(key, []).append((r, float(p.accuracy[qkey])))
        qps.setdefault(key, []).append(p.qp)
        if level == "class":  # a class point's qp is its rank: messages name the rank and the QPs
            labels.setdefault(key, []).append(f"rate point {p.qp} (QP {','.join(str(q) for q in ex.get('qps') or [])})")
        levels[name] = level
    if not curves:
        raise DataError(f"Video result set {rs.label!r} ({source}) has no rate points.")
    return CurveSet(source, rs.label or rs.codec, rate, qkey, curves, signature=rs.signature, condition=rs.condition,
                    result_set=rs, qps=qps, levels=levels, point_labels=labels)


def video_overall(anchor: CurveSet, test: CurveSet, summary: list[dict]) -> list[dict]:
    """Overall per method for video inputs: the mean of the classes' BD-rates (and BD-accuracies where every
    class has one), ``metrics.video.overall``.  Rule and source as issue 22 and DESIGN.md 5.7 state them: no
    public source computes it.  A class of one side missing on the other is a DataError naming it; a class
    whose BD was refused leaves Overall uncomputed, with the reason."""
    from ..metrics.video import overall
    from .summaries import OVERALL_NAME, OVERALL_RULE, OVERALL_SOURCE

    ca, ct = anchor.class_groups(), test.class_groups()
    only_a, only_t = [c for c in ca if c not in ct], [c for c in ct if c not in ca]
    if only_a or only_t:
        parts = ([f"{', '.join(only_a)} only in the anchor ({anchor.source})"] if only_a else []) + \
                ([f"{', '.join(only_t)} only in the test ({test.source})"] if only_t else [])
        raise DataError(f"The video inputs have different classes: {'; '.join(parts)}. Overall is the mean over the "
                        "classes; compare runs of the same classes (the same optional sets).")
    unscored = [f"{c} ({cs.source})" for cs in (anchor, test) if cs.result_set is not None
                for c in ((cs.result_set.provenance or {}).get("run_classes") or []) if c not in cs.class_groups()]
    out = []
    for method in dict.fromkeys(s["method"] for s in summary):
        rows = {s["group"]: s for s in summary if s["method"] == method and s["group"] in ca}
        row = {"method": method, "group": "Overall", "name": OVERALL_NAME, "rule": OVERALL_RULE,
               "source": OVERALL_SOURCE, "classes": ca, "bd_rate_pct": None, "bd_quality": None, "error": None}
        bad = [c for c in ca if rows.get(c) is None or rows[c]["result"] is None]
        if unscored:
            row["error"] = (f"class {unscored[0]} of the run has no scored rate point (see its `vcmbench results` "
                            "notes); Overall needs every class")
        elif bad:
            row["error"] = (f"class {bad[0]} has no BD-rate ({(rows.get(bad[0]) or {}).get('error') or 'not compared'}); "
                            "Overall needs every class")
        else:
            row["bd_rate_pct"] = overall({c: rows[c]["result"].bd_rate_pct for c in ca})
            bq = {c: rows[c]["result"].bd_quality for c in ca}
            row["bd_quality"] = overall(bq) if all(v is not None for v in bq.values()) else None
        out.append(row)
    return out


def video_class_sets(cs: CurveSet) -> list:
    """One ``records.ResultSet`` per class of a video result set, for ``vcmbench report``: its condition and dataset
    are the class's final-CSV name (``CLASS-D``), each point a rate point of the class in rank order (``qp`` = the
    rank, ``bpp`` = the rate ``cs.rate_name`` names, kbps by default, ``bits``/``pixels`` 0 so that no sheet divides
    them), the video result set's signature kept; the sequences are ``bdrate``'s detail."""
    import copy

    from ..core.records import RatePoint, ResultSet
    from ..run.video_results import csv_class_name

    rs = cs.result_set
    out = []
    for group in cs.class_groups():
        pts = []
        for p in sorted(rs.points, key=lambda p: p.qp):
            ex = p.extra or {}
            if ex.get("level") != "class" or csv_class_name(str(ex.get("group"))) != group:
                continue
            rate = float(ex["kbps"]) if cs.rate_name == "kbps" else float(getattr(p, cs.rate_name))
            pts.append(RatePoint(scale=1.0, qp=p.qp, bits=0, pixels=0, bpp=rate, accuracy=dict(p.accuracy),
                                 images=p.images, encode_seconds=p.encode_seconds, decode_seconds=p.decode_seconds,
                                 task_seconds=p.task_seconds, extra=dict(ex)))
        prov = copy.deepcopy(rs.provenance)
        prov.update(rate_name=cs.rate_name, video_class=True, video_condition=rs.condition, role_source=cs.source)
        qps = "; ".join(f"{p.qp}: QP {','.join(str(q) for q in (p.extra.get('qps') or []))}" for p in pts)
        out.append(ResultSet(condition=group, codec=rs.codec, label=rs.label, quality_key=cs.quality_name, points=pts,
                             signature=rs.signature, metric=rs.metric, dataset=group, provenance=prov,
                             notes=[*rs.notes, f"{group} of {rs.condition}: the QP column holds the rank of the rate "
                                    f"point (the reference's class rows), rank {qps}"]))
    return out
