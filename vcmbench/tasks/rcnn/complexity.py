"""Parameters and multiply-accumulates of the native R-CNN, front (backbone + FPN) and back (heads).

MACs are counted analytically for one image of the given size after ResizeShortestEdge and
padding: every conv ``H_out * W_out * C_out * C_in / groups * k * k``, every fc ``in * out``;
the back assumes the test-time maxima (1000 proposals through the box head, ``max_detections``
through the mask head).  Elementwise work (ReLU, sums, pooling, NMS) is not counted.
"""

from __future__ import annotations

from typing import Any

from .model import resized_hw


def _conv_macs(w, h_out: int, w_out: int, groups: int = 1) -> int:
    cout, cin_g, kh, kw = w.shape
    return int(h_out * w_out * cout * cin_g * kh * kw)


def count(model: Any, image_size: tuple[int, int], max_detections: int = 100) -> dict[str, Any]:
    cfg = model.cfg
    w, h = image_size
    rh, rw = resized_hw(h, w, cfg.min_size_test, cfg.max_size_test)
    d = cfg.size_divisibility
    ph, pw = (rh + d - 1) // d * d, (rw + d - 1) // d * d
    front_params = front_macs = 0
    bu = model.bottom_up
    sh, sw = (ph + 1) // 2, (pw + 1) // 2  # stem conv stride 2 (pad 3, k 7)
    front_params += sum(t.numel() for t in bu.stem)
    front_macs += _conv_macs(bu.stem[0], sh, sw)
    hh, ww = (sh + 1) // 2, (sw + 1) // 2  # max-pool 3/2 pad 1
    sizes = {}
    for si, blocks in enumerate(bu.stages):
        for blk in blocks:
            s = blk["stride"]
            oh, ow = (hh + s - 1) // s, (ww + s - 1) // s
            h1, w1 = ((hh + blk["stride_1x1"] - 1) // blk["stride_1x1"], (ww + blk["stride_1x1"] - 1) // blk["stride_1x1"])
            front_macs += _conv_macs(blk["conv1"][0], h1, w1)
            front_macs += _conv_macs(blk["conv2"][0], oh, ow)
            front_macs += _conv_macs(blk["conv3"][0], oh, ow)
            if blk["shortcut"] is not None:
                front_macs += _conv_macs(blk["shortcut"][0], oh, ow)
            for k in ("conv1", "conv2", "conv3", "shortcut"):
                if blk[k] is not None:
                    front_params += sum(t.numel() for t in blk[k])
            hh, ww = oh, ow
        sizes[si + 2] = (hh, ww)
    for lvl in range(2, 6):
        oh, ow = sizes[lvl]
        for wt, b in (model.fpn.lateral[lvl], model.fpn.output[lvl]):
            front_params += wt.numel() + b.numel()
            front_macs += _conv_macs(wt, oh, ow)
    level_hw = [sizes[lvl] for lvl in range(2, 6)]
    level_hw.append(((level_hw[-1][0] + 1) // 2, (level_hw[-1][1] + 1) // 2))
    back_params = back_macs = 0
    rpn = model.rpn
    for wt, b in (rpn.conv, rpn.logits, rpn.deltas):
        back_params += wt.numel() + b.numel()
        back_macs += sum(_conv_macs(wt, oh, ow) for oh, ow in level_hw)
    props = cfg.rpn_post_nms_topk
    for wt, b in (*model.box_head.fcs, model.box_head.cls, model.box_head.bbox):
        back_params += wt.numel() + b.numel()
        back_macs += props * wt.numel()
    if model.mask_head is not None:
        mh = model.mask_head
        r = cfg.mask_pooler_resolution
        for wt, b in mh.convs:
            back_params += wt.numel() + b.numel()
            back_macs += max_detections * _conv_macs(wt, r, r)
        back_params += mh.deconv[0].numel() + mh.deconv[1].numel()
        back_macs += max_detections * int(mh.deconv[0].numel()) * r * r
        back_params += mh.predictor[0].numel() + mh.predictor[1].numel()
        back_macs += max_detections * _conv_macs(mh.predictor[0], 2 * r, 2 * r)
    return {"front": {"params": int(front_params), "macs": int(front_macs)},
            "back": {"params": int(back_params), "macs": int(back_macs)},
            "input_pixels": int(rh * rw), "input_size": [rw, rh], "padded_size": [pw, ph]}
