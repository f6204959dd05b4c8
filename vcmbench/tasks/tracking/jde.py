"""``JDETracker``: the association step of the JDE tracker exactly as CompressAI-Vision runs it.

Source: CompressAI-Vision @31165daf ``compressai_vision/model_wrappers/jde.py``
(``jde_1088x608._jde_process`` and the output filter of ``forward`` / ``_feature_pyramid_to_output``)
with Towards-Realtime-MOT @c2654cdd ``tracker/*.py`` as CompressAI-Vision patches them.  Per frame
(``frame_id`` counts from 0):

0. Detections: rows with score > ``conf_thres`` (the reference's ``pred[..., 4] > conf_thres`` before
   NMS; the network has already applied it and NMS), as float32 ``tlwh``; zero-height boxes dropped.
1. Tracks not yet activated (born last frame) are set aside; the pool = activated tracked tracks +
   lost tracks; every pool track is Kalman-predicted.
2. First association: embedding distance (Euclidean between L2-normalised embeddings) fused with
   motion (chi-square 95 % gate, 0.98/0.02), assignment threshold **0.7**.  A matched tracked track
   is updated, a matched lost track re-activated (same id).
3. Second association: the pool's still-unmatched *tracked* tracks against the unmatched detections by
   IoU distance (``1 - IoU``, "+1 pixel" IoU), threshold **0.5**; tracks still unmatched become lost.
4. The set-aside unconfirmed tracks against the remaining detections by IoU distance, threshold
   **0.7**: matched ones are updated (and so activated), the others removed.
5. Each remaining detection with score >= ``conf_thres`` starts a new track (new id, not activated).
6. Lost tracks (from before this frame) with ``frame_id - last matched frame > max_time_lost`` are
   removed, ``max_time_lost = int(frame_rate / 30 * track_buffer)``.
7. Bookkeeping exactly as the reference (``joint_stracks`` / ``sub_stracks`` by id, then duplicates:
   a tracked and a lost track with IoU distance < 0.15 — the one tracked for fewer frames is dropped
   from its list, the lost one on ties).
Output = activated tracked tracks, in list order, then the reference's output filter: kept when
``w * h > min_box_area`` (200) and not ``w / h > 1.6``.

Defaults are the reference wrapper's: ``conf_thres`` 0.5, ``track_buffer`` 30, ``frame_rate`` 30 and
``min_box_area`` 200 (``jde.py`` ``model_configs``).  The FCM configurations never set ``frame_rate``
(``cfgs/vision_model/default.yaml``), so the committee's runs keep a lost track for 30 frames at every
sequence frame rate (TVD is 50 fps): ``REFERENCE_FRAME_RATE``.

Track ids: the reference takes them from a class-wide counter (``BaseTrack._count``) that is never
reset; the committee evaluates one sequence per process, so its ids start at 1 per sequence.  Here the
counter belongs to the tracker instance (a new tracker per sequence): ids from 1, equal to the
reference's in a fresh process (ids only need to be consistent within a sequence for MOTA/IDF1).

``JDETracker(embeddings=False)`` is the same association without appearance (the SSD tracker): step 2
uses the IoU distance between the predicted pool tracks and the detections in place of the embedding
distance (then the same motion fusion and 0.7 threshold); everything else is unchanged.

Numerics mirror the reference in the committee's environment (NumPy 1.x, float32 boxes and IoU, see
``kalman`` and ``matching``); tests/golden/test_tracker_golden.py compares ids and boxes with the
original code.
"""

from __future__ import annotations

import numpy as np

from ...core.errors import DataError, UsageError
from ..base import FrameDetections, Tracker, Tracks
from .kalman import KalmanFilter
from .matching import embedding_distance, fuse_motion, iou_distance, linear_assignment
from .track import Track, TrackState, joint_tracks, multi_predict, sub_tracks, tlbr_to_tlwh

CONF_THRES = 0.5
TRACK_BUFFER = 30
REFERENCE_FRAME_RATE = 30.0
MIN_BOX_AREA = 200.0
MAX_ASPECT = 1.6  # output filter: w / h > 1.6 is dropped
EMBEDDING_THRESH = 0.7
IOU_THRESH = 0.5
UNCONFIRMED_THRESH = 0.7
DUPLICATE_THRESH = 0.15


class JDETracker(Tracker):
    """The JDE association (module docstring); one instance per sequence."""

    def __init__(self, frame_rate: float = REFERENCE_FRAME_RATE, conf_thres: float = CONF_THRES,
                 track_buffer: int = TRACK_BUFFER, min_box_area: float = MIN_BOX_AREA,
                 embeddings: bool = True) -> None:
        if not frame_rate or frame_rate <= 0:
            raise UsageError(f"JDETracker: frame_rate must be positive, got {frame_rate!r}; pass the sequence's "
                             f"frames per second (the reference uses {REFERENCE_FRAME_RATE:g}).")
        self.frame_rate = float(frame_rate)
        self.conf_thres = float(conf_thres)
        self.track_buffer = int(track_buffer)
        self.min_box_area = float(min_box_area)
        self.embeddings = bool(embeddings)
        self.max_time_lost = int(self.frame_rate / 30.0 * self.track_buffer)
        self.kalman_filter = KalmanFilter()
        self.tracked: list[Track] = []
        self.lost: list[Track] = []
        self.removed_ids: set[int] = set()
        self.frame_id = 0
        self._last_id = 0

    def describe(self) -> dict[str, object]:
        return {"association": "jde" if self.embeddings else "jde-iou (no embeddings)",
                "conf_thres": self.conf_thres, "track_buffer": self.track_buffer, "frame_rate": self.frame_rate,
                "max_time_lost": self.max_time_lost, "min_box_area": self.min_box_area,
                "thresholds": {"first": EMBEDDING_THRESH, "iou": IOU_THRESH, "unconfirmed": UNCONFIRMED_THRESH}}

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def _detections(self, frame: FrameDetections) -> list[Track]:
        det = frame.detections
        emb = frame.embeddings
        if self.embeddings and emb is None and len(det):
            raise DataError("JDETracker: the frame's detections carry no embeddings; a JDE network gives them "
                            "(use JDETracker(embeddings=False) for an IoU-only detector such as the SSD).")
        keep = np.flatnonzero(det.scores.astype(np.float32) > np.float32(self.conf_thres))
        tracks = []
        for i in keep:
            tlwh = tlbr_to_tlwh(det.boxes[i].astype(np.float32))
            feat = emb[i] if (self.embeddings and emb is not None) else None
            tracks.append(Track(tlwh, det.scores[i], feat))
        return [t for t in tracks if t._tlwh[3] != 0]

    def update(self, frame: FrameDetections) -> Tracks:
        detections = self._detections(frame)
        activated: list[Track] = []
        refound: list[Track] = []
        lost: list[Track] = []
        removed: list[Track] = []

        unconfirmed = [t for t in self.tracked if not t.is_activated]
        confirmed = [t for t in self.tracked if t.is_activated]

        # Step 2: first association (embeddings, or IoU without them) fused with motion.
        pool = joint_tracks(confirmed, self.lost)
        multi_predict(pool, self.kalman_filter)
        if self.embeddings:
            dists = embedding_distance([t.smooth_feat for t in pool], [d.curr_feat for d in detections])
        else:
            dists = iou_distance([t.tlbr for t in pool], [d.tlbr for d in detections]).astype(np.float64)
        if dists.size:
            measurements = np.asarray([d.to_xyah() for d in detections])
            dists = fuse_motion(self.kalman_filter, dists, [t.mean for t in pool], [t.covariance for t in pool],
                                measurements)
        matches, u_track, u_det = linear_assignment(dists, EMBEDDING_THRESH)
        for it, idet in matches:
            track, det = pool[it], detections[idet]
            if track.state == TrackState.TRACKED:
                track.update(det, self.frame_id)
                activated.append(track)
            else:
                track.re_activate(det, self.frame_id)
                refound.append(track)

        # Step 3: second association by IoU, tracked tracks only.
        detections = [detections[i] for i in u_det]
        r_tracked = [pool[i] for i in u_track if pool[i].state == TrackState.TRACKED]
        dists = iou_distance([t.tlbr for t in r_tracked], [d.tlbr for d in detections])
        matches, u_track, u_det = linear_assignment(dists, IOU_THRESH)
        for it, idet in matches:
            track, det = r_tracked[it], detections[idet]
            track.update(det, self.frame_id)  # r_tracked holds tracked tracks only
            activated.append(track)
        for it in u_track:
            track = r_tracked[it]
            if track.state != TrackState.LOST:
                track.mark_lost()
                lost.append(track)

        # Step 4: unconfirmed tracks (born last frame) by IoU.
        detections = [detections[i] for i in u_det]
        dists = iou_distance([t.tlbr for t in unconfirmed], [d.tlbr for d in detections])
        matches, u_unconfirmed, u_det = linear_assignment(dists, UNCONFIRMED_THRESH)
        for it, idet in matches:
            unconfirmed[it].update(detections[idet], self.frame_id)
            activated.append(unconfirmed[it])
        for it in u_unconfirmed:
            unconfirmed[it].mark_removed()
            removed.append(unconfirmed[it])

        # Step 5: new tracks.
        for inew in u_det:
            track = detections[inew]
            if track.score < np.float32(self.conf_thres):
                continue
            track.activate(self.kalman_filter, self.frame_id, self._new_id())
            activated.append(track)

        # Step 6: lost tracks past the buffer (the lost list as it was before this frame).
        for track in self.lost:
            if self.frame_id - track.end_frame > self.max_time_lost:
                track.mark_removed()
                removed.append(track)

        # Step 7: bookkeeping (reference order).
        self.tracked = [t for t in self.tracked if t.state == TrackState.TRACKED]
        self.tracked = joint_tracks(self.tracked, activated)
        self.tracked = joint_tracks(self.tracked, refound)
        self.lost = sub_tracks(self.lost, self.tracked)
        self.lost.extend(lost)
        self.lost = [t for t in self.lost if t.track_id not in self.removed_ids]
        self.removed_ids.update(t.track_id for t in removed)
        self.tracked, self.lost = _remove_duplicates(self.tracked, self.lost)

        out = [t for t in self.tracked if t.is_activated]
        self.frame_id += 1
        return self._output(out, frame.detections.image_size)

    def _output(self, tracks: list[Track], image_size: tuple[int, int]) -> Tracks:
        ids, boxes, scores = [], [], []
        for t in tracks:
            tlwh = t.tlwh
            with np.errstate(divide="ignore", invalid="ignore"):
                wide = tlwh[2] / tlwh[3] > MAX_ASPECT
            if tlwh[2] * tlwh[3] > self.min_box_area and not wide:
                ids.append(t.track_id)
                boxes.append(np.asarray(tlwh, dtype=np.float64))
                scores.append(float(t.score))
        return Tracks(np.asarray(ids, dtype=np.int64), np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
                      np.asarray(scores, dtype=np.float64), tuple(image_size))


def _remove_duplicates(a: list[Track], b: list[Track]) -> tuple[list[Track], list[Track]]:
    """The reference's ``remove_duplicate_stracks``: for each (tracked, lost) pair with IoU distance < 0.15,
    drop the one tracked for fewer frames (the tracked one on a tie)."""
    pdist = iou_distance([t.tlbr for t in a], [t.tlbr for t in b])
    dup_a, dup_b = set(), set()
    for p, q in zip(*np.where(pdist < DUPLICATE_THRESH)):
        time_p = a[p].frame_id - a[p].start_frame
        time_q = b[q].frame_id - b[q].start_frame
        if time_p > time_q:
            dup_b.add(int(q))
        else:
            dup_a.add(int(p))
    return [t for i, t in enumerate(a) if i not in dup_a], [t for i, t in enumerate(b) if i not in dup_b]
