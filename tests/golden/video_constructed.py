"""Constructed ground truth, predictions and bit counts for three short class-D-named sequences.

Deterministic (integer arithmetic, no random generator), so that the numbers recorded in
``test_video_aggregation_golden.py`` can be re-derived by running the reference framework's own
code on exactly these inputs (see that test's docstring).  The ground truth mirrors the SFU-HW files:
image ids as floats 0.0 .. N-1, category ids from 0, annotations with ``area``, ``iscrowd`` and
``bbox``.
"""

from __future__ import annotations

# (name as the reference's SEQUENCE_TO_OFFSET spells it, frames, fps)
SEQUENCES = (("BasketballPass_416x240_50", 5, 50), ("BQSquare_416x240_60", 4, 60),
             ("BlowingBubbles_416x240_50", 3, 50))
CATEGORIES = [{"name": "Person", "id": 0}, {"name": "Bicycle", "id": 1}, {"name": "Car", "id": 2}]
QPS = (22, 27, 32)
# bits of each sequence's bitstream per QP (made up, decreasing with QP)
BITS = {"BasketballPass_416x240_50": (412_344, 201_736, 99_120),
        "BQSquare_416x240_60": (655_360, 311_904, 150_008),
        "BlowingBubbles_416x240_50": (288_800, 140_400, 70_016)}


def ground_truth(seq_index: int) -> dict:
    """A COCO ground truth of ``SEQUENCES[seq_index]``: 1-4 boxes per frame."""
    name, frames, _ = SEQUENCES[seq_index]
    images, anns = [], []
    for f in range(frames):
        images.append({"file_name": f"{name}_val_{f:03d}.png", "width": 416, "height": 240, "id": float(f)})
        for k in range(1 + (f + seq_index) % 4):
            x = 10 + 60 * k + 7 * f + 3 * seq_index
            y = 20 + 25 * ((k + f) % 5)
            w = 30 + 11 * ((k + 2 * f + seq_index) % 6)
            h = 40 + 9 * ((3 * k + f) % 5)
            anns.append({"bbox": [float(x), float(y), float(w), float(h)], "bbox_mode": 0,
                         "category_id": (k + seq_index + f // 2) % 3, "id": len(anns) + 1, "image_id": float(f),
                         "iscrowd": 0, "area": float(w * h)})
    return {"images": images, "categories": [dict(c) for c in CATEGORIES], "annotations": anns}


def predictions(seq_index: int, qp_index: int) -> list[dict]:
    """Detections for every frame: each ground-truth box found shifted (more with the QP), some missed,
    some with the wrong class, plus false positives; integer image ids as a detector writes them."""
    gt = ground_truth(seq_index)
    out = []
    for n, a in enumerate(gt["annotations"]):
        x, y, w, h = a["bbox"]
        if (n + qp_index + seq_index) % 5 == 4:  # missed
            continue
        shift = (2 + 3 * qp_index) * (1 + (n % 3))
        cat = a["category_id"] if (n + qp_index) % 7 != 3 else (a["category_id"] + 1) % 3
        score = round(0.95 - 0.013 * ((7 * n + 5 * seq_index + 3 * qp_index) % 61), 3)
        out.append({"image_id": int(a["image_id"]), "category_id": cat,
                    "bbox": [x + shift, y - shift / 2, w * (1 + 0.02 * qp_index), h], "score": score})
    frames = SEQUENCES[seq_index][1]
    for f in range(frames):  # false positives
        if (f + qp_index) % 2 == 0:
            out.append({"image_id": f, "category_id": (f + qp_index) % 3,
                        "bbox": [300.0 - 10 * f, 150.0, 40.0 + qp_index, 30.0],
                        "score": round(0.41 + 0.017 * ((f * 3 + qp_index + seq_index) % 13), 3)})
    return out


def predictions_from_gt(gt: dict, qp_index: int) -> list[dict]:
    """Detections made from a real ground truth (the SFU-HW files): every 6th box missed, the others
    shifted and widened with the QP, every 11th with the next category id, one false positive per
    third frame; scores from the box's position in the file."""
    cat_ids = sorted(int(c["id"]) for c in gt["categories"])
    out = []
    for n, a in enumerate(gt["annotations"]):
        if (n + qp_index) % 6 == 5:
            continue
        x, y, w, h = (float(v) for v in a["bbox"])
        shift = (1 + 2 * qp_index) * (1 + n % 4)
        cat = int(a["category_id"])
        if (n + qp_index) % 11 == 7:
            cat = cat_ids[(cat_ids.index(cat) + 1) % len(cat_ids)]
        out.append({"image_id": int(a["image_id"]), "category_id": cat,
                    "bbox": [x + shift, y + shift / 3, w * (1 + 0.03 * qp_index), h * (1 - 0.02 * qp_index)],
                    "score": round(0.99 - 0.007 * ((13 * n + qp_index) % 137), 3)})
    for im in gt["images"]:
        f = int(im["id"])
        if f % 3 == qp_index % 3:
            out.append({"image_id": f, "category_id": cat_ids[f % len(cat_ids)], "bbox": [5.0 + f, 5.0, 20.0, 20.0],
                        "score": round(0.3 + 0.01 * (f % 17), 3)})
    return out
