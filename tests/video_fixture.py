"""A short synthetic video sequence and its condition, made at test time (never committed as a file).

``make_synthetic_sequence(root)`` pans and zooms a 416x240 window across the coco-tiny-cc picture
``000000520707.jpg`` (640x480, four people: the SSD detects them), writes the frames in the layout
the FCM conditions use, and writes beside them a sequence condition (class D, reference-output
ground truth at score 0.3, SSD-MobileNetV2, VVenC preset faster or VTM 12.0 low-delay/random-access,
kbps-sequence, COCO AP, pchip-jvet; every fact's source "synthetic test sequence"):

* ``layout="png"``: ``<data>/<name>_val/seqinfo.ini`` and ``img1/000001.png`` ... (the MOT layout: the
  evaluated frames only; ``first_frame`` must be 0);
* ``layout="yuv"``: ``<data>/<name>.yuv`` (JCT-VC naming ``<Name>_<W>x<H>_<fps>.yuv``, 8-bit or
  10-bit LE words) holding ``first_frame + frames`` frames, of which the last ``frames`` are evaluated
  (``first_frame > 0`` exercises FrameSkip), plus ``<name>_val/seqinfo.ini``.

``disk_frames`` writes another number of evaluated frames than the condition records (the
verify-data refusal).  The picture is read from ../shared (VCMBENCH_SHARED); a test calling this
is skipped with the reason when it is absent.  The sequence's RGB -> YUV conversion for the raw
layout is numpy BT.601 limited range (video levels, as JCT-VC files are); the condition's own colour
mode (``color``) is what a run uses to convert frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VCMBENCH_SHARED", REPO.parent / "shared"))
PICTURE = ("data", "coco-tiny-cc", "images", "000000520707.jpg")
SOURCE = "synthetic test sequence (tests/video_fixture.py)"
VTM_CFGS = {  # VTM-12.0 cfg/ (redchenjs/VVCSoftware_VTM tag VTM-12.0, commit 091d3bb5): md5 of the file
    "low-delay": ("encoder_lowdelay_vtm.cfg", "a23672b7bd5130bce8b954dc5eb32fb3"),
    "random-access": ("encoder_randomaccess_vtm.cfg", "6ffc52e33a688bd72b38a001db17dd1a"),
}


@dataclass(frozen=True)
class SyntheticSequence:
    data_dir: Path  # give to --data
    condition_path: Path  # the condition YAML (its name is the file stem)
    name: str  # the sequence's name
    frames: int  # evaluated frames the condition records
    first_frame: int
    layout: str
    condition: str  # the condition's name


def picture_path() -> Path:
    """The source picture, or a pytest skip naming what is missing."""
    p = SHARED.joinpath(*PICTURE)
    if not p.is_file():
        import pytest

        pytest.skip(f"test data {p} is absent (../shared beside the checkout, or set VCMBENCH_SHARED)")
    return p


def moving_pattern_yuv(path: Path, frames: int, size: int = 64) -> Path:
    """A small 8-bit 4:2:0 raw sequence for codec tests (no ../shared needed): a smooth texture panned 3 px
    right and 2 px down a frame, chroma planes stepping by one level a frame (period 40)."""
    yy, xx = np.mgrid[0:size + 3 * frames, 0:size + 3 * frames]
    tex = (128 + 90 * np.sin(xx / 7.0) * np.cos(yy / 11.0)).astype(np.uint8)
    c = size // 2
    out = b""
    for k in range(frames):
        out += tex[2 * k:2 * k + size, 3 * k:3 * k + size].tobytes()
        out += np.full((c, c), 110 + k % 40, np.uint8).tobytes() + np.full((c, c), 140 - k % 40, np.uint8).tobytes()
    path.write_bytes(out)
    return path


def synthetic_frames(count: int, width: int = 416, height: int = 240) -> list[np.ndarray]:
    """``count`` RGB frames (HxWx3 uint8): a window of the picture's aspect ``width:height`` zooming in
    from 90 % to 60 % of the largest window that fits while panning left to right and down (Pillow
    bilinear resampling of a float box; deterministic)."""
    from PIL import Image

    with Image.open(picture_path()) as im:
        pic = im.convert("RGB")
    pw, ph = pic.size
    zmax = min(pw / width, ph / height)
    out = []
    for k in range(count):
        t = k / max(count - 1, 1)
        z = zmax * (0.9 - 0.3 * t)
        cw, ch = width * z, height * z
        x0, y0 = (pw - cw) * t, (ph - ch) * (0.25 + 0.5 * t)
        frame = pic.resize((width, height), Image.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))
        out.append(np.asarray(frame, dtype=np.uint8).copy())
    return out


def _rgb_to_yuv420(rgb: np.ndarray, bit_depth: int) -> bytes:
    """Planar 4:2:0 bytes of one RGB frame: BT.601 limited range (video levels), 2x2 mean chroma."""
    x = rgb.astype(np.float64)
    y = 16 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255
    cb = 128 + (-37.797 * x[..., 0] - 74.203 * x[..., 1] + 112.0 * x[..., 2]) / 255
    cr = 128 + (112.0 * x[..., 0] - 93.786 * x[..., 1] - 18.214 * x[..., 2]) / 255
    h, w = y.shape

    def sub(c: np.ndarray) -> np.ndarray:
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    scale = 1 << (bit_depth - 8)
    dtype = np.uint8 if bit_depth == 8 else np.dtype("<u2")
    planes = [np.clip(np.floor(p * scale + 0.5), 0, (1 << bit_depth) - 1).astype(dtype) for p in (y, sub(cb), sub(cr))]
    return b"".join(p.tobytes() for p in planes)


def ssd_heads_feature(*, quant_range: dict | None = None, side_info: str = "none", header_bits: int = 0,
                      sequence_bits: int = 0) -> dict:
    """The ``feature:`` section of cttc/coco-tiny-cc-ssd-features.yaml (SSD-MobileNetV2 split at the six maps its
    heads read, fixed ReLU6 range [0, 6], seed eq. 1 with rounding, 10 bits), plus ``split_point`` (moved into
    ``task:`` by :func:`make_synthetic_sequence`).  ``quant_range={"mode": "per-image"}`` (with ``side_info``
    ``counted``, ``header_bits`` a frame and ``sequence_bits`` once) quantises each frame with its own range, sent as
    side information."""
    rng = dict(quant_range or {"mode": "fixed", "min": 0.0, "max": 6.0})
    rng.setdefault("source", SOURCE)
    return {
        "split_point": "heads",
        "coded_layers": ["m0", "m1", "m2", "m3", "m4", "m5"],
        "channels": {"m0": 576, "m1": 1280, "m2": 512, "m3": 256, "m4": 256, "m5": 128},
        "tiling": {"m0": [32, 18], "m1": [64, 20], "m2": [128, 4], "m3": [128, 2], "m4": [256, 1], "m5": [128, 1]},
        "quant_bits": 10, "quant_range": rng, "quant_formula": "seed-eq1", "rounding": "round",
        "header": {"bits": int(header_bits), **({"sequence_bits": int(sequence_bits)} if sequence_bits else {}),
                   "source": SOURCE},
        "side_info": side_info, "source": SOURCE,
    }


def make_synthetic_sequence(root: Path, *, frames: int = 33, width: int = 416, height: int = 240,
                            layout: str = "png", bit_depth: int = 8, fps: int = 30, intra_period: int = 32,
                            first_frame: int = 0, qps: tuple[int, ...] = (32, 42), structure: str = "low-delay",
                            codec: str = "vvenc", color: str = "bt601-full-int", disk_frames: int | None = None,
                            name: str | None = None, condition: str = "synthetic-video",
                            feature: dict | None = None, twin: str | None = None) -> SyntheticSequence:
    """Write the sequence under ``root/data`` and its condition ``root/<condition>.yaml`` (see the module
    docstring).  ``feature``: a ``feature:`` section (e.g. :func:`ssd_heads_feature`) makes it a feature
    condition (``kind: feature``, the SSD split at ``feature["split_point"]``, 4:0:0 10-bit coding); ``twin``
    names its image-domain twin (``bd.twin``: the same sequence with ``feature=None``) for BD-rate."""
    if layout not in ("png", "yuv"):
        raise ValueError(f"layout must be png or yuv, got {layout!r}")
    if layout == "png" and (first_frame or bit_depth != 8):
        raise ValueError("a PNG frame folder holds the evaluated frames only, 8-bit: first_frame 0, bit_depth 8")
    if width % 2 or height % 2:
        raise ValueError("4:2:0 needs even sizes")
    root = Path(root)
    data = root / "data"
    name = name or f"Synthetic_{width}x{height}_{fps}"
    seq_dir = data / f"{name}_val"
    seq_dir.mkdir(parents=True, exist_ok=True)
    on_disk = frames if disk_frames is None else disk_frames
    (seq_dir / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={fps}\nseqLength={frames}\nimWidth={width}\n"
        f"imHeight={height}\nimExt=.png\n")
    pictures = synthetic_frames(first_frame + on_disk, width, height)
    seq: dict = {"name": name, "class": "D", "dir": f"{name}_val"}
    if layout == "png":
        from PIL import Image

        img = seq_dir / "img1"
        img.mkdir(exist_ok=True)
        for k, rgb in enumerate(pictures):
            Image.fromarray(rgb).save(img / f"{k + 1:06d}.png")
    else:
        seq["yuv"] = f"{name}.yuv"
        with open(data / seq["yuv"], "wb") as fh:
            for rgb in pictures:
                fh.write(_rgb_to_yuv420(rgb, bit_depth))
    seq.update(width=width, height=height, fps=fps, bit_depth=bit_depth)
    if layout == "yuv":
        seq["total_frames"] = first_frame + frames
    seq.update(first_frame=first_frame, frames=frames, intra_period=intra_period)
    facts = ["class", "dir", "width", "height", "fps", "bit_depth", "first_frame", "frames", "intra_period"]
    facts += ["yuv", "total_frames"] if layout == "yuv" else []
    seq["sources"] = {f: "synthetic" for f in facts}
    if codec == "vvenc":
        codec_section = {"name": "vvenc", "version": "1.15", "preset": "faster"}
    elif codec == "vtm":
        cfg, md5 = VTM_CFGS[structure]
        codec_section = {"name": "vtm", "version": "12.0",
                         "cfg": {"file": cfg, "md5": md5, "source": "VTM-12.0 cfg/ (redchenjs/VVCSoftware_VTM tag "
                                                                    "VTM-12.0, commit 091d3bb5)"}}
    else:
        raise ValueError(f"codec must be vvenc or vtm, got {codec!r}")
    codec_section.update(scales=[1.0], input_bit_depth=bit_depth, internal_bit_depth=10, chroma_format=420,
                         structure=structure, source=SOURCE)
    if feature is not None:  # the packed feature pictures: 4:0:0 at the quantisation bit depth
        codec_section.update(input_bit_depth=int(feature.get("quant_bits", 10)), chroma_format=400)
    cond = {
        "schema_version": 1, "name": condition, "version": 1,
        "title": f"Synthetic {width}x{height} {fps} fps sequence ({frames} frames, {layout}) for the video tests",
        "description": "A short sequence panned and zoomed across a coco-tiny-cc picture (CC BY), made by "
                       "tests/video_fixture.py at test time; reference-output ground truth.",
        "kind": "image" if feature is None else "feature",
        "dataset": {
            "name": "synthetic-video", "source": SOURCE,
            "references": {"synthetic": SOURCE},
            "sequences": [seq],
            "qp_ladders": {"D": {"qps": list(qps), "source": SOURCE}},
            "report_classes": {"D": {"sequences": [name], "source": SOURCE}},
        },
        "task": {"type": "detection", "network": "ssd-mobilenet-v2-coco", "score_threshold": 0.05,
                 "max_detections": 100, "source": "TF OD API ssd_mobilenet_v2_coco_2018_03_29 (DESIGN.md 5.6)"},
        "codec": codec_section,
        "preprocess": {"color": color, "source": SOURCE},
        "rate": {"definition": "kbps-sequence", "side_info": "none", "source": SOURCE},
        "metric": {"name": "coco-ap", "iou_type": "bbox", "quality_key": "AP", "report": ["AP", "AP50"],
                   "source": SOURCE},
        "bd": {"method": "pchip-jvet", "quality": "AP", "source": SOURCE},
        "ground_truth": {"mode": "reference-output", "score_threshold": 0.3, "source": SOURCE},
    }
    if feature is not None:
        feature = dict(feature)
        cond["task"]["split_point"] = feature.pop("split_point", "heads")
        cond["feature"] = feature
        cond["rate"]["side_info"] = feature.get("side_info", "none")  # (the rate section's word decides)
        cond["description"] += " Feature condition: the SSD's split features of every frame packed and coded."
        if twin:
            cond["bd"]["twin"] = twin
    path = root / f"{condition}.yaml"
    path.write_text(yaml.safe_dump(cond, sort_keys=False))
    return SyntheticSequence(data_dir=data, condition_path=path, name=name, frames=frames, first_frame=first_frame,
                             layout=layout, condition=condition)


# ---- a synthetic tracking sequence (issue 23) --------------------------------------------------------------
TRACK_BACKGROUND = "000000208901.jpg"  # coco-tiny-cc, no person in its annotations
# (picture, index of the person annotation among the picture's persons of bbox height > 150 px, in file order)
TRACK_PEOPLE = (("000000520707.jpg", 2), ("000000343937.jpg", 0), ("000000520707.jpg", 3), ("000000520707.jpg", 0))


@dataclass(frozen=True)
class Walker:
    """One person's path: pasted at height ``height`` px with its feet at ``bottom``; top-left x = ``x0`` +
    ``dx`` x (frame - ``first``), present from frame ``first`` (0-based) to the end (or while on the picture)."""

    person: int  # index into TRACK_PEOPLE
    height: int
    bottom: int
    x0: float
    dx: float
    first: int = 0


def _walkers(frames: int) -> tuple[Walker, ...]:
    """Four paths over ``frames`` frames of a 416x240 picture: 1 walks right and 2 walks left, crossing in front
    of/behind each other mid-sequence; 3 walks out on the right (leaves the picture); 4 enters from the left at
    40 % of the sequence."""
    n = max(frames - 1, 1)
    return (Walker(0, 170, 232, 20, 260 / n), Walker(1, 160, 222, 320, -270 / n), Walker(2, 150, 210, 250, 9.0),
            Walker(3, 160, 236, -60, 9.0, first=int(0.4 * frames)))


def _cutouts() -> list:
    """The people of TRACK_PEOPLE as RGBA cut-outs (their COCO polygon masks, bbox crop)."""
    import json

    from PIL import Image, ImageDraw

    ann = json.loads(SHARED.joinpath("data", "coco-tiny-cc", "instances_val2017_cc.json").read_text())
    ids = {im["file_name"]: im["id"] for im in ann["images"]}
    out = []
    for fname, idx in TRACK_PEOPLE:
        persons = [a for a in ann["annotations"] if a["image_id"] == ids[fname] and a["category_id"] == 1
                   and not a["iscrowd"] and a["bbox"][3] > 150]
        a = persons[idx]
        with Image.open(SHARED.joinpath("data", "coco-tiny-cc", "images", fname)) as im:
            rgb = im.convert("RGB")
        mask = Image.new("L", rgb.size, 0)
        for poly in a["segmentation"]:
            ImageDraw.Draw(mask).polygon([(poly[i], poly[i + 1]) for i in range(0, len(poly), 2)], fill=255)
        x, y, w, h = (int(round(v)) for v in a["bbox"])
        cut = rgb.crop((x, y, x + w, y + h))
        cut.putalpha(mask.crop((x, y, x + w, y + h)))
        out.append(cut)
    return out


def tracking_frames(count: int, width: int = 416, height: int = 240) -> tuple[list[np.ndarray], list[tuple]]:
    """``count`` RGB frames of the synthetic tracking sequence and its ground truth rows (MOT: frame 1-based, id,
    x + 1, y + 1, w, h, conf 1, class 1, visibility 1): each walker's pasted cut-out box clipped to the picture
    (kept while at least 12 px of it are visible), walkers drawn in id order (later ids in front)."""
    from PIL import Image

    picture_path()
    with Image.open(SHARED.joinpath("data", "coco-tiny-cc", "images", TRACK_BACKGROUND)) as im:
        bg = im.convert("RGB")
    bw, bh = bg.size
    z = min(bw / width, bh / height)
    background = bg.resize((width, height), Image.BILINEAR, box=(0, 0, width * z, height * z))
    cuts = _cutouts()
    frames, gt = [], []
    for k in range(count):
        pic = background.copy()
        for oid, wk in enumerate(_walkers(count), 1):
            if k < wk.first:
                continue
            cut = cuts[wk.person]
            w = max(1, int(round(cut.width * wk.height / cut.height)))
            x, y = int(round(wk.x0 + wk.dx * (k - wk.first))), wk.bottom - wk.height
            x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, width), min(y + wk.height, height)
            if x2 - x1 < 12 or y2 - y1 < 12:
                continue
            pic.paste(cut.resize((w, wk.height), Image.BILINEAR), (x, y), cut.resize((w, wk.height), Image.BILINEAR))
            gt.append((k + 1, oid, x1 + 1, y1 + 1, x2 - x1, y2 - y1, 1, 1, 1))
        frames.append(np.asarray(pic, dtype=np.uint8).copy())
    return frames, gt


def make_tracking_sequence(root: Path, *, frames: int = 21, width: int = 416, height: int = 240, fps: int = 25,
                           qps: tuple[int, ...] = (32, 37, 42), mot: str = "tvd", feature: dict | None = None,
                           name: str = "SynTrack", condition: str = "synthetic-tracking",
                           network: str = "ssd-mobilenet-v2-coco-tracker", twin: str | None = None) -> SyntheticSequence:
    """Write the synthetic tracking sequence under ``root/data/<name>`` (MOTChallenge layout: seqinfo.ini,
    img1/*.png, gt/gt.txt written by this fixture) and its condition ``root/<condition>.yaml``: the SSD tracker,
    VVenC faster low-delay, MOTA with the ``mot`` settings against the fixture's labels.  ``feature``: a
    ``feature:`` section with its ``split_point`` (``ssd_heads_feature()``): the condition becomes a feature
    condition, the packed frames coded as 4:0:0 at the quantisation bit depth; ``twin`` names its image-domain twin
    (``bd.twin``: the same sequence without ``feature``) for BD-rate."""
    root = Path(root)
    data = root / "data"
    seq_dir = data / name
    (seq_dir / "img1").mkdir(parents=True, exist_ok=True)
    (seq_dir / "gt").mkdir(exist_ok=True)
    pictures, gt = tracking_frames(frames, width, height)
    from PIL import Image

    for k, rgb in enumerate(pictures):
        Image.fromarray(rgb).save(seq_dir / "img1" / f"{k + 1:06d}.png")
    (seq_dir / "gt" / "gt.txt").write_text("".join(",".join(str(v) for v in r) + "\n" for r in gt))
    (seq_dir / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={fps}\nseqLength={frames}\nimWidth={width}\n"
        f"imHeight={height}\nimExt=.png\n")
    facts = ["class", "dir", "width", "height", "fps", "bit_depth", "first_frame", "frames", "intra_period"]
    seq = {"name": name, "class": "SYN", "dir": name, "width": width, "height": height, "fps": fps, "bit_depth": 8,
           "first_frame": 0, "frames": frames, "intra_period": 32,
           "annotations": {"file": f"{name}/gt/gt.txt", "format": "mot-gt"},
           "sources": {f: "synthetic" for f in facts}}
    cond = {
        "schema_version": 1, "name": condition, "version": 1,
        "title": f"Synthetic tracking sequence {width}x{height} {fps} fps ({frames} frames) for the tracking tests",
        "description": "Four people cut out of coco-tiny-cc pictures (CC BY) walking across a coco-tiny-cc "
                       "background on known paths (two crossing, one leaving, one entering), made by "
                       "tests/video_fixture.py at test time with its ground truth.",
        "kind": "feature" if feature else "image",
        "dataset": {
            "name": "synthetic-tracking", "source": SOURCE, "references": {"synthetic": SOURCE},
            "sequences": [seq],
            "qp_ladders": {"SYN": {"qps": list(qps), "source": SOURCE}},
            "report_classes": {"SYN": {"sequences": [name], "source": SOURCE}},
        },
        "task": {"type": "tracking", "network": network, "score_threshold": 0.5,
                 "source": "SSD-MobileNetV2 (DESIGN.md 5.6) persons + the JDE association without embeddings; "
                           "detection confidence 0.5 as the JDE wrapper's conf_threshold"},
        "codec": {"name": "vvenc", "version": "1.15", "preset": "faster", "scales": [1.0], "input_bit_depth": 8,
                  "internal_bit_depth": 10, "chroma_format": 400 if feature else 420, "structure": "low-delay",
                  "source": SOURCE},
        "preprocess": {"color": "bt601-full-int", "source": SOURCE},
        "rate": {"definition": "kbps-sequence", "side_info": "none", "source": SOURCE},
        "metric": {"name": "mota", "iou_type": "bbox", "iou": 0.5, "quality_key": "MOTA", "report": ["MOTA", "IDF1"],
                   "mot": mot, "source": SOURCE},
        "bd": {"method": "pchip-jvet", "quality": "MOTA", "source": SOURCE},
        "ground_truth": {"mode": "annotations", "source": SOURCE},
    }
    if feature:  # as make_synthetic_sequence: split_point moves into task, 4:0:0 at the quantisation bit depth
        feature = dict(feature)
        cond["task"]["split_point"] = feature.pop("split_point", "heads")
        cond["codec"]["input_bit_depth"] = int(feature.get("quant_bits", 10))
        cond["feature"] = feature
    if twin:
        cond["bd"]["twin"] = twin
    path = root / f"{condition}.yaml"
    path.write_text(yaml.safe_dump(cond, sort_keys=False))
    return SyntheticSequence(data_dir=data, condition_path=path, name=name, frames=frames, first_frame=0,
                             layout="png", condition=condition)
