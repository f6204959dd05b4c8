"""A tiny split-capable task network for tests of the study machinery (not a real detector).

``features``: the image resized to 32x32 (OpenCV area), three layers of 4 channels (R, G, B, grey)
at 16x16, 8x8 and 4x4 (mean-pooled).  ``head``: one ``person`` box in the image centre, its score a
function of the layers' means — so distortions move the score, and the output is deterministic.
Registered as ``toy-split`` on import (once).
"""

from __future__ import annotations

import numpy as np

from vcmbench.tasks.base import TASKS, Detections, TaskNetwork, check_rgb

NAME = "toy-split"


class ToySplit(TaskNetwork):
    name = NAME
    task_type = "detection"
    classes = ("person",)
    split_points = ("toy",)
    feature_layers = ("t0", "t1", "t2")

    def signature(self) -> str:
        return "toy-split#0"

    def features(self, rgb):
        import cv2

        a = cv2.resize(check_rgb(rgb), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        x = np.concatenate([a.transpose(2, 0, 1), a.mean(axis=2)[None]], axis=0)
        out = {}
        for name, s in zip(self.feature_layers, (2, 4, 8)):
            c, h, w = x.shape
            out[name] = x.reshape(c, h // s, s, w // s, s).mean(axis=(2, 4)).astype(np.float32)
        return out

    def head(self, features, image_size):
        w, h = image_size
        m = float(np.mean([features[k].mean() for k in self.feature_layers]))
        score = float(1 / (1 + np.exp(-8 * (m - 0.4))))
        return Detections([[w * 0.25, h * 0.25, w * 0.75, h * 0.75]], [score], ["person"], None, (w, h))

    def run(self, rgb):
        rgb = check_rgb(rgb)
        return self.head(self.features(rgb), (rgb.shape[1], rgb.shape[0]))


if NAME not in TASKS.names():
    TASKS.register(NAME)(ToySplit)
