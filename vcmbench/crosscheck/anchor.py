"""Anchor curves for a cross-check's BD-rate items: from a run directory, a result-set JSON or a stored anchor."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import UsageError


def anchor_curves_from(source: str, label: str | None = None, quality_key: str | None = None
                       ) -> dict[float, list[tuple[float, float]]]:
    """Anchor curves per scale from a run directory / result-set JSON or a stored anchor (``NAME[:LABEL]``)."""
    p = Path(source)
    if p.exists():
        from ..core.records import load_result_set

        rs = load_result_set(p)
        key = quality_key or rs.quality_key
        out: dict[float, list[tuple[float, float]]] = {}
        for pt in sorted(rs.points, key=lambda q: q.qp):
            if key not in pt.accuracy:
                raise UsageError(f"Anchor run {source}: no accuracy {key!r} (has {sorted(pt.accuracy)}).")
            out.setdefault(round(pt.scale, 9), []).append((pt.bpp, pt.accuracy[key]))
        return out
    from ..anchors import load_anchor

    name, _, lab = source.partition(":")
    a = load_anchor(name)
    lab = lab or label or (a.labels[0] if len(a.labels) == 1 else "anchor")
    if lab not in a.labels:
        raise UsageError(f"Anchor {name!r} has no label {lab!r} (labels: {', '.join(a.labels)}).")
    pts: dict[tuple[float, int], dict[str, float]] = {}
    for r in a.rows:
        if r.label == lab:
            pts.setdefault((round(r.scale, 9), r.qp), {})[r.metric] = r.expected
    metrics = sorted({r.metric for r in a.rows if r.label == lab and r.metric not in ("bpp", "bits")})

    def run_key(metric: str) -> tuple[str, float]:
        spec = a.metric_keys.get(metric, {"key": metric, "factor": 1.0})
        return spec["key"], float(spec.get("factor", 1.0))

    if quality_key:
        chosen = [m for m in metrics if run_key(m)[0] == quality_key]
    else:
        chosen = metrics if len(metrics) == 1 else []
    if not chosen:
        raise UsageError(f"Anchor {name!r} label {lab!r}: no accuracy row matches the quality key {quality_key!r} "
                         f"(its metrics: {metrics}).")
    metric, factor = chosen[0], run_key(chosen[0])[1]
    out = {}
    for (s, qp), m in sorted(pts.items(), key=lambda kv: kv[0][1]):
        if "bpp" in m and metric in m:
            out.setdefault(s, []).append((m["bpp"], m[metric] / factor))
    if not out:
        raise UsageError(f"Anchor {name!r} label {lab!r} has no (bpp, {metric}) rows to form a curve.")
    return out
