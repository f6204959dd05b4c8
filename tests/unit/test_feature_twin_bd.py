"""A feature condition and its image twin (``bd.twin``) pair in `vcmbench bdrate` and `vcmbench report`;
anything else that differs between them is still refused; quality keys aggregate per point."""

from __future__ import annotations

import pytest

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.core.errors import SignatureMismatch


def _pair(twin: str | None):
    a = make_anchor("coco-tiny-cc-ssd")
    a.condition = "coco-tiny-cc-ssd@1"
    t = make_test("coco-tiny-cc-ssd-features")
    t.condition = "coco-tiny-cc-ssd-features@1"
    if twin:
        t.provenance["twin"] = twin
    return a, t


def test_twins_pair_in_bdrate_and_report():
    from vcmbench.report.inputs import compare_inputs, curves_from_result_set
    from vcmbench.report.model import build_report

    a, t = _pair(None)
    with pytest.raises(SignatureMismatch):
        compare_inputs(curves_from_result_set(a), curves_from_result_set(t), ["pchip-jvet"])
    a, t = _pair("coco-tiny-cc-ssd")
    rows = compare_inputs(curves_from_result_set(a), curves_from_result_set(t), ["pchip-jvet"])
    assert rows and all(r["result"] is not None and not r["forced"] for r in rows)
    assert rows[0]["result"].bd_rate_pct == pytest.approx(-10.0, abs=0.5)  # the test spends 0.9x the rate
    model = build_report([a], [t])
    assert len(model.sections) == 1 and model.sections[0].condition == "coco-tiny-cc-ssd@1"
    # a twin must still agree on the network, metric, rate definition and ground truth
    t.signature = t.signature.replace("task:frcnn-x101", "task:other")
    with pytest.raises(SignatureMismatch, match="task"):
        compare_inputs(curves_from_result_set(a), curves_from_result_set(t), ["pchip-jvet"])


def test_quality_aggregated_per_point_with_weights():
    from vcmbench.run.resultset import aggregate_quality

    recs = [{"extra": {"quality": {"psnr_rgb": 30.0, "psnr_y": 40.0, "psnr_u": 44.0, "psnr_v": 48.0,
                                   "ms_ssim": 0.9}}},
            {"extra": {"quality": {"psnr_rgb": 34.0, "psnr_y": 42.0, "psnr_u": 44.0, "psnr_v": 44.0,
                                   "ms_ssim": None, "ms_ssim_note": "small"}}}]
    out, layers, note = aggregate_quality(recs, "6:1:1")
    assert out["psnr_rgb"] == 32.0 and out["psnr_y"] == 41.0
    assert out["psnr_yuv"] == pytest.approx(((6 * 40 + 44 + 48) / 8 + (6 * 42 + 44 + 44) / 8) / 2)
    assert "ms_ssim" not in out and "ms_ssim" in note and layers == {}
    out4, _, _ = aggregate_quality(recs, [4, 1, 1])
    assert out4["psnr_yuv"] == pytest.approx(((4 * 40 + 44 + 48) / 6 + (4 * 42 + 44 + 44) / 6) / 2)
    feats = [{"extra": {"quality": {"feature_mse": m, "feature_psnr": p, "layers": {"m0": {"mse": m, "psnr": p}}}}}
             for m, p in ((1e-4, 50.0), (3e-4, 40.0))]
    out, layers, note = aggregate_quality(feats, "6:1:1")
    assert out == {"feature_mse": pytest.approx(2e-4), "feature_psnr": 45.0} and not note
    assert layers == {"m0": {"mse": pytest.approx(2e-4), "psnr": 45.0}}
