"""Row-by-row comparison of a run's result set with an anchor (see ``vcmbench.anchors``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.errors import DataError, UsageError
from ..core.records import ResultSet
from ..core.signature import MATTERING_PARTS, Signature
from ..core.units import scale_pct, scale_text
from ..run.env import results_affecting_changes, results_affecting_view
from .format import Anchor, AnchorRow, _num

# ---------------------------------------------------------------------------------------------
# Comparison

@dataclass
class RowResult:
    row: AnchorRow
    actual: float | None
    status: str  # "ok" | "out-of-tolerance" | "missing"
    detail: str = ""

    @property
    def diff(self) -> float | None:
        return None if self.actual is None else float(self.actual) - float(self.row.expected)

    def to_dict(self) -> dict[str, Any]:
        d = self.row.to_dict()
        d["scale_pct"] = scale_pct(self.row.scale)  # the scale in percent (``scale`` keeps the anchor file's fraction)
        return {**d, "actual": self.actual, "diff": self.diff, "bound": self.row.bound,
                "status": self.status, "detail": self.detail}


@dataclass
class Comparison:
    anchor: str
    kind: str
    label: str
    run_label: str
    run_signature: str
    checked_parts: list[str]
    unchecked_parts: list[str]
    info: list[str]
    rows: list[RowResult]
    # results-affecting packages (and FFmpeg) that differ from the environment the anchor's label was
    # produced in (``vcmbench.run.env.results_affecting_changes``); empty when none differ or unknown
    environment_changes: list[str] = field(default_factory=list)
    # why the changes cannot be named (a side records no environment); "" when both sides record one
    environment_note: str = ""

    @property
    def failures(self) -> list[RowResult]:
        bad = [r for r in self.rows if r.status == "out-of-tolerance"]
        if self.kind == "regression":
            bad += [r for r in self.rows if r.status == "missing"]
        return bad

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def compared(self) -> int:
        return sum(r.status != "missing" for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"anchor": self.anchor, "kind": self.kind, "label": self.label, "run_label": self.run_label,
                "run_signature": self.run_signature, "checked_parts": self.checked_parts,
                "unchecked_parts": self.unchecked_parts, "info": self.info, "passed": self.passed,
                "compared": self.compared, "failures": len(self.failures),
                "environment_changes": self.environment_changes, "environment_note": self.environment_note,
                "rows": [r.to_dict() for r in self.rows]}


def check_signature(anchor: Anchor, run_signature: str, label: str | None = None) -> tuple[list[str], list[str]]:
    """Refuse (``SignatureMismatch``) when a part that matters differs; returns (checked, unchecked).

    A part the anchor does not record is not checked; an anchor value without ``#hash`` matches a
    run value with any binary hash (see the module docstring)."""
    a = Signature.parse(anchor.signature_of(label) if label else anchor.signature)
    b = Signature.parse(run_signature)
    checked = [k for k in MATTERING_PARTS if a.get(k) is not None]
    unchecked = [k for k in MATTERING_PARTS if a.get(k) is None]
    view = Signature()
    for k in checked:
        v = b.get(k)
        if v is not None:
            av = a.get(k) or ""
            if "#" not in av and "#" in v:
                v = v.split("#", 1)[0]
            view = view.with_part(k, v)
    a.require_comparable(view, keys=checked, what=f"the run with anchor {anchor.name!r}"
                         + (f" (label {label!r})" if label else ""))
    return checked, unchecked


def _actual(point, metric: str, metric_keys: dict[str, dict[str, Any]]) -> tuple[float | None, str]:
    if metric == "bits":
        return float(point.bits), ""
    if metric == "bpp":
        return float(point.bpp), ""
    spec = metric_keys.get(metric, {"key": metric, "factor": 1.0})
    key, factor = spec["key"], float(spec.get("factor", 1.0))
    if key not in point.accuracy:
        return None, f"the run has no accuracy {key!r} at this point (has {sorted(point.accuracy)})"
    val = point.accuracy[key]
    if val is None or not _num(val):
        return None, f"the run's {key!r} is not a number ({val!r})"
    note = f"run {key} x {factor:g}" if (key != metric or factor != 1.0) else ""
    return float(val) * factor, note


def anchor_env(anchor: Anchor, label: str) -> dict[str, Any] | None:
    """The ``env.json`` of the run the anchor's ``label`` rows come from, if the anchor records it."""
    runs = anchor.provenance.get("runs") if isinstance(anchor.provenance, dict) else None
    entry = runs.get(label) if isinstance(runs, dict) else None
    prov = entry.get("run_provenance") if isinstance(entry, dict) else None
    env = prov.get("env") if isinstance(prov, dict) else None
    return env if isinstance(env, dict) else None


def environment_changes(anchor: Anchor, rs: ResultSet, label: str) -> tuple[list[str], str]:
    """(results-affecting changes from the anchor's run of ``label`` to ``rs``, why they cannot be named)."""
    rec, run = anchor_env(anchor, label), (rs.provenance or {}).get("env")
    changes = results_affecting_changes(rec, run)
    if changes is not None:
        return changes, ""
    no_anchor, no_run = results_affecting_view(rec) is None, results_affecting_view(run) is None
    if no_anchor and no_run:
        why = f"neither the anchor (label {label!r}) nor the run records an environment"
    elif no_anchor:
        why = f"the anchor records no environment for label {label!r}"
    else:
        why = "the run records no environment (no env.json in its run directory)"
    return [], why + ": package changes cannot be named"


def choose_label(anchor: Anchor, rs: ResultSet, label: str | None = None) -> str:
    labels = anchor.labels
    if label is not None:
        if label not in labels:
            raise UsageError(f"Anchor {anchor.name!r} has no label {label!r}. Its labels: {', '.join(labels)}.")
        return label
    if len(labels) == 1:
        return labels[0]
    if rs.label in labels:
        return rs.label
    raise UsageError(f"Anchor {anchor.name!r} holds several curves ({', '.join(labels)}); "
                     "say which one the run reproduces with --label.")


def compare(anchor: Anchor, rs: ResultSet, label: str | None = None) -> Comparison:
    """Compare a run's result set with the anchor's rows of ``label``, row by row."""
    label = choose_label(anchor, rs, label)
    checked, unchecked = check_signature(anchor, rs.signature, label)
    info = []
    a_sig, r_sig = Signature.parse(anchor.signature_of(label)), Signature.parse(rs.signature)
    for k, x, y in a_sig.differences(r_sig):
        if k not in MATTERING_PARTS and x is not None:
            info.append(f"signature part {k!r} differs ({x!r} vs {y!r}); it does not block the comparison")
    points = {(round(float(p.scale), 9), int(p.qp)): p for p in rs.points}
    for p in rs.points:
        if p.failed:
            info.append(f"the run's point scale {scale_text(p.scale)} QP {p.qp} excludes {p.failed} bitstream(s) that "
                        "failed verification")
    results = []
    for row in anchor.rows:
        if row.label != label:
            continue
        p = points.get((round(float(row.scale), 9), int(row.qp)))
        if p is None:
            results.append(RowResult(row, None, "missing",
                                     f"the run has no point at scale {scale_text(row.scale)}, QP {row.qp}"))
            continue
        actual, note = _actual(p, row.metric, anchor.metric_keys)
        if actual is None:
            results.append(RowResult(row, None, "missing", note))
            continue
        ok = abs(actual - float(row.expected)) <= row.bound
        results.append(RowResult(row, actual, "ok" if ok else "out-of-tolerance", note))
    env_changes, env_note = environment_changes(anchor, rs, label)
    cmp = Comparison(anchor=anchor.name, kind=anchor.kind, label=label, run_label=rs.label,
                     run_signature=rs.signature, checked_parts=checked, unchecked_parts=unchecked, info=info,
                     rows=results, environment_changes=env_changes, environment_note=env_note)
    if cmp.compared == 0:
        raise DataError(f"The run ({rs.condition}, label {rs.label!r}) has none of anchor {anchor.name!r}'s points "
                        f"for label {label!r}: run the anchor's condition {anchor.condition!r} at its scales and QPs.")
    return cmp

