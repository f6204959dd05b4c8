"""Golden values for SSIM / MS-SSIM from external implementations.

Sources:
* SSIM: scikit-image ``skimage.metrics.structural_similarity`` (0.26) with ``gaussian_weights=True,
  sigma=1.5, use_sample_covariance=False, data_range=255`` — Wang et al.'s parameters; computed live.
* MS-SSIM: pytorch-msssim 1.0.0 ``ms_ssim(X, Y, data_range=255, win=<float64 Gaussian 11, σ 1.5>)``
  on the picture pair below (both sides even at every scale, where its zero-padded pooling equals
  2×2 mean pooling).  Its default window is float32, which moves the 7th decimal; with a float64
  window it agrees to 1e-15.  The value is stored here; the live comparison runs when the package
  is installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.metrics.quality import _gauss, ms_ssim, ssim

MS_SSIM_PYTORCH_MSSSIM_F64 = 0.9797181192885133
SSIM_PYTORCH_MSSSIM_F64 = 0.8625611788291416


def _pair():
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:256, 0:192]
    a = (127.5 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + rng.normal(0, 12, (256, 192))).clip(0, 255).round()
    b = (a + rng.normal(0, 8, a.shape)).clip(0, 255).round()
    return a.astype(np.uint8), b.astype(np.uint8)


def test_ssim_equals_scikit_image():
    from skimage.metrics import structural_similarity

    a, b = _pair()
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert ssim(a, b) == pytest.approx(ref, abs=1e-12)
    rng = np.random.default_rng(3)
    c = rng.random((40, 50, 3))
    d = np.clip(c + rng.normal(0, 0.1, c.shape), 0, 1)
    ref_c = structural_similarity(c, d, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                  data_range=1.0, channel_axis=2)
    assert ssim(c, d, data_range=1.0) == pytest.approx(ref_c, abs=1e-12)


def test_ms_ssim_equals_pytorch_msssim_stored_value():
    a, b = _pair()
    assert ms_ssim(a, b) == pytest.approx(MS_SSIM_PYTORCH_MSSSIM_F64, abs=1e-12)
    assert ssim(a, b) == pytest.approx(SSIM_PYTORCH_MSSSIM_F64, abs=1e-12)


def test_ms_ssim_equals_pytorch_msssim_live():
    torch = pytest.importorskip("torch")
    pm = pytest.importorskip("pytorch_msssim", reason="pytorch-msssim not installed (the stored value still checks)")
    a, b = _pair()
    ta = torch.tensor(a[None, None], dtype=torch.float64)
    tb = torch.tensor(b[None, None], dtype=torch.float64)
    win = torch.tensor(_gauss(), dtype=torch.float64).reshape(1, 1, 1, 11)
    assert ms_ssim(a, b) == pytest.approx(pm.ms_ssim(ta, tb, data_range=255, win=win).item(), abs=1e-12)
