"""Read rate-quality curves for ``vcmbench bdrate`` and ``vcmbench report``.

Inputs (``load_curves``):

* a vcmbench result set (``*.json`` with ``points``) or a run directory: one curve per scale,
  rate = ``bpp`` (or ``bits``), quality = the set's ``quality_key`` unless ``quality_col`` names
  another accuracy key;
* a CSV/TSV with a header row: vcmbench's own ``results --csv``, CompressAI-Vision's per-run
  ``summary.csv`` (``Dataset, qp, avg_bpp | bitrate (kbps), end_accuracy, ...``) and its final
  template CSV (``final_<DATASET>.csv``: the same columns after an unnamed index column, accuracy in
  percent, detection and segmentation rows in one file);
* a CompressAI-style JSON (``{"name": ..., "results": {"bpp": [...], "<metric>": [...], ...}}``).

Columns are matched case-insensitively.  Without ``rate_col`` the first present of
``RATE_COLS`` is used; without ``quality_col`` the column a ``quality_key`` column names (vcmbench's
own CSV), else the first present of ``QUALITY_COLS`` (mAP, map50, AP, end_accuracy, ...).  Rows are
grouped into one curve per **group** and scale: the group is the value of every present column of
``GROUP_COLS`` (``Dataset``, ``sequence``, ``class``, ``condition``), so a two-dataset CSV gives
two curves and one BD per dataset.  A ``scale`` column gives one curve per scale, written as
percent (``100``, ``75``) or as a fraction (``1``, ``0.75``); a value of 1 or less is a fraction.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..core.errors import DataError
from ..core.inputs import csv_rows, read_text
from .curves import CurveSet, Key  # noqa: F401  (re-exported: callers import them from here)
from .model import bd_signature, twins
from .summaries import point_name

RATE_COLS = ("bpp", "avg_bpp", "bitrate (kbps)", "kbps", "bitrate", "bits")
QUALITY_COLS = ("mAP", "map50", "AP", "end_accuracy", "mIoU", "MOTA", "accuracy", "psnr")
GROUP_COLS = ("dataset", "sequence", "class", "condition")
RATE_POINT_COLS = ("bpp", "bits")
MAX_INPUT_BYTES = 64 * 1024 * 1024


def scale_value(text: str | float) -> float:
    """A scale as a fraction from percent (75) or a fraction (0.75); refuses anything else."""
    v = float(text)
    if not math.isfinite(v) or v <= 0 or v > 100:
        raise ValueError(f"scale {text!r} is not a percentage in (0, 100]")
    return v / 100.0 if v > 1 else v


def _pick(header: list[str], wanted: str | None, choices: tuple[str, ...], what: str, path: Path) -> str:
    names = [wanted] if wanted else list(choices)
    lower = {h.strip().lower(): h for h in header}
    for n in names:
        if n.strip().lower() in lower:
            return lower[n.strip().lower()]
    if wanted:
        raise DataError(f"{path}: no {what} column {wanted!r}; columns are {header}. Name the column with --{what}-col.")
    raise DataError(f"{path}: none of the {what} columns {list(choices)} is present; columns are {header}. "
                    f"Name the column with --{what}-col.")


def _float(text: str, path: Path, line: int, col: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise DataError(f"{path} line {line}: {col} value {text!r} is not a number.") from None
    if not math.isfinite(v):
        raise DataError(f"{path} line {line}: {col} value {text!r} is not finite.")
    return v


def _read_text(path: Path) -> str:
    if not path.exists():
        raise DataError(f"{path} does not exist. Give a CSV file, a result-set JSON or a run directory.")
    return read_text(path, "curve file", MAX_INPUT_BYTES).lstrip("\ufeff")


def read_csv_curves(path: str | Path, rate_col: str | None = None, quality_col: str | None = None) -> CurveSet:
    path = Path(path)
    text = _read_text(path)
    dialect = csv.excel_tab if path.suffix.lower() in (".tsv", ".tab") else csv.excel
    rows = csv_rows(text, path, dialect)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise DataError(f"{path}: expected a header row and at least one data row.")
    header = [h.strip() for h in rows[0]]
    lower = {h.lower(): h for h in header}
    if rate_col is None and "rate_key" in lower:  # vcmbench `results --csv` of a video run names its rate column
        kc = header.index(lower["rate_key"])
        named = {r[kc].strip() for r in rows[1:] if len(r) > kc and r[kc].strip()}
        if len(named) == 1:
            rate_col = named.pop()
    rc = _pick(header, rate_col, RATE_COLS, "rate", path)
    if quality_col is None and "quality_key" in lower:  # vcmbench `results --csv` names its quality column
        kc = header.index(lower["quality_key"])
        named = {r[kc].strip() for r in rows[1:] if len(r) > kc and r[kc].strip()}
        if len(named) == 1:
            quality_col = named.pop()
    qc = _pick(header, quality_col, QUALITY_COLS, "quality", path)
    sc = lower.get("scale")
    qpc = lower.get("qp")
    gcs = [lower[g] for g in GROUP_COLS if g in lower]
    curves: dict[Key, list[tuple[float, float]]] = {}
    qps: dict[Key, list[int | None]] = {}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise DataError(f"{path} line {n}: {len(row)} fields but the header has {len(header)}.")
        rec = dict(zip(header, row))
        scale = None
        if sc:
            try:
                scale = scale_value(rec.get(sc, ""))
            except ValueError:
                raise DataError(f"{path} line {n}: scale {rec.get(sc, '')!r} is not a percentage (100, 75, ...) "
                                "or a fraction (1, 0.75).") from None
        group = " / ".join(rec.get(g, "").strip() for g in gcs) if gcs else None
        key = (group, scale)
        curves.setdefault(key, []).append((_float(rec.get(rc, ""), path, n, rc), _float(rec.get(qc, ""), path, n, qc)))
        qp = None
        if qpc and rec.get(qpc, "").strip():
            try:
                qp = int(float(rec[qpc]))
            except ValueError:
                qp = None
        qps.setdefault(key, []).append(qp)
    from ..metrics.video import is_class_name  # CLASS-… rows, and the tracking classes TVD, HIEVE-1080P, HIEVE-720P

    levels = {k[0]: ("class" if is_class_name(str(k[0])) else "sequence") for k in curves if k[0] is not None}
    if "class" not in levels.values():
        levels = {}
    return CurveSet(str(path), path.stem, rc, qc, curves, qps=qps, levels=levels)


def read_compressai_json(path: Path, data: dict, rate_col: str | None, quality_col: str | None) -> CurveSet:
    """CompressAI-style JSON: ``results`` maps column names to equal-length lists."""
    res = data.get("results")
    if not isinstance(res, dict):
        raise DataError(f"{path}: a JSON curve file needs a 'results' object of equal-length lists "
                        "(CompressAI style) or a vcmbench result set ('points').")
    header = list(res)
    rc = _pick(header, rate_col, RATE_COLS, "rate", path)
    qc = _pick(header, quality_col, QUALITY_COLS + ("psnr-rgb", "ms-ssim-rgb"), "quality", path)
    rates, quals = res[rc], res[qc]
    if not isinstance(rates, list) or not isinstance(quals, list) or len(rates) != len(quals) or not rates:
        raise DataError(f"{path}: results[{rc!r}] and results[{qc!r}] must be non-empty lists of equal length.")
    pts = [(_float(r, path, i + 1, rc), _float(q, path, i + 1, qc)) for i, (r, q) in enumerate(zip(rates, quals))]
    label = str(data.get("name") or path.stem)
    return CurveSet(str(path), label, rc, qc, {(None, None): pts}, qps={(None, None): [None] * len(pts)})


def curves_from_result_set(rs, source: str = "", rate_col: str | None = None,
                           quality_col: str | None = None) -> CurveSet:
    if (rs.provenance or {}).get("video"):
        from .video_inputs import video_curves

        return video_curves(rs, source, rate_col, quality_col)
    rate = rate_col or RATE_POINT_COLS[0]
    if rate not in RATE_POINT_COLS:
        raise DataError(f"Result set {rs.label!r}: rate column {rate!r} unknown; use one of {list(RATE_POINT_COLS)}.")
    from ..run.resultset import is_pareto_selection

    qkey = quality_col or rs.quality_key
    one_curve = is_pareto_selection(rs)  # `results --pareto`: points of several scales form one curve
    curves: dict[Key, list[tuple[float, float]]] = {}
    qps: dict[Key, list[int | None]] = {}
    scales: dict[Key, list[float | None]] = {}
    for p in rs.points:
        if qkey not in p.accuracy:
            raise DataError(f"Result set {rs.label!r}: point scale {p.scale * 100:g} % QP {p.qp} has no accuracy "
                            f"{qkey!r} (it has {sorted(p.accuracy)}); choose one with --quality-col.")
        key = (None, None) if one_curve else (None, float(p.scale))
        curves.setdefault(key, []).append((float(getattr(p, rate)), float(p.accuracy[qkey])))
        qps.setdefault(key, []).append(p.qp)
        scales.setdefault(key, []).append(float(p.scale))
    if not curves:
        raise DataError(f"Result set {rs.label!r} ({source}) has no rate points.")
    return CurveSet(source, rs.label or rs.codec, rate, qkey, curves, signature=rs.signature,
                    condition=rs.condition, result_set=rs, qps=qps, scales=scales)


def load_curves(path: str | Path, rate_col: str | None = None, quality_col: str | None = None) -> CurveSet:
    """Curves from a CSV/TSV file, a result-set JSON, a CompressAI-style JSON or a run directory."""
    from ..core.records import ResultSet, load_result_set

    p = Path(path)
    if p.is_dir():
        return curves_from_result_set(load_result_set(p), str(p), rate_col, quality_col)
    if p.suffix.lower() == ".json":
        from ..core.jsonio import read_json

        if not p.exists():
            raise DataError(f"{p} does not exist. Give a CSV file, a result-set JSON or a run directory.")
        data = read_json(p, "curve file", MAX_INPUT_BYTES)  # regular file, size, depth and syntax checked
        if isinstance(data, dict) and "points" in data:
            return curves_from_result_set(ResultSet.load(p), str(p), rate_col, quality_col)
        if isinstance(data, dict):
            return read_compressai_json(p, data, rate_col, quality_col)
        raise DataError(f"{p}: expected a JSON object (a vcmbench result set or a CompressAI-style results file).")
    return read_csv_curves(p, rate_col, quality_col)


def _match(a_keys: list, b_keys: list, what: str, a_src: str, b_src: str) -> list[tuple]:
    """Pairs (a_key, b_key) of equal values; a lone None pairs with the other side's single value."""
    both = [k for k in a_keys if k in b_keys]
    if both:
        return [(k, k) for k in both]
    if a_keys == [None] and len(b_keys) == 1:
        return [(None, b_keys[0])]
    if b_keys == [None] and len(a_keys) == 1:
        return [(a_keys[0], None)]
    shown = [("-" if k is None else (f"{k:.0%}" if isinstance(k, float) else k)) for k in a_keys]
    shown_b = [("-" if k is None else (f"{k:.0%}" if isinstance(k, float) else k)) for k in b_keys]
    hint = ("Add a 'scale' column to the CSV or choose matching inputs." if what == "scale"
            else "Name the datasets alike in both inputs (the Dataset / sequence / class column).")
    raise DataError(f"{a_src} has {what}s {shown} and {b_src} has {shown_b}: no {what} in common, so there is "
                    f"nothing to compare. {hint}")


def pair_curves(a: CurveSet, b: CurveSet) -> list[tuple[Key, Key]]:
    """(anchor key, test key) pairs: groups matched by name, then scales within each group."""
    out = []
    for ga, gb in _match(a.groups(), b.groups(), "group", a.source, b.source):
        sa = [k[1] for k in a.curves if k[0] == ga]
        sb = [k[1] for k in b.curves if k[0] == gb]
        for x, y in _match(sa, sb, "scale", a.source, b.source):
            out.append(((ga, x), (gb, y)))
    return sorted(out, key=lambda kk: (str(kk[0][0] or kk[1][0] or ""),
                                       -(kk[0][1] if kk[0][1] is not None else (kk[1][1] or 0))))


def common_scales(a: CurveSet, b: CurveSet) -> list[float | None]:
    """Scales present in both inputs (inputs without groups); kept for callers that pair by scale only."""
    return [ka[1] if ka[1] is not None else kb[1] for ka, kb in pair_curves(a, b)]


def compare_inputs(anchor: CurveSet, test: CurveSet, methods: list[str], *, remedies: tuple[str, ...] = (),
                   extend: str = "none", scales: list[float] | None = None, force: bool = False,
                   min_overlap: float | None = None, allow_mixed: bool = False) -> list[dict]:
    """BD of ``test`` vs ``anchor`` per method, group and common scale; one dict per (method, group, scale).

    Each dict has ``method``, ``group``, ``scale``, ``result`` (a ``bd.BDResult`` or None), ``error``
    (str or None), ``signature``, ``forced`` (signature parts that differed and were overridden),
    ``mixed`` (differences allowed by ``allow_mixed``) and ``compared`` (warnings on what is compared,
    ``report.summaries.check_mixed``).  Result sets must agree on ``BD_COMPARABLE_PARTS`` unless
    ``force``; a difference raises SignatureMismatch naming the part.
    """
    from ..bd import MIN_OVERLAP, compare, signature_part
    from ..core.errors import BDError, SignatureMismatch
    from ..core.signature import BD_COMPARABLE_PARTS, Signature
    from .summaries import check_mixed

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
    compared, mixed = check_mixed(anchor.result_set, test.result_set, allow_mixed)
    todo = pair_curves(anchor, test)
    if scales:
        want = [float(s) for s in scales]

        def _scale(kk):
            return kk[0][1] if kk[0][1] is not None else kk[1][1]
        todo = [kk for kk in todo if _scale(kk) is not None and any(abs(_scale(kk) - w) < 1e-9 for w in want)]
        if not todo:
            raise DataError(f"None of the requested scales {[f'{w:.0%}' for w in want]} is present in both inputs.")
    rows = []
    for method in methods:
        part = signature_part(method, remedies, extend)
        for ka, kt in todo:
            scale = ka[1] if ka[1] is not None else kt[1]
            group = ka[0] if ka[0] is not None else kt[0]
            row = {"method": method, "group": group, "scale": scale, "result": None, "error": None,
                   "signature": bd_signature(test.signature, part, scale, forced, source=str(test.source), mixed=mixed),
                   "forced": forced, "mixed": mixed, "compared": compared}
            try:
                row["result"] = compare(anchor.curves[ka], test.curves[kt], method, remedies=remedies,
                                        extend=extend, min_overlap=MIN_OVERLAP if min_overlap is None else min_overlap,
                                        anchor_names=anchor.point_names(ka), test_names=test.point_names(kt))
            except BDError as exc:
                row["error"] = str(exc)
            rows.append(row)
    return rows


def result_sets_from_curves(cs: CurveSet, role: str) -> list:
    """One ``records.ResultSet`` per group of a CSV/JSON curve file, so ``report`` can pair them.

    The group (dataset / sequence / class) becomes the condition and the dataset; the rate column
    goes into ``bpp`` and is named in ``provenance['rate_name']`` when it is not bpp; bits, pixels
    and times are unknown (0).  No signature: such inputs carry none.  A video input (a video result set, a CSV
    with class rows such as ``final_SFU.csv`` or ``final_TVD.csv``) gives its classes only (``provenance.video_class``): the
    report's sections are the classes and their Overall; the sequences are ``bdrate``'s detail.
    """
    from ..core.records import ResultSet

    if cs.result_set is not None and cs.video:
        from .video_inputs import video_class_sets

        return video_class_sets(cs)
    if cs.result_set is not None:
        return [cs.result_set]
    out = []
    for group in (cs.class_groups() if cs.video else cs.groups()):  # a video CSV: its classes (as a video run)
        pts, _ = _group_points(cs, group)
        name = group if group is not None else cs.label
        video = {"video_class": True, "video_condition": cs.label} if cs.video else {}
        out.append(ResultSet(condition=name, codec=cs.label, label=cs.label, quality_key=cs.quality_name,
                             points=pts, signature="", metric=cs.quality_name, dataset=name,
                             provenance={"source": Path(cs.source).name, "role": role, "rate_name": cs.rate_name,
                                         **video,
                                         **({"qp_from_index": True} if any(q is None for k, qs in cs.qps.items()
                                                                           if k[0] == group for q in qs) else {})},
                             notes=[f"read from {Path(cs.source).name} (no signature)"]))
    return out


def _group_points(cs: CurveSet, group) -> tuple[list, str]:
    """The rate points of one group of an input (``records.RatePoint``) and the attribute holding the rate."""
    from ..core.records import RatePoint

    if cs.result_set is not None:
        return list(cs.result_set.points), cs.rate_name
    pts = []
    for (g, scale), curve in cs.curves.items():
        if g != group:
            continue
        qps = cs.qps.get((g, scale)) or [None] * len(curve)
        for i, ((rate, q), qp) in enumerate(zip(curve, qps)):
            pts.append(RatePoint(scale=1.0 if scale is None else scale, qp=i if qp is None else qp, bits=0, pixels=0,
                                 bpp=rate, accuracy={cs.quality_name: q}, images=0))
    return pts, "bpp"


def summarize_inputs(anchor: CurveSet, test: CurveSet, rows: list[dict], *, remedies: tuple[str, ...] = (),
                     extend: str = "none", scales: list[float] | None = None,
                     min_overlap: float | None = None) -> list[dict]:
    """The summary figure per method and group for ``vcmbench bdrate`` (rules in ``report.summaries``).

    ``rows`` are ``compare_inputs``'s.  One dict per (method, group): ``method``, ``group``, ``name``,
    ``rule``, ``source``, ``selection`` ("pareto" or ""), ``scales`` (fractions; None = one curve
    without a scale), ``result``, ``error``, ``signature``.  One scale on each side (or one curve each, e.g.
    two ``resultset-pareto.json``): the row's own figure.  Several scales on either side: BD between the
    Pareto fronts (``run.resultset.pareto_points``) of all points of the group (of the ``scales`` asked for).
    """
    from ..bd import MIN_OVERLAP, compare, signature_part
    from ..core.errors import VcmbenchError
    from ..core.signature import Signature
    from ..run.resultset import is_pareto_selection, pareto_points
    from . import summaries as S

    groups = list(dict.fromkeys((ka[0], kt[0]) for ka, kt in pair_curves(anchor, test)))
    want = [float(w) for w in scales] if scales else None

    def pick(points):
        return [p for p in points if want is None or any(abs(p.scale - w) < 1e-9 for w in want)]

    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        part = signature_part(method, remedies, extend)
        for ga, gt in groups:
            group = ga if ga is not None else gt
            mine = [r for r in rows if r["method"] == method and r["group"] == group]
            pa, rate_a = _group_points(anchor, ga)
            pt, rate_t = _group_points(test, gt)
            pa, pt = pick(pa), pick(pt)
            one = all(k[1] is None for k in [*anchor.curves, *test.curves] if k[0] in (ga, gt))
            sa, st = {p.scale for p in pa}, {p.scale for p in pt}
            base = {"method": method, "group": group, "result": None, "error": None, "signature": "",
                    "mixed": mine[0]["mixed"] if mine else [], "forced": mine[0]["forced"] if mine else []}
            if one or (len(sa) <= 1 and len(st) <= 1):
                r = mine[0] if mine else None
                pareto_in = anchor.result_set is not None and is_pareto_selection(anchor.result_set)
                out.append({**base, "name": S.ONE_CURVE_NAME,
                            "rule": S.PARETO_INPUT_RULE if pareto_in else S.ONE_CURVE_RULE,
                            "source": S.ONE_CURVE_SOURCE, "selection": "", "scales": [None if r is None else r["scale"]],
                            "result": None if r is None else r["result"],
                            "error": "no curve in common" if r is None else r["error"],
                            "signature": "" if r is None else r["signature"]})
                continue
            row = {**base, "name": S.PARETO_NAME, "rule": S.PARETO_RULE, "source": S.PARETO_SOURCE,
                   "selection": "pareto", "scales": sorted(sa | st, reverse=True)}
            try:
                qa = anchor.quality_name
                qt = test.quality_name
                fa, ft = pareto_points(pa, qa, rate_a), pareto_points(pt, qt, rate_t)
                row["result"] = compare([(float(getattr(p, rate_a)), p.accuracy[qa]) for p in fa],
                                        [(float(getattr(p, rate_t)), p.accuracy[qt]) for p in ft], method,
                                        remedies=remedies, extend=extend,
                                        min_overlap=MIN_OVERLAP if min_overlap is None else min_overlap,
                                        anchor_names=[point_name(p.scale, p.qp) for p in fa],
                                        test_names=[point_name(p.scale, p.qp) for p in ft])
                row["result"].notes = [f"anchor Pareto front: {len(fa)} of {len(pa)} points ({S.kept_points(fa)})",
                                       f"test Pareto front: {len(ft)} of {len(pt)} points ({S.kept_points(ft)})",
                                       *row["result"].notes]
                sig = test.signature
                if want and sig:  # only some scales entered the front: say which
                    sig = str(Signature.parse(sig).with_part("scale", ",".join(f"{round(w * 100):d}" for w in want)))
                row["signature"] = bd_signature(sig, part, None, base["forced"], source=str(test.source),
                                                mixed=base["mixed"], selection="pareto")
            except VcmbenchError as exc:
                row["error"] = str(exc)
            out.append(row)
    return out
