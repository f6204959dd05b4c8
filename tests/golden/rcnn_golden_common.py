"""Shared by the native R-CNN golden tests: run the native backend on the golden inputs and compare.

The golden files (tests/golden/rcnn/*.npz + .json) were written by detectron2 itself
(benchmarks/rcnn_reference.py, detectron2 main 02b5c4e2 on torch 2.14.1 / torchvision 0.29.1, CPU)
on the seeded weights vcmbench.tasks.rcnn.seeded generates (seed 0); see that script's docstring.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).parent / "rcnn"
IMAGES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "coco-tiny-cc" / "images"

FEATURE_TOL = 1e-4
BOX_TOL = 0.01
SCORE_TOL = 1e-5
MASK_IOU = 0.99


def sample_positions(shape, n: int = 512, seed: int = 7) -> np.ndarray:
    """As benchmarks/rcnn_reference.py."""
    return np.random.RandomState(seed).randint(0, int(np.prod(shape)), size=n)


def load_golden(stem: str) -> tuple[dict, dict]:
    meta = json.loads((GOLDEN / f"{stem}.json").read_text())
    arrays = dict(np.load(GOLDEN / f"{stem}.npz"))
    return meta, arrays


def load_image(info: dict) -> np.ndarray:
    from PIL import Image

    img = Image.open(IMAGES / info["file"]).convert("RGB")
    if info.get("crop"):
        img = img.crop(tuple(info["crop"]))
    return np.asarray(img)


def match(boxes_a, scores_a, cls_a, boxes_b, scores_b, cls_b) -> list[tuple[int, int]]:
    """One-to-one matching: same class, nearest box (greedy in b's order)."""
    used: set[int] = set()
    pairs = []
    for j in range(len(boxes_b)):
        cand = [i for i in range(len(boxes_a)) if i not in used and cls_a[i] == cls_b[j]]
        if not cand:
            continue
        d = [float(np.abs(boxes_a[i] - boxes_b[j]).max()) + abs(float(scores_a[i] - scores_b[j])) for i in cand]
        i = cand[int(np.argmin(d))]
        used.add(i)
        pairs.append((i, j))
    return pairs


def compare(net, meta: dict, arrays: dict) -> list[dict]:
    """Per image: the measured differences (features, proposals, logits, detections, masks)."""
    from pycocotools import mask as mask_util

    report = []
    for k, info in enumerate(meta["images"]):
        p = f"i{k}_"
        rgb = load_image(info)
        out = net.run_raw(rgb)
        r = {"file": info["file"], "resized_hw": list(out.image_hw), "ref_resized_hw": info["resized_hw"]}
        fd = 0.0
        for lvl, f in out.features.items():
            f = f[0].cpu().numpy()
            ref = info["features"][lvl]
            assert list(f.shape) == ref["shape"], (lvl, f.shape, ref["shape"])
            fd = max(fd, float(np.abs(f.reshape(-1)[sample_positions(f.shape)] - arrays[p + "feat_" + lvl]).max()),
                     abs(float(f.mean(dtype=np.float64)) - ref["mean"]), abs(float(f.std(dtype=np.float64)) - ref["std"]))
        r["feature_maxdiff"] = fd
        props, obj = out.proposals.cpu().numpy(), out.objectness.cpu().numpy()
        rprops, robj = arrays[p + "proposals"], arrays[p + "objectness"]
        r["proposals"] = (len(props), len(rprops))
        # as sets: every reference proposal has a native one within the box tolerance (order may differ
        # among equal logits)
        d = np.abs(props[:, None, :] - rprops[None, :, :]).max(-1) if len(props) and len(rprops) else np.zeros((0, 0))
        nearest = d.argmin(0) if d.size else np.zeros(0, dtype=int)
        r["proposal_maxdiff"] = float(d.min(0).max()) if d.size else 0.0
        r["objectness_maxdiff"] = float(np.abs(obj[nearest] - robj).max()) if d.size else 0.0
        lg = out.class_logits.cpu().numpy()[:100]
        r["logit_maxdiff"] = float(np.abs(lg - arrays[p + "class_logits"][: len(lg)]).max()) if len(lg) else 0.0
        b, s, c = out.boxes.cpu().numpy(), out.scores.cpu().numpy(), out.classes.cpu().numpy()
        rb, rs, rc = arrays[p + "boxes"], arrays[p + "scores"], arrays[p + "classes"]
        pairs = match(b, s, c, rb, rs, rc)
        r["detections"] = (len(b), len(rb), len(pairs))
        r["box_maxdiff"] = max([float(np.abs(b[i] - rb[j]).max()) for i, j in pairs] or [0.0])
        r["score_maxdiff"] = max([abs(float(s[i] - rs[j])) for i, j in pairs] or [0.0])
        if out.masks is not None:
            h, w = rgb.shape[:2]
            ious = []
            masks = out.masks.cpu().numpy()
            for i, j in pairs:
                ref = mask_util.decode({"size": [h, w], "counts": info["masks_rle"][j].encode("ascii")}).astype(bool)
                union = np.logical_or(masks[i], ref).sum()
                ious.append(1.0 if union == 0 else float(np.logical_and(masks[i], ref).sum() / union))
            r["mask_min_iou"] = min(ious or [1.0])
        report.append(r)
    return report
