"""The native R-CNN operators against torchvision's (what detectron2 calls).

Golden: tests/golden/rcnn/ops_torchvision.npz, written by benchmarks/rcnn_ops_reference.py with
torchvision 0.29.1 (torch 2.14.1, CPU): ``roi_align(..., sampling_ratio=0, aligned=True)`` on 40
seeded ROIs (tiny, medium, large, partly outside the map) and ``batched_nms`` on 300 boxes (the
coordinate-offset path) and 1500 boxes (the per-class path).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vcmbench.tasks.rcnn.ops import batched_nms, nms, roi_align  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = np.load(Path(__file__).parent / "rcnn" / "ops_torchvision.npz")


def _driver():
    spec = importlib.util.spec_from_file_location("rcnn_ops_reference", ROOT / "benchmarks" / "rcnn_ops_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("scale,size", [(0.25, 7), (0.125, 7), (0.25, 14)])
def test_roi_align_equals_torchvision(scale, size):
    d = _driver().inputs()
    out = roi_align(torch.from_numpy(d["feat"]), torch.from_numpy(d["rois"]), size, scale).numpy()
    ref = GOLDEN[f"roi_{size}_{scale}"]
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() <= 1e-6


@pytest.mark.parametrize("n,thr", [(300, 0.5), (300, 0.7), (1500, 0.5), (1500, 0.7)])
def test_batched_nms_equals_torchvision(n, thr):
    mod = _driver()
    b, s, i = mod.nms_inputs(mod.inputs(), n)
    keep = batched_nms(torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(i), thr).numpy()
    np.testing.assert_array_equal(keep, GOLDEN[f"nms_{n}_{thr}"])


def test_nms_greedy_semantics():
    """IoU exactly at the threshold is kept (suppression needs IoU > threshold); order by score."""
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30], [0, 0, 10, 10.0]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    assert nms(boxes, scores, 0.5).tolist() == [3, 1, 2]  # box 1 has IoU 0.5 with box 3: kept
    assert nms(boxes, scores, 0.49).tolist() == [3, 2]
    assert nms(boxes[:0], scores[:0], 0.5).numel() == 0
