"""Shared by the SSD-MobileNetV2 reference tests: the OpenCV DNN golden file, the one-to-one matching of
detections and the comparison of the PyTorch port with OpenCV DNN (live or recorded).

Golden file: ``tests/golden/ssd_opencv_dnn_22.json`` — the detections of OpenCV DNN
(``cv2.dnn.readNetFromTensorflow``, backend ``ssd-mobilenet-v2-coco-opencv``) on the 22 coco-tiny-cc
images, written by ``python -m tests.golden.record_ssd_opencv_golden`` (its header names the OpenCV
version, the weights' md5, the thresholds and the date).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

GOLDEN_FILE = Path(__file__).parent / "ssd_opencv_dnn_22.json"
CONDITION = "coco-tiny-cc-ssd"
N_IMAGES = 22
SCORE_THRESHOLD = 0.01  # the graph's own DetectionOutput threshold: the most detections
MAX_DETECTIONS = 100
SCORE_TOL = 1e-4
BOX_TOL = 0.01  # px
BOX_DECIMALS = 6  # golden boxes rounded to 1e-6 px
SCORE_DECIMALS = 8  # golden scores rounded to 1e-8


def match(a, b) -> tuple[int, float, float]:
    """One-to-one matching of detections ``b`` (reference) to ``a`` (same class, nearest box):
    ``(unmatched, max |d score|, max |d box| px)``; a pair more than 1 px apart counts as unmatched."""
    used: set[int] = set()
    unmatched, ds, db = 0, 0.0, 0.0
    for i in range(len(b)):
        cands = [j for j in range(len(a)) if j not in used and a.labels[j] == b.labels[i]]
        if not cands:
            unmatched += 1
            continue
        j = min(cands, key=lambda j: float(np.abs(a.boxes[j] - b.boxes[i]).max()))
        d = float(np.abs(a.boxes[j] - b.boxes[i]).max())
        if d > 1.0:
            unmatched += 1
            continue
        used.add(j)
        db, ds = max(db, d), max(ds, abs(float(a.scores[j]) - float(b.scores[i])))
    return unmatched + (len(a) - len(used)), ds, db


def images(coco_tiny: Path) -> list:
    """The condition's 22 images (ImageRef), in its stable order."""
    from vcmbench.conditions import load_condition
    from vcmbench.conditions.datasets import list_images

    refs = list_images(load_condition(CONDITION), coco_tiny)
    assert len(refs) == N_IMAGES, f"{coco_tiny}: {len(refs)} images, expected {N_IMAGES}"
    return refs


def detections_record(det) -> dict[str, Any]:
    """The golden form of one image's detections (labels, scores, boxes in px; best first)."""
    return {"labels": list(det.labels),
            "scores": [round(float(s), SCORE_DECIMALS) for s in det.scores],
            "boxes": [[round(float(v), BOX_DECIMALS) for v in b] for b in det.boxes]}


def load_golden() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(header, {image_id: {"digest", "size", "detections": Detections}})``."""
    from vcmbench.tasks import Detections

    data = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))
    out = {}
    for im in data["images"]:
        det = Detections(np.asarray(im["boxes"], np.float64).reshape(-1, 4), im["scores"], im["labels"], None,
                         tuple(im["size"]))
        out[im["image_id"]] = {"digest": im["digest"], "size": tuple(im["size"]), "detections": det}
    return data["header"], out


def coco_ap(coco_tiny: Path, refs: list, dets: list) -> dict[str, float]:
    """COCO AP / AP50 of per-image detections (as the pipeline scores them: ``Detections.to_json`` rounding)."""
    from vcmbench.metrics.coco import coco_category_map, coco_evaluate
    from vcmbench.run.scoring import detections_to_coco
    from vcmbench.tasks.coco_names import COCO_NAMES

    gt = coco_tiny / "instances_val2017_cc.json"
    cat_map = coco_category_map(gt, list(COCO_NAMES))
    rows = []
    for r, d in zip(refs, dets):
        rows += detections_to_coco(d.to_json(), r.eval_id, cat_map, "bbox")
    st = coco_evaluate(gt, rows, "bbox")
    return {"AP": st["AP"], "AP50": st["AP50"]}


def compare(coco_tiny: Path, refs: list, port: list, reference: list) -> dict[str, Any]:
    """Match the port's detections to the reference's, image by image; totals, worst differences and AP of both."""
    total, unmatched, max_ds, max_db = 0, 0, 0.0, 0.0
    for a, b in zip(port, reference):
        u, ds, db = match(a, b)
        total, unmatched = total + len(b), unmatched + u
        max_ds, max_db = max(max_ds, ds), max(max_db, db)
    return {"total": total, "port_total": sum(len(a) for a in port), "unmatched": unmatched, "max_dscore": max_ds,
            "max_dbox": max_db, "port": coco_ap(coco_tiny, refs, port), "reference": coco_ap(coco_tiny, refs, reference)}


def assert_equal_to_reference(res: dict[str, Any]) -> None:
    """The bounds the port must meet against OpenCV DNN (never loosen them)."""
    assert res["total"] > 2000 and res["unmatched"] == 0, res
    assert res["max_dscore"] <= SCORE_TOL and res["max_dbox"] <= BOX_TOL, res
    for k in ("AP", "AP50"):
        assert round(res["port"][k], 4) == round(res["reference"][k], 4), (k, res)
    assert abs(res["reference"]["AP"] - 0.332) < 0.005, res  # DESIGN.md 5.6: OpenCV DNN AP .332 at score 0.01
