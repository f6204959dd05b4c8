"""``jde-1088x608``: JDE (Joint Detection and Embedding, the FCM conditions' tracker) as a vcmbench
``TrackingNetwork``.

``detect(rgb)`` = letterbox to 1088x608 (:mod:`.post`), Darknet-53 + three YOLO heads (:mod:`.model`),
rows with confidence > ``conf_thres`` (0.5), NMS at ``nms_thres`` (0.4), boxes scaled back to the
frame's pixels; one L2-normalised 512-d embedding per detection, label ``person``.  It runs as
``detect_features(features(rgb), (W, H))`` — the front to the split layers, the back from them — so
the split path and the whole path give the same arrays bit for bit (the reference's ``forward``
runs its two parts the same way).

Split sets (``split`` option, default ``tvd``): ``tvd`` = outputs of layers 36, 61, 74; ``hieve`` =
105, 90, 75 (see :mod:`.layers`); ``features`` returns them named by index (``"36"`` ...), in the
condition's order.  ``new_tracker(fps)`` = the JDE association of ``vcmbench.tasks.tracking`` with the
reference's thresholds.  Weights: the published ``jde.1088x608.uncertainty.pt`` (``weights=`` /
``--task-weights`` / ``VCMBENCH_JDE_WEIGHTS``; nothing is downloaded), loaded with
``torch.load(weights_only=True)``.  Signature ``jde~1088x608#<weights sha256[:12]>~c<conf>~n<nms>``.
Threads: ``threads`` sets ``torch.set_num_threads`` (process-wide); with a fixed count the CPU
forward is deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import ConditionError, UsageError
from ..base import Detections, FrameDetections, Tracker, TrackingNetwork, check_rgb
from .layers import INPUT_H, INPUT_W, SPLITS, YOLO_LAYERS, output_shape, parse_split
from .weights import PUBLISHED_FILE, file_sha256, read_state, validate_state

NAME = "jde-1088x608"
WEIGHTS_ENV = "VCMBENCH_JDE_WEIGHTS"
CONF_THRES = 0.5  # CompressAI-Vision @31165daf jde.py model_configs defaults (and default.yaml conf_threshold)
NMS_THRES = 0.4
TRACK_BUFFER = 30
MIN_BOX_AREA = 200


def find_weights(weights: str | None) -> Path:
    w = weights or os.environ.get(WEIGHTS_ENV)
    if not w:
        raise UsageError(f"{NAME} needs the published JDE weights file {PUBLISHED_FILE}: pass --task-weights "
                         f"FILE.pt (task option weights=) or set {WEIGHTS_ENV}; nothing is downloaded.")
    p = Path(w)
    if not p.is_file():
        raise UsageError(f"JDE weights file {p} does not exist; pass the published {PUBLISHED_FILE} with "
                         "--task-weights FILE.pt.")
    return p


class JDENetwork(TrackingNetwork):
    name = NAME
    task_type = "tracking"
    classes = ("person",)
    input_convention = ("RGB uint8, letterboxed to 1088x608 (INTER_AREA, grey 128 borders, aspect kept), "
                        "float32 / 255")
    split_points = tuple(SPLITS)

    def __init__(self, weights: str | None = None, split: str | list[int] = "tvd",
                 score_threshold: float = CONF_THRES, nms_threshold: float = NMS_THRES,
                 max_detections: int = 1000, threads: int | None = None, device: str | None = None) -> None:
        super().__init__(score_threshold, max_detections)
        import torch

        from .model import JDEModel

        if device not in (None, "cpu"):
            raise UsageError(f"{NAME} runs on the CPU here; drop --device or use --device cpu.")
        self.split = parse_split(split)
        self.split_name = next((k for k, v in SPLITS.items() if v == self.split), ",".join(map(str, self.split)))
        self.feature_layers = tuple(str(i) for i in self.split)
        self.nms_threshold = float(nms_threshold)
        path = find_weights(weights)
        self.weights_sha256 = file_sha256(path)
        state = validate_state(read_state(path), str(path))
        if threads is not None:
            torch.set_num_threads(int(threads))
        self.model = JDEModel(state)
        self._torch = torch

    # ---------------------------------------------------------------------------------- description
    def signature(self) -> str:
        return f"jde~1088x608#{self.weights_sha256[:12]}~c{self.score_threshold:g}~n{self.nms_threshold:g}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": "vcmbench native JDE (torch)", "split": self.split_name,
                "nms_threshold": self.nms_threshold, "torch": self._torch.__version__,
                "weights_sha256": self.weights_sha256}

    def feature_info(self) -> dict[str, dict[str, Any]]:
        """Each split layer's (C, H, W) for the 1088x608 input (any frame: it is letterboxed) and range:
        None (LeakyReLU and shortcut sums are unbounded)."""
        return {str(i): {"shape": list(output_shape(i)), "range": None} for i in self.split}

    def complexity(self) -> dict[str, Any]:
        from .complexity import count

        return count(self.split)

    # ------------------------------------------------------------------------------------- inference
    def features(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        from .model import input_tensor
        from .post import letterbox

        rgb = check_rgb(rgb)
        with self._torch.no_grad():
            feats = self.model.front(input_tensor(letterbox(rgb)), self.split)
        return {str(i): feats[i][0].numpy() for i in self.split}

    def detect_features(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> FrameDetections:
        from .post import postprocess

        missing = [k for k in self.feature_layers if k not in features]
        if missing:
            raise UsageError(f"{NAME} (split {self.split_name}) needs features {', '.join(self.feature_layers)}; "
                             f"missing {', '.join(missing)}.")
        torch = self._torch
        given = {int(k): torch.from_numpy(np.ascontiguousarray(features[k], dtype=np.float32))[None]
                 for k in self.feature_layers}
        w, h = int(image_size[0]), int(image_size[1])
        with torch.no_grad():
            box, conf, emb = self.model.back(given, self.score_threshold)
            boxes, scores, embs = postprocess(box, conf, emb, self.nms_threshold, (h, w))
        det = Detections(boxes.astype(np.float64), scores.astype(np.float64), ["person"] * len(boxes), None, (w, h))
        return FrameDetections(det, embs)

    def detect(self, rgb: np.ndarray) -> FrameDetections:
        rgb = check_rgb(rgb)
        return self.detect_features(self.features(rgb), (rgb.shape[1], rgb.shape[0]))

    def new_tracker(self, frame_rate: float) -> Tracker:
        import importlib

        try:  # vcmbench.tasks.tracking (the association) lands separately; until then detection works alone
            tracking = importlib.import_module("vcmbench.tasks.tracking")
        except ImportError:
            raise ConditionError(f"{NAME}: the JDE association (vcmbench.tasks.tracking) is not part of this "
                                 "vcmbench yet; detect() works, tracking needs it.") from None
        return tracking.JDETracker(frame_rate)


__all__ = ["JDENetwork", "NAME", "CONF_THRES", "NMS_THRES", "YOLO_LAYERS", "INPUT_W", "INPUT_H"]
