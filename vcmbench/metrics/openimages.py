"""The OpenImages challenge metric (detection and instance segmentation), native numpy.

Reproduces the TF Object Detection API's ``OpenImagesChallengeEvaluator`` (used by the MPEG VCM
anchors through ``oid_challenge_evaluation``); DESIGN.md §5.1 "The metric, precisely".  Rules:

1. **Evaluable classes per image** = classes of its verified image-level labels (Confidence 0
   *or* 1) ∪ classes of its GT boxes.  Detections of any other class on that image are dropped,
   and so are detections on images absent from the ground truth.  A detection of a class that
   is verified absent (negative label, no boxes) is therefore a false positive.
2. Detections with ``YMin >= YMax`` or ``XMin >= XMax`` (or a score ≤ −10, which the reference's
   NMS step filters) are dropped.  Boxes are used as given (normalised, not clipped); box area =
   (YMax−YMin)·(XMax−XMin).  No NMS.
3. Per image and class, detections are taken in descending score in the reference's order:
   ``np.argsort(scores)[::-1]`` over the scores in input-row order (see "Ties" below).
4. Each detection looks only at the non-group-of box of its class with the highest IoU (first
   in GT order on ties).  If that IoU ≥ 0.5 and the box is still free, the detection is a true
   positive; otherwise a false positive (it does **not** fall back to the second-best box).
5. A detection that is not a true positive and whose highest IoA (intersection over the
   *detection's* area) with a group-of box of its class is ≥ 0.5 is absorbed by that box.  Each
   group-of box with ≥ 1 absorbed detection becomes one true positive of weight
   ``group_of_weight`` scored with the highest absorbed score (dropped if that score ≤ 0 or the
   weight is 0).  Absorbed detections are neither TP nor FP.
6. Number of GT instances of a class = its non-group-of boxes + ``group_of_weight`` × its group-of
   boxes.  ``group_of_weight`` is 1.0 by default, for detection *and* segmentation: that is what
   the reference tools run (``oid_challenge_evaluation.py`` and CompressAI-Vision both build
   ``OpenImagesChallengeEvaluator(categories, evaluate_masks=...)``, whose default weight is 1.0).
   The TF OD API's ``OpenImagesInstanceSegmentationChallengeEvaluator`` class uses 0.0: pass
   ``group_of_weight=0.0`` for it.  With the challenge's segmentation GT (group-of boxes carry no
   mask) the two agree, because group-of boxes without a mask are ignored either way.
7. Instance segmentation: detection boxes are the tight boxes of the predicted masks (the CSV box
   columns are ignored, as in the reference); overlaps are mask IoU/IoA against GT boxes that
   have a (non-empty) mask, and only those count as GT instances.  Detections then matched (box
   IoU/IoA, same rules) to GT boxes *without* a mask are ignored; group-of entries come only
   from group-of boxes with a mask.
8. AP per class (VOC): precision made non-increasing from the right, summed over recall steps.
   The entries of all images are pooled in the reference's order (images by ImageID; per image the
   sorted detections, then the group-of entries) and ordered by ``np.argsort(scores)[::-1]``.
   mAP = mean over classes with ≥ 1 GT instance; classes without GT are listed, not averaged.

Ties: numpy's default sort is not stable (on SIMD builds not even for a handful of elements),
so with tied scores the reference's result depends on the numpy build.  This module calls the
same ``np.argsort`` on the same arrays, so it reproduces the reference run with the same numpy
bit for bit; tied scores across numpy builds can move AP (by ~1 % with scores rounded to 0.01).

Departures from the reference (documented, never silent): rows whose LabelName is not in the
class list are dropped and counted (the reference raises ``KeyError``); per image, predicted and
GT masks of different sizes are an error (the reference crashes in numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import DataError, EvaluationError
from .oid_gt import OIDGroundTruth, class_index, load_oid_ground_truth
from .oid_io import encode_oid_mask, numeric_columns, oid_mask_to_rle, read_predictions

__all__ = ["OIDGroundTruth", "OIDResult", "load_oid_ground_truth", "oid_evaluate", "oid_item_entries",
           "voc_average_precision", "encode_oid_mask", "metric_name"]


def metric_name(segmentation: bool, iou_threshold: float = 0.5, group_of_weight: float = 1.0) -> str:
    kind = "instance segmentation" if segmentation else "detection"
    gow = "" if group_of_weight == 1.0 else f", group-of weight {group_of_weight:g}"
    return f"OID challenge mAP@IoU{iou_threshold:g} ({kind}{gow})"


@dataclass
class OIDResult:
    map: float
    per_class: dict[str, float]  # AP of each class that has ground truth
    metric_name: str
    num_gt: dict[str, float]
    classes_without_gt: list[str]
    counts: dict[str, int]
    segmentation: bool = False
    iou_threshold: float = 0.5
    group_of_weight: float = 1.0

    @property
    def signature_part(self) -> str:
        """Value of the signature's ``map`` part, named as conditions name it (``oid-challenge-bbox``);
        a non-default IoU threshold or group-of weight is appended (``-iou0.6``, ``-gow0``)."""
        part = f"oid-challenge-{'segm' if self.segmentation else 'bbox'}"
        if self.iou_threshold != 0.5:
            part += f"-iou{self.iou_threshold:g}"
        if self.group_of_weight != 1.0:
            part += f"-gow{self.group_of_weight:g}"
        return part

    @property
    def accuracy(self) -> dict[str, float]:
        """The figure under the conditions' quality key: ``{"map50": mAP}`` at IoU 0.5."""
        return {f"map{round(self.iou_threshold * 100)}": self.map}

    def to_dict(self, per_class: bool = True) -> dict[str, Any]:
        d = {"metric": self.metric_name, "map": self.map, **self.accuracy, "num_classes_evaluated": len(self.per_class),
             "classes_without_gt": self.classes_without_gt, "group_of_weight": self.group_of_weight,
             "iou_threshold": self.iou_threshold, "counts": dict(self.counts)}
        if per_class:
            d["per_class"] = {k: {"ap": v, "num_gt": self.num_gt[k]} for k, v in self.per_class.items()}
        return d


# ----------------------------------------------------------------------------- core
def voc_average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """VOC AP: pad recall with 0/1 and precision with 0/0, make precision non-increasing from
    the right, sum Δrecall × precision where recall changes (TF OD API ``metrics.py``)."""
    if precision.size == 0:
        return 0.0
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    idx = np.flatnonzero(r[1:] != r[:-1]) + 1
    return float(np.sum((r[idx] - r[idx - 1]) * p[idx]))


def _pairs(det_key: np.ndarray, gt_key_sorted: np.ndarray):
    lo = np.searchsorted(gt_key_sorted, det_key, "left")
    cnt = np.searchsorted(gt_key_sorted, det_key, "right") - lo
    total = int(cnt.sum())
    det_idx = np.repeat(np.arange(det_key.size), cnt)
    starts = np.cumsum(cnt) - cnt
    gt_pos = np.repeat(lo - starts, cnt) + np.arange(total)
    return det_idx, gt_pos


def _box_overlap(d: np.ndarray, g: np.ndarray, kind: str) -> np.ndarray:
    ih = np.maximum(0.0, np.minimum(d[:, 2], g[:, 2]) - np.maximum(d[:, 0], g[:, 0]))
    iw = np.maximum(0.0, np.minimum(d[:, 3], g[:, 3]) - np.maximum(d[:, 1], g[:, 1]))
    inter = ih * iw
    area_d = (d[:, 2] - d[:, 0]) * (d[:, 3] - d[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "ioa":
            return inter / area_d
        area_g = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
        return inter / (area_d + area_g - inter)


def _rle_area(rles: list) -> np.ndarray:
    """Pixel areas of RLEs.  pycocotools 2.0.x ``area()`` overflows on lists longer than 255
    (it counts them in a uint8), so it is called in chunks."""
    from pycocotools import mask as coco_mask

    out = np.zeros(len(rles), dtype=np.float64)
    for a in range(0, len(rles), 200):
        out[a:a + 200] = coco_mask.area(rles[a:a + 200])
    return out


def _mask_overlap(det_idx, gt_idx, det_key, det_rles, det_area, gt_rles, gt_area, kind: str) -> np.ndarray:
    """Mask IoU / IoA (over the detection mask) per pair, computed in float32 as the reference does
    (exact integer intersections from pycocotools' RLE overlap, then the reference's formulas)."""
    from pycocotools import mask as coco_mask

    inter = np.zeros(det_idx.size, dtype=np.float64)
    keys = det_key[det_idx]
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(keys)) + 1, [keys.size]])
    for a, b in zip(bounds[:-1], bounds[1:]):
        dets = np.unique(det_idx[a:b])
        gts = np.unique(gt_idx[a:b])
        # iscrowd=1: pycocotools returns intersection / detection area
        o = np.asarray(coco_mask.iou([det_rles[i] for i in dets], [gt_rles[j] for j in gts], [1] * gts.size))
        inter[a:b] = np.rint(o * det_area[dets][:, None]).reshape(-1)
    i32 = inter.astype(np.float32)
    ad = det_area[det_idx].astype(np.float32)
    if kind == "ioa":
        return (i32 / (ad + np.float32(1e-7))).astype(np.float64)
    union = ad + gt_area[gt_idx].astype(np.float32) - i32
    return (i32 / np.maximum(union, np.float32(1e-7))).astype(np.float64)


def _best(n_det: int, det_idx: np.ndarray, gt_pos: np.ndarray, val: np.ndarray):
    """Per detection: highest overlap and the first GT position reaching it (np.argmax semantics)."""
    best = np.full(n_det, -np.inf)
    arg = np.full(n_det, -1, dtype=np.int64)
    if det_idx.size:
        v = np.where(np.isnan(val), -np.inf, val)
        np.maximum.at(best, det_idx, v)
        hit = np.flatnonzero((v == best[det_idx]) & (v > -np.inf))
        first_d, first = np.unique(det_idx[hit], return_index=True)
        arg[first_d] = gt_pos[hit[first]]
    return best, arg


def _match(gt: OIDGroundTruth, det_key, det_score, det_boxes, det_rles, det_area, iou_thr, weight, mask_mode):
    c = len(gt.classes)
    gt_key = gt.box_image * c + gt.box_class
    n = det_key.size
    tp = np.zeros(n, bool)
    absorbed = np.zeros(n, bool)
    to_box = np.zeros(n, bool)
    grp_gt: list[np.ndarray] = []
    grp_score: list[np.ndarray] = []
    has_mask = (np.array([m is not None for m in gt.masks], bool) if mask_mode else np.zeros(gt_key.size, bool))
    gt_area = np.zeros(gt_key.size)
    if mask_mode and has_mask.any():
        gt_area[has_mask] = _rle_area([m for m in gt.masks if m is not None])
        has_mask &= gt_area > 0  # an empty mask is a box-only instance, as in the reference
    if mask_mode:
        stages = [("iou", ~gt.group_of & has_mask, True), ("ioa", gt.group_of & has_mask, True),
                  ("iou", ~gt.group_of & ~has_mask, False), ("ioa", gt.group_of & ~has_mask, False)]
    else:
        stages = [("iou", ~gt.group_of, False), ("ioa", gt.group_of, False)]
    for kind, sel, on_masks in stages:
        sub = np.flatnonzero(sel)
        if sub.size == 0 or n == 0:
            continue
        sub = sub[np.argsort(gt_key[sub], kind="stable")]
        det_idx, gt_pos = _pairs(det_key, gt_key[sub])
        gt_idx = sub[gt_pos]
        if on_masks:
            val = _mask_overlap(det_idx, gt_idx, det_key, det_rles, det_area, gt.masks, gt_area, kind)
        else:
            val = _box_overlap(det_boxes[det_idx], gt.boxes[gt_idx], kind)
        best, arg = _best(n, det_idx, gt_idx, val)
        cand = np.flatnonzero((best >= iou_thr) & ~tp & ~absorbed)
        if kind == "iou":
            _, first = np.unique(arg[cand], return_index=True)
            win = cand[first]
            tp[win] = True
            if not on_masks:
                to_box[win] = True
        else:
            absorbed[cand] = True
            if not on_masks:
                to_box[cand] = True
            if not (mask_mode and not on_masks):  # the reference keeps only mask group-of entries in mask mode
                grp_gt.append(arg[cand])
                grp_score.append(det_score[cand])
    valid = ~absorbed & ~to_box if mask_mode else ~absorbed
    # group-of entries: one per group-of box, max score, weight as label
    g_idx = np.concatenate(grp_gt) if grp_gt else np.zeros(0, np.int64)
    g_sc = np.concatenate(grp_score) if grp_score else np.zeros(0)
    uniq, inv = np.unique(g_idx, return_inverse=True)
    gmax = np.zeros(uniq.size)
    np.maximum.at(gmax, inv, g_sc)
    keep = (gmax > 0) & (weight > 0)
    uniq, gmax = uniq[keep], gmax[keep]
    vi = np.flatnonzero(valid)
    return {
        "cls": np.concatenate([det_key[vi] % c, gt.box_class[uniq]]),
        "img": np.concatenate([det_key[vi] // c, gt.box_image[uniq]]),
        "section": np.concatenate([np.zeros(vi.size, np.int64), np.ones(uniq.size, np.int64)]),
        "rank": np.concatenate([vi, uniq]).astype(np.int64),
        "score": np.concatenate([det_score[vi], gmax]),
        "label": np.concatenate([tp[vi].astype(float), np.full(uniq.size, float(weight))]),
    }, has_mask


def _num_gt(gt: OIDGroundTruth, has_mask: np.ndarray, weight: float, mask_mode: bool) -> np.ndarray:
    c = len(gt.classes)
    counted = has_mask if mask_mode else np.ones(gt.box_class.size, bool)
    plain = np.bincount(gt.box_class[counted & ~gt.group_of], minlength=c).astype(float)
    grp = np.bincount(gt.box_class[counted & gt.group_of], minlength=c).astype(float)
    return plain + weight * grp


def _mask_rows(gt: OIDGroundTruth, df, rows: np.ndarray, img: np.ndarray):
    """RLEs of the predicted masks and their tight boxes ``[YMin, XMin, YMax, XMax]`` (normalised,
    ``(min, max + 1) / size`` as the reference computes them); a missing mask gives an all-zero
    box, which the invalid-box rule then drops."""
    import pandas as pd
    from pycocotools import mask as coco_mask

    rles: list = []
    sizes = np.zeros((rows.size, 2))
    cells, ws, hs = df.Mask.iloc[rows].tolist(), df.ImageWidth.iloc[rows].tolist(), df.ImageHeight.iloc[rows].tolist()
    for j, (cell, w, h) in enumerate(zip(cells, ws, hs)):
        if pd.isnull(cell):
            rles.append(None)
            continue
        i = int(img[rows[j]])
        want = gt.mask_size.get(i)
        if want is not None and want != (int(h), int(w)):
            raise DataError(f"Predicted mask for image {gt.image_ids[i]} is {int(h)}x{int(w)} but its GT masks are "
                            f"{want[0]}x{want[1]} (HxW); predict masks at the original image size.")
        rles.append(oid_mask_to_rle(cell, w, h))
        sizes[j] = (float(h), float(w))
    boxes = np.zeros((rows.size, 4))
    have = np.array([r is not None for r in rles], bool)
    if have.any():
        xywh = np.asarray(coco_mask.toBbox([r for r in rles if r is not None]), dtype=np.float64).reshape(-1, 4)
        h, w = sizes[have, 0], sizes[have, 1]
        boxes[have] = np.stack([xywh[:, 1] / h, xywh[:, 0] / w, (xywh[:, 1] + xywh[:, 3]) / h,
                                (xywh[:, 0] + xywh[:, 2]) / w], axis=1)
    return rles, boxes


def reference_descending(scores: np.ndarray) -> np.ndarray:
    """The reference's descending order: ``np.argsort(scores)[::-1]`` with numpy's default sort.
    For tied scores that order is whatever this numpy build's (unstable) sort gives, exactly as
    in the reference run with the same numpy."""
    return np.argsort(scores)[::-1]


def _reference_group_order(keys: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Permutation grouping detections by (image, class) key, each group in the reference's
    descending-score order (``reference_descending`` of its scores in input order)."""
    order = np.lexsort((-score, keys))
    ks, ss = keys[order], score[order]
    tie = np.flatnonzero((ks[1:] == ks[:-1]) & (ss[1:] == ss[:-1]))
    if tie.size:  # only groups with tied scores depend on the sort algorithm
        starts = np.flatnonzero(np.concatenate([[True], ks[1:] != ks[:-1]]))
        ends = np.append(starts[1:], ks.size)
        for g in np.unique(np.searchsorted(starts, tie, "right") - 1):
            a, b = starts[g], ends[g]
            members = np.sort(order[a:b])  # input order
            order[a:b] = members[reference_descending(score[members])]
    return order


def _prepare_detections(gt: OIDGroundTruth, predictions: Any, segmentation: bool, counts: dict):
    import pandas as pd

    df = read_predictions(predictions, segmentation)
    c = len(gt.classes)
    counts["predictions"] = len(df)
    img = pd.Index(gt.image_ids).get_indexer(df.ImageID.astype(str)).astype(np.int64)
    cls = class_index(df.LabelName.astype(str), gt.classes)
    known_img, known_cls = img >= 0, cls >= 0
    key = img * c + cls
    evaluable = known_img & known_cls & np.isin(key, gt.evaluable_keys)
    counts["dropped_unknown_image"] = int((~known_img).sum())
    counts["dropped_unlisted_class"] = int((known_img & ~known_cls).sum())
    counts["dropped_not_evaluable"] = int((known_img & known_cls & ~evaluable).sum())
    rows = np.flatnonzero(evaluable)
    score = pd.to_numeric(df.Score.iloc[rows], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(score).all():
        bad = df.iloc[rows[~np.isfinite(score)][0]]
        raise DataError(f"Prediction for image {bad.ImageID} class {bad.LabelName} has a non-numeric Score "
                        f"{bad.Score!r}; every prediction needs a finite score.")
    rles = None
    area = None
    if segmentation:
        rles, boxes = _mask_rows(gt, df, rows, img)
    else:
        boxes = numeric_columns(df.iloc[rows], ["YMin", "XMin", "YMax", "XMax"], "Predictions")
    # invalid boxes; the reference's NMS step also keeps only scores > -10
    ok = (boxes[:, 0] < boxes[:, 2]) & (boxes[:, 1] < boxes[:, 3]) & (score > -10.0)
    counts["dropped_invalid_box"] = int((~ok).sum())
    rows, score, boxes = rows[ok], score[ok], boxes[ok]
    order = _reference_group_order(key[rows], score)
    rows, score, boxes = rows[order], score[order], boxes[order]
    if segmentation:
        sel = np.flatnonzero(ok)[order]
        rles = [rles[j] for j in sel]
        area = _rle_area(rles)
    counts["evaluated"] = int(rows.size)
    return key[rows], score, boxes, rles, area


def _entries(gt: OIDGroundTruth, predictions, segmentation: bool, iou_threshold: float, weight: float,
             counts: dict):
    """Matched entries (``_match``), GT boxes that count (``has_mask``) and, per class, the entries' indices in
    the reference's order: pooled in its concatenation order, then its descending sort (rule 8)."""
    det_key, score, boxes, rles, area = _prepare_detections(gt, predictions, segmentation, counts)
    e, has_mask = _match(gt, det_key, score, boxes, rles, area, iou_threshold, weight, segmentation)
    c = len(gt.classes)
    conc = np.lexsort((e["rank"], e["section"], e["img"], e["cls"]))
    bounds = np.searchsorted(e["cls"][conc], np.arange(c + 1))
    order = []
    for k in range(c):
        idx = conc[bounds[k]:bounds[k + 1]]
        order.append(idx[reference_descending(e["score"][idx])])
    return e, has_mask, order


def oid_item_entries(gt: OIDGroundTruth, predictions, segmentation: bool = False, *, iou_threshold: float = 0.5,
                     group_of_weight: float | None = None) -> dict[str, Any]:
    """Per-image records of the metric (for re-weighting images, ``metrics.item_records``): per class, the
    entries' GT image index and true-positive weight (label) in the reference's order, and the GT instances
    per (GT image, class) whose column sums are :func:`oid_evaluate`'s ``num_gt``."""
    weight = 1.0 if group_of_weight is None else float(group_of_weight)
    if segmentation and gt.masks is None:
        raise DataError("Segmentation evaluation needs GT masks: load the ground truth with masks_csv=...")
    counts: dict[str, int] = {}
    e, has_mask, order = _entries(gt, predictions, segmentation, iou_threshold, weight, counts)
    counted = has_mask if segmentation else np.ones(gt.box_class.size, bool)
    per_image = np.zeros((len(gt.image_ids), len(gt.classes)))
    np.add.at(per_image, (gt.box_image[counted], gt.box_class[counted]),
              np.where(gt.group_of[counted], weight, 1.0))
    return {"classes": list(gt.classes), "image_ids": list(gt.image_ids), "num_gt": per_image,
            "entries": [(e["img"][o], e["label"][o]) for o in order], "counts": counts}


def oid_evaluate(gt: OIDGroundTruth, predictions, segmentation: bool = False, *,
                 iou_threshold: float = 0.5, group_of_weight: float | None = None) -> OIDResult:
    """Evaluate predictions (DataFrame, list of dicts or CSV path) with the OID challenge metric.

    ``group_of_weight`` defaults to 1.0 for both metrics, as the reference tools run them (see rule 6).
    Raises :class:`EvaluationError` when no class has ground truth.
    """
    if segmentation and gt.masks is None:
        raise DataError("Segmentation evaluation needs GT masks: load the ground truth with masks_csv=...")
    weight = 1.0 if group_of_weight is None else float(group_of_weight)
    if not (isinstance(iou_threshold, (int, float)) and 0 < iou_threshold <= 1):  # refuses NaN too
        raise DataError(f"IoU threshold {iou_threshold!r} is outside (0, 1]; give e.g. 0.5.")
    if not 0 <= weight <= 1:
        raise DataError(f"group-of weight {group_of_weight!r} is outside [0, 1]; give 1.0 (the reference) or 0.")
    counts: dict[str, int] = {}
    e, has_mask, order = _entries(gt, predictions, segmentation, iou_threshold, weight, counts)
    num_gt = _num_gt(gt, has_mask, weight, segmentation)
    c = len(gt.classes)
    ap = np.full(c, np.nan)
    for k in range(c):
        if num_gt[k] == 0:
            continue
        lab = e["label"][order[k]]
        ctp = np.cumsum(lab)
        cfp = np.cumsum((lab <= 0).astype(float))
        precision = ctp.astype(float) / (ctp + cfp)
        recall = ctp.astype(float) / num_gt[k]
        ap[k] = voc_average_precision(precision, recall)
    has = ~np.isnan(ap)
    if not has.any():
        raise EvaluationError("No class of the class list has ground-truth instances; mAP is undefined. "
                              "Check that the class list matches the ground truth's LabelName values.")
    counts["true_positive_entries"] = int((e["label"] > 0).sum())
    return OIDResult(
        map=float(np.nanmean(ap)),
        per_class={gt.classes[k]: float(ap[k]) for k in range(c) if has[k]},
        metric_name=metric_name(segmentation, iou_threshold, weight),
        num_gt={gt.classes[k]: float(num_gt[k]) for k in range(c) if has[k]},
        classes_without_gt=[gt.classes[k] for k in range(c) if not has[k]],
        counts=counts, segmentation=segmentation, iou_threshold=iou_threshold, group_of_weight=weight)
