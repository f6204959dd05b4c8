"""detectron2's RPN at inference (``StandardRPNHead`` + ``RPN.predict_proposals`` +
``find_top_rpn_proposals``): shared 3x3 conv + ReLU, 1x1 objectness and deltas per level,
``DefaultAnchorGenerator`` anchors (one size per level, aspect ratios 0.5/1/2, offset 0), deltas
decoded with weights 1/1/1/1, per level the top ``pre_nms_topk`` logits, clip to the image,
drop empty boxes, NMS 0.7 per level (batched), keep ``post_nms_topk``."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .config import RCNNConfig
from .ops import apply_deltas, batched_nms, clip_boxes, nonempty

STRIDES = (4, 8, 16, 32, 64)


def cell_anchors(size: float, aspect_ratios: tuple[float, ...]) -> torch.Tensor:
    anchors = []
    area = size ** 2.0
    for ar in aspect_ratios:
        w = math.sqrt(area / ar)
        h = ar * w
        anchors.append([-w / 2.0, -h / 2.0, w / 2.0, h / 2.0])
    return torch.tensor(anchors)


def grid_anchors(base: torch.Tensor, stride: int, hw: tuple[int, int], offset: float) -> torch.Tensor:
    h, w = hw
    dev = base.device
    shifts_x = torch.arange(offset * stride, w * stride, step=stride, dtype=torch.float32, device=dev)
    shifts_y = torch.arange(offset * stride, h * stride, step=stride, dtype=torch.float32, device=dev)
    shift_y, shift_x = torch.meshgrid(shifts_y, shifts_x, indexing="ij")
    shift_x = shift_x.reshape(-1)
    shift_y = shift_y.reshape(-1)
    shifts = torch.stack((shift_x, shift_y, shift_x, shift_y), dim=1)
    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)


class RPN:
    def __init__(self, cfg: RCNNConfig, state: dict[str, np.ndarray], device: torch.device) -> None:
        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(state[f"proposal_generator.rpn_head.{name}"]).to(device)

        self.cfg = cfg
        self.conv = (t("conv.weight"), t("conv.bias"))
        self.logits = (t("objectness_logits.weight"), t("objectness_logits.bias"))
        self.deltas = (t("anchor_deltas.weight"), t("anchor_deltas.bias"))
        self.base = [cell_anchors(s, cfg.aspect_ratios).to(device) for s in cfg.anchor_sizes]

    def forward(self, features: list[torch.Tensor], image_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(proposal boxes (R, 4), objectness logits (R,)) for one image (batch of 1)."""
        cfg = self.cfg
        props, logits, levels = [], [], []
        for lvl, (x, stride, base) in enumerate(zip(features, STRIDES, self.base)):
            hidden = F.relu(F.conv2d(x, *self.conv, padding=1))
            lg = F.conv2d(hidden, *self.logits)  # (1, A, H, W)
            dl = F.conv2d(hidden, *self.deltas)  # (1, 4A, H, W)
            n, a, h, w = lg.shape
            lg = lg.permute(0, 2, 3, 1).flatten(1)[0]
            dl = dl.view(n, a, 4, h, w).permute(0, 3, 4, 1, 2).flatten(1, -2)[0]
            anchors = grid_anchors(base, stride, (h, w), cfg.anchor_offset)
            boxes = apply_deltas(dl, anchors, (1.0, 1.0, 1.0, 1.0), cfg.scale_clamp)
            k = min(cfg.rpn_pre_nms_topk, lg.shape[0])
            top, idx = lg.topk(k)
            props.append(boxes[idx])
            logits.append(top)
            levels.append(torch.full((k,), lvl, dtype=torch.int64, device=x.device))
        boxes = torch.cat(props)
        scores = torch.cat(logits)
        lvl = torch.cat(levels)
        valid = torch.isfinite(boxes).all(dim=1) & torch.isfinite(scores)
        if not bool(valid.all()):
            boxes, scores, lvl = boxes[valid], scores[valid], lvl[valid]
        boxes = clip_boxes(boxes, image_hw)
        keep = nonempty(boxes, cfg.rpn_min_box_size)
        if int(keep.sum()) != len(boxes):
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
        keep = batched_nms(boxes, scores, lvl, cfg.rpn_nms)[: cfg.rpn_post_nms_topk]
        return boxes[keep], scores[keep]
