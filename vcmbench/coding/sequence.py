"""Inter coding of a whole sequence: the settings, the segment plan and the record of one encode.

A video condition codes a sequence, not a picture: VTM with the low-delay or random-access cfg the
condition names, VVenC through FFmpeg with the same GOP structure where VVenC can express it, or a
template codec with ``{frames} {fps} {frame_skip} {intra_period}`` placeholders.  Long sequences
may be split at intra periods into independent encodes that are joined into one bitstream
decoding as the whole sequence; the split is recorded (``SequenceEncode.segments``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from .yuv import YuvFormat

STRUCTURES = ("low-delay", "random-access")


@dataclass
class SequenceSettings:
    """How to encode one sequence (or one segment of it).  ``fmt`` is the format of ONE frame of the
    input file; ``frame_skip`` frames of the input are skipped before ``frames`` are coded."""

    qp: int
    fmt: YuvFormat
    frames: int
    fps: float
    intra_period: int
    structure: str = "low-delay"
    frame_skip: int = 0
    internal_bit_depth: int = 10
    preset: str = "medium"  # VVenC preset; ignored by VTM (its cfg decides)
    loop_filter: bool = True
    sei_hash: bool = False  # decoded-picture-hash SEI (MD5) in every picture
    extra_args: tuple[str, ...] = ()
    timeout: float = 6 * 3600.0  # per segment encode
    threads: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.qp, int) or not 0 <= self.qp <= 63:
            raise UsageError(f"Invalid QP {self.qp!r}: use an integer 0..63.")
        if self.structure not in STRUCTURES:
            raise UsageError(f"Unknown coding structure {self.structure!r}: use one of {', '.join(STRUCTURES)}.")
        for k in ("frames", "intra_period"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise UsageError(f"Invalid {k} {v!r}: a positive number of frames.")
        if isinstance(self.frame_skip, bool) or not isinstance(self.frame_skip, int) or self.frame_skip < 0:
            raise UsageError(f"Invalid frame_skip {self.frame_skip!r}: 0 or more frames.")
        if not (isinstance(self.fps, (int, float)) and not isinstance(self.fps, bool) and 0 < self.fps <= 1000):
            raise UsageError(f"Invalid frame rate {self.fps!r}: a positive number of frames per second.")
        if self.internal_bit_depth not in (8, 10):
            raise UsageError(f"Invalid internal bit depth {self.internal_bit_depth!r}: use 8 or 10.")
        if self.timeout <= 0:
            raise UsageError("The encode timeout must be positive (seconds).")
        self.extra_args = tuple(str(a) for a in self.extra_args)


@dataclass
class SequenceEncode:
    """One sequence coded (all its segments joined) into ``bitstream``."""

    bitstream: Path
    bits: int  # 8 x size of the joined bitstream file
    seconds: float  # wall-clock seconds of all encoder processes
    commands: list[list[str]]  # every encoder (and join) command line, in order
    log_paths: list[Path]
    recon: Path | None  # the encoder's reconstruction of every frame in output order (internal bit depth), if any
    segments: list[dict[str, Any]] = field(default_factory=list)  # {first, frames, bits, sha256, seconds, reused}
    join: dict[str, Any] = field(default_factory=dict)  # how the segments were joined (method, source)
    info: dict[str, Any] = field(default_factory=dict)  # parsed logs: pictures (poc, type, qp, bits, psnr), banner…
