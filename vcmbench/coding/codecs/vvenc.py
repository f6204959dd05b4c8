"""VVenC through the FFmpeg of imageio-ffmpeg (``libvvenc``): the default codec on a fresh machine.

Command (DESIGN.md §5.4), one intra picture at a fixed QP::

    ffmpeg -f rawvideo -pix_fmt yuv420p10le -s WxH -r 1 -i pipe:0 -frames:v 1 -threads T
      -c:v libvvenc -preset P -qp QP -qpa 0
      -vvenc-params IntraPeriod=1:IntraQPOffset=0[:ChromaFormatIDC=400][:LoopFilterDisable=1:SAO=0:ALF=0:CCALF=0:EDO=0]
                    [:SEIDecodedPictureHash=1][:InternalBitDepth=8] -f vvc OUT.266

Input conventions: libvvenc only takes ``yuv420p10le``.  8-bit input is converted to 10 bits
by a left shift of 2 (what VTM does for ``--InputBitDepth=8 --InternalBitDepth=10``); 4:0:0
input is fed as its luma plus constant-512 chroma with ``ChromaFormatIDC=400`` (feeding
``gray10le`` would make FFmpeg squeeze luma to 64..940).  Width and height must be even.
Same QP is not same rate/quality as VTM: results are labelled VVenC, never the VTM anchor.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import CodecError, UsageError
from ...core.hashing import file_hash
from ...core.process import run_process, write_log
from ..ffmpeg import ffmpeg_exe, ffmpeg_has, ffmpeg_version
from ..yuv import YuvFormat, read_yuv, to_bit_depth
from .base import CODECS, Codec, DecodeResult, EncodeResult, EncodeSettings, check_input_size, check_sequence_input

PRESETS = ("faster", "fast", "medium", "slow", "slower")
_VERSION = re.compile(r"libvvenc version:\s*(\S+)")
_POC = re.compile(r"POC\s+(\d+).*?\(\s*(\w+),\s*(\w)-SLICE,\s*QP\s+(-?\d+)[^)]*\)\s+(\d+) bits\s*"
                  r"\[Y\s+([\d.]+) dB\s+U\s+([\d.]+) dB\s+V\s+([\d.]+) dB\]")


_SEQ_POC = re.compile(r"^POC\s+(\d+)\s+TId:\s*(\d+)\s+\(\s*(\w+),\s*(\w)-SLICE,\s*QP\s+(-?\d+)[^)]*\)\s+(\d+) bits\s*"
                      r"\[Y\s+([\d.]+|inf) dB\s+U\s+([\d.]+|inf) dB\s+V\s+([\d.]+|inf) dB\]", re.M)


def _check_ffmpeg_vvenc() -> None:
    if not ffmpeg_has("encoders", "libvvenc"):
        raise CodecError(f"The FFmpeg at {ffmpeg_exe()} has no libvvenc encoder. "
                         "Install imageio-ffmpeg>=0.8.1 (FFmpeg 9 with VVenC) or point VCMBENCH_FFMPEG at such a build.")


@lru_cache(maxsize=None)
def vvenc_library_version(ffmpeg: str) -> str:
    """libvvenc's version as FFmpeg logs it (a 64x64 grey picture is encoded once to find out)."""
    _check_ffmpeg_vvenc()
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-v", "verbose", "-f", "rawvideo", "-pix_fmt", "yuv420p10le",
           "-s", "64x64", "-r", "1", "-i", "pipe:0", "-frames:v", "1", "-threads", "1", "-c:v", "libvvenc",
           "-preset", "faster", "-qp", "40", "-f", "null", "-"]
    res = run_process(cmd, timeout=60, stdin=b"\x00\x02" * (64 * 64 * 3 // 2))
    m = _VERSION.search(res.text())
    if not m:
        raise CodecError(f"Could not read the libvvenc version from FFmpeg's log ({res.tail(200)}).")
    return m.group(1)


def parse_vvenc_log(text: str) -> dict[str, Any]:
    """Per-picture bits, QP and PSNR and the libvvenc version from an FFmpeg ``-v verbose`` log."""
    info: dict[str, Any] = {}
    m = _VERSION.search(text)
    if m:
        info["vvenc_version"] = m.group(1)
    pics = [{"poc": int(p.group(1)), "nal_type": p.group(2), "slice": p.group(3), "qp": int(p.group(4)),
             "bits": int(p.group(5)), "psnr_y": float(p.group(6)), "psnr_u": float(p.group(7)),
             "psnr_v": float(p.group(8))} for p in _POC.finditer(text)]
    if pics:
        info["pictures"] = pics
        info["picture_bits"] = sum(p["bits"] for p in pics)
        info["qp"] = pics[0]["qp"]
        info["psnr_y"] = pics[0]["psnr_y"]
    return info


def parse_vvenc_sequence_log(text: str) -> dict[str, Any]:
    """Every picture of a sequence encode in coding order (poc, temporal id, NAL type, slice type, QP, bits,
    PSNR; ``inf`` for a constant plane) and the libvvenc version, from an FFmpeg ``-v verbose`` log."""
    info: dict[str, Any] = {}
    m = _VERSION.search(text)
    if m:
        info["vvenc_version"] = m.group(1)
    info["pictures"] = [{"poc": int(p.group(1)), "tid": int(p.group(2)), "nal_type": p.group(3), "slice": p.group(4),
                         "qp": int(p.group(5)), "bits": int(p.group(6)), "psnr_y": float(p.group(7)),
                         "psnr_u": float(p.group(8)), "psnr_v": float(p.group(9))} for p in _SEQ_POC.finditer(text)]
    info["picture_bits"] = sum(p["bits"] for p in info["pictures"])
    return info


def _rate(fps: float) -> str:
    """FFmpeg's ``-r`` for a frame rate: an exact fraction (29.97 -> 2997/100)."""
    from fractions import Fraction

    f = Fraction(str(fps)).limit_denominator(1001)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def sequence_gop(structure: str, intra_period: int) -> list[str]:
    """The vvenc-params of a coding structure (libvvenc 1.15, tried against its parameter checks).

    * low-delay: ``PicReordering=0:GOPSize=8:DecodingRefreshType=none`` (libvvenc accepts only refresh type
      none without reordering, and auto-configures a no-reordering GOP for size 8 only).  Unlike VTM's
      ``encoder_lowdelay_vtm.cfg`` (DecodingRefreshType 0: the periodic intra pictures are non-IRAP I
      pictures, and pictures after them may still reference pictures before), libvvenc makes every
      intra-period picture an IDR (its log: ``IDR_W_RADL``), and its GOP-8 reference lists are its own.
    * random-access: ``GOPSize=32`` (16 when the intra period is not a multiple of 32),
      ``DecodingRefreshType=cra:POC0IDR=1``: the first picture an IDR at POC 0 and a CRA every intra period
      with RASL leading pictures, VTM's RA layout (without ``POC0IDR`` libvvenc makes the first GOP's last
      picture the IDR with RADL leading pictures).  libvvenc's QP offsets, reference lists and MCTF are its
      own, not the VTM cfg's.
    The intra period must be a multiple of the GOP size (libvvenc refuses others)."""
    if structure == "low-delay":
        gop = 8
        params = ["PicReordering=0", "GOPSize=8", "DecodingRefreshType=none"]
    elif structure == "random-access":
        gop = 32 if intra_period % 32 == 0 else 16
        params = [f"GOPSize={gop}", "DecodingRefreshType=cra", "POC0IDR=1"]
    else:
        raise UsageError(f"VVenC has no coding structure {structure!r}: use low-delay or random-access.")
    if intra_period % gop:
        raise UsageError(f"VVenC {structure} needs an intra period that is a multiple of {gop if structure == 'low-delay' else 16} "
                         f"frames; got {intra_period}. Use the condition's intra period (32 or 64) or the vtm codec.")
    return params + [f"IntraPeriod={intra_period}"]


@CODECS.register("vvenc")
class VVenCCodec(Codec):
    """VVenC via FFmpeg (see module docstring); decoding uses FFmpeg's native VVC decoder."""

    name = "vvenc"
    sequence_join = "concat"  # coding.sequence: back-to-back segments, each its own coded video sequence

    def __init__(self, preset: str = "medium", **_: Any) -> None:
        if preset not in PRESETS:
            raise UsageError(f"Unknown VVenC preset {preset!r}. Available: {', '.join(PRESETS)}.")
        self.preset = preset

    def vvenc_params(self, settings: EncodeSettings) -> str:
        params = ["IntraPeriod=1", "IntraQPOffset=0"]
        if settings.fmt.chroma == 400:
            params.append("ChromaFormatIDC=400")
        if not settings.loop_filter:
            params += ["LoopFilterDisable=1", "SAO=0", "ALF=0", "CCALF=0", "EDO=0"]
        if settings.sei_hash:
            params.append("SEIDecodedPictureHash=1")
        if settings.internal_bit_depth != 10:
            params.append(f"InternalBitDepth={settings.internal_bit_depth}")
        return ":".join(params)

    def command(self, bitstream: Path, settings: EncodeSettings) -> list[str]:
        fmt = settings.fmt
        preset = settings.preset or self.preset
        if preset not in PRESETS:
            raise UsageError(f"Unknown VVenC preset {preset!r}. Available: {', '.join(PRESETS)}.")
        return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "verbose", "-f", "rawvideo",
                "-pix_fmt", "yuv420p10le", "-s", f"{fmt.width}x{fmt.height}", "-r", "1", "-i", "pipe:0",
                "-frames:v", "1", "-threads", str(settings.threads), "-c:v", "libvvenc", "-preset", preset,
                "-qp", str(settings.qp), "-qpa", "0", "-vvenc-params", self.vvenc_params(settings),
                *settings.extra_args, "-f", "vvc", "-y", str(bitstream)]

    @staticmethod
    def input_bytes(src_yuv: Path, fmt: YuvFormat) -> bytes:
        """The yuv420p10le picture fed to libvvenc (see the module docstring)."""
        return VVenCCodec.input_bytes_frame(src_yuv, fmt, 0)

    def encode(self, src_yuv: Path, bitstream: Path, settings: EncodeSettings,
               log_dir: Path | None = None) -> EncodeResult:
        _check_ffmpeg_vvenc()
        fmt = settings.fmt
        if fmt.width % 2 or fmt.height % 2:
            raise UsageError(f"VVenC needs even picture sizes; got {fmt.width}x{fmt.height}. "
                             "Pad first (yuv.ctc_prepare pads to even sizes).")
        if fmt.bit_depth > 10:
            raise UsageError(f"VVenC input is at most 10-bit here; got {fmt.bit_depth}-bit.")
        src_yuv, bitstream = Path(src_yuv), Path(bitstream)
        check_input_size(src_yuv, fmt)
        data = self.input_bytes(src_yuv, fmt)
        bitstream.parent.mkdir(parents=True, exist_ok=True)
        cmd = self.command(bitstream, settings)
        res = run_process(cmd, timeout=settings.timeout, stdin=data)
        log_path = None
        if log_dir is not None:
            log_path = Path(log_dir) / f"{bitstream.stem}_encoder.log"
            write_log(log_path, res)
        if res.timed_out:
            raise CodecError(f"VVenC timed out after {settings.timeout:.0f} s. Use a faster preset or raise the timeout.")
        if res.returncode != 0 or not bitstream.is_file() or bitstream.stat().st_size == 0:
            raise CodecError(f"FFmpeg/libvvenc failed (status {res.returncode}): {res.tail(400)}")
        info = parse_vvenc_log(res.text())
        info["preset"] = settings.preset or self.preset
        info["ffmpeg_version"] = ffmpeg_version()
        conv = [f"{fmt.bit_depth}->10-bit left shift"] if fmt.bit_depth != 10 else []
        conv += ["4:0:0 luma + constant-512 chroma"] if fmt.chroma == 400 else []
        info["stdin"] = f"{src_yuv} as yuv420p10le" + (f" ({', '.join(conv)})" if conv else "")
        return EncodeResult(bitstream, bitstream.stat().st_size * 8, res.seconds, res.command, log_path, None, info)

    def sequence_command(self, bitstream: Path, settings: Any, source: str | Path = "pipe:0") -> list[str]:
        """FFmpeg/libvvenc for a sequence: the picture command with ``-r FPS -frames:v N`` and the structure's
        vvenc-params (:func:`sequence_gop`) in place of ``IntraPeriod=1:IntraQPOffset=0``; ``source``: the
        yuv420p10le frames (a file: a sequence is not held in memory)."""
        fmt = settings.fmt
        preset = settings.preset or self.preset
        if preset not in PRESETS:
            raise UsageError(f"Unknown VVenC preset {preset!r}. Available: {', '.join(PRESETS)}.")
        params = sequence_gop(settings.structure, settings.intra_period)
        params += self.vvenc_params(settings).split(":")[2:]  # chroma, loop filter, hash SEI, bit depth
        return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "verbose", "-f", "rawvideo",
                "-pix_fmt", "yuv420p10le", "-s", f"{fmt.width}x{fmt.height}", "-r", _rate(settings.fps),
                "-i", str(source), "-frames:v", str(settings.frames), "-threads", str(settings.threads),
                "-c:v", "libvvenc", "-preset", preset, "-qp", str(settings.qp), "-qpa", "0",
                "-vvenc-params", ":".join(params), *settings.extra_args, "-f", "vvc", "-y", str(bitstream)]

    def encode_sequence(self, src_yuv: Path, bitstream: Path, settings: Any,
                        log_dir: Path | None = None) -> EncodeResult:
        """Encode frames ``frame_skip .. frame_skip + frames - 1`` of ``src_yuv``, given as yuv420p10le (the
        picture path's conversions); libvvenc writes no reconstruction (``recon`` is None).  ``info`` gets
        every picture from the log (coding order), the vvenc-params and how the structure differs from VTM's."""

        _check_ffmpeg_vvenc()
        fmt = settings.fmt
        if fmt.width % 2 or fmt.height % 2:
            raise UsageError(f"VVenC needs even picture sizes; got {fmt.width}x{fmt.height}.")
        if fmt.bit_depth > 10:
            raise UsageError(f"VVenC input is at most 10-bit here; got {fmt.bit_depth}-bit.")
        src_yuv, bitstream = Path(src_yuv), Path(bitstream)
        check_sequence_input(src_yuv, fmt, settings.frame_skip, settings.frames)
        bitstream.parent.mkdir(parents=True, exist_ok=True)
        source = bitstream.with_name(f".{bitstream.stem}.vvenc-input.yuv")  # the frames as libvvenc takes them
        try:
            with open(source, "wb") as fh:
                for k in range(settings.frames):
                    fh.write(self.input_bytes_frame(src_yuv, fmt, settings.frame_skip + k))
            cmd = self.sequence_command(bitstream, settings, source)
            res = run_process(cmd, timeout=settings.timeout)
        finally:
            source.unlink(missing_ok=True)
        out_dir = Path(log_dir) if log_dir else bitstream.parent
        log_path = out_dir / f"{bitstream.stem}_encoder.log"
        write_log(log_path, res)
        if res.timed_out:
            raise CodecError(f"VVenC timed out after {settings.timeout:.0f} s coding {settings.frames} frames "
                             f"(log: {log_path}). Use a faster preset or raise the timeout.")
        if res.returncode != 0 or not bitstream.is_file() or bitstream.stat().st_size == 0:
            raise CodecError(f"FFmpeg/libvvenc failed (status {res.returncode}): {res.tail(400)} (log: {log_path})")
        info = parse_vvenc_sequence_log(res.text())
        info["preset"] = settings.preset or self.preset
        info["ffmpeg_version"] = ffmpeg_version()
        info["gop"] = ":".join(sequence_gop(settings.structure, settings.intra_period))
        info["structure"] = settings.structure
        info["structure_note"] = ("VVenC's own GOP, labelled VVenC, never the VTM anchor: "
                                  + ("every intra-period picture an IDR (VTM LD: non-IRAP I pictures); "
                                     "libvvenc's GOP-8 low-delay reference lists"
                                     if settings.structure == "low-delay" else
                                     "GOP 32/16 with IDR at POC 0 and CRA each intra period like VTM RA; "
                                     "libvvenc's QP offsets, reference lists and MCTF"))
        return EncodeResult(bitstream, bitstream.stat().st_size * 8, res.seconds, res.command, log_path, None, info)

    @staticmethod
    def input_bytes_frame(src_yuv: Path, fmt: YuvFormat, k: int) -> bytes:
        """Frame ``k`` of ``src_yuv`` as the yuv420p10le picture fed to libvvenc (:meth:`input_bytes`)."""
        planes = to_bit_depth(read_yuv(src_yuv, fmt, k), fmt.bit_depth, 10)
        if fmt.chroma == 400:
            c = np.full(((fmt.height + 1) // 2, (fmt.width + 1) // 2), 512, np.uint16)
            planes = [planes[0], c, c]
        elif fmt.chroma != 420:
            raise UsageError(f"VVenC via FFmpeg codes 4:2:0 or 4:0:0 here; got {fmt.chroma}.")
        return b"".join(np.ascontiguousarray(p.astype("<u2")).tobytes() for p in planes)

    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 120.0) -> DecodeResult:
        from .decoders import FFmpegDecoder

        return FFmpegDecoder().decode(bitstream, out_yuv, bit_depth, timeout)

    def version(self) -> str:
        return f"vvenc-{vvenc_library_version(ffmpeg_exe())}/ffmpeg-{ffmpeg_version()}"

    def signature(self, settings: EncodeSettings | None = None) -> str:
        v = vvenc_library_version(ffmpeg_exe())
        short = ".".join(v.split("-")[0].split(".")[:2])
        preset = (settings.preset if settings is not None and settings.preset else self.preset)
        sig = f"vvenc-{short}-{preset}"
        if settings is not None and not settings.loop_filter:
            sig += "-nolf"
        if settings is not None and settings.internal_bit_depth != 10:
            sig += f"-ibd{settings.internal_bit_depth}"
        return f"{sig}-ffmpeg{ffmpeg_version()}#{file_hash(ffmpeg_exe())}"
