"""``rcnn:<model-zoo config>``: the native Faster/Mask R-CNN FPN as a vcmbench task network.

Needs only torch (no torchvision, no detectron2) and the model-zoo weights file (``weights=``,
``--task-weights``, ``VCMBENCH_RCNN_WEIGHTS`` or ``VCMBENCH_D2_WEIGHTS``; nothing is downloaded).  Split point ``fpn`` with
the detectron2 adapter's conventions: ``features(rgb)`` = ``{p2..p6}`` (256 x H/4..H/64 of the
padded resized image, float32), ``head(features, (W, H))`` = RPN + ROI heads + postprocessing.
Signature part: ``rcnn~<config>#<weights sha256[:12]>``, plus ``~unpublished`` when
``allow_unpublished_weights`` (``--allow-unpublished-weights``) admitted a file named like a
published model-zoo file whose sha256 differs from the published one (the device and torch version go to the
provenance, not the signature).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import UsageError
from ...core.hashing import file_digest
from ..base import Detections, TaskNetwork, check_rgb
from .config import get_config
from .weights import check_published, read_state, validate_state

WEIGHTS_ENV = "VCMBENCH_RCNN_WEIGHTS"


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device: str | None) -> str:
    import torch

    dev = (device or default_device()).lower()
    if dev not in ("cpu", "cuda"):
        raise UsageError(f"Task option device must be cpu or cuda; got {device!r}.")
    if dev == "cuda" and not torch.cuda.is_available():
        raise UsageError("device cuda was asked for but torch sees no CUDA device here; use --device cpu.")
    return dev


class RCNNNetwork(TaskNetwork):
    split_points = ("fpn",)
    feature_layers = ("p2", "p3", "p4", "p5", "p6")
    # classes (the config's contiguous class order: COCO's 80 or Cityscapes' 8) and input_convention are
    # set per instance from the config

    def __init__(self, model: str = "COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x", weights: str | None = None,
                 score_threshold: float = 0.05, max_detections: int = 100, device: str | None = None,
                 threads: int | None = None, allow_unpublished_weights: bool = False) -> None:
        super().__init__(score_threshold, max_detections)
        import torch

        from .model import RCNNModel

        self.cfg = get_config(model)
        self.classes = self.cfg.classes
        self.input_convention = self.cfg.input_convention
        weights = weights or os.environ.get(WEIGHTS_ENV) or os.environ.get("VCMBENCH_D2_WEIGHTS")
        if not weights:
            raise UsageError(f"rcnn:{self.cfg.name} needs its model-zoo weights file (e.g. "
                             f"{self.cfg.weights_file or 'model_final_*.pkl'}): pass --task-weights "
                             f"FILE.pkl or set {WEIGHTS_ENV}; nothing is downloaded.")
        path = Path(weights)
        if not path.is_file():
            raise UsageError(f"Weights file {path} for rcnn:{self.cfg.name} does not exist; pass the model-zoo .pkl "
                             "with --task-weights FILE.pkl.")
        self.weights_sha256 = file_digest(path, "sha256")
        # True when --allow-unpublished-weights admitted a file named like a published one whose sha256 differs
        self.unpublished = check_published(self.cfg, path, self.weights_sha256, bool(allow_unpublished_weights))
        state = validate_state(self.cfg, read_state(path), str(path))
        self.device = resolve_device(device)
        if threads is not None:
            torch.set_num_threads(int(threads))
        self.model = RCNNModel(self.cfg, state, self.device)
        self._weights = path
        self.name = f"rcnn:{self.cfg.name}"
        self.task_type = self.cfg.task_type
        self._torch = torch

    def signature(self) -> str:
        mark = "~unpublished" if self.unpublished else ""
        return f"rcnn~{Path(self.cfg.name).name}#{self.weights_sha256[:12]}{mark}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": "vcmbench native R-CNN (torch)", "device": self.device,
                "torch": self._torch.__version__, "weights_sha256": self.weights_sha256}

    def _detections(self, out: Any, w: int, h: int) -> Detections:
        boxes = out.boxes.cpu().numpy().astype(np.float64)
        scores = out.scores.cpu().numpy()
        labels = [self.classes[int(i)] for i in out.classes.cpu().numpy()]
        masks = out.masks.cpu().numpy().astype(bool) if out.masks is not None else None
        return Detections(boxes, scores, labels, masks, (w, h)).filtered(self.score_threshold, self.max_detections)

    def run_raw(self, rgb: np.ndarray) -> Any:
        """Every intermediate result (``model.RawOutputs``) for one image."""
        return self.model.run(check_rgb(rgb), self.score_threshold, self.max_detections)

    def run(self, rgb: np.ndarray) -> Detections:
        rgb = check_rgb(rgb)
        out = self.run_raw(rgb)
        return self._detections(out, rgb.shape[1], rgb.shape[0])

    def features(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        rgb = check_rgb(rgb)
        with self._torch.no_grad():
            x, _ = self.model.preprocess(rgb)
            feats = self.model.backbone(x)
        return {k: feats[k][0].cpu().numpy().astype(np.float32) for k in self.feature_layers}

    def head(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> Detections:
        from .model import resized_hw

        w, h = image_size
        image_hw = resized_hw(h, w, self.cfg.min_size_test, self.cfg.max_size_test)
        missing = [k for k in self.feature_layers if k not in features]
        if missing:
            raise UsageError(f"{self.name} head needs features {', '.join(self.feature_layers)}; missing {missing}.")
        torch = self._torch
        feats = {k: torch.as_tensor(np.ascontiguousarray(features[k], dtype=np.float32))[None].to(self.device)
                 for k in self.feature_layers}
        with torch.no_grad():
            out = self.model.heads(feats, image_hw, (h, w), self.score_threshold, self.max_detections)
        return self._detections(out, w, h)

    # -- descriptions used by studies (h11's TaskNetwork additions) --------------------------------
    def feature_info(self, image_size: tuple[int, int] | None = None) -> dict[str, dict[str, Any]]:
        """Per split layer: shape (C, H, W) for an image of ``image_size`` (W, H; default the config's
        nominal size: a 640x480 COCO image, resized to 1067x800 and padded to 1088x800, or a 2048x1024
        Cityscapes frame, kept as it is) and value range (None: unbounded)."""
        from .complexity import count

        pw, ph = count(self.model, image_size or self.cfg.nominal_size)["padded_size"]
        out = {}
        for i, k in enumerate(self.feature_layers):
            h, w = ph, pw
            for _ in range(i + 2):  # p2 = 1/4 ... p6 = 1/64, each halving rounds up
                h, w = (h + 1) // 2, (w + 1) // 2
            out[k] = {"shape": [self.cfg.fpn_channels, h, w], "range": None}
        return out

    def complexity(self, image_size: tuple[int, int] | None = None) -> dict[str, Any]:
        """Parameters and multiply-accumulates of the front (backbone + FPN) and back (heads) at ``image_size``
        (default the config's nominal size, as ``feature_info``)."""
        from .complexity import count

        return count(self.model, image_size or self.cfg.nominal_size)
