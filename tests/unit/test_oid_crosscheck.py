"""The vectorised OpenImages evaluator against a plain loop implementation of the same rules.

The loop version below follows the structure of the TF Object Detection API evaluator
(per image → per class → sequential greedy matching, then pooled precision/recall and VOC AP),
written independently and kept deliberately naive.  Random cases with group-of boxes, negative
labels, duplicate detections, tied scores and (for segmentation) box-only instances must give
identical per-class APs.  Like the reference, both order scores with ``np.argsort(s)[::-1]``
(numpy's default, unstable sort): tied scores are broken the same way on the same numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vcmbench.metrics.oid_io import encode_oid_mask
from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate

H, W = 16, 24


def _iou(d, g):
    ih = max(0.0, min(d[2], g[2]) - max(d[0], g[0]))
    iw = max(0.0, min(d[3], g[3]) - max(d[1], g[1]))
    inter = ih * iw
    ad = (d[2] - d[0]) * (d[3] - d[1])
    ag = (g[2] - g[0]) * (g[3] - g[1])
    return inter / (ad + ag - inter), inter / ad


def _miou(dm, gm):
    inter = np.float32(np.minimum(dm, gm).sum())
    ad, ag = np.float32(dm.sum()), np.float32(gm.sum())
    return float(inter / max(ad + ag - inter, np.float32(1e-7))), float(inter / (ad + np.float32(1e-7)))


def _loop_reference(gtb, labels, preds, classes, weight, seg):
    C = len(classes)
    num_gt = np.zeros(C)
    pooled = [[] for _ in range(C)]  # (score, label) in pooled order
    by_img: dict = {}
    for kind, rows in (("gt", gtb), ("lab", labels), ("det", preds)):
        for r in rows:
            by_img.setdefault(r["ImageID"], {"gt": [], "lab": [], "det": []})[kind].append(r)
    for img in sorted({r["ImageID"] for r in gtb} | {r["ImageID"] for r in labels}):
        boxes = by_img[img]["gt"]
        evaluable = {r["LabelName"] for r in by_img[img]["lab"]} | {r["LabelName"] for r in boxes}
        for r in boxes:
            if seg and r["mask"] is None:
                continue
            num_gt[classes.index(r["LabelName"])] += weight if r["IsGroupOf"] else 1
        dets = [p for p in by_img[img]["det"] if p["LabelName"] in evaluable]
        for p in dets:
            p["box"] = p["mbox"] if seg else (p["YMin"], p["XMin"], p["YMax"], p["XMax"])
        dets = [p for p in dets if p["box"][0] < p["box"][2] and p["box"][1] < p["box"][3]]
        for c, name in enumerate(classes):
            d = [p for p in dets if p["LabelName"] == name]
            if not d:
                continue
            order = np.argsort(np.array([p["Score"] for p in d]), )[::-1]
            d = [d[i] for i in order]
            g = [r for r in boxes if r["LabelName"] == name]
            tp = [False] * len(d)
            grp_m = [False] * len(d)
            to_box = [False] * len(d)
            entries = []
            if seg:
                stages = [("iou", [r for r in g if not r["IsGroupOf"] and r["mask"] is not None], True),
                          ("ioa", [r for r in g if r["IsGroupOf"] and r["mask"] is not None], True),
                          ("iou", [r for r in g if not r["IsGroupOf"] and r["mask"] is None], False),
                          ("ioa", [r for r in g if r["IsGroupOf"] and r["mask"] is None], False)]
            else:
                stages = [("iou", [r for r in g if not r["IsGroupOf"]], False),
                          ("ioa", [r for r in g if r["IsGroupOf"]], False)]
            for kind, gs, on_mask in stages:
                if not gs:
                    continue
                taken = [False] * len(gs)
                gscore = [0.0] * len(gs)
                for i, p in enumerate(d):
                    ov = [(_miou(p["m"], r["mask"]) if on_mask else
                           _iou(p["box"], (r["YMin"], r["XMin"], r["YMax"], r["XMax"])))[0 if kind == "iou" else 1]
                          for r in gs]
                    j = int(np.argmax(ov))
                    if tp[i] or grp_m[i] or not ov[j] >= 0.5:
                        continue
                    if kind == "iou":
                        if not taken[j]:
                            taken[j] = tp[i] = True
                            to_box[i] = not on_mask
                    else:
                        grp_m[i] = True
                        to_box[i] = not on_mask
                        gscore[j] = max(gscore[j], p["Score"])
                if kind == "ioa" and (on_mask or not seg):
                    entries += [(s, weight) for s in gscore if s > 0 and weight > 0]
            keep = [(p["Score"], 1.0 if tp[i] else 0.0) for i, p in enumerate(d)
                    if not grp_m[i] and not (seg and to_box[i])]
            pooled[c] += keep + entries
    aps = np.full(C, np.nan)
    for c in range(C):
        if num_gt[c] == 0:
            continue
        if not pooled[c]:
            aps[c] = 0.0
            continue
        sc = np.array([s for s, _ in pooled[c]])
        lab = np.array([lb for _, lb in pooled[c]])[np.argsort(sc, )[::-1]]
        ctp, cfp = np.cumsum(lab), np.cumsum((lab <= 0).astype(float))
        prec, rec = ctp / (ctp + cfp), ctp / num_gt[c]
        rec = np.concatenate([[0], rec, [1]])
        prec = np.concatenate([[0], prec, [0]])
        for i in range(len(prec) - 2, -1, -1):
            prec[i] = max(prec[i], prec[i + 1])
        steps = [(rec[i] - rec[i - 1]) * prec[i] for i in range(1, len(rec)) if rec[i] != rec[i - 1]]
        aps[c] = np.sum(np.array(steps))  # numpy's pairwise sum, as the reference (bit-exact comparison)
    return aps


def _rand_box(rng, grid):
    x0, x1 = sorted(rng.choice(grid + 1, 2, replace=False))
    y0, y1 = sorted(rng.choice(grid + 1, 2, replace=False))
    return x0, y0, x1, y1


def _case(rng, seg):
    classes = ["A", "B", "C"]
    imgs = [f"im{k}" for k in range(5)]
    gtb, labels, preds = [], [], []
    for img in imgs:
        for _ in range(rng.integers(0, 5)):
            x0, y0, x1, y1 = _rand_box(rng, 8)
            m = np.zeros((H, W), np.uint8)
            m[y0 * 2:y1 * 2, x0 * 3:x1 * 3] = 1
            if seg and any(r["ImageID"] == img and (r["XMin"], r["XMax"], r["YMin"], r["YMax"]) ==
                           (x0 / 8, x1 / 8, y0 / 8, y1 / 8) for r in gtb):
                continue  # identical GT rows multiply in the boxes/masks join (as in the reference); not modelled here
            gtb.append({"ImageID": img, "LabelName": str(rng.choice(classes)), "XMin": x0 / 8, "XMax": x1 / 8,
                        "YMin": y0 / 8, "YMax": y1 / 8, "IsGroupOf": int(rng.random() < .3),
                        "mask": m if (not seg or rng.random() < .75) else None})
        for c in classes:
            if rng.random() < .4:
                labels.append({"ImageID": img, "LabelName": c, "Confidence": int(rng.random() < .5)})
        base = [r for r in gtb if r["ImageID"] == img]
        for _ in range(rng.integers(0, 9)):
            if base and rng.random() < .6:  # near a GT box
                r = base[rng.integers(len(base))]
                x0, x1 = int(round(r["XMin"] * 8)), int(round(r["XMax"] * 8))
                y0, y1 = int(round(r["YMin"] * 8)), int(round(r["YMax"] * 8))
                x0, x1 = max(0, x0 - rng.integers(0, 2)), min(8, x1 + rng.integers(0, 2))
            else:
                x0, y0, x1, y1 = _rand_box(rng, 8)
            m = np.zeros((H, W), np.uint8)
            m[y0 * 2:y1 * 2, x0 * 3:x1 * 3] = 1
            if seg and rng.random() < .3:
                m[y0 * 2:y0 * 2 + 1, :] = 0  # not exactly box-shaped
            ys, xs = np.nonzero(m)
            mbox = (ys.min() / H, xs.min() / W, (ys.max() + 1) / H, (xs.max() + 1) / W) if ys.size else (0, 0, 0, 0)
            preds.append({"ImageID": img, "LabelName": str(rng.choice(classes)),
                          "Score": float(rng.choice([.1, .3, .5, .7, .9])),  # coarse scores: many ties
                          "XMin": x0 / 8, "XMax": x1 / 8, "YMin": y0 / 8, "YMax": y1 / 8,
                          "ImageWidth": W, "ImageHeight": H, "Mask": encode_oid_mask(m), "m": m, "mbox": mbox})
    return classes, gtb, labels, preds


@pytest.mark.parametrize("seg,weight", [(False, 1.0), (True, 0.0), (False, 0.5), (True, 1.0)],
                         ids=["detection", "segmentation", "detection-weight0.5", "segmentation-weight1"])
def test_vectorised_equals_loop_reference(tmp_path, seg, weight):
    rng = np.random.default_rng(1234 + seg + int(weight * 10))
    compared = 0
    for trial in range(40):
        classes, gtb, labels, preds = _case(rng, seg)
        cols = ["ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax", "IsGroupOf"]
        pd.DataFrame([{k: r[k] for k in cols} for r in gtb], columns=cols).to_csv(tmp_path / "b.csv", index=False)
        pd.DataFrame(labels, columns=["ImageID", "LabelName", "Confidence"]).to_csv(tmp_path / "l.csv", index=False)
        masks = [{**{k: r[k] for k in cols}, "ImageWidth": W, "ImageHeight": H, "Mask": encode_oid_mask(r["mask"])}
                 for r in gtb if r["mask"] is not None]
        pd.DataFrame(masks, columns=cols + ["ImageWidth", "ImageHeight", "Mask"]).to_csv(tmp_path / "m.csv", index=False)
        gt = load_oid_ground_truth(tmp_path / "b.csv", tmp_path / "l.csv", classes,
                                   masks_csv=tmp_path / "m.csv" if seg else None)
        expected = _loop_reference(gtb, labels, [dict(p) for p in preds], classes, weight, seg)
        if np.isnan(expected).all():
            continue
        pred_df = pd.DataFrame([{k: v for k, v in p.items() if k not in ("m", "mbox")} for p in preds])
        if pred_df.empty:
            pred_df = pd.DataFrame(columns=["ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax",
                                            "ImageWidth", "ImageHeight", "Mask"])
        r = oid_evaluate(gt, pred_df, segmentation=seg, group_of_weight=weight)
        got = np.array([r.per_class.get(c, np.nan) for c in classes])
        np.testing.assert_array_equal(got, expected, err_msg=f"trial {trial}")
        assert r.map == np.nanmean(expected)
        compared += 1
    assert compared >= 30
