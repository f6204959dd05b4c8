"""What every job of a run shares: the picklable ``JobSpec``, the job kinds, a per-job workspace,
per-worker caches of codecs and task networks, and the encode -> verify -> keep step.

``run.execute.execute_job(spec)`` runs one job in a worker (image jobs: ``run.image_jobs``;
feature jobs: ``run.feature_jobs``; video: ``run.sequence_jobs``, ``run.feature_sequence_jobs``) and returns a
plain dict (the job record, the predictions, the command lines) that the parent process stores.  Workers never
touch the database.  The bitstream is written under a temporary name and renamed into
``RUNDIR/bitstreams/<image>_s<scale>_qp<QP>.266`` only after it has been verified or rejected, so a killed job leaves no half-written bitstream.
Codecs and task networks are built once per worker process.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..conditions.datasets import ImageRef

KIND_CODE = "code"  # image x scale x QP
KIND_REFERENCE = "reference"  # the task network on the uncompressed image
KIND_FEATURE = "feature"  # features x QP: tile, quantise, code, decode, unpack, head (stored as "code")
KIND_SEQUENCE = "sequence"  # video: sequence x QP coded as one bitstream, every frame scored (stored as "code")
KIND_FEATURE_SEQUENCE = "featseq"  # video: a sequence's packed features x QP as one bitstream (stored as "code")
KIND_SEQUENCE_REFERENCE = "seqref"  # video: the task network on every uncompressed frame (stored as "reference")
KIND_SCORE = "score"  # --phase score: the task network on an encode-phase picture (updates its "code" row)

_CACHE: dict[Any, Any] = {}
PGROUPS_DIR = "pgroups"  # RUNDIR/tmp/<job>/pgroups/<host>-<pid>.json: a running tool's process group (core.process)


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    kind: str
    image: ImageRef  # a conditions.sequences.SequenceRef for the video kinds
    run_dir: str
    task: str
    task_options: tuple[tuple[str, Any], ...]
    scale: float = 1.0
    qp: int = 0
    codec: str = ""
    codec_options: tuple[tuple[str, Any], ...] = ()
    encode: tuple[tuple[str, Any], ...] = ()  # EncodeSettings fields except qp/fmt
    color: str = "ctc"
    input_bit_depth: int = 8
    decoders: tuple[str, ...] = ("pyav",)
    verify_timeout: float = 120.0
    signature: str = ""
    extra: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @property
    def describe(self) -> str:
        if self.kind in (KIND_REFERENCE, KIND_SEQUENCE_REFERENCE):
            return f"reference {self.image.image_id}"
        if self.kind in (KIND_SEQUENCE, KIND_FEATURE_SEQUENCE):  # video: a sequence is coded at its own size (scale 1)
            return f"{self.image.image_id} qp {self.qp}"
        return f"{self.image.image_id} scale {self.scale:g} qp {self.qp}"


@contextmanager
def job_workspace(spec: JobSpec) -> Iterator[Path]:
    """A fresh per-job temporary folder under ``RUNDIR/tmp`` (left-overs of a killed attempt are
    removed first), deleted when the job ends, whatever happens.  The tool process groups the job starts are
    recorded under ``<folder>/pgroups`` while they run (a resume after ``kill -9`` kills leftovers)."""
    from ..core.process import tracking_groups

    tmp = Path(spec.run_dir) / "tmp" / f"{spec.job_id}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with tracking_groups(tmp / PGROUPS_DIR):
            yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_TASK_LOAD_SECONDS = [0.0]


def get_cached_task(name: str, options: tuple[tuple[str, Any], ...]):
    key = ("task", name, options)
    if key not in _CACHE:
        from ..tasks import get_task

        t0 = time.perf_counter()
        _CACHE[key] = get_task(name, **dict(options))
        _TASK_LOAD_SECONDS[0] += time.perf_counter() - t0
    return _CACHE[key]


def take_task_load_seconds() -> float:
    """Seconds this process spent loading task networks (imports and weights) since the last call:
    recorded with the job that follows (``extra.task_load_seconds``), so that a run's network time
    counts loading as well as inference (benchmarks/bench_pipeline.py)."""
    seconds, _TASK_LOAD_SECONDS[0] = _TASK_LOAD_SECONDS[0], 0.0
    return seconds


def get_cached_codec(name: str, options: tuple[tuple[str, Any], ...]):
    key = ("codec", name, options)
    if key not in _CACHE:
        from ..coding.codecs import get_codec

        _CACHE[key] = get_codec(name, **dict(options))
    return _CACHE[key]


@dataclass
class CodedPicture:
    """A picture encoded, verified and kept under ``RUNDIR/bitstreams/<image>_s<scale>_qp<QP>.266``."""

    enc: Any  # codecs.EncodeResult
    verdict: Any  # verify.Verdict
    expected: Any  # yuv.YuvFormat of the decoded picture
    bitstream: Path
    decoded: Path  # decoded YUV (in the job's temporary folder)
    verify_seconds: float
    first_reason: str | None  # the first verdict when a second verification was needed
    commands: list[list[str]]  # every external command of encoding and verification, naming the kept bitstream
    sha256: str = ""  # of the kept bitstream (stored with the job; resume re-checks it)


def bitstream_name(spec: JobSpec) -> str:
    """``<image>_s<scale %>_qp<QP>.266`` (characters outside ``[A-Za-z0-9._-]`` of the image id become ``_``)."""
    import re

    image = re.sub(r"[^A-Za-z0-9._-]", "_", str(spec.image.image_id)) or "image"
    return f"{image}_s{round(spec.scale * 100)}_qp{spec.qp}.266"


def verification_decoders(spec: JobSpec) -> list[Any]:
    """The job's decoders, ``vtm`` built with the run's ``--vtm-dir`` (so that it needs no environment variable)."""
    from ..coding.codecs.decoders import VTMDecoder

    opts = dict(spec.codec_options)
    return [VTMDecoder(vtm_dir=opts.get("vtm_dir")) if d == "vtm" else d for d in spec.decoders]


def encode_and_verify(spec: JobSpec, codec: Any, src: Path, fmt_in: Any, tmp: Path) -> CodedPicture:
    """Encode ``src`` at ``spec.qp``, verify the bitstream with every decoder of the job and move it into
    the run directory as ``bitstreams/<image>_s<scale>_qp<QP>.266``.

    The expected decoded format is ``fmt_in``'s size and chroma at the internal bit depth.  A failed
    verification is repeated once: a decoder process that crashed for a reason outside the bitstream
    (memory, a signal) must not brand a good stream.  Decoders are deterministic, so a bad stream
    fails again; both reasons are recorded.
    """
    from ..coding.codecs import EncodeSettings
    from ..coding.verify import verify_bitstream
    from ..coding.yuv import YuvFormat
    from ..core.hashing import file_digest
    from ..core.process import recording_commands

    run_dir = Path(spec.run_dir)
    settings = EncodeSettings(qp=spec.qp, fmt=fmt_in, **dict(spec.encode))
    name = bitstream_name(spec)
    tmp_bs = tmp / name
    decoders = verification_decoders(spec)
    with recording_commands() as recorded:
        enc = codec.encode(src, tmp_bs, settings, log_dir=run_dir / "logs" / spec.job_id)
        t1 = time.perf_counter()
        expected = YuvFormat(fmt_in.width, fmt_in.height, fmt_in.chroma, settings.internal_bit_depth)
        decoded = tmp / "decoded.yuv"

        def verify():
            return verify_bitstream(tmp_bs, expected=expected, recon=enc.recon, decoders=decoders,
                                    timeout=spec.verify_timeout, keep_decoded=decoded, tmp_dir=tmp,
                                    bitstream_format=getattr(codec, "bitstream_format", "vvc"))

        verdict = verify()
        first_reason = None
        if not verdict.ok:
            first_reason = verdict.reason
            verdict = verify()
        verify_s = time.perf_counter() - t1
    final_bs = run_dir / "bitstreams" / name
    digest = file_digest(tmp_bs, "sha256")
    os.replace(tmp_bs, final_bs)

    def kept(cmd):  # command lines as they apply to the kept bitstream (encoded under a temporary name)
        return [str(final_bs) if str(c) == str(tmp_bs) else str(c) for c in cmd]

    commands = [kept(c) for c in recorded]
    if list(enc.command) not in recorded:  # an encoder run without run_process (none today)
        commands.insert(0, kept(enc.command))
    commands += [kept(chk["command"]) for n, chk in verdict.checks.items()  # in-process decoders (PyAV worker)
                 if n.startswith("decode:") and chk.get("command") and list(map(str, chk["command"])) not in recorded]
    return CodedPicture(enc, verdict, expected, final_bs, decoded, verify_s, first_reason, commands, digest)


def yuv_to_rgb_file(path: Path, fmt, color: str):
    from ..coding.yuv import read_yuv, yuv_to_rgb

    return yuv_to_rgb(read_yuv(path, fmt), fmt, mode=color)


def _small(info: dict[str, Any]) -> dict[str, Any]:
    """The scalar parts of the encoder's parsed log (no per-picture lists)."""
    return {k: v for k, v in (info or {}).items() if isinstance(v, (int, float, str, bool))}
