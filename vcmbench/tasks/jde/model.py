"""The JDE forward pass in plain torch over the layer table of :mod:`.layers`, split anywhere.

Operation for operation as Towards-Realtime-MOT @c2654cdd ``models.py`` computes in eval mode
(``Darknet.forward``, ``YOLOLayer.forward`` without targets, ``utils.decode_delta_map``):

* conv ``F.conv2d`` (padding ``(k-1)//2``), then ``F.batch_norm`` with the running statistics (eps
  1e-5; BatchNorm is not folded, so the rounding is the reference's) and ``F.leaky_relu(0.1)``;
  shortcut = previous output + the ``from`` output; route = ``torch.cat`` on channels; upsample =
  ``F.interpolate(scale_factor=2, mode="nearest")``.
* YOLO layer: the 24 box/confidence channels viewed as (4 anchors, 6, H, W) and permuted to
  (4, H, W, 6); confidence = ``softmax`` over the two logits, the second one; boxes decoded on the
  grid (``gx = aw * dx + x``, ``gy = ah * dy + y``, ``gw = aw * exp(dw)``, ``gh = ah * exp(dh)`` with
  the anchors divided by the stride, then ``* stride``: centre x, y, width, height in input pixels);
  embedding = the 512 channels at the cell, ``F.normalize`` (L2, eps 1e-12), the same for the four
  anchors of a cell.  Outputs are concatenated in layer order 85, 100, 115, each in (anchor, y, x)
  order: 4 * (19*34 + 38*68 + 76*136) = 54264 rows, as the reference asserts.

Only the rows above the confidence threshold get their embedding normalised (the reference
normalises every row and keeps the same ones); everything else is computed as the reference does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .layers import (
    ANCHORS,
    BN_EPS,
    EMBEDDING_DIM,
    INPUT_H,
    INPUT_W,
    LAYERS,
    LEAKY_SLOPE,
    NUM_ANCHORS,
    YOLO_LAYERS,
    needed,
)


class JDEModel:
    """Parameters (torch tensors) and the forward pass, split at any layer set."""

    def __init__(self, state: dict[str, np.ndarray], device: str = "cpu") -> None:
        import torch

        self.torch = torch
        self.device = device
        self.params: dict[int, dict[str, Any]] = {}
        for i, lay in enumerate(LAYERS):
            if lay.kind != "conv":
                continue
            p: dict[str, Any] = {"w": torch.from_numpy(np.ascontiguousarray(state[f"module_list.{i}.conv_{i}.weight"]))}
            if lay.bn:
                for name in ("weight", "bias", "running_mean", "running_var"):
                    p[name] = torch.from_numpy(np.ascontiguousarray(state[f"module_list.{i}.batch_norm_{i}.{name}"]))
            else:
                p["b"] = torch.from_numpy(np.ascontiguousarray(state[f"module_list.{i}.conv_{i}.bias"]))
            self.params[i] = {k: v.to(device) for k, v in p.items()}

    # ------------------------------------------------------------------------------------------- layers
    def _layer(self, i: int, outs: dict[int, Any], x_in: Any) -> Any:
        import torch.nn.functional as F

        lay = LAYERS[i]
        src = [x_in if j < 0 else outs[j] for j in lay.inputs]
        if lay.kind == "conv":
            p = self.params[i]
            y = F.conv2d(src[0], p["w"], p.get("b"), lay.stride, (lay.k - 1) // 2)
            if lay.bn:
                y = F.batch_norm(y, p["running_mean"], p["running_var"], p["weight"], p["bias"], False, 0.1, BN_EPS)
            if lay.leaky:
                y = F.leaky_relu(y, LEAKY_SLOPE)
            return y
        if lay.kind == "shortcut":
            return src[0] + src[1]
        if lay.kind == "route":
            return src[0] if len(src) == 1 else self.torch.cat(src, 1)
        if lay.kind == "upsample":
            return F.interpolate(src[0], scale_factor=2, mode="nearest")
        return src[0]  # yolo: decoded by _yolo from the route it reads

    def run_layers(self, targets: set[int], given: dict[int, Any], x_in: Any = None) -> dict[int, Any]:
        """Outputs of every layer needed for ``targets`` from the known outputs ``given`` (and the input)."""
        outs = dict(given)
        for i in needed(set(targets), set(given)):
            outs[i] = self._layer(i, outs, x_in)
        return outs

    def front(self, x: Any, split: tuple[int, ...]) -> dict[int, Any]:
        """The split layers' outputs (1, C, H, W) from the (1, 3, 608, 1088) input."""
        outs = self.run_layers(set(split), {}, x)
        return {i: outs[i] for i in split}

    def back(self, feats: dict[int, Any], conf_thres: float) -> tuple[Any, Any]:
        """From the split outputs to the rows above ``conf_thres``: ``(boxes_xywh (N, 4), conf (N,),
        emb (N, 512))`` as the reference's ``pred[:, pred[0, :, 4] > conf_thres]`` holds them (its columns
        0-3, 4 and 6-517), in the reference's row order."""
        torch = self.torch
        outs = self.run_layers(set(YOLO_LAYERS), feats)
        boxes, confs, embs = [], [], []
        for y in YOLO_LAYERS:
            b, c, e = self._yolo(outs[LAYERS[y].inputs[0]], LAYERS[y].anchor_mask, conf_thres)
            boxes.append(b)
            confs.append(c)
            embs.append(e)
        return torch.cat(boxes), torch.cat(confs), torch.cat(embs)

    def _yolo(self, p_cat: Any, mask: tuple[int, ...], conf_thres: float) -> tuple[Any, Any, Any]:
        torch = self.torch
        import torch.nn.functional as F

        nB, _, nGh, nGw = p_cat.shape
        stride = INPUT_W / nGw  # models.create_grids: img_size[0] / nGw
        assert stride == INPUT_H / nGh
        nA = NUM_ANCHORS
        p = p_cat[:, :nA * 6].reshape(nB, nA, 6, nGh, nGw).permute(0, 1, 3, 4, 2).contiguous()
        p_emb = p_cat[:, nA * 6:].permute(0, 2, 3, 1).contiguous()  # (1, H, W, 512)
        p_box = p[..., :4]
        p_conf = torch.softmax(p[..., 4:6].permute(0, 4, 1, 2, 3), dim=1)[:, 1, ...]  # (1, nA, H, W)
        anchors = torch.tensor([ANCHORS[k] for k in mask], dtype=torch.float32) / stride
        anchors = anchors.to(p_box)
        yy, xx = torch.meshgrid(torch.arange(nGh), torch.arange(nGw), indexing="ij")
        mesh = torch.stack([xx, yy], dim=0).to(p_box.device).unsqueeze(0).repeat(nA, 1, 1, 1).float()
        wh = anchors.unsqueeze(-1).unsqueeze(-1).repeat(1, 1, nGh, nGw)
        anchor_mesh = torch.cat([mesh, wh], dim=1).permute(0, 2, 3, 1).contiguous()  # (nA, H, W, 4)
        a = anchor_mesh.reshape(-1, 4)
        d = p_box.reshape(-1, 4)
        gx = a[:, 2] * d[:, 0] + a[:, 0]
        gy = a[:, 3] * d[:, 1] + a[:, 1]
        gw = a[:, 2] * torch.exp(d[:, 2])
        gh = a[:, 3] * torch.exp(d[:, 3])
        box = torch.stack([gx, gy, gw, gh], dim=1) * stride  # (nA*H*W, 4)
        conf = p_conf.reshape(-1)
        keep = torch.nonzero(conf > conf_thres).reshape(-1)
        cell = keep % (nGh * nGw)
        emb = F.normalize(p_emb.reshape(nGh * nGw, EMBEDDING_DIM)[cell], dim=-1)
        return box[keep], conf[keep], emb


def input_tensor(letterboxed: np.ndarray) -> Any:
    """(1, 3, 608, 1088) float32 in [0, 1] from the letterboxed RGB uint8 image (``JDECustomMapper``:
    ``np.ascontiguousarray(img, dtype=np.float32) / 255.0`` on the RGB, CHW array)."""
    import torch

    chw = np.ascontiguousarray(letterboxed.transpose(2, 0, 1), dtype=np.float32) / 255.0
    return torch.from_numpy(chw)[None]
