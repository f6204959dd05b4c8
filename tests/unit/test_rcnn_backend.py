"""The native R-CNN backend's contract without running a network: configs, weights checks, registry, CLI."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from click.testing import CliRunner

from vcmbench.core.errors import DataError, UsageError
from vcmbench.tasks.rcnn import get_config, supported_models
from vcmbench.tasks.rcnn.weights import check_published, expected_shapes, read_state, validate_state


def test_configs_cover_the_ctc_networks():
    names = supported_models()
    for m in ("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x", "COCO-InstanceSegmentation/mask_rcnn_X_101_32x8d_FPN_3x",
              "COCO-Detection/faster_rcnn_R_50_FPN_3x", "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"):
        assert m in names
    x = get_config("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml")
    assert (x.depth, x.num_groups, x.width_per_group, x.stride_in_1x1) == (101, 32, 8, False)
    assert x.pixel_std == (57.375, 57.120, 58.395) and x.published_sha256["model_final_68b088.pkl"].startswith("fe5ad56f")
    r = get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x")
    assert r.stride_in_1x1 and r.pixel_std == (1.0, 1.0, 1.0)
    with pytest.raises(UsageError, match="implements"):
        get_config("COCO-Detection/retinanet_R_50_FPN_3x")


def test_expected_keys_follow_detectron2_names():
    k = expected_shapes(get_config("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"))
    assert k["backbone.bottom_up.stem.conv1.weight"] == (64, 3, 7, 7)
    assert k["backbone.bottom_up.res2.0.shortcut.norm.running_var"] == (256,)
    assert "backbone.bottom_up.res2.1.shortcut.weight" not in k
    assert k["backbone.bottom_up.res5.2.conv3.weight"] == (2048, 512, 1, 1)
    assert k["roi_heads.box_head.fc1.weight"] == (1024, 256 * 7 * 7)
    assert k["roi_heads.box_predictor.cls_score.weight"] == (81, 1024)
    assert k["roi_heads.mask_head.predictor.weight"] == (80, 256, 1, 1)
    x = expected_shapes(get_config("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x"))
    assert x["backbone.bottom_up.res2.0.conv2.weight"] == (256, 8, 3, 3)  # 32 groups of 8
    assert "backbone.bottom_up.res4.22.conv1.weight" in x and "roi_heads.mask_head.deconv.weight" not in x


def _tiny_state(cfg):
    return {k: np.zeros(s, np.float32) for k, s in expected_shapes(cfg).items()}


def test_validate_names_missing_unexpected_and_misshaped_keys():
    cfg = get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x")
    state = _tiny_state(cfg)
    state["pixel_mean"] = np.zeros(3)  # ignored, as detectron2 does
    assert len(validate_state(cfg, state, "w.pkl")) == len(expected_shapes(cfg))
    bad = dict(state)
    del bad["roi_heads.box_head.fc2.bias"]
    bad["roi_heads.mask_head.deconv.weight"] = np.zeros((256, 256, 2, 2), np.float32)
    bad["backbone.fpn_lateral2.weight"] = np.zeros((256, 512, 1, 1), np.float32)
    with pytest.raises(DataError) as e:
        validate_state(cfg, bad, "w.pkl")
    msg = str(e.value)
    assert "missing: roi_heads.box_head.fc2.bias" in msg and "unexpected: roi_heads.mask_head.deconv.weight" in msg
    assert "backbone.fpn_lateral2.weight (256, 512, 1, 1) (expected (256, 256, 1, 1))" in msg


def test_read_state_and_published_sha_check(tmp_path):
    cfg = get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x")
    p = tmp_path / "model_final_280758.pkl"
    p.write_bytes(pickle.dumps({"model": {"a": np.ones(2)}, "__author__": "x"}))
    assert list(read_state(p)) == ["a"]
    with pytest.raises(DataError, match="published sha256 is 3c25caca"):
        check_published(cfg, p, "0" * 64, allow_mismatch=False)
    check_published(cfg, p, "0" * 64, allow_mismatch=True)
    check_published(cfg, tmp_path / "seeded.pkl", "0" * 64, allow_mismatch=False)  # no published file of that name
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="model-zoo"):
        read_state(tmp_path / "junk.pkl")
    with pytest.raises(UsageError, match="--task-weights"):
        read_state(tmp_path / "absent.pkl")


def test_network_needs_weights_and_a_valid_device(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from vcmbench.tasks import get_task

    monkeypatch.delenv("VCMBENCH_RCNN_WEIGHTS", raising=False)
    monkeypatch.delenv("VCMBENCH_D2_WEIGHTS", raising=False)
    with pytest.raises(UsageError, match="model_final_68b088.pkl"):
        get_task("rcnn:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x")
    with pytest.raises(UsageError, match="does not exist"):
        get_task("rcnn:COCO-Detection/faster_rcnn_R_50_FPN_3x", weights=str(tmp_path / "nope.pkl"))
    with pytest.raises(UsageError, match="CPU only"):
        get_task("ssd-mobilenet-v2-coco", device="cuda")


def test_detectron2_names_fall_back_to_the_native_backend():
    from vcmbench.tasks import resolve_detectron2_backend
    from vcmbench.tasks.detectron2 import detectron2_available

    if detectron2_available()[0]:
        pytest.skip("detectron2 imports here: detectron2: names run detectron2")
    assert resolve_detectron2_backend("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x") == "rcnn"
    assert resolve_detectron2_backend("Cityscapes/mask_rcnn_R_50_FPN") == "detectron2"  # not implemented natively


def test_tasks_cli_lists_the_native_networks():
    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, ["tasks", "--json"])
    assert res.exit_code == 0, res.output
    import json

    rows = {r["name"]: r for r in json.loads(res.output)}
    r = rows["rcnn:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x"]
    assert r["split"] == "fpn (p2..p6)" and "model_final_68b088.pkl" in r["weights"] and r["type"] == "detection"
    assert rows["rcnn:COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"]["type"] == "instance-segmentation"
