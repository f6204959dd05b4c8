"""Feature-coding jobs (DESIGN.md §2 F-VCM branch, §5.2): executed in workers by ``execute.execute_job``.

``frange_job``: the min/max of an image's coded layers (the dataset's global range is their
min/max).  ``feature_job``: ``task.features(image)`` -> quantise + tile + stack (vcmbench.features.packing)
-> pad to even size -> 4:0:0 YUV at ``quant_bits`` -> encode -> verify (expected 4:0:0 at the
internal bit depth) -> decode -> crop -> unpack + de-quantise -> derived layers (``p6`` =
``maxpool(p5, 1, 2)``) -> ``task.head`` -> detections on the original image.

Rate: ``bits`` = 8 x bitstream size; with a per-image range and ``side_info: counted`` the two
float32 range values (64 bits) are added as ``side_info_bits``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core.records import JobRecord
from .jobs import JobSpec, _small, encode_and_verify, get_cached_codec, get_cached_task, job_workspace

SIDE_BITS_PER_IMAGE = 64  # float32 min and max


def _settings(spec: JobSpec) -> dict[str, Any]:
    return json.loads(dict(spec.extra)["json"])


def frange_job(spec: JobSpec) -> dict[str, Any]:
    from ..conditions.datasets import load_rgb

    f = _settings(spec)
    task = get_cached_task(spec.task, spec.task_options)
    feats = task.features(load_rgb(spec.image))
    lo = min(float(np.min(feats[k])) for k in f["layers"])
    hi = max(float(np.max(feats[k])) for k in f["layers"])
    rec = {"job_id": spec.job_id, "image_id": spec.image.image_id, "min": lo, "max": hi, "signature": spec.signature}
    return {"record": rec, "predictions": None, "commands": []}


def feature_job(spec: JobSpec) -> dict[str, Any]:
    from ..coding.yuv import YuvFormat, read_yuv, write_yuv
    from ..conditions.datasets import load_rgb
    from ..features.packing import derive_p6, even_size, pack, quantise, unpack

    f = _settings(spec)
    run_dir = Path(spec.run_dir)
    codec = get_cached_codec(spec.codec, spec.codec_options)
    task = get_cached_task(spec.task, spec.task_options)
    img = spec.image
    with job_workspace(spec) as tmp:
        t0 = time.perf_counter()
        feats = task.features(load_rgb(img))
        net_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if f["range"] is not None:
            lo, hi = f["range"]
            side = 0
        else:
            lo = min(float(np.min(feats[k])) for k in f["layers"])
            hi = max(float(np.max(feats[k])) for k in f["layers"])
            side = SIDE_BITS_PER_IMAGE if f["side_info"] == "counted" else 0
        pic, lay = pack({k: feats[k] for k in f["layers"]}, f["tiling"], f["layers"], lo, hi, f["bits"])
        pic = even_size(pic, int(quantise(np.zeros(1), lo, hi, f["bits"])[0]) if lo <= 0 <= hi else 0)
        ph, pw = pic.shape
        fmt_in = YuvFormat(pw, ph, 400, f["bits"])
        src = tmp / "features.yuv"
        write_yuv(src, [pic], fmt_in)
        pre_s = time.perf_counter() - t0

        coded = encode_and_verify(spec, codec, src, fmt_in, tmp)
        enc, verdict, expected, final_bs = coded.enc, coded.verdict, coded.expected, coded.bitstream
        predictions = None
        post_s = 0.0
        if verdict.ok:
            t2 = time.perf_counter()
            (y,) = read_yuv(coded.decoded, expected)[:1]
            if expected.bit_depth != f["bits"]:
                y = (y.astype(np.int64) >> (expected.bit_depth - f["bits"])).astype(np.uint16)
            rec_feats = unpack(y[:lay.height, :lay.width], lay, lo, hi, f["bits"])
            if "p6" in f["derived"]:
                rec_feats["p6"] = derive_p6(rec_feats["p5"])
            post_s = time.perf_counter() - t2
            t3 = time.perf_counter()
            predictions = task.head(rec_feats, (img.width, img.height)).to_json()
            net_s += time.perf_counter() - t3
        rec = JobRecord(
            job_id=spec.job_id, image_id=img.image_id, scale=1.0, qp=spec.qp, width=img.width, height=img.height,
            coded_width=pw, coded_height=ph, bits=int(final_bs.stat().st_size * 8), verified=bool(verdict.ok),
            verdict=verdict.reason, encode_seconds=float(enc.seconds), decode_seconds=float(coded.verify_seconds),
            task_seconds=float(net_s), bitstream=str(final_bs.relative_to(run_dir)), side_info_bits=side,
            extra={"preprocess_seconds": pre_s, "postprocess_seconds": post_s, "decoded_md5": verdict.decoded_md5,
                   "checks": sorted(verdict.checks), "encoder_info": _small(enc.info), "range": [lo, hi],
                   "layout": {"width": lay.width, "height": lay.height, "offsets": lay.offsets},
                   **({"first_verdict": coded.first_reason} if coded.first_reason else {})},
            signature=spec.signature)
        return {"record": rec.to_dict(), "predictions": predictions, "commands": coded.commands}
