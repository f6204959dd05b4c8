"""Per-image evaluation records and the metric recomputed over a weighted multiset of images.

The paired bootstrap (``run.bootstrap``) draws images with replacement: an image drawn k times
weighs k.  The metric of such a multiset equals the metric of a dataset in which that image is
repeated k times under new ids; this module computes it from per-image records without repeating
anything, for many weight vectors at once (``accuracy(W)``, ``W`` of shape (resamples, items)).

* COCO AP (``CocoItemRecords``): the records are pycocotools' own ``evaluateImg`` output
  (``COCOeval.evalImgs``: per image, category and area range, the detection scores, the matched
  and ignore flags per IoU threshold, the GT ignore flags).  The accumulate step is
  pycocotools 2.0.x ``COCOeval.accumulate`` re-derived with weights: detections pooled over
  images in image-id order and sorted by descending score with a stable mergesort; cumulative
  true and false positives (each detection counts its image's weight), recall over the weighted
  number of non-ignored GT, precision ``tp / (tp + fp + eps)`` made non-increasing from the right,
  read at the 101 recall thresholds with ``searchsorted(..., 'left')`` (0 past the last detection);
  categories without non-ignored GT in the multiset are left out of the mean (pycocotools' -1).
  A repeated detection adds no new (recall, precision) corner that the 101-point reading can see:
  a true positive's copies raise precision, a false positive's copies do not move recall.  So
  weights reproduce the repeated dataset exactly, except that detections of *different* images
  with *equal* scores may sort differently (the stable sort follows image ids).
* OpenImages challenge mAP (``OidItemRecords``): per class the pooled entries (detections and
  group-of entries, ``metrics.openimages.oid_item_entries``) in the reference's order with their
  image and true-positive weight, and the GT instances per image; AP (VOC) from weighted
  cumulative sums; mAP = mean over the classes with GT in the multiset.

All weights 1 give the metric of the plain dataset (tests: pycocotools ``COCOeval.summarize()``
to 1e-12, ``oid_evaluate`` to 1e-12).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..core.errors import DataError

# COCO summary keys that are precisions: (IoU threshold or None for all, area range label); maxDets 100.
COCO_AP_KEYS = {"AP": (None, "all"), "AP50": (0.5, "all"), "AP75": (0.75, "all"), "APs": (None, "small"),
                "APm": (None, "medium"), "APl": (None, "large")}
_EPS = np.spacing(1)
_CHUNK = 4_000_000  # elements of one (resamples x detections) block


def _chunks(n_rows: int, width: int):
    step = max(1, _CHUNK // max(width, 1))
    for a in range(0, n_rows, step):
        yield slice(a, min(n_rows, a + step))


@dataclass
class CocoItemRecords:
    """pycocotools' per-image records of one quality key; ``accuracy(W)`` -> (resamples,) AP.

    The categories' detections lie one after the other (``seg``: the category of each, ``starts``/``lengths``:
    its run), each run in pycocotools' sorted order, so one array operation serves every category."""

    key: str
    items: int
    rec_thrs: np.ndarray
    img: np.ndarray        # (D,) item index of each detection
    seg: np.ndarray        # (D,) category run of each detection
    tps: np.ndarray        # (T, D) true positives (matched, not ignored) per IoU threshold
    fps: np.ndarray        # (T, D) false positives (unmatched, not ignored)
    starts: np.ndarray     # (S,)
    lengths: np.ndarray    # (S,)
    npig: np.ndarray       # (S, items) non-ignored GT per category and item
    empty_npig: np.ndarray  # (E, items) the same for categories with GT but no detection (precision 0)

    def accuracy(self, weights: np.ndarray) -> np.ndarray:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[1] != self.items:
            raise DataError(f"weights of shape {w.shape} do not fit {self.items} items.")
        n_t, n_thr = self.tps.shape[0], self.rec_thrs.size
        total = np.zeros(w.shape[0])
        count = (w @ self.empty_npig.T > 0).sum(axis=1) * float(n_t * n_thr)
        n_seg, d = self.starts.size, self.img.size
        if n_seg == 0:
            return _mean(total, count)
        npig_all = w @ self.npig.T  # (R, S)
        first = np.zeros(d, bool)
        first[self.starts] = True
        for sl in _chunks(w.shape[0], n_t * d):
            wd = w[sl][:, self.img][:, None, :]
            npig = npig_all[sl]
            tp = _segment_cumsum(wd * self.tps, self.starts, self.seg)
            fp = _segment_cumsum(wd * self.fps, self.starts, self.seg)
            with np.errstate(divide="ignore", invalid="ignore"):
                rc = tp / npig[:, None, self.seg]
            pr = tp / (fp + tp + _EPS)
            for a, n in zip(self.starts, self.lengths):  # made non-increasing from the right, per category
                pr[..., a:a + n] = np.maximum.accumulate(pr[..., a:a + n][..., ::-1], axis=-1)[..., ::-1]
            # pycocotools reads pr at searchsorted(rc, thr_j, 'left') = the first d with c[d] > j, where
            # c[d] = #{j: thr_j <= rc[d]} (rc non-decreasing, so c is); thresholds past the last detection read 0.
            # So the sum over the thresholds is  sum_d (c[d] - c[d-1]) * pr[d]  (c[-1] = 0 at each category's start).
            c = np.searchsorted(self.rec_thrs, np.nan_to_num(rc, nan=0.0, posinf=0.0), side="right").astype(np.float64)
            prev = np.concatenate([np.zeros(c.shape[:-1] + (1,)), c[..., :-1]], axis=-1)
            prev[..., first] = 0.0
            per_det = ((c - prev) * pr).sum(axis=1)  # (rows, D), summed over IoU thresholds
            per_cat = np.add.reduceat(per_det, self.starts, axis=1)  # (rows, S)
            valid = npig > 0
            total[sl] += np.where(valid, per_cat, 0.0).sum(axis=1)
            count[sl] += valid.sum(axis=1) * float(n_t * n_thr)
        return _mean(total, count)


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def _segment_cumsum(x: np.ndarray, starts: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis restarting at each run (exact: the weights are whole numbers)."""
    cs = np.cumsum(x, axis=-1)
    before = np.concatenate([np.zeros(cs.shape[:-1] + (1,)), cs[..., :-1]], axis=-1)[..., starts]
    return cs - before[..., seg]


def coco_item_records(ev: Any, item_eval_ids: Sequence[int], key: str) -> CocoItemRecords:
    """Records of ``key`` (one of ``COCO_AP_KEYS``) from a pycocotools ``COCOeval`` after ``evaluate()``
    (``metrics.coco.coco_evaluated``); ``item_eval_ids``: the COCO image id of each item, in item order."""
    if key not in COCO_AP_KEYS:
        raise DataError(f"The interval of COCO {key!r} needs per-image records that exist only for "
                        f"{', '.join(COCO_AP_KEYS)}; choose one of them as the quality.")
    iou, area = COCO_AP_KEYS[key]
    p = ev.params
    img_ids = list(p.imgIds)
    pos = {int(i): n for n, i in enumerate(img_ids)}
    missing = [i for i in item_eval_ids if int(i) not in pos]
    if missing:
        raise DataError(f"Items {missing[:5]} are not among the evaluated images; evaluate all items.")
    item_of_pos = np.full(len(img_ids), -1, np.int64)
    for n, i in enumerate(item_eval_ids):
        item_of_pos[pos[int(i)]] = n
    ts = np.arange(len(p.iouThrs)) if iou is None else np.flatnonzero(np.abs(np.asarray(p.iouThrs) - iou) < 1e-12)
    a0 = list(p.areaRngLbl).index(area)
    max_det = 100
    if max_det not in list(p.maxDets):
        raise DataError("pycocotools parameters without maxDets 100 are not supported.")
    n_img, n_area = len(img_ids), len(p.areaRng)
    runs: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    empty: list[np.ndarray] = []
    for k0 in range(len(p.catIds) if p.useCats else 1):
        base = k0 * n_area * n_img + a0 * n_img
        evs = [(i, ev.evalImgs[base + i]) for i in range(n_img)]
        evs = [(i, e) for i, e in evs if e is not None]
        if not evs:
            continue
        npig_item = np.zeros(len(item_eval_ids))
        for i, e in evs:
            if item_of_pos[i] >= 0:
                npig_item[item_of_pos[i]] += np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)
        if not npig_item.any():  # pycocotools' -1 for every multiset: never in the mean
            continue
        scores = np.concatenate([np.asarray(e["dtScores"][0:max_det], dtype=np.float64) for _, e in evs])
        img = np.concatenate([np.full(min(len(e["dtScores"]), max_det), item_of_pos[i], np.int64) for i, e in evs])
        order = np.argsort(-scores, kind="mergesort")
        dtm = np.concatenate([np.asarray(e["dtMatches"]).reshape(len(p.iouThrs), -1)[:, 0:max_det] for _, e in evs],
                             axis=1)[:, order][ts]
        dtig = np.concatenate([np.asarray(e["dtIgnore"]).reshape(len(p.iouThrs), -1)[:, 0:max_det] for _, e in evs],
                              axis=1)[:, order][ts]
        img = img[order]
        keep = img >= 0  # detections on images that are not items weigh nothing
        if not keep.any():
            empty.append(npig_item)
            continue
        tps = np.logical_and(dtm, np.logical_not(dtig))[:, keep]
        fps = np.logical_and(np.logical_not(dtm), np.logical_not(dtig))[:, keep]
        runs.append((img[keep], tps, fps, npig_item))
    n_items = len(item_eval_ids)
    lengths = np.array([r[0].size for r in runs], np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if runs else np.zeros(0, np.int64)
    return CocoItemRecords(
        key=key, items=n_items, rec_thrs=np.asarray(p.recThrs, dtype=np.float64),
        img=np.concatenate([r[0] for r in runs]) if runs else np.zeros(0, np.int64),
        seg=np.repeat(np.arange(len(runs)), lengths),
        tps=np.concatenate([r[1] for r in runs], axis=1).astype(np.float64) if runs else np.zeros((len(ts), 0)),
        fps=np.concatenate([r[2] for r in runs], axis=1).astype(np.float64) if runs else np.zeros((len(ts), 0)),
        starts=starts, lengths=lengths,
        npig=np.array([r[3] for r in runs]).reshape(len(runs), n_items),
        empty_npig=np.array(empty).reshape(len(empty), n_items))


@dataclass
class OidItemRecords:
    """OpenImages challenge per-image records; ``accuracy(W)`` -> (resamples,) mAP."""

    items: int
    # per class with GT somewhere: (item index per entry in the reference's order, tp weight per entry,
    # GT instances per item)
    classes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def accuracy(self, weights: np.ndarray) -> np.ndarray:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[1] != self.items:
            raise DataError(f"weights of shape {w.shape} do not fit {self.items} items.")
        total = np.zeros(w.shape[0])
        count = np.zeros(w.shape[0])
        for img, label, ngt_item in self.classes:
            ngt = w @ ngt_item
            valid = ngt > 0
            if img.size == 0:
                count += valid
                continue
            neg = (label <= 0).astype(np.float64)
            for sl in _chunks(w.shape[0], img.size):
                wd = w[sl][:, img]
                ctp = np.cumsum(wd * label, axis=1)
                cfp = np.cumsum(wd * neg, axis=1)
                den = ctp + cfp
                with np.errstate(divide="ignore", invalid="ignore"):
                    prec = np.where(den > 0, ctp / np.where(den > 0, den, 1), 0.0)
                    rec = ctp / ngt[sl][:, None]
                rows = wd.shape[0]
                r = np.concatenate([np.zeros((rows, 1)), rec, np.ones((rows, 1))], axis=1)
                p = np.concatenate([np.zeros((rows, 1)), prec, np.zeros((rows, 1))], axis=1)
                p = np.maximum.accumulate(p[:, ::-1], axis=1)[:, ::-1]
                dr = r[:, 1:] - r[:, :-1]
                ap = np.sum(np.where(dr != 0, dr * p[:, 1:], 0.0), axis=1)
                total[sl] += np.where(valid[sl], ap, 0.0)
            count += valid
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def oid_item_records(entries: dict[str, Any], item_image_ids: Sequence[str]) -> OidItemRecords:
    """Records from ``metrics.openimages.oid_item_entries``; ``item_image_ids``: the OID ImageID of each item."""
    gt_index = {name: n for n, name in enumerate(entries["image_ids"])}
    item_of_gt = np.full(len(entries["image_ids"]), -1, np.int64)
    for n, name in enumerate(item_image_ids):
        if name in gt_index:
            item_of_gt[gt_index[name]] = n
    out = OidItemRecords(len(item_image_ids))
    num_gt = entries["num_gt"]
    for k, (img, label) in enumerate(entries["entries"]):
        ngt_item = np.zeros(len(item_image_ids))
        has = item_of_gt >= 0
        ngt_item[item_of_gt[has]] = num_gt[has, k]
        if not ngt_item.any():
            continue
        it = item_of_gt[np.asarray(img, np.int64)]
        keep = it >= 0
        out.classes.append((it[keep], np.asarray(label, np.float64)[keep], ngt_item))
    return out
