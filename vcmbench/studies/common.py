"""Helpers the study types share: the split network and clean features per worker, COCO AP of a
variant, quality of feature pictures, and VVenC coding of a picture (image or one-channel features)
through the run's encode -> verify step (``run.jobs.encode_and_verify``; bitstreams kept under
``OUT/bitstreams``)."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ..conditions.datasets import coco_json_ref, load_rgb
from ..core.errors import ConditionError, DataError
from ..metrics import quality
from ..run.jobs import get_cached_task

_FEATS: "OrderedDict[tuple, dict]" = OrderedDict()
AP_KEYS = ("AP", "APs", "APm", "APl")
# libvvenc (FFmpeg 9) refuses a picture less than 16 samples high or wide (measured: 16x8 fails, 16x16 codes):
# a smaller one-channel picture (S2's per-layer picture of a 1x1 map) is padded by edge replication
VVENC_MIN_SIDE = 16


def split_task(job):
    task = get_cached_task(job.task, job.task_options)
    if not task.split_points:
        raise ConditionError(f"Task network {job.task!r} cannot be split; this study needs a split-capable backend "
                             "(see `vcmbench tasks`).")
    return task


def clean(job) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The image and its clean features (kept for the last few images in this worker)."""
    key = (job.task, job.task_options, job.image.digest)
    rgb = load_rgb(job.image)
    if key not in _FEATS:
        _FEATS[key] = split_task(job).features(rgb)
        while len(_FEATS) > 4:
            _FEATS.popitem(last=False)
    _FEATS.move_to_end(key)
    return rgb, _FEATS[key]


_FEAT_SECONDS: dict[tuple, float] = {}


def clean_timed(job) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """:func:`clean` and the seconds the split network's front took to extract the features of this image
    (measured when they were extracted; features cached by another call are extracted again to measure
    them), so that a study can count feature extraction in every job of an image (S1's end-to-end time)."""
    import time

    key = (job.task, job.task_options, job.image.digest)
    if key not in _FEATS or key not in _FEAT_SECONDS:
        _FEATS.pop(key, None)
        t0 = time.perf_counter()
        clean(job)
        _FEAT_SECONDS[key] = time.perf_counter() - t0
        while len(_FEAT_SECONDS) > 64:
            _FEAT_SECONDS.pop(next(iter(_FEAT_SECONDS)))
    rgb, feats = clean(job)
    return rgb, feats, _FEAT_SECONDS[key]


def layers_of(task, feats: dict[str, np.ndarray]) -> list[str]:
    return [k for k in (task.feature_layers or sorted(feats)) if k in feats]


def head(job, feats: dict[str, np.ndarray]) -> dict[str, Any]:
    return split_task(job).head(feats, (job.image.width, job.image.height)).to_json()


def picture_quality(ref: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None,
                    blocks: list[tuple[int, int, int, int]] | None = None) -> tuple[float, float]:
    """(SSIM, PSNR) of two float pictures on the 0..255 scale: PSNR over ``mask``; SSIM as the
    area-weighted mean over ``blocks`` (y, x, h, w) at least 11 samples on each side (the layers'
    tiled blocks: padding between them would inflate both figures)."""
    ref = np.asarray(ref, np.float64)
    test = np.asarray(test, np.float64)
    sel = mask if mask is not None else np.ones(ref.shape, bool)
    p = quality.psnr(ref[sel], test[sel], data_range=255.0)
    blocks = blocks or [(0, 0, ref.shape[0], ref.shape[1])]
    num = den = 0.0
    for y, x, h, w in blocks:
        if h >= 11 and w >= 11:
            num += quality.ssim(ref[y:y + h, x:x + w], test[y:y + h, x:x + w], data_range=255.0) * h * w
            den += h * w
    return (num / den if den else float("nan")), p


def fp_blocks(fp) -> list[tuple[int, int, int, int]]:
    lay = fp.layout
    out = []
    for k in lay.layers:
        c, h, w = lay.shapes[k]
        tw, th = lay.tiling[k]
        out.append((lay.offsets[k], 0, th * h, tw * w))
    return out


def gt_path(ctx: dict[str, Any], cond) -> Path:
    ref = coco_json_ref(cond)
    if ref is None:
        raise ConditionError(f"Condition {cond.name} has no COCO annotations; this study scores COCO AP.")
    if not ctx.get("data_dir"):
        raise DataError("The study needs --data (the folder holding the condition's annotations and images).")
    return Path(ctx["data_dir"]) / ref["file"]


def coco_ap(gt_file: Path, records: list[dict[str, Any]], iou_type: str = "bbox") -> dict[str, float]:
    """COCO AP/APs/APm/APl (fractions) of the detections in ``records`` over their images."""
    from ..metrics.coco import coco_category_map, coco_evaluate, detections_to_coco, load_coco_gt
    from ..tasks.base import Detections
    from ..tasks.coco_names import COCO_NAMES

    gt = load_coco_gt(gt_file)
    cmap = coco_category_map(gt, list(COCO_NAMES))
    preds: list[dict] = []
    for r in records:
        preds += detections_to_coco(int(r["eval_id"]), Detections.from_json(r["detections"]), cmap, iou_type)
    return coco_evaluate(gt, preds, iou_type, image_ids=sorted({int(r["eval_id"]) for r in records}))


def group(records: list[dict[str, Any]], key: str = "variant") -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[r[key]].append(r)
    return out


def mean(values) -> float:
    v = [float(x) for x in values if x is not None and not np.isnan(float(x))]
    return float(np.mean(v)) if v else float("nan")


# -- VVenC coding of one picture ----------------------------------------------------------------------------
def code_picture(job, planes_or_rgb: np.ndarray, qp: int, *, preset: str = "medium", loop_filter: bool = True,
                 chroma: int = 420, tag: str = "") -> tuple[np.ndarray, int]:
    """Code an 8-bit picture (HxWx3 RGB, or HxW one channel) with VVenC at ``qp``; returns the
    decoded picture (same shape, uint8) and the bits.  One-channel pictures are coded as 4:0:0
    (``chroma: 400``) or as 4:2:0 with the channel replicated into Y and constant chroma
    (``chroma: 420``: U = V = 128, the seed paper's "single channel replicated"); RGB pictures as
    4:2:0 with the CTC colour conversion.  The bitstream is verified by decoding and kept."""
    from ..coding.yuv import YuvFormat, ctc_prepare, ctc_restore, read_yuv, rgb_to_yuv, write_yuv
    from ..features.packing import even_size
    from ..run.jobs import JobSpec, encode_and_verify, get_cached_codec, job_workspace, yuv_to_rgb_file

    codec = get_cached_codec("vvenc", ())
    a = np.asarray(planes_or_rgb)
    # the kept bitstream is named after the image id (run.jobs.bitstream_name): give each study coding its own,
    # so that no two jobs (variants, layer pictures) write, keep or measure the same file
    image = dataclasses.replace(job.image, image_id=f"{job.image.image_id}_{job.job_id}{tag}")
    spec = JobSpec(job_id=f"{job.job_id}{tag}", kind="code", image=image, run_dir=job.run_dir, task=job.task,
                   task_options=job.task_options, qp=int(qp), codec="vvenc",
                   encode=(("preset", preset), ("loop_filter", bool(loop_filter))), signature=job.signature)
    Path(job.run_dir, "bitstreams").mkdir(exist_ok=True)
    with job_workspace(spec) as tmp:
        src = tmp / "src.yuv"
        if a.ndim == 3:
            prepared = ctc_prepare(a, 1.0)
            fmt = YuvFormat(prepared.shape[1], prepared.shape[0], 420, 8)
            write_yuv(src, rgb_to_yuv(prepared, mode="ctc", chroma=420, bit_depth=8), fmt)
        else:
            y = even_size(a.astype(np.uint8))
            h, w = y.shape
            if h < VVENC_MIN_SIDE or w < VVENC_MIN_SIDE:  # (cropped back after decoding; the padding is coded)
                y = np.pad(y, ((0, max(0, VVENC_MIN_SIDE - h)), (0, max(0, VVENC_MIN_SIDE - w))), mode="edge")
                h, w = y.shape
            if chroma == 400:
                fmt = YuvFormat(w, h, 400, 8)
                write_yuv(src, [y], fmt)
            else:
                fmt = YuvFormat(w, h, 420, 8)
                c = np.full((h // 2, w // 2), 128, np.uint8)
                write_yuv(src, [y, c, c], fmt)
        coded = encode_and_verify(spec, codec, src, fmt, tmp)
        if not coded.verdict.ok:
            raise DataError(f"VVenC bitstream of {job.variant} image {job.image.image_id} QP {qp} did not verify: "
                            f"{coded.verdict.reason}")
        bits = int(coded.bitstream.stat().st_size * 8)
        if a.ndim == 3:
            dec = yuv_to_rgb_file(coded.decoded, coded.expected, "ctc")
            return ctc_restore(dec, a.shape[1], a.shape[0], 1.0), bits
        y = read_yuv(coded.decoded, coded.expected)[0]
        if coded.expected.bit_depth != 8:
            y = np.clip((y.astype(np.int64) + (1 << (coded.expected.bit_depth - 9))) >> (coded.expected.bit_depth - 8),
                        0, 255)
        return y[:a.shape[0], :a.shape[1]].astype(np.uint8), bits


def coco_ap_records(gt_file: Path, records: list[dict[str, Any]], eval_ids: list[int],
                    keys=("AP", "AP50", "APs", "APm", "APl"), iou_type: str = "bbox"):
    """COCO AP/AR (fractions, as :func:`coco_ap`) of ``records`` over the images ``eval_ids``, and per key of
    ``keys`` the per-image records (``metrics.item_records.coco_item_records``, items in ``eval_ids`` order)
    that recompute the figure on a resampled image set (``records[k].accuracy(weights)``; NaN where
    pycocotools gives -1).  One ``evaluate()`` serves both."""
    import contextlib
    import io

    from ..metrics.coco import STAT_KEYS, coco_category_map, coco_evaluated, detections_to_coco, load_coco_gt
    from ..metrics.item_records import coco_item_records
    from ..tasks.base import Detections
    from ..tasks.coco_names import COCO_NAMES

    gt = load_coco_gt(gt_file)
    cmap = coco_category_map(gt, list(COCO_NAMES))
    preds: list[dict] = []
    for r in records:
        preds += detections_to_coco(int(r["eval_id"]), Detections.from_json(r["detections"]), cmap, iou_type)
    ev = coco_evaluated(gt, preds, iou_type, image_ids=list(eval_ids))
    per_image = {k: coco_item_records(ev, list(eval_ids), k) for k in keys}
    with contextlib.redirect_stdout(io.StringIO()):
        ev.accumulate()
        ev.summarize()
    return dict(zip(STAT_KEYS, (float(s) for s in ev.stats))), per_image
