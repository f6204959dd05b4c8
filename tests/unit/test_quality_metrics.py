"""PSNR (per plane, weighted YUV), SSIM/MS-SSIM properties, MAE, feature PSNR; worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vcmbench.core.errors import DataError
from vcmbench.metrics.quality import feature_psnr, mae, ms_ssim, mse, psnr, psnr_yuv, ssim


def test_psnr_worked_value():
    a = np.zeros((4, 4), np.uint8)
    b = a.copy()
    b[0, 0] = 16  # MSE = 256/16 = 16 -> PSNR = 10 log10(255^2/16)
    assert mse(a, b) == 16.0
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 16), abs=1e-12)
    assert psnr(a, a) == math.inf


def test_psnr_10bit_needs_bit_depth():
    a = np.full((4, 4), 512, np.uint16)
    b = a + 4  # MSE 16, peak 1023
    assert psnr(a, b, bit_depth=10) == pytest.approx(10 * math.log10(1023 ** 2 / 16), abs=1e-12)
    with pytest.raises(DataError, match="bit_depth"):
        psnr(a, b)
    with pytest.raises(DataError, match="data_range"):
        psnr(a.astype(float), b.astype(float))
    with pytest.raises(DataError, match="shape"):
        psnr(a, b[:2], bit_depth=10)


def test_weighted_yuv_psnr_6_1_1_and_4_1_1():
    y = np.zeros((8, 8), np.uint8)
    u = np.zeros((4, 4), np.uint8)
    v = np.zeros((4, 4), np.uint8)
    y2, u2, v2 = y + 1, u + 2, v + 4  # MSE 1, 4, 16
    r = psnr_yuv([y, u, v], [y2, u2, v2], bit_depth=8)
    py, pu, pv = (10 * math.log10(255 ** 2 / m) for m in (1, 4, 16))
    assert (r["Y"], r["U"], r["V"]) == pytest.approx((py, pu, pv), abs=1e-12)
    assert r["YUV"] == pytest.approx((6 * py + pu + pv) / 8, abs=1e-12)
    r4 = psnr_yuv([y, u, v], [y2, u2, v2], bit_depth=8, weights="4:1:1")
    assert r4["YUV"] == pytest.approx((4 * py + pu + pv) / 6, abs=1e-12)
    assert psnr_yuv([y], [y2])["YUV"] == r["Y"]
    with pytest.raises(DataError, match="weights"):
        psnr_yuv([y, u, v], [y2, u2, v2], weights="2:1:1")


def test_ssim_and_ms_ssim_properties():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (192, 200)).astype(np.uint8)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    b1 = np.clip(a + rng.normal(0, 5, a.shape), 0, 255).astype(np.uint8)
    b2 = np.clip(a + rng.normal(0, 25, a.shape), 0, 255).astype(np.uint8)
    assert 1 > ssim(a, b1) > ssim(a, b2) > 0
    assert 1 > ms_ssim(a, b1) > ms_ssim(a, b2) > 0
    with pytest.raises(DataError, match="at least 176"):
        ms_ssim(a[:100], a[:100])


def test_ssim_of_many_channels_is_the_mean_over_channels():
    """Channels are independent (OpenCV filters at most four at once; more are filtered one by one)."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (180, 190, 6)).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 9, a.shape), 0, 255).astype(np.uint8)
    per_channel = [ssim(a[..., i], b[..., i]) for i in range(6)]
    assert ssim(a, b) == pytest.approx(float(np.mean(per_channel)), abs=1e-14)
    assert ssim(a[..., :3], b[..., :3]) == pytest.approx(float(np.mean(per_channel[:3])), abs=1e-14)
    assert ms_ssim(a, b) == pytest.approx(float(np.mean([ms_ssim(a[..., i], b[..., i]) for i in range(6)])), abs=1e-14)


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    a = torch.zeros(4, 4)
    assert psnr(a, a + 0.5, data_range=1.0) == pytest.approx(10 * math.log10(1 / 0.25), abs=1e-12)


def test_mae():
    assert mae([30, 40, 50], [32, 37, 50]) == pytest.approx(5 / 3, abs=1e-15)


def test_feature_psnr_domains():
    f = np.linspace(-2.0, 6.0, 64).reshape(4, 16)  # dynamic range 8
    val, name = feature_psnr(f, f + 0.1)
    assert val == pytest.approx(10 * math.log10(64 / 0.01), abs=1e-9) and "tensor domain" in name
    q = np.arange(64, dtype=np.uint16).reshape(4, 16) * 10
    val, name = feature_psnr(q, q + 2, domain="packed")
    assert val == pytest.approx(10 * math.log10(1023 ** 2 / 4), abs=1e-12) and "10-bit" in name
    with pytest.raises(DataError, match="integer"):
        feature_psnr(f, f, domain="packed")
    with pytest.raises(DataError, match="constant"):
        feature_psnr(np.ones(4), np.ones(4))


def _photo_like(rng, h=240, w=200, c=3):
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([127 + 80 * np.sin(xx / (7.0 + k)) * np.cos(yy / 11.0) for k in range(c)], -1)
    return (base + rng.normal(0, 10, base.shape)).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("channels", [1, 3, 6])
def test_ms_ssim_with_a_reused_reference_is_bit_identical(channels):
    """The reference side computed once and reused for several decoded versions gives the very same
    float as a fresh computation (==, not approx), for grey, RGB and >4-channel pictures."""
    from vcmbench.metrics.quality import ms_ssim_against, ms_ssim_reference

    rng = np.random.default_rng(5)
    a = _photo_like(rng, c=channels)
    a = a[..., 0] if channels == 1 else a
    ref = ms_ssim_reference(a, data_range=255)
    tests = [(a.astype(np.float64) + rng.normal(0, s, a.shape)).clip(0, 255).round().astype(np.uint8) for s in (2, 9, 30)]
    fresh = [ms_ssim(a, b) for b in tests]
    reused = [ms_ssim_against(ref, b) for b in tests]
    assert reused == fresh
    assert len(set(fresh)) == 3 and all(0 < v < 1 for v in fresh)
    assert ms_ssim_against(ref, a) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(DataError, match="differ in shape"):
        ms_ssim_against(ref, tests[0][:-2])


def test_image_quality_reuses_the_reference_per_picture_and_keeps_memory_bounded(monkeypatch):
    from vcmbench.metrics import quality as q

    rng = np.random.default_rng(9)
    a, other = _photo_like(rng), _photo_like(rng)
    tests = [(a.astype(np.float64) + rng.normal(0, s, a.shape)).clip(0, 255).round().astype(np.uint8) for s in (3, 12)]
    cache = q.ReferenceCache(entries=2)
    monkeypatch.setattr(q, "REFERENCES", cache)
    plain = [q.image_quality(a, b) for b in tests]
    keyed = [q.image_quality(a, b, ref_key="a") for b in tests]
    assert keyed == plain  # every figure, bit for bit
    assert (cache.misses, cache.hits) == (1, 1)
    # another picture under another key, then a third: at most two references are kept
    q.image_quality(other, other, ref_key="other")
    q.image_quality(a[::-1].copy(), a[::-1].copy(), ref_key="flipped")
    assert len(cache._items) == 2 and cache.misses == 3
    # the same key with another size is another picture, not a hit
    q.image_quality(a[:200], tests[0][:200], ref_key="a")
    assert cache.misses == 4
    # a byte bound smaller than one reference keeps none
    small = q.ReferenceCache(entries=4, max_bytes=1000)
    small.get("x", a.astype(np.float64), 255.0)
    assert small._items == {}
