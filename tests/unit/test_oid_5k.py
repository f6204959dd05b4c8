"""The OpenImages evaluator on the real VCM 5k ground truth (../shared/data/openimages-vcm/).

Predictions are synthetic: the GT boxes themselves (score 1) and seeded random boxes.  The loop
implementation of the rules in test_oid_crosscheck.py is the independent check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.test_oid_crosscheck import _loop_reference
from vcmbench.metrics.oid_io import encode_oid_mask
from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate

SETS = {"detection": ("detection_validation_5k_bbox.csv", "detection_validation_labels_5k.csv"),
        "segmentation": ("segmentation_validation_bbox_5k.csv", "segmentation_validation_labels_5k.csv")}
PRED_COLS = ["ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax"]


def _load(oid_dir, which):
    b, l_ = SETS[which]
    classes = oid_dir / "selected_classes.txt"
    gt = load_oid_ground_truth(oid_dir / b, oid_dir / l_, classes)
    return gt, pd.read_csv(oid_dir / b), pd.read_csv(oid_dir / l_)


@pytest.mark.parametrize("which", list(SETS))
def test_real_ground_truth_loads(oid_dir, which):
    gt, boxes, labels = _load(oid_dir, which)
    assert len(gt.classes) == 47 and len(gt.image_ids) == 5000
    assert gt.boxes.shape == (len(boxes), 4) and gt.dropped == {"box_rows_unlisted_class": 0,
                                                                 "label_rows_unlisted_class": 0}


@pytest.mark.parametrize("which", list(SETS))
def test_perfect_prediction_gives_map_1(oid_dir, which):
    gt, boxes, _ = _load(oid_dir, which)
    plain = boxes[boxes.IsGroupOf == 0].assign(Score=1.0)[PRED_COLS]
    # every non-group-of GT box predicted with score 1; group-of boxes weighted 0 (not counted,
    # detections inside them ignored): every class with GT reaches recall 1 at precision 1.
    r = oid_evaluate(gt, plain, group_of_weight=0.0)
    assert r.map == pytest.approx(1.0, abs=1e-12)
    assert all(v == pytest.approx(1.0, abs=1e-12) for v in r.per_class.values())
    assert r.counts["evaluated"] == len(plain)


@pytest.mark.parametrize("which", list(SETS))
def test_identity_prediction_with_group_of_boxes(oid_dir, which):
    """All GT boxes, group-of ones included, score 1, detection weights (group-of weight 1).

    Not 1.0: a group-of box lying inside an earlier group-of box of its class has IoA 1 with
    both, the reference's argmax picks the earlier one, and the inner box never gets its true
    positive (e.g. image 2310a9d90806ca38, book).  The loop implementation agrees exactly."""
    gt, boxes, labels = _load(oid_dir, which)
    preds = boxes.assign(Score=1.0)[PRED_COLS]
    r = oid_evaluate(gt, preds)
    classes = gt.classes
    expected = _loop_reference(boxes.to_dict("records"), labels.to_dict("records"),
                               preds.to_dict("records"), classes, 1.0, False)
    assert r.map == np.nanmean(expected)
    assert 0.998 < r.map < 1.0


@pytest.mark.parametrize("which", list(SETS))
def test_random_predictions_equal_loop_reference(oid_dir, which):
    gt, boxes, labels = _load(oid_dir, which)
    rng = np.random.default_rng(5)
    n_img = len(gt.image_ids)
    per = 20
    img = np.repeat(np.array(gt.image_ids), per)
    jitter_src = boxes.sample(n=n_img * per // 2, replace=True, random_state=1)
    j = rng.normal(0, 0.03, (len(jitter_src), 4))
    near = pd.DataFrame({"ImageID": jitter_src.ImageID.values, "LabelName": jitter_src.LabelName.values,
                         "XMin": jitter_src.XMin.values + j[:, 0], "XMax": jitter_src.XMax.values + j[:, 1],
                         "YMin": jitter_src.YMin.values + j[:, 2], "YMax": jitter_src.YMax.values + j[:, 3]})
    x = np.sort(rng.random((n_img * per // 2, 2)), axis=1)
    y = np.sort(rng.random((n_img * per // 2, 2)), axis=1)
    far = pd.DataFrame({"ImageID": img[: n_img * per // 2], "LabelName": rng.choice(gt.classes, n_img * per // 2),
                        "XMin": x[:, 0], "XMax": x[:, 1], "YMin": y[:, 0], "YMax": y[:, 1]})
    preds = pd.concat([near, far], ignore_index=True)
    preds["Score"] = np.round(rng.random(len(preds)), 3)  # 3 decimals: ties across images
    preds = preds.sample(frac=1.0, random_state=2).reset_index(drop=True)[PRED_COLS]
    r = oid_evaluate(gt, preds)
    expected = _loop_reference(boxes.to_dict("records"), labels.to_dict("records"),
                               preds.to_dict("records"), gt.classes, 1.0, False)
    got = np.array([r.per_class.get(c, np.nan) for c in gt.classes])
    np.testing.assert_array_equal(got, expected)
    assert 0.05 < r.map < 0.95


def test_segmentation_on_real_boxes_with_synthetic_masks(oid_dir, tmp_path):
    """Masks rasterised from the real segmentation GT boxes (64×96 pictures) for the first 500
    images; every second non-group-of instance gets a mask, the rest stay box-only; group-of boxes
    get masks and weight 0.  Predicting exactly the masked non-group-of instances gives 1.0; the
    box-only and group-of instances neither count nor penalise."""
    b, l_ = SETS["segmentation"]
    boxes = pd.read_csv(oid_dir / b)
    keep = sorted(boxes.ImageID.unique())[:500]
    boxes = boxes[boxes.ImageID.isin(keep)].reset_index(drop=True)
    h, w = 64, 96
    rows, preds = [], []
    for k, r in boxes.iterrows():
        m = np.zeros((h, w), np.uint8)
        x0, x1 = int(np.floor(r.XMin * w)), int(np.ceil(r.XMax * w))
        y0, y1 = int(np.floor(r.YMin * h)), int(np.ceil(r.YMax * h))
        m[y0:y1, x0:x1] = 1
        m[y0, x0] = k % 2  # tiny per-instance difference: no two masks are identical
        if r.IsGroupOf or k % 2:
            cell = encode_oid_mask(m)
            rows.append({**r.to_dict(), "ImageWidth": w, "ImageHeight": h, "Mask": cell})
            if not r.IsGroupOf:
                preds.append({"ImageID": r.ImageID, "LabelName": r.LabelName, "Score": 1.0, "XMin": 0, "XMax": 1,
                              "YMin": 0, "YMax": 1, "ImageWidth": w, "ImageHeight": h, "Mask": cell})
    pd.DataFrame(rows).to_csv(tmp_path / "masks.csv", index=False)
    boxes.to_csv(tmp_path / "boxes.csv", index=False)
    gt = load_oid_ground_truth(tmp_path / "boxes.csv", oid_dir / l_, oid_dir / "selected_classes.txt",
                               masks_csv=tmp_path / "masks.csv")
    r = oid_evaluate(gt, pd.DataFrame(preds), segmentation=True, group_of_weight=0.0)
    assert r.map == pytest.approx(1.0, abs=1e-12)
    assert sum(r.num_gt.values()) == len(preds)
