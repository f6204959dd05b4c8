"""Benchmark: OpenImages challenge evaluation of the VCM 5k detection set, 100 random detections/image.

Usage:  python benchmarks/bench_oid.py [--shared ../shared] [--repeat 3] [--per-image 100] [--segmentation 200]

Two prediction sets of 5000 × 100 detections (seeded):
  * "uniform classes": labels drawn from the 47 classes (most are not evaluable and are dropped,
    as with a real detector's output);
  * "evaluable classes": labels drawn from each image's evaluable classes and half of the boxes
    jittered around GT boxes (every detection is matched: the worst case).
Prints the best wall time of ``oid_evaluate`` (ground-truth loading timed apart) against a target.
``--segmentation N`` also times the instance-segmentation metric on the first N images of the
segmentation list, with synthetic 480×640 box-shaped GT masks and 100 mask detections per image.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

TARGET_S = 10.0


def _predictions(gt, boxes: pd.DataFrame, per_image: int, evaluable: bool, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array(gt.image_ids)
    n = ids.size * per_image
    img = np.repeat(np.arange(ids.size), per_image)
    if evaluable:
        c = len(gt.classes)
        keys = gt.evaluable_keys
        first = np.searchsorted(keys // c, np.arange(ids.size), "left")
        cnt = np.searchsorted(keys // c, np.arange(ids.size), "right") - first
        pick = first[img] + (rng.random(n) * np.maximum(cnt[img], 1)).astype(int)
        labels = np.array(gt.classes)[keys[np.minimum(pick, keys.size - 1)] % c]
    else:
        labels = rng.choice(gt.classes, n)
    x = np.sort(rng.random((n, 2)), axis=1)
    y = np.sort(rng.random((n, 2)), axis=1)
    df = pd.DataFrame({"ImageID": ids[img], "LabelName": labels, "Score": rng.random(n),
                       "XMin": x[:, 0], "XMax": x[:, 1], "YMin": y[:, 0], "YMax": y[:, 1]})
    if evaluable:  # half of the rows: a jittered GT box of the image (class taken from that box)
        src = boxes.sample(n=n // 2, replace=True, random_state=seed)
        j = rng.normal(0, 0.02, (n // 2, 4))
        half = pd.DataFrame({"ImageID": src.ImageID.values, "LabelName": src.LabelName.values,
                             "Score": rng.random(n // 2), "XMin": src.XMin.values + j[:, 0],
                             "XMax": src.XMax.values + j[:, 1], "YMin": src.YMin.values + j[:, 2],
                             "YMax": src.YMax.values + j[:, 3]})
        df = pd.concat([df.iloc[: n - n // 2], half], ignore_index=True)
    return df


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.environ.get("VCMBENCH_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--per-image", type=int, default=100)
    ap.add_argument("--segmentation", type=int, default=0, metavar="N", help="also time segmentation on N images")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate

    d = Path(args.shared) / "data" / "openimages-vcm"
    if not d.is_dir():
        print(f"skipped: {d} is absent (pass --shared)")
        return 0
    t0 = time.perf_counter()
    gt = load_oid_ground_truth(d / "detection_validation_5k_bbox.csv", d / "detection_validation_labels_5k.csv",
                               d / "selected_classes.txt")
    t_load = time.perf_counter() - t0
    boxes = pd.read_csv(d / "detection_validation_5k_bbox.csv")
    print(f"ground truth: {len(gt.image_ids)} images, {gt.boxes.shape[0]} boxes, {len(gt.classes)} classes; "
          f"load {t_load:.2f} s")
    for name, evaluable in (("uniform classes", False), ("evaluable classes", True)):
        preds = _predictions(gt, boxes, args.per_image, evaluable)
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            r = oid_evaluate(gt, preds)
            best = min(best, time.perf_counter() - t)
        print(f"{name:18s}: {len(preds)} detections ({r.counts['evaluated']} evaluated), mAP {r.map:.4f}: "
              f"{best:.2f} s (target < {TARGET_S:.0f} s, {best / TARGET_S:.2f} of target)")
    if args.segmentation:
        _bench_segmentation(d, args.segmentation, args.per_image, args.repeat)
    return 0


def _bench_segmentation(d: Path, n_images: int, per_image: int, repeat: int) -> None:
    import tempfile

    from vcmbench.metrics.oid_io import encode_oid_mask
    from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate

    h, w = 480, 640
    rng = np.random.default_rng(0)
    boxes = pd.read_csv(d / "segmentation_validation_bbox_5k.csv")
    keep = sorted(boxes.ImageID.unique())[:n_images]
    boxes = boxes[boxes.ImageID.isin(keep)].reset_index(drop=True)

    def cell(x0, x1, y0, y1):
        m = np.zeros((h, w), np.uint8)
        m[int(y0 * h):max(int(y1 * h), int(y0 * h) + 1), int(x0 * w):max(int(x1 * w), int(x0 * w) + 1)] = 1
        return encode_oid_mask(m)

    masks = boxes.assign(ImageWidth=w, ImageHeight=h,
                         Mask=[cell(r.XMin, r.XMax, r.YMin, r.YMax) for r in boxes.itertuples()])
    rows = []
    by_img = {k: g for k, g in boxes.groupby("ImageID")}
    for img in keep:
        g = by_img[img]
        for _ in range(per_image):
            r = g.iloc[rng.integers(len(g))]
            j = rng.normal(0, 0.03, 4)
            x0, x1 = sorted(np.clip([r.XMin + j[0], r.XMax + j[1]], 0, 1))
            y0, y1 = sorted(np.clip([r.YMin + j[2], r.YMax + j[3]], 0, 1))
            rows.append({"ImageID": img, "LabelName": r.LabelName, "Score": rng.random(), "XMin": x0, "XMax": x1,
                         "YMin": y0, "YMax": y1, "ImageWidth": w, "ImageHeight": h, "Mask": cell(x0, x1, y0, y1)})
    preds = pd.DataFrame(rows)
    with tempfile.TemporaryDirectory() as tmp:
        boxes.to_csv(Path(tmp) / "b.csv", index=False)
        masks.to_csv(Path(tmp) / "m.csv", index=False)
        gt = load_oid_ground_truth(Path(tmp) / "b.csv", d / "segmentation_validation_labels_5k.csv",
                                   d / "selected_classes.txt", masks_csv=Path(tmp) / "m.csv")
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        r = oid_evaluate(gt, preds, segmentation=True)
        best = min(best, time.perf_counter() - t)
    print(f"segmentation      : {n_images} images x {per_image} masks {h}x{w} ({r.counts['evaluated']} evaluated), "
          f"mAP {r.map:.4f}: {best:.2f} s ({best / n_images * 5000:.1f} s per 5000 images)")


if __name__ == "__main__":
    raise SystemExit(main())
