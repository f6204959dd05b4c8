"""SSD anchors and post-processing as OpenCV DNN's ``PriorBox`` and ``DetectionOutput`` layers compute them.

Written to reproduce OpenCV (the reference backend) number for number, in float32 as it computes:

* ``PriorBox`` (explicit widths/heights, ``offset`` 0.5, no clipping): for each feature-map cell
  ``(row, col)`` in row-major order and each of its anchors in the listed order, centre
  ``((col + 0.5) * step_x, (row + 0.5) * step_y)`` with ``step = input_size / map_size``, box
  ``(cx - w/2) / input_w, (cy - h/2) / input_h, (cx + w/2) / input_w, (cy + h/2) / input_h``.
  The order (cell, then anchor) is the TF OD API's too: its box-predictor outputs, read in NHWC
  order, line up with it.
* Box decoding, ``CENTER_SIZE`` with the prior's variances (0.1, 0.1, 0.2, 0.2 = the TF OD API
  ``FasterRcnnBoxCoder`` scales 10, 10, 5, 5).  The predictor gives TF's ``[ty, tx, th, tw]``;
  ``cx = v0 * tx * pw + pcx``, ``cy = v1 * ty * ph + pcy``, ``w = exp(v2 * tw) * pw``,
  ``h = exp(v3 * th) * ph``; no clipping.
* Scores: sigmoid of the class logits; class 0 is background.
* Per class: candidates with score ``> confidence_threshold`` (strict), sorted by score (ties: anchor
  order), the first ``top_k``; greedy NMS dropping a box whose IoU with a kept one is ``> nms_threshold``
  (IoU without the +1 of pixel boxes).  Then, over all classes, the ``keep_top_k`` best.
"""

from __future__ import annotations

import numpy as np

from .ssd_graph import Prior


def prior_boxes(priors: list[Prior], map_sizes: list[tuple[int, int]], input_size: tuple[int, int]) -> np.ndarray:
    """``(N, 4)`` float32 normalised ``xmin, ymin, xmax, ymax`` of every anchor, and ``(N, 4)`` variances."""
    boxes, variances = [], []
    img_w, img_h = np.float32(input_size[0]), np.float32(input_size[1])
    for p, (mh, mw) in zip(priors, map_sizes):
        step_x, step_y = img_w / np.float32(mw), img_h / np.float32(mh)
        cx = (np.arange(mw, dtype=np.float32) + np.float32(p.offset)) * step_x
        cy = (np.arange(mh, dtype=np.float32) + np.float32(p.offset)) * step_y
        cx = np.broadcast_to(cx[None, :, None], (mh, mw, len(p.widths)))
        cy = np.broadcast_to(cy[:, None, None], (mh, mw, len(p.widths)))
        hw, hh = p.widths * np.float32(0.5), p.heights * np.float32(0.5)
        b = np.stack([(cx - hw) / img_w, (cy - hh) / img_h, (cx + hw) / img_w, (cy + hh) / img_h], axis=-1)
        if p.clip:
            b = np.clip(b, 0, 1)
        boxes.append(b.reshape(-1, 4).astype(np.float32))
        variances.append(np.broadcast_to(p.variance, (mh * mw * len(p.widths), 4)))
    return np.concatenate(boxes), np.concatenate(variances).astype(np.float32)


def decode(loc: np.ndarray, priors: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``loc`` ``(N, 4)`` TF ``[ty, tx, th, tw]`` -> ``(N, 4)`` float32 ``xmin, ymin, xmax, ymax`` (normalised)."""
    pw = priors[:, 2] - priors[:, 0]
    ph = priors[:, 3] - priors[:, 1]
    pcx = (priors[:, 0] + priors[:, 2]) * np.float32(0.5)
    pcy = (priors[:, 1] + priors[:, 3]) * np.float32(0.5)
    cx = var[:, 0] * loc[:, 1] * pw + pcx
    cy = var[:, 1] * loc[:, 0] * ph + pcy
    w = np.exp(var[:, 2] * loc[:, 3]) * pw
    h = np.exp(var[:, 3] * loc[:, 2]) * ph
    half = np.float32(0.5)
    return np.stack([cx - w * half, cy - h * half, cx + w * half, cy + h * half], axis=1).astype(np.float32)


def iou_matrix(b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of normalised boxes (float32, ``inter / (area1 + area2 - inter)``; 0 without overlap)."""
    iw = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0])
    ih = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1])
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    inter = iw * ih
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / (area[:, None] + area[None, :] - inter)
    return np.where((iw > 0) & (ih > 0), iou, np.float32(0)).astype(np.float32)


def nms(boxes: np.ndarray, order: np.ndarray, threshold: np.float32) -> list[int]:
    """Greedy NMS over ``boxes[order]`` (best first): indices (into ``boxes``) kept."""
    b = boxes[order]
    iou = iou_matrix(b)
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(int(order[i]))
        suppressed |= iou[i] > threshold
    return keep


def detection_output(loc: np.ndarray, logits: np.ndarray, priors: np.ndarray, var: np.ndarray,
                     attrs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV ``DetectionOutput``: ``(boxes (K, 4) normalised, scores (K,), class ids (K,))``, best first."""
    conf_thr = np.float32(attrs.get("confidence_threshold", 0.01))
    nms_thr = np.float32(attrs.get("nms_threshold", 0.6))
    top_k = int(attrs.get("top_k", 100))
    keep_top_k = int(attrs.get("keep_top_k", 100))
    num_classes = int(attrs.get("num_classes", logits.shape[1]))
    boxes = decode(loc.astype(np.float32), priors, var)
    scores = (np.float32(1) / (np.float32(1) + np.exp(-logits.astype(np.float32)))).astype(np.float32)
    kept_scores, kept_boxes, kept_cls = [], [], []
    for c in range(1, num_classes):
        s = scores[:, c]
        cand = np.nonzero(s > conf_thr)[0]
        if cand.size == 0:
            continue
        cand = cand[np.argsort(-s[cand], kind="stable")][:top_k]
        for i in nms(boxes, cand, nms_thr):
            kept_scores.append(s[i])
            kept_boxes.append(boxes[i])
            kept_cls.append(c)
    if not kept_scores:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    sc = np.asarray(kept_scores, dtype=np.float32)
    order = np.argsort(-sc, kind="stable")[:keep_top_k]
    return np.asarray(kept_boxes, np.float32)[order], sc[order], np.asarray(kept_cls, np.int64)[order]
