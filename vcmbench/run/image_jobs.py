"""Image jobs: the task network on the uncompressed image (``reference``), and one (image, scale, QP)
picture coded and scored (``code``): preprocess -> encode -> verify -> decode -> postprocess -> task.

Conventions: the coded picture is the CTC-prepared image (pad to even size at 100 %, FFmpeg
bicubic down-scale below), converted with the condition's colour mode to 4:2:0 at
``codec.input_bit_depth`` bits; the expected bitstream format is 4:2:0 at the internal bit depth;
the decoded picture is converted back to RGB, cropped / scaled back to the original size and given
to the task network.  Each coded job records its picture quality (``extra.quality``:
``metrics.quality.image_quality``).  ``bits`` = 8 x bitstream file size.  Times are wall-clock seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..conditions.datasets import load_rgb
from ..core.records import JobRecord
from .jobs import JobSpec, _small, encode_and_verify, get_cached_codec, get_cached_task, job_workspace

# The last few coded source pictures of this worker: the jobs of one (image, scale) at every QP follow one another
# in the plan, so a worker converts each source once instead of once per QP (the same FFmpeg call, the same bytes).
_SOURCES: dict[Any, Any] = {}
_SOURCES_KEPT = 4
PHASE_ENCODE = "encode"  # JobSpec.extra ("phase", ...): stop before the task network (split phases)
AWAITING_SCORE = "awaiting_score"  # record.extra flag of a verified picture whose task network has not run
DECODED_DIR = "decoded"  # RUNDIR/decoded/<job_id>.png: the task network's input, lossless (encode phase)


def decoded_path(run_dir: str | Path, job_id: str) -> Path:
    return Path(run_dir) / DECODED_DIR / f"{job_id}.png"


def save_decoded(run_dir: Path, job_id: str, rgb: Any, tmp: Path) -> None:
    """Write the restored RGB picture as PNG (lossless: reading it back gives the same array), atomically."""
    import os

    from PIL import Image

    final = decoded_path(run_dir, job_id)
    final.parent.mkdir(exist_ok=True)
    part = tmp / "decoded.png"
    Image.fromarray(rgb).save(part, format="PNG", compress_level=1)
    os.replace(part, final)


def score_job(spec: JobSpec) -> dict[str, Any]:
    """``--phase score`` of one encode-phase picture: the task network on its kept decoded picture."""
    import numpy as np
    from PIL import Image

    from ..core.errors import DataError

    path = decoded_path(spec.run_dir, spec.job_id)
    if not path.is_file():
        raise DataError(f"{path} is missing: the encode phase's decoded picture is gone; delete the job's row by "
                        "re-running `--phase encode` in a fresh --out, or run without --phase.")
    task = get_cached_task(spec.task, spec.task_options)
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    t0 = time.perf_counter()
    predictions = task.run(rgb).to_json()
    return {"predictions": predictions, "task_seconds": time.perf_counter() - t0}


def reference_job(spec: JobSpec) -> dict[str, Any]:
    """The network on the uncompressed image.  In a feature run (``extra`` names the split point) it is
    ``head(features)`` (= ``run``, the split contract) with the features computed into the run's feature
    cache, which every coded job of the image then loads."""
    task = get_cached_task(spec.task, spec.task_options)
    split = dict(spec.extra).get("split_point")
    t0 = time.perf_counter()
    if split:
        from ..features.cache import FeatureCache

        feats = FeatureCache(spec.run_dir, split).get_or_compute(task, spec.image, load_rgb)
        det = task.head(feats, (spec.image.width, spec.image.height))
    else:
        det = task.run(load_rgb(spec.image))
    dt = time.perf_counter() - t0
    rec = {"job_id": spec.job_id, "image_id": spec.image.image_id, "width": spec.image.width,
           "height": spec.image.height, "task_seconds": dt, "signature": spec.signature}
    return {"record": rec, "predictions": det.to_json(), "commands": []}


def code_job(spec: JobSpec) -> dict[str, Any]:
    from ..coding.yuv import YuvFormat, ctc_rgb_to_yuv, ctc_yuv_to_rgb, read_yuv, write_yuv
    from ..core.process import recording_commands
    from ..metrics.quality import image_quality

    run_dir = Path(spec.run_dir)
    codec = get_cached_codec(spec.codec, spec.codec_options)
    task = get_cached_task(spec.task, spec.task_options)
    img = spec.image
    with job_workspace(spec) as tmp:
        t0 = time.perf_counter()
        key = (img.digest, spec.scale, spec.color, spec.input_bit_depth)
        cached = _SOURCES.get(key)
        if cached is None:  # the coded picture depends on (image, scale, colour, bit depth) only, not on the QP
            with recording_commands() as cmds:  # FFmpeg pad/scale and colour conversion, for commands.log
                rgb = load_rgb(img)
                planes = ctc_rgb_to_yuv(rgb, spec.scale, mode=spec.color, bit_depth=spec.input_bit_depth)
            cached = _SOURCES[key] = (rgb, planes, [list(c) for c in cmds])
            while len(_SOURCES) > _SOURCES_KEPT:
                _SOURCES.pop(next(iter(_SOURCES)))
        rgb, src_planes, pre_cmds = cached  # the same commands whichever job of the group made them
        ch, cw = src_planes[0].shape
        fmt_in = YuvFormat(cw, ch, 420, spec.input_bit_depth)
        src = tmp / "src.yuv"
        write_yuv(src, src_planes, fmt_in)
        pre_s = time.perf_counter() - t0

        coded = encode_and_verify(spec, codec, src, fmt_in, tmp)
        enc, verdict, expected, final_bs = coded.enc, coded.verdict, coded.expected, coded.bitstream
        decoded = coded.decoded

        predictions = None
        post_s = task_s = quality_s = 0.0
        encode_only = dict(spec.extra).get("phase") == PHASE_ENCODE
        post_cmds: list[list[str]] = []
        quality: dict[str, Any] = {}
        if verdict.ok:
            t2 = time.perf_counter()
            with recording_commands() as post_cmds:
                dec_planes = read_yuv(decoded, expected)
                restored = ctc_yuv_to_rgb(dec_planes, expected, img.width, img.height, spec.scale, mode=spec.color)
            if encode_only:  # the task network's exact input, kept losslessly for `--phase score`
                save_decoded(run_dir, spec.job_id, restored, tmp)
            post_s = time.perf_counter() - t2
            # RGB PSNR / MS-SSIM of the restored picture against the original (its MS-SSIM reference side computed
            # once per original in this worker, reused by its QPs and scales); YUV PSNR of the coded picture
            t_q = time.perf_counter()
            quality = image_quality(rgb, restored, src_planes, dec_planes, spec.input_bit_depth, expected.bit_depth,
                                    ref_key=("image", img.digest))
            quality_s = time.perf_counter() - t_q
            if not encode_only:
                t3 = time.perf_counter()
                predictions = task.run(restored).to_json()
                task_s = time.perf_counter() - t3
        rec = JobRecord(
            job_id=spec.job_id, image_id=img.image_id, scale=spec.scale, qp=spec.qp, width=img.width,
            height=img.height, coded_width=cw, coded_height=ch, bits=int(final_bs.stat().st_size * 8),
            verified=bool(verdict.ok), verdict=verdict.reason, encode_seconds=float(enc.seconds),
            decode_seconds=float(coded.verify_seconds), task_seconds=float(task_s),
            bitstream=str(final_bs.relative_to(run_dir)),
            extra={"preprocess_seconds": pre_s, "postprocess_seconds": post_s, "quality_seconds": quality_s,
                   "decoded_md5": verdict.decoded_md5,
                   "checks": sorted(verdict.checks), "encoder_info": _small(enc.info), "quality": quality,
                   "bitstream_sha256": coded.sha256,
                   **({"first_verdict": coded.first_reason} if coded.first_reason else {}),
                   **({AWAITING_SCORE: True} if encode_only and verdict.ok else {})},
            signature=spec.signature)
        commands = [*pre_cmds, *coded.commands, *post_cmds]
        return {"record": rec.to_dict(), "predictions": predictions, "commands": commands}
