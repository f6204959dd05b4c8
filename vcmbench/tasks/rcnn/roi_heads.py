"""detectron2's ``StandardROIHeads`` at inference: multi-level ROI pooling (``ROIPooler`` with
ROIAlignV2, canonical level assignment ``floor(4 + log2(sqrt(area) / 224 + 1e-8))`` clamped to
p2..p5), ``FastRCNNConvFCHead`` (flatten, fc + ReLU x2), ``FastRCNNOutputLayers`` (softmax over
K+1, class-specific boxes decoded with weights 10/10/5/5, clip, score > threshold, per-class NMS,
top-k) and ``MaskRCNNConvUpsampleHead`` (4 x conv3x3 + ReLU, deconv 2x2/2 + ReLU, 1x1
predictor, the predicted class's channel through a sigmoid)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .config import RCNNConfig
from .ops import apply_deltas, batched_nms, clip_boxes, roi_align

POOL_LEVELS = ("p2", "p3", "p4", "p5")


def assign_levels(boxes: torch.Tensor, min_level: int, max_level: int, canonical_size: int,
                  canonical_level: int) -> torch.Tensor:
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    sizes = torch.sqrt(area)
    lv = torch.floor(canonical_level + torch.log2(sizes / canonical_size + 1e-8))
    lv = torch.clamp(lv, min=min_level, max=max_level)
    return lv.to(torch.int64) - min_level


def pool(features: list[torch.Tensor], boxes: torch.Tensor, resolution: int, cfg: RCNNConfig) -> torch.Tensor:
    """ROIPooler over p2..p5 for the boxes of one image."""
    scales = [1.0 / 2 ** lvl for lvl in range(2, 6)]
    min_level = int(-math.log2(scales[0]))
    max_level = int(-math.log2(scales[-1]))
    n = boxes.shape[0]
    ch = features[0].shape[1]
    out = features[0].new_zeros((n, ch, resolution, resolution))
    if n == 0:
        return out
    rois = torch.cat([boxes.new_zeros((n, 1)), boxes], dim=1)
    levels = assign_levels(boxes, min_level, max_level, cfg.canonical_box_size, cfg.canonical_level)
    for i, (feat, scale) in enumerate(zip(features, scales)):
        inds = torch.nonzero(levels == i, as_tuple=True)[0]
        if inds.numel():
            out[inds] = roi_align(feat, rois[inds], resolution, scale)
    return out


class BoxHead:
    def __init__(self, cfg: RCNNConfig, state: dict[str, np.ndarray], device: torch.device) -> None:
        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(state[name]).to(device)

        self.cfg = cfg
        self.fcs = [(t(f"roi_heads.box_head.fc{i}.weight"), t(f"roi_heads.box_head.fc{i}.bias"))
                    for i in range(1, cfg.box_num_fc + 1)]
        self.cls = (t("roi_heads.box_predictor.cls_score.weight"), t("roi_heads.box_predictor.cls_score.bias"))
        self.bbox = (t("roi_heads.box_predictor.bbox_pred.weight"), t("roi_heads.box_predictor.bbox_pred.bias"))

    def predict(self, features: list[torch.Tensor], proposals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(class logits (R, K+1), box deltas (R, 4K)) for the proposals."""
        x = pool(features, proposals, self.cfg.box_pooler_resolution, self.cfg)
        x = torch.flatten(x, start_dim=1)
        for w, b in self.fcs:
            x = F.relu(F.linear(x, w, b))
        return F.linear(x, *self.cls), F.linear(x, *self.bbox)

    def inference(self, logits: torch.Tensor, deltas: torch.Tensor, proposals: torch.Tensor,
                  image_hw: tuple[int, int], score_threshold: float,
                  topk: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(boxes (D, 4), scores (D,), classes (D,)) as ``fast_rcnn_inference_single_image``."""
        cfg = self.cfg
        boxes = apply_deltas(deltas, proposals, cfg.box_reg_weights, cfg.scale_clamp)
        scores = F.softmax(logits, dim=-1)
        valid = torch.isfinite(boxes).all(dim=1) & torch.isfinite(scores).all(dim=1)
        if not bool(valid.all()):
            boxes, scores = boxes[valid], scores[valid]
        scores = scores[:, :-1]
        k = boxes.shape[1] // 4
        boxes = clip_boxes(boxes.reshape(-1, 4), image_hw).view(-1, k, 4)
        mask = scores > score_threshold
        inds = mask.nonzero()
        boxes = boxes[inds[:, 0], 0] if k == 1 else boxes[mask]
        scores = scores[mask]
        keep = batched_nms(boxes, scores, inds[:, 1], cfg.roi_nms)
        if topk >= 0:
            keep = keep[:topk]
        return boxes[keep], scores[keep], inds[keep, 1]


class MaskHead:
    def __init__(self, cfg: RCNNConfig, state: dict[str, np.ndarray], device: torch.device) -> None:
        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(state[f"roi_heads.mask_head.{name}"]).to(device)

        self.cfg = cfg
        self.convs = [(t(f"mask_fcn{i}.weight"), t(f"mask_fcn{i}.bias")) for i in range(1, cfg.mask_num_conv + 1)]
        self.deconv = (t("deconv.weight"), t("deconv.bias"))
        self.predictor = (t("predictor.weight"), t("predictor.bias"))

    def forward(self, features: list[torch.Tensor], boxes: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """Mask probabilities (D, 28, 28) of each box's class."""
        x = pool(features, boxes, self.cfg.mask_pooler_resolution, self.cfg)
        for w, b in self.convs:
            x = F.relu(F.conv2d(x, w, b, padding=1))
        x = F.relu(F.conv_transpose2d(x, *self.deconv, stride=2))
        logits = F.conv2d(x, *self.predictor)
        if logits.shape[1] == 1:
            return logits[:, 0].sigmoid()
        idx = torch.arange(logits.shape[0], device=logits.device)
        return logits[idx, classes].sigmoid()
