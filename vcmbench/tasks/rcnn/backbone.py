"""ResNet / ResNeXt bottom-up of detectron2 (``build_resnet_backbone``) with FrozenBN folded into the convs.

detectron2's FrozenBatchNorm2d computes ``x * scale + shift`` with ``scale = weight *
rsqrt(running_var + eps)``, ``shift = bias - running_mean * scale`` (eps 1e-5); folding multiplies
the conv weights by ``scale`` and adds ``shift`` as the conv bias (equal up to float rounding).
Stem: conv 7x7/2 (pad 3), ReLU, max-pool 3x3/2 (pad 1).  Bottleneck: 1x1, 3x3 (groups,
dilation 1), 1x1, projection shortcut where the channel count changes; the stride sits in the
first 1x1 when ``stride_in_1x1`` (MSRA models) else in the 3x3 (C2 models).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .config import RCNNConfig

BN_EPS = 1e-5


def fold_conv(state: dict[str, np.ndarray], name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of conv ``name`` with its FrozenBN folded in (computed in float32 like detectron2)."""
    w = torch.from_numpy(state[f"{name}.weight"])
    g = torch.from_numpy(state[f"{name}.norm.weight"])
    b = torch.from_numpy(state[f"{name}.norm.bias"])
    mean = torch.from_numpy(state[f"{name}.norm.running_mean"])
    var = torch.from_numpy(state[f"{name}.norm.running_var"])
    scale = g * (var + BN_EPS).rsqrt()
    shift = b - mean * scale
    return (w * scale[:, None, None, None]).contiguous(), shift.contiguous()


class ResNet:
    """Bottom-up network: ``forward(x) -> {"res2": .., "res5": ..}``."""

    def __init__(self, cfg: RCNNConfig, state: dict[str, np.ndarray], device: torch.device) -> None:
        bu = "backbone.bottom_up"
        self.cfg = cfg
        self.stem = tuple(t.to(device) for t in fold_conv(state, f"{bu}.stem.conv1"))
        self.stages: list[list[dict]] = []
        in_ch, out_ch = 64, 256
        for si, nblocks in enumerate(cfg.blocks):
            first_stride = 1 if si == 0 else 2
            blocks = []
            for bi in range(nblocks):
                pre = f"{bu}.res{si + 2}.{bi}"
                stride = first_stride if bi == 0 else 1
                blk = {
                    "conv1": tuple(t.to(device) for t in fold_conv(state, f"{pre}.conv1")),
                    "conv2": tuple(t.to(device) for t in fold_conv(state, f"{pre}.conv2")),
                    "conv3": tuple(t.to(device) for t in fold_conv(state, f"{pre}.conv3")),
                    "shortcut": (tuple(t.to(device) for t in fold_conv(state, f"{pre}.shortcut"))
                                 if in_ch != out_ch else None),
                    "stride_1x1": stride if cfg.stride_in_1x1 else 1,
                    "stride_3x3": 1 if cfg.stride_in_1x1 else stride,
                    "stride": stride,
                }
                blocks.append(blk)
                in_ch = out_ch
            self.stages.append(blocks)
            out_ch *= 2

    def _block(self, x: torch.Tensor, blk: dict) -> torch.Tensor:
        groups = self.cfg.num_groups
        if blk["shortcut"] is not None:
            shortcut = F.conv2d(x, *blk["shortcut"], stride=blk["stride"])
        else:
            shortcut = x
        out = F.relu_(F.conv2d(x, *blk["conv1"], stride=blk["stride_1x1"]))
        out = F.relu_(F.conv2d(out, *blk["conv2"], stride=blk["stride_3x3"], padding=1, groups=groups))
        out = F.conv2d(out, *blk["conv3"])
        out += shortcut
        return F.relu_(out)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = F.relu_(F.conv2d(x, *self.stem, stride=2, padding=3))
        x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        outs = {}
        for si, blocks in enumerate(self.stages):
            for blk in blocks:
                x = self._block(x, blk)
            outs[f"res{si + 2}"] = x
        return outs

    def params_per_stage(self) -> int:
        n = sum(t.numel() for t in self.stem)
        for blocks in self.stages:
            for blk in blocks:
                for k in ("conv1", "conv2", "conv3", "shortcut"):
                    if blk[k] is not None:
                        n += sum(t.numel() for t in blk[k])
        return n
