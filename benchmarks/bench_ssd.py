"""SSD-MobileNetV2-COCO benchmark: PyTorch port vs OpenCV DNN, and the front/back cost of the split.

Usage:  python benchmarks/bench_ssd.py [--data ../shared/data/coco-tiny-cc] [--images N] [--repeat R] [--threads T]

Runs both backends on the first N images of the folder (default: the scikit-image sample photographs
when --data is not given) with T threads (default 1, as the pipeline runs them) and prints, per image
(median over images of the best of R repeats):

* CPU ms/image of ``run`` for each backend and the ratio torch / OpenCV;
* the PyTorch split: ``features`` (resize + network front) and ``head`` (box predictors + anchors,
  decoding and NMS), with their share of the whole, next to the analytic MACs of each part
  (``complexity()``: kMAC per input pixel) — time per MAC shows where the cost is not arithmetic.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def _images(data: str | None, n: int):
    import cv2

    if data:
        files = sorted(p for p in Path(data).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:n]
        return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in files]
    from vcmbench.conditions.datasets import _sample_rgb

    names = ["astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right"][:n]
    return [_sample_rgb(x) for x in names]


def _best_ms(fn, repeat: int) -> float:
    """Best of ``repeat`` calls, in ms of process CPU time (with one thread this is the single core's time
    and does not grow when other processes share the machine; with more threads it is their sum)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, (time.process_time() - t) * 1000)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="folder of images (default: scikit-image samples)")
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    from vcmbench.tasks import get_task
    from vcmbench.tasks.ssd import opencv_dnn_available

    cv_ok, cv_why = opencv_dnn_available()
    t0 = time.perf_counter()
    torch_net = get_task("ssd-mobilenet-v2-coco", score_threshold=0.05, threads=args.threads)
    t_load_torch = time.perf_counter() - t0
    t0 = time.perf_counter()
    cv_net = get_task("ssd-mobilenet-v2-coco-opencv", score_threshold=0.05, threads=args.threads) if cv_ok else None
    t_load_cv = time.perf_counter() - t0
    images = _images(args.data, args.images)
    for rgb in images[:1]:  # warm-up (first-call allocations)
        torch_net.run(rgb)
        if cv_net is not None:
            cv_net.run(rgb)

    rows = {"torch": [], "opencv": [], "features": [], "head": []}
    for rgb in images:
        size = (rgb.shape[1], rgb.shape[0])
        feats = torch_net.features(rgb)
        rows["torch"].append(_best_ms(lambda: torch_net.run(rgb), args.repeat))
        if cv_net is not None:
            rows["opencv"].append(_best_ms(lambda: cv_net.run(rgb), args.repeat))
        rows["features"].append(_best_ms(lambda: torch_net.features(rgb), args.repeat))
        rows["head"].append(_best_ms(lambda: torch_net.head(feats, size), args.repeat))
    med = {k: statistics.median(v) for k, v in rows.items() if v}
    c = torch_net.complexity()
    px = c["input_pixels"]
    print(f"SSD-MobileNetV2-COCO, {len(images)} images, {args.threads} thread(s), best of {args.repeat}, median")
    if cv_net is None:
        print(f"load: torch {t_load_torch:.2f} s (graph parse + compile); OpenCV DNN not measured: {cv_why}")
        print(f"run:  torch {med['torch']:.1f} ms/image")
    else:
        print(f"load: torch {t_load_torch:.2f} s (graph parse + compile), opencv {t_load_cv:.2f} s")
        print(f"run:  torch {med['torch']:.1f} ms/image   opencv {med['opencv']:.1f} ms/image   "
              f"ratio torch/opencv {med['torch'] / med['opencv']:.2f}")
    whole = med["features"] + med["head"]
    for part, key in (("front", "features"), ("back", "head")):
        macs = c[part]["macs"]
        print(f"{part:5s} ({key:8s}): {med[key]:6.1f} ms/image ({med[key] / whole:5.1%})   "
              f"{c[part]['params'] / 1e6:6.2f} M params   {macs / 1e9:5.3f} GMAC ({macs / px / 1000:6.2f} kMAC/pixel)   "
              f"{med[key] * 1e6 / macs:5.2f} ns/MAC")


if __name__ == "__main__":
    main()
