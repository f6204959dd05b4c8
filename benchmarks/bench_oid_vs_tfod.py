"""Cross-check and time vcmbench's OpenImages metric against the TF Object Detection API itself.

Usage:
    python benchmarks/bench_oid_vs_tfod.py --tfod /path/to/tensorflow-models/research \\
        [--shared ../shared] [--per-image 20] [--ties]

``--tfod`` is a checkout of tensorflow/models ``research/`` (the folder holding
``object_detection/``; a 2020+ tree, with ``OpenImagesChallengeEvaluator``).  TensorFlow is NOT
needed: the evaluation path is numpy/pandas/pycocotools only, so this script stubs the
``tensorflow`` and ``label_map_util`` imports, adds the numpy aliases the 2020/21 code uses
(``np.float``, ``np.bool``, ``np.NAN``) and copies pandas' read-only arrays before the reference
subtracts in place.  ``six`` must be importable.  It then runs the reference exactly as
``metrics/oid_challenge_evaluation.py`` does (CSV → groupby ImageID → build_*_dictionary →
``OpenImagesChallengeEvaluator.evaluate``) and vcmbench on the same CSV files, and prints both mAPs,
whether they are identical, the per-class differences and both run times.

``--ties`` rounds scores to 0.01: results stay identical on the same numpy (vcmbench calls the same
``np.argsort``), but they depend on the numpy build in both tools.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd


def _install_shims() -> None:
    tf = types.ModuleType("tensorflow")
    compat = types.ModuleType("tensorflow.compat")
    v1 = types.ModuleType("tensorflow.compat.v1")
    tf.compat, compat.v1 = compat, v1
    sys.modules.update({"tensorflow": tf, "tensorflow.compat": compat, "tensorflow.compat.v1": v1})
    lmu = types.ModuleType("object_detection.utils.label_map_util")
    lmu.create_category_index = lambda categories: {c["id"]: c for c in categories}
    sys.modules["object_detection.utils.label_map_util"] = lmu
    for name, value in (("float", float), ("bool", bool), ("int", int), ("NAN", np.nan)):
        if name not in np.__dict__:
            setattr(np, name, value)


def _writable(d: dict) -> dict:
    return {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def run_reference(boxes, labels, preds, classes: list[str], masks=None) -> dict[str, float]:
    from object_detection.metrics import oid_challenge_evaluation_utils as utils
    from object_detection.utils import object_detection_evaluation

    loc = pd.read_csv(boxes)
    lab = pd.read_csv(labels).rename(columns={"Confidence": "ConfidenceImageLabel"})
    if masks is not None:
        loc = utils.merge_boxes_and_masks(loc, pd.read_csv(masks))
    allann = pd.concat([loc, lab])
    cmap = {n: i + 1 for i, n in enumerate(classes)}
    ev = object_detection_evaluation.OpenImagesChallengeEvaluator(
        [{"id": i + 1, "name": n} for i, n in enumerate(classes)], evaluate_masks=masks is not None)
    p = pd.read_csv(preds)
    by_img = {k: g for k, g in p.groupby("ImageID", sort=False)}  # the rows .loc[ImageID == id] selects
    for image_id, g in allann.groupby("ImageID"):
        ev.add_single_ground_truth_image_info(image_id, _writable(utils.build_groundtruth_dictionary(g, cmap)))
        ev.add_single_detected_image_info(
            image_id, _writable(utils.build_predictions_dictionary(by_img.get(image_id, p.iloc[:0]), cmap)))
    return {k: float(v) for k, v in ev.evaluate().items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tfod", required=True, help="tensorflow/models research/ folder (holds object_detection/)")
    ap.add_argument("--shared", default=os.environ.get("VCMBENCH_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    ap.add_argument("--per-image", type=int, default=20)
    ap.add_argument("--ties", action="store_true", help="round scores to 0.01")
    args = ap.parse_args()
    repo = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(Path(args.tfod).resolve()), str(repo), str(repo / "benchmarks")]
    _install_shims()
    import logging

    logging.disable(logging.WARNING)
    from bench_oid import _predictions

    from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate

    d = Path(args.shared) / "data" / "openimages-vcm"
    classes = [ln.strip() for ln in (d / "selected_classes.txt").read_text().splitlines() if ln.strip()]
    ok_all = True
    for which in ("detection", "segmentation"):
        b = d / ("detection_validation_5k_bbox.csv" if which == "detection" else "segmentation_validation_bbox_5k.csv")
        lab = d / ("detection_validation_labels_5k.csv" if which == "detection" else "segmentation_validation_labels_5k.csv")
        gt = load_oid_ground_truth(b, lab, d / "selected_classes.txt")
        preds = _predictions(gt, pd.read_csv(b), args.per_image, True, seed=7)
        if args.ties:
            preds["Score"] = preds.Score.round(2)
        with tempfile.TemporaryDirectory() as tmp:
            pcsv = Path(tmp) / "pred.csv"
            preds.to_csv(pcsv, index=False)
            t = time.perf_counter()
            ref = run_reference(b, lab, pcsv, classes)
            t_ref = time.perf_counter() - t
            t = time.perf_counter()
            r = oid_evaluate(load_oid_ground_truth(b, lab, d / "selected_classes.txt"), pcsv)
            t_us = time.perf_counter() - t
        pre = "OpenImagesDetectionChallenge"
        ref_map = ref[f"{pre}_Precision/mAP@0.5IOU"]
        diffs = [(c, ref[f"{pre}_PerformanceByCategory/AP@0.5IOU/{c}"], r.per_class.get(c)) for c in classes
                 if c in r.per_class and ref[f"{pre}_PerformanceByCategory/AP@0.5IOU/{c}"] != r.per_class[c]]
        same = ref_map == r.map and not diffs
        ok_all &= same
        print(f"{which} box list, {len(preds)} predictions: TF OD API mAP {ref_map!r} in {t_ref:.1f} s; "
              f"vcmbench {r.map!r} in {t_us:.2f} s; identical: {same}" + (f"; differing classes {diffs[:5]}" if diffs else ""))
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
