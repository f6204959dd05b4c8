"""Cityscapes instance AP: vcmbench's numbers equal cityscapesscripts' own evaluation.

Golden source: tests/golden/cityscapes_instance_ap.json, written by
tests/golden/record_cityscapes_golden.py with cityscapesscripts 2.3.0 (PyPI) run unmodified through its
main path (``python -m cityscapesscripts.evaluation.evalInstanceLevelSemanticLabeling``, ground truth
and predictions found through ``CITYSCAPES_DATASET`` / ``CITYSCAPES_RESULTS``) under numpy 1.26.4, the
numpy it was written for, in a scratch environment outside the repository: the published evaluator with
no patch, whereas vcmbench runs it under numpy 2.4 with its ``np.in1d`` shim (metrics.cityscapes).
Inputs: the synthetic gtFine layout of tests/cityscapes_fixture.py (3 images, rasterised by
cityscapesscripts' own json2instanceImg) and constructed predictions (exact, shifted, eroded, dilated,
duplicate, wrong-class, missed, background, void, group, empty, non-evaluated-class and
under-100-pixel cases), rebuilt here and checked byte for byte (md5) against the recorded ones.
Compared exactly: the same algorithm on the same inputs must give the same floats.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.golden.record_cityscapes_golden import GOLDEN_FILE, SUBSET, build_inputs, input_md5s

pytest.importorskip("cityscapesscripts")


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, golden):
    data, results, ids = build_inputs(tmp_path_factory.mktemp("cs-golden"))
    assert ids == golden["images"]
    assert input_md5s(data, results) == golden["inputs_md5"], \
        "the constructed inputs differ from the recorded ones: re-record with record_cityscapes_golden.py"
    return data, results, ids


def _expect(averages: dict) -> tuple[float, float, dict, list]:
    per_class = {n: {"ap": c["ap"], "ap50": c["ap50%"]} for n, c in averages["classes"].items() if not math.isnan(c["ap"])}
    without = [n for n, c in averages["classes"].items() if math.isnan(c["ap"])]
    return averages["allAp"], averages["allAp50%"], per_class, without


def _check(res: dict, averages: dict) -> None:
    ap, ap50, per_class, without = _expect(averages)
    assert (res["AP"], res["AP50"]) == (ap, ap50)
    assert res["per_class"] == per_class and sorted(res["classes_without_gt"]) == sorted(without)


def test_wrapper_equals_cityscapesscripts_main_path(inputs, golden):
    from vcmbench.metrics.cityscapes import cityscapes_instance_ap

    data, results, ids = inputs
    full = cityscapes_instance_ap(data / "gtFine" / "val", results)
    _check(full, golden["full"])
    assert 0.2 < full["AP"] < full["AP50"] < 0.6  # a non-trivial case: neither all hits nor all misses
    # the GT of the first 2 images only (a --limit 2 run) = the evaluator on a layout holding just those
    first = cityscapes_instance_ap(data / "gtFine" / "val", results, image_ids=ids[:SUBSET])
    _check(first, golden["first_2"])
    assert first["images"] == SUBSET and first["AP"] != full["AP"]


def _as_detections(results: Path, image_id: str) -> dict:
    """The constructed prediction list of one image as the task network's stored Detections JSON."""
    from cityscapesscripts.helpers.labels import id2label
    from PIL import Image

    from vcmbench.tasks.base import Detections

    masks, scores, labels, boxes = [], [], [], []
    for line in (results / f"{image_id}_pred.txt").read_text().splitlines():
        name, lab, score = line.split(" ")
        with Image.open(results / name) as im:
            m = np.asarray(im) != 0
        ys, xs = np.nonzero(m)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] if len(xs) else [0, 0, 0, 0])
        masks.append(m)
        scores.append(float(score))
        labels.append(id2label[int(lab)].name)
    h, w = masks[0].shape
    d = Detections(np.asarray(boxes, float), np.asarray(scores), labels, np.stack(masks), (w, h))
    return d.to_json()


def test_pipeline_scoring_equals_cityscapesscripts(inputs, golden, tmp_path):
    """A run's stored predictions written in the result layout by the pipeline and scored per point: QP 37
    (all 3 images) gives the full-set numbers; QP 47, whose third bitstream failed verification, is scored
    on the first 2 images' ground truth and gives the subset numbers."""
    from tests.cityscapes_fixture import handmade_run
    from vcmbench.run.resultset import build_result_set

    data, results, ids = inputs
    dets = {i: _as_detections(results, i) for i in ids}
    assert {s for d in dets.values() for s in d["scores"]} == \
        {float(ln.split()[2]) for i in ids for ln in (results / f"{i}_pred.txt").read_text().splitlines()}
    run = handmade_run(tmp_path / "run", data, {37: dict(dets), 47: {**dets, ids[2]: None}}, reference=dets)
    rs = build_result_set(run)
    pts = {p.qp: p for p in rs.points}
    for qp, key in ((37, "full"), (47, "first_2")):
        ap, ap50, per_class, without = _expect(golden[key])
        assert pts[qp].accuracy["AP"] == ap and pts[qp].accuracy["AP50"] == ap50
        assert pts[qp].extra["per_class"] == per_class and sorted(pts[qp].extra["classes_without_gt"]) == sorted(without)
        assert pts[qp].extra["labels_left_out"] == {"caravan": len(ids) if qp == 37 else SUBSET}
    assert pts[47].images == SUBSET and pts[47].failed == 1
    assert rs.provenance["uncompressed_accuracy"] == {"AP": golden["full"]["allAp"], "AP50": golden["full"]["allAp50%"]}
    assert rs.metric == "Cityscapes instance AP@[.5:.95] (cityscapesscripts)" and "map:cityscapes-ap-segm" in rs.signature
