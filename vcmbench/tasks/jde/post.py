"""JDE's input letterbox and its detection post-processing (NMS, scaling back to the frame).

Sources (Towards-Realtime-MOT @c2654cdd with CompressAI-Vision @31165daf's patches and wrapper):

* Input: CompressAI-Vision ``datasets/utils.py`` ``JDECustomMapper`` (the TVD/HiEve ``TrackingDataset``
  mapper, ``patch_size [608, 1088]`` in ``eval_on_{tvd,hieve}_*.sh``): ``cv2.imread`` (BGR), JDE's
  ``utils/datasets.letterbox(img, height=608, width=1088)`` — ``ratio = min(608/h, 1088/w)``,
  ``new = (round(w*ratio), round(h*ratio))`` (Python ``round``), ``cv2.resize(..., INTER_AREA)``,
  borders ``top, bottom = round(dh - 0.1), round(dh + 0.1)`` (``left, right`` likewise) filled by
  ``cv2.copyMakeBorder`` with ``(127.5, 127.5, 127.5)`` — then BGR->RGB, CHW, ``float32 / 255``.
  Resizing and padding act per channel alike, so letterboxing the RGB frame gives the same array.
* Detections: ``model_wrappers/jde.py`` ``_jde_process``: rows with confidence > ``conf_thres``
  (0.5), JDE's ``utils.non_max_suppression(pred, conf_thres, nms_thres=0.4)`` ("standard": centre
  boxes to corners, ``torchvision.ops.nms`` — here ``rcnn.ops.nms``, torchvision's CPU kernel), then
  the patched ``utils.scale_coords((608, 1088), boxes, (h, w))``: ``gain = min(1088/w, 608/h)``,
  subtract ``pad = (1088 - w*gain)/2`` (x) and ``(608 - h*gain)/2`` (y), divide by ``gain``, clamp at
  0 (no upper clamp).  Detection = ``x1, y1, x2, y2``, score = object confidence, embedding =
  columns 6.. of the row (already L2-normalised by the YOLO layer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .layers import INPUT_H, INPUT_W


def letterbox(rgb: np.ndarray, height: int = INPUT_H, width: int = INPUT_W) -> np.ndarray:
    """JDE's ``letterbox`` on an HxWx3 uint8 image (any channel order): resized with INTER_AREA into
    ``width x height`` keeping the aspect, grey (127.5 -> 128) borders."""
    import cv2

    h, w = rgb.shape[:2]
    ratio = min(float(height) / h, float(width) / w)
    new_w, new_h = round(w * ratio), round(h * ratio)
    dw, dh = (width - new_w) / 2, (height - new_h) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    img = cv2.resize(np.ascontiguousarray(rgb), (new_w, new_h), interpolation=cv2.INTER_AREA)
    return cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(127.5, 127.5, 127.5))


def postprocess(box_xywh: Any, conf: Any, emb: Any, nms_thres: float, frame_hw: tuple[int, int]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes x1y1x2y2 in frame pixels float32 (N, 4), scores (N,), embeddings (N, 512)) after NMS, in
    the reference's order (decreasing score, ties in row order)."""
    import torch

    from ..rcnn.ops import nms

    if box_xywh.shape[0] == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, emb.shape[1]), np.float32)
    xy = torch.zeros_like(box_xywh)  # utils.xywh2xyxy on a float32 tensor
    xy[:, 0] = box_xywh[:, 0] - box_xywh[:, 2] / 2
    xy[:, 1] = box_xywh[:, 1] - box_xywh[:, 3] / 2
    xy[:, 2] = box_xywh[:, 0] + box_xywh[:, 2] / 2
    xy[:, 3] = box_xywh[:, 1] + box_xywh[:, 3] / 2
    keep = nms(xy, conf, nms_thres)
    boxes = xy[keep].clone()
    h0, w0 = frame_hw
    gain = min(float(INPUT_W) / w0, float(INPUT_H) / h0)  # patched scale_coords
    pad_x = (INPUT_W - w0 * gain) / 2
    pad_y = (INPUT_H - h0 * gain) / 2
    boxes[:, [0, 2]] -= pad_x
    boxes[:, [1, 3]] -= pad_y
    boxes[:, 0:4] /= gain
    boxes[:, :4] = torch.clamp(boxes[:, :4], min=0)
    return boxes.cpu().numpy(), conf[keep].cpu().numpy(), emb[keep].cpu().numpy()
