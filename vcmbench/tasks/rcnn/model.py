"""The native Faster/Mask R-CNN FPN: preprocessing, the split at the FPN, and detectron2's postprocessing.

Preprocessing = detectron2's ``DefaultPredictor`` + ``GeneralizedRCNN.preprocess_image``: RGB ->
BGR, ``ResizeShortestEdge(MIN_SIZE_TEST, MAX_SIZE_TEST)`` (800/1333 COCO, 1024/2048 Cityscapes) with
PIL bilinear on the uint8 image (as ``ResizeTransform`` does), float32, ``(x - mean) / std``, zero
padding right/bottom to a multiple of 32.
Postprocessing = ``detector_postprocess``: boxes scaled by (W / w, H / h) of the resized image,
clipped to the original size, empty boxes dropped, masks pasted at threshold 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .backbone import ResNet
from .config import RCNNConfig
from .fpn import FPN, LEVELS
from .ops import clip_boxes, nonempty, paste_masks
from .roi_heads import POOL_LEVELS, BoxHead, MaskHead
from .rpn import RPN


def resized_hw(h: int, w: int, short: int, max_size: int) -> tuple[int, int]:
    """(newh, neww) of ``ResizeShortestEdge.get_output_shape``."""
    size = short * 1.0
    scale = size / min(h, w)
    if h < w:
        newh, neww = size, scale * w
    else:
        newh, neww = scale * h, size
    if max(newh, neww) > max_size:
        scale = max_size * 1.0 / max(newh, neww)
        newh = newh * scale
        neww = neww * scale
    return int(newh + 0.5), int(neww + 0.5)


@dataclass
class RawOutputs:
    """Everything one image goes through, for equality checks (tensors on the model's device)."""

    image_hw: tuple[int, int]
    features: dict[str, torch.Tensor]
    proposals: torch.Tensor
    objectness: torch.Tensor
    class_logits: torch.Tensor
    boxes: torch.Tensor  # original-image pixels
    scores: torch.Tensor
    classes: torch.Tensor
    masks: torch.Tensor | None  # (D, H, W) bool


class RCNNModel:
    def __init__(self, cfg: RCNNConfig, state: dict[str, np.ndarray], device: str = "cpu") -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.bottom_up = ResNet(cfg, state, self.device)
        self.fpn = FPN(state, self.device)
        self.rpn = RPN(cfg, state, self.device)
        self.box_head = BoxHead(cfg, state, self.device)
        self.mask_head = MaskHead(cfg, state, self.device) if cfg.mask_on else None
        self.mean = torch.tensor(cfg.pixel_mean, dtype=torch.float32, device=self.device).view(-1, 1, 1)
        self.std = torch.tensor(cfg.pixel_std, dtype=torch.float32, device=self.device).view(-1, 1, 1)

    # -- preprocessing ----------------------------------------------------------------------------
    def resize(self, rgb: np.ndarray) -> np.ndarray:
        """The network's input image (BGR or RGB per config, uint8, resized)."""
        from PIL import Image

        img = rgb[:, :, ::-1] if self.cfg.input_format == "BGR" else rgb
        h, w = img.shape[:2]
        nh, nw = resized_hw(h, w, self.cfg.min_size_test, self.cfg.max_size_test)
        pil = Image.fromarray(np.ascontiguousarray(img)).resize((nw, nh), Image.BILINEAR)
        return np.asarray(pil)

    def preprocess(self, rgb: np.ndarray) -> tuple[torch.Tensor, tuple[int, int]]:
        """(padded normalised (1, 3, H32, W32) tensor, resized (h, w))."""
        img = self.resize(rgb)
        t = torch.as_tensor(np.ascontiguousarray(img.astype("float32").transpose(2, 0, 1))).to(self.device)
        t = (t - self.mean) / self.std
        h, w = t.shape[-2:]
        d = self.cfg.size_divisibility
        ph, pw = (h + d - 1) // d * d, (w + d - 1) // d * d
        t = F.pad(t, [0, pw - w, 0, ph - h], value=0.0)
        return t[None], (int(h), int(w))

    # -- the two halves ---------------------------------------------------------------------------
    def backbone(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.fpn.forward(self.bottom_up.forward(x))

    def heads(self, feats: dict[str, torch.Tensor], image_hw: tuple[int, int], out_hw: tuple[int, int],
              score_threshold: float, max_detections: int) -> RawOutputs:
        proposals, objectness = self.rpn.forward([feats[k] for k in LEVELS], image_hw)
        pool_feats = [feats[k] for k in POOL_LEVELS]
        logits, deltas = self.box_head.predict(pool_feats, proposals)
        boxes, scores, classes = self.box_head.inference(logits, deltas, proposals, image_hw, score_threshold,
                                                         max_detections)
        mask_probs = None
        if self.mask_head is not None:
            mask_probs = self.mask_head.forward(pool_feats, boxes, classes)
        # detector_postprocess
        out_h, out_w = out_hw
        scale_x, scale_y = out_w / image_hw[1], out_h / image_hw[0]
        boxes = boxes.clone()
        boxes[:, 0::2] *= scale_x
        boxes[:, 1::2] *= scale_y
        boxes = clip_boxes(boxes, (out_h, out_w))
        keep = nonempty(boxes)
        boxes, scores, classes = boxes[keep], scores[keep], classes[keep]
        masks = None
        if mask_probs is not None:
            masks = paste_masks(mask_probs[keep], boxes, (out_h, out_w), 0.5)
        return RawOutputs(image_hw, feats, proposals, objectness, logits, boxes, scores, classes, masks)

    @torch.no_grad()
    def run(self, rgb: np.ndarray, score_threshold: float = 0.05, max_detections: int = 100) -> RawOutputs:
        x, image_hw = self.preprocess(rgb)
        feats = self.backbone(x)
        return self.heads(feats, image_hw, rgb.shape[:2], score_threshold, max_detections)

    def describe(self) -> dict[str, Any]:
        return {"config": self.cfg.name, "device": str(self.device)}
