"""Feature coding of video (DESIGN.md §2, §5.7): a sequence's split features, packed frame by frame, coded as ONE
inter bitstream at one QP, decoded features through the back half of the network frame by frame.

``feature_sequence_job`` (``KIND_FEATURE_SEQUENCE``; ``run.video_plan`` makes the specs), in order:

1. per evaluated frame ``k``: the frame's features (``features.cache.FeatureCache``, keyed by
   ``features.cache.frame_digest``: computed once per frame by the sequence's reference job, loaded by every QP; computed
   here when absent) -> the coded layers quantised with the condition's quantiser (``run.feature_jobs.quantiser_for``:
   the fixed range of the condition, or the frame's own range, sent as side information) -> tiled and stacked
   (``features.packing.pack``) -> padded to even size -> one 4:0:0 picture at ``quant_bits``, appended to ONE
   planar 4:0:0 file (every frame the same layout, hence the same size);
2. ``run.sequence_jobs.code_sequence`` (shared with the picture sequence job): ``encode_sequence`` with the
   condition's structure (VVenC, VTM), verification of every picture against the expected 4:0:0 frames at the
   internal bit depth (VVenC: encoded with the hash SEI, verified against it, kept and rated without it), the
   bitstream kept as ``RUNDIR/bitstreams/<sequence>_qp<QP>.266``;
3. frame by frame (never the whole sequence in memory): the decoded picture -> cropped to the packed size ->
   unpacked and de-quantised with that frame's quantiser -> derived layers (``p6``) -> ``FrameOutputs(task,
   fps).features(feats, (W, H))`` (a detector's head, or a tracker's ``detect_features`` + association); the
   decoded features' quality against the originals (``metrics.quality.feature_quality``) per frame.

Record (the picture sequence job's, ``run.sequence_jobs.coded_sequence_extra``): ``bits`` = 8 x the kept
bitstream's size, ``side_info_bits`` = frames x ``feature.header.bits`` + ``feature.header.sequence_bits`` (once a
sequence: CompressAI-Vision's 13-byte sequence header before 8 bytes a frame) when the condition counts its side
information (``side_info: counted``, as the image feature jobs count it per picture), ``extra.kbps`` over the
sequence with the side information (``metrics.rate.kbps``), ``extra.quality`` = the per-frame quality summarised
(mean over frames of each frame's MSE and PSNR, overall and per layer), ``extra.layout`` (packed size, offsets),
``extra.range`` (the fixed range, or every frame's).  Predictions ``{"frames": [...]}`` as the picture sequence
job's, so ``run.video_results`` scores both alike.

The cache (``RUNDIR/features/<key>.npz``, float32, exact): one file per (sequence content, colour mode, frame,
network signature, split point).  Its size per frame is the network's split tensors: SSD-MobileNetV2 at its heads
(300x300 input) 352,192 values = 1.4 MB; JDE 1088x608 at the TVD layers 4,630,528 values = 18.5 MB (a 3000-frame
TVD sequence: 56 GB), at the HiEve layers 9.3 MB.  ``run.video_plan.feature_cache_plan`` decides per run: cached
when the run's frames fit ``FEATURE_CACHE_AUTO_BYTES`` (or as ``VideoRunOptions.feature_cache`` says); otherwise
(``extra.feature_cache`` False) every job computes the features of each frame itself, twice in a code job (to
pack, then as the originals of the quality figures), and nothing is stored.  float16 would halve the cache but not
be exact (an 11-bit mantissa against 10-bit codes moves codes at rounding boundaries).  A run removes nothing from
the cache.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core.records import JobRecord
from .feature_jobs import quantiser_for
from .frame_outputs import FrameOutputs
from .jobs import JobSpec, get_cached_codec, get_cached_task, job_workspace
from .sequence_jobs import code_sequence, coded_sequence_extra


def summarise_quality(per_frame: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-frame ``feature_quality`` results as one summary: the mean over frames of the MSE and of the PSNR,
    overall and per layer (a PSNR mean is None when a frame's PSNR is not finite), and each frame's overall pair."""
    def mean(vals: list[Any]) -> float | None:
        return None if not vals or any(v is None for v in vals) else float(sum(vals)) / len(vals)

    layers = list((per_frame[0].get("layers") or {}) if per_frame else {})
    return {"frames": len(per_frame), "feature_mse": mean([q["feature_mse"] for q in per_frame]),
            "feature_psnr": mean([q["feature_psnr"] for q in per_frame]),
            "layers": {n: {"mse": mean([q["layers"][n]["mse"] for q in per_frame]),
                           "psnr": mean([q["layers"][n]["psnr"] for q in per_frame])} for n in layers},
            "per_frame": [{"feature_mse": q["feature_mse"], "feature_psnr": q["feature_psnr"]} for q in per_frame],
            "summary": "mean over frames of each frame's MSE / PSNR (peak: the frame's original range)"}


def feature_sequence_job(spec: JobSpec) -> dict[str, Any]:
    from ..coding.yuv import YuvFormat, read_yuv
    from ..features.cache import FeatureCache
    from ..features.packing import derive_p6, even_size, pack, unpack
    from ..metrics.quality import feature_quality
    from ..metrics.rate import kbps

    extra = dict(spec.extra)
    f = json.loads(extra["feature"])
    run_dir = Path(spec.run_dir)
    ref = spec.image
    codec = get_cached_codec(spec.codec, spec.codec_options)
    task = get_cached_task(spec.task, spec.task_options)
    cache = FeatureCache(run_dir, f["split"])
    keep = bool(extra.get("feature_cache", True))  # False: a run too big to cache computes each frame's features here
    size = (ref.width, ref.height)
    with job_workspace(spec) as tmp:
        src = tmp / "features.yuv"
        quantisers, lay, fmt = [], None, None
        front_s = pack_s = 0.0
        with open(src, "wb") as fh:
            for k in range(ref.frames):
                t0 = time.perf_counter()
                feats = cache.frame(task, ref, k, spec.color, store=keep)
                t1 = time.perf_counter()
                coded_feats = {n: feats[n] for n in f["layers"]}
                qz = quantiser_for(f, coded_feats, f"{ref.name} frame {k}")
                pic, lay_k = pack(coded_feats, f["tiling"], f["layers"], qz)
                pic = even_size(pic, qz.fill())
                if lay is None:
                    lay, fmt = lay_k, YuvFormat(pic.shape[1], pic.shape[0], 400, f["bits"])
                elif (pic.shape[1], pic.shape[0]) != (fmt.width, fmt.height):  # a network gives every frame one shape
                    from ..core.errors import DataError

                    raise DataError(f"{ref.name} frame {k}: its packed features are {pic.shape[1]}x{pic.shape[0]}, "
                                    f"frame 0's {fmt.width}x{fmt.height}; a sequence is coded at one picture size.")
                fh.write(pic.astype("<u2").tobytes())
                quantisers.append(qz)
                front_s += t1 - t0
                pack_s += time.perf_counter() - t1
        coded = code_sequence(spec, codec, src, fmt, tmp)
        verdict, expected = coded.verdict, coded.expected

        predictions = None
        head_s = post_s = 0.0
        quality: dict[str, Any] = {}
        if verdict.ok:
            outputs = FrameOutputs(task, ref.fps)
            frames: list[dict[str, Any]] = []
            per_frame: list[dict[str, Any]] = []
            path = coded.decoded_path
            for k in range(ref.frames):
                t2 = time.perf_counter()
                (y,) = read_yuv(path, expected, frame=k)[:1]
                if expected.bit_depth != f["bits"]:
                    y = (y.astype(np.int64) >> (expected.bit_depth - f["bits"])).astype(np.uint16)
                rec_feats = unpack(y[:lay.height, :lay.width], lay, quantisers[k])
                originals = cache.frame(task, ref, k, spec.color, store=keep)
                per_frame.append(feature_quality({n: originals[n] for n in f["layers"]}, rec_feats))
                if "p6" in f["derived"]:
                    rec_feats["p6"] = derive_p6(rec_feats["p5"])
                t3 = time.perf_counter()
                frames.append(outputs.features(rec_feats, size))
                post_s += t3 - t2
                head_s += time.perf_counter() - t3
            predictions = {"frames": frames}
            quality = summarise_quality(per_frame)
        side = (int(f["header_bits"]) * ref.frames + int(f.get("header_sequence_bits", 0))
                if f["side_info"] == "counted" else 0)
        per_frame_range = f["range"]["mode"] != "fixed"
        rng: Any = ([[q.lo, q.hi] for q in quantisers] if per_frame_range else [quantisers[0].lo, quantisers[0].hi])
        rec = JobRecord(
            job_id=spec.job_id, image_id=ref.name, scale=1.0, qp=spec.qp, width=ref.width, height=ref.height,
            coded_width=fmt.width, coded_height=fmt.height, bits=coded.bits, verified=bool(verdict.ok),
            verdict=verdict.reason, encode_seconds=float(coded.enc.seconds), decode_seconds=float(coded.verify_seconds),
            task_seconds=float(front_s + head_s), bitstream=str(coded.bitstream.relative_to(run_dir)),
            side_info_bits=side,
            extra={**coded_sequence_extra(coded, spec),
                   "kbps": kbps(coded.bits + side, ref.fps, ref.frames),
                   "bpp": (coded.bits + side) / float(ref.width * ref.height * ref.frames),
                   "quality": quality, "range": rng, "side_info": f["side_info"],
                   "layout": {"width": lay.width, "height": lay.height, "offsets": lay.offsets,
                              "coded_width": fmt.width, "coded_height": fmt.height, "bit_depth": fmt.bit_depth},
                   "front_seconds": front_s, "back_seconds": head_s, "preprocess_seconds": pack_s,
                   "postprocess_seconds": post_s, "features_computed": cache.computed},
            signature=spec.signature)
        return {"record": rec.to_dict(), "predictions": predictions, "commands": coded.commands}
