"""Multi-object tracking association (issue 23): the JDE tracker of the FCM conditions.

* ``kalman``: the 8-d constant-velocity Kalman filter over ``(x, y, a, h)``, chi-square gating bounds.
* ``matching``: IoU ("+1 pixel", float32) and embedding distances, motion fusion, ``lap`` assignment.
* ``track``: one track (the reference's ``STrack``) and the list operations of the reference.
* ``jde``: ``JDETracker(frame_rate, ...)``, a ``tasks.base.Tracker`` equal to CompressAI-Vision's
  ``jde_1088x608._jde_process`` association; ``JDETracker(embeddings=False)`` the same without
  appearance (the SSD tracker).

Everything here is numpy/scipy/lap only (no torch).
"""

from .jde import CONF_THRES, MIN_BOX_AREA, REFERENCE_FRAME_RATE, TRACK_BUFFER, JDETracker
from .kalman import CHI2INV95, KalmanFilter

__all__ = ["JDETracker", "KalmanFilter", "CHI2INV95", "CONF_THRES", "TRACK_BUFFER", "REFERENCE_FRAME_RATE",
           "MIN_BOX_AREA"]
