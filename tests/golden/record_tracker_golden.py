"""Record the ORIGINAL JDE association (CompressAI-Vision's ``jde_1088x608``) on constructed detection
streams as a golden file for ``vcmbench.tasks.tracking.JDETracker``.

Reference setup, OUTSIDE the repository (nothing of it is committed; the versions of the reference's
``uv.lock`` where they exist for Python 3.11)::

    python3.11 -m venv /tmp/trk-ref/venv
    /tmp/trk-ref/venv/bin/pip install numpy==1.24.4 scipy==1.10.1 lap==0.5.12 "numba<0.61" cython \\
        setuptools wheel torch==2.13.0   # torch only carries the tensors _jde_process indexes
    # Towards-Realtime-MOT at the commit CompressAI-Vision @31165daf scripts/install.sh checks out,
    # with its two patches (0000-jde-package, 0001-jde-interface-with-compressai-vision):
    git -C TRM.git archive c2654cdd7b69d39af669cff90758c04436025fe1 | tar x -C /tmp/trk-ref/src
    (cd /tmp/trk-ref/src && git init -q . && git apply 0000-jde-package.patch \\
        0001-jde-interface-with-compressai-vision.patch)
    # cython_bbox at 9badb346 (0.1.3) with 0001-cython_bbox-compatible-with-numpy-1.24.1.patch (float32):
    (cd /tmp/trk-ref/cbb && /tmp/trk-ref/venv/bin/pip install --no-build-isolation .)
    /tmp/trk-ref/venv/bin/python tests/golden/record_tracker_golden.py --trm-src /tmp/trk-ref/src \\
        --cav-git-dir /work/.mirror/InterDigitalInc+CompressAI-Vision/repo

The script reads ``compressai_vision/model_wrappers/jde.py`` at 31165daf from the given git dir, takes
the class ``jde_1088x608``'s methods ``forward`` and ``_jde_process`` from it (ast, unchanged) and
runs them on a stand-in ``self`` holding what ``__init__`` sets for the association (``model_configs``
defaults: conf 0.5, nms 0.4, min_box_area 200, track_buffer 30, frame_rate 30 unless the stream says;
``max_time_on_hold = int(frame_rate / 30 * track_buffer)``; the patched ``jde.utils.kalman_filter``
``KalmanFilter``; ``reset()``'s lists).  ``forward``'s network is stood in for: ``darknet`` returns a
``pred`` tensor (1, 54264, 6 + D) whose first rows are the frame's constructed detections
(``x1, y1, x2, y2, score, 0, embedding``), the other rows score 0; ``jde.utils.utils.non_max_suppression``
returns those rows unchanged and ``scale_coords`` leaves them (the detections are already what NMS
and rescaling give; the tracker golden is about the association).  The modules the tracker does not
use are stood in for at import (``cv2``, ``matplotlib``, ``torchvision.ops``).  The original code
then runs unchanged: conf filter, STrack construction, Kalman, ``matching`` (cython_bbox float32 IoU,
cdist, fuse_motion, lap), state handling and ``forward``'s output filter.  ``BaseTrack._count`` is set
to 0 before each stream (a fresh process per sequence, as the committee runs).

Streams (``build_streams``, numpy RandomState seeded; inputs stored in the JSON as integers: boxes x16,
scores x1024, embedding components x4096, so every value is exact in float32; ``frame_inputs`` decodes):
objects moving with noise, births and deaths, crossings with embeddings that stay and that swap,
occlusions shorter and longer than the lost buffer (frame rates 30 and 50), boxes removed by the
output filter (w/h > 1.6, area <= 200), zero-height and low-score detections, missed detections and
false positives, near-duplicate detections.  Writes tests/golden/tracker/jde_association.json: per
stream the inputs and per frame the reference's output ``ids`` and ``tlwh``.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import logging
import platform
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

GOLDEN_FILE = Path(__file__).with_name("tracker") / "jde_association.json"
COMMIT = "31165daf"
TRM_COMMIT = "c2654cdd7b69d39af669cff90758c04436025fe1"
N_PROPOSALS = 54264  # _jde_process asserts this pred size
EMB_DIM = 16  # the association code is dimension-agnostic; JDE's is 512


# --- constructed streams ----------------------------------------------------------------------------

def _q(x, scale: int) -> list:
    """``x * scale`` rounded to integers (the JSON holds these; value = int / scale, exact in float32)."""
    return np.round(np.asarray(x, dtype=np.float64) * scale).astype(np.int64).tolist()


def _unit(rng: np.random.RandomState, n: int) -> np.ndarray:
    v = rng.randn(n, EMB_DIM)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _simulate(name: str, seed: int, n_frames: int, objects: list[dict], frame_rate: float = 30.0,
              box_noise: float = 1.0, emb_noise: float = 0.05, miss: float = 0.0, fp: float = 0.0,
              extra: dict | None = None, size=(960, 540)) -> dict:
    """Objects: ``start``, ``end`` (frames), ``xy`` (top-left at start), ``v`` (px/frame), ``wh``,
    ``emb`` (index into the stream's identity embeddings), optional ``hidden`` [(a, b)] frames without
    detection, ``emb_after`` (frame, index): embedding index from that frame on, ``score``."""
    rng = np.random.RandomState(seed)
    idents = _unit(rng, 1 + max(max(o["emb"], o.get("emb_after", (0, 0))[1]) for o in objects) + 8)
    frames = []
    for f in range(n_frames):
        boxes, scores, embs = [], [], []
        for o in objects:
            if not (o["start"] <= f < o["end"]):
                continue
            if any(a <= f < b for a, b in o.get("hidden", ())):
                continue
            if miss and rng.rand() < miss:
                continue
            t = f - o["start"]
            x = o["xy"][0] + o["v"][0] * t + rng.randn() * box_noise
            y = o["xy"][1] + o["v"][1] * t + rng.randn() * box_noise
            w = o["wh"][0] * (1 + 0.01 * rng.randn())
            h = o["wh"][1] * (1 + 0.01 * rng.randn())
            e = o["emb"]
            if "emb_after" in o and f >= o["emb_after"][0]:
                e = o["emb_after"][1]
            emb = idents[e] + emb_noise * rng.randn(EMB_DIM)
            boxes.append([x, y, x + w, y + h])
            scores.append(o.get("score", 0.6 + 0.39 * rng.rand()))
            embs.append(emb)
        n_fp = rng.poisson(fp) if fp else 0
        for _ in range(n_fp):
            w, h = 20 + 60 * rng.rand(), 40 + 120 * rng.rand()
            x, y = rng.rand() * (size[0] - w), rng.rand() * (size[1] - h)
            boxes.append([x, y, x + w, y + h])
            scores.append(0.51 + 0.4 * rng.rand())
            embs.append(_unit(rng, 1)[0])
        for item in (extra or {}).get(f, ()):
            boxes.append(item[0])
            scores.append(item[1])
            embs.append(idents[item[2]] if item[2] is not None else _unit(rng, 1)[0])
        order = np.argsort(-np.asarray(scores, dtype=np.float32), kind="stable")
        frames.append({"boxes_x16": _q(np.asarray(boxes).reshape(-1, 4)[order], 16),
                       "scores_x1024": _q(np.asarray(scores)[order], 1024),
                       "embeddings_x4096": _q(np.asarray(embs).reshape(-1, EMB_DIM)[order], 4096)})
    return {"name": name, "seed": seed, "frame_rate": frame_rate, "image_size": list(size), "frames": frames}


def build_streams() -> list[dict]:
    s = []
    s.append(_simulate("walkers", 1, 40, [
        dict(start=0, end=40, xy=(50, 100), v=(4, 0.5), wh=(40, 110), emb=0),
        dict(start=0, end=25, xy=(800, 80), v=(-3, 1), wh=(50, 130), emb=1),
        dict(start=5, end=40, xy=(300, 300), v=(2, -2), wh=(35, 90), emb=2),
        dict(start=12, end=33, xy=(600, 200), v=(0, 3), wh=(45, 120), emb=3)]))
    s.append(_simulate("crossing-keep", 2, 36, [
        dict(start=0, end=36, xy=(100, 200), v=(12, 0), wh=(50, 130), emb=0),
        dict(start=0, end=36, xy=(520, 205), v=(-12, 0), wh=(50, 130), emb=1)]))
    s.append(_simulate("crossing-swap", 3, 36, [
        dict(start=0, end=36, xy=(100, 200), v=(12, 0), wh=(50, 130), emb=0, emb_after=(18, 1)),
        dict(start=0, end=36, xy=(520, 205), v=(-12, 0), wh=(50, 130), emb=1, emb_after=(18, 0))]))
    s.append(_simulate("occlusion-30fps", 4, 80, [
        dict(start=0, end=80, xy=(100, 100), v=(3, 0), wh=(40, 100), emb=0, hidden=[(10, 20)]),
        dict(start=0, end=80, xy=(700, 150), v=(-2, 0.5), wh=(45, 120), emb=1, hidden=[(15, 55)]),
        dict(start=0, end=80, xy=(400, 350), v=(0.5, -1), wh=(40, 110), emb=2, hidden=[(30, 61)])]))
    s.append(_simulate("occlusion-50fps", 4, 80, [
        dict(start=0, end=80, xy=(100, 100), v=(3, 0), wh=(40, 100), emb=0, hidden=[(10, 20)]),
        dict(start=0, end=80, xy=(700, 150), v=(-2, 0.5), wh=(45, 120), emb=1, hidden=[(15, 55)]),
        dict(start=0, end=80, xy=(400, 350), v=(0.5, -1), wh=(40, 110), emb=2, hidden=[(30, 61)])],
        frame_rate=50.0))
    s.append(_simulate("output-filter", 5, 20, [
        dict(start=0, end=20, xy=(100, 100), v=(2, 0), wh=(120, 60), emb=0),       # w/h 2: filtered
        dict(start=0, end=20, xy=(400, 100), v=(1, 1), wh=(10, 18), emb=1),        # area 180: filtered
        dict(start=0, end=20, xy=(600, 300), v=(-1, 0), wh=(80, 51), emb=2),       # w/h ~1.57: kept
        dict(start=0, end=20, xy=(300, 350), v=(0, -1), wh=(40, 100), emb=3, score=0.5),   # score 0.5: dropped
        dict(start=3, end=20, xy=(800, 200), v=(-2, 0), wh=(40, 100), emb=4, score=0.501)],
        box_noise=0.5, extra={4: [([500.0, 50.0, 540.0, 50.0], 0.9, None)],           # zero height
                              6: [([10.0, 10.0, 60.0, 130.0], 0.45, None)]}))         # low score
    s.append(_simulate("clutter", 6, 60, [
        dict(start=0, end=60, xy=(60, 60), v=(5, 2), wh=(40, 110), emb=0),
        dict(start=0, end=45, xy=(860, 60), v=(-5, 2), wh=(45, 115), emb=1),
        dict(start=8, end=60, xy=(480, 400), v=(0, -4), wh=(38, 100), emb=2),
        dict(start=0, end=60, xy=(200, 380), v=(6, -1), wh=(50, 125), emb=3),
        dict(start=20, end=60, xy=(880, 300), v=(-7, 0), wh=(42, 105), emb=4),
        dict(start=0, end=30, xy=(450, 200), v=(1, 1), wh=(44, 118), emb=5),
        dict(start=30, end=60, xy=(470, 230), v=(1, 1), wh=(44, 118), emb=6)],
        box_noise=2.0, emb_noise=0.15, miss=0.12, fp=0.6))
    s.append(_simulate("near-duplicates", 7, 30, [
        dict(start=0, end=30, xy=(200, 150), v=(3, 0), wh=(50, 120), emb=0),
        dict(start=2, end=30, xy=(203, 152), v=(3, 0), wh=(50, 120), emb=0, hidden=[(5, 9)]),
        dict(start=0, end=30, xy=(600, 150), v=(-3, 1), wh=(50, 120), emb=1, hidden=[(10, 14)]),
        dict(start=11, end=30, xy=(570, 160), v=(-3, 1), wh=(50, 120), emb=2)],
        box_noise=1.5, emb_noise=0.1))
    s.append(_simulate("fast-and-jumpy", 8, 30, [
        dict(start=0, end=30, xy=(50, 100), v=(25, 0), wh=(40, 100), emb=0),
        dict(start=0, end=30, xy=(800, 300), v=(-8, -6), wh=(60, 150), emb=1, hidden=[(12, 13), (20, 22)])],
        box_noise=6.0, emb_noise=0.3))
    return s


def frame_inputs(fr: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(boxes (N, 4) x1 y1 x2 y2, scores (N,), embeddings (N, D))`` float32 of one stored frame."""
    boxes = (np.asarray(fr["boxes_x16"], dtype=np.float64).reshape(-1, 4) / 16).astype(np.float32)
    scores = (np.asarray(fr["scores_x1024"], dtype=np.float64) / 1024).astype(np.float32)
    embs = (np.asarray(fr["embeddings_x4096"], dtype=np.float64).reshape(len(boxes), -1) / 4096).astype(np.float32)
    return boxes, scores, embs


# --- the reference ----------------------------------------------------------------------------------

def _show(git_dir: str, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def _reference_methods(git_dir: str) -> dict:
    src = _show(git_dir, "compressai_vision/model_wrappers/jde.py")
    tree = ast.parse(src)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "jde_1088x608")
    funcs = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name in ("forward", "_jde_process", "reset")]
    for fn in funcs:  # @torch.no_grad() only matters for autograd
        fn.decorator_list = []
    mod = ast.Module(body=funcs, type_ignores=[])
    ns: dict = {"torch": __import__("torch"), "Dict": dict, "List": list, "Optional": object}
    exec(compile(mod, f"{COMMIT}:compressai_vision/model_wrappers/jde.py", "exec"), ns)
    return {n.name: ns[n.name] for n in funcs}


def _import_reference(trm_src: str):
    for name in ("cv2", "matplotlib", "matplotlib.pyplot", "torchvision", "torchvision.ops"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["torchvision.ops"].nms = None
    sys.path.insert(0, trm_src)
    import jde.utils.utils as jde_utils
    from jde.tracker.basetrack import BaseTrack
    from jde.utils.kalman_filter import KalmanFilter

    jde_utils.non_max_suppression = lambda prediction, conf_thres=0.5, nms_thres=0.4: [prediction[0].clone()]
    jde_utils.scale_coords = lambda img_size, coords, img0_shape: coords
    return BaseTrack, KalmanFilter


def run_reference(stream: dict, methods: dict, BaseTrack, KalmanFilter) -> list[dict]:
    import torch

    self = types.SimpleNamespace()
    self.logger = logging.getLogger("jde-ref")
    self.logger.setLevel(logging.INFO)  # its per-frame DEBUG lines
    self.model_configs = {"iou_thres": 0.5, "conf_thres": 0.5, "nms_thres": 0.4, "min_box_area": 200,
                          "track_buffer": 30, "frame_rate": float(stream["frame_rate"])}
    self.max_time_on_hold = int(self.model_configs["frame_rate"] / 30.0 * self.model_configs["track_buffer"])
    self.kalman_filter = KalmanFilter()
    self.device = "cpu"
    self.features_at_splits = {}
    for name in ("_jde_process", "reset"):
        setattr(self, name, types.MethodType(methods[name], self))
    self.reset()
    BaseTrack._count = 0
    w, h = stream["image_size"]
    out = []
    for fr in stream["frames"]:
        boxes, scores, embs = frame_inputs(fr)
        n = len(boxes)
        pred = torch.zeros(1, N_PROPOSALS, 6 + EMB_DIM, dtype=torch.float32)
        pred[0, :n, :4] = torch.from_numpy(boxes)
        pred[0, :n, 4] = torch.from_numpy(scores)
        pred[0, :n, 6:] = torch.from_numpy(embs)
        self.darknet = lambda x, splits, is_nn_part1, _p=pred: _p
        res = methods["forward"](self, {"image": torch.zeros(3, 608, 1088), "height": h, "width": w})
        out.append({"ids": [int(i) for i in res["ids"]],
                    "tlwh": [[float(v) for v in np.asarray(t, dtype=np.float64)] for t in res["tlwhs"]]})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trm-src", required=True, help="patched Towards-Realtime-MOT source tree (holds jde/)")
    ap.add_argument("--cav-git-dir", required=True, help="a git dir holding CompressAI-Vision commit 31165daf")
    ap.add_argument("--out", default=str(GOLDEN_FILE))
    args = ap.parse_args(argv)
    BaseTrack, KalmanFilter = _import_reference(args.trm_src)
    methods = _reference_methods(args.cav_git_dir)
    import lap
    import numba
    import scipy
    import torch

    streams = build_streams()
    for st in streams:
        st["reference"] = run_reference(st, methods, BaseTrack, KalmanFilter)
    doc = {
        "source": (f"CompressAI-Vision @{COMMIT} compressai_vision/model_wrappers/jde.py jde_1088x608.forward + "
                   f"_jde_process, Towards-Realtime-MOT @{TRM_COMMIT[:8]} + CompressAI-Vision patches 0000/0001, "
                   "cython_bbox @9badb346 + float32 patch"),
        "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                     "lap": lap.__version__, "numba": numba.__version__, "torch": torch.__version__},
        "command": "python tests/golden/record_tracker_golden.py --trm-src SRC --cav-git-dir GIT_DIR",
        "embedding_dim": EMB_DIM,
        "streams": streams,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    for st in streams:
        n = sum(len(f["ids"]) for f in st["reference"])
        ids = sorted({i for f in st["reference"] for i in f["ids"]})
        print(f"{st['name']}: {len(st['frames'])} frames, {n} output boxes, ids {ids}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
