"""Any encoder/decoder given by command templates (FCTM, VCM-RS, HM, JM, x265, JPEG AI reference
software...): the ``codec`` section of a condition names the tool and gives

``encode``
    the encoder's argument template, split like a shell line and run as an argument list, with
    ``{input}`` (the YUV picture), ``{output}`` (the bitstream), ``{qp}``, ``{width}``, ``{height}``,
    ``{bit_depth}`` (of the input), ``{internal_bit_depth}``, ``{chroma}`` (420/400/444),
    ``{pix_fmt}`` (FFmpeg's name of the input layout, e.g. ``yuv420p``), ``{cfg}`` (the condition's
    cfg file) and ``{recon}`` (where the encoder writes its reconstruction, when it can);
``decode``
    the decoder's template (``{input}``, ``{output}``, optionally ``{bit_depth}``, ``{width}``...); it
    must write planar YUV at the internal bit depth (10-bit: 16-bit little-endian samples);
``{frames}``, ``{fps}``, ``{frame_skip}``, ``{intra_period}``
    the sequence placeholders (video conditions: frames to code, frame rate, frames of the input to skip
    first, intra period; also ``{structure}``): a template without ``{frames}`` codes pictures only and
    refuses sequences.  A sequence split into segments is joined by concatenation (each segment a whole
    coded video sequence) unless the codec section says ``sequence_join: parcat`` (VTM-like streams);
``version_command``
    a command whose first output line names the tool's version (recorded in the signature);
``bitstream_format``
    ``vvc`` (default: the VVC structure/SEI checks apply and PyAV/FFmpeg decode it too) or anything
    else (``hevc``, ``jpegai``...: only the given decoder verifies it).

Verification decodes with the given decoder and compares with the encoder's reconstruction when
the template names ``{recon}``.  The signature is ``<tool>-<version>#<hash>``, the hash covering the
executable and every file the templates name (scripts, cfg).
"""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from ...core.errors import CodecError, UsageError
from ...core.process import run_process
from .base import CODECS, Codec, DecodeResult, EncodeResult, EncodeSettings, check_input_size, check_sequence_input


def _split(template: str | list[str] | tuple[str, ...]) -> list[str]:
    return list(template) if isinstance(template, (list, tuple)) else shlex.split(template)


def _fill(args: list[str], subs: dict[str, str]) -> list[str]:
    out = []
    for a in args:
        for k, v in subs.items():
            a = a.replace(k, v)
        out.append(a)
    return out


def _resolve(exe: str) -> str | None:
    p = Path(exe)
    if p.is_file():
        return str(p)
    return shutil.which(exe)


@CODECS.register("template")
class TemplateCodec(Codec):
    """A codec driven by command templates (see the module docstring)."""

    name = "template"

    def __init__(self, encode: str | list[str], decode: str | None = None, version_command: str | None = None,
                 tool: str = "template", bitstream_format: str = "vvc", cfg: str | None = None,
                 sequence_join: str = "concat", **_: Any) -> None:
        if sequence_join not in ("concat", "parcat"):
            raise UsageError(f"Unknown sequence_join {sequence_join!r}: use concat or parcat.")
        self.sequence_join = sequence_join
        self.encode_args = _split(encode)
        if not self.encode_args:
            raise UsageError("The codec's encode template is empty.")
        for ph in ("{input}", "{output}", "{qp}"):
            if not any(ph in a for a in self.encode_args):
                raise UsageError(f"The encode template {encode!r} needs the placeholder {ph}.")
        self.decode_template = decode
        self.version_command = version_command
        self.tool = re.sub(r"[^A-Za-z0-9._-]", "_", tool) or "template"
        self.bitstream_format = bitstream_format
        self.cfg = cfg
        if _resolve(self.encode_args[0]) is None:
            raise CodecError(f"The encoder {self.encode_args[0]!r} of codec {tool!r} is not installed (not a file, "
                             "not on PATH). Install it or fix the condition's encode template.")

    def command(self, src: Path, bitstream: Path, recon: Path, settings: EncodeSettings) -> list[str]:
        fmt = settings.fmt
        subs = {"{input}": str(src), "{output}": str(bitstream), "{recon}": str(recon), "{qp}": str(settings.qp),
                "{width}": str(fmt.width), "{height}": str(fmt.height), "{bit_depth}": str(fmt.bit_depth),
                "{internal_bit_depth}": str(settings.internal_bit_depth), "{chroma}": str(fmt.chroma),
                "{pix_fmt}": fmt.pix_fmt, "{cfg}": str(self.cfg or "")}
        return _fill(self.encode_args, subs) + list(settings.extra_args)

    def encode(self, src_yuv: Path, bitstream: Path, settings: EncodeSettings,
               log_dir: Path | None = None) -> EncodeResult:
        src_yuv, bitstream = Path(src_yuv), Path(bitstream)
        check_input_size(src_yuv, settings.fmt)
        bitstream.parent.mkdir(parents=True, exist_ok=True)
        out_dir = Path(log_dir) if log_dir else bitstream.parent
        out_dir.mkdir(parents=True, exist_ok=True)
        recon = bitstream.parent / f"{bitstream.stem}_enc_recon.yuv"
        log_path = out_dir / f"{bitstream.stem}_encoder.log"
        cmd = self.command(src_yuv, bitstream, recon, settings)
        return self._run(cmd, bitstream, recon, log_path, settings.timeout, {"tool": self.tool})

    def encode_sequence(self, src_yuv: Path, bitstream: Path, settings: Any,
                        log_dir: Path | None = None) -> EncodeResult:
        """Run the encode template for a sequence: the picture placeholders plus ``{frames}`` ``{fps}``
        ``{frame_skip}`` ``{intra_period}`` ``{structure}`` (the whole input file is ``{input}``; the encoder
        skips ``{frame_skip}`` frames itself).  Refused when the template has no ``{frames}``."""

        if not any("{frames}" in a for a in self.encode_args):
            raise UsageError(f"Codec {self.tool!r} codes single pictures: its encode template has no {{frames}}. "
                             "Add {frames} {fps} {frame_skip} {intra_period} to the template to code sequences.")
        src_yuv, bitstream = Path(src_yuv), Path(bitstream)
        fmt = settings.fmt
        check_sequence_input(src_yuv, fmt, settings.frame_skip, settings.frames)
        bitstream.parent.mkdir(parents=True, exist_ok=True)
        out_dir = Path(log_dir) if log_dir else bitstream.parent
        out_dir.mkdir(parents=True, exist_ok=True)
        recon = out_dir / f"{bitstream.stem}_enc_recon.yuv"
        log_path = out_dir / f"{bitstream.stem}_encoder.log"
        fps = settings.fps
        seq = {"{frames}": str(settings.frames), "{fps}": str(int(fps)) if float(fps).is_integer() else str(fps),
               "{frame_skip}": str(settings.frame_skip), "{intra_period}": str(settings.intra_period),
               "{structure}": settings.structure}
        cmd = _fill(self.command(src_yuv, bitstream, recon, settings), seq)
        return self._run(cmd, bitstream, recon, log_path, settings.timeout,
                         {"tool": self.tool, "structure": settings.structure})

    def _run(self, cmd: list[str], bitstream: Path, recon: Path, log_path: Path, timeout: float,
             info: dict[str, Any]) -> EncodeResult:
        """Run one encode command (a picture or a sequence) and check that it wrote the bitstream."""
        res = run_process(cmd, timeout=timeout, log_path=log_path)
        if res.timed_out:
            raise CodecError(f"{self.tool} timed out after {timeout:.0f} s (log: {log_path}).")
        if res.returncode != 0:
            raise CodecError(f"{self.tool} failed with status {res.returncode}: {res.tail(300)} (log: {log_path}).")
        if not bitstream.is_file() or bitstream.stat().st_size == 0:
            raise CodecError(f"{self.tool} exited 0 but wrote no bitstream {bitstream} (log: {log_path}). Check that "
                             "the encode template writes {output}.")
        has_recon = any("{recon}" in a for a in self.encode_args)
        return EncodeResult(bitstream, bitstream.stat().st_size * 8, res.seconds, res.command, log_path,
                            recon if has_recon and recon.is_file() else None, info)

    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 120.0) -> DecodeResult:
        from .decoders import CommandDecoder, FFmpegDecoder

        if self.decode_template:
            return CommandDecoder(self.decode_template).decode(bitstream, out_yuv, bit_depth, timeout)
        if self.bitstream_format == "vvc":
            return FFmpegDecoder().decode(bitstream, out_yuv, bit_depth, timeout)
        raise UsageError(f"Codec {self.tool!r} has no decode template.")

    def version(self) -> str:
        if not self.version_command:
            return "unversioned"
        res = run_process(_split(self.version_command), timeout=30)
        lines = [ln.strip() for ln in res.text().splitlines() if ln.strip()]
        if not res.ok or not lines:
            raise CodecError(f"The version command {self.version_command!r} of codec {self.tool!r} failed: {res.tail()}")
        return lines[0]

    def signature(self, settings: EncodeSettings | None = None) -> str:
        token = re.sub(r"[^A-Za-z0-9._+-]+", "_", self.version())[:60].strip("_") or "unversioned"
        h = hashlib.sha256()
        templates = [self.encode_args, _split(self.decode_template or ""), _split(self.version_command or "")]
        for k, args in enumerate(templates):
            for j, a in enumerate(args):
                path = _resolve(a) if (k, j) in ((0, 0), (1, 0)) else (a if Path(a).is_file() else None)
                if path:
                    h.update(Path(path).read_bytes())
            h.update(("\0".join(args) + "\n").encode())
        if self.cfg:
            h.update(Path(self.cfg).read_bytes())
        sig = f"{self.tool}-{token}"
        if settings is not None and settings.internal_bit_depth != 10:
            sig += f"-ibd{settings.internal_bit_depth}"
        return f"{sig}#{h.hexdigest()[:6]}"
