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
condition's order.  ``split_points`` lists the set the network was built for first, then the other
(``("hieve", "tvd")`` for ``split="hieve"``): ``features`` always returns the built set, so a runner
builds the network with the task option ``split`` = the condition's split point (``run.run_common.split_option``).  ``new_tracker(fps)`` = the JDE association of ``vcmbench.tasks.tracking`` with the
reference's settings (``track_frame_rate`` 30 whatever the sequence's rate, ``track_buffer`` 30,
``min_box_area`` 200).  ``max_detections`` is not applied: the reference keeps every detection after
NMS.  Weights: the published ``jde.1088x608.uncertainty.pt`` (``weights=`` /
``--task-weights`` / ``VCMBENCH_JDE_WEIGHTS``; nothing is downloaded), loaded with
``torch.load(weights_only=True)``.  Signature ``jde~1088x608#<weights sha256[:12]>~c<conf>~n<nms>~tb<track_buffer>~fr<track_frame_rate>~a<min_box_area>``.
Threads: ``threads`` sets ``torch.set_num_threads`` (process-wide); with a fixed count the CPU
forward is deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import DataError, UsageError
from ...core.hashing import file_digest
from ..base import Detections, FrameDetections, Tracker, TrackingNetwork, check_rgb
from .layers import SPLITS, output_shape, parse_split
from .weights import PUBLISHED_FILE, read_state, validate_state

NAME = "jde-1088x608"
WEIGHTS_ENV = "VCMBENCH_JDE_WEIGHTS"
CONF_THRES = 0.5  # CompressAI-Vision @31165daf jde.py model_configs defaults (and default.yaml conf_threshold)
NMS_THRES = 0.4
TRACK_BUFFER = 30
MIN_BOX_AREA = 200
TRACK_FRAME_RATE = 30.0  # jde.py frame_rate default; the FCM scripts never override it


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
                 max_detections: int = 1000, threads: int | None = None, device: str | None = None,
                 track_frame_rate: float | None = TRACK_FRAME_RATE, track_buffer: int = TRACK_BUFFER,
                 min_box_area: float = MIN_BOX_AREA) -> None:
        super().__init__(score_threshold, max_detections)
        self.track_frame_rate = None if track_frame_rate is None else float(track_frame_rate)
        self.track_buffer = int(track_buffer)
        self.min_box_area = float(min_box_area)
        import torch

        from .model import JDEModel

        if device not in (None, "cpu"):
            raise UsageError(f"{NAME} runs on the CPU here; drop --device or use --device cpu.")
        self.split = parse_split(split)
        self.split_name = next((k for k, v in SPLITS.items() if v == self.split), ",".join(map(str, self.split)))
        self.feature_layers = tuple(str(i) for i in self.split)
        # the set this network was built for first (what a caller that names no split point gets), then the
        # others: a runner builds the network with split=<the condition's split point> (run.run_common.split_option)
        self.split_points = (self.split_name, *(k for k in SPLITS if k != self.split_name))
        self.nms_threshold = float(nms_threshold)
        path = find_weights(weights)
        self.weights_sha256 = file_digest(path, "sha256")
        state = validate_state(read_state(path), str(path))
        if threads is not None:
            torch.set_num_threads(int(threads))
        self.model = JDEModel(state)
        self._torch = torch

    # ---------------------------------------------------------------------------------- description
    def signature(self) -> str:
        fr = "seq" if self.track_frame_rate is None else f"{self.track_frame_rate:g}"
        return (f"jde~1088x608#{self.weights_sha256[:12]}~c{self.score_threshold:g}~n{self.nms_threshold:g}"
                f"~tb{self.track_buffer}~fr{fr}~a{self.min_box_area:g}")

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": "vcmbench native JDE (torch)", "split": self.split_name,
                "nms_threshold": self.nms_threshold, "torch": self._torch.__version__,
                "weights_sha256": self.weights_sha256, "association": "JDE (embeddings + IoU, tasks.tracking)",
                "track_frame_rate": self.track_frame_rate, "track_buffer": self.track_buffer,
                "min_box_area": self.min_box_area, "max_detections": None}

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
        bad = [f"{k} {tuple(np.shape(features[k]))} (expected {output_shape(int(k))})" for k in self.feature_layers
               if tuple(np.shape(features[k])) != output_shape(int(k))]
        if bad:
            raise DataError(f"{NAME} features have the wrong shape: {', '.join(bad)}; give the arrays features() "
                            "returns for a frame (the 1088x608 letterboxed input), decoded at their full size.")
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
        """The JDE association (``tasks.tracking.JDETracker``) with this network's confidence threshold,
        ``track_buffer`` and ``min_box_area``; its lost-track buffer scales with ``track_frame_rate`` (default
        30: the committee's runs never set the wrapper's ``frame_rate``), or with ``frame_rate`` (the
        sequence's) when the option ``track_frame_rate`` is None."""
        from ..tracking import JDETracker

        fr = self.track_frame_rate if self.track_frame_rate is not None else frame_rate
        return JDETracker(fr, conf_thres=self.score_threshold, track_buffer=self.track_buffer,
                          min_box_area=self.min_box_area, embeddings=True)


__all__ = ["JDENetwork", "NAME", "CONF_THRES", "NMS_THRES", "TRACK_BUFFER", "TRACK_FRAME_RATE", "MIN_BOX_AREA"]
