"""Parameters and multiply-accumulates of JDE 1088x608 before and after a split.

Counted analytically from the layer table for the 1088x608 input (every frame is letterboxed to
it): each conv ``H_out * W_out * C_out * C_in * k * k`` MACs and ``C_out * C_in * k * k`` weights plus
its bias or its BatchNorm scale and shift.  The front is what computing the split layers needs
(for ``hieve`` it includes head layers 75..79, 86..94 and 101..105 — not the detection convs the
reference's part 1 also runs and discards); the back is what the three YOLO layers need from the split
layers (for ``hieve`` layers 76..79 and 91..94 are counted in both halves: each half computes them).  Elementwise work
(BatchNorm at inference, LeakyReLU, sums, softmax, decoding, NMS) is not counted.
"""

from __future__ import annotations

from typing import Any

from .layers import INPUT_H, INPUT_W, LAYERS, OUT_CHANNELS, YOLO_LAYERS, needed, output_shape


def _conv_cost(i: int) -> tuple[int, int]:
    lay = LAYERS[i]
    src = lay.inputs[0]
    cin = 3 if src < 0 else OUT_CHANNELS[src]
    _, h, w = output_shape(i)
    weights = lay.cout * cin * lay.k * lay.k
    params = weights + (2 * lay.cout if lay.bn else lay.cout)
    return params, h * w * weights


def _part(layers: list[int]) -> dict[str, int]:
    params = macs = 0
    for i in layers:
        if LAYERS[i].kind == "conv":
            p, m = _conv_cost(i)
            params += p
            macs += m
    return {"params": params, "macs": macs}


def count(split: tuple[int, ...]) -> dict[str, Any]:
    front = needed(set(split))
    back = needed(set(YOLO_LAYERS), set(split))
    return {"front": _part(front), "back": _part(back), "input_pixels": INPUT_W * INPUT_H,
            "input_size": [INPUT_W, INPUT_H], "split_layers": list(split)}
