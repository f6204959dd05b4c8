"""Feature tiling / quantisation / packing (pure numpy) with random tensors."""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.core.errors import DataError, UsageError
from vcmbench.features.packing import dequantise, derive_p6, even_size, layout, pack, quantise, tile, unpack, untile

TILING = {"p2": [16, 16], "p3": [32, 8], "p4": [64, 4], "p5": [128, 2]}


def _fpn(h=32, w=48, seed=0):
    rng = np.random.default_rng(seed)
    return {f"p{k}": rng.normal(0, 3, (256, h >> (k - 2), w >> (k - 2))).astype(np.float32) for k in (2, 3, 4, 5)}


def test_tile_layout_and_roundtrip():
    f = np.arange(6 * 2 * 3, dtype=np.float32).reshape(6, 2, 3)
    t = tile(f, 3, 2)
    assert t.shape == (4, 9)
    assert np.array_equal(t[0:2, 3:6], f[1]) and np.array_equal(t[2:4, 0:3], f[3])  # row-major channels
    assert np.array_equal(untile(t, 3, 2), f)
    with pytest.raises(UsageError):
        tile(f, 4, 2)


def test_quantisation_formula_and_error_bound():
    x = np.linspace(-2, 5, 1001)
    q = quantise(x, -2, 5, 10)
    assert q.dtype == np.uint16 and q.min() == 0 and q.max() == 1023
    step = 7 / 1023
    assert np.max(np.abs(dequantise(q, -2, 5, 10) - x)) <= step / 2 + 1e-6
    assert quantise(np.array([100.0, -100.0]), -2, 5, 10).tolist() == [1023, 0]  # clipped
    with pytest.raises(DataError):
        quantise(x, 1, 1, 10)


def test_pack_unpack_fpn_anchor_layout():
    """DESIGN.md 5.2: P2 16x16 tiles, P3 32x8, P4 64x4, P5 128x2, stacked vertically: every level is
    16 x (P2 width) wide, and the heights are 16, 8/2, 4/4 and 2/8 x (P2 height)."""
    feats = _fpn()
    lo = min(float(v.min()) for v in feats.values())
    hi = max(float(v.max()) for v in feats.values())
    pic, lay = pack(feats, TILING, ["p2", "p3", "p4", "p5"], lo, hi, 10)
    assert pic.dtype == np.uint16 and pic.max() <= 1023
    assert lay.width == 16 * 48 and lay.height == 16 * 32 + 8 * 16 + 4 * 8 + 2 * 4
    assert lay.offsets == {"p2": 0, "p3": 512, "p4": 640, "p5": 672}
    assert all(tile(feats[k], *TILING[k]).shape[1] == lay.width for k in feats)
    back = unpack(pic, lay, lo, hi, 10)
    step = (hi - lo) / 1023
    for k, v in feats.items():
        assert back[k].shape == v.shape and np.max(np.abs(back[k] - v)) <= step / 2 + 1e-5
    with pytest.raises(DataError):
        unpack(pic[:-1], lay, lo, hi)


def test_layout_checks_and_helpers():
    with pytest.raises(UsageError, match="channels"):
        layout({"p2": (256, 4, 4)}, {"p2": [8, 8]}, ["p2"])
    with pytest.raises(DataError):
        layout({}, TILING, ["p2"])
    p5 = np.arange(2 * 5 * 4, dtype=np.float32).reshape(2, 5, 4)
    assert derive_p6(p5).shape == (2, 3, 2) and derive_p6(p5)[1, 1, 1] == p5[1, 2, 2]
    assert even_size(np.ones((3, 5), np.uint16), 7).shape == (4, 6)
