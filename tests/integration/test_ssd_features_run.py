"""The COCO feature condition with the real SSD-MobileNetV2 split (heads m0..m5), two images, one QP:
plan-time tiling check against the network, one backbone call per image, verified bitstreams, the
decoded-feature quality and the network complexity in the result set."""

from __future__ import annotations

import pytest


@pytest.mark.integration
def test_ssd_feature_condition_runs(coco_tiny, tmp_path, monkeypatch):
    from vcmbench.features import cache as cache_mod
    from vcmbench.run.pipeline import run_condition

    calls = []
    real = cache_mod.FeatureCache.store

    def counting_store(self, path, feats):
        calls.append(path.name)
        return real(self, path, feats)

    monkeypatch.setattr(cache_mod.FeatureCache, "store", counting_store)
    s = run_condition("coco-tiny-cc-ssd-features", coco_tiny, tmp_path / "run", qps=[22, 47], limit=2, jobs=1,
                      codec_options={"preset": "faster"})
    assert not s.errors and s.not_verified == 0, s.errors
    assert len(calls) == 2  # the backbone ran once per image for both QPs
    rs = s.result_set
    p22, p47 = rs.points
    assert p22.bpp > p47.bpp and p22.accuracy["feature_psnr"] > p47.accuracy["feature_psnr"]
    assert set(p22.extra["feature_layers"]) == {"m0", "m1", "m2", "m3", "m4", "m5"}
    cx = rs.provenance["complexity"]
    assert cx["front"]["macs"] > 0 and cx["back"]["macs"] > 0 and cx["input_pixels"] == 300 * 300
    assert rs.provenance["twin"] == "coco-tiny-cc-ssd"
