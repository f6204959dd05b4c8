"""Codec contract: the ``Codec`` base class, its registry and the encode/decode records.

A codec driver
* encodes ONE picture (a planar YUV file of ``EncodeSettings.fmt``) at a fixed QP, intra-only,
  to an Annex-B bitstream, and returns the bits, the wall-clock seconds, the exact command line,
  the log file and whatever it parsed from the log (``info``);
* decodes a bitstream to a planar YUV file at the requested output bit depth (10 by default,
  little-endian 16-bit samples; 4:0:0 pictures are written as luma only, as VTM's DecoderApp does);
* reports ``version()`` (from the binary's own banner, never hard-coded) and ``signature()``
  (the value of the result signature's ``codec`` part: name, version, settings that change the
  numbers, and a short hash of the binary; ``!override`` when a version check was overridden).

Drivers register with ``@CODECS.register("name")``; ``get_codec(name, **options)`` builds one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...core.errors import UsageError
from ...core.registry import Registry
from ..yuv import YuvFormat


@dataclass
class EncodeSettings:
    """How to encode one picture.  ``fmt`` is the format of the INPUT YUV file."""

    qp: int
    fmt: YuvFormat
    internal_bit_depth: int = 10
    preset: str = "medium"  # VVenC preset; ignored by VTM (its cfg decides)
    loop_filter: bool = True  # False: deblocking, SAO, ALF, CCALF (and VVenC's EDO) off
    sei_hash: bool = False  # decoded-picture-hash SEI (MD5); adds bits — verification runs only
    extra_args: tuple[str, ...] = ()
    timeout: float = 600.0
    threads: int = 1

    def __post_init__(self) -> None:
        check_common_settings(self)


def check_common_settings(settings: Any) -> None:
    """The checks a picture's and a sequence's settings share (QP, internal bit depth, timeout); extra
    arguments become strings."""
    if isinstance(settings.qp, bool) or not isinstance(settings.qp, int) or not 0 <= settings.qp <= 63:
        raise UsageError(f"Invalid QP {settings.qp!r}: use an integer 0..63.")
    if settings.internal_bit_depth not in (8, 10):
        raise UsageError(f"Invalid internal bit depth {settings.internal_bit_depth!r}: use 8 or 10.")
    if settings.timeout <= 0:
        raise UsageError("The encode timeout must be positive (seconds).")
    settings.extra_args = tuple(str(a) for a in settings.extra_args)


@dataclass
class EncodeResult:
    bitstream: Path
    bits: int  # 8 x size of the bitstream file
    seconds: float  # wall-clock seconds of the encoder process
    command: list[str]
    log_path: Path | None
    recon: Path | None  # encoder reconstruction (internal bit depth, same layout) when produced
    info: dict[str, Any] = field(default_factory=dict)  # parsed log: bits, psnr_y/u/v, seconds, banner…


@dataclass
class DecodeResult:
    yuv: Path
    fmt: YuvFormat
    seconds: float
    command: list[str]


class Codec(ABC):
    """One encoder (+ its default decoder).  See the module docstring for the contract."""

    name: str = "codec"

    @abstractmethod
    def encode(self, src_yuv: Path, bitstream: Path, settings: EncodeSettings,
               log_dir: Path | None = None) -> EncodeResult: ...

    @abstractmethod
    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 120.0) -> DecodeResult: ...

    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def signature(self) -> str: ...

    def encode_sequence(self, src_yuv: Path, bitstream: Path, settings: Any,
                        log_dir: Path | None = None) -> EncodeResult:
        """Encode ``settings.frames`` frames of ``src_yuv`` (after ``settings.frame_skip``) as ONE inter-coded
        bitstream (``settings``: ``coding.sequence.SequenceSettings``).  ``EncodeResult.recon`` holds every
        coded frame in output order when the encoder writes it.  Codecs that code pictures only refuse."""
        raise UsageError(f"Codec {self.name!r} codes single pictures only: it cannot code a sequence. "
                         "Use vtm, vvenc or a template codec with {frames} {fps} {frame_skip} {intra_period}.")

    def available(self) -> tuple[bool, str]:
        """(usable here?, reason when not).  Default: ``version()`` succeeds."""
        try:
            self.version()
        except Exception as exc:  # noqa: BLE001 - reported, not swallowed
            return False, str(exc)
        return True, ""


CODECS: Registry[Callable[..., Codec]] = Registry("codec", "vcmbench codecs")


def get_codec(name: str, **options: Any) -> Codec:
    """Build the codec driver ``name`` (``vvenc``, ``vtm``, ``x265``…) with driver options."""
    factory = CODECS.get(name)
    try:
        return factory(**options)
    except TypeError as exc:
        raise UsageError(f"Bad options for codec {name!r}: {exc}.") from None


def codec_names() -> list[str]:
    return CODECS.names()


def check_input_size(src_yuv: Path, fmt: YuvFormat) -> None:
    """Refuse an input file whose size is not exactly one picture of ``fmt`` (VTM would encode garbage)."""
    from ...core.errors import DataError

    src_yuv = Path(src_yuv)
    if not src_yuv.is_file():
        raise DataError(f"Input YUV not found: {src_yuv}. Check the path.")
    size = src_yuv.stat().st_size
    if size != fmt.frame_bytes:
        raise DataError(
            f"{src_yuv} has {size} bytes but one {fmt.describe()} picture has {fmt.frame_bytes}. "
            "Check width, height, chroma format and bit depth (a wrong InputBitDepth makes the encoder "
            "silently code garbage).")


def check_sequence_input(src_yuv: Path, fmt: YuvFormat, frame_skip: int, frames: int) -> None:
    """Refuse a sequence input that is not whole frames of ``fmt`` or holds fewer than ``frame_skip + frames``."""
    from ...core.errors import DataError

    src_yuv = Path(src_yuv)
    if not src_yuv.is_file():
        raise DataError(f"Input YUV not found: {src_yuv}. Check the path.")
    size, need = src_yuv.stat().st_size, (frame_skip + frames) * fmt.frame_bytes
    if size % fmt.frame_bytes or size < need:
        raise DataError(f"{src_yuv} has {size} bytes; {frame_skip} + {frames} frames of {fmt.describe()} need {need} "
                        f"(whole frames of {fmt.frame_bytes}). Check the format.")
