"""The native R-CNN backend's contract without running a network: configs, weights checks, registry, CLI."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from click.testing import CliRunner

from vcmbench.core.errors import DataError, UsageError
from vcmbench.tasks.cityscapes_names import CITYSCAPES_LABEL_IDS, CITYSCAPES_THING_CLASSES
from vcmbench.tasks.coco_names import COCO_NAMES
from vcmbench.tasks.rcnn import get_config, supported_models
from vcmbench.tasks.rcnn.config import CONFIGS
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


def test_cityscapes_config_is_the_model_zoo_yaml():
    """detectron2 configs/Cityscapes/mask_rcnn_R_50_FPN.yaml (the same values in the pb1-detectron2 0.6 sdist
    and detectron2 main): _BASE_ Base-RCNN-FPN.yaml, MODEL.MASK_ON True, ROI_HEADS.NUM_CLASSES 8,
    INPUT.MIN_SIZE_TEST 1024, MAX_SIZE_TEST 2048; nothing else set for inference, so every other value is
    the one of COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x (Base-RCNN-FPN + RESNETS.DEPTH 50, the
    default).  Weights: model_zoo.py maps the config to 142423278/model_final_af9cf5.pkl."""
    import dataclasses

    cs = get_config("Cityscapes/mask_rcnn_R_50_FPN.yaml")
    assert cs is get_config("Cityscapes/mask_rcnn_R_50_FPN") and "Cityscapes/mask_rcnn_R_50_FPN" in supported_models()
    assert (cs.mask_on, cs.num_classes, cs.min_size_test, cs.max_size_test) == (True, 8, 1024, 2048)
    assert (cs.depth, cs.num_groups, cs.stride_in_1x1, cs.pixel_std) == (50, 1, True, (1.0, 1.0, 1.0))
    assert cs.task_type == "instance-segmentation" and cs.weights_file == "model_final_af9cf5.pkl"
    assert cs.published_sha256 == {}  # no public source pins this file's sha256
    assert cs.input_convention == "RGB uint8 -> BGR, ResizeShortestEdge 1024/2048 (PIL bilinear), config mean/std, pad 32"
    coco = get_config("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x")
    differ = {f.name for f in dataclasses.fields(cs) if getattr(cs, f.name) != getattr(coco, f.name)}
    assert differ == {"name", "num_classes", "classes", "min_size_test", "max_size_test", "weights_file",
                      "published_sha256", "nominal_size"}
    assert cs.nominal_size == (2048, 1024) and coco.nominal_size == (640, 480)


def test_cityscapes_classes_and_label_ids():
    """Order: detectron2 data/datasets/builtin_meta.py CITYSCAPES_THING_CLASSES; ids: cityscapesscripts
    helpers/labels.py (name2label[name].id of the labels with hasInstances and not ignoreInEval)."""
    assert CITYSCAPES_THING_CLASSES == ("person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle")
    assert CITYSCAPES_LABEL_IDS == {"person": 24, "rider": 25, "car": 26, "truck": 27, "bus": 28, "train": 31,
                                    "motorcycle": 32, "bicycle": 33}
    assert get_config("Cityscapes/mask_rcnn_R_50_FPN").classes == CITYSCAPES_THING_CLASSES
    for name, cfg in CONFIGS.items():
        assert len(cfg.classes) == cfg.num_classes, name
        if name.startswith("COCO-"):
            assert cfg.classes == COCO_NAMES and cfg.weights_file.startswith("model_final_"), name
    labels = pytest.importorskip("cityscapesscripts.helpers.labels")  # the source itself (2.3.0 in the test lock)
    assert {n: labels.name2label[n].id for n in CITYSCAPES_THING_CLASSES} == CITYSCAPES_LABEL_IDS
    assert [lb.name for lb in labels.labels if lb.hasInstances and not lb.ignoreInEval] == list(CITYSCAPES_THING_CLASSES)


def test_detectron2_adapter_names_cityscapes_classes():
    """Where detectron2 imports, detectron2:Cityscapes/... labels its outputs with the Cityscapes names too."""
    from vcmbench.tasks.detectron2 import class_name, model_classes

    assert model_classes("Cityscapes/mask_rcnn_R_50_FPN") == CITYSCAPES_THING_CLASSES
    assert model_classes("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x") == COCO_NAMES
    assert class_name(6, CITYSCAPES_THING_CLASSES) == "motorcycle" and class_name(6) == "train"
    with pytest.raises(UsageError, match="0..7"):
        class_name(8, CITYSCAPES_THING_CLASSES)


def test_cityscapes_resize_and_head_shapes():
    from vcmbench.tasks.rcnn.model import resized_hw

    cs = get_config("Cityscapes/mask_rcnn_R_50_FPN")
    size = (cs.min_size_test, cs.max_size_test)
    assert resized_hw(1024, 2048, *size) == (1024, 2048)  # a Cityscapes frame keeps its size
    assert resized_hw(256, 512, *size) == (1024, 2048)
    assert resized_hw(128, 250, *size) == (1024, 2000)
    assert resized_hw(128, 134, *size) == (1024, 1072)  # the golden's second input
    assert resized_hw(29, 640, *size) == (93, 2048)  # the max-size clamp
    assert resized_hw(2048, 1024, *size) == (2048, 1024)
    k = expected_shapes(cs)
    assert k["roi_heads.box_predictor.cls_score.weight"] == (9, 1024)
    assert k["roi_heads.box_predictor.bbox_pred.weight"] == (32, 1024)
    assert k["roi_heads.mask_head.predictor.weight"] == (8, 256, 1, 1)
    coco = expected_shapes(get_config("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"))
    assert sorted(k) == sorted(coco)  # the same parameters, only the class-sized ones differ
    assert {n for n in k if k[n] != coco[n]} == {"roi_heads.box_predictor.cls_score.weight",
                                                 "roi_heads.box_predictor.cls_score.bias",
                                                 "roi_heads.box_predictor.bbox_pred.weight",
                                                 "roi_heads.box_predictor.bbox_pred.bias",
                                                 "roi_heads.mask_head.predictor.weight",
                                                 "roi_heads.mask_head.predictor.bias"}


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
    # the network of cttc/cityscapes-val-seg.yaml
    assert resolve_detectron2_backend("Cityscapes/mask_rcnn_R_50_FPN") == "rcnn"
    assert resolve_detectron2_backend("Cityscapes/mask_rcnn_R_50_FPN.yaml") == "rcnn"
    assert resolve_detectron2_backend("COCO-Detection/retinanet_R_50_FPN_3x") == "detectron2"  # not implemented natively


def test_cityscapes_network_name_builds_the_native_backend(monkeypatch):
    pytest.importorskip("torch")
    from vcmbench.tasks import get_task
    from vcmbench.tasks.detectron2 import detectron2_available

    if detectron2_available()[0]:
        pytest.skip("detectron2 imports here: detectron2: names run detectron2")
    monkeypatch.delenv("VCMBENCH_RCNN_WEIGHTS", raising=False)
    monkeypatch.delenv("VCMBENCH_D2_WEIGHTS", raising=False)
    # no weights: the native backend's own message, naming the model-zoo file of this config
    with pytest.raises(UsageError, match=r"runs on the native rcnn backend.*model_final_af9cf5\.pkl"):
        get_task("detectron2:Cityscapes/mask_rcnn_R_50_FPN")


def test_tasks_cli_lists_the_native_networks():
    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, ["tasks", "--json"])
    assert res.exit_code == 0, res.output
    import json

    rows = {r["name"]: r for r in json.loads(res.output)}
    r = rows["rcnn:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x"]
    assert r["split"] == "fpn (p2..p6)" and "model_final_68b088.pkl" in r["weights"] and r["type"] == "detection"
    assert rows["rcnn:COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"]["type"] == "instance-segmentation"
    cs = rows["rcnn:Cityscapes/mask_rcnn_R_50_FPN"]
    assert cs["type"] == "instance-segmentation" and cs["split_points"] == ["fpn"] and cs["split"] == "fpn (p2..p6)"
    assert cs["weights"] == "model-zoo model_final_af9cf5.pkl (--task-weights)"
    assert "model_final_f6e8b1.pkl" in rows["rcnn:COCO-Detection/faster_rcnn_R_101_FPN_3x"]["weights"]
    text = CliRunner().invoke(cli, ["tasks"])
    assert text.exit_code == 0 and "rcnn:Cityscapes/" in text.output  # the table wraps long names
