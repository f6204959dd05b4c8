"""The native R-CNN (``rcnn:``) equals detectron2 on seeded model-zoo-style weights.

Golden source: detectron2 itself — main 02b5c4e2 (the branch CompressAI-Vision installs), CPU, torch
2.14.1 / torchvision 0.29.1 — run by benchmarks/rcnn_reference.py on the weights
vcmbench.tasks.rcnn.seeded writes for seed 0, on two elongated crops of coco-tiny-cc images (listed in
tests/golden/rcnn/*.json).  The test regenerates the weights, runs the native backend and compares:
FPN features (512 seeded samples per level, mean and std) <= 1e-4, RPN proposals as sets <= 0.01 px
with objectness <= 1e-4, the first 100 proposals' class logits <= 1e-4, detections matched one to one
(same class) with boxes <= 0.01 px and scores <= 1e-5, masks IoU >= 0.99.

Cityscapes (tests/golden/rcnn/cityscapes_mask_rcnn_R_50_FPN.*): detectron2 0.6 from the PyPI sdist
``pb1-detectron2==0.6`` (ext_modules=[], stub ``detectron2._C``), torch 2.14.1 / torchvision 0.29.1, CPU,
config ``configs/Cityscapes/mask_rcnn_R_50_FPN.yaml`` (8 classes, ResizeShortestEdge 1024 / max 2048),
weights seed 2, on a 640x29 strip (resized to 2048x93: the max-size clamp) and a 134x128 crop (resized to
1072x1024: the shortest edge) of coco-tiny-cc images, both in the default run; same comparisons and bounds
as the COCO mask test, plus the split point's Detections (Cityscapes class names, full-image masks).
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from tests.golden.rcnn_golden_common import (  # noqa: E402
    BOX_TOL,
    FEATURE_TOL,
    IMAGES,
    MASK_IOU,
    SCORE_TOL,
    compare,
    load_golden,
)

pytestmark = pytest.mark.skipif(not IMAGES.is_dir(), reason=f"coco-tiny-cc images not found at {IMAGES}")


def _check(tmp_path, stem: str, first_only: bool = False) -> list[dict]:
    from vcmbench.tasks import get_task
    from vcmbench.tasks.rcnn import get_config
    from vcmbench.tasks.rcnn.seeded import seeded_state, write_model_zoo_pkl

    meta, arrays = load_golden(stem)
    if first_only:
        meta = {**meta, "images": meta["images"][:1]}
    seed = meta.get("weights_seed", 0)  # the COCO goldens: seed 0 (not recorded then)
    pkl = write_model_zoo_pkl(seeded_state(get_config(meta["model"]), seed), tmp_path / "seeded.pkl")
    net = get_task("rcnn:" + meta["model"], weights=str(pkl), score_threshold=meta["score_threshold"],
                   max_detections=meta["detections_per_image"], device="cpu")
    report = compare(net, meta, arrays)
    for r, info in zip(report, meta["images"]):
        assert r["resized_hw"] == r["ref_resized_hw"]
        assert r["feature_maxdiff"] <= FEATURE_TOL, r
        assert r["proposals"][0] == r["proposals"][1], r
        assert r["proposal_maxdiff"] <= BOX_TOL, r
        assert r["objectness_maxdiff"] <= FEATURE_TOL, r
        assert r["logit_maxdiff"] <= FEATURE_TOL, r
        n, nref, matched = r["detections"]
        assert n == nref == matched == info["detections"] > 0, r
        assert r["box_maxdiff"] <= BOX_TOL, r
        assert r["score_maxdiff"] <= SCORE_TOL, r
        if "masks_rle" in info:
            assert r["mask_min_iou"] >= MASK_IOU, r
    return net, meta


def test_faster_rcnn_r50_equals_detectron2(tmp_path):
    import numpy as np

    from tests.golden.rcnn_golden_common import load_image
    from vcmbench.tasks.rcnn.weights import expected_shapes

    net, meta = _check(tmp_path, "faster_rcnn_R_50_FPN_3x")
    # split at the FPN: features() then head() gives what run() gives
    rgb = load_image(meta["images"][0])
    whole = net.run(rgb)
    feats = net.features(rgb)
    assert sorted(feats) == ["p2", "p3", "p4", "p5", "p6"] and all(f.shape[0] == 256 for f in feats.values())
    split = net.head(feats, (rgb.shape[1], rgb.shape[0]))
    assert len(split) == len(whole) > 0 and split.labels == whole.labels
    assert np.abs(split.boxes - whole.boxes).max() <= 1e-4 and np.abs(split.scores - whole.scores).max() <= 1e-6
    # complexity: every parameter counted once (FrozenBN folded: 4 vectors -> 1 bias per conv)
    info = net.feature_info((rgb.shape[1], rgb.shape[0]))
    assert {k: v["shape"] for k, v in info.items()} == {k: list(f.shape) for k, f in feats.items()}
    assert net.feature_info()["p2"]["shape"] == [256, 200, 272] and net.feature_info()["p6"]["shape"] == [256, 13, 17]
    c = net.complexity((1067, 800))
    raw = sum(int(np.prod(s)) for s in expected_shapes(net.cfg).values())
    bn = sum(int(np.prod(s)) for k, s in expected_shapes(net.cfg).items() if ".norm." in k)
    assert c["front"]["params"] + c["back"]["params"] == raw - bn * 3 // 4
    assert c["input_pixels"] == 800 * 1067 and c["front"]["macs"] > c["back"]["macs"] > 0


def test_mask_rcnn_r50_equals_detectron2(tmp_path):
    _check(tmp_path, "mask_rcnn_R_50_FPN_3x", first_only=True)


@pytest.mark.slow
def test_mask_rcnn_r50_equals_detectron2_all_images(tmp_path):
    _check(tmp_path, "mask_rcnn_R_50_FPN_3x")


@pytest.mark.slow
def test_faster_rcnn_x101_equals_detectron2(tmp_path):
    _check(tmp_path, "faster_rcnn_X_101_32x8d_FPN_3x")


def test_cityscapes_mask_rcnn_equals_detectron2(tmp_path):
    import numpy as np

    from tests.golden.rcnn_golden_common import load_image, match
    from vcmbench.tasks.cityscapes_names import CITYSCAPES_THING_CLASSES

    # both images: the strip hits the max-size clamp, the crop the 1024 shortest edge
    net, meta = _check(tmp_path, "cityscapes_mask_rcnn_R_50_FPN")
    assert [i["resized_hw"] for i in meta["images"]] == [[93, 2048], [1024, 1072]]
    assert meta["model"] == "Cityscapes/mask_rcnn_R_50_FPN" and (meta["min_size_test"], meta["max_size_test"]) == (1024, 2048)
    assert tuple(net.classes) == CITYSCAPES_THING_CLASSES and net.task_type == "instance-segmentation"
    # through the split point, the Detections carry detectron2's classes as Cityscapes names and full-image masks
    _, arrays = load_golden("cityscapes_mask_rcnn_R_50_FPN")
    info = meta["images"][0]
    rgb = load_image(info)
    feats = net.features(rgb)
    assert {k: list(f.shape) for k, f in feats.items()} == {k: v["shape"] for k, v in info["features"].items()}
    det = net.head(feats, (rgb.shape[1], rgb.shape[0]))
    names = {n: i for i, n in enumerate(CITYSCAPES_THING_CLASSES)}
    ours = np.array([names[n] for n in det.labels])
    rb, rs, rc = arrays["i0_boxes"], arrays["i0_scores"], arrays["i0_classes"]
    pairs = match(det.boxes, det.scores, ours, rb, rs, rc)
    assert len(pairs) == len(det) == len(rb) and len(set(det.labels)) >= 4, sorted(set(det.labels))
    assert max(float(np.abs(det.boxes[i] - rb[j]).max()) for i, j in pairs) <= BOX_TOL
    assert max(abs(float(det.scores[i] - rs[j])) for i, j in pairs) <= SCORE_TOL
    assert det.masks is not None and det.masks.shape == (len(det), rgb.shape[0], rgb.shape[1])
    # the nominal input of tasks --json is a 2048x1024 Cityscapes frame, kept at its size
    nominal = net.feature_info()
    assert nominal["p2"]["shape"] == [256, 256, 512] and nominal["p6"]["shape"] == [256, 16, 32]
    assert net.complexity()["input_pixels"] == 2048 * 1024
