"""Read rate-quality curves for ``vcmbench bdrate``: CSV/TSV files or vcmbench result sets.

A CSV has a header row; ``rate_col`` / ``quality_col`` name the columns (matched case-insensitively;
defaults ``bpp`` and ``mAP``).  An optional ``scale`` column splits the rows into one curve per
scale.  A result set (``*.json`` or a run directory) gives one curve per scale, rate = ``bpp``
(or ``bits``) and quality = the set's ``quality_key`` unless ``quality_col`` names another
accuracy key.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import DataError
from ..core.inputs import csv_rows, read_text
from .model import bd_signature, twins

DEFAULT_RATE_COL = "bpp"
DEFAULT_QUALITY_COL = "mAP"
RATE_POINT_COLS = ("bpp", "bits")


@dataclass
class CurveSet:
    """Curves of one input, keyed by scale (None when the input has no scale)."""

    source: str
    label: str
    rate_name: str
    quality_name: str
    curves: dict[float | None, list[tuple[float, float]]]
    signature: str = ""
    condition: str = ""
    result_set: object | None = None  # the records.ResultSet when read from one
    notes: list[str] = field(default_factory=list)


def _pick(header: list[str], wanted: str, what: str, path: Path) -> str:
    for h in header:
        if h.strip().lower() == wanted.strip().lower():
            return h
    raise DataError(f"{path}: no {what} column {wanted!r}; columns are {header}. "
                    f"Name the column with --{what}-col.")


def _float(text: str, path: Path, line: int, col: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise DataError(f"{path} line {line}: {col} value {text!r} is not a number.") from None
    if not math.isfinite(v):
        raise DataError(f"{path} line {line}: {col} value {text!r} is not finite.")
    return v


def read_csv_curves(path: str | Path, rate_col: str | None = None, quality_col: str | None = None) -> CurveSet:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist. Give a CSV file, a result-set JSON or a run directory.")
    text = read_text(path, "CSV file")
    dialect = csv.excel_tab if path.suffix.lower() in (".tsv", ".tab") else csv.excel
    rows = csv_rows(text, path, dialect)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise DataError(f"{path}: expected a header row and at least one data row.")
    header = [h.strip() for h in rows[0]]
    rc = _pick(header, rate_col or DEFAULT_RATE_COL, "rate", path)
    qc = _pick(header, quality_col or DEFAULT_QUALITY_COL, "quality", path)
    sc = next((h for h in header if h.lower() == "scale"), None)
    curves: dict[float | None, list[tuple[float, float]]] = {}
    for n, row in enumerate(rows[1:], start=2):
        rec = dict(zip(header, row))
        scale = _float(rec.get(sc, ""), path, n, sc) if sc else None
        curves.setdefault(scale, []).append((_float(rec.get(rc, ""), path, n, rc), _float(rec.get(qc, ""), path, n, qc)))
    return CurveSet(str(path), path.stem, rc, qc, curves)


def curves_from_result_set(rs, source: str = "", rate_col: str | None = None,
                           quality_col: str | None = None) -> CurveSet:
    rate = rate_col or DEFAULT_RATE_COL
    if rate not in RATE_POINT_COLS:
        raise DataError(f"Result set {rs.label!r}: rate column {rate!r} unknown; use one of {list(RATE_POINT_COLS)}.")
    qkey = quality_col or rs.quality_key
    curves: dict[float | None, list[tuple[float, float]]] = {}
    for p in rs.points:
        if qkey not in p.accuracy:
            raise DataError(f"Result set {rs.label!r}: point scale={p.scale} qp={p.qp} has no accuracy {qkey!r} "
                            f"(it has {sorted(p.accuracy)}); choose one with --quality-col.")
        curves.setdefault(float(p.scale), []).append((float(getattr(p, rate)), float(p.accuracy[qkey])))
    if not curves:
        raise DataError(f"Result set {rs.label!r} ({source}) has no rate points.")
    return CurveSet(source, rs.label or rs.codec, rate, qkey, curves, signature=rs.signature,
                    condition=rs.condition, result_set=rs)


def load_curves(path: str | Path, rate_col: str | None = None, quality_col: str | None = None) -> CurveSet:
    """Curves from a CSV/TSV file, a result-set JSON or a run directory."""
    from ..core.records import load_result_set

    p = Path(path)
    if p.is_dir() or p.suffix.lower() == ".json":
        return curves_from_result_set(load_result_set(p), str(p), rate_col, quality_col)
    return read_csv_curves(p, rate_col, quality_col)


def common_scales(a: CurveSet, b: CurveSet) -> list[float | None]:
    """Scales present in both inputs (None matches None: inputs without scales)."""
    both = [s for s in a.curves if s in b.curves]
    if not both and (list(a.curves) == [None] or list(b.curves) == [None]):
        other = b if list(a.curves) == [None] else a
        if len(other.curves) == 1:  # a scale-less CSV against a single-scale input: pair them
            (only,) = other.curves
            if other is b:
                a.curves = {only: a.curves[None]}
            else:
                b.curves = {only: b.curves[None]}
            return [only]
    if not both:
        raise DataError(f"{a.source} has scales {sorted(a.curves, key=str)} and {b.source} has "
                        f"{sorted(b.curves, key=str)}: no scale in common, so there is nothing to compare. "
                        "Add a 'scale' column to the CSV or choose matching inputs.")
    return sorted(both, key=lambda s: (s is None, -(s or 0)))


def compare_inputs(anchor: CurveSet, test: CurveSet, methods: list[str], *, remedies: tuple[str, ...] = (),
                   extend: str = "none", scales: list[float] | None = None, force: bool = False,
                   min_overlap: float | None = None) -> list[dict]:
    """BD of ``test`` vs ``anchor`` per method and common scale; one dict per (method, scale).

    Each dict has ``method``, ``scale``, ``result`` (a ``bd.BDResult`` or None), ``error`` (str or
    None), ``signature`` and ``forced`` (signature parts that differed and were overridden).
    Result sets must agree on ``BD_COMPARABLE_PARTS`` unless ``force``; a difference raises
    SignatureMismatch naming the part.
    """
    from ..bd import MIN_OVERLAP, compare, signature_part
    from ..core.errors import BDError, SignatureMismatch
    from ..core.signature import BD_COMPARABLE_PARTS, Signature

    forced: list[str] = []
    paired = twins(anchor.result_set, test.result_set)
    parts = tuple(k for k in BD_COMPARABLE_PARTS if not (paired and k == "cttc"))
    if anchor.signature and test.signature:
        diffs = Signature.parse(anchor.signature).differences(Signature.parse(test.signature), parts)
        if diffs:
            detail = "; ".join(f"{k}: {a!r} vs {b!r}" for k, a, b in diffs)
            if not force:
                raise SignatureMismatch(
                    f"Refusing to compute BD of {test.source} against {anchor.source}: signature parts differ "
                    f"({detail}). Compare results of the same condition, or pass --force (recorded in the signature).")
            forced = [k for k, _, _ in diffs]
    if anchor.condition and test.condition and anchor.condition != test.condition and not force and not paired:
        raise SignatureMismatch(f"Anchor is for condition {anchor.condition!r} but test for {test.condition!r}. "
                                "Pair result sets of the same condition, or pass --force (recorded).")
    todo = common_scales(anchor, test)
    if scales:
        want = [float(s) for s in scales]
        todo = [s for s in todo if s is not None and any(abs(s - w) < 1e-9 for w in want)]
        if not todo:
            raise DataError(f"None of the requested scales {want} is present in both inputs.")
    rows = []
    for method in methods:
        part = signature_part(method, remedies, extend)
        for scale in todo:
            row = {"method": method, "scale": scale, "result": None, "error": None,
                   "signature": bd_signature(test.signature, part, scale, forced, source=str(test.source)), "forced": forced}
            try:
                row["result"] = compare(anchor.curves[scale], test.curves[scale], method, remedies=remedies,
                                        extend=extend, min_overlap=MIN_OVERLAP if min_overlap is None else min_overlap)
            except BDError as exc:
                row["error"] = str(exc)
            rows.append(row)
    return rows
