"""Reference driver for the native R-CNN operators: torchvision's ``roi_align`` (aligned, sampling
ratio 0 = detectron2's ROIAlignV2) and ``batched_nms`` on seeded inputs, saved as a small ``.npz``.

Runs where torchvision imports (e.g. torch 2.14.1 + torchvision 0.29.1, DESIGN.md 5.6):

    python benchmarks/rcnn_ops_reference.py tests/golden/rcnn/ops_torchvision.npz
"""

from __future__ import annotations

import sys

import numpy as np


def inputs() -> dict[str, np.ndarray]:
    """The seeded inputs (tests/golden/test_rcnn_ops.py imports this function)."""
    r = np.random.RandomState(3)
    feat = r.standard_normal((1, 2, 13, 17)).astype(np.float32)
    xy = r.uniform(-20, 70, (40, 2))
    wh = np.concatenate([r.uniform(0.5, 8, (10, 2)), r.uniform(8, 40, (20, 2)), r.uniform(40, 120, (10, 2))])
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    rois = np.concatenate([np.zeros((40, 1), np.float32), boxes], 1)
    nb = r.uniform(0, 60, (300, 2))
    nwh = r.uniform(5, 30, (300, 2))
    nboxes = np.concatenate([nb, nb + nwh], 1).astype(np.float32)
    nscores = r.uniform(0, 1, 300).astype(np.float32)
    nidx = r.randint(0, 4, 300).astype(np.int64)
    return {"feat": feat, "rois": rois, "nboxes": nboxes, "nscores": nscores, "nidx": nidx}


def nms_inputs(d: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` boxes (a multiple of 300): the seeded 300 repeated with small shifts, scores decreasing."""
    k = n // 300
    b = np.concatenate([d["nboxes"]] * k) + np.repeat(np.arange(k), 300)[:, None].astype(np.float32) * 0.37
    s = (np.concatenate([d["nscores"]] * k) * np.linspace(1.0, 0.9, n).astype(np.float32)).astype(np.float32)
    return b.astype(np.float32), s, np.concatenate([d["nidx"]] * k)


def main() -> None:
    import torch
    from torchvision.ops import batched_nms, roi_align

    d = inputs()
    out = {}
    for scale, size in ((0.25, 7), (0.125, 7), (0.25, 14)):
        o = roi_align(torch.from_numpy(d["feat"]), torch.from_numpy(d["rois"]), size, scale, 0, True)
        out[f"roi_{size}_{scale}"] = o.numpy()
    for n in (300, 1500):  # 300 boxes: coordinate trick; 1500 (> 4000 coordinates): per-class loop
        b, s, i = nms_inputs(d, n)
        for thr in (0.5, 0.7):
            out[f"nms_{n}_{thr}"] = batched_nms(torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(i), thr).numpy()
    np.savez_compressed(sys.argv[1], **out)


if __name__ == "__main__":
    main()
