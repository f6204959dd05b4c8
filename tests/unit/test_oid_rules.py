"""OpenImages challenge metric: hand-made cases, one per rule, each with its AP worked out.

The rules are those of the TF Object Detection API ``OpenImagesChallengeEvaluator``
(object_detection_evaluation.py, per_image_evaluation.py ``_compute_tp_fp_for_single_class``,
metrics.py ``compute_precision_recall`` / ``compute_average_precision``), as DESIGN.md §5.1 states
them.  VOC AP = Σ over recall steps of Δrecall × (precision made non-increasing from the right).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from vcmbench.core.errors import DataError, EvaluationError
from vcmbench.metrics.oid_io import encode_oid_mask
from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate, voc_average_precision


def _b(x0, y0, x1, y1):
    """A box on a 100×100 grid, as normalised OID columns."""
    return {"XMin": x0 / 100, "XMax": x1 / 100, "YMin": y0 / 100, "YMax": y1 / 100}


def _write(path, cols, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def _gt(tmp_path, boxes, labels, classes=("A", "B", "C", "D")):
    """boxes: (image, class, box-dict, is_group_of); labels: (image, class, confidence)."""
    b = _write(tmp_path / "boxes.csv", ["ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax", "IsGroupOf"],
               [{"ImageID": i, "LabelName": c, **bx, "IsGroupOf": int(g)} for i, c, bx, g in boxes])
    l_ = _write(tmp_path / "labels.csv", ["ImageID", "LabelName", "Confidence"],
                [{"ImageID": i, "LabelName": c, "Confidence": v} for i, c, v in labels])
    return load_oid_ground_truth(b, l_, list(classes))


def _p(image, cls, score, bx):
    return {"ImageID": image, "LabelName": cls, "Score": score, **bx}


GT1, GT2 = _b(0, 0, 40, 40), _b(60, 60, 100, 100)
FAR = _b(45, 0, 55, 10)  # overlaps nothing above


def test_voc_ap_envelope_and_steps():
    # precision 1, .5, 2/3 at recall .5, .5, 1 -> envelope 1, 2/3, 2/3 -> AP = .5*1 + .5*(2/3)
    ap = voc_average_precision(np.array([1, .5, 2 / 3]), np.array([.5, .5, 1.0]))
    assert ap == pytest.approx(0.5 + 0.5 * 2 / 3, abs=1e-15)
    assert voc_average_precision(np.array([]), np.array([])) == 0.0


def test_basic_tp_fp(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", GT1, 0), ("i1", "A", GT2, 0)], [("i1", "A", 1)])
    r = oid_evaluate(gt, [_p("i1", "A", .9, GT1), _p("i1", "A", .8, FAR), _p("i1", "A", .7, GT2)])
    # TP, FP, TP: precision 1, 1/2, 2/3; recall 1/2, 1/2, 1 -> AP = 1/2*1 + 1/2*2/3 = 0.8333
    assert r.per_class == {"A": pytest.approx(5 / 6, abs=1e-12)}
    assert r.map == pytest.approx(5 / 6, abs=1e-12)
    assert r.classes_without_gt == ["B", "C", "D"]


def test_duplicate_detection_is_false_positive(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", GT1, 0), ("i1", "A", GT2, 0)], [])
    r = oid_evaluate(gt, [_p("i1", "A", .9, GT1), _p("i1", "A", .8, _b(1, 1, 40, 40)), _p("i1", "A", .7, GT2)])
    # the .8 duplicate of GT1 is FP: TP, FP, TP -> 5/6 as above
    assert r.map == pytest.approx(5 / 6, abs=1e-12)


def test_no_fallback_to_second_best_box(tmp_path):
    g1, g2 = _b(0, 0, 40, 40), _b(8, 0, 48, 40)  # IoU(g1, g2) = 32/48 = 2/3
    d2 = _b(2, 0, 42, 40)  # IoU with g1 = 38/42 = .905 (best), with g2 = 34/46 = .739
    gt = _gt(tmp_path, [("i1", "A", g1, 0), ("i1", "A", g2, 0)], [])
    r = oid_evaluate(gt, [_p("i1", "A", .9, g1), _p("i1", "A", .8, d2)])
    # d2's best box g1 is taken -> FP (no retry on g2, unlike COCO): TP, FP; recall 1/2 at precision 1 -> AP 0.5
    assert r.map == pytest.approx(0.5, abs=1e-12)


def test_negative_label_makes_detections_false_positives(tmp_path):
    gt = _gt(tmp_path, [("i2", "B", GT1, 0)], [("i1", "B", 0), ("i2", "B", 1)])
    r = oid_evaluate(gt, [_p("i1", "B", .9, GT1), _p("i2", "B", .5, GT1)])
    # i1 has B verified absent: its .9 detection is a FP ranked first: precision 0, 1/2; recall 0, 1
    # -> envelope 1/2, 1/2 -> AP = 1 * 1/2 = 0.5
    assert r.per_class["B"] == pytest.approx(0.5, abs=1e-12)
    assert r.counts["evaluated"] == 2


def test_unverified_class_detections_are_dropped(tmp_path):
    gt = _gt(tmp_path, [("i2", "B", GT1, 0), ("i1", "A", GT2, 0)], [("i1", "A", 1)])
    preds = [_p("i1", "B", .9, GT1),  # B neither labelled nor boxed on i1 -> dropped
             _p("i2", "B", .5, GT1),
             _p("i1", "Z", .99, GT2),  # class not in the class list -> dropped and counted
             _p("nope", "B", .99, GT1),  # image not in the ground truth -> dropped
             _p("i1", "A", .7, GT2)]
    r = oid_evaluate(gt, preds)
    # B: only the i2 TP remains -> AP 1; A: TP -> AP 1
    assert r.per_class == {"A": 1.0, "B": 1.0}
    assert r.counts["dropped_not_evaluable"] == 1
    assert r.counts["dropped_unlisted_class"] == 1
    assert r.counts["dropped_unknown_image"] == 1


def test_group_of_collapses_to_one_tp_with_max_score(tmp_path):
    grp = _b(50, 0, 100, 50)
    gt = _gt(tmp_path, [("i1", "A", GT1, 0), ("i1", "A", grp, 1)], [])
    preds = [_p("i1", "A", .9, _b(55, 5, 65, 15)), _p("i1", "A", .6, _b(70, 10, 80, 20)),  # inside the group
             _p("i1", "A", .85, _b(0, 60, 10, 70)),  # FP
             _p("i1", "A", .8, GT1)]
    r = oid_evaluate(gt, preds)
    # num_gt = 1 + 1 (group-of weight 1).  Entries: group TP @ .9 (max of .9/.6), FP @ .85, TP @ .8
    # precision 1, 1/2, 2/3; recall 1/2, 1/2, 1 -> AP = 1/2 + 1/2 * 2/3 = 5/6
    # (with the min score .6 the order would be FP, TP, TP -> AP 2/3: the max matters)
    assert r.map == pytest.approx(5 / 6, abs=1e-12)
    assert r.num_gt["A"] == 2.0


def test_group_of_ioa_is_over_detection_area(tmp_path):
    grp = _b(0, 0, 100, 100)
    gt = _gt(tmp_path, [("i1", "A", grp, 1)], [])
    # a small box inside a huge group box: IoU = .01 but IoA (over the detection) = 1 -> TP
    assert oid_evaluate(gt, [_p("i1", "A", .5, _b(0, 0, 10, 10))]).map == 1.0
    # half outside the group box: IoA = 0.5 exactly -> still matched (>=)
    g2 = _gt(tmp_path, [("i1", "A", _b(0, 0, 50, 100), 1)], [])
    assert oid_evaluate(g2, [_p("i1", "A", .5, _b(40, 0, 60, 10))]).map == 1.0
    # 60 % outside: IoA 0.4 -> FP, the group box is missed -> AP 0
    assert oid_evaluate(g2, [_p("i1", "A", .5, _b(40, 0, 65, 10))]).map == 0.0


def test_group_of_with_nonpositive_score_is_dropped(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", _b(0, 0, 100, 100), 1), ("i1", "A", GT1, 0)], [])
    r = oid_evaluate(gt, [_p("i1", "A", 0.0, _b(50, 50, 60, 60)), _p("i1", "A", .7, GT1)])
    # the group box's best score is 0 -> no entry (reference keeps scores > 0). TP @ .7 only;
    # num_gt 2 -> recall 1/2 at precision 1 -> AP 0.5
    assert r.map == pytest.approx(0.5, abs=1e-12)


def test_group_of_weight_zero_ignores_group_detections(tmp_path):
    grp = _b(50, 0, 100, 50)
    gt = _gt(tmp_path, [("i1", "A", GT1, 0), ("i1", "A", grp, 1)], [])
    preds = [_p("i1", "A", .9, _b(55, 5, 65, 15)), _p("i1", "A", .8, GT1)]
    r = oid_evaluate(gt, preds, group_of_weight=0.0)
    # weight 0: the group box does not count (num_gt 1) and the .9 detection inside it is ignored -> AP 1
    assert r.map == 1.0 and r.num_gt["A"] == 1.0
    # weight 1 (detection default): num_gt 2, group TP @ .9, TP @ .8 -> AP 1 as well; with no
    # detection in the group box recall stops at 1/2 -> AP 0.5
    assert oid_evaluate(gt, preds[1:]).map == pytest.approx(0.5, abs=1e-12)


def test_classes_without_ground_truth_are_excluded(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", GT1, 0)], [("i1", "D", 0)])
    r = oid_evaluate(gt, [_p("i1", "A", .9, GT1), _p("i1", "D", .95, GT2)])
    # D's detection is evaluated (negative label) but D has no GT -> not averaged; mAP = AP(A) = 1
    assert r.map == 1.0 and "D" in r.classes_without_gt and "D" not in r.per_class


def test_score_ties_follow_numpy_argsort_reversed_twice(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", GT1, 0)], [])
    # The reference orders by np.argsort(scores)[::-1], per image and again over the pooled entries.
    # numpy keeps two equal values in input order, so the per-image sort puts the later row first
    # and the pooled sort reverses that again: the earlier row is ranked first.
    assert list(np.argsort(np.array([.5, .5]))) == [0, 1]
    # TP row first -> precision 1, 1/2 at recall 1, 1 -> AP 1
    assert oid_evaluate(gt, [_p("i1", "A", .5, GT1), _p("i1", "A", .5, FAR)]).map == 1.0
    # FP row first -> precision 0, 1/2 at recall 0, 1 -> AP 0.5
    assert oid_evaluate(gt, [_p("i1", "A", .5, FAR), _p("i1", "A", .5, GT1)]).map == pytest.approx(0.5, abs=1e-12)
    # across images (pooled order i1, i2) the later image comes first: FP on i2 before TP on i1
    gt2 = _gt(tmp_path, [("i1", "A", GT1, 0), ("i2", "A", GT2, 0)], [])
    r = oid_evaluate(gt2, [_p("i1", "A", .5, GT1), _p("i2", "A", .5, FAR)])
    # entries: i2 FP first, then i1 TP; num_gt 2 -> precision 0, 1/2; recall 0, 1/2 -> AP = 1/2 * 1/2
    assert r.map == pytest.approx(0.25, abs=1e-12)


def test_score_below_minus_10_is_dropped_like_the_reference_nms(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", GT1, 0)], [])
    r = oid_evaluate(gt, [_p("i1", "A", -11.0, FAR), _p("i1", "A", -5.0, GT1)])
    assert r.map == 1.0 and r.counts["dropped_invalid_box"] == 1


def test_invalid_boxes_are_dropped(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", GT1, 0)], [])
    r = oid_evaluate(gt, [_p("i1", "A", .9, _b(10, 10, 10, 20)), _p("i1", "A", .5, GT1)])
    assert r.map == 1.0 and r.counts["dropped_invalid_box"] == 1


def test_no_class_with_ground_truth_is_an_error(tmp_path):
    gt = _gt(tmp_path, [], [("i1", "A", 0)])
    with pytest.raises(EvaluationError, match="no ground-truth|No class"):
        oid_evaluate(gt, [_p("i1", "A", .9, GT1)])


def test_bad_inputs_name_the_problem(tmp_path):
    gt = _gt(tmp_path, [("i1", "A", GT1, 0)], [])
    with pytest.raises(DataError, match="lack column"):
        oid_evaluate(gt, [{"ImageID": "i1", "LabelName": "A", "Score": .5}])
    with pytest.raises(DataError, match="Score"):
        oid_evaluate(gt, [_p("i1", "A", "high", GT1)])
    with pytest.raises(DataError, match="more than once"):
        _gt(tmp_path, [], [], classes=("A", "A"))


# ----------------------------------------------------------------------------- segmentation
def _mask(h, w, x0, y0, x1, y1):
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def _seg_gt(tmp_path, rows, labels=()):
    """rows: (image, class, (x0,y0,x1,y1) pixel box on 20x40, is_group_of, has_mask)."""
    h, w = 20, 40
    recs = []
    for img, cls, (x0, y0, x1, y1), grp, has in rows:
        recs.append({"ImageID": img, "LabelName": cls, "XMin": x0 / w, "XMax": x1 / w, "YMin": y0 / h, "YMax": y1 / h,
                     "IsGroupOf": int(grp), "ImageWidth": w, "ImageHeight": h,
                     "Mask": encode_oid_mask(_mask(h, w, x0, y0, x1, y1)) if has else ""})
    cols = ["ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax", "IsGroupOf"]
    b = _write(tmp_path / "sboxes.csv", cols, [{k: r[k] for k in cols} for r in recs])
    m = _write(tmp_path / "smasks.csv", cols + ["ImageWidth", "ImageHeight", "Mask"], [r for r in recs if r["Mask"]])
    lab = _write(tmp_path / "slabels.csv", ["ImageID", "LabelName", "Confidence"],
                 [{"ImageID": i, "LabelName": c, "Confidence": v} for i, c, v in labels])
    return load_oid_ground_truth(b, lab, ["A", "B"], masks_csv=m)


def _sp(image, cls, score, box, h=20, w=40):
    x0, y0, x1, y1 = box
    # the CSV box columns are deliberately wrong: segmentation uses the mask's own box
    return {"ImageID": image, "LabelName": cls, "Score": score, "XMin": 0, "XMax": 0, "YMin": 0, "YMax": 0,
            "ImageWidth": w, "ImageHeight": h, "Mask": encode_oid_mask(_mask(h, w, x0, y0, x1, y1))}


def test_segmentation_rules(tmp_path):
    gt = _seg_gt(tmp_path, [
        ("i1", "A", (0, 0, 10, 10), False, True),    # instance with a mask
        ("i1", "A", (20, 0, 30, 10), False, False),  # box-only instance: ignored, not counted
        ("i1", "A", (0, 10, 40, 20), True, True),    # group-of with mask
        ("i1", "A", (30, 10, 40, 20), True, False),  # group-of without mask: ignored
    ])
    preds = [_sp("i1", "A", .9, (0, 0, 10, 10)),     # TP on the mask
             _sp("i1", "A", .95, (20, 0, 30, 10)),   # matches the box-only instance -> ignored
             _sp("i1", "A", .97, (5, 12, 15, 18)),   # inside the group-of mask
             _sp("i1", "A", .8, (0, 0, 10, 10))]     # duplicate of the TP -> FP
    # group-of weight 0 (TF OD API OpenImagesInstanceSegmentationChallengeEvaluator): num_gt = 1 (box-only
    # and group-of do not count), the .97 detection is ignored.  Entries: TP @ .9, FP @ .8 ->
    # precision 1, 1/2 at recall 1, 1 -> AP 1
    r = oid_evaluate(gt, preds, segmentation=True, group_of_weight=0.0)
    assert r.num_gt == {"A": 1.0} and r.map == 1.0
    assert "group-of weight 0" in r.metric_name and r.signature_part == "oid-challenge-segm-gow0"
    # a .99 miss ranked first -> precision 0, 1/2 at recall 0, 1 -> AP 0.5
    r2 = oid_evaluate(gt, [*preds, _sp("i1", "A", .99, (32, 0, 40, 8))], segmentation=True, group_of_weight=0.0)
    assert r2.map == pytest.approx(0.5, abs=1e-12)
    # default weight 1 (what oid_challenge_evaluation.py runs): the group-of box WITH a mask counts
    # (num_gt 2) and yields one TP @ .97; the one without a mask is still ignored.
    # Entries .97 TP, .9 TP, .8 FP -> precision 1, 1, 2/3 at recall 1/2, 1, 1 -> AP 1
    r3 = oid_evaluate(gt, preds, segmentation=True)
    assert r3.num_gt == {"A": 2.0} and r3.map == 1.0 and r3.group_of_weight == 1.0
    assert r3.signature_part == "oid-challenge-segm" and "segmentation" in r3.metric_name
    # without the detection inside the group-of mask: recall stops at 1/2 -> AP 0.5
    r4 = oid_evaluate(gt, [p for p in preds if p["Score"] != .97], segmentation=True)
    assert r4.map == pytest.approx(0.5, abs=1e-12)


def test_segmentation_mask_iou_not_box_iou(tmp_path):
    gt = _seg_gt(tmp_path, [("i1", "A", (0, 0, 10, 10), False, True)])
    m = _mask(20, 40, 0, 0, 10, 10)
    m[1:9, 1:9] = 0  # a hollow square: same bounding box, mask IoU 36/100 < .5
    pred = {"ImageID": "i1", "LabelName": "A", "Score": .9, "XMin": 0, "XMax": .25, "YMin": 0, "YMax": .5,
            "ImageWidth": 40, "ImageHeight": 20, "Mask": encode_oid_mask(m)}
    assert oid_evaluate(gt, [pred], segmentation=True).map == 0.0


def test_segmentation_mask_size_mismatch_is_an_error(tmp_path):
    gt = _seg_gt(tmp_path, [("i1", "A", (0, 0, 10, 10), False, True)])
    with pytest.raises(DataError, match="original image size"):
        oid_evaluate(gt, [_sp("i1", "A", .9, (0, 0, 10, 10), h=10, w=20)], segmentation=True)
