"""Distortion, tiling, occlusion and restoration primitives of the studies (features/distortions.py,
features/restoration.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vcmbench.core.errors import UsageError
from vcmbench.features import distortions as D
from vcmbench.features.restoration import FeatureRestorer, restore_image


def _pic(seed=0, shape=(64, 80)):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_eight_bit_feature_quantisation_psnr_is_the_published_58_92_db():
    """Source: seed-tables.md S2, quantisation row 'F 8 .997/58.92' — 8-bit uniform quantisation of a
    feature picture gives PSNR 10·log10(255² · 12) = 58.92 dB for values spread evenly over the range
    (error uniform in ±½ step); our [F] measure reproduces that figure."""
    rng = np.random.default_rng(1)
    feats = {"a": rng.uniform(0, 6, (64, 19, 19)).astype(np.float32), "b": rng.uniform(0, 6, (16, 10, 10)).astype(np.float32)}
    fp = D.FeaturePicture.from_features(feats, ["a", "b"], 8)
    back = fp.to_features(fp.picture)
    from vcmbench.studies.common import fp_blocks, picture_quality

    ssim, psnr = picture_quality(fp.float_picture, fp.picture_of(back), fp.mask(), fp_blocks(fp))
    assert psnr == pytest.approx(10 * math.log10(255 ** 2 * 12), abs=0.05)
    assert ssim > 0.99


def test_feature_picture_roundtrip_and_tiling():
    assert D.square_tiling(576) == (24, 24)
    assert D.square_tiling(1280) == (40, 32)
    assert D.square_tiling(128) == (16, 8)
    assert D.square_tiling(7) == (7, 1)
    rng = np.random.default_rng(2)
    feats = {"x": rng.uniform(-1, 3, (8, 5, 4)).astype(np.float32), "y": rng.uniform(-1, 3, (2, 3, 3)).astype(np.float32)}
    fp = D.FeaturePicture.from_features(feats, ["x", "y"], 8)
    back = fp.to_features(fp.picture)
    step = (fp.hi - fp.lo) / 255
    for k in feats:
        assert back[k].shape == feats[k].shape
        assert np.max(np.abs(back[k] - feats[k])) <= step / 2 + 1e-6
    assert fp.mask().sum() == 8 * 5 * 4 + 2 * 3 * 3


def test_pixel_distortions_behave():
    p = _pic()
    assert np.array_equal(D.quantise_picture(p, 8), p)
    q2 = D.quantise_picture(p, 2)
    assert set(np.unique(q2)) <= {0, 85, 170, 255}
    n1, n1b, n2 = D.gaussian_noise(p, 3, 7), D.gaussian_noise(p, 3, 7), D.gaussian_noise(p, 3, 8)
    assert np.array_equal(n1, n1b) and not np.array_equal(n1, n2)  # seeded, recorded, reproducible
    smooth = np.tile(np.linspace(0, 255, 80), (64, 1)).astype(np.uint8)
    assert np.abs(D.resize_down_up(smooth, 2).astype(int) - smooth).max() <= 3
    b = D.gaussian_blur(p, 3, 21)
    assert b.shape == p.shape and b.std() < p.std() / 3
    with pytest.raises(UsageError):
        D.gaussian_blur(p, 1, 4)
    with pytest.raises(UsageError):
        D.apply_pixel("sharpen", 1, p)


def test_bilinear_down_up_and_max_factor():
    f = np.random.default_rng(3).normal(size=(600, 19, 19)).astype(np.float32)
    g = D.bilinear_down_up(f, 4)
    assert g.shape == f.shape and np.abs(g).mean() < np.abs(f).mean()
    assert [D.max_factor((1, s, s)) for s in (19, 10, 5, 3, 2, 1)] == [16, 8, 4, 2, 2, 1]


def test_occlude_region_and_inpaint():
    rgb = np.full((40, 50, 3), 120, np.uint8)
    occ, m = D.occlude(rgb, region=(0.2, 0.5, 0.8, 1.0))
    assert m.sum() == 20 * 30 and (occ[m] == 0).all() and (occ[~m] == 120).all()
    rest = restore_image(occ, m, "inpaint-telea")
    assert np.abs(rest.astype(int) - 120).mean() < 10
    with pytest.raises(UsageError):
        D.occlude(rgb, region=(0.5, 0.5, 0.4, 1.0))


def test_bicubic_restorer_and_module_errors(tmp_path):
    r = FeatureRestorer("bicubic")
    f = np.random.default_rng(4).normal(size=(3, 10, 10)).astype(np.float32)
    assert r(f, 19, 19).shape == (3, 19, 19) and r.signature() == "bicubic"
    with pytest.raises(UsageError, match="weights"):
        FeatureRestorer({"method": "module", "module": "vcmbench.features.restoration:ESPCN"})
    with pytest.raises(UsageError, match="do not exist"):
        FeatureRestorer({"module": "vcmbench.features.restoration:ESPCN", "weights": str(tmp_path / "none.pt")})
