"""vcmbench.tasks.tracking: the JDE association's behaviour on constructed detections (the exactness
against the original code is tests/golden/test_tracker_golden.py)."""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.core.errors import DataError, UsageError
from vcmbench.tasks.base import Detections, FrameDetections
from vcmbench.tasks.tracking import JDETracker, KalmanFilter
from vcmbench.tasks.tracking.matching import bbox_ious


def _frame(boxes, scores=None, embs=None, size=(640, 480)) -> FrameDetections:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = [0.9] * len(boxes) if scores is None else scores
    return FrameDetections(Detections(boxes, scores, ["person"] * len(boxes), image_size=size), embs)


def _walk(f: int, hidden: tuple[int, int] | None = None):
    """Two people walking towards each other's side (no overlap); the first one hidden in ``hidden``."""
    boxes = [[100 + 3 * f, 100, 140 + 3 * f, 200], [500 - 3 * f, 260, 545 - 3 * f, 380]]
    if hidden and hidden[0] <= f < hidden[1]:
        boxes = boxes[1:]
    return boxes


def test_iou_only_association_keeps_ids_and_outputs_from_the_second_frame():
    t = JDETracker(30, embeddings=False)
    outs = [t.update(_frame(_walk(f))) for f in range(10)]
    assert len(outs[0]) == 0  # a new track is output from its second matched frame (reference)
    assert [o.ids.tolist() for o in outs[1:]] == [[1, 2]] * 9
    assert outs[-1].tlwh[0, 0] == pytest.approx(100 + 27, abs=1.5)
    assert outs[-1].image_size == (640, 480)


def test_embeddings_are_required_unless_turned_off():
    with pytest.raises(DataError, match="embeddings=False"):
        JDETracker(30).update(_frame(_walk(0)))
    with pytest.raises(UsageError, match="frame_rate"):
        JDETracker(0)


def test_lost_buffer_scales_with_frame_rate():
    """Hidden for 40 frames: beyond the 30-frame buffer at 30 fps (new id when it reappears), within the
    60-frame buffer at 60 fps (same id: found again by motion + IoU)."""
    def run(fr):
        t = JDETracker(fr, embeddings=False)
        last = None
        for f in range(60):
            b = [[100, 100, 140, 200], [500, 260, 545, 380]]
            if 5 <= f < 45:
                b = b[1:]
            last = t.update(_frame(b))
        return sorted(last.ids.tolist())
    assert JDETracker(30).max_time_lost == 30 and JDETracker(50).max_time_lost == 50
    assert run(30.0) == [2, 3]
    assert run(60.0) == [1, 2]


def test_ids_start_at_one_per_tracker_and_output_filter():
    for _ in range(2):
        t = JDETracker(30, embeddings=False)
        boxes = [[100, 100, 140, 200], [300, 100, 420, 160], [500, 100, 510, 115]]  # ok, w/h 2, area 150
        outs = [t.update(_frame(boxes)) for _ in range(3)]
        assert outs[-1].ids.tolist() == [1]


def test_scores_at_or_below_the_threshold_start_no_track():
    t = JDETracker(30, embeddings=False)
    outs = [t.update(_frame([[100, 100, 140, 200], [300, 100, 340, 200]], [0.5, 0.51])) for _ in range(3)]
    assert outs[-1].ids.tolist() == [1] and outs[-1].scores.tolist() == pytest.approx([0.51])


def test_embedding_identity_wins_over_position_when_people_cross():
    """Two people exchange places in one frame (both within the motion gate): with embeddings the ids follow
    appearance; the IoU-only association follows the boxes."""
    e = np.eye(2, 8, dtype=np.float32)
    a, b = [200, 100, 240, 200], [206, 100, 246, 200]
    res = {}
    for emb in (True, False):
        t = JDETracker(30, embeddings=emb)
        for f in range(4):
            t.update(_frame([a, b], embs=e if emb else None))
        out = t.update(_frame([b, a], embs=e if emb else None))  # swapped positions, same appearance order
        res[emb] = dict(zip(out.ids.tolist(), np.round(out.tlwh[:, 0]).tolist()))
    assert res[True][1] > res[True][2]  # id 1 (appearance 0) followed to the right
    assert res[False][1] < res[False][2]


def test_iou_uses_the_plus_one_pixel_convention_in_float32():
    """cython_bbox (Fast R-CNN bbox_overlaps): widths x2 - x1 + 1; [0,0,10,10] vs [5,5,15,15]:
    36 / (121 + 121 - 36) = 0.17475729 (the value the reference kernel returns)."""
    iou = bbox_ious(np.array([[0, 0, 10, 10]]), np.array([[5, 5, 15, 15], [11, 0, 20, 10], [10, 0, 20, 10]]))
    assert iou.dtype == np.float32
    assert iou[0, 0] == np.float32(36 / 206)
    assert iou[0, 1] == 0 and iou[0, 2] == np.float32(11 / (121 + 121 - 11))


def test_kalman_constant_velocity_prediction():
    kf = KalmanFilter()
    mean, cov = kf.initiate(np.array([100.0, 50.0, 0.5, 80.0], dtype=np.float32))
    assert mean.dtype == np.float32 and cov.dtype == np.float64
    assert cov[0, 0] == pytest.approx((2 / 20 * 80) ** 2) and cov[4, 4] == pytest.approx((10 / 160 * 80) ** 2)
    for x in (104.0, 108.0, 112.0, 116.0):
        m, c = kf.multi_predict(mean[None].astype(np.float64), cov[None])
        mean, cov = kf.update(m[0], c[0], np.array([x, 50.0, 0.5, 80.0]))
    m, _ = kf.multi_predict(mean[None], cov[None])
    assert 116 < m[0, 0] < 120.5 and m[0, 4] > 2
