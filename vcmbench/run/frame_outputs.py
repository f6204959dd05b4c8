"""The task's output on each frame of a sequence, in order: ``Detections`` JSON for a detector, ``Tracks`` JSON
for a tracker (``tasks.base.TrackingNetwork``: one association state over the whole sequence, frames in order).

Every video job (uncompressed reference, coded pixels, coded features) goes through :class:`FrameOutputs`, so a
sequence is scored the same way whichever path made its frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class FrameOutputs:
    """``rgb(frame)`` or ``features(feats, (W, H))`` once per frame, in order; each returns the frame's JSON."""

    def __init__(self, task: Any, fps: float) -> None:
        from ..tasks.base import TrackingNetwork

        self.task = task
        self.tracker = task.new_tracker(float(fps)) if isinstance(task, TrackingNetwork) else None

    @property
    def tracking(self) -> bool:
        return self.tracker is not None

    def rgb(self, rgb: np.ndarray) -> dict[str, Any]:
        if self.tracker is None:
            return self.task.run(rgb).to_json()
        return self.tracker.update(self.task.detect(rgb)).to_json()

    def features(self, feats: dict[str, np.ndarray], image_size: tuple[int, int]) -> dict[str, Any]:
        if self.tracker is None:
            return self.task.head(feats, image_size).to_json()
        return self.tracker.update(self.task.detect_features(feats, image_size)).to_json()
