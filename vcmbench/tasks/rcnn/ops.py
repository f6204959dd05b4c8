"""Box and region operators of detectron2's R-CNN inference, in plain torch (no torchvision).

Written to equal what detectron2 calls, operation for operation where the rounding matters:

* ``nms`` = torchvision's CPU kernel (``torchvision::nms``): scores sorted descending, greedy,
  IoU = inter / (area_i + area_j - inter) in the boxes' dtype, suppress when IoU > threshold.
  Vectorised: the IoU matrix is computed at once, the greedy pass walks the kept boxes only.
* ``batched_nms`` = ``torchvision.ops.batched_nms`` (what detectron2's ``batched_nms`` calls):
  per-class loop above 4000 coordinates on CPU (100000 on GPU), else the coordinate-offset trick,
  whose rounding is reproduced.
* ``roi_align`` = ``torchvision.ops.roi_align`` forward with ``aligned=True`` and
  ``sampling_ratio=0`` (detectron2's ROIAlignV2): per-ROI adaptive grid ``ceil(roi / bins)``,
  bilinear samples with the kernel's boundary rules, average per bin.  Vectorised over ROIs
  (grouped by grid size, chunked to bound memory).
* ``apply_deltas`` = detectron2 ``Box2BoxTransform.apply_deltas``; ``clip_boxes``/``nonempty`` =
  ``Boxes.clip``/``Boxes.nonempty``; ``paste_masks`` = ``detectron2.layers.mask_ops.paste_masks_in_image``.

Hand-written rather than a library because exactness with detectron2 demands it (torchvision has
no CPU build for the torch this project pins).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


# --------------------------------------------------------------------------------------------- NMS
def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices kept by greedy NMS, in decreasing score order (torchvision ``nms`` semantics)."""
    n = boxes.shape[0]
    if n == 0:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    order = torch.sort(scores, descending=True, stable=True)[1]
    b = boxes[order]
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    keep_sorted = torch.zeros(n, dtype=torch.bool)
    removed = torch.zeros(n, dtype=torch.bool)
    chunk = 2048
    # suppression matrix row by row block: over[i, j] = IoU(i, j) > thr, for j > i
    over_rows = []
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        xx1 = torch.maximum(x1[s:e, None], x1[None, :])
        yy1 = torch.maximum(y1[s:e, None], y1[None, :])
        xx2 = torch.minimum(x2[s:e, None], x2[None, :])
        yy2 = torch.minimum(y2[s:e, None], y2[None, :])
        w = torch.clamp(xx2 - xx1, min=0)
        h = torch.clamp(yy2 - yy1, min=0)
        inter = w * h
        ovr = inter / (areas[s:e, None] + areas[None, :] - inter)
        over_rows.append((ovr.double() > float(iou_threshold)).cpu())
    over = torch.cat(over_rows).numpy()
    removed_np = removed.numpy()
    keep_np = keep_sorted.numpy()
    for i in range(n):
        if removed_np[i]:
            continue
        keep_np[i] = True
        row = over[i]
        removed_np[i + 1:] |= row[i + 1:]
    kept = torch.from_numpy(keep_np).to(order.device)
    return order[kept]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """NMS within each value of ``idxs``; indices sorted by decreasing score (torchvision's strategy)."""
    boxes = boxes.float()
    limit = 4000 if boxes.device.type == "cpu" else 100_000
    if boxes.numel() > limit:
        keep_mask = torch.zeros_like(scores, dtype=torch.bool)
        for class_id in torch.unique(idxs):
            curr = torch.where(idxs == class_id)[0]
            keep_mask[curr[nms(boxes[curr], scores[curr], iou_threshold)]] = True
        keep = torch.where(keep_mask)[0]
        return keep[torch.sort(scores[keep], descending=True, stable=True)[1]]
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes) * (max_coordinate + torch.tensor(1).to(boxes))
    return nms(boxes + offsets[:, None], scores, iou_threshold)


# ------------------------------------------------------------------------------------------ boxes
def apply_deltas(deltas: torch.Tensor, boxes: torch.Tensor, weights: tuple[float, float, float, float],
                 scale_clamp: float) -> torch.Tensor:
    """detectron2 ``Box2BoxTransform.apply_deltas``: ``deltas`` (N, k*4) relative to ``boxes`` (N, 4)."""
    deltas = deltas.float()
    boxes = boxes.to(deltas.dtype)
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    ctr_x = boxes[:, 0] + 0.5 * widths
    ctr_y = boxes[:, 1] + 0.5 * heights
    wx, wy, ww, wh = weights
    dx = deltas[:, 0::4] / wx
    dy = deltas[:, 1::4] / wy
    dw = deltas[:, 2::4] / ww
    dh = deltas[:, 3::4] / wh
    dw = torch.clamp(dw, max=scale_clamp)
    dh = torch.clamp(dh, max=scale_clamp)
    pred_ctr_x = dx * widths[:, None] + ctr_x[:, None]
    pred_ctr_y = dy * heights[:, None] + ctr_y[:, None]
    pred_w = torch.exp(dw) * widths[:, None]
    pred_h = torch.exp(dh) * heights[:, None]
    x1 = pred_ctr_x - 0.5 * pred_w
    y1 = pred_ctr_y - 0.5 * pred_h
    x2 = pred_ctr_x + 0.5 * pred_w
    y2 = pred_ctr_y + 0.5 * pred_h
    return torch.stack((x1, y1, x2, y2), dim=-1).reshape(deltas.shape)


def clip_boxes(boxes: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
    """``Boxes.clip``: x to [0, W], y to [0, H]."""
    h, w = size_hw
    return torch.stack((boxes[:, 0].clamp(min=0, max=w), boxes[:, 1].clamp(min=0, max=h),
                        boxes[:, 2].clamp(min=0, max=w), boxes[:, 3].clamp(min=0, max=h)), dim=-1)


def nonempty(boxes: torch.Tensor, threshold: float = 0.0) -> torch.Tensor:
    return ((boxes[:, 2] - boxes[:, 0]) > threshold) & ((boxes[:, 3] - boxes[:, 1]) > threshold)


# -------------------------------------------------------------------------------------- ROIAlign
def _axis_samples(start: torch.Tensor, bin_size: torch.Tensor, grid: torch.Tensor, pooled: int, gmax: int,
                  size: int) -> tuple[torch.Tensor, ...]:
    """Per ROI, the sample coordinates along one axis: low/high index, low/high weight, validity.

    Shapes (R, pooled, gmax).  Arithmetic as torchvision's ``pre_calc_for_bilinear_interpolate``."""
    dev = start.device
    p = torch.arange(pooled, device=dev, dtype=torch.float32)
    i = torch.arange(gmax, device=dev, dtype=torch.float32)
    gridf = grid.to(torch.float32).clamp(min=1)
    a = start[:, None, None] + p[None, :, None] * bin_size[:, None, None]
    b = (i[None, None, :] + 0.5) * bin_size[:, None, None] / gridf[:, None, None]
    c = a + b
    valid = (i[None, None, :] < grid[:, None, None]) & (c >= -1.0) & (c <= size)
    c = torch.where(c <= 0, torch.zeros_like(c), c)
    low = c.to(torch.int64)  # truncation == floor for c >= 0
    at_end = low >= size - 1
    low = torch.where(at_end, torch.full_like(low, size - 1), low)
    high = torch.where(at_end, low, low + 1)
    c = torch.where(at_end, low.to(c.dtype), c)
    frac = c - low.to(c.dtype)
    return low, high, frac, 1.0 - frac, valid


def _axis_weights(low: torch.Tensor, high: torch.Tensor, wlow: torch.Tensor, whigh: torch.Tensor,
                  valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Per ROI (start index, (R, P, span) interpolation matrix summed over each bin's samples, span)."""
    big = torch.iinfo(torch.int64).max
    start = torch.where(valid, low, torch.full_like(low, big)).amin(dim=(1, 2))
    start = torch.where(start == big, torch.zeros_like(start), start)
    stop = torch.where(valid, high, torch.full_like(high, -1)).amax(dim=(1, 2))
    span = max(1, int((stop - start).max()) + 1)
    r, p, g = low.shape
    vf = valid.to(wlow.dtype)
    mat = wlow.new_zeros((r, p, span))
    lo = (low - start[:, None, None]).clamp(0, span - 1).reshape(r, p * g)
    hi = (high - start[:, None, None]).clamp(0, span - 1).reshape(r, p * g)
    rows = torch.arange(p, device=low.device).repeat_interleave(g)[None, :].expand(r, -1)
    flat = mat.view(r, p * span)
    flat.scatter_add_(1, rows * span + lo, (wlow * vf).reshape(r, p * g))
    flat.scatter_add_(1, rows * span + hi, (whigh * vf).reshape(r, p * g))
    return start, mat, span


def roi_align(feature: torch.Tensor, rois: torch.Tensor, output_size: int, spatial_scale: float,
              budget: int = 1 << 23) -> torch.Tensor:
    """ROIAlignV2 (aligned, adaptive sampling) of ``rois`` (R, 5: batch, x1, y1, x2, y2) on ``feature`` (N, C, H, W).

    The sample points, their clamping and bilinear weights are torchvision's; the weighted sum is
    computed separably (rows, then columns: bilinear weights factor as ``w_y * w_x`` and the
    kernel's validity test as ``valid_y & valid_x``) as two batched matrix products over a window
    gathered around each ROI — equal to the kernel up to float summation order."""
    n_img, ch, height, width = feature.shape
    r = rois.shape[0]
    out = feature.new_zeros((r, ch, output_size, output_size))
    if r == 0:
        return out
    rois = rois.to(feature.dtype)
    start_w = rois[:, 1] * spatial_scale - 0.5
    start_h = rois[:, 2] * spatial_scale - 0.5
    end_w = rois[:, 3] * spatial_scale - 0.5
    end_h = rois[:, 4] * spatial_scale - 0.5
    roi_w = end_w - start_w
    roi_h = end_h - start_h
    bin_h = roi_h / output_size
    bin_w = roi_w / output_size
    grid_h = torch.ceil(roi_h / output_size).to(torch.int64).clamp(min=0)
    grid_w = torch.ceil(roi_w / output_size).to(torch.int64).clamp(min=0)
    count = torch.clamp(grid_h * grid_w, min=1).to(feature.dtype)
    flat = feature.permute(0, 2, 3, 1).reshape(n_img * height * width, ch)  # channels last: rows gather fast
    batch = rois[:, 0].to(torch.int64)
    # chunks of ROIs of similar size (sorted), each window fitting the memory budget
    size = (roi_h.clamp(min=0) + 3) * (roi_w.clamp(min=0) + 3)
    order = torch.argsort(size)
    sizes = size[order].tolist()
    s = 0
    while s < r:
        e = s + 1
        while e < r and sizes[e] * ch * (e + 1 - s) <= budget:
            e += 1
        idx = order[s:e]
        s = e
        gh, gw = int(grid_h[idx].max()), int(grid_w[idx].max())
        if gh <= 0 or gw <= 0:
            continue
        ylo, yhi, ly, hy, vy = _axis_samples(start_h[idx], bin_h[idx], grid_h[idx], output_size, gh, height)
        xlo, xhi, lx, hx, vx = _axis_samples(start_w[idx], bin_w[idx], grid_w[idx], output_size, gw, width)
        y0, ay, sy = _axis_weights(ylo, yhi, hy, ly, vy)
        x0, ax, sx = _axis_weights(xlo, xhi, hx, lx, vx)
        rows = (y0[:, None] + torch.arange(sy, device=y0.device)[None, :]).clamp(max=height - 1)
        cols = (x0[:, None] + torch.arange(sx, device=x0.device)[None, :]).clamp(max=width - 1)
        pos = (batch[idx] * (height * width))[:, None, None] + rows[:, :, None] * width + cols[:, None, :]
        m = idx.shape[0]
        win = F.embedding(pos.reshape(-1), flat).view(m, sy, sx, ch)  # row gather (fastest on CPU)
        tmp = torch.matmul(ax[:, None], win)  # columns: (m, sy, P, C)
        pooled = torch.matmul(ay, tmp.reshape(m, sy, output_size * ch)).view(m, output_size, output_size, ch)
        out[idx] = pooled.permute(0, 3, 1, 2) / count[idx][:, None, None, None]
    return out


# ---------------------------------------------------------------------------------- mask pasting
def _paste_chunk(masks: torch.Tensor, boxes: torch.Tensor, img_h: int, img_w: int, skip_empty: bool):
    if skip_empty:
        x0_int, y0_int = torch.clamp(boxes.min(dim=0).values.floor()[:2] - 1, min=0).to(dtype=torch.int32)
        x1_int = torch.clamp(boxes[:, 2].max().ceil() + 1, max=img_w).to(dtype=torch.int32)
        y1_int = torch.clamp(boxes[:, 3].max().ceil() + 1, max=img_h).to(dtype=torch.int32)
    else:
        x0_int, y0_int, x1_int, y1_int = 0, 0, img_w, img_h
    x0, y0, x1, y1 = torch.split(boxes, 1, dim=1)
    n = masks.shape[0]
    img_y = torch.arange(y0_int, y1_int, device=masks.device, dtype=torch.float32) + 0.5
    img_x = torch.arange(x0_int, x1_int, device=masks.device, dtype=torch.float32) + 0.5
    img_y = (img_y - y0) / (y1 - y0) * 2 - 1
    img_x = (img_x - x0) / (x1 - x0) * 2 - 1
    gx = img_x[:, None, :].expand(n, img_y.size(1), img_x.size(1))
    gy = img_y[:, :, None].expand(n, img_y.size(1), img_x.size(1))
    grid = torch.stack([gx, gy], dim=3)
    img_masks = F.grid_sample(masks, grid.to(masks.dtype), align_corners=False)
    if skip_empty:
        return img_masks[:, 0], (slice(int(y0_int), int(y1_int)), slice(int(x0_int), int(x1_int)))
    return img_masks[:, 0], ()


BYTES_PER_FLOAT = 4
GPU_MEM_LIMIT = 1024**3


def paste_masks(masks: torch.Tensor, boxes: torch.Tensor, image_hw: tuple[int, int],
                threshold: float = 0.5) -> torch.Tensor:
    """Paste (N, M, M) mask probabilities into (N, H, W) bool masks at ``boxes`` (detectron2's paste)."""
    n = masks.shape[0]
    img_h, img_w = image_hw
    if n == 0:
        return torch.zeros((0, img_h, img_w), dtype=torch.bool, device=masks.device)
    dev = boxes.device
    if dev.type == "cpu":
        num_chunks = n
    else:
        num_chunks = max(1, min(n, int(math.ceil(n * int(img_h) * int(img_w) * BYTES_PER_FLOAT / GPU_MEM_LIMIT))))
    out = torch.zeros(n, img_h, img_w, device=dev, dtype=torch.bool)
    for inds in torch.chunk(torch.arange(n, device=dev), num_chunks):
        chunk, spatial = _paste_chunk(masks[inds, None, :, :], boxes[inds], img_h, img_w, skip_empty=dev.type == "cpu")
        out[(inds,) + spatial] = chunk >= threshold
    return out
