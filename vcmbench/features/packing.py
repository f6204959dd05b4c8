"""Feature coding helpers (DESIGN.md 5.2): tile, quantise and pack FPN features into one picture, and back.

Conventions
-----------
* A layer is a float32 array ``(C, H, W)`` (channels first, no batch), as
  ``TaskNetwork.features`` returns it.
* Tiling ``{layer: (tiles_wide, tiles_high)}`` with ``tiles_wide * tiles_high == C``: channel
  ``c`` goes to tile row ``c // tiles_wide``, column ``c % tiles_wide`` (row-major).  The layers'
  pictures are stacked vertically in the order of ``layers``; each is left-aligned and padded on
  the right with the quantised value of 0.0 (or 0 when no range is given) to the widest layer.
* Uniform quantisation to ``bits``: ``q = round((F - lo) * (2^bits - 1) / (hi - lo))`` clipped to
  ``[0, 2^bits - 1]`` (round half to even, numpy); de-quantisation ``F' = q * (hi - lo) / (2^bits - 1) + lo``
  — the seed paper's ``Fq``.  ``lo``/``hi`` are the global min/max (fixed for the dataset) or the
  per-picture min/max (then they are side information).
* ``P6 = maxpool(P5, kernel 1, stride 2)`` = ``P5[:, ::2, ::2]``.
The packed picture is a uint16 luma plane for 4:0:0 10-bit coding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..core.errors import DataError, UsageError


@dataclass(frozen=True)
class PackLayout:
    """Where each layer sits in the packed picture: (row offset, height, width) of its tiled block."""

    layers: tuple[str, ...]
    shapes: dict[str, tuple[int, int, int]]  # layer -> (C, H, W)
    tiling: dict[str, tuple[int, int]]
    offsets: dict[str, int] = field(default_factory=dict)
    width: int = 0
    height: int = 0


def layout(shapes: Mapping[str, Sequence[int]], tiling: Mapping[str, Sequence[int]], layers: Sequence[str]) -> PackLayout:
    offs, y, width = {}, 0, 0
    shp = {}
    til = {}
    for name in layers:
        if name not in shapes:
            raise DataError(f"Feature layer {name!r} is missing; got {sorted(shapes)}.")
        if name not in tiling:
            raise UsageError(f"No tiling for layer {name!r}; the condition's feature.tiling must name it.")
        c, h, w = (int(v) for v in shapes[name])
        tw, th = (int(v) for v in tiling[name])
        if tw * th != c:
            raise UsageError(f"Tiling {tw}x{th} of layer {name!r} holds {tw * th} tiles but it has {c} channels.")
        shp[name], til[name] = (c, h, w), (tw, th)
        offs[name] = y
        y += th * h
        width = max(width, tw * w)
    return PackLayout(tuple(layers), shp, til, offs, width, y)


def tile(feature: np.ndarray, tiles_wide: int, tiles_high: int) -> np.ndarray:
    """(C, H, W) -> (tiles_high*H, tiles_wide*W), channel c at row c // tiles_wide, column c % tiles_wide."""
    c, h, w = feature.shape
    if tiles_wide * tiles_high != c:
        raise UsageError(f"{tiles_wide}x{tiles_high} tiles cannot hold {c} channels.")
    return feature.reshape(tiles_high, tiles_wide, h, w).transpose(0, 2, 1, 3).reshape(tiles_high * h, tiles_wide * w)


def untile(picture: np.ndarray, tiles_wide: int, tiles_high: int) -> np.ndarray:
    """Inverse of :func:`tile`."""
    ph, pw = picture.shape
    if ph % tiles_high or pw % tiles_wide:
        raise DataError(f"A {pw}x{ph} block does not split into {tiles_wide}x{tiles_high} tiles.")
    h, w = ph // tiles_high, pw // tiles_wide
    return picture.reshape(tiles_high, h, tiles_wide, w).transpose(0, 2, 1, 3).reshape(tiles_high * tiles_wide, h, w)


def quantise(x: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    if not hi > lo:
        raise DataError(f"Quantisation range [{lo}, {hi}] is empty; max must exceed min.")
    levels = (1 << bits) - 1
    q = np.rint((np.asarray(x, np.float64) - lo) * levels / (hi - lo))
    return np.clip(q, 0, levels).astype(np.uint16)


def dequantise(q: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    levels = (1 << bits) - 1
    return (q.astype(np.float64) * (hi - lo) / levels + lo).astype(np.float32)


def pack(features: Mapping[str, np.ndarray], tiling: Mapping[str, Sequence[int]], layers: Sequence[str],
         lo: float, hi: float, bits: int = 10) -> tuple[np.ndarray, PackLayout]:
    """Quantise and tile ``layers`` into one uint16 picture (see the module docstring)."""
    lay = layout({k: v.shape for k, v in features.items()}, tiling, layers)
    fill = quantise(np.zeros(1), lo, hi, bits)[0] if lo <= 0 <= hi else 0
    pic = np.full((lay.height, lay.width), fill, np.uint16)
    for name in layers:
        block = quantise(tile(np.asarray(features[name]), *lay.tiling[name]), lo, hi, bits)
        y = lay.offsets[name]
        pic[y:y + block.shape[0], :block.shape[1]] = block
    return pic, lay


def unpack(picture: np.ndarray, lay: PackLayout, lo: float, hi: float, bits: int = 10) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack` (up to quantisation)."""
    if picture.shape != (lay.height, lay.width):
        raise DataError(f"Packed picture is {picture.shape[1]}x{picture.shape[0]}; the layout says {lay.width}x{lay.height}.")
    out = {}
    for name in lay.layers:
        c, h, w = lay.shapes[name]
        tw, th = lay.tiling[name]
        y = lay.offsets[name]
        out[name] = dequantise(untile(picture[y:y + th * h, :tw * w], tw, th), lo, hi, bits)
    return out


def derive_p6(p5: np.ndarray) -> np.ndarray:
    """P6 = max-pool(P5, kernel 1, stride 2) — i.e. every other sample of P5."""
    return np.ascontiguousarray(p5[:, ::2, ::2])


def even_size(picture: np.ndarray, fill: int = 0) -> np.ndarray:
    """Pad a picture on the right/bottom to even dimensions (4:2:0-capable encoders need them)."""
    h, w = picture.shape
    if h % 2 == 0 and w % 2 == 0:
        return picture
    out = np.full((h + h % 2, w + w % 2), fill, picture.dtype)
    out[:h, :w] = picture
    return out
