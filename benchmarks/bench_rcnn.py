"""Seconds per image of the native R-CNN (``rcnn:``) on this machine, R50 and X101 Faster R-CNN FPN.

Seeded weights (vcmbench.tasks.rcnn.seeded), a 640x480 coco-tiny-cc image resized as detectron2
does (800x1067), batch 1, after one warm-up image.  Prints one line per model with the front
(backbone + FPN) and back (heads) split and the analytic MACs.

    python benchmarks/bench_rcnn.py [--device cpu|cuda] [--threads N] [--repeat 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

IMAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "coco-tiny-cc" / "images" / "000000005001.jpg"
MODELS = ("COCO-Detection/faster_rcnn_R_50_FPN_3x", "COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    a = ap.parse_args()
    import torch
    from PIL import Image

    from vcmbench.tasks import get_task
    from vcmbench.tasks.rcnn import get_config
    from vcmbench.tasks.rcnn.seeded import seeded_state, write_model_zoo_pkl

    if a.threads:
        torch.set_num_threads(a.threads)
    rgb = np.asarray(Image.open(IMAGE).convert("RGB"))
    with tempfile.TemporaryDirectory() as tmp:
        for model in a.models:
            pkl = write_model_zoo_pkl(seeded_state(get_config(model)), Path(tmp) / "w.pkl")
            net = get_task("rcnn:" + model, weights=str(pkl), device=a.device)
            net.run(rgb)  # warm-up
            front = back = total = 0.0
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                feats = net.features(rgb)
                t1 = time.perf_counter()
                net.head(feats, (rgb.shape[1], rgb.shape[0]))
                t2 = time.perf_counter()
                front += t1 - t0
                back += t2 - t1
                total += t2 - t0
            c = net.complexity((rgb.shape[1], rgb.shape[0]))
            n = a.repeat
            print(f"{model}: {total / n:.2f} s/image (front {front / n:.2f} s, back {back / n:.2f} s; "
                  f"{c['front']['macs'] / 1e9:.1f} + {c['back']['macs'] / 1e9:.1f} GMAC, "
                  f"{(c['front']['params'] + c['back']['params']) / 1e6:.1f} M params) on {a.device}, "
                  f"torch {torch.__version__}, {torch.get_num_threads()} threads, image {rgb.shape[1]}x{rgb.shape[0]}")


if __name__ == "__main__":
    main()
