"""Benchmark: the paired bootstrap of BD-rate (issue 24), 1000 resamples.

1. generic: N synthetic images, 2 curves x 12 points (24 points), accuracy = a mean of per-image values;
   BD pchip-jvet with drop-nonmono (12 noisy points per curve);
   times the draws + per-point rates/accuracies and the per-resample BD (pchip-jvet, bd.compare).
2. COCO AP records (metrics.item_records) on coco-tiny-cc (22 images, seeded perturbed predictions):
   building the records of one point (pycocotools evaluate) and its 1000-resample accuracy; x24 for 24 points.
3. OpenImages challenge mAP records on the MPEG VCM 5k detection GT (5000 images, perturbed GT boxes as
   predictions): the same for one point; x24.

Times are CPU seconds of this process (time.process_time: steadier than wall time on a shared machine).

Usage:  python benchmarks/bench_bootstrap.py [--items 5000] [--resamples 1000] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from vcmbench.bd import compare
from vcmbench.run.bootstrap import PointItems, curve_values, paired_bootstrap, resample_weights


def generic(n: int, resamples: int) -> None:
    rng = np.random.default_rng(0)
    px = rng.uniform(0.5, 1.5, n) * 1e5
    rates = np.geomspace(0.02, 0.8, 12)
    mus = np.linspace(0.4, 0.75, 12)
    curves = []
    for f in (1.0, 0.9):
        pts = []
        for j in range(12):
            vals = mus[j] + rng.normal(0, 0.05, n)
            pts.append(PointItems(1.0, j, f * px * rates[j] * rng.lognormal(0, 0.2, n), px, np.ones(n),
                                  (lambda v: (lambda w: (w @ v) / w.sum(axis=1)))(vals)))
        curves.append(pts)
    t0 = time.process_time()
    w = resample_weights(n, resamples, 0).astype(float)
    tw = time.process_time()
    curve_values(curves[0], w)
    curve_values(curves[1], w)
    t1 = time.process_time()

    def stat(a, t):
        r = compare(a, t, "pchip-jvet", remedies=("drop-nonmono",))
        return r.bd_rate_pct, r.bd_quality
    ci = paired_bootstrap(curves[0], curves[1], n, stat, 95, resamples, 0)
    t2 = time.process_time()
    print(f"generic {n} images x 24 points x {resamples}: draws {tw - t0:.2f} s, rates+accuracy {t1 - tw:.2f} s, "
          f"whole bootstrap (draws, rates, accuracy, BD) {t2 - t1:.2f} s; "
          + (f"CI [{ci['low']:.2f}, {ci['high']:.2f}] %, {ci['failed']} refused" if "low" in ci else ci["error"]))


def coco(shared: Path, resamples: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.unit.test_coco_metric import _perturbed
    from vcmbench.metrics.coco import coco_evaluated, load_coco_gt
    from vcmbench.metrics.item_records import coco_item_records

    gt = load_coco_gt(shared / "data/coco-tiny-cc/instances_val2017_cc.json")
    ids = sorted(im["id"] for im in gt["images"])
    preds = _perturbed(gt, 0)
    t0 = time.process_time()
    rec = coco_item_records(coco_evaluated(gt, preds), ids, "AP")
    t1 = time.process_time()
    rec.accuracy(resample_weights(len(ids), resamples, 0).astype(float))
    t2 = time.process_time()
    print(f"COCO AP 22 images, one point: records {t1 - t0:.2f} s, {resamples} resamples {t2 - t1:.2f} s; "
          f"24 points ~{24 * (t2 - t0):.1f} s")


def oid(shared: Path, resamples: int) -> None:
    import pandas as pd

    from vcmbench.metrics.item_records import oid_item_records
    from vcmbench.metrics.openimages import load_oid_ground_truth, oid_item_entries

    d = shared / "data/openimages-vcm"
    gt = load_oid_ground_truth(d / "detection_validation_5k_bbox.csv", d / "detection_validation_labels_5k.csv",
                               d / "selected_classes.txt")
    boxes = pd.read_csv(d / "detection_validation_5k_bbox.csv")
    rng = np.random.default_rng(0)
    b = boxes[rng.random(len(boxes)) > 0.2].copy()
    for c in ("XMin", "XMax", "YMin", "YMax"):
        b[c] += rng.normal(0, 0.01, len(b))
    b["Score"] = rng.random(len(b))
    preds = b[["ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax"]]
    t0 = time.process_time()
    rec = oid_item_records(oid_item_entries(gt, preds), list(gt.image_ids))
    t1 = time.process_time()
    rec.accuracy(resample_weights(len(gt.image_ids), resamples, 0).astype(float))
    t2 = time.process_time()
    print(f"OID mAP {len(gt.image_ids)} images ({len(preds)} detections), one point: records {t1 - t0:.2f} s, "
          f"{resamples} resamples {t2 - t1:.2f} s; 24 points ~{24 * (t2 - t0):.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    args = ap.parse_args()
    generic(22, args.resamples)
    generic(args.items, args.resamples)
    shared = Path(args.shared)
    if (shared / "data").is_dir():
        coco(shared, args.resamples)
        oid(shared, args.resamples)
    else:
        print(f"{shared}/data is absent: COCO and OID parts skipped")


if __name__ == "__main__":
    main()
