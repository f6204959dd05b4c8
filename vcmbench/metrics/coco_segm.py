"""Shape checks of COCO segmentations (polygons and RLE) before pycocotools sees them.

pycocotools raises bare ``Exception``, ``IndexError`` or ``OverflowError`` on a polygon with an odd
number of coordinates, an empty polygon list, an RLE without ``size`` or with negative counts, and
silently scores an RLE whose size is not its image's or whose counts do not cover it.  Each is a
:class:`DataError` here that names the annotation or prediction and the fix."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..core.errors import DataError

_RLE_ALPHABET = re.compile(r"[0-o]*")  # pycocotools' compressed counts: chr(48 + 6-bit value)


def compressed_counts_total(counts: str) -> int | None:
    """Sum of the run lengths of pycocotools' compressed RLE string ``counts`` (``rleFrString``), or None
    when the string is cut short or a run length is negative."""
    v = np.frombuffer(counts.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    if v.size == 0:
        return 0
    more = (v & 0x20) != 0
    if more[-1]:
        return None  # the last value continues past the end
    ends = np.flatnonzero(~more)
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(ends.size), ends - starts + 1)
    pos = np.arange(v.size) - starts[group]
    if pos.max() > 11:  # more than 60 bits: not a run length of any image
        return None
    x = np.zeros(ends.size, dtype=np.int64)
    np.add.at(x, group, (v & 0x1F) << (5 * pos))
    negative = (v[ends] & 0x10) != 0
    x[negative] |= np.left_shift(np.int64(-1), 5 * (pos[ends[negative]] + 1))
    cnts = x.copy()
    cnts[3::2] = np.cumsum(x[1::2])[1:] if x.size > 3 else cnts[3::2]  # odd runs: x[1] + x[3] + ...
    cnts[4::2] = np.cumsum(x[2::2])[1:] if x.size > 4 else cnts[4::2]  # even runs from index 2
    if (cnts < 0).any():
        return None
    return int(cnts.sum())


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_segmentation(seg: Any, where: str, hw: tuple[int, int]) -> None:
    """``seg`` is a COCO polygon list or an RLE object of an image of height and width ``hw``."""
    if isinstance(seg, list):
        if not seg:
            raise DataError(f"{where} segmentation is an empty polygon list; give at least one polygon "
                            "[x1, y1, x2, y2, x3, y3, ...] or an RLE object.")
        for j, poly in enumerate(seg):
            if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
                n = len(poly) if isinstance(poly, list) else type(poly).__name__
                raise DataError(f"{where} segmentation polygon {j} has {n} coordinates; a polygon is a list of "
                                "an even number (at least 6) of numbers x1, y1, x2, y2, ... — fix the file.")
            for v in poly:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise DataError(f"{where} segmentation polygon {j} holds {v!r:.40}; coordinates must be "
                                    "finite numbers — fix the file.")
        return
    if not isinstance(seg, dict):
        raise DataError(f"{where} segmentation is a {type(seg).__name__}; give a polygon list or an RLE object "
                        "({\"size\": [height, width], \"counts\": ...}).")
    size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(_is_count(s) for s in size)):
        raise DataError(f"{where} segmentation RLE size is {size!r:.40}; an RLE needs \"size\": [height, width] "
                        "(two non-negative integers).")
    if tuple(size) != tuple(hw):
        raise DataError(f"{where} segmentation RLE size is {size}, but its image is {list(hw)} (height, width); "
                        "an RLE covers its whole image — fix the file.")
    total = hw[0] * hw[1]
    if isinstance(counts, list):
        if not all(_is_count(c) for c in counts):
            raise DataError(f"{where} segmentation RLE counts hold a value that is not a non-negative integer; "
                            "fix the file.")
        got: int | None = sum(counts)
    elif isinstance(counts, str):
        got = compressed_counts_total(counts) if _RLE_ALPHABET.fullmatch(counts) else None
        if got is None:
            raise DataError(f"{where} segmentation RLE counts {counts!r:.40} is not a compressed COCO RLE string; "
                            "write it with pycocotools.mask.encode.")
    else:
        raise DataError(f"{where} segmentation RLE counts is {counts!r:.40}; give a list of run lengths or a "
                        "compressed RLE string.")
    if got != total:
        raise DataError(f"{where} segmentation RLE runs cover {got} pixels, not the {total} of its "
                        f"{hw[0]}x{hw[1]} image; fix the file.")
