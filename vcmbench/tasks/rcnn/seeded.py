"""Seeded, model-zoo-style weights for any supported configuration (for equality tests and demos).

No model-zoo weights exist in any package registry, so equality with detectron2 is proven on
weights drawn from a seed: every tensor from its own ``numpy.random.RandomState`` (whose stream
numpy keeps stable across versions) seeded by ``crc32(name) ^ seed``, scaled so that activations
stay in a sane range through 100+ layers (He-scaled convs, FrozenBN statistics near identity with
the last BN of each residual block damped, small RPN/box-regression outputs) and detections exist.
Saved as ``{"model": {name: float32 ndarray}, "__author__": ...}`` like the model-zoo ``.pkl``.
Accuracy with such weights is meaningless; the mechanics are real.
"""

from __future__ import annotations

import math
import pickle
import zlib
from pathlib import Path

import numpy as np

from .config import RCNNConfig
from .weights import expected_shapes

AUTHOR = "vcmbench seeded weights (not a trained model)"


def _rng(name: str, seed: int) -> np.random.RandomState:
    return np.random.RandomState((zlib.crc32(name.encode()) ^ seed) & 0xFFFFFFFF)


def _tensor(cfg: RCNNConfig, name: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    r = _rng(name, seed)
    if name.endswith(".norm.running_var"):
        return r.uniform(0.8, 1.25, shape).astype(np.float32)
    if name.endswith(".norm.running_mean"):
        return (0.05 * r.standard_normal(shape)).astype(np.float32)
    if name.endswith(".norm.weight"):
        damp = 0.3 if ".conv3." in name else 1.0
        return (damp * r.uniform(0.8, 1.2, shape)).astype(np.float32)
    if name.endswith(".norm.bias"):
        return (0.05 * r.standard_normal(shape)).astype(np.float32)
    if name.endswith(".bias"):
        if name == "roi_heads.box_predictor.cls_score.bias":
            return (0.5 * r.standard_normal(shape)).astype(np.float32)
        return (0.01 * r.standard_normal(shape)).astype(np.float32)
    # weights
    if "deconv" in name:
        fan_in = shape[0]
    elif len(shape) == 4:
        fan_in = shape[1] * shape[2] * shape[3]
    else:
        fan_in = shape[1]
    std = math.sqrt(2.0 / fan_in)
    if name.endswith("stem.conv1.weight") and cfg.pixel_std == (1.0, 1.0, 1.0):
        std /= 60.0  # raw 0..255 pixels: bring them to unit scale as a trained stem+BN would
    elif ".fpn_" in name:
        std *= 0.3  # keeps p2..p6 near unit scale
    elif "objectness_logits" in name:
        std = 0.1
    elif "anchor_deltas" in name or "bbox_pred" in name:
        std = 0.004
    elif "cls_score" in name:
        std = 0.08
    elif "mask_head.predictor" in name:
        std = 0.1
    return (std * r.standard_normal(shape)).astype(np.float32)


def seeded_state(cfg: RCNNConfig, seed: int = 0) -> dict[str, np.ndarray]:
    return {name: _tensor(cfg, name, shape, seed) for name, shape in expected_shapes(cfg).items()}


def write_model_zoo_pkl(state: dict[str, np.ndarray], path: str | Path) -> Path:
    from ...core.jsonio import atomic_write_bytes

    p = Path(path)
    atomic_write_bytes(p, pickle.dumps({"model": state, "__author__": AUTHOR}, protocol=4))
    return p
