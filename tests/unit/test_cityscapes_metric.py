"""Cityscapes instance AP through the official cityscapesscripts evaluator, on a synthetic
ground truth (two 64×128 instanceIds PNGs: two cars and one person each)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from vcmbench.core.errors import DataError
from vcmbench.metrics.cityscapes import cityscapes_instance_ap

CAR, PERSON, ROAD = 26, 24, 7
NAMES = ["aachen_000000_000019", "aachen_000001_000019"]


def _make(tmp_path, miss_person=False, shift_car=False):
    gt = tmp_path / "gt" / "val" / "aachen"
    gt.mkdir(parents=True)
    pred = tmp_path / "pred"
    (pred / "masks").mkdir(parents=True)
    for k, name in enumerate(NAMES):
        a = np.full((64, 128), ROAD, np.uint16)
        a[5:25, 5:35] = CAR * 1000
        a[30:60, 40:70] = CAR * 1000 + 1
        a[10:50, 90:110] = PERSON * 1000 + k
        Image.fromarray(a).save(gt / f"{name}_gtFine_instanceIds.png")
        lines = []
        for j, v in enumerate([CAR * 1000, CAR * 1000 + 1, PERSON * 1000 + k]):
            if miss_person and v // 1000 == PERSON:
                continue
            m = (a == v).astype(np.uint8) * 255
            if shift_car and j == 0:
                m = np.roll(m, 12, axis=1)  # IoU 18/42 = 0.43: below every threshold
            Image.fromarray(m).save(pred / "masks" / f"{name}_{j}.png")
            lines.append(f"masks/{name}_{j}.png {v // 1000} 0.9\n")
        (pred / f"{name}_pred.txt").write_text("".join(lines))
    return tmp_path / "gt", pred


def test_perfect_prediction_is_1(tmp_path):
    cwd = os.getcwd()
    r = cityscapes_instance_ap(*_make(tmp_path))
    assert r["AP"] == 1.0 and r["AP50"] == 1.0
    assert set(r["per_class"]) == {"car", "person"} and "truck" in r["classes_without_gt"]
    assert os.getcwd() == cwd and not (tmp_path / "matches.json").exists()


def test_missed_and_shifted_instances(tmp_path):
    r = cityscapes_instance_ap(*_make(tmp_path, miss_person=True, shift_car=True))
    # person: nothing predicted -> AP 0.  car: 4 GT, 2 of 4 predictions are misses at score .9 (all
    # tied): cityscapesscripts ranks ties by its own rule; AP must lie strictly between 0 and 1.
    assert r["per_class"]["person"]["ap"] == 0.0
    assert 0.0 < r["per_class"]["car"]["ap"] < 1.0
    assert r["AP"] == pytest.approx((r["per_class"]["person"]["ap"] + r["per_class"]["car"]["ap"]) / 2)


def test_missing_prediction_file_is_a_clear_error(tmp_path):
    gt, pred = _make(tmp_path)
    (pred / f"{NAMES[1]}_pred.txt").unlink()
    with pytest.raises(DataError, match="no prediction file"):
        cityscapes_instance_ap(gt, pred)
