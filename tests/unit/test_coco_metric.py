"""COCO AP through vcmbench.metrics.coco on ../shared/data/coco-tiny-cc/.

The golden reference is pycocotools itself: the perturbed-prediction test runs COCOeval directly
(COCO(), loadRes, evaluate/accumulate/summarize → ``stats``) and requires exact equality.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest

from vcmbench.core.errors import DataError
from vcmbench.metrics.coco import STAT_KEYS, coco_category_map, coco_evaluate, load_coco_gt


@pytest.fixture
def gt(coco_tiny):
    return load_coco_gt(coco_tiny / "instances_val2017_cc.json")


def _perfect(gt, kind="bbox"):
    key = "bbox" if kind == "bbox" else "segmentation"
    return [{"image_id": a["image_id"], "category_id": a["category_id"], key: a[key], "score": 1.0}
            for a in gt["annotations"] if not a["iscrowd"]]


def _perturbed(gt, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for a in gt["annotations"]:
        if a["iscrowd"] or rng.random() < 0.15:  # some misses
            continue
        x, y, w, h = a["bbox"]
        j = rng.normal(0, 0.08, 4)
        out.append({"image_id": a["image_id"], "category_id": a["category_id"], "score": float(rng.random()),
                    "bbox": [x + j[0] * w, y + j[1] * h, w * (1 + j[2]), h * (1 + j[3])]})
    ids = [im["id"] for im in gt["images"]]
    cats = [c["id"] for c in gt["categories"]]
    for _ in range(40):  # false positives
        out.append({"image_id": int(rng.choice(ids)), "category_id": int(rng.choice(cats)),
                    "score": float(rng.random() * 0.5), "bbox": [float(v) for v in rng.random(4) * 200 + 1]})
    return out


def _pycocotools_stats(gt, preds, iou_type="bbox", img_ids=None):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO()
        c.dataset = copy.deepcopy(gt)
        c.createIndex()
        d = c.loadRes(copy.deepcopy(preds))
        e = COCOeval(c, d, iou_type)
        if img_ids is not None:
            e.params.imgIds = img_ids
        e.evaluate()
        e.accumulate()
        e.summarize()
    return [float(s) for s in e.stats]


def test_perfect_prediction_is_1(gt):
    r = coco_evaluate(gt, _perfect(gt))
    assert set(r) == set(STAT_KEYS)
    assert r["AP"] == 1.0 and r["AP50"] == 1.0 and r["AP75"] == 1.0 and r["AR100"] == 1.0


def test_perfect_segm_prediction_is_1(gt):
    r = coco_evaluate(gt, _perfect(gt, "segm"), iou_type="segm")  # polygons converted to RLE
    assert r["AP"] == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_perturbed_predictions_match_pycocotools_exactly(gt, seed):
    """Golden source: pycocotools COCOeval.stats computed directly in this test."""
    preds = _perturbed(gt, seed)
    ours = coco_evaluate(gt, preds)
    theirs = _pycocotools_stats(gt, preds)
    assert [ours[k] for k in STAT_KEYS] == theirs
    assert 0.1 < ours["AP"] < 0.9


def test_image_subset_matches_pycocotools(gt):
    preds = _perturbed(gt, 3)
    ids = sorted(im["id"] for im in gt["images"])[:8]
    ours = coco_evaluate(gt, preds, image_ids=ids)
    assert [ours[k] for k in STAT_KEYS] == _pycocotools_stats(gt, preds, img_ids=ids)


def test_gt_from_path_and_predictions_from_file(coco_tiny, gt, tmp_path):
    p = tmp_path / "pred.json"
    p.write_text(json.dumps(_perfect(gt)))
    assert coco_evaluate(coco_tiny / "instances_val2017_cc.json", p)["AP"] == 1.0


def test_no_predictions_give_zero(gt):
    r = coco_evaluate(gt, [])
    assert r["AP"] == 0.0 and r["AR100"] == 0.0


def test_category_mapping_by_name(gt):
    m = coco_category_map(gt, ["person", "traffic_light", "Dining Table"])
    assert m == {"person": 1, "traffic_light": 10, "Dining Table": 67}
    with pytest.raises(DataError, match="'unicorn'.*'toaster oven'|'toaster oven'.*'unicorn'"):
        coco_category_map(gt, ["unicorn", "person", "toaster oven"])
    preds = [{k: v for k, v in p.items() if k != "category_id"} |
             {"category_name": next(c["name"] for c in gt["categories"] if c["id"] == p["category_id"])}
             for p in _perfect(gt)]
    assert coco_evaluate(gt, preds)["AP"] == 1.0


def test_bad_predictions_are_refused(gt):
    p = _perfect(gt)[:1]
    with pytest.raises(DataError, match="image ids not in the ground truth"):
        coco_evaluate(gt, [{**p[0], "image_id": -5}])
    with pytest.raises(DataError, match="category ids"):
        coco_evaluate(gt, [{**p[0], "category_id": 999}])
    with pytest.raises(DataError, match="iou_type"):
        coco_evaluate(gt, p, iou_type="keypoints")
    with pytest.raises(DataError, match="lacks segmentation"):
        coco_evaluate(gt, p, iou_type="segm")


def test_detections_to_coco_round_trip(gt):
    from vcmbench.metrics.coco import detections_to_coco

    class _Det:
        pass

    names = {c["id"]: c["name"] for c in gt["categories"]}
    cmap = coco_category_map(gt, sorted(set(names.values())))
    rows = []
    for im in gt["images"]:
        anns = [a for a in gt["annotations"] if a["image_id"] == im["id"] and not a["iscrowd"]]
        d = _Det()
        d.boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                            for a in anns]).reshape(-1, 4)
        d.scores = np.ones(len(anns))
        d.labels = [names[a["category_id"]] for a in anns]
        d.masks = None
        rows += detections_to_coco(im["id"], d, cmap)
    assert coco_evaluate(gt, rows)["AP"] == 1.0
    with pytest.raises(DataError, match="No category id"):
        detections_to_coco(1, d, {})
