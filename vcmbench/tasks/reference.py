"""Reference-output pseudo ground truth, for data without labels.

The ground truth of an image is the task network's own detections on the **original,
uncompressed** image (the file as loaded, not passed through the YUV conversion), keeping those
with score >= the condition's ``ground_truth.score_threshold``.  Accuracy against it says how much
coding changes the network's answer, not how right the network is; results carry the signature
part ``gt:reference-output`` and a note saying so.
"""

from __future__ import annotations

from typing import Any, Sequence

NOTE = ("ground truth: reference-output — the task network's own detections on the uncompressed images "
        "with score >= {thr:g} (pseudo ground truth; measures agreement with the uncoded result, not correctness)")


def reference_ground_truth(refs: Sequence[Any], dets: dict[str, dict[str, Any]], threshold: float) -> dict[str, Any]:
    """COCO instances dict whose objects are the network's own detections with score >= ``threshold``."""
    from .coco_names import COCO_NAME_TO_ID, coco_categories_json

    images, anns = [], []
    for ref in refs:
        images.append({"id": ref.eval_id, "width": ref.width, "height": ref.height, "file_name": ref.image_id})
        d = dets[ref.image_id]
        for b, s, lab in zip(d["boxes"], d["scores"], d["labels"]):
            if s < threshold or lab not in COCO_NAME_TO_ID:
                continue
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append({"id": len(anns) + 1, "image_id": ref.eval_id, "category_id": COCO_NAME_TO_ID[lab],
                         "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": 0})
    return {"info": {"description": f"reference-output pseudo ground truth (score >= {threshold})"},
            "images": images, "annotations": anns, "categories": coco_categories_json()}
