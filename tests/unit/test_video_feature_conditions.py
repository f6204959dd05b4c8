"""The FCM video feature anchors (issue 23): cttc/fcm-tvd-tracking-features.yaml and
cttc/fcm-hieve-tracking-features.yaml pack JDE's split tensors, cttc/fcm-sfu-hw-obj-features.yaml Faster R-CNN's
P2..P5, as CompressAI-Vision does.

Reference: CompressAI-Vision @31165daf ``compressai_vision/codecs/utils.py`` (``compute_frame_resolution`` and
``FpnUtils.reshape_feature_pyramid_to_frame`` with ``packing_all_in_one``: tensors sorted by size, each tile grid
rescaled to the largest tensor's width) and its data files ``data/mpeg-fcm/MPEGTVDTRACKING/fpn-sizes/TVD-01.json``
(fpn 36: 1x256x76x136, 61: 1x512x38x68, 74: 1x1024x19x34; subframe heights 1216, 608, 304) and
``data/mpeg-fcm/MPEGHIEVE/fpn-sizes/13.json`` (105: 1x128x76x136, 90: 1x256x38x68, 75: 1x512x19x34; 1216, 608,
304); ``std_codecs.py`` ``HeaderWriter`` (13 bytes a sequence, 8 a frame) and ``utils.MIN_MAX_DATASET``."""

from __future__ import annotations

import math

import pytest

from vcmbench.conditions import load_condition
from vcmbench.features.packing import layout
from vcmbench.run.feature_jobs import feature_settings

# the reference's fpn-sizes files (shapes without the batch) and subframe heights
FPN = {
    "fcm-tvd-tracking-features": ({"36": (256, 76, 136), "61": (512, 38, 68), "74": (1024, 19, 34)},
                                  {"36": 1216, "61": 608, "74": 304}),
    "fcm-hieve-tracking-features": ({"105": (128, 76, 136), "90": (256, 38, 68), "75": (512, 19, 34)},
                                    {"105": 1216, "90": 608, "75": 304}),
    # a 1920x1080 SFU frame through detectron2 (shortest edge 800, padded to 32: 800x1440): P2..P5 strides 4..32
    "fcm-sfu-hw-obj-features": ({"p2": (256, 200, 360), "p3": (256, 100, 180), "p4": (256, 50, 90),
                                 "p5": (256, 25, 45)}, {"p2": 3200, "p3": 800, "p4": 200, "p5": 50}),
}
SIZE = {"fcm-tvd-tracking-features": (2176, 2128), "fcm-hieve-tracking-features": (1088, 2128),
        "fcm-sfu-hw-obj-features": (5760, 4250)}
SPLIT = {"fcm-tvd-tracking-features": "tvd", "fcm-hieve-tracking-features": "hieve", "fcm-sfu-hw-obj-features": "fpn"}
RANGES = {"fcm-tvd-tracking-features": (-4.722218990325928, 48.58344268798828),
          "fcm-hieve-tracking-features": (-1.0795, 11.8232), "fcm-sfu-hw-obj-features": (-17.8848, 16.69418)}


def _peer_grid(shapes):
    """``reshape_feature_pyramid_to_frame``'s packing, re-derived: {layer: (tiles_wide, tiles_high)} in its order."""
    def resolution(c, h, w):  # compute_frame_resolution
        short = int(math.sqrt(c))
        while c % short:
            short -= 1
        long_ = c // short
        return (short * h, long_ * w) if h > w else (long_ * h, short * w)

    order = sorted(shapes, key=lambda k: math.prod(shapes[k]), reverse=True)
    fixed_w = resolution(*shapes[order[0]])[1]
    out = {}
    for k in order:
        c, h, w = shapes[k]
        fh, fw = resolution(c, h, w)
        rescale = fixed_w // fw
        out[k] = ((fw * rescale) // w, (fh // rescale) // h)
    return out


@pytest.mark.parametrize("name", sorted(FPN))
def test_tracking_feature_anchor_packs_as_the_reference(name):
    cond = load_condition(name)
    shapes, heights = FPN[name]
    f = feature_settings(cond)
    grid = _peer_grid(shapes)
    assert f["layers"] == list(grid)  # stacked largest first
    assert {k: tuple(v) for k, v in f["tiling"].items()} == grid
    lay = layout(shapes, f["tiling"], f["layers"])
    assert {k: lay.shapes[k][1] * lay.tiling[k][1] for k in lay.layers} == heights
    assert (lay.width, lay.height) == SIZE[name]
    assert all(lay.tiling[k][0] * lay.shapes[k][2] == lay.width for k in lay.layers)  # no padding column
    assert f["range"] == {"mode": "fixed", "min": RANGES[name][0], "max": RANGES[name][1]}
    assert (f["formula"], f["rounding"], f["bits"]) == ("cav-minmax", "floor", 10)
    assert f["side_info"] == "counted" and f["header_bits"] == 8 * 8 and f["header_sequence_bits"] == 13 * 8
    assert cond.codec["chroma_format"] == 400 and cond.codec["input_bit_depth"] == 10
    assert cond.codec["structure"] == "low-delay" and cond.is_sequences
    assert cond.data["bd"]["twin"] == name.replace("-features", "")
    assert cond.task["split_point"] == SPLIT[name] and cond.section("rate")["side_info"] == "counted"
    assert f["derived"] == (["p6"] if "sfu" in name else [])


def test_image_feature_settings_keep_their_keys():
    """The optional per-sequence header adds a key only when given: the image feature conditions' settings (and so
    their job ids) are unchanged."""
    f = feature_settings(load_condition("fcm-oiv6-det-cav"))
    assert "header_sequence_bits" not in f and f["header_bits"] == 168
