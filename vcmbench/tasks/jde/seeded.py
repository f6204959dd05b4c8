"""Seeded JDE weights in the published checkpoint format (for equality tests and demos).

No JDE checkpoint is in any package registry, so equality with the original implementation is
shown on weights drawn from a seed: every tensor from its own ``numpy.random.RandomState`` (a
stream numpy keeps stable across versions) seeded by ``crc32(name) ^ seed``.  Scaled so that the
activations stay near unit scale through the 75 Darknet-53 layers (He-scaled convs; BatchNorm near
identity, the second BatchNorm of each residual block damped) and so that ordinary frames give some
tens of rows with confidence > 0.5 (the confidence convs' logits biased towards background, box
deltas small: boxes near the anchors).  Written as ``torch.save({"model": state_dict})`` like
``jde.1088x608.uncertainty.pt`` (without the unused training classifier).  Accuracy with such
weights is meaningless; the mechanics are real.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import numpy as np

from .layers import LAYERS, NUM_ANCHORS
from .weights import expected_shapes

# layers whose BatchNorm feeds a shortcut (the second conv of a residual block)
_RESIDUAL_CONVS = {lay.inputs[0] for lay in LAYERS if lay.kind == "shortcut"}
_BOX_CONVS = {i for i, lay in enumerate(LAYERS) if lay.kind == "conv" and not lay.bn and lay.cout == NUM_ANCHORS * 6}
_BOX_CONVS_LAST = max(_BOX_CONVS)  # stride 8: four times the cells of stride 16


def _rng(name: str, seed: int) -> np.random.RandomState:
    return np.random.RandomState((zlib.crc32(name.encode()) ^ seed) & 0xFFFFFFFF)


def _tensor(name: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    r = _rng(name, seed)
    layer = int(name.split(".")[1])
    if name.endswith(".running_var"):
        return r.uniform(0.8, 1.25, shape).astype(np.float32)
    if name.endswith(".running_mean"):
        return (0.05 * r.standard_normal(shape)).astype(np.float32)
    if ".batch_norm_" in name and name.endswith(".weight"):
        damp = 0.3 if layer in _RESIDUAL_CONVS else 1.0
        return (damp * r.uniform(0.8, 1.2, shape)).astype(np.float32)
    if ".batch_norm_" in name and name.endswith(".bias"):
        return (0.05 * r.standard_normal(shape)).astype(np.float32)
    if name.endswith(".bias"):  # linear convs
        b = 0.01 * r.standard_normal(shape)
        if layer in _BOX_CONVS:  # per anchor: 4 deltas, background logit, object logit
            b = b.reshape(NUM_ANCHORS, 6)
            b[:, 4] += 1.6
            b[:, 5] -= 1.6
            b = b.reshape(shape)
        return b.astype(np.float32)
    fan_in = shape[1] * shape[2] * shape[3]
    std = math.sqrt((1.0 if layer < 75 else 2.0) / fan_in)  # He gain 1 in the residual backbone, 2 in the heads
    if layer == 0:
        std *= 4.0  # inputs in [0, 1]: bring them to unit scale
    elif layer in _BOX_CONVS:
        w = std * r.standard_normal(shape)
        w = w.reshape(NUM_ANCHORS, 6, *shape[1:])
        w[:, :4] *= 0.05  # box deltas small
        w[:, 4:] *= 0.75 if layer == _BOX_CONVS_LAST else 1.5  # logit differences of std ~1.5
        return w.reshape(shape).astype(np.float32)
    return (std * r.standard_normal(shape)).astype(np.float32)


def seeded_state(seed: int = 0) -> dict[str, np.ndarray]:
    return {name: _tensor(name, shape, seed) for name, shape in expected_shapes().items()}


def write_checkpoint(state: dict[str, np.ndarray], path: str | Path) -> Path:
    """``torch.save({"model": {name: tensor}})`` (the published format), written atomically."""
    import io

    import torch

    from ...core.jsonio import atomic_write_bytes

    buf = io.BytesIO()
    torch.save({"model": {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}}, buf)
    p = Path(path)
    atomic_write_bytes(p, buf.getvalue())
    return p
