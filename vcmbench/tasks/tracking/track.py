"""One track of the JDE tracker (the reference's ``STrack``): box, Kalman state, appearance, state.

Source: Towards-Realtime-MOT @c2654cdd ``tracker/basetrack.py`` and ``tracker/multitracker.py``
(``STrack``), as patched by CompressAI-Vision @31165daf (box arrays in float32).

* A detection enters as a ``Track`` holding its float32 ``tlwh`` (left, top, width, height), score and
  embedding; ``activate`` starts a track from it: a new id, Kalman state from its ``(x, y, a, h)``,
  state *tracked* but **not activated** (the reference leaves ``is_activated`` False at birth, so a
  track is output from the second frame it is matched in, whatever the frame number).
* ``update`` (a matched tracked track): Kalman correction, score = the detection's, activated,
  embedding smoothed.  ``re_activate`` (a lost track found again): Kalman correction, embedding
  smoothed, activated, tracked again; the score is NOT updated (as the reference).
* Embedding smoothing: each new embedding is L2-normalised in place, ``smooth = 0.9 smooth + 0.1 new``,
  renormalised (float32 throughout); the first embedding is the smoothed one (the same array,
  normalised twice in place, as the reference's aliasing does).
* Box of a track: from the Kalman mean ``(x, y, a, h)``: ``w = a h``, ``left = x - w/2``,
  ``top = y - h/2``; a detection's own box before it has a state.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from .kalman import KalmanFilter

SMOOTHING_ALPHA = 0.9  # STrack.alpha


class TrackState(IntEnum):
    NEW = 0
    TRACKED = 1
    LOST = 2
    REMOVED = 3


def tlwh_to_xyah(tlwh: np.ndarray) -> np.ndarray:
    ret = np.asarray(tlwh).copy()
    ret[:2] += ret[2:] / 2
    ret[2] /= ret[3]
    return ret


def tlbr_to_tlwh(tlbr: np.ndarray) -> np.ndarray:
    ret = np.asarray(tlbr).copy()
    ret[2:] -= ret[:2]
    return ret


class Track:
    """A detection and, once activated, a track (module docstring)."""

    def __init__(self, tlwh: np.ndarray, score: float, feat: np.ndarray | None) -> None:
        self._tlwh = np.asarray(tlwh, dtype=np.float32)
        self.score = np.float32(score)
        self.mean: np.ndarray | None = None
        self.covariance: np.ndarray | None = None
        self.kalman_filter: KalmanFilter | None = None
        self.is_activated = False
        self.state = TrackState.NEW
        self.track_id = 0
        self.frame_id = 0
        self.start_frame = 0
        self.tracklet_len = 0
        self.curr_feat: np.ndarray | None = None
        self.smooth_feat: np.ndarray | None = None
        if feat is not None:
            self.update_features(np.array(feat, dtype=np.float32))

    @property
    def end_frame(self) -> int:
        return self.frame_id

    def update_features(self, feat: np.ndarray) -> None:
        feat /= np.linalg.norm(feat)
        self.curr_feat = feat
        if self.smooth_feat is None:
            self.smooth_feat = feat
        else:
            self.smooth_feat = SMOOTHING_ALPHA * self.smooth_feat + (1 - SMOOTHING_ALPHA) * feat
        self.smooth_feat /= np.linalg.norm(self.smooth_feat)

    @property
    def tlwh(self) -> np.ndarray:
        if self.mean is None:
            return self._tlwh.copy()
        ret = self.mean[:4].copy()
        ret[2] *= ret[3]
        ret[:2] -= ret[2:] / 2
        return ret

    @property
    def tlbr(self) -> np.ndarray:
        ret = self.tlwh.copy()
        ret[2:] += ret[:2]
        return ret

    def to_xyah(self) -> np.ndarray:
        return tlwh_to_xyah(self.tlwh)

    def activate(self, kalman_filter: KalmanFilter, frame_id: int, track_id: int) -> None:
        self.kalman_filter = kalman_filter
        self.track_id = track_id
        self.mean, self.covariance = kalman_filter.initiate(tlwh_to_xyah(self._tlwh))
        self.tracklet_len = 0
        self.state = TrackState.TRACKED
        self.frame_id = frame_id
        self.start_frame = frame_id

    def re_activate(self, det: "Track", frame_id: int) -> None:
        assert self.kalman_filter is not None
        self.mean, self.covariance = self.kalman_filter.update(self.mean, self.covariance, tlwh_to_xyah(det.tlwh))
        if det.curr_feat is not None:
            self.update_features(det.curr_feat)
        self.tracklet_len = 0
        self.state = TrackState.TRACKED
        self.is_activated = True
        self.frame_id = frame_id

    def update(self, det: "Track", frame_id: int) -> None:
        assert self.kalman_filter is not None
        self.frame_id = frame_id
        self.tracklet_len += 1
        self.mean, self.covariance = self.kalman_filter.update(self.mean, self.covariance, tlwh_to_xyah(det.tlwh))
        self.state = TrackState.TRACKED
        self.is_activated = True
        self.score = det.score
        if det.curr_feat is not None:
            self.update_features(det.curr_feat)

    def mark_lost(self) -> None:
        self.state = TrackState.LOST

    def mark_removed(self) -> None:
        self.state = TrackState.REMOVED

    def __repr__(self) -> str:
        return f"Track({self.track_id}, {self.state.name}, frames {self.start_frame}-{self.end_frame})"


def multi_predict(tracks: list[Track], kf: KalmanFilter) -> None:
    """Kalman prediction of every track in ``tracks`` (a lost track's height velocity is zeroed first)."""
    if not tracks:
        return
    multi_mean = np.asarray([t.mean.copy() for t in tracks])
    multi_cov = np.asarray([t.covariance for t in tracks])
    for i, t in enumerate(tracks):
        if t.state != TrackState.TRACKED:
            multi_mean[i][7] = 0
    multi_mean, multi_cov = kf.multi_predict(multi_mean, multi_cov)
    for i, (mean, cov) in enumerate(zip(multi_mean, multi_cov)):
        tracks[i].mean = mean
        tracks[i].covariance = cov


def joint_tracks(a: list[Track], b: list[Track]) -> list[Track]:
    """``a`` then the tracks of ``b`` whose id is not in ``a`` (the reference's ``joint_stracks``)."""
    seen = {t.track_id for t in a}
    out = list(a)
    for t in b:
        if t.track_id not in seen:
            seen.add(t.track_id)
            out.append(t)
    return out


def sub_tracks(a: list[Track], b: list[Track]) -> list[Track]:
    """The tracks of ``a`` whose id is not in ``b``, in ``a``'s order (later duplicates of an id in ``a``
    replace earlier ones, as the reference's dict does)."""
    by_id: dict[int, Track] = {}
    for t in a:
        by_id[t.track_id] = t
    for t in b:
        by_id.pop(t.track_id, None)
    return list(by_id.values())
