"""Rate figures (DESIGN.md §5.1).

Conventions
-----------
* ``bits`` are whole bits (``8 × file size`` for a bitstream file).
* **Dataset bpp** = Σ bits of all bitstreams / Σ (W×H of the *original* images: unpadded,
  unscaled).  This is the figure the VCM common test conditions define and the one every
  BD-rate uses.  It is *not* the mean of per-image bpp; that mean is a different figure,
  available as :func:`mean_per_image_bpp` and always labelled as such.
* **kbps** (video) = bits × fps / (1000 × frames).
* Side information (e.g. the min/max and shapes of feature quantisation, DESIGN.md §5.2)
  counts in the rate only when the condition says it is transmitted: pass its bits through
  ``side_bits`` explicitly; nothing is added silently.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

from ..core.errors import DataError, EvaluationError

__all__ = [
    "bits_of_file",
    "dataset_bpp",
    "per_image_bpp",
    "mean_per_image_bpp",
    "kbps",
    "total_bits",
]


def _as_int_list(values: Sequence[int], what: str) -> list[int]:
    out: list[int] = []
    for i, v in enumerate(values):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise DataError(f"{what}[{i}] = {v!r} is not a number; pass integer {what}.") from None
        if not math.isfinite(f) or f != int(f):
            raise DataError(f"{what}[{i}] = {v!r} is not a whole number; pass integer {what}.")
        if f < 0:
            raise DataError(f"{what}[{i}] = {v!r} is negative; {what} must be >= 0.")
        out.append(int(f))
    return out


def _pair(bits: Sequence[int], pixels: Sequence[int]) -> tuple[list[int], list[int]]:
    b = _as_int_list(list(bits), "bits")
    p = _as_int_list(list(pixels), "pixels")
    if not b:
        raise EvaluationError("Cannot compute bpp of an empty dataset: no bitstreams were given.")
    if len(b) != len(p):
        raise DataError(
            f"bits and pixels differ in length ({len(b)} vs {len(p)}): give one bit count and one "
            "original-image pixel count per image."
        )
    return b, p


def total_bits(bits: Sequence[int], side_bits: int | Sequence[int] = 0) -> int:
    """Σ bits, plus side-information bits (a number or one per item) when they are transmitted."""
    b = _as_int_list(list(bits), "bits")
    side = [side_bits] if isinstance(side_bits, (int, float)) else list(side_bits)
    return sum(b) + sum(_as_int_list(side, "side_bits"))


def dataset_bpp(bits: Sequence[int], pixels: Sequence[int], side_bits: int | Sequence[int] = 0) -> float:
    """Σ bits / Σ original pixels over the dataset (the CTC bpp).

    ``pixels`` are W×H of the original (unpadded, unscaled) images.  ``side_bits`` (total or one
    per image) is added to the numerator; pass it only when the condition transmits it.
    Raises :class:`EvaluationError` on an empty dataset or zero total pixels.
    """
    b, p = _pair(bits, pixels)
    total_p = sum(p)
    if total_p == 0:
        raise EvaluationError("Cannot compute bpp: the total number of original pixels is 0; check the image sizes.")
    return total_bits(b, side_bits) / total_p


def per_image_bpp(bits: Sequence[int], pixels: Sequence[int]) -> list[float]:
    """bits_i / pixels_i for each image (a separate, named figure; not the CTC bpp)."""
    b, p = _pair(bits, pixels)
    out = []
    for i, (bi, pi) in enumerate(zip(b, p)):
        if pi == 0:
            raise EvaluationError(f"Cannot compute bpp of image {i}: it has 0 pixels; check its size.")
        out.append(bi / pi)
    return out


def mean_per_image_bpp(bits: Sequence[int], pixels: Sequence[int]) -> float:
    """Arithmetic mean of :func:`per_image_bpp`.  Named apart: it is NOT the CTC dataset bpp."""
    vals = per_image_bpp(bits, pixels)
    return sum(vals) / len(vals)


def kbps(bits: int, fps: float, frames: int) -> float:
    """Video bit rate in kbit/s: bits × fps / (1000 × frames)."""
    (b,) = _as_int_list([bits], "bits")
    try:
        fps_f = float(fps)
    except (TypeError, ValueError):
        raise DataError(f"fps = {fps!r} is not a number.") from None
    if not math.isfinite(fps_f) or fps_f <= 0:
        raise DataError(f"fps = {fps!r} must be a positive frame rate.")
    (n,) = _as_int_list([frames], "frames")
    if n <= 0:
        raise EvaluationError(f"Cannot compute kbps over {frames!r} frames: give the number of coded frames (> 0).")
    return b * fps_f / (1000.0 * n)


def bits_of_file(path: str | os.PathLike) -> int:
    """8 × the size in bytes of a bitstream file."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"Bitstream file {p} does not exist (or is not a file); check the path.")
    return 8 * p.stat().st_size
