"""Feature-coding jobs (DESIGN.md §2 F-VCM branch, §5.2): executed in workers by ``execute.execute_job``.

``feature_job``: the image's features (``features.cache.FeatureCache``: computed once per image by
its reference job, loaded by every QP) -> quantise + tile + stack with the condition's quantiser
(``features.packing.Quantiser``: fixed range from the condition, or the picture's own range sent as
side information) -> pad to even size -> 4:0:0 YUV at ``quant_bits`` -> encode -> verify (expected
4:0:0 at the internal bit depth) -> decode -> crop -> unpack + de-quantise -> derived layers (``p6`` =
``maxpool(p5, 1, 2)``) -> ``task.head`` -> detections on the original image.  The decoded features'
quality against the originals (MSE and PSNR per coded layer and over all of them) is stored in the
job record (``extra.quality``).

Rate: ``bits`` = 8 x bitstream size; with ``side_info: counted`` the condition's per-image header
(``feature.header.bits``: e.g. two float32 for a per-image range, or CompressAI-Vision's 21-byte
header) is added as ``side_info_bits``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..conditions import Condition
from ..core.errors import ConditionError, DataError
from ..core.records import JobRecord
from .jobs import JobSpec, _small, encode_and_verify, get_cached_codec, get_cached_task, job_workspace


def _settings(spec: JobSpec) -> dict[str, Any]:
    return json.loads(dict(spec.extra)["json"])


def quantiser_for(f: dict[str, Any], feats: dict[str, np.ndarray], image_id: str = ""):
    """The condition's quantiser; a per-image range is the picture's float32 min/max (what is sent)."""
    from ..features.packing import Quantiser

    rng = f["range"]
    if rng["mode"] == "fixed":
        lo, hi = rng["min"], rng["max"]
    else:
        lo = float(np.float32(min(float(np.min(feats[k])) for k in f["layers"])))
        hi = float(np.float32(max(float(np.max(feats[k])) for k in f["layers"])))
        if not hi > lo:
            raise DataError(f"Image {image_id}: its coded features are constant ({lo}); a per-image range cannot "
                            "quantise them — use a fixed range in the condition.")
    return Quantiser(lo, hi, f["bits"], f["rounding"], f["formula"], f.get("scale"))


def feature_job(spec: JobSpec) -> dict[str, Any]:
    from ..coding.yuv import YuvFormat, read_yuv, write_yuv
    from ..conditions.datasets import load_rgb
    from ..features.cache import FeatureCache
    from ..features.packing import derive_p6, even_size, pack, unpack
    from ..metrics.quality import feature_quality

    f = _settings(spec)
    run_dir = Path(spec.run_dir)
    codec = get_cached_codec(spec.codec, spec.codec_options)
    task = get_cached_task(spec.task, spec.task_options)
    img = spec.image
    with job_workspace(spec) as tmp:
        t0 = time.perf_counter()
        feats = FeatureCache(run_dir, f["split"]).get_or_compute(task, img, load_rgb)
        net_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        coded_feats = {k: feats[k] for k in f["layers"]}
        qz = quantiser_for(f, coded_feats, img.image_id)
        side = f["header_bits"] if f["side_info"] == "counted" else 0
        pic, lay = pack(coded_feats, f["tiling"], f["layers"], qz)
        pic = even_size(pic, qz.fill())
        ph, pw = pic.shape
        fmt_in = YuvFormat(pw, ph, 400, f["bits"])
        src = tmp / "features.yuv"
        write_yuv(src, [pic], fmt_in)
        pre_s = time.perf_counter() - t0

        coded = encode_and_verify(spec, codec, src, fmt_in, tmp)
        enc, verdict, expected, final_bs = coded.enc, coded.verdict, coded.expected, coded.bitstream
        predictions = None
        post_s = head_s = 0.0
        quality: dict[str, Any] = {}
        if verdict.ok:
            t2 = time.perf_counter()
            (y,) = read_yuv(coded.decoded, expected)[:1]
            if expected.bit_depth != f["bits"]:
                y = (y.astype(np.int64) >> (expected.bit_depth - f["bits"])).astype(np.uint16)
            rec_feats = unpack(y[:lay.height, :lay.width], lay, qz)
            quality = feature_quality(coded_feats, rec_feats)
            if "p6" in f["derived"]:
                rec_feats["p6"] = derive_p6(rec_feats["p5"])
            post_s = time.perf_counter() - t2
            t3 = time.perf_counter()
            predictions = task.head(rec_feats, (img.width, img.height)).to_json()
            head_s = time.perf_counter() - t3
        rec = JobRecord(
            job_id=spec.job_id, image_id=img.image_id, scale=1.0, qp=spec.qp, width=img.width, height=img.height,
            coded_width=pw, coded_height=ph, bits=int(final_bs.stat().st_size * 8), verified=bool(verdict.ok),
            verdict=verdict.reason, encode_seconds=float(enc.seconds), decode_seconds=float(coded.verify_seconds),
            task_seconds=float(net_s + head_s), bitstream=str(final_bs.relative_to(run_dir)), side_info_bits=side,
            extra={"preprocess_seconds": pre_s, "postprocess_seconds": post_s, "decoded_md5": verdict.decoded_md5,
                   "front_seconds": net_s, "back_seconds": head_s,
                   "checks": sorted(verdict.checks), "encoder_info": _small(enc.info), "range": [qz.lo, qz.hi],
                   "quality": quality,
                   "layout": {"width": lay.width, "height": lay.height, "offsets": lay.offsets},
                   **({"first_verdict": coded.first_reason} if coded.first_reason else {})},
            signature=spec.signature)
        return {"record": rec.to_dict(), "predictions": predictions, "commands": coded.commands}


def feature_settings(cond: Condition, task: Any = None) -> dict[str, Any]:
    """The feature section as job settings (see vcmbench.features.packing for the conventions).

    With the built ``task``, each coded layer's tiling is checked against the channel count the
    network publishes (``feature_info``)."""
    f = cond.section("feature")
    if cond.codec["chroma_format"] != 400 or int(f.get("quant_bits", 10)) > int(cond.codec["internal_bit_depth"]):
        raise ConditionError(f"Condition {cond.name}: feature pictures are coded as 4:0:0 at the quantisation bit depth; "
                             "set codec.chroma_format 400 and quant_bits <= internal_bit_depth.")
    side = (cond.section("rate").get("side_info") or f.get("side_info") or "none")
    rng = f["quant_range"]
    out = {"split": cond.task.get("split_point"), "layers": list(f["coded_layers"]),
           "tiling": {k: list(v) for k, v in f["tiling"].items()}, "bits": int(f.get("quant_bits", 10)),
           "range": {"mode": rng["mode"], **({"min": float(rng["min"]), "max": float(rng["max"])}
                                              if rng["mode"] == "fixed" else {})},
           "formula": f.get("quant_formula", "seed-eq1"), "scale": f.get("quant_scale"), "rounding": f["rounding"],
           "header_bits": int((f.get("header") or {}).get("bits", 0)),
           # (video: bits sent once per coded sequence; only when given, so image feature job ids do not move)
           **({"header_sequence_bits": int(f["header"]["sequence_bits"])}
              if int((f.get("header") or {}).get("sequence_bits", 0)) else {}),
           "derived": sorted((f.get("derived_layers") or {})), "side_info": side}
    if task is not None:
        check_tiling(cond, task, out)
    return out


def check_tiling(cond: Condition, task: Any, feature: dict[str, Any]) -> None:
    """Each coded layer's tiling holds exactly the channels the network gives it (ConditionError otherwise)."""
    info_fn = getattr(task, "feature_info", None)
    info = info_fn() if callable(info_fn) else {}
    layers = tuple(getattr(task, "feature_layers", ()) or ())
    for name in feature["layers"]:
        if layers and name not in layers:
            raise ConditionError(f"Condition {cond.name} codes layer {name!r}, but {cond.task['network']!r} gives "
                                 f"{', '.join(layers)}; fix feature.coded_layers.")
        shape = ((info or {}).get(name) or {}).get("shape")
        if shape:
            w, h = feature["tiling"][name]
            if w * h != int(shape[0]):
                raise ConditionError(f"Condition {cond.name}: tiling {w}x{h} of layer {name!r} holds {w * h} tiles, but "
                                     f"{cond.task['network']!r} gives it {shape[0]} channels ({'x'.join(map(str, shape))}); "
                                     "fix feature.tiling so that tiles_wide * tiles_high equals the channel count.")
