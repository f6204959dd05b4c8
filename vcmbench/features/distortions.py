"""Distortions of pictures and feature maps for the studies (S2 distortions, S3 layers, S4 occlusion).

Conventions
-----------
* A *picture* is an ``HxW`` (one channel) or ``HxWx3`` uint8 array on the 0..255 scale.  Every
  pixel-domain distortion takes a picture and returns a uint8 picture of the same shape (results
  are rounded half to even and clipped to 0..255).
* Features are ``{layer: float32 (C, H, W)}``.  The feature domain of the seed distortion study
  (seed-tables.md S2) rearranges the channels of each layer into one-channel pictures
  (``feature_pictures``; ``square_tiling``: channel ``c`` at tile row ``c // tiles_wide``, 16x16
  tiles for the 256 channels of an FPN layer), quantises each picture to 8 bits with its own
  min/max (eq. 1 of the SR paper, ``features.packing.quantise``), applies the pixel-domain
  distortion and de-quantises after (``FeaturePicture``).  ``per_layer`` (the paper's) gives one
  picture per layer; ``stacked`` one picture of all layers (stacked vertically, left-aligned, see
  ``features.packing.layout``) with their joint min/max.  The uniform-quantisation distortion in
  the feature domain quantises the float features themselves to ``bits``.
* Gaussian blur: ``cv2.GaussianBlur`` with an explicit odd window and sigma, border
  ``BORDER_REFLECT_101`` (OpenCV's default).  Gaussian noise: ``numpy.random.default_rng(seed)``
  normal samples of standard deviation sigma (0..255 scale) added, then rounded and clipped; the seed
  is recorded by the caller.  Resize: OpenCV bicubic (``INTER_CUBIC``) down by ``factor`` to
  ``max(1, round(side / factor))`` then back up to the original size.  Quantisation of a picture to
  ``b`` bits: ``round(x (2^b-1) / 255) * 255 / (2^b-1)`` (8 bits: identity).
* ``bilinear_down_up(feature, k)`` (layer study S3): every channel bilinearly (``INTER_LINEAR``,
  half-pixel centres) resized to ``ceil(H/k) x ceil(W/k)`` and back; ``max_factor`` is the largest
  power of two not above the map's longer side.
* ``occlude(rgb, region=(x0, y0, x1, y1) relative | mask=HxW bool)`` sets the occluded pixels to a
  fill value (default 0) and returns the picture and the boolean mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..core.errors import DataError, UsageError
from .packing import PackLayout, dequantise, layout, quantise, tile, untile

PIXEL_DISTORTIONS = ("blur", "noise", "resize", "quantise")
RANDOM_DISTORTIONS = ("noise",)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _check_picture(pic: np.ndarray) -> np.ndarray:
    a = np.asarray(pic)
    if a.dtype != np.uint8 or a.ndim not in (2, 3):
        raise DataError(f"Pixel-domain distortions take HxW or HxWx3 uint8 pictures; got {a.shape} {a.dtype}.")
    return a


def gaussian_blur(pic: np.ndarray, sigma: float, window: int = 21) -> np.ndarray:
    import cv2

    pic = _check_picture(pic)
    if window < 1 or window % 2 == 0:
        raise UsageError(f"Gaussian blur window must be a positive odd number, got {window}.")
    if sigma <= 0:
        raise UsageError(f"Gaussian blur sigma must be positive, got {sigma}.")
    return cv2.GaussianBlur(pic, (int(window), int(window)), float(sigma), borderType=cv2.BORDER_REFLECT_101)


def gaussian_noise(pic: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    pic = _check_picture(pic)
    if sigma < 0:
        raise UsageError(f"Noise sigma must be >= 0, got {sigma}.")
    rng = np.random.default_rng(int(seed))
    return _u8(pic.astype(np.float64) + rng.normal(0.0, float(sigma), pic.shape))


def resize_down_up(pic: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    pic = _check_picture(pic)
    if factor < 1:
        raise UsageError(f"Resize factor must be >= 1, got {factor}.")
    h, w = pic.shape[:2]
    dw, dh = max(1, round(w / factor)), max(1, round(h / factor))
    small = cv2.resize(pic.astype(np.float32), (dw, dh), interpolation=cv2.INTER_CUBIC)
    return _u8(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))


def quantise_picture(pic: np.ndarray, bits: int) -> np.ndarray:
    pic = _check_picture(pic)
    if not 1 <= int(bits) <= 8:
        raise UsageError(f"Picture quantisation takes 1..8 bits, got {bits}.")
    levels = (1 << int(bits)) - 1
    return _u8(np.rint(pic.astype(np.float64) * levels / 255.0) * 255.0 / levels)


def apply_pixel(name: str, strength: float, pic: np.ndarray, seed: int = 0, window: int = 21) -> np.ndarray:
    """Apply the pixel-domain distortion ``name`` (blur | noise | resize | quantise) of ``strength``."""
    if name == "blur":
        return gaussian_blur(pic, strength, window)
    if name == "noise":
        return gaussian_noise(pic, strength, seed)
    if name == "resize":
        return resize_down_up(pic, strength)
    if name == "quantise":
        return quantise_picture(pic, int(strength))
    raise UsageError(f"Unknown distortion {name!r}; use one of {', '.join(PIXEL_DISTORTIONS)} (or coding).")


# -- features as one picture --------------------------------------------------------------------------------
def square_tiling(channels: int) -> tuple[int, int]:
    """(tiles_wide, tiles_high) with tiles_wide * tiles_high == channels, as square as possible, wide first."""
    c = int(channels)
    if c < 1:
        raise DataError(f"A feature layer needs at least one channel, got {c}.")
    high = max(d for d in range(1, math.isqrt(c) + 1) if c % d == 0)
    return c // high, high


@dataclass
class FeaturePicture:
    """Features rearranged into one picture and 8-bit quantised with the image's own min/max."""

    layout: PackLayout
    lo: float
    hi: float
    float_picture: np.ndarray  # the un-quantised picture on the 0..255 scale (reference for [F] quality)
    picture: np.ndarray  # uint8
    bits: int = 8

    @classmethod
    def from_features(cls, feats: Mapping[str, np.ndarray], layers: Sequence[str], bits: int = 8) -> "FeaturePicture":
        lay = layout({k: feats[k].shape for k in layers}, {k: square_tiling(feats[k].shape[0]) for k in layers}, layers)
        lo = min(float(np.min(feats[k])) for k in layers)
        hi = max(float(np.max(feats[k])) for k in layers)
        if not hi > lo:
            hi = lo + 1.0
        levels = (1 << bits) - 1
        fpic = np.zeros((lay.height, lay.width), np.float64)
        qpic = np.zeros((lay.height, lay.width), np.uint16)
        for k in layers:
            block = tile(np.asarray(feats[k], np.float64), *lay.tiling[k])
            y = lay.offsets[k]
            fpic[y:y + block.shape[0], :block.shape[1]] = (block - lo) * levels / (hi - lo)
            qpic[y:y + block.shape[0], :block.shape[1]] = quantise(block, lo, hi, bits)
        return cls(lay, lo, hi, fpic, qpic.astype(np.uint8 if bits <= 8 else np.uint16), bits)

    def mask(self) -> np.ndarray:
        """True where a layer's tiles are (the padding right of narrower layers is excluded from quality)."""
        m = np.zeros((self.layout.height, self.layout.width), bool)
        for k in self.layout.layers:
            c, h, w = self.layout.shapes[k]
            tw, th = self.layout.tiling[k]
            y = self.layout.offsets[k]
            m[y:y + th * h, :tw * w] = True
        return m

    def to_features(self, picture: np.ndarray) -> dict[str, np.ndarray]:
        if picture.shape != (self.layout.height, self.layout.width):
            raise DataError(f"Feature picture is {picture.shape}, the layout says {(self.layout.height, self.layout.width)}.")
        out = {}
        for k in self.layout.layers:
            c, h, w = self.layout.shapes[k]
            tw, th = self.layout.tiling[k]
            y = self.layout.offsets[k]
            out[k] = dequantise(untile(np.asarray(picture)[y:y + th * h, :tw * w], tw, th), self.lo, self.hi, self.bits)
        return out

    def picture_of(self, feats: Mapping[str, np.ndarray]) -> np.ndarray:
        """Float picture (0..255 scale of this picture's range) of other features with the same layout."""
        levels = (1 << self.bits) - 1
        fpic = np.zeros((self.layout.height, self.layout.width), np.float64)
        for k in self.layout.layers:
            block = tile(np.asarray(feats[k], np.float64), *self.layout.tiling[k])
            y = self.layout.offsets[k]
            fpic[y:y + block.shape[0], :block.shape[1]] = (block - self.lo) * levels / (self.hi - self.lo)
        return fpic


PICTURE_MODES = ("per_layer", "stacked")


def feature_pictures(feats: Mapping[str, np.ndarray], layers: Sequence[str], bits: int = 8,
                     mode: str = "per_layer") -> list[FeaturePicture]:
    """The feature pictures of the S2 feature domain.

    ``per_layer`` (the S2 paper): one picture per layer, its channels tiled as square as possible
    (``square_tiling``: 16x16 tiles for the 256 channels of an FPN layer P2..P6), each quantised to
    ``bits`` with that layer's own min/max.  ``stacked``: all layers in one picture (stacked
    vertically) quantised with their joint min/max."""
    if mode not in PICTURE_MODES:
        raise UsageError(f"Unknown feature picture mode {mode!r}; use one of {', '.join(PICTURE_MODES)}.")
    if mode == "stacked":
        return [FeaturePicture.from_features(feats, layers, bits)]
    return [FeaturePicture.from_features(feats, [k], bits) for k in layers]


def quantise_features(feats: Mapping[str, np.ndarray], layers: Sequence[str], bits: int,
                      per_layer: bool = False) -> dict[str, np.ndarray]:
    """Uniform quantisation of the float features to ``bits`` with their joint min/max (eq. 1), de-quantised;
    ``per_layer``: each layer with its own min/max."""
    if per_layer:
        out = dict(feats)
        for k in layers:
            out.update(quantise_features({k: feats[k]}, [k], bits))
        return out
    lo = min(float(np.min(feats[k])) for k in layers)
    hi = max(float(np.max(feats[k])) for k in layers)
    if not hi > lo:
        return {k: np.asarray(v, np.float32) for k, v in feats.items()}
    out = dict(feats)
    for k in layers:
        out[k] = dequantise(quantise(feats[k], lo, hi, int(bits)), lo, hi, int(bits))
    return out


# -- layer study ---------------------------------------------------------------------------------------------
def max_factor(shape: Sequence[int]) -> int:
    """Largest power of two not above the map's longer side (1 for a 1x1 map)."""
    side = max(int(shape[-1]), int(shape[-2]))
    return 1 << int(math.floor(math.log2(side))) if side >= 1 else 1


def resize_map(feature: np.ndarray, width: int, height: int, interpolation: str = "bilinear") -> np.ndarray:
    """Resize every channel of a (C, H, W) map to (C, height, width)."""
    import cv2

    interp = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC, "nearest": cv2.INTER_NEAREST}[interpolation]
    f = np.asarray(feature, np.float32)
    c, h, w = f.shape
    if (h, w) == (height, width):
        return f.copy()
    # OpenCV 5 resizes at most 4 channels at once (HxWxC); go four channels at a time.
    out = np.empty((c, height, width), np.float32)
    for s in range(0, c, 4):
        hwc = np.ascontiguousarray(f[s:s + 4].transpose(1, 2, 0))
        part = cv2.resize(hwc, (int(width), int(height)), interpolation=interp)
        out[s:s + 4] = part.reshape(height, width, -1).transpose(2, 0, 1)
    return out


def bilinear_down_up(feature: np.ndarray, k: int) -> np.ndarray:
    c, h, w = np.asarray(feature).shape
    if k < 1:
        raise UsageError(f"Down-scaling factor must be >= 1, got {k}.")
    small = resize_map(feature, max(1, math.ceil(w / k)), max(1, math.ceil(h / k)))
    return resize_map(small, w, h)


# -- occlusion -----------------------------------------------------------------------------------------------
def occlude(rgb: np.ndarray, region: Sequence[float] | None = None, mask: np.ndarray | None = None,
            fill: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Occlude a relative region ``(x0, y0, x1, y1)`` in [0, 1] or a boolean ``mask``; returns (picture, mask)."""
    a = _check_picture(rgb)
    h, w = a.shape[:2]
    if (region is None) == (mask is None):
        raise UsageError("occlude needs exactly one of region (x0, y0, x1, y1 relative) or mask (an image).")
    if region is not None:
        x0, y0, x1, y1 = (float(v) for v in region)
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise UsageError(f"Occlusion region {region} must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1.")
        m = np.zeros((h, w), bool)
        m[int(math.floor(y0 * h)):int(math.ceil(y1 * h)), int(math.floor(x0 * w)):int(math.ceil(x1 * w))] = True
    else:
        m = np.asarray(mask)
        if m.ndim == 3:
            m = m.any(axis=2)
        if m.shape != (h, w):
            import cv2

            m = cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        m = m.astype(bool)
    out = a.copy()
    out[m] = fill
    return out, m
