"""detectron2's FPN (``build_resnet_fpn_backbone``): 1x1 laterals, top-down nearest x2 upsampling
summed into the laterals, 3x3 outputs (256 channels, no norm, with bias), and P6 =
``max_pool2d(P5, kernel_size=1, stride=2)`` (``LastLevelMaxPool``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

LEVELS = ("p2", "p3", "p4", "p5", "p6")


class FPN:
    def __init__(self, state: dict[str, np.ndarray], device: torch.device) -> None:
        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(state[name]).to(device)

        self.lateral = {lvl: (t(f"backbone.fpn_lateral{lvl}.weight"), t(f"backbone.fpn_lateral{lvl}.bias"))
                        for lvl in range(2, 6)}
        self.output = {lvl: (t(f"backbone.fpn_output{lvl}.weight"), t(f"backbone.fpn_output{lvl}.bias"))
                       for lvl in range(2, 6)}

    def forward(self, bottom_up: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        prev = F.conv2d(bottom_up["res5"], *self.lateral[5])
        results = {"p5": F.conv2d(prev, *self.output[5], padding=1)}
        for lvl in (4, 3, 2):
            top_down = F.interpolate(prev, scale_factor=2.0, mode="nearest")
            prev = F.conv2d(bottom_up[f"res{lvl}"], *self.lateral[lvl]) + top_down
            results[f"p{lvl}"] = F.conv2d(prev, *self.output[lvl], padding=1)
        results["p6"] = F.max_pool2d(results["p5"], kernel_size=1, stride=2, padding=0)
        return {k: results[k] for k in LEVELS}
