"""Malformed COCO ground truth and segmentations (issue 26): each ends in exit 2 with a message that
names the annotation or prediction, never a pycocotools traceback (``Exception: input type is not
supported``, ``KeyError: 'iscrowd'``, ``OverflowError``) nor a silent score (a negative area, an RLE of
another size, an annotation of an image not in the file)."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest

from tests.unit._hostile import invoke
from vcmbench.core.errors import DataError
from vcmbench.metrics.coco import coco_evaluate
from vcmbench.metrics.coco_segm import compressed_counts_total

SQUARE = [[10, 10, 40, 10, 40, 40, 10, 40]]
GT = {"images": [{"id": 1, "width": 100, "height": 100}],
      "categories": [{"id": 1, "name": "cat"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "area": 900,
                       "iscrowd": 0, "segmentation": SQUARE}]}
PRED = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "score": 0.9, "segmentation": SQUARE}]


def _ann(**kw):
    g = copy.deepcopy(GT)
    g["annotations"][0].update(kw)
    return g


def _without(key):
    g = copy.deepcopy(GT)
    del g["annotations"][0][key]
    return g


def _pred(**kw):
    p = copy.deepcopy(PRED)
    p[0].update(kw)
    return p


# (name, ground truth, predictions, iou types, what the message must say)
CASES = [
    ("image size negative", {**GT, "images": [{"id": 1, "width": -5, "height": 0}]}, PRED, "bbox segm", "positive"),
    ("image without size", {**GT, "images": [{"id": 1}]}, PRED, "segm", "no height or width"),
    ("duplicate image ids", {**GT, "images": GT["images"] * 2}, PRED, "bbox segm", "repeat the id"),
    ("duplicate category ids", {**GT, "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}, PRED,
     "bbox segm", "repeat the id"),
    ("category name a number", {**GT, "categories": [{"id": 1, "name": 5}]}, PRED, "bbox", "not a name"),
    ("negative area", _ann(area=-5), PRED, "bbox segm", "not negative"),
    ("iscrowd a word", _ann(iscrowd="yes"), PRED, "bbox segm", "iscrowd is 0 or 1"),
    ("iscrowd 2", _ann(iscrowd=2), PRED, "bbox segm", "iscrowd is 0 or 1"),
    ("no iscrowd", _without("iscrowd"), PRED, "bbox segm", "has no iscrowd"),
    ("no area", _without("area"), PRED, "bbox segm", "has no area"),
    ("no annotation id", _without("id"), PRED, "bbox segm", "has no id"),
    ("annotation id a word", _ann(id="a"), PRED, "bbox segm", "not an integer id"),
    ("duplicate annotation ids", {**GT, "annotations": GT["annotations"] * 2}, PRED, "bbox segm", "repeat the id"),
    ("annotation of an unknown image", _ann(image_id=7), PRED, "bbox segm", "not in the ground truth's images"),
    ("annotation of an unknown category", _ann(category_id=9), PRED, "bbox segm", "not in the ground truth's cat"),
    ("no bbox", _without("bbox"), PRED, "bbox", "has no bbox"),
    ("no segmentation", _without("segmentation"), PRED, "segm", "has no segmentation"),
    ("polygon of 3 coordinates", _ann(segmentation=[[1, 2, 3]]), PRED, "segm", "has 3 coordinates"),
    ("polygon of 4 coordinates", _ann(segmentation=[[1, 2, 3, 4]]), PRED, "segm", "has 4 coordinates"),
    ("polygon of 7 coordinates", _ann(segmentation=[[1, 2, 3, 4, 5, 6, 7]]), PRED, "segm", "has 7 coordinates"),
    ("polygon of words", _ann(segmentation=[["a"] * 6]), PRED, "segm", "finite numbers"),
    ("polygon of NaN", _ann(segmentation=[[float("nan")] * 6]), PRED, "segm", "finite numbers"),
    ("flat polygon", _ann(segmentation=[1, 2, 3, 4, 5, 6]), PRED, "segm", "coordinates"),
    ("no polygon", _ann(segmentation=[]), PRED, "segm", "empty polygon list"),
    ("segmentation a string", _ann(segmentation="x"), PRED, "segm", "is a str"),
    ("segmentation a number", _ann(segmentation=5), PRED, "segm", "is a int"),
    ("RLE of another size", _ann(segmentation={"size": [3, 3], "counts": [0, 9]}), PRED, "segm", "its image is"),
    ("RLE short of its image", _ann(segmentation={"size": [100, 100], "counts": [0, 100]}), PRED, "segm",
     "cover 100 pixels"),
    ("RLE without size", _ann(segmentation={"counts": [1, 2]}), PRED, "segm", "RLE size"),
    ("RLE negative size", _ann(segmentation={"size": [-1, 100], "counts": [0]}), PRED, "segm", "RLE size"),
    ("RLE size a word", _ann(segmentation={"size": "ab", "counts": [0]}), PRED, "segm", "RLE size"),
    ("RLE negative counts", _ann(segmentation={"size": [100, 100], "counts": [-5, 10005]}), PRED, "segm",
     "non-negative integer"),
    ("RLE fractional counts", _ann(segmentation={"size": [100, 100], "counts": [0.5, 9999.5]}), PRED, "segm",
     "non-negative integer"),
    ("RLE counts of control bytes", _ann(segmentation={"size": [100, 100], "counts": "\x00\xff"}), PRED, "segm",
     "not a compressed COCO RLE"),
    ("RLE counts a number", _ann(segmentation={"size": [100, 100], "counts": 5}), PRED, "segm", "RLE counts is"),
    ("prediction RLE of another size", GT, _pred(segmentation={"size": [3, 3], "counts": "0"}), "segm",
     "its image is"),
    ("prediction RLE of a huge size", GT, _pred(segmentation={"size": [100000, 100000], "counts": "0"}), "segm",
     "its image is"),
    ("prediction RLE without size", GT, _pred(segmentation={"counts": "PPYo1"}), "segm", "RLE size"),
    ("prediction RLE of junk", GT, _pred(segmentation={"size": [100, 100], "counts": "~~~~~~"}), "segm",
     "not a compressed COCO RLE"),
    ("prediction RLE cut short", GT, _pred(segmentation={"size": [100, 100], "counts": "0g"}), "segm",
     "not a compressed COCO RLE"),
    ("prediction polygon of 3", GT, _pred(segmentation=[[1, 2, 3]]), "segm", "has 3 coordinates"),
    ("prediction without polygon", GT, _pred(segmentation=[]), "segm", "empty polygon list"),
]


@pytest.mark.parametrize(("gt", "pred", "iou", "says"),
                         [(g, p, t, s) for _, g, p, ts, s in CASES for t in ts.split()],
                         ids=[f"{n}-{t}" for n, _, _, ts, _ in CASES for t in ts.split()])
def test_malformed_coco_is_exit_2_naming_the_problem(gt, pred, iou, says, tmp_path):
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "p.json").write_text(json.dumps(pred))
    r = invoke(["evaluate", "coco", "--gt", tmp_path / "gt.json", "--pred", tmp_path / "p.json", "--iou-type", iou])
    assert r.exit_code == 2, r.output
    assert says in r.output, r.output
    with pytest.raises(DataError, match=re.escape(says)):
        coco_evaluate(gt, pred, iou)


@pytest.mark.parametrize("iou", ["bbox", "segm"])
def test_well_formed_inputs_still_score(iou):
    from pycocotools import mask as mask_utils

    m = np.zeros((100, 100), np.uint8, order="F")
    m[10:40, 10:40] = 1
    rle = mask_utils.encode(m)
    compressed = {"size": rle["size"], "counts": rle["counts"].decode()}
    gt = _ann(segmentation=compressed)
    assert coco_evaluate(gt, _pred(segmentation=SQUARE), iou)["AP"] > 0.9
    assert coco_evaluate(GT, _pred(segmentation=compressed), iou)["AP"] > 0.9
    uncompressed = {"size": [100, 100], "counts": [1010] + [30, 70] * 29 + [30, 6060]}
    assert coco_evaluate(GT, _pred(segmentation=uncompressed), iou)["AP"] > 0.9


def test_compressed_counts_total_agrees_with_pycocotools():
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(7)
    for t in range(200):
        h, w = (int(x) for x in rng.integers(1, 200, 2))
        m = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        if t % 4 == 0:
            m[h // 3:, : w // 2] = 1 - m[h // 3:, : w // 2]
        counts = mask_utils.encode(np.asfortranarray(m))["counts"].decode()
        assert compressed_counts_total(counts) == h * w, (t, h, w)
        if len(counts) > 1:  # a cut string covers less, or is refused
            assert compressed_counts_total(counts[:-1]) != h * w or counts[-1] == "0"
