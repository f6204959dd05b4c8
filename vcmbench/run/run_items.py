"""Per-item (per-image) records of a run directory, for the paired bootstrap (``run.bootstrap``).

``run_item_curves(run_dir, result_set)`` reads the run's store (one row per job: bits, pixels,
verdict, predictions) and builds, for every point of ``result_set``, the bits and pixels of each
image and the accuracy of any weighted multiset of images under the condition's metric and ground
truth (``metrics.item_records``): COCO AP keys (pycocotools records), the OpenImages challenge mAP,
and the per-image quality figures (PSNR, MS-SSIM, feature MSE: a mean of per-image values, as
``run.resultset.aggregate_quality``).  An image whose bitstream did not verify counts at that
point neither in the rate nor in the accuracy, as in the point estimate.  With every weight 1 the
records must give the result set's own bpp and accuracy (checked to 1e-9 relative): a result set
that disagrees with its store is refused, not guessed at.

Cityscapes AP has no per-image records here (its scripts score a whole folder of result files):
asking for its interval is a ``DataError`` with that reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.jsonio import read_json
from .bootstrap import ItemCurves, PointItems
from .resultset import QUALITY_KEYS
from .scoring import Scorer, detections_to_coco, detections_to_oid
from .store import RunStore

REL_TOL = 1e-9


def _mean_records(values: np.ndarray):
    def accuracy(w: np.ndarray) -> np.ndarray:
        tot = w.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(tot > 0, (w @ values) / np.where(tot > 0, tot, 1), np.nan)
    return accuracy


def _quality_values(recs: list[dict | None], key: str, yuv_weights: Any) -> np.ndarray:
    from ..metrics.quality import weighted_yuv

    out = np.zeros(len(recs))
    for i, r in enumerate(recs):
        if r is None:
            continue
        q = (r.get("extra") or {}).get("quality") or {}
        v = weighted_yuv(q, yuv_weights) if key == "psnr_yuv" else q.get(key)
        if v is None:
            raise DataError(f"image {r.get('image_id')!r} has no per-image {key!r}; its interval cannot be computed.")
        out[i] = float(v)
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL_TOL * max(1.0, abs(a), abs(b))


def run_item_curves(run_dir: str | Path, result_set: Any, quality_key: str | None = None) -> ItemCurves:
    """Per-item records of every point of ``result_set`` (built from ``run_dir``), see the module doc."""
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file():
        raise DataError(f"{run_dir} is not a run directory (no run.json): the interval needs the run's store.")
    qkey = quality_key or result_set.quality_key
    st = RunStore(run_dir, create=False)
    try:
        run = read_json(run_dir / "run.json")
        cond = read_json(run_dir / "condition.json")
        refs = run["images"]
        rows = {jid: rec for jid, rec, _ in st.rows()}
        items = sorted(r["image_id"] for r in refs)
        pos = {name: i for i, name in enumerate(items)}
        ref_by_id = {r["image_id"]: r for r in refs}
        is_quality = qkey in QUALITY_KEYS or qkey == "psnr_yuv"
        scorer = None
        if not is_quality:
            ref_preds = {j["image_id"]: st.get(j["job_id"])[1] for j in run["jobs"]
                         if j["kind"] == "reference" and j["job_id"] in rows}
            scorer = Scorer(cond, run, refs, ref_preds)
            if scorer.kind == "cityscapes":
                raise DataError("Cityscapes AP has no per-image records (its scripts score a whole folder of result "
                                "files): no interval for it.")
        out = ItemCurves(str(run_dir), items, qkey)
        for p in result_set.points:
            jobs = [j for j in run["jobs"] if j["kind"] == "code" and abs(float(j["scale"]) - p.scale) < 1e-9
                    and j["qp"] == p.qp]
            recs: list[dict | None] = [None] * len(items)
            for j in jobs:
                rec = rows.get(j["job_id"])
                if rec is None:
                    raise DataError(f"{run_dir}: job of image {j['image_id']} at scale {p.scale * 100:g} % QP {p.qp} "
                                    "is not in the store, yet the result set has this point; rebuild it with "
                                    "`vcmbench results RUNDIR`.")
                if rec.get("verified"):
                    recs[pos[j["image_id"]]] = rec
            counted = np.array([r is not None for r in recs], dtype=np.float64)
            bits = np.array([0.0 if r is None else float(r["bits"] + r.get("side_info_bits", 0)) for r in recs])
            pixels = np.array([0.0 if r is None else float(r["width"] * r["height"]) for r in recs])
            if is_quality:
                acc = _mean_records(_quality_values(recs, qkey, cond["metric"].get("yuv_weights") or "6:1:1"))
            else:
                preds = {items[i]: st.get(r["job_id"])[1] for i, r in enumerate(recs) if r is not None}
                acc = _accuracy_records(scorer, preds, items, ref_by_id, qkey)
            pt = PointItems(float(p.scale), int(p.qp), bits, pixels, counted, acc)
            _check_point(pt, p, qkey, run_dir)
            out.points.append(pt)
        return out
    finally:
        st.close()


def _accuracy_records(scorer: Scorer, preds: dict[str, dict], items: list[str], refs: dict[str, dict], qkey: str):
    from ..conditions.datasets import ImageRef
    from ..metrics import item_records

    if scorer.kind == "coco":
        from ..metrics.coco import coco_evaluated

        rows = []
        for name, det in preds.items():
            rows += detections_to_coco(det, int(refs[name]["eval_id"]), scorer.cat_map, scorer.iou_type)
        eval_ids = [int(refs[name]["eval_id"]) for name in items]
        ev = coco_evaluated(scorer.gt, rows, scorer.iou_type, image_ids=eval_ids)
        return item_records.coco_item_records(ev, eval_ids, qkey).accuracy
    if scorer.kind == "oid":
        from ..metrics.openimages import oid_item_entries

        if qkey != scorer.metric["quality_key"]:
            raise DataError(f"The OpenImages metric gives only {scorer.metric['quality_key']!r}, not {qkey!r}.")
        rows = []
        for name, det in preds.items():
            rows += detections_to_oid(det, ImageRef(**refs[name]), scorer.classes, scorer.iou_type == "segm")
        entries = oid_item_entries(scorer.gt, rows, scorer.iou_type == "segm",
                                   iou_threshold=float(scorer.metric.get("iou") or 0.5),
                                   group_of_weight=scorer.metric.get("group_of_weight"))
        return item_records.oid_item_records(entries, items).accuracy
    raise DataError(f"Metric {scorer.metric['name']!r} has no per-image records: no interval for it.")


def _check_point(pt: PointItems, p: Any, qkey: str, run_dir: Path) -> None:
    """Every weight 1 must give the result set's own point (bpp and accuracy)."""
    ones = np.ones((1, pt.bits.size))
    w = ones * pt.counted
    bpp = float((w @ pt.bits)[0] / (w @ pt.pixels)[0]) if pt.counted.any() else float("nan")
    acc = float(pt.accuracy(w)[0])
    want = p.accuracy.get(qkey)
    if want is None or not (_close(bpp, p.bpp) and _close(acc, float(want))):
        raise DataError(f"{run_dir}: the result set's point at scale {p.scale * 100:g} % QP {p.qp} (bpp {p.bpp:.6g}, "
                        f"{qkey} {want}) differs from what its store gives (bpp {bpp:.6g}, {qkey} {acc:.6g}); rebuild "
                        "it with `vcmbench results RUNDIR` before asking for an interval.")
