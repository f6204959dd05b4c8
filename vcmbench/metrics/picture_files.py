"""Quality of decoded picture files against their originals (``vcmbench evaluate quality``).

Two pictures, or two folders matched by file stem (``a/x.png`` with ``b/x.jpg``).  Pictures are
read with Pillow as 8-bit RGB (PNG, JPEG, ...); each pair must have the same size.  Per pair:
``psnr_rgb`` (all three channels, peak 255), ``ms_ssim`` (RGB, mean over channels; None under 176
samples a side), ``psnr_y/u/v`` of both pictures converted to YUV by ``color`` (a numpy colour
mode of ``coding.yuv``; default BT.601 full range, 4:2:0 when both sides are even, else 4:4:4 —
named in the result) and ``psnr_yuv`` weighted by ``weights`` (JVET 6:1:1 by default).  The set's
figures are the means over the pairs (PSNR in dB, as the JVET tools average per picture).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.errors import DataError, UsageError
from .quality import image_quality, weighted_yuv

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")


def _read(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise DataError(f"Picture {path} does not exist.") from None
    except OSError as exc:
        raise DataError(f"Picture {path} cannot be read ({exc}); give PNG or JPEG files.") from None


def _pairs(a: Path, b: Path) -> list[tuple[str, Path, Path]]:
    if a.is_dir() != b.is_dir():
        raise UsageError(f"Compare two pictures or two folders; {a} and {b} are one of each.")
    if not a.is_dir():
        return [(a.stem, a, b)]

    def index(d: Path) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for p in sorted(d.iterdir()):
            if p.suffix.lower() in PICTURE_SUFFIXES:
                if p.stem in out:
                    raise DataError(f"{d} holds two pictures named {p.stem!r} ({out[p.stem].name}, {p.name}); keep one.")
                out[p.stem] = p
        return out

    ia, ib = index(a), index(b)
    if not ia:
        raise DataError(f"{a} holds no picture ({', '.join(PICTURE_SUFFIXES)}).")
    missing = sorted(set(ia) - set(ib))
    if missing:
        raise DataError(f"{len(missing)} picture(s) of {a} have no counterpart in {b} (e.g. {missing[0]!r}); "
                        "the folders must hold the same file stems.")
    return [(k, ia[k], ib[k]) for k in sorted(ia)]


def compare_pictures(ref: str | Path, test: str | Path, weights: str | Sequence[float] = "6:1:1",
                     color: str = "bt601-full-numpy") -> dict[str, Any]:
    """Per-pair and mean quality of ``test`` against ``ref`` (see the module docstring)."""
    from ..coding.yuv import FFMPEG_MODES, rgb_to_yuv

    if color in FFMPEG_MODES:
        raise UsageError(f"Colour mode {color!r} runs FFmpeg; give a numpy mode (e.g. bt601-full-numpy).")
    rows = []
    for name, pa, pb in _pairs(Path(ref), Path(test)):
        ra, rb = _read(pa), _read(pb)
        if ra.shape != rb.shape:
            raise DataError(f"{pa.name} is {ra.shape[1]}x{ra.shape[0]} but {pb.name} is {rb.shape[1]}x{rb.shape[0]}; "
                            "compare pictures of the same size (crop or scale the decoded one back first).")
        h, w = ra.shape[:2]
        chroma = 420 if h % 2 == 0 and w % 2 == 0 else 444
        q = image_quality(ra, rb, rgb_to_yuv(ra, mode=color, chroma=chroma), rgb_to_yuv(rb, mode=color, chroma=chroma),
                          8, 8)
        q["psnr_yuv"] = weighted_yuv(q, weights)
        rows.append({"name": name, "ref": str(pa), "test": str(pb), "width": w, "height": h,
                     "yuv": f"{color} 4:{'2:0' if chroma == 420 else '4:4'}", **q})
    keys = ("psnr_rgb", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "ms_ssim")
    mean: dict[str, float | None] = {}
    for k in keys:
        vals = [r[k] for r in rows]
        mean[k] = None if any(v is None for v in vals) else float(np.mean(vals))
    return {"pairs": rows, "mean": mean, "weights": list(weights) if not isinstance(weights, str) else weights,
            "color": color, "count": len(rows)}
