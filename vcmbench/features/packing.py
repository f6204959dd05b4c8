"""Feature coding helpers (DESIGN.md 5.2): tile, quantise and pack feature maps into one picture, and back.

Conventions
-----------
* A layer is a float32 array ``(C, H, W)`` (channels first, no batch), as
  ``TaskNetwork.features`` returns it.
* Tiling ``{layer: (tiles_wide, tiles_high)}`` with ``tiles_wide * tiles_high == C`` (each layer its
  own channel count): channel ``c`` goes to tile row ``c // tiles_wide``, column ``c % tiles_wide``
  (row-major, as the MPEG-137 EE1.2 ``utils._save_feature_map`` and CompressAI-Vision
  ``tensor_to_tiled`` do).  The layers' pictures are stacked vertically in the order of ``layers``;
  each is left-aligned and padded on the right with the quantised value of 0.0 (or 0 when 0.0 is
  outside the range) to the widest layer.
* Uniform quantisation to ``bits`` (``L = 2^bits - 1``) by a :class:`Quantiser`: the range
  ``[lo, hi]`` comes from the condition (fixed) or from the picture (per-image, transmitted), never
  from the run's other images.  Three formulas, each exactly as its source computes it:

  - ``seed-eq1`` (seed paper eq. 1, float64): ``q = R((F - lo) * L / (hi - lo))``;
    ``F' = q * (hi - lo) / L + lo``.
  - ``ee12-scale`` (MPEG-137 EE1.2 P-layer anchor ``quantizer.py``, float32 like its torch
    tensors): ``q = R((F - lo) * s)`` with the literal scale ``s`` (23.4838 there; default
    ``L / (hi - lo)``); ``F' = q / s + lo``.
  - ``cav-minmax`` (CompressAI-Vision ``codecs/utils.py`` ``min_max_normalization``, float32):
    ``q = R(clamp((F - lo) / (hi - lo), 0, 1) * L)``; ``F' = q / L * (hi - lo) + lo``.

  ``R`` is the rounding: ``round`` (numpy ``rint``, half to even) or ``floor`` (the anchor
  scripts' truncation: ``astype(uint16)`` / ``.floor()``; equal to floor on the non-negative values
  of the range).  Codes are then clipped to ``[0, L]`` (a value outside a fixed range saturates;
  the EE1.2 script's ``astype(uint16)`` would wrap it instead, which numpy leaves undefined).
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


FORMULAS = ("seed-eq1", "ee12-scale", "cav-minmax")
ROUNDINGS = ("round", "floor")


@dataclass(frozen=True)
class Quantiser:
    """Uniform quantisation of feature values to ``bits``-bit codes (see the module docstring)."""

    lo: float
    hi: float
    bits: int = 10
    rounding: str = "round"
    formula: str = "seed-eq1"
    scale: float | None = None  # ee12-scale only: codes per unit (default L / (hi - lo))

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and self.hi > self.lo):
            raise DataError(f"Quantisation range [{self.lo}, {self.hi}] is empty or not finite; max must exceed min.")
        if self.formula not in FORMULAS:
            raise UsageError(f"Unknown quantisation formula {self.formula!r}; use one of {list(FORMULAS)}.")
        if self.rounding not in ROUNDINGS:
            raise UsageError(f"Unknown rounding {self.rounding!r}; use one of {list(ROUNDINGS)}.")
        if not 1 <= int(self.bits) <= 16:
            raise UsageError(f"quant_bits {self.bits} must be 1..16.")
        if self.scale is not None and (self.formula != "ee12-scale" or not self.scale > 0):
            raise UsageError("quant_scale is a positive number and belongs to the ee12-scale formula only.")

    @property
    def levels(self) -> int:
        return (1 << int(self.bits)) - 1

    def _round(self, v: np.ndarray) -> np.ndarray:
        return np.rint(v) if self.rounding == "round" else np.floor(v)

    def quantise(self, x: np.ndarray) -> np.ndarray:
        L = self.levels
        if self.formula == "seed-eq1":
            v = (np.asarray(x, np.float64) - self.lo) * L / (self.hi - self.lo)
        elif self.formula == "ee12-scale":
            s = np.float32(self.scale if self.scale is not None else L / (self.hi - self.lo))
            v = (np.asarray(x, np.float32) - np.float32(self.lo)) * s
        else:
            v = np.clip((np.asarray(x, np.float32) - np.float32(self.lo)) / np.float32(self.hi - self.lo),
                        np.float32(0), np.float32(1)) * np.float32(L)
        return np.clip(self._round(v), 0, L).astype(np.uint16)

    def dequantise(self, q: np.ndarray) -> np.ndarray:
        L = self.levels
        if self.formula == "seed-eq1":
            return (q.astype(np.float64) * (self.hi - self.lo) / L + self.lo).astype(np.float32)
        if self.formula == "ee12-scale":
            s = np.float32(self.scale if self.scale is not None else L / (self.hi - self.lo))
            return q.astype(np.float32) / s + np.float32(self.lo)
        return (q.astype(np.float32) / np.float32(L)) * np.float32(self.hi - self.lo) + np.float32(self.lo)

    def fill(self) -> int:
        """The code of 0.0 (the padding value), or 0 when 0.0 is outside the range."""
        return int(self.quantise(np.zeros(1, np.float32))[0]) if self.lo <= 0 <= self.hi else 0


def quantise(x: np.ndarray, lo: float, hi: float, bits: int, rounding: str = "round") -> np.ndarray:
    """Seed-paper eq. 1 quantisation (float64) with ``rounding`` — see :class:`Quantiser`."""
    return Quantiser(lo, hi, bits, rounding).quantise(x)


def dequantise(q: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    return Quantiser(lo, hi, bits).dequantise(q)


def _as_quantiser(q: "Quantiser | float", hi: float | None, bits: int) -> Quantiser:
    return q if isinstance(q, Quantiser) else Quantiser(float(q), float(hi), bits)


def pack(features: Mapping[str, np.ndarray], tiling: Mapping[str, Sequence[int]], layers: Sequence[str],
         lo: "float | Quantiser", hi: float | None = None, bits: int = 10) -> tuple[np.ndarray, PackLayout]:
    """Quantise and tile ``layers`` into one uint16 picture (see the module docstring).

    ``lo`` is a :class:`Quantiser` or, with ``hi``/``bits``, the range of a seed-eq1 rounding one."""
    qz = _as_quantiser(lo, hi, bits)
    lay = layout({k: v.shape for k, v in features.items()}, tiling, layers)
    pic = np.full((lay.height, lay.width), qz.fill(), np.uint16)
    for name in layers:
        block = qz.quantise(tile(np.asarray(features[name]), *lay.tiling[name]))
        y = lay.offsets[name]
        pic[y:y + block.shape[0], :block.shape[1]] = block
    return pic, lay


def unpack(picture: np.ndarray, lay: PackLayout, lo: "float | Quantiser", hi: float | None = None,
           bits: int = 10) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack` (up to quantisation)."""
    qz = _as_quantiser(lo, hi, bits)
    if picture.shape != (lay.height, lay.width):
        raise DataError(f"Packed picture is {picture.shape[1]}x{picture.shape[0]}; the layout says {lay.width}x{lay.height}.")
    out = {}
    for name in lay.layers:
        c, h, w = lay.shapes[name]
        tw, th = lay.tiling[name]
        y = lay.offsets[name]
        out[name] = qz.dequantise(untile(picture[y:y + th * h, :tw * w], tw, th))
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
