"""OpenImages challenge metric: golden values from the TF Object Detection API itself.

Source: tensorflow/models research/object_detection (2021 tree, the version with the
instance-segmentation rules: ``per_image_evaluation.py`` with ``mask_presence_indicator``,
``object_detection_evaluation.py`` ``OpenImagesChallengeEvaluator`` /
``OpenImagesInstanceSegmentationChallengeEvaluator``, ``metrics/oid_challenge_evaluation_utils.py``)
run exactly as ``metrics/oid_challenge_evaluation.py`` ``main`` runs it (CSV → groupby ImageID →
build_groundtruth_dictionary / build_predictions_dictionary → evaluate), with TensorFlow stubbed
out (the evaluation path does not use it), numpy 2.4 / pandas 3.1.  The inputs are generated
below, deterministically, and written to CSV; the reference read the same CSV files.  No tied
scores (float64 uniform draws), so the values do not depend on numpy's sort algorithm.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vcmbench.metrics.oid_io import encode_oid_mask
from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate

PRED_COLS = ["ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax"]

# TF OD API OpenImagesChallengeEvaluator (default group-of weight 1.0) mAP@0.5 on the inputs below
REF_DET_IDENTITY = 0.9990144894065078  # detection 5k, GT boxes as predictions, score 1
REF_DET_RANDOM = 0.42216022949767995  # detection 5k, _det_predictions(seed=21)
REF_SEGLIST_RANDOM = 0.43732726989285997  # segmentation 5k box list, detection metric, seed=22
REF_SEG_MASKS = 0.6213241468479387  # _seg_case(): instance segmentation, group-of weight 1.0
REF_SEG_MASKS_GOW0 = 0.6205321894786734  # same, OpenImagesInstanceSegmentationChallengeEvaluator (weight 0)


def _det_predictions(boxes: pd.DataFrame, classes: list[str], seed: int) -> pd.DataFrame:
    """Jittered copies of 70 % of the GT boxes plus 3 random boxes per image (random classes)."""
    rng = np.random.default_rng(seed)
    keep = boxes[rng.random(len(boxes)) < 0.7]
    j = rng.normal(0, 0.04, (len(keep), 4))
    near = pd.DataFrame({"ImageID": keep.ImageID.values, "LabelName": keep.LabelName.values,
                         "Score": rng.random(len(keep)),
                         "XMin": keep.XMin.values + j[:, 0], "XMax": keep.XMax.values + j[:, 1],
                         "YMin": keep.YMin.values + j[:, 2], "YMax": keep.YMax.values + j[:, 3]})
    ids = np.repeat(np.array(sorted(boxes.ImageID.unique())), 3)
    x = np.sort(rng.random((ids.size, 2)), axis=1)
    y = np.sort(rng.random((ids.size, 2)), axis=1)
    far = pd.DataFrame({"ImageID": ids, "LabelName": rng.choice(classes, ids.size), "Score": rng.random(ids.size),
                        "XMin": x[:, 0], "XMax": x[:, 1], "YMin": y[:, 0], "YMax": y[:, 1]})
    out = pd.concat([near, far], ignore_index=True)
    return out.iloc[rng.permutation(len(out))][PRED_COLS].reset_index(drop=True)


def _mask(h, w, x0, x1, y0, y1, ragged):
    m = np.zeros((h, w), np.uint8)
    a, b = int(y0 * h), max(int(y1 * h), int(y0 * h) + 1)
    c, e = int(x0 * w), max(int(x1 * w), int(x0 * w) + 1)
    m[a:b, c:e] = 1
    if ragged and b - a > 2:
        m[a:a + (b - a) // 3, c:c + (e - c) // 2] = 0
    return m


def _seg_case(boxes: pd.DataFrame, classes: list[str], n_images: int = 150, seed: int = 23):
    """First n images of the segmentation list; 80 % of GT boxes (group-of included) get a 60×80
    mask, 30 % of them ragged; 15 mask predictions per image (70 % near a GT box), scores float."""
    rng = np.random.default_rng(seed)
    h, w = 60, 80
    keep = sorted(boxes.ImageID.unique())[:n_images]
    b = boxes[boxes.ImageID.isin(keep)].reset_index(drop=True)
    masks = []
    for r in b.itertuples():
        if rng.random() < 0.8:
            masks.append({"ImageID": r.ImageID, "LabelName": r.LabelName, "XMin": r.XMin, "XMax": r.XMax,
                          "YMin": r.YMin, "YMax": r.YMax, "IsGroupOf": r.IsGroupOf, "ImageWidth": w, "ImageHeight": h,
                          "Mask": encode_oid_mask(_mask(h, w, r.XMin, r.XMax, r.YMin, r.YMax, rng.random() < .3))})
    preds = []
    for img, g in b.groupby("ImageID"):
        for _ in range(15):
            if rng.random() < .7:
                r = g.iloc[rng.integers(len(g))]
                j = rng.normal(0, .05, 4)
                lab = r.LabelName
                x0, x1 = sorted(np.clip([r.XMin + j[0], r.XMax + j[1]], 0, 1))
                y0, y1 = sorted(np.clip([r.YMin + j[2], r.YMax + j[3]], 0, 1))
            else:
                lab = str(rng.choice(classes))
                x0, x1 = sorted(rng.random(2))
                y0, y1 = sorted(rng.random(2))
            preds.append({"ImageID": img, "LabelName": lab, "Score": float(rng.random()), "XMin": x0, "XMax": x1,
                          "YMin": y0, "YMax": y1, "ImageWidth": w, "ImageHeight": h,
                          "Mask": encode_oid_mask(_mask(h, w, x0, x1, y0, y1, rng.random() < .3))})
    return b, pd.DataFrame(masks), pd.DataFrame(preds)


def _classes(oid_dir):
    return [ln.strip() for ln in (oid_dir / "selected_classes.txt").read_text().splitlines() if ln.strip()]


def _eval_csv(tmp_path, oid_dir, boxes_csv, labels_csv, preds: pd.DataFrame, **kw):
    preds.to_csv(tmp_path / "pred.csv", index=False)
    gt = load_oid_ground_truth(boxes_csv, labels_csv, oid_dir / "selected_classes.txt", masks_csv=kw.pop("masks", None))
    return oid_evaluate(gt, tmp_path / "pred.csv", **kw)


def test_detection_identity(oid_dir, tmp_path):
    b = oid_dir / "detection_validation_5k_bbox.csv"
    preds = pd.read_csv(b).assign(Score=1.0)[PRED_COLS]
    r = _eval_csv(tmp_path, oid_dir, b, oid_dir / "detection_validation_labels_5k.csv", preds)
    assert r.map == REF_DET_IDENTITY


@pytest.mark.parametrize("which,seed,ref", [("detection", 21, REF_DET_RANDOM), ("segmentation", 22, REF_SEGLIST_RANDOM)])
def test_detection_random(oid_dir, tmp_path, which, seed, ref):
    names = {"detection": ("detection_validation_5k_bbox.csv", "detection_validation_labels_5k.csv"),
             "segmentation": ("segmentation_validation_bbox_5k.csv", "segmentation_validation_labels_5k.csv")}
    b, lab = (oid_dir / n for n in names[which])
    preds = _det_predictions(pd.read_csv(b), _classes(oid_dir), seed)
    assert _eval_csv(tmp_path, oid_dir, b, lab, preds).map == ref


@pytest.mark.parametrize("weight,ref", [(None, REF_SEG_MASKS), (0.0, REF_SEG_MASKS_GOW0)])
def test_instance_segmentation(oid_dir, tmp_path, weight, ref):
    boxes, masks, preds = _seg_case(pd.read_csv(oid_dir / "segmentation_validation_bbox_5k.csv"), _classes(oid_dir))
    boxes.to_csv(tmp_path / "boxes.csv", index=False)
    masks.to_csv(tmp_path / "masks.csv", index=False)
    r = _eval_csv(tmp_path, oid_dir, tmp_path / "boxes.csv", oid_dir / "segmentation_validation_labels_5k.csv",
                  preds, masks=tmp_path / "masks.csv", segmentation=True, group_of_weight=weight)
    assert r.map == ref
