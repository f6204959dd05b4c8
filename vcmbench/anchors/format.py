"""Anchor files: the dataclasses, validation with clear errors, loading and listing (see ``vcmbench.anchors``)."""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DataError, UsageError
from ..core.jsonio import read_json
from ..core.resources import resource_dir
from ..core.signature import Signature

SCHEMA_VERSION = 1
KINDS = ("regression", "published-reference", "smoke-reference")
RATE_METRICS = ("bits", "bpp")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

# Tolerances given to rows created from a run by ``update_anchor`` (absolute, the row's unit).
DEFAULT_TOLERANCES = {
    "bits": 0.0,  # a deterministic single-threaded encoder: bits match exactly
    "bpp": 1e-12,  # bits / pixels: float round-off only
    "accuracy": 1e-9,  # the same detections give the same AP; allow summation-order round-off
}

_TOP_KEYS = {
    "schema_version", "name", "kind", "title", "condition", "signature", "source", "provenance", "notes",
    "tolerance_rule", "metric_keys", "rerun", "reported", "rows", "history", "label_signatures",
}
_ROW_KEYS = {"label", "condition", "scale", "qp", "metric", "expected", "tolerance", "rel_tolerance", "unit",
             "printed", "note"}
_HIST_KEYS = {"date", "reason", "from_run", "vcmbench_version", "results_version", "changed_rows", "signature"}


@dataclass
class AnchorRow:
    """One expected number: (label, scale, QP, metric) -> expected ± tolerance."""

    label: str
    condition: str
    scale: float
    qp: int
    metric: str
    expected: float
    tolerance: float  # absolute, in the row's unit
    rel_tolerance: float = 0.0  # relative to |expected|, added to ``tolerance``
    unit: str = ""
    printed: str | None = None  # the figure exactly as printed (published references)
    note: str = ""

    @property
    def key(self) -> tuple[str, float, int, str]:
        return (self.label, round(float(self.scale), 9), int(self.qp), self.metric)

    @property
    def bound(self) -> float:
        return float(self.tolerance) + float(self.rel_tolerance) * abs(float(self.expected))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("printed", "note", "unit"):
            if not d[k]:
                d.pop(k)
        if not d["rel_tolerance"]:
            d.pop("rel_tolerance")
        return d


@dataclass
class Anchor:
    name: str
    kind: str
    title: str
    condition: str
    signature: str
    source: str
    rows: list[AnchorRow]
    provenance: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tolerance_rule: str = ""
    metric_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    rerun: str | None = None
    reported: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    label_signatures: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    path: Path | None = None

    @property
    def labels(self) -> list[str]:
        return list(dict.fromkeys(r.label for r in self.rows))

    def signature_of(self, label: str) -> str:
        """The signature of the results stored under ``label``."""
        return self.label_signatures.get(label, self.signature)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schema_version": self.schema_version, "name": self.name, "kind": self.kind, "title": self.title,
            "condition": self.condition, "signature": self.signature, "source": self.source,
            "provenance": self.provenance, "notes": self.notes, "tolerance_rule": self.tolerance_rule,
        }
        if self.metric_keys:
            d["metric_keys"] = self.metric_keys
        if self.rerun:
            d["rerun"] = self.rerun
        if self.reported:
            d["reported"] = self.reported
        if self.label_signatures:
            d["label_signatures"] = self.label_signatures
        d["rows"] = [r.to_dict() for r in self.rows]
        d["history"] = self.history
        return d


# ---------------------------------------------------------------------------------------------
# Loading and validation

def anchors_dir(directory: str | os.PathLike | None = None) -> Path:
    """The anchor store: ``directory``, else ``$VCMBENCH_ANCHORS_DIR``, else the shipped ``anchors/``."""
    return Path(directory) if directory else resource_dir("anchors")


def list_anchors(directory: str | os.PathLike | None = None) -> list[str]:
    d = anchors_dir(directory)
    return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def half_unit_of(printed: str) -> float:
    """Half a unit in the last printed digit: "0.44" -> 0.005, "0.7475" -> 0.00005, "38" -> 0.5."""
    text = printed.strip().lstrip("+-")
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return 0.5 * 10.0 ** (-decimals)


def validate_anchor_data(d: Any, file: str = "anchor") -> list[str]:
    """Every problem of an anchor document, as ``file: key: message`` strings (empty = valid)."""
    if not isinstance(d, dict):
        return [f"{file}: an anchor must be a JSON object"]
    out: list[str] = []

    def bad(key: str, msg: str) -> None:
        out.append(f"{file}: {key}: {msg}")

    if d.get("schema_version") != SCHEMA_VERSION:
        bad("schema_version", f"{d.get('schema_version')!r} is not supported (this vcmbench reads {SCHEMA_VERSION})")
    for k in sorted(set(d) - _TOP_KEYS):
        bad(k, f"unknown key; allowed: {sorted(_TOP_KEYS)}")
    for k in ("name", "kind", "title", "condition", "signature", "source"):
        if not isinstance(d.get(k), str):
            bad(k, "missing or not a string")
    if isinstance(d.get("name"), str) and not _NAME.match(d["name"]):
        bad("name", f"{d['name']!r}: use lowercase letters, digits, '.', '_' and '-'")
    if d.get("kind") not in KINDS:
        bad("kind", f"{d.get('kind')!r} is not one of {list(KINDS)}")
    if isinstance(d.get("signature"), str):
        try:
            Signature.parse(d["signature"])
        except UsageError as exc:
            bad("signature", str(exc))
    for k, typ in (("provenance", dict), ("notes", list), ("metric_keys", dict), ("reported", list),
                   ("history", list), ("label_signatures", dict)):
        if k in d and not isinstance(d[k], typ):
            bad(k, f"expected a {typ.__name__}")
    for name, spec in (d.get("metric_keys") or {}).items() if isinstance(d.get("metric_keys"), dict) else ():
        if not isinstance(spec, dict) or not isinstance(spec.get("key"), str) or not _num(spec.get("factor", 1.0)):
            bad(f"metric_keys.{name}", "expected {key: run accuracy key, factor: number}")
    rows = d.get("rows")
    if not isinstance(rows, list) or not rows:
        bad("rows", "expected a non-empty list of rows")
        rows = []
    seen: set = set()
    for i, r in enumerate(rows):
        where = f"rows[{i}]"
        if not isinstance(r, dict):
            bad(where, "expected an object")
            continue
        for k in sorted(set(r) - _ROW_KEYS):
            bad(f"{where}.{k}", f"unknown key; allowed: {sorted(_ROW_KEYS)}")
        for k in ("label", "condition", "metric"):
            if not isinstance(r.get(k), str) or not r.get(k):
                bad(f"{where}.{k}", "missing or not a string")
        if not _num(r.get("scale")) or not 0 < r.get("scale", 0) <= 1:
            bad(f"{where}.scale", f"{r.get('scale')!r}: expected a number in (0, 1]")
        if not isinstance(r.get("qp"), int) or isinstance(r.get("qp"), bool):
            bad(f"{where}.qp", f"{r.get('qp')!r}: expected an integer QP")
        if not _num(r.get("expected")):
            bad(f"{where}.expected", f"{r.get('expected')!r}: expected a finite number (no NaN: leave the row out)")
        for k in ("tolerance", "rel_tolerance"):
            if k in r and (not _num(r[k]) or r[k] < 0):
                bad(f"{where}.{k}", f"{r[k]!r}: expected a non-negative number")
        if "tolerance" not in r:
            bad(f"{where}.tolerance", "missing: state the absolute tolerance (0 for exact)")
        if "printed" in r:
            p = r["printed"]
            if not isinstance(p, str):
                bad(f"{where}.printed", "expected the figure as a string, exactly as printed")
            else:
                try:
                    if _num(r.get("expected")) and float(p) != r["expected"]:
                        bad(f"{where}.printed", f"{p!r} does not equal expected {r['expected']!r}")
                except ValueError:
                    bad(f"{where}.printed", f"{p!r} is not a number")
        try:
            key = (r.get("label"), round(float(r.get("scale")), 9), r.get("qp"), r.get("metric"))
        except (TypeError, ValueError):
            continue
        if key in seen:
            bad(where, f"duplicate row for label/scale/qp/metric {key}")
        seen.add(key)
    for i, h in enumerate(d.get("history") or [] if isinstance(d.get("history"), list) else []):
        if not isinstance(h, dict) or not isinstance(h.get("reason"), str) or not h.get("reason").strip():
            bad(f"history[{i}]", "every history entry needs a non-empty reason")
        elif set(h) - _HIST_KEYS:
            bad(f"history[{i}]", f"unknown key(s) {sorted(set(h) - _HIST_KEYS)}")
    return out


def anchor_from_dict(d: dict[str, Any], path: Path | None = None) -> Anchor:
    issues = validate_anchor_data(d, str(path or d.get("name", "anchor")))
    if issues:
        raise DataError("Invalid anchor file — " + "; ".join(issues) + ". Fix the file (see `vcmbench anchors --help`).")
    rows = [AnchorRow(label=r["label"], condition=r["condition"], scale=float(r["scale"]), qp=int(r["qp"]),
                      metric=r["metric"], expected=r["expected"], tolerance=float(r["tolerance"]),
                      rel_tolerance=float(r.get("rel_tolerance", 0.0)), unit=r.get("unit", ""),
                      printed=r.get("printed"), note=r.get("note", "")) for r in d["rows"]]
    return Anchor(name=d["name"], kind=d["kind"], title=d["title"], condition=d["condition"],
                  signature=d["signature"], source=d["source"], rows=rows, provenance=d.get("provenance", {}),
                  notes=list(d.get("notes", [])), tolerance_rule=d.get("tolerance_rule", ""),
                  metric_keys=dict(d.get("metric_keys", {})), rerun=d.get("rerun"),
                  reported=list(d.get("reported", [])), history=list(d.get("history", [])),
                  label_signatures=dict(d.get("label_signatures", {})), path=path)


def anchor_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    if not _NAME.match(name):
        raise UsageError(f"Invalid anchor name {name!r}: use lowercase letters, digits, '.', '_' and '-'.")
    return anchors_dir(directory) / f"{name}.json"


def load_anchor(name_or_path: str | os.PathLike, directory: str | os.PathLike | None = None) -> Anchor:
    """An anchor by name (from the store) or from a ``.json`` path."""
    p = Path(name_or_path)
    if p.suffix != ".json":
        p = anchor_path(str(name_or_path), directory)
        if not p.exists():
            avail = ", ".join(list_anchors(directory)) or "(none)"
            raise UsageError(f"Unknown anchor {str(name_or_path)!r} in {anchors_dir(directory)}. "
                             f"Available: {avail} — see `vcmbench anchors list`.")
    data = read_json(p)
    return anchor_from_dict(data, p)

