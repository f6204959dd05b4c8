"""A package's manifest (``manifest.json`` or ``manifest.csv``; layout: ``package.py``), read as untrusted data.

Every field has one type and a wrong type is a ``DataError`` naming the field (exit code 2), never
a traceback or a silent conversion (``"qp": true`` is not QP 1).  Nesting deeper than
``MAX_DEPTH`` is refused.  Names are data: an item's ``image`` matches ``SAFE_ID`` and every path
the manifest names (bitstreams, the claims file, a condition file) is a plain package member
(``package.check_member_name``), so nothing a proponent writes reaches a command line or a file
name as anything but a plain name.

The package only claims.  Fields that would set what the checker decides (``CHECKER_SIDE``:
tolerances, decoders, the task network, the BD method...) are kept in ``Manifest.ignored``, reported
in the cross-check report and otherwise ignored; other unknown fields are listed in a note.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DataError
from ..core.inputs import csv_rows
from .package import Limits, PackageRefused, check_member_name

FORMAT_VERSION = 2  # 2: items give ``scale_pct`` (percent); 1: ``scale`` (a fraction, or 1-100 read as percent)
READ_VERSIONS = (1, 2)  # both are read: a version-1 package of an earlier vcmbench is checked as it was
MAX_DEPTH = 32  # a manifest is 3 levels deep (object, items, item)
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")  # an image id: reaches file names and reports
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_ITEM_INT = ("qp", "width", "height", "chroma_format", "bit_depth", "original_width", "original_height")
TOLERANCE_KEYS = ("bits_abs", "bpp_rel", "bpp_abs", "accuracy_abs", "bd_rate_abs")
TEXT_FIELDS = ("proponent", "title", "label", "codec")
KNOWN = ("vcmbench_crosscheck", "condition", "claims", "quality_key", "claimed_bd_rate_pct", "items", *TEXT_FIELDS)
# manifest fields that try to set what the checker decides -> where the checker sets it
CHECKER_SIDE = {
    "tolerances": "the checker's tolerances (defaults, or --tolerance on the command line)",
    "tolerance": "the checker's tolerances (defaults, or --tolerance on the command line)",
    "decoders": "the checker's decoders (--decoder)", "decoder": "the checker's decoders (--decoder)",
    "network": "the condition's task network", "task": "the condition's task network",
    "task_network": "the condition's task network", "weights": "the condition's task network",
    "bd_method": "the condition's BD method", "bd_remedies": "the checker's --remedy",
    "remedies": "the checker's --remedy", "limits": "the checker's limits (--max-bytes)",
    "max_bytes": "the checker's limits (--max-bytes)", "strict": "the checker's --strict",
    "data_dir": "the checker's --data", "anchor": "the checker's --anchor",
}


@dataclass
class Item:
    image: str
    scale: float
    qp: int
    bitstream: str  # package-relative
    width: int
    height: int
    chroma_format: int
    bit_depth: int
    original_width: int
    original_height: int
    decoded_md5: str | None = None

    @property
    def pixels(self) -> int:
        return self.original_width * self.original_height


@dataclass
class Manifest:
    condition: str | None
    items: list[Item]
    claims: str | None = None
    proponent: str = ""
    title: str = ""
    label: str = "proposal"
    codec: str = ""
    quality_key: str | None = None
    ignored: dict[str, Any] = field(default_factory=dict)  # checker-side fields the package tried to set
    unknown: list[str] = field(default_factory=list)  # other fields this vcmbench does not read
    extra: dict[str, Any] = field(default_factory=dict)  # claimed_bd_rate_pct


def _read_text(path: Path, limits: Limits) -> str:
    if path.stat().st_size > limits.max_manifest:
        raise PackageRefused(f"{path.name} is larger than {limits.max_manifest} bytes.")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path.name} is not UTF-8 text; save it as UTF-8.") from None


def _check_depth(obj: Any, what: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > MAX_DEPTH:
            raise DataError(f"{what} is nested more than {MAX_DEPTH} levels deep; a manifest is an object with a "
                            "list of flat items — fix the file.")
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)


def _type_name(v: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", type(None): "null", str: "a string"}.get(
        type(v), "a number")


def _int(v: Any, where: str, key: str) -> int:
    ok = (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    if isinstance(v, str):
        try:
            f = float(v.strip())
            ok = math.isfinite(f) and f.is_integer()
            v = f
        except ValueError:
            ok = False
    if not ok:
        raise DataError(f"{where}: {key} = {str(v)[:40]!r} ({_type_name(v)}) is not an integer; write a whole number.")
    return int(v)


def _str(v: Any, where: str, key: str, limit: int = 4096) -> str:
    if not isinstance(v, str):
        raise DataError(f"{where}: {key} must be a string, not {_type_name(v)}; write it in quotes.")
    if len(v) > limit:
        raise DataError(f"{where}: {key} is longer than {limit} characters; shorten it.")
    return v


def check_image_id(v: Any, where: str) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)  # a numeric COCO id
    v = _str(v, where, "image")
    if not SAFE_ID.match(v):
        raise PackageRefused(f"{where}: image {v[:80]!r} is not a plain image id (letters, digits, '.', '_', '-', "
                             "starting with a letter or digit; no space or shell metacharacter): image ids reach "
                             "file names and reports — use the dataset's image id.")
    return v


def _scale_number(sv: Any, where: str, key: str) -> float:
    try:
        if isinstance(sv, bool) or not isinstance(sv, (int, float, str)):
            raise TypeError
        v = float(sv.strip().rstrip("%") if isinstance(sv, str) else sv)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key} = {str(sv)[:40]!r} ({_type_name(sv)}) is not a number.") from None
    if not math.isfinite(v):
        raise DataError(f"{where}: {key} {sv!r} is not a finite number.")
    return v


def item_scale(d: dict[str, Any], where: str) -> float:
    """An item's scale as a fraction: ``scale_pct`` (percent, in (0, 100]; what this vcmbench writes) or, as in
    version-1 packages, ``scale`` (a fraction in (0, 1], or 1-100 read as percent).  Both given: they must agree."""
    pct = d.get("scale_pct")
    frac = d.get("scale")
    out = None
    if pct not in (None, ""):
        v = _scale_number(pct, where, "scale_pct")
        if not 0 < v <= 100:
            raise DataError(f"{where}: scale_pct {pct!r} is outside (0, 100]; write the scale in percent (e.g. 75).")
        out = v / 100.0
    if frac not in (None, ""):
        v = _scale_number(frac, where, "scale")
        if 1 < v <= 100:
            v /= 100.0  # given in percent
        if not 0 < v <= 1:
            raise DataError(f"{where}: scale {frac!r} is outside (0, 1] (or 1-100 %); write scale_pct in percent.")
        if out is not None and abs(out - v) > 1e-9:
            raise DataError(f"{where}: scale {frac!r} and scale_pct {pct!r} disagree; give scale_pct only.")
        out = v if out is None else out
    assert out is not None
    return out


def _item(d: Any, where: str, limits: Limits = Limits()) -> Item:
    if not isinstance(d, dict):
        raise DataError(f"{where}: expected an object with image, scale, qp, bitstream, ... (got {_type_name(d)}).")
    missing = [k for k in ("image", "qp", "bitstream", "width", "height", "original_width",
                           "original_height") if d.get(k) in (None, "")]
    if d.get("scale") in (None, "") and d.get("scale_pct") in (None, ""):
        missing.insert(1, "scale_pct")
    if missing:
        raise DataError(f"{where}: missing {missing}. Each item needs image, scale_pct (or scale), qp, bitstream, "
                        "width, height, original_width, original_height (chroma_format 420 and bit_depth 10 by "
                        "default).")
    out: dict[str, Any] = {"image": check_image_id(d["image"], where),
                           "bitstream": _str(d["bitstream"], where, "bitstream")}
    defaults = {"chroma_format": 420, "bit_depth": 10}
    for k in _ITEM_INT:
        v = d.get(k)
        out[k] = _int(defaults[k] if v in (None, "") and k in defaults else v, where, k)
    out["scale"] = item_scale(d, where)
    for k in ("width", "height", "original_width", "original_height"):
        if out[k] <= 0:
            raise DataError(f"{where}: {k} must be positive.")
    for w, h in (("width", "height"), ("original_width", "original_height")):
        if out[w] * out[h] > limits.max_pixels:
            raise PackageRefused(f"{where}: {out[w]}x{out[h]} is larger than the limit of {limits.max_pixels} pixels.")
    md5 = d.get("decoded_md5") or None
    if md5 is not None:
        md5 = _str(md5, where, "decoded_md5").strip().lower()
        if not _MD5.match(md5):
            raise DataError(f"{where}: decoded_md5 {d['decoded_md5']!r} is not 32 hex digits.")
    out["decoded_md5"] = md5
    check_member_name(out["bitstream"])
    return Item(**out)


def _meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The manifest's top-level fields, each of its one type (DataError naming the field otherwise)."""
    where = "manifest.json"
    out: dict[str, Any] = {}
    for k in TEXT_FIELDS:
        if meta.get(k) is not None:
            out[k] = _str(meta[k], where, k)
    for k in ("condition", "claims", "quality_key"):
        if meta.get(k) not in (None, ""):
            out[k] = _str(meta[k], where, k, 1024)
    if "claims" in out:
        check_member_name(out["claims"])
    if "condition" in out and out["condition"].lower().endswith((".yaml", ".yml")):
        check_member_name(out["condition"])
    bd = meta.get("claimed_bd_rate_pct")
    if bd is not None:
        vals = list(bd.values()) if isinstance(bd, dict) else [bd]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vals):
            raise DataError(f"{where}: claimed_bd_rate_pct must be a finite number or an object "
                            "{scale: number}.")
        out["claimed_bd_rate_pct"] = bd
    return out


def load_manifest(root: Path, limits: Limits = Limits()) -> Manifest:
    """Read and validate ``manifest.json`` (or ``manifest.csv``) of a package root."""
    mj, mc = root / "manifest.json", root / "manifest.csv"
    if mj.is_file() and not mj.is_symlink():
        try:
            d = json.loads(_read_text(mj, limits))
        except json.JSONDecodeError as exc:
            raise DataError(f"manifest.json is not valid JSON (line {exc.lineno}): {exc.msg}.") from None
        except RecursionError:
            raise DataError(f"manifest.json is nested too deeply to read (more than {MAX_DEPTH} levels); a "
                            "manifest is an object with a list of flat items — fix the file.") from None
        if not isinstance(d, dict):
            raise DataError("manifest.json must be a JSON object.")
        _check_depth(d, "manifest.json")
        ver = d.get("vcmbench_crosscheck", FORMAT_VERSION)
        if isinstance(ver, bool) or not isinstance(ver, (int, float)) or ver not in READ_VERSIONS:
            raise DataError(f"manifest.json: vcmbench_crosscheck {str(ver)[:40]!r} is not supported (this vcmbench "
                            f"reads {', '.join(map(str, READ_VERSIONS))}); build the package with "
                            "`vcmbench package` or write a supported version.")
        raw_items = d.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise DataError("manifest.json: 'items' must be a non-empty list of bitstream entries.")
        meta = {k: v for k, v in d.items() if k != "items"}
    elif mc.is_file() and not mc.is_symlink():
        rows = csv_rows(_read_text(mc, limits), "manifest.csv", what="Manifest")
        rows = [r for r in rows if any(c.strip() for c in r)]
        if len(rows) < 2:
            raise DataError("manifest.csv has no rows (a header and one row per bitstream).")
        raw_items = [dict(zip(rows[0], r)) for r in rows[1:]]
        meta = {}
    else:
        raise DataError("The package has no manifest.json or manifest.csv.")
    if len(raw_items) > limits.max_items:
        raise PackageRefused(f"The manifest lists {len(raw_items):,} items ({limits.describe('max_items')}).")
    items = [_item(r, f"manifest item {i + 1}", limits) for i, r in enumerate(raw_items)]
    keys = [(it.image, round(it.scale, 9), it.qp) for it in items]
    dup = sorted(k for k, n in Counter(keys).items() if n > 1)
    if dup:
        raise DataError(f"The manifest lists the same (image, scale, QP) twice: {dup[:3]}.")
    m = _meta(meta)
    return Manifest(condition=m.get("condition"), items=items, claims=m.get("claims"),
                    proponent=m.get("proponent", ""), title=m.get("title", ""), label=m.get("label", "proposal"),
                    codec=m.get("codec", ""), quality_key=m.get("quality_key"),
                    ignored={k: v for k, v in meta.items() if k in CHECKER_SIDE},
                    unknown=sorted(k for k in meta if k not in KNOWN and k not in CHECKER_SIDE),
                    extra={k: m[k] for k in ("claimed_bd_rate_pct",) if k in m})


def ignored_text(value: Any, limit: int = 200) -> str:
    """A short, plain rendering of a value the package tried to set (for the report)."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def stated_bd_rates(extra: dict[str, Any]) -> dict[float, float]:
    """The manifest's ``claimed_bd_rate_pct``: a number (every scale) or {scale: number}, the scale as a fraction
    or in percent (``"75"``, ``"75 %"``); keys are returned as fractions."""
    v = extra.get("claimed_bd_rate_pct")
    if v is None:
        return {}
    items = v.items() if isinstance(v, dict) else [("*", v)]
    out = {}
    for k, x in items:
        try:
            if k == "*":
                out[-1.0] = float(x)
                continue
            sc = float(str(k).strip().rstrip("%"))
            out[round(sc / 100.0 if 1 < sc <= 100 else sc, 9)] = float(x)
        except (TypeError, ValueError):
            raise DataError(f"manifest.json: claimed_bd_rate_pct {str(v)[:80]!r} must be a number or {{scale: number}}.") from None
    return out
