"""The feature quantisers against the public scripts' own arithmetic, re-run here with torch.

Sources (read at the commits named in the conditions):
* MPEG-137 EE1.2 P-layer anchor scripts, Image-Processing-Systems-Laboratory/
  VCM_EE1.2_P-layer_feature_map_anchor_generation_137th_MPEG-VCM @61ec265: ``quantizer.py``
  quant_fix ``(pyramid - _min) * _scale`` on float32 tensors with ``_min = -23.1728``,
  ``_scale = 23.4838``; ``utils.py`` stacks the tiles into a float64 array and ``astype(np.uint16)``;
  dequant_fix ``x.type(torch.float32) / _scale + _min``.
* CompressAI-Vision @31165da ``compressai_vision/codecs/utils.py``: min_max_normalization
  ``((x - min) / (max - min)).clamp_(0, 1)``, ``(out * (2**bitdepth - 1)).floor()``;
  min_max_inv_normalization ``x / (2**bitdepth - 1) * (max - min) + min``.
The expressions are evaluated here with torch exactly as written there (torch's float32 scalar
arithmetic), on values spread over each range, and vcmbench's numpy quantiser must give the same
codes and the same de-quantised floats bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.features.packing import Quantiser

torch = pytest.importorskip("torch")


def _values(lo, hi, n=200_001, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([np.linspace(lo, hi, n), rng.uniform(lo, hi, n)]).astype(np.float32)


def test_ee12_quant_fix_and_astype_uint16():
    _min, _scale = -23.1728, 23.4838
    x = _values(-23.1728, 20.3891)
    ref = ((torch.from_numpy(x) - _min) * _scale).numpy().astype(np.float64).astype(np.uint16)
    q = Quantiser(-23.1728, 20.3891, 10, "floor", "ee12-scale", 23.4838)
    got = q.quantise(x)
    assert np.array_equal(got, ref)
    deq_ref = (torch.from_numpy(ref.astype(np.int32)).type(torch.float32) / _scale + _min).numpy()
    assert np.array_equal(q.dequantise(got), deq_ref)


def test_compressai_vision_min_max_normalization():
    mn, mx = 20.246625900268555, 28.397470474243164
    x = _values(-30.0, 30.0)
    t = torch.from_numpy(x)
    ref = (((t - mn) / (mx - mn)).clamp_(0, 1) * (2 ** 10 - 1)).floor().numpy().astype(np.uint16)
    q = Quantiser(mn, mx, 10, "floor", "cav-minmax")
    got = q.quantise(x)
    assert np.array_equal(got, ref)
    assert (got == 0).mean() > 0.8  # the clamp sends every value below 20.2466 to code 0
    r = torch.from_numpy(ref.astype(np.float32))
    deq_ref = ((r / (2 ** 10 - 1)) * (mx - mn) + mn).numpy()
    assert np.array_equal(q.dequantise(got), deq_ref)
