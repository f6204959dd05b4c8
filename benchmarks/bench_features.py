"""Feature-path benchmark: the per-image cost split of split-network feature coding.

Usage:  python benchmarks/bench_features.py [--condition coco-tiny-cc-ssd-features] [--data DIR]
                                            [--images N] [--qp 32] [--preset faster] [--out DIR]

Runs a feature condition from scratch on N images at one QP (default: the SSD-MobileNetV2 head
features of coco-tiny-cc; ``--condition toy`` runs a built-in toy split network on scikit-image
photographs, for machines without the SSD weights) and prints, per image, the mean seconds and the
share of:

* network front: ``task.features`` (once per image: the run's reference job fills the feature cache);
* packing: quantise + tile + write the picture, then read the decoded picture + untile + de-quantise
  (the feature job's pre/post-processing, feature-quality figures included);
* codec: encoder process plus bitstream verification (decoding);
* network back: ``task.head`` on the decoded features.

The front is timed by calling ``task.features`` on each image again after the run (the run itself
times the cache load); every other part comes from the run's job records.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _toy_condition(tmp: Path, qp: int, preset: str) -> Path:
    """A toy split network (registered here) and a feature condition on scikit-image photographs."""
    import numpy as np
    import yaml

    from vcmbench.tasks.base import TASKS, Detections, TaskNetwork

    class Toy(TaskNetwork):
        name = "toy-split-bench"
        split_points = ("fpn",)
        feature_layers = ("p2", "p3", "p4", "p5")

        def __init__(self, score_threshold=0.05, max_detections=100, threads=None):
            super().__init__(score_threshold, max_detections)

        def signature(self):
            return "toy-bench#1"

        def features(self, rgb):
            g = rgb.astype(np.float32).mean(axis=2)
            h, w = g.shape[0] // 16, g.shape[1] // 16
            p = g[: h * 16, : w * 16].reshape(h, 16, w, 16).mean(axis=(1, 3)) / 64.0
            out = {"p2": np.stack([p + c / 64.0 for c in range(256)]).astype(np.float32)}
            for k in (3, 4, 5):
                out[f"p{k}"] = out[f"p{k - 1}"][:, ::2, ::2]
            return out

        def head(self, features, image_size):
            p2 = features["p2"][0].astype(np.float64)
            ys, xs = np.unravel_index(int(np.argmax(p2)), p2.shape)
            return Detections([[xs * 16, ys * 16, xs * 16 + 64, ys * 16 + 64]], [0.9], ["clock"], None, image_size)

        def run(self, rgb):
            return self.head(self.features(rgb), (rgb.shape[1], rgb.shape[0]))

    if Toy.name not in TASKS:
        TASKS.add(Toy.name, Toy)
    cond = {
        "schema_version": 1, "name": "toy-features", "version": 1, "title": "toy", "kind": "feature",
        "dataset": {"name": "samples", "source": "skimage",
                    "sample_images": ["astronaut", "coffee", "chelsea", "camera", "coins", "rocket"]},
        "task": {"type": "detection", "network": Toy.name, "split_point": "fpn", "source": "benchmark"},
        "codec": {"name": "vvenc", "preset": preset, "qps": [qp], "scales": [1.0], "input_bit_depth": 10,
                  "internal_bit_depth": 10, "chroma_format": 400, "source": "benchmark"},
        "feature": {"coded_layers": ["p2", "p3", "p4", "p5"], "channels": 256,
                    "tiling": {"p2": [16, 16], "p3": [32, 8], "p4": [64, 4], "p5": [128, 2]}, "quant_bits": 10,
                    "quant_range": {"mode": "fixed", "min": 0.0, "max": 8.0, "source": "toy"}, "rounding": "round",
                    "source": "benchmark"},
        "rate": {"definition": "bpp-dataset", "source": "benchmark"},
        "metric": {"name": "coco-ap", "iou_type": "bbox", "quality_key": "AP50", "source": "benchmark"},
        "bd": {"method": "pchip-jvet", "source": "benchmark"},
        "ground_truth": {"mode": "reference-output", "score_threshold": 0.5, "source": "benchmark"},
    }
    path = tmp / "toy-features.yaml"
    path.write_text(yaml.safe_dump(cond))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--condition", default="coco-tiny-cc-ssd-features", help="feature condition, or 'toy'")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "coco-tiny-cc"))
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--qp", type=int, default=32)
    ap.add_argument("--preset", default="faster", help="VVenC preset (VVenC conditions)")
    ap.add_argument("--out", default=None, help="run directory (default: a temporary one, removed)")
    args = ap.parse_args(argv)

    from vcmbench.conditions import load_condition
    from vcmbench.conditions.datasets import list_images, load_rgb
    from vcmbench.run.jobs import get_cached_task
    from vcmbench.run.pipeline import run_condition, task_options_for

    tmp = Path(tempfile.mkdtemp(prefix="vcmbench-bench-features-"))
    out = Path(args.out) if args.out else tmp / "run"
    shutil.rmtree(out, ignore_errors=True)
    try:
        toy = args.condition == "toy"
        cond = load_condition(_toy_condition(tmp, args.qp, args.preset) if toy else args.condition)
        data = None if toy else args.data
        if cond.codec["name"] == "vvenc":
            cond = cond.with_overrides(preset=args.preset)
        t0 = time.perf_counter()
        s = run_condition(cond, data, out, qps=[args.qp], limit=args.images, jobs=1)
        wall = time.perf_counter() - t0
        if s.errors or s.result_set is None:
            print(f"benchmark run failed: {s.errors[:1] or s.result_error}", file=sys.stderr)
            return 1
        db = sqlite3.connect(str(out / "results.sqlite"))
        recs = [json.loads(r) for k, r in db.execute("SELECT kind, record FROM jobs") if k == "code"]
        db.close()
        n = len(recs)
        task = get_cached_task(cond.task["network"], tuple(sorted(task_options_for(cond).items())))
        images = list_images(cond, data, args.images)
        front = 0.0
        for im in images:
            rgb = load_rgb(im)
            t = time.perf_counter()
            task.features(rgb)
            front += time.perf_counter() - t
        parts = {
            "network front": front / len(images),
            "packing": sum(r["extra"]["preprocess_seconds"] + r["extra"]["postprocess_seconds"] for r in recs) / n,
            "codec": sum(r["encode_seconds"] + r["decode_seconds"] for r in recs) / n,
            "network back": sum(r["extra"]["back_seconds"] for r in recs) / n,
        }
        total = sum(parts.values())
        print(f"condition {cond.name}, {n} image(s), QP {args.qp}, wall {wall:.1f} s "
              f"(picture {recs[0]['coded_width']}x{recs[0]['coded_height']})")
        print(f"{'part':<14} {'s/image':>9} {'share':>7}")
        for k, v in parts.items():
            print(f"{k:<14} {v:9.4f} {v / total:7.1%}")
        print(f"{'total':<14} {total:9.4f}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
