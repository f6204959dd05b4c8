"""Record the JDE golden values with the ORIGINAL implementation (run outside the repository).

Reference: Towards-Realtime-MOT at c2654cdd7b69d39af669cff90758c04436025fe1 (the commit CompressAI-Vision
@31165daf ``scripts/install.sh`` checks out) with CompressAI-Vision's
``scripts/install_utils/patches/0000-jde-package.patch`` and ``0001-jde-interface-with-compressai-vision.patch``
applied, driven by CompressAI-Vision @31165daf ``compressai_vision/model_wrappers/jde.py``
(``jde_1088x608``: ``input_to_features`` then ``features_to_output``, i.e. ``_jde_process`` and its
output filter) with ``jde_lowlevel.py`` / ``intconv2d.py``, ``integer_conv_weight: False``, the defaults of
``default.yaml`` (conf 0.5, nms 0.4, frame_rate 30, track_buffer 30, min_box_area 200), and the
input of ``datasets/utils.py`` ``JDECustomMapper`` (cv2.imread, JDE letterbox 608x1088, BGR->RGB, /255).
The three wrapper files are loaded under a minimal ``compressai_vision`` stand-in package (registry,
``BaseWrapper`` with ``device`` and ``logger``, complexity functions unused): the rest of CompressAI-Vision
(detectron2 and co.) is not needed for the model.

Setup used for the committed values (2026-12-06)::

    python3.11 -m venv /tmp/jde-ref/venv   # torch 2.14.1 + torchvision 0.29.1 CPU (DESIGN 5.6: the pair
                                           # whose torchvision.ops.nms runs on CPU), numpy 2.4.6
    /tmp/jde-ref/venv/bin/pip install scipy "opencv-python-headless<5.1" lap cython_bbox numba matplotlib
    git -C Towards-Realtime-MOT archive c2654cdd | tar -x -C /tmp/jde-ref/src; cd /tmp/jde-ref/src
    git init -q . && git apply 0000-jde-package.patch && git apply 0001-jde-interface-with-compressai-vision.patch
    PYTHONPATH=/tmp/jde-ref/src:/path/to/vcmbench /tmp/jde-ref/venv/bin/python tests/golden/record_jde_golden.py \
        --cav /path/to/CompressAI-Vision --jde-src /tmp/jde-ref/src --shared ../shared --work /tmp/jde-ref/run

(vcmbench is on the path only for ``vcmbench.tasks.jde.seeded``, which writes the seeded checkpoint the
reference then loads with ``torch.load``.)  Writes ``tests/golden/jde/seed0_pan10.json``: per frame and
split set (TVD [36, 61, 74], HiEve [105, 90, 75]) the split features (shape, mean, std, 16 seeded
samples), the detections after NMS and scaling (boxes x1y1x2y2 in frame pixels, scores, first 16
embedding dimensions), and the output tracks (ids, tlwh) after the wrapper's filter.  The STrack id
counter is a class attribute the reference never resets: it is set to 0 before each split's run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jde_golden_common as C  # noqa: E402


def _stand_in(cav: Path, root: Path) -> None:
    """A ``compressai_vision`` package holding only the three JDE wrapper files (copied, not modified)."""
    pkg = root / "compressai_vision"
    (pkg / "model_wrappers").mkdir(parents=True)
    (pkg / "utils").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "registry.py").write_text("def register_vision_model(name):\n    return lambda cls: cls\n")
    (pkg / "utils" / "__init__.py").write_text("")
    (pkg / "utils" / "measure_complexity.py").write_text(
        "def calc_complexity_nn_part1_dn53(*a, **k):\n    raise NotImplementedError\n"
        "calc_complexity_nn_part2_dn53 = calc_complexity_nn_part1_dn53\n")
    (pkg / "model_wrappers" / "__init__.py").write_text("")
    (pkg / "model_wrappers" / "base_wrapper.py").write_text(
        "import logging\nclass BaseWrapper:\n    def __init__(self, device):\n        self.device = device\n"
        "        self.logger = logging.getLogger('jde')\n")
    for f in ("jde.py", "jde_lowlevel.py", "intconv2d.py"):
        shutil.copy(cav / "compressai_vision" / "model_wrappers" / f, pkg / "model_wrappers" / f)
    sys.path.insert(0, str(root))


def _mapper(bgr: np.ndarray):
    """JDECustomMapper on an image already read by cv2.imread."""
    import torch
    from jde.utils.datasets import letterbox

    h, w, _ = bgr.shape
    image, _, _, _ = letterbox(bgr, height=608, width=1088)
    image = image[:, :, ::-1].transpose(2, 0, 1)
    image = np.ascontiguousarray(image, dtype=np.float32) / 255.0
    return {"image": torch.as_tensor(image), "height": h, "width": w}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cav", type=Path, required=True, help="CompressAI-Vision checkout (@31165daf)")
    ap.add_argument("--jde-src", type=Path, required=True, help="patched Towards-Realtime-MOT @c2654cdd")
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "jde" / "seed0_pan10.json")
    args = ap.parse_args()

    import cv2
    import torch

    torch.set_num_threads(2)
    from vcmbench.tasks.jde.seeded import seeded_state, write_checkpoint

    args.work.mkdir(parents=True, exist_ok=True)
    weights = write_checkpoint(seeded_state(C.SEED), args.work / "jde_seed0.pt")
    _stand_in(args.cav, Path(tempfile.mkdtemp(prefix="cav-", dir=args.work)))
    import jde.utils.utils as ju
    from compressai_vision.model_wrappers.jde import jde_1088x608
    from jde.tracker.basetrack import BaseTrack

    # the frames as the reference reads them: PNG files through cv2.imread
    frames = []
    for t, bgr in enumerate(C.frames_bgr(C.shared_picture(args.shared))):
        p = args.work / "img1" / f"{t + 1:06d}.png"
        p.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(p), bgr)
        frames.append(cv2.imread(str(p)))

    seen: dict = {}
    nms0, scale0 = ju.non_max_suppression, ju.scale_coords

    def nms_rec(*a, **k):
        out = nms0(*a, **k)
        seen["scores"] = out[0][:, 4].clone()
        seen["emb"] = out[0][:, 6:6 + C.EMB_DIMS].clone()
        return out

    def scale_rec(*a, **k):
        out = scale0(*a, **k)
        seen["boxes"] = out.clone()
        return out

    ju.non_max_suppression, ju.scale_coords = nms_rec, scale_rec
    record = {"reference": "Towards-Realtime-MOT@c2654cdd + CompressAI-Vision@31165daf patches and jde_1088x608",
              "torch": torch.__version__, "numpy": np.__version__, "cv2": cv2.__version__, "seed": C.SEED,
              "picture": C.PICTURE, "window": list(C.WINDOW), "step": list(C.STEP),
              "frames": [{"sha256": C.frame_sha256(f), "size": [f.shape[1], f.shape[0]]} for f in frames],
              "splits": {}}
    for name, split in C.SPLITS.items():
        BaseTrack._count = 0
        model = jde_1088x608("cpu", model_path_prefix="", cfg=str((args.jde_src / "cfg/yolov3_1088x608.cfg").resolve())[1:],
                             weights=str(weights.resolve())[1:], integer_conv_weight=False, splits=list(split))
        per_frame = []
        for bgr in frames:
            x = _mapper(bgr)
            feats = model.input_to_features([x], "cpu")
            summary = {str(i): C.summarise(feats["data"][i][0].numpy()) for i in split}
            seen.clear()
            out = model.features_to_output({"data": {i: feats["data"][i] for i in split},
                                            "org_input_size": {"height": x["height"], "width": x["width"]},
                                            "input_size": feats["input_size"]}, "cpu")
            dets = {"boxes": seen["boxes"].tolist() if seen else [], "scores": seen["scores"].tolist() if seen else [],
                    "emb": seen["emb"].tolist() if seen else []}
            per_frame.append({"features": summary, "detections": dets,
                              "tracks": {"ids": [int(i) for i in out["ids"]],
                                         "tlwh": [[float(v) for v in b] for b in out["tlwhs"]]}})
            print(name, len(per_frame), "dets", len(dets["scores"]), "tracks", out["ids"], flush=True)
        record["splits"][name] = {"layers": list(split), "frames": per_frame}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
