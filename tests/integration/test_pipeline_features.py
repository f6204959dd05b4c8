"""The feature path end to end with a toy split-capable network (the real SSD split is tested with its
backend): features (cached, once per image) -> quantisation with the condition's range -> tiling ->
4:0:0 10-bit VVenC -> verify -> unpack -> head; feature quality and complexity in the result set."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from vcmbench.tasks.base import TASKS, Detections, TaskNetwork

TOY = "toy-split-test"


class ToySplit(TaskNetwork):
    """p2 = 256 shifted copies of the grey image at 1/16 scale; p3..p5 halve it; the head puts a 64 px box at
    the brightness centroid of channel 0 of p2 (a function of the decoded features only)."""

    name = TOY
    split_points = ("fpn",)
    feature_layers = ("p2", "p3", "p4", "p5", "p6")
    calls: list[str] = []  # one entry per features() call in this process (backbone calls)

    def __init__(self, score_threshold=0.05, max_detections=100, threads=None):
        super().__init__(score_threshold, max_detections)

    def signature(self):
        return "toy#1"

    def feature_info(self):
        return {k: {"shape": None, "range": [0.0, 8.0]} for k in self.feature_layers}

    def complexity(self):
        return {"front": {"params": 0, "macs": 1000}, "back": {"params": 10, "macs": 500}, "input_pixels": 100}

    def features(self, rgb):
        ToySplit.calls.append(rgb.shape)
        g = rgb.astype(np.float32).mean(axis=2)
        h, w = g.shape[0] // 16, g.shape[1] // 16
        p = g[: h * 16, : w * 16].reshape(h, 16, w, 16).mean(axis=(1, 3)) / 64.0
        p2 = np.stack([p + c / 64.0 for c in range(256)]).astype(np.float32)
        out = {"p2": p2}
        for k in (3, 4, 5, 6):
            out[f"p{k}"] = out[f"p{k - 1}"][:, ::2, ::2]
        return out

    def head(self, features, image_size):
        p2 = features["p2"][0].astype(np.float64)
        w = p2 - p2.min()
        ys, xs = np.mgrid[0:p2.shape[0], 0:p2.shape[1]]
        cx, cy = (xs * w).sum() / w.sum() * 16 + 8, (ys * w).sum() / w.sum() * 16 + 8
        return Detections([[cx - 32, cy - 32, cx + 32, cy + 32]], [0.9], ["clock"], None, image_size)

    def run(self, rgb):
        return self.head(self.features(rgb), (rgb.shape[1], rgb.shape[0]))


@pytest.fixture
def toy_condition(tmp_path):
    if TOY not in TASKS:
        TASKS.add(TOY, ToySplit)
    d = tmp_path / "cttc"
    d.mkdir()
    cond = {
        "schema_version": 1, "name": "toy-feature", "version": 1, "title": "toy", "kind": "feature",
        "dataset": {"name": "samples", "source": "skimage", "sample_images": ["coins", "camera"]},
        "task": {"type": "detection", "network": TOY, "split_point": "fpn", "source": "test"},
        "codec": {"name": "vvenc", "preset": "faster", "qps": [22, 51], "scales": [1.0], "input_bit_depth": 10,
                  "internal_bit_depth": 10, "chroma_format": 400, "source": "test"},
        "feature": {"coded_layers": ["p2", "p3", "p4", "p5"], "derived_layers": {"p6": "maxpool(p5, 1, 2)"},
                    "channels": 256, "tiling": {"p2": [16, 16], "p3": [32, 8], "p4": [64, 4], "p5": [128, 2]},
                    "quant_bits": 10, "quant_range": {"mode": "fixed", "min": 0.0, "max": 8.0, "source": "toy: grey/64 + c/64"},
                    "rounding": "round", "side_info": "not-counted", "source": "test"},
        "rate": {"definition": "bpp-dataset", "side_info": "not-counted", "source": "test"},
        "metric": {"name": "coco-ap", "iou_type": "bbox", "quality_key": "AP50", "source": "test"},
        "bd": {"method": "pchip-jvet", "source": "test"},
        "ground_truth": {"mode": "reference-output", "score_threshold": 0.5, "source": "test"},
    }
    path = d / "toy-feature.yaml"
    path.write_text(yaml.safe_dump(cond))
    return path


@pytest.mark.integration
def test_feature_path_with_fixed_range(toy_condition, tmp_path):
    from vcmbench.run.pipeline import run_condition

    out = tmp_path / "run"
    ToySplit.calls.clear()
    s = run_condition(str(toy_condition), None, out, jobs=1)
    assert not s.errors and s.not_verified == 0, s.errors
    assert len(ToySplit.calls) == 2  # features computed once per image, not once per (image, QP)
    assert len(list((out / "features").glob("*.npz"))) == 2 and not list((out / "features").glob(".tmp-*"))
    rs = s.result_set
    assert [p.qp for p in rs.points] == [22, 51] and all(p.images == 2 for p in rs.points)
    assert rs.points[0].bpp > rs.points[1].bpp
    assert rs.points[0].accuracy["AP50"] == pytest.approx(1.0)  # QP 22 keeps the centroid on every image
    # decoded-feature quality, per point and per layer: better at QP 22 than at QP 51
    q22, q51 = rs.points[0].accuracy, rs.points[1].accuracy
    assert q22["feature_psnr"] > q51["feature_psnr"] and q22["feature_mse"] < q51["feature_mse"]
    assert set(rs.points[0].extra["feature_layers"]) == {"p2", "p3", "p4", "p5"}
    assert rs.provenance["complexity"]["kmac_per_pixel"] == {"front": 0.01, "back": 0.005}
    run = json.loads((out / "run.json").read_text())
    assert run["feature"]["range"] == {"mode": "fixed", "min": 0.0, "max": 8.0}
    assert {j["kind"] for j in run["jobs"]} == {"reference", "code"}
    db_recs = [json.loads(p.read_text()) for p in (out / "predictions").glob("c*.json")]
    assert len(db_recs) == 4
    # resume: nothing to redo, no backbone call, same result
    again = run_condition(str(toy_condition), None, out, jobs=1)
    assert again.skipped == again.total == 2 + 4 and again.result_set.points == rs.points
    assert len(ToySplit.calls) == 2


@pytest.mark.integration
def test_same_image_same_bitstream_whatever_the_run_holds(toy_condition, tmp_path):
    """The quantisation range is condition data: an image's bitstream does not depend on --limit."""
    from vcmbench.run.pipeline import run_condition

    data = yaml.safe_load(toy_condition.read_text())
    data["dataset"]["sample_images"] = ["coins", "camera", "moon", "page"]
    data["codec"]["qps"] = [37]
    toy_condition.write_text(yaml.safe_dump(data))
    a = run_condition(str(toy_condition), None, tmp_path / "a", limit=2, jobs=1)
    b = run_condition(str(toy_condition), None, tmp_path / "b", limit=4, jobs=1)
    assert not a.errors and not b.errors
    bs_a = {p.name: p.read_bytes() for p in (tmp_path / "a" / "bitstreams").iterdir()}
    bs_b = {p.name: p.read_bytes() for p in (tmp_path / "b" / "bitstreams").iterdir()}
    assert len(bs_a) == 2 and len(bs_b) == 4
    assert all(bs_b[name] == data_a for name, data_a in bs_a.items())  # same job ids, same bytes


@pytest.mark.integration
def test_feature_path_with_per_image_range_counts_side_info(toy_condition, tmp_path):
    from vcmbench.run.pipeline import run_condition

    data = yaml.safe_load(toy_condition.read_text())
    data["feature"].update(quant_range={"mode": "per-image", "source": "the picture's own min/max, sent as 2 float32"},
                           header={"bits": 64, "source": "two float32"}, side_info="counted")
    data["rate"]["side_info"] = "counted"
    data["codec"]["qps"] = [37]
    toy_condition.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    s = run_condition(str(toy_condition), None, out, jobs=1)
    assert not s.errors and s.total == 2 + 2  # each picture carries its own range
    (p,) = s.result_set.points
    files = sorted((out / "bitstreams").iterdir())
    assert p.bits == sum(f.stat().st_size * 8 for f in files) + 2 * 64
    assert "rate:bpp-dataset+side-counted" in s.result_set.signature
