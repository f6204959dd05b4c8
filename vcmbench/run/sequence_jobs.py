"""Video jobs: the task network on every uncompressed frame of a sequence (``seqref``), and one sequence coded
at one QP as a single inter bitstream, verified picture by picture and scored frame by frame (``sequence``).

``sequence`` job, in order (``run.video_plan`` makes the specs):

1. the evaluated frames written as ONE planar 4:2:0 file in the job's scratch folder
   (``conditions.sequences.write_source_yuv``: FrameSkip applied, the condition's colour mode for PNG frames);
2. ``coding.sequence.encode_sequence`` with ``work_dir = RUNDIR/partial/<job_id>``: finished segments (split at
   intra periods) are kept there with their checksums, so a job killed after hours of VTM restarts from its
   finished segments; the pipeline removes the folder once the job is stored;
3. ``coding.verify_sequence.verify_sequence`` with every decoder of the run (``run_common.default_decoders``):
   each picture's hash SEI where present, the encoder's reconstruction otherwise; a failed verification is
   repeated once (a decoder process that crashed for a reason outside the stream must not brand it), both
   reasons kept.  VVenC through FFmpeg writes no reconstruction: its sequences are encoded with the
   decoded-picture-hash SEI (``verify_sei``), checked against it, and the SEI is then removed from the kept
   (and rated) stream, which must decode to the same frames (``_without_hash_sei``; the stripped stream is
   byte-equal to an encode without the SEI, tests/unit/test_sequence_coding.py);
4. the bitstream renamed into ``RUNDIR/bitstreams/<sequence>_qp<QP>.266`` only then (a killed job leaves no
   half-written bitstream);
5. frame by frame (never the whole sequence in memory): the decoded frame -> RGB with the condition's colour
   mode (``yuv_frame_to_rgb``) -> the task network; PSNR of the decoded frame against the coded source frame.

The record (``core.records.JobRecord``; the "Run storage contract" of the video design): ``bits`` = 8 x the
joined bitstream's size, ``extra`` = frames, fps, first_frame, intra_period, structure, split, kbps
(``metrics.rate.kbps``), bpp, segments, join, pictures (per-picture verification), checks,
bitstream_sha256, encoder_info, quality (``metrics.quality.sequence_psnr``), timings.  Predictions:
``{"frames": [the output of each evaluated frame, in order]}`` (``run.frame_outputs``: Detections JSON, or Tracks JSON
for a tracker).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..core.records import JobRecord
from .frame_outputs import FrameOutputs
from .jobs import JobSpec, _small, get_cached_codec, get_cached_task, job_workspace, verification_decoders

PARTIAL_DIR = "partial"  # RUNDIR/partial/<job_id>: a sequence job's finished segments until the job is stored


def partial_dir(run_dir: str | Path, job_id: str) -> Path:
    return Path(run_dir) / PARTIAL_DIR / job_id


def remove_partial(run_dir: str | Path, job_id: str) -> None:
    """Drop a stored job's finished segments (its joined bitstream is kept under ``bitstreams/``)."""
    shutil.rmtree(partial_dir(run_dir, job_id), ignore_errors=True)


def remove_stale_partials(run_dir: str | Path, planned: set[str], keep: Callable[[str], bool] | None = None
                          ) -> list[str]:
    """Remove the ``RUNDIR/partial/<job_id>`` folders of jobs that are not ``planned`` (a planned job's folder is
    its resume state) and not kept by ``keep(job_id)`` (jobs another selection of this run directory may resume:
    the caller's choice); the removed job ids, sorted."""
    root = Path(run_dir) / PARTIAL_DIR
    if not root.is_dir():
        return []
    gone = sorted(d.name for d in root.iterdir() if d.is_dir() and d.name not in planned
                  and not (keep and keep(d.name)))
    for job_id in gone:
        remove_partial(run_dir, job_id)
    return gone


def _plain(obj: Any) -> Any:
    """``obj`` as JSON data (paths as text): what the store writes."""
    import json

    return json.loads(json.dumps(obj, default=str))


def sequence_bitstream_name(spec: JobSpec) -> str:
    """``<sequence>_qp<QP>.266`` (characters outside ``[A-Za-z0-9._-]`` of the name become ``_``)."""
    import re

    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(spec.image.name)) or "sequence"
    return f"{name}_qp{spec.qp}.266"


def sequence_reference_job(spec: JobSpec) -> dict[str, Any]:
    """The network on every uncompressed evaluated frame, in order.  In a feature run (``extra`` names the split
    point) each frame's output is ``features`` (computed into the run's feature cache, which every coded job of the
    sequence then loads: ``run.feature_sequence_jobs``) through the back half (= the whole network, the split
    contract)."""
    from ..conditions.sequences import frame_rgb

    ref = spec.image
    task = get_cached_task(spec.task, spec.task_options)
    outputs = FrameOutputs(task, ref.fps)
    split = dict(spec.extra).get("split_point")
    cache = None
    if split:
        from ..features.cache import FeatureCache

        cache = FeatureCache(spec.run_dir, split)
    frames: list[dict[str, Any]] = []
    read_s = task_s = 0.0
    for k in range(ref.frames):
        t0 = time.perf_counter()
        if cache is not None:
            feats = cache.frame(task, ref, k, spec.color, store=bool(dict(spec.extra).get("feature_cache", True)))
            frames.append(outputs.features(feats, (ref.width, ref.height)))
            task_s += time.perf_counter() - t0
            continue
        rgb = frame_rgb(ref, k, spec.color)
        t1 = time.perf_counter()
        frames.append(outputs.rgb(rgb))
        read_s += t1 - t0
        task_s += time.perf_counter() - t1
    rec = {"job_id": spec.job_id, "image_id": ref.name, "width": ref.width, "height": ref.height,
           "task_seconds": task_s, "signature": spec.signature,
           "extra": {"frames": ref.frames, "first_frame": ref.first_frame, "read_seconds": read_s}}
    return {"record": rec, "predictions": {"frames": frames}, "commands": []}


@dataclass
class CodedSequence:
    """A sequence encoded, verified and kept as ``RUNDIR/bitstreams/<sequence>_qp<QP>.266`` (:func:`code_sequence`)."""

    enc: Any  # coding.sequence.SequenceEncode
    verdict: Any  # coding.verify_sequence verdict (``decoded``: the verified frames, when kept)
    expected: Any  # YuvFormat of one decoded frame (the source's size and chroma at the internal bit depth)
    bitstream: Path  # the kept bitstream
    decoded: Path  # the decoded frames (in the job's scratch folder), unless ``verdict.decoded`` names them
    bits: int  # 8 x the kept bitstream's size
    sha256: str
    verify_seconds: float
    first_reason: str | None  # the first verdict when a second verification was needed
    hash_sei: dict[str, Any]  # what removing the verification-only hash SEI did (VVenC), else {}
    commands: list[list[str]]  # every external command (source, encode, verification), naming the kept bitstream

    @property
    def decoded_path(self) -> Path:
        return Path(self.verdict.decoded or self.decoded)


def code_sequence(spec: JobSpec, codec: Any, src: Path, fmt: Any, tmp: Path,
                  pre_cmds: list[list[str]] | None = None) -> CodedSequence:
    """Steps 2-4 of a sequence job (the module docstring), shared by the picture and the feature sequence jobs:
    encode ``src`` (frames of ``fmt``: 4:2:0 pictures or 4:0:0 packed features) at ``spec.qp`` with the settings in
    ``spec.extra`` (``split``, ``verify_sei`` and the ``SequenceSettings`` fields; other keys are the caller's),
    verify every picture (expected: ``fmt``'s size and chroma at the internal bit depth), drop the verification-only
    hash SEI, keep the bitstream under ``RUNDIR/bitstreams``."""
    from ..coding.sequence import SequenceSettings, encode_sequence
    from ..coding.verify_sequence import verify_sequence
    from ..coding.yuv import YuvFormat
    from ..core.hashing import file_digest
    from ..core.process import recording_commands

    run_dir = Path(spec.run_dir)
    ref = spec.image
    fields = {f.name for f in dataclasses.fields(SequenceSettings)}
    settings_d = {k: v for k, v in dict(spec.extra).items() if k in fields}
    split = bool(dict(spec.extra).get("split", True))
    verify_sei = bool(dict(spec.extra).get("verify_sei", False))
    settings = SequenceSettings(qp=spec.qp, fmt=fmt, frames=ref.frames, fps=ref.fps,
                                intra_period=ref.intra_period, **settings_d)
    name = sequence_bitstream_name(spec)
    tmp_bs = tmp / name
    expected = YuvFormat(fmt.width, fmt.height, fmt.chroma, settings.internal_bit_depth)
    decoded = tmp / "decoded.yuv"
    decoders = verification_decoders(spec)
    with recording_commands() as recorded:
        enc = encode_sequence(codec, src, tmp_bs, settings, log_dir=run_dir / "logs" / spec.job_id,
                              work_dir=partial_dir(run_dir, spec.job_id), split=split)
        t1 = time.perf_counter()

        def verify():
            return verify_sequence(tmp_bs, expected=expected, frames=ref.frames, recon=enc.recon,
                                   decoders=decoders, timeout=spec.verify_timeout, keep_decoded=decoded,
                                   tmp_dir=tmp, bitstream_format=getattr(codec, "bitstream_format", "vvc"),
                                   log_dir=run_dir / "logs" / spec.job_id)

        verdict = verify()
        first_reason = None
        if not verdict.ok:
            first_reason = verdict.reason
            verdict = verify()
        hash_sei: dict[str, Any] = {}
        if verify_sei and verdict.ok:  # keep (and rate) the stream without its verification-only hash SEI
            verdict, hash_sei = _without_hash_sei(tmp_bs, verdict, expected, ref.frames, decoders, spec, tmp)
        verify_s = time.perf_counter() - t1
    final_bs = run_dir / "bitstreams" / name
    bits = int(tmp_bs.stat().st_size * 8)
    digest = file_digest(tmp_bs, "sha256")
    os.replace(tmp_bs, final_bs)

    def kept(cmd):  # command lines as they apply to the kept bitstream (encoded under a temporary name)
        return [str(final_bs) if str(c) == str(tmp_bs) else str(c) for c in cmd]

    enc_cmds = [list(map(str, c)) for c in enc.commands]  # (reused segments: the commands that made them)
    commands = [*[list(map(str, c)) for c in (pre_cmds or [])], *[kept(c) for c in enc_cmds],
                *[kept(c) for c in recorded if list(map(str, c)) not in enc_cmds]]
    return CodedSequence(enc, verdict, expected, final_bs, decoded, bits, digest, verify_s, first_reason, hash_sei,
                         commands)


def coded_sequence_extra(coded: CodedSequence, spec: JobSpec) -> dict[str, Any]:
    """The record's ``extra`` facts of the coding (both sequence job kinds): frames, fps, structure, split, kbps,
    bpp (of the coded bitstream), segments, join, pictures, checks, bitstream_sha256, encoder_info, hash_sei,
    first_verdict."""
    from ..metrics.rate import kbps

    ref, enc, verdict = spec.image, coded.enc, coded.verdict
    extra = dict(spec.extra)
    return {"frames": ref.frames, "fps": ref.fps, "first_frame": ref.first_frame, "intra_period": ref.intra_period,
            "structure": extra.get("structure"), "split": bool(extra.get("split", True)),
            "kbps": kbps(coded.bits, ref.fps, ref.frames),
            "bpp": coded.bits / float(ref.width * ref.height * ref.frames),
            "segments": _plain(enc.segments), "join": _plain(enc.join), "pictures": _plain(verdict.pictures),
            "checks": sorted(verdict.checks), "bitstream_sha256": coded.sha256, "encoder_info": _small(enc.info),
            **({"hash_sei": coded.hash_sei} if coded.hash_sei else {}),
            **({"first_verdict": coded.first_reason} if coded.first_reason else {})}


def sequence_code_job(spec: JobSpec) -> dict[str, Any]:
    from ..coding.yuv import read_yuv
    from ..conditions.sequences import write_source_yuv, yuv_frame_to_rgb
    from ..core.process import recording_commands
    from ..metrics.quality import coded_psnr, sequence_psnr

    run_dir = Path(spec.run_dir)
    ref = spec.image
    codec = get_cached_codec(spec.codec, spec.codec_options)
    task = get_cached_task(spec.task, spec.task_options)
    with job_workspace(spec) as tmp:
        t0 = time.perf_counter()
        src = tmp / "src.yuv"
        with recording_commands() as pre_cmds:
            fmt = write_source_yuv(ref, src, spec.color, spec.input_bit_depth)
        pre_s = time.perf_counter() - t0
        coded = code_sequence(spec, codec, src, fmt, tmp, pre_cmds)
        verdict, expected = coded.verdict, coded.expected

        predictions = None
        task_s = post_s = 0.0
        quality: dict[str, Any] = {}
        if verdict.ok:  # frame by frame: the decoded file is read one frame at a time
            frames: list[dict[str, Any]] = []
            psnrs: list[dict[str, Any]] = []
            outputs = FrameOutputs(task, ref.fps)
            path = coded.decoded_path
            for k in range(ref.frames):
                t2 = time.perf_counter()
                planes = read_yuv(path, expected, frame=k)
                psnrs.append(coded_psnr(read_yuv(src, fmt, frame=k), planes, fmt.bit_depth, expected.bit_depth))
                rgb = yuv_frame_to_rgb(planes, expected, spec.color)
                t3 = time.perf_counter()
                frames.append(outputs.rgb(rgb))
                post_s += t3 - t2
                task_s += time.perf_counter() - t3
            predictions = {"frames": frames}
            quality = sequence_psnr(psnrs)
        rec = JobRecord(
            job_id=spec.job_id, image_id=ref.name, scale=1.0, qp=spec.qp, width=ref.width, height=ref.height,
            coded_width=fmt.width, coded_height=fmt.height, bits=coded.bits, verified=bool(verdict.ok),
            verdict=verdict.reason, encode_seconds=float(coded.enc.seconds), decode_seconds=float(coded.verify_seconds),
            task_seconds=float(task_s), bitstream=str(coded.bitstream.relative_to(run_dir)),
            extra={**coded_sequence_extra(coded, spec), "quality": quality,
                   "preprocess_seconds": pre_s, "postprocess_seconds": post_s},
            signature=spec.signature)
        return {"record": rec.to_dict(), "predictions": predictions, "commands": coded.commands}


def _without_hash_sei(bs: Path, verdict: Any, expected: Any, frames: int, decoders: list, spec: JobSpec,
                      tmp: Path) -> tuple[Any, dict[str, Any]]:
    """Replace the verified stream ``bs`` (encoded with the decoded-picture-hash SEI, which the pictures were
    checked against) by the same stream without that SEI (``coding.bitstream.strip_picture_hash_sei``), after
    checking that it decodes to the very frames verified (the first decoder, frame by frame against them).
    Returns the verdict (not verified if the stripped stream decodes otherwise) and what was done."""
    from ..coding.bitstream import strip_picture_hash_sei
    from ..coding.verify_sequence import verify_sequence

    if verdict.decoded is None or not Path(verdict.decoded).is_file():  # nothing to compare the stripped stream with
        verdict.ok = False
        verdict.reason = "the verified frames were not kept: the stream without its hash SEI cannot be checked"
        return verdict, {}
    data, removed = strip_picture_hash_sei(bs.read_bytes())
    out = tmp / f"nosei-{bs.name}"
    out.write_bytes(data)
    check = verify_sequence(out, expected=expected, frames=frames, recon=verdict.decoded, decoders=decoders[:1],
                            timeout=spec.verify_timeout, tmp_dir=tmp)
    info = {"removed_nal_units": removed, "bits_with_hash_sei": bs.stat().st_size * 8, "bits_kept": len(data) * 8,
            "check": check.reason, "checked_with": sorted(k for k in check.checks if k.startswith("decode:"))}
    if not check.ok:
        verdict.ok = False
        verdict.reason = f"the stream without its hash SEI decodes differently from the verified one: {check.reason}"
        return verdict, info
    os.replace(out, bs)
    return verdict, info
