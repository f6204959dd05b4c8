"""Association costs and the thresholded linear assignment of the JDE tracker.

Sources: Towards-Realtime-MOT @c2654cdd ``tracker/matching.py`` as patched by CompressAI-Vision
@31165daf (``scripts/install_utils/patches/0001-jde-interface-with-compressai-vision.patch``: IoU and
embedding arrays in float32) and its IoU kernel ``cython_bbox`` @9badb346 patched to float32
(``0001-cython_bbox-compatible-with-numpy-1.24.1.patch``):

* IoU: the Fast R-CNN ``bbox_overlaps`` with the "+1 pixel" convention (width = x2 - x1 + 1) computed
  in float32 arithmetic, one rounding per operation, as the compiled kernel does; 0 where the
  "+1" intersection width or height is not positive.  IoU distance = ``1 - IoU`` (float32).
* Embedding distance: the reference asks ``cdist(tracks' smoothed features, detections' features)``
  with scipy's default metric, i.e. the **Euclidean** distance between the L2-normalised float32
  embeddings (its ``metric='cosine'`` argument is never passed on), clipped at 0.
* Motion fusion (``fuse_motion``, lambda 0.98): entries whose squared Mahalanobis distance between the
  track's predicted ``(x, y, a, h)`` and the detection exceeds ``CHI2INV95[4]`` (9.4877) become
  infinite; then ``cost = 0.98 cost + (1 - 0.98) mahalanobis``.
* Assignment: ``lap.lapjv(cost, extend_cost=True, cost_limit=thresh)``; a pair is matched when the
  solver pairs it, unmatched rows/columns are those it leaves at -1.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .kalman import CHI2INV95, KalmanFilter


def bbox_ious(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, K)`` float32 IoU of ``x1, y1, x2, y2`` boxes (module docstring: "+1" convention, float32)."""
    a = np.ascontiguousarray(a, dtype=np.float32).reshape(-1, 4)
    b = np.ascontiguousarray(b, dtype=np.float32).reshape(-1, 4)
    out = np.zeros((len(a), len(b)), dtype=np.float32)
    if out.size == 0:
        return out
    one = np.float32(1)
    area_b = ((b[:, 2] - b[:, 0]) + one) * ((b[:, 3] - b[:, 1]) + one)  # (K,)
    area_a = ((a[:, 2] - a[:, 0]) + one) * ((a[:, 3] - a[:, 1]) + one)  # (N,)
    iw = (np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])) + one
    ih = (np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])) + one
    ok = (iw > 0) & (ih > 0)
    inter = iw * ih
    ua = (area_a[:, None] + area_b[None, :]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out[ok] = (inter / ua)[ok]
    return out


def iou_distance(atlbrs: Sequence[np.ndarray], btlbrs: Sequence[np.ndarray]) -> np.ndarray:
    """``1 - IoU`` (float32) between two lists of ``x1, y1, x2, y2`` boxes; shape ``(len(a), len(b))``."""
    if len(atlbrs) == 0 or len(btlbrs) == 0:
        return np.ones((len(atlbrs), len(btlbrs)), dtype=np.float32)
    return 1 - bbox_ious(np.asarray(atlbrs, dtype=np.float32), np.asarray(btlbrs, dtype=np.float32))


def embedding_distance(track_feats: Sequence[np.ndarray], det_feats: Sequence[np.ndarray]) -> np.ndarray:
    """Euclidean distance (float64) between tracks' smoothed and detections' current float32 embeddings."""
    if len(track_feats) == 0 or len(det_feats) == 0:
        return np.zeros((len(track_feats), len(det_feats)), dtype=np.float32)
    from scipy.spatial.distance import cdist

    d = np.asarray(det_feats, dtype=np.float32)
    t = np.asarray(track_feats, dtype=np.float32)
    return np.maximum(0.0, cdist(t, d))


def fuse_motion(kf: KalmanFilter, cost: np.ndarray, means: Sequence[np.ndarray], covariances: Sequence[np.ndarray],
                measurements: np.ndarray, lambda_: float = 0.98) -> np.ndarray:
    """Gate ``cost`` (tracks x detections, modified in place and returned) by the chi-square 95 % bound on
    the Mahalanobis distance of each detection's ``(x, y, a, h)`` to each track's prediction, and mix it in."""
    if cost.size == 0:
        return cost
    gating_threshold = CHI2INV95[4]
    for row, (mean, cov) in enumerate(zip(means, covariances)):
        gd = kf.gating_distance(mean, cov, measurements)
        cost[row, gd > gating_threshold] = np.inf
        cost[row] = lambda_ * cost[row] + (1 - lambda_) * gd
    return cost


def linear_assignment(cost: np.ndarray, thresh: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Matches ``[(row, col)]`` in row order, unmatched rows and unmatched columns (ascending) of the
    minimum-cost assignment with pairs costing more than ``thresh`` left out (``lap.lapjv`` as the reference)."""
    if cost.size == 0:
        return [], list(range(cost.shape[0])), list(range(cost.shape[1]))
    import lap

    _, x, y = lap.lapjv(cost, extend_cost=True, cost_limit=thresh)
    matches = [(int(i), int(j)) for i, j in enumerate(x) if j >= 0]
    return matches, [int(i) for i in np.where(x < 0)[0]], [int(j) for j in np.where(y < 0)[0]]
