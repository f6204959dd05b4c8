"""Cross-check a proponent's package: verify every bitstream, recompute rate and accuracy, compare.

Per item the verdict is one of

* ``verified``   recomputed and within the tolerance (or: the bitstream decodes, has the stated
  format and, when given, the stated decoded MD5);
* ``differs``    recomputed and outside the tolerance (the difference is stated), or a
  bitstream whose format or decoded MD5 is not the stated one;
* ``failed``     a bitstream that does not decode (the reason is stated);
* ``unchecked``  could not be checked here (the reason is stated: no accuracy claim, the
  condition's task network or data absent, too few points for a BD-rate...).

The checker decides, never the package: tolerances (``DEFAULT_TOLERANCES``, overridden only by the
checker: ``tolerances=`` / ``--tolerance``), decoders, condition and task network come from the checking
side; a manifest field that tries to set them is reported as a ``package`` item and ignored.  A
package's own condition is "the proponent's condition" (``proponent.py``): read contained, compared
with the shipped condition of its name; a look-alike that differs is a ``differs`` item.  The
verdict says which condition the package was checked under (``CrossCheckResult.checked_under``).

Tolerances:
bits exact; bpp relative 1e-6 — or half a unit in the last digit of a figure claimed in a CSV,
when that is larger (the claim says how precisely it was printed); accuracy absolute 1e-4 (same
printed-digit rule); BD-rate absolute 0.01 percentage points.

The BD-rate items compare the claimed curve with the recomputed one (the BD-rate of the
recomputed curve against the claimed curve, 0 % when they agree) and, when an anchor curve is
given, the BD-rate of the claimed curve vs the anchor with that of the recomputed curve.
Where accuracy could not be recomputed the recomputed curve uses the claimed accuracy, and the
item says so.  A ``claimed_bd_rate_pct`` in the manifest is compared with the recomputed BD-rate
against the anchor.  Non-monotonic curves are refused unless an explicit remedy is given
(``bd_remedies``, named in the item).

Bitstreams are verified one (scale, QP) point at a time; that point's accuracy is recomputed from
its decoded pictures, which are then deleted, so the disk holds one point's pictures at most.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..core.errors import BDError, DataError, UsageError, VcmbenchError
from ..core.units import scale_pct, scale_text
from .anchor import anchor_curves_from
from .claims import Claims, find_claims_file, load_claims
from .manifest import CHECKER_SIDE, Item, ignored_text, load_manifest, stated_bd_rates
from .package import Limits, PackageRefused, open_package, resolve_member
from .proponent import PROPONENT, CheckedCondition, checked_condition, look_alike_of

STATUSES = ("verified", "differs", "failed", "unchecked")
DEFAULT_TOLERANCES = {"bits_abs": 0.0, "bpp_rel": 1e-6, "bpp_abs": 0.0, "accuracy_abs": 1e-4, "bd_rate_abs": 0.01}


@dataclass
class CheckItem:
    kind: str  # "bitstream" | "bits" | "bpp" | "accuracy" | "bd-rate" | "claims" | "package"
    name: str
    status: str
    claimed: Any = None
    recomputed: Any = None
    difference: float | None = None
    tolerance: float | None = None
    detail: str = ""
    scale: float | None = None  # the point the item is about (a fraction; shown and written in percent)
    qp: int | None = None

    @property
    def scale_pct(self) -> float | None:
        return None if self.scale is None else scale_pct(self.scale)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        del d["scale"]
        d["scale_pct"] = self.scale_pct  # JSON: the scale in percent (issue 24)
        return d


@dataclass
class CrossCheckResult:
    package: str
    proponent: str
    title: str
    condition: str | None
    label: str
    quality_key: str | None
    decoders: list[str]
    tolerances: dict[str, float]
    items: list[CheckItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # scale in percent ("75") -> {"qp": [...], "claimed": [(bpp, q)...], "recomputed": [(bpp, q)...]}
    curves: dict[str, Any] = field(default_factory=dict)
    checked_under: str = "no condition"  # which condition, and whose (CheckedCondition.describe)

    def counts(self) -> dict[str, int]:
        return {s: sum(i.status == s for i in self.items) for s in STATUSES}

    @property
    def ok(self) -> bool:
        c = self.counts()
        return c["differs"] == 0 and c["failed"] == 0

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "proponent": self.proponent, "title": self.title,
                "condition": self.condition, "label": self.label, "quality_key": self.quality_key,
                "decoders": self.decoders, "tolerances": self.tolerances, "counts": self.counts(),
                "verdict": "verified" if self.ok else "not verified", "checked_under": self.checked_under,
                "notes": self.notes,
                "curves": self.curves, "items": [i.to_dict() for i in self.items]}


# ``AccuracyFn(condition, manifest_items, data_dir, quality_key)`` builds a scorer (raising VcmbenchError
# with the reason when the accuracy cannot be recomputed here); the scorer, called with one point's
# ``[(item, decoded_yuv)]``, returns that point's accuracy.  Default: ``accuracy.AccuracyRecomputer``.
AccuracyFn = Callable[[Any, list[Item], "str | Path | None", "str | None"],
                      Callable[[list[tuple[Item, Path]]], float]]


def _half_unit(printed: str | None) -> float:
    if not printed:
        return 0.0
    from ..anchors import half_unit_of

    try:
        float(printed)
    except ValueError:
        return 0.0
    if "e" in printed.lower():
        return 0.0
    return half_unit_of(printed)


def _compare(kind: str, name: str, claimed: float, recomputed: float, tol: float, detail: str = "") -> CheckItem:
    diff = recomputed - claimed
    ok = abs(diff) <= tol
    return CheckItem(kind, name, "verified" if ok else "differs", claimed, recomputed, diff, tol, detail)


def _point_name(scale: float, qp: int) -> str:
    return f"scale {scale_text(scale)} QP {qp}"


def _at(item: CheckItem, scale: float, qp: int | None = None) -> CheckItem:
    """``item`` marked with the (scale, QP) point it is about (the reports' scale and QP columns)."""
    item.scale, item.qp = float(scale), qp
    return item


def _too_big(path: Path, limits: Limits) -> str:
    """Why a bitstream is not decoded (too large a file, too many pictures), or ''."""
    from ..coding.bitstream import read_bitstream

    size = path.stat().st_size
    if size > limits.max_bitstream:
        return f"not decoded: {size} bytes is over the limit of {limits.max_bitstream} bytes per bitstream"
    try:
        info = read_bitstream(path)
    except Exception:  # noqa: BLE001 - unparseable input: verify_bitstream gives the verdict
        return ""
    if info.pictures > limits.max_pictures:
        return f"not decoded: {info.pictures} coded pictures (limit {limits.max_pictures} for an image bitstream)"
    return ""


def _verify_items(root: Path, todo: list[tuple[int, Item]], decoders: Sequence[str], keep_dir: Path | None,
                  timeout: float, limits: Limits = Limits(), executor: Any = None,
                  ) -> tuple[list[CheckItem], dict[int, Path], dict[int, int]]:
    """Verify the items' bitstreams: the checks that need no decoder here, then every decode on ``executor``
    (the run executor; ``None``: in this process), results in the manifest's order."""
    from ..coding.verify import verify_many
    from ..coding.yuv import YuvFormat

    slots: list[CheckItem | None] = []
    calls: list[dict[str, Any]] = []
    pending: list[tuple[int, int, Item, str, Any]] = []  # (slot, k, item, name, fmt)
    bits: dict[int, int] = {}
    for k, it in todo:
        name = f"{it.image} {_point_name(it.scale, it.qp)}"
        try:
            path = resolve_member(root, it.bitstream)
        except PackageRefused:
            raise
        except DataError as exc:
            slots.append(CheckItem("bitstream", name, "failed", it.bitstream, None, None, None, str(exc)))
            continue
        bits[k] = 8 * path.stat().st_size
        too_big = _too_big(path, limits)
        if too_big:
            slots.append(CheckItem("bitstream", name, "failed", it.bitstream, None, None, None, too_big))
            continue
        try:
            fmt = YuvFormat(it.width, it.height, it.chroma_format, it.bit_depth)
        except VcmbenchError as exc:
            slots.append(CheckItem("bitstream", name, "unchecked", detail=f"the manifest's format is invalid: {exc}"))
            continue
        keep = keep_dir / f"{k:06d}.yuv" if keep_dir is not None else None
        calls.append({"path": path, "expected": fmt, "md5": it.decoded_md5, "decoders": tuple(decoders),
                      "timeout": timeout, "keep_decoded": keep})
        pending.append((len(slots), k, it, name, fmt))
        slots.append(None)
    decoded: dict[int, Path] = {}
    for (slot, k, it, name, fmt), v in zip(pending, verify_many(calls, executor)):
        claimed = it.decoded_md5 or f"{fmt.width}x{fmt.height} {fmt.chroma}/{fmt.bit_depth}-bit"
        if v.ok:
            detail = f"decodes with {', '.join(decoders)}; format as stated"
            detail += "; decoded MD5 matches" if it.decoded_md5 else "; no decoded MD5 given (decodability and format only)"
            slots[slot] = CheckItem("bitstream", name, "verified", claimed, v.decoded_md5, None, None, detail)
            if v.decoded is not None:
                decoded[k] = v.decoded
        elif v.reason.startswith("not decodable"):
            slots[slot] = CheckItem("bitstream", name, "failed", claimed, None, None, None, v.reason)
        else:
            slots[slot] = CheckItem("bitstream", name, "differs", claimed, v.decoded_md5, None, None, v.reason)
    for (_, it), c in zip(todo, slots):  # one slot per item, in order
        if c is not None:
            _at(c, it.scale, it.qp)
    items = [c for c in slots if c is not None]
    return items, decoded, bits


def _curve(points: dict[tuple[float, int], tuple[float, float]], scale: float) -> list[tuple[float, float]]:
    return [v for (s, _), v in sorted(points.items(), key=lambda kv: kv[0][1]) if abs(s - scale) < 1e-9]


def _bd_items(claimed: dict, recomputed: dict, anchor: dict | None, method: str, tol: float,
              acc_note: str, stated: dict[float, float] | None = None, remedies: Sequence[str] = ()
              ) -> list[CheckItem]:
    from .. import bd

    out = []
    if remedies:
        acc_note += f"; non-monotonic points handled by the remedy {'+'.join(remedies)}"
        method_label = bd.signature_part(method, remedies)
    else:
        method_label = method
    stated = stated or {}
    for scale in sorted({s for s, _ in claimed}, reverse=True):
        said = stated.get(scale, stated.get(-1.0))
        if said is not None and anchor is None:
            out.append(_at(CheckItem("bd-rate", f"scale {scale_text(scale)}: stated BD-rate vs anchor", "unchecked", said,
                                     detail="the package states a BD-rate but no anchor curve was given (--anchor)"),
                           scale))
        c, r = _curve(claimed, scale), _curve(recomputed, scale)
        name = f"scale {scale_text(scale)}: recomputed vs claimed curve"
        try:
            res = bd.compare(c, r, method, remedies=remedies)
            out.append(_at(_compare("bd-rate", name, 0.0, res.bd_rate_pct, tol,
                                    f"BD-rate ({method_label}) of the recomputed curve against the claimed one; 0 % "
                                    f"when they agree{acc_note}"), scale))
        except BDError as exc:
            out.append(_at(CheckItem("bd-rate", name, "unchecked", detail=f"BD-rate not computable: {exc}"), scale))
        if anchor is None:
            continue
        a = anchor.get(scale)
        name = f"scale {scale_text(scale)}: BD-rate vs anchor"
        if not a:
            out.append(_at(CheckItem("bd-rate", name, "unchecked",
                                     detail=f"the anchor has no curve at scale {scale_text(scale)}"), scale))
            continue
        try:
            rc = bd.compare(a, c, method, remedies=remedies).bd_rate_pct
            rr = bd.compare(a, r, method, remedies=remedies).bd_rate_pct
            out.append(_at(_compare("bd-rate", name, rc, rr, tol,
                                    f"BD-rate ({method_label}, %) against the anchor from the claimed and from the "
                                    f"recomputed figures{acc_note}"), scale))
            if said is not None:
                out.append(_at(_compare("bd-rate", f"scale {scale_text(scale)}: stated BD-rate vs anchor", said, rr,
                                        tol, f"the BD-rate the package states vs the one recomputed ({method_label}, "
                                        f"%){acc_note}"), scale))
        except BDError as exc:
            out.append(_at(CheckItem("bd-rate", name, "unchecked", detail=f"BD-rate vs anchor not computable: {exc}"),
                           scale))
    return out


def default_decoders() -> tuple[list[str], str]:
    """The decoders of `vcmbench run` (``run.pipeline.default_decoders``, the one function that decides them):
    PyAV and FFmpeg, plus VTM's DecoderApp — the reference decoder — when VTM is configured; the note says which."""
    from ..run.pipeline import default_decoders as run_default

    decs = list(run_default(""))
    names = {"pyav": "FFmpeg's VVC decoder in-process (PyAV)", "ffmpeg": "the FFmpeg executable",
             "vtm": "VTM DecoderApp (the reference decoder)"}
    note = "decoded with " + ", ".join(names.get(d, d) for d in decs) + " (the decoders of `vcmbench run`)"
    if "vtm" not in decs:
        note += ("; VTM DecoderApp (the reference decoder) is not configured: set VCMBENCH_VTM_DIR or pass "
                 "--decoder vtm with it to include it")
    return decs, note


def crosscheck(package: str | Path, *, work_dir: str | Path | None = None, decoders: Sequence[str] | None = None,
               condition: str | None = None, tolerances: dict[str, float] | None = None,
               anchor_curves: dict[float, list[tuple[float, float]]] | str | None = None,
               accuracy_fn: AccuracyFn | None | str = "auto", data_dir: str | Path | None = None,
               bd_method: str | None = None, bd_remedies: Sequence[str] = (), limits: Limits = Limits(),
               timeout: float = 60.0, executor: Any = None) -> CrossCheckResult:
    """Cross-check a package (directory or zip); see the module docstring.  Never prints.

    ``anchor_curves``: {scale: [(bpp, quality)]} or a source for ``anchor_curves_from``.
    ``executor``: the run executor the bitstream verifications run on (``None``: in this process)."""
    from ..bd import REMEDIES

    unknown = [r for r in bd_remedies if r not in REMEDIES]
    if unknown:
        raise UsageError(f"Unknown non-monotonicity remedy {unknown[0]!r}. Available: {', '.join(REMEDIES)}.")
    tmp = None
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="vcmbench-crosscheck-")
        work_dir = tmp.name
    try:
        return _crosscheck(Path(package), Path(work_dir), decoders, condition, tolerances, anchor_curves,
                           accuracy_fn, data_dir, bd_method, tuple(bd_remedies), limits, timeout, executor)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _condition_items(c: CheckedCondition) -> list[CheckItem]:
    """The ``condition`` item of a proponent's condition (none for the checker's own)."""
    if c.file is None:
        return []
    name = f"the proponent's condition {c.file}"
    claimed = f"#{c.condition.content_hash} sha256 {c.sha256}"
    prose = f"; prose differs ({', '.join(c.prose)}: no number depends on it)" if c.prose else ""
    if c.source != PROPONENT:
        return [CheckItem("condition", name, "verified", claimed, f"shipped {c.shipped!r}",
                          detail=f"same settings as the shipped condition {c.shipped!r}: checked under the shipped "
                                 f"condition{prose}")]
    if c.differences:
        return [CheckItem("condition", name, "differs", claimed, f"shipped {c.shipped!r}",
                          detail=f"a look-alike of the shipped condition {c.shipped!r}, which it differs from in: "
                                 + "; ".join(c.differences) + prose)]
    return [CheckItem("condition", name, "unchecked", claimed,
                      detail=f"no shipped condition is named {c.condition.name!r}: checked under the proponent's "
                             "condition as given (compare it with the condition the proposal should use)")]


def _crosscheck(package: Path, work: Path, decoders, condition, tolerances, anchor_curves, accuracy_fn, data_dir,
                bd_method, bd_remedies, limits, timeout, executor=None) -> CrossCheckResult:
    root = open_package(package, work, limits)
    manifest = load_manifest(root, limits)
    dec_note = ""
    if not decoders:
        decoders, dec_note = default_decoders()
    tol = {**DEFAULT_TOLERANCES, **(tolerances or {})}  # the checker's: never the manifest's
    pkg_items = [CheckItem("package", f"manifest field {k!r}", "unchecked", ignored_text(v),
                           detail=f"ignored: the package only claims; this is set by {CHECKER_SIDE[k]}")
                 for k, v in manifest.ignored.items()]
    cond_name = condition or manifest.condition
    cond, cond_reason, checked = None, "", None
    notes: list[str] = []
    if manifest.unknown:
        notes.append("manifest field(s) not used by this vcmbench (ignored): "
                     + ", ".join(ignored_text(k, 40) for k in manifest.unknown[:10]))
    if condition and manifest.condition and condition != manifest.condition:
        notes.append(f"condition {condition!r} given on the command line replaces the manifest's "
                     f"{manifest.condition!r}")
    if cond_name:
        try:
            checked = checked_condition(cond_name, root, trusted=bool(condition))
            cond = checked.condition
        except PackageRefused:
            raise  # a condition that reaches outside the package: the package is refused (nothing read)
        except VcmbenchError as exc:
            cond_reason = f"condition {cond_name!r} is not known to this vcmbench ({exc})"
            if not condition and cond_name.lower().endswith((".yaml", ".yml")):
                like = look_alike_of(cond_name, root)  # a modified look-alike that does not even load: differs
                pkg_items.append(CheckItem("condition", f"the proponent's condition {cond_name}",
                                           "differs" if like else "unchecked",
                                           detail=(f"named like the shipped condition {like!r} but not usable; "
                                                   if like else "not usable; ")
                                           + f"nothing checked under it: {exc}"))
    else:
        cond_reason = "no condition named (manifest 'condition' or --condition)"
    if cond_reason:
        notes.append(cond_reason)
    if checked is not None:
        pkg_items += _condition_items(checked)
    qkey = manifest.quality_key or (cond.metric.get("quality_key") if cond else None)
    if cond is not None and manifest.quality_key and manifest.quality_key != cond.metric.get("quality_key"):
        notes.append(f"the claims are in {manifest.quality_key!r} (the manifest's quality_key), not the condition's "
                     f"{cond.metric.get('quality_key')!r}: that accuracy is recomputed and compared")
    method = bd_method or (cond.bd_method if cond else "pchip-jvet")
    if isinstance(anchor_curves, str):
        anchor_curves = anchor_curves_from(anchor_curves, quality_key=qkey)
    res = CrossCheckResult(package=str(package), proponent=manifest.proponent, title=manifest.title,
                           condition=cond_name, label=manifest.label, quality_key=qkey, decoders=list(decoders),
                           tolerances=tol, notes=notes + ([dec_note] if dec_note else []),
                           checked_under=checked.describe() if checked else f"no condition ({cond_reason})")
    res.items += pkg_items
    # claims
    claims: Claims | None = None
    cname = find_claims_file(root, manifest.claims)
    if cname is None:
        res.items.append(CheckItem("claims", "claims file", "unchecked",
                                   detail="the package has no claims.csv / claims.xlsx: no claimed figure to compare"))
    else:
        claims = load_claims(resolve_member(root, cname), qkey, limits)
        res.notes += claims.notes
    # 1. bitstreams, verified point by point; the accuracy of a point is recomputed right after its
    #    pictures are decoded, and the decoded pictures are deleted (disk use: one point at a time)
    groups: dict[tuple[float, int], list[int]] = {}
    for k, it in enumerate(manifest.items):
        groups.setdefault((round(it.scale, 9), it.qp), []).append(k)
    order = sorted(groups, key=lambda key: (-key[0], key[1]))
    acc_fn, acc_reason = None, ""
    if claims is None or claims.accuracy_column is None:
        acc_reason = "no accuracy claimed"
    elif accuracy_fn is None:
        acc_reason = "accuracy recomputation switched off (--no-accuracy)"
    elif cond is None:
        acc_reason = cond_reason
    else:
        factory = accuracy_fn
        if factory == "auto":
            from .accuracy import AccuracyRecomputer as factory  # noqa: N813
        try:
            acc_fn = factory(cond, list(manifest.items), data_dir, qkey)
        except VcmbenchError as exc:
            acc_reason = str(exc)
    bit_items: list[CheckItem] = []
    bits: dict[int, int] = {}
    rec_acc: dict[tuple[float, int], float] = {}
    unverified: set[tuple[float, int]] = set()
    for key in order:
        ks = groups[key]
        keep = work / "decoded" if acc_fn is not None and claims.get(*key) is not None else None
        its, decoded, bits_g = _verify_items(root, [(k, manifest.items[k]) for k in ks], decoders, keep, timeout,
                                             limits, executor)
        bit_items += its
        bits.update(bits_g)
        if keep is None:
            continue
        if len(decoded) < len(ks):
            unverified.add(key)
        elif acc_fn is not None:
            try:
                rec_acc[key] = acc_fn([(manifest.items[k], decoded[k]) for k in ks])
            except VcmbenchError as exc:
                acc_reason, acc_fn = str(exc), None
            except Exception as exc:  # noqa: BLE001 - untrusted pictures must not crash the report; reason shown
                acc_reason, acc_fn = f"the recomputation failed ({type(exc).__name__}: {exc})", None
        for p in decoded.values():
            p.unlink(missing_ok=True)
    res.items += bit_items
    # 2. rate per (scale, QP)
    from ..metrics.rate import dataset_bpp

    rec_bpp = {}
    for key in order:
        ks = groups[key]
        lost = [manifest.items[k].bitstream for k in ks if k not in bits]
        if lost:
            claim = claims.get(*key) if claims else None
            res.items.append(_at(CheckItem("bpp", _point_name(*key), "unchecked",
                                           claim.values["bpp"] if claim else None,
                                           detail=f"bitstream file(s) missing from the package: {lost[:3]}"), *key))
            continue
        total = sum(bits[k] for k in ks)
        bpp = dataset_bpp([bits[k] for k in ks], [manifest.items[k].pixels for k in ks])
        rec_bpp[key] = bpp
        name = _point_name(*key)
        claim = claims.get(*key) if claims else None
        if claim is None:
            res.items.append(_at(CheckItem("bpp", name, "unchecked", None, bpp,
                                           detail="no claim for this point" if claims else "no claims file"), *key))
            continue
        if "bits" in claim.values:
            res.items.append(_at(_compare("bits", name, claim.values["bits"], float(total), tol["bits_abs"],
                                          f"sum of 8 x bitstream file size over {len(ks)} bitstream(s)"), *key))
        t = max(tol["bpp_abs"] + tol["bpp_rel"] * abs(claim.values["bpp"]), _half_unit(claim.printed.get("bpp")))
        res.items.append(_at(_compare("bpp", name, claim.values["bpp"], bpp, t,
                                      f"sum of bits / sum of original pixels over {len(ks)} image(s)"), *key))
    if claims:
        for c in claims.rows:
            if (round(c.scale, 9), c.qp) not in groups:
                res.items.append(_at(CheckItem("bpp", _point_name(c.scale, c.qp), "unchecked", c.values["bpp"],
                                               detail="claimed, but the package has no bitstream for this point"),
                                     c.scale, c.qp))
    # 3. accuracy
    if claims is not None and claims.accuracy_column is not None:
        for c in claims.rows:
            key = (round(c.scale, 9), c.qp)
            if key in rec_acc:
                t = max(tol["accuracy_abs"], _half_unit(c.printed.get("accuracy")))
                detail = f"{qkey} recomputed from the decoded bitstreams"
                if c.values["accuracy"] > 1.0 >= rec_acc[key]:
                    detail += "; the claim looks like a percentage: claims must use the condition's units (fractions)"
                res.items.append(_at(_compare("accuracy", _point_name(*key), c.values["accuracy"], rec_acc[key], t,
                                              detail), *key))
                continue
            if key in unverified:
                why = "a bitstream of this point did not verify: accuracy not recomputed"
            elif key not in groups:
                why = f"could not recompute {qkey}: no bitstream for this point"
            else:
                why = f"could not recompute {qkey}: {acc_reason or 'not recomputed'}"
            res.items.append(_at(CheckItem("accuracy", _point_name(*key), "unchecked", c.values["accuracy"],
                                           detail=why), *key))
    # 4. BD-rate
    if claims is not None and claims.accuracy_column is not None:
        claimed_pts, rec_pts = {}, {}
        for c in claims.rows:
            key = (round(c.scale, 9), c.qp)
            claimed_pts[key] = (c.values["bpp"], c.values["accuracy"])
            if key in rec_bpp:
                rec_pts[key] = (rec_bpp[key], rec_acc.get(key, c.values["accuracy"]))
        missing_acc = [k for k in rec_pts if k not in rec_acc]
        note = "; accuracy not recomputed at every point: the claimed accuracy is used there" if missing_acc else ""
        claimed_pts = {k: v for k, v in claimed_pts.items() if k in rec_pts}
        # keyed by the scale in percent ("75"); each point named by its QP
        res.curves = {f"{scale_pct(s):g}": {"qp": [q for (sc, q) in sorted(claimed_pts, key=lambda k: k[1])
                                                   if abs(sc - s) < 1e-9],
                                            "claimed": _curve(claimed_pts, s), "recomputed": _curve(rec_pts, s)}
                      for s in sorted({k[0] for k in claimed_pts}, reverse=True)}
        if claimed_pts:
            res.items += _bd_items(claimed_pts, rec_pts, anchor_curves, method, tol["bd_rate_abs"], note,
                                   stated_bd_rates(manifest.extra), bd_remedies)
    return res
