"""VTM (the VVC reference software) driver: user-supplied EncoderApp / DecoderApp.

Binaries: ``vtm_dir=`` or ``VCMBENCH_VTM_DIR`` (a folder holding ``EncoderApp``/``DecoderApp``,
also ``*Static`` names or a ``bin/`` sub-folder).  The encoder configuration comes from
``cfg=`` (the condition names it), ``VCMBENCH_VTM_CFG``, or ``cfg/encoder_intra_vtm.cfg`` next
to the binaries.

Command line (DESIGN.md §5.1, identical to the VTM 12.0 fixtures' ``encoder_cmd``)::

    EncoderApp -c CFG -i IN.yuv -b OUT.266 -o REC.yuv -wdt W -hgt H -fr 1 -f 1 -q QP
      --InputBitDepth=B --InternalBitDepth=10 --OutputBitDepth=10 --InputChromaFormat=C
      --ConformanceWindowMode=1 [--SEIDecodedPictureHash=1] [--ChromaFormatIDC=400]
      [--LoopFilterDisable=1 --SAO=0 --ALF=0 --CCALF=0] [extra args]

The input file size is checked against W, H, chroma format and bit depth before encoding
(a wrong ``--InputBitDepth`` makes VTM encode garbage and exit 0).  The banner's version must
equal ``expected_version`` (12.0 by default) unless ``allow_version_mismatch=True``, which is
then recorded in the signature as ``!override``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ...core.errors import CodecError, UsageError
from ...core.hashing import file_hash
from ...core.process import run_process
from .base import CODECS, Codec, DecodeResult, EncodeResult, EncodeSettings, check_input_size, check_sequence_input
from .decoders import VTMDecoder
from .vtm_apps import (  # noqa: F401  (decoder_command: public)
    _BANNER,
    DEFAULT_CFG,
    decoder_command,
    find_vtm_binary,
    find_vtm_cfg,
    vtm_banner_version,
)

_POC = re.compile(r"^POC\s+(\d+).*?\(\s*(\w+),\s*(\w)-SLICE,\s*QP\s+(-?\d+)\s*\)\s+(\d+) bits\s*"
                  r"\[Y\s+([\d.]+) dB\s+U\s+([\d.]+) dB\s+V\s+([\d.]+) dB\](?:.*\[MD5:([0-9a-f,]+)\])?", re.M)
_TIME = re.compile(r"Total Time:\s+([\d.]+) sec\. \[user\]\s+([\d.]+) sec\. \[elapsed\]")
_SUMMARY = re.compile(r"Total Frames \|\s+Bitrate\s+Y-PSNR(?:\s+U-PSNR\s+V-PSNR\s+YUV-PSNR)?\s*\n"
                      r"\s*(\d+)\s+a\s+([\d.]+)\s+([\d.]+)(?:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+))?")


def parse_encoder_log(text: str) -> dict[str, Any]:
    """Parse a VTM encoder log: banner version, per-picture bits/QP/PSNR/MD5, summary, time.

    ``picture_bits`` counts the coded pictures' bits as VTM prints them (parameter sets and
    SEI of the file are not all included: the rate of record is the bitstream file size).
    """
    info: dict[str, Any] = {}
    m = _BANNER.search(text)
    if m:
        info["banner_version"] = m.group(2)
    pics = []
    for pm in _POC.finditer(text):
        pics.append({"poc": int(pm.group(1)), "nal_type": pm.group(2), "slice": pm.group(3), "qp": int(pm.group(4)),
                     "bits": int(pm.group(5)), "psnr_y": float(pm.group(6)), "psnr_u": float(pm.group(7)),
                     "psnr_v": float(pm.group(8)), "md5": pm.group(9).split(",") if pm.group(9) else None})
    if pics:
        info["pictures"] = pics
        info["picture_bits"] = sum(p["bits"] for p in pics)
        info["qp"] = pics[0]["qp"]
    sm = _SUMMARY.search(text)
    if sm:
        info["frames"] = int(sm.group(1))
        info["bitrate_kbps"] = float(sm.group(2))
        info["psnr_y"] = float(sm.group(3))
        if sm.group(4):
            info["psnr_u"], info["psnr_v"], info["psnr_yuv"] = (float(sm.group(k)) for k in (4, 5, 6))
    tm = _TIME.search(text)
    if tm:
        info["seconds_user"], info["seconds_elapsed"] = float(tm.group(1)), float(tm.group(2))
    return info


def encoder_command(exe: str | Path, cfg: str | Path, src: str | Path, bitstream: str | Path, recon: str | Path,
                    settings: EncodeSettings) -> list[str]:
    """The exact EncoderApp argument list for one picture (see the module docstring)."""
    fmt = settings.fmt
    return _with_settings([str(exe), "-c", str(cfg), "-i", str(src), "-b", str(bitstream), "-o", str(recon),
                           "-wdt", str(fmt.width), "-hgt", str(fmt.height), "-fr", "1", "-f", "1",
                           "-q", str(settings.qp)], settings)


def _with_settings(cmd: list[str], settings: Any) -> list[str]:
    """``cmd`` followed by the options a picture and a sequence encode share: bit depths, chroma format,
    conformance window, hash SEI, 4:0:0, loop filter off, then the condition's extra arguments (an option
    the condition repeats, e.g. --ConformanceWindowMode=1, is passed once)."""
    fmt = settings.fmt
    cmd = cmd + [f"--InputBitDepth={fmt.bit_depth}", f"--InternalBitDepth={settings.internal_bit_depth}",
                 f"--OutputBitDepth={settings.internal_bit_depth}", f"--InputChromaFormat={fmt.chroma}",
                 "--ConformanceWindowMode=1"]
    if settings.sei_hash:
        cmd.append("--SEIDecodedPictureHash=1")
    if fmt.chroma == 400:
        cmd.append("--ChromaFormatIDC=400")
    if not settings.loop_filter:
        cmd += ["--LoopFilterDisable=1", "--SAO=0", "--ALF=0", "--CCALF=0"]
    return cmd + [a for a in settings.extra_args if not (a.startswith("--") and "=" in a and a in cmd)]


STRUCTURE_CFGS = {"low-delay": "encoder_lowdelay_vtm.cfg", "random-access": "encoder_randomaccess_vtm.cfg"}
STRUCTURE_CFG_MD5 = {"low-delay": "a23672b7bd5130bce8b954dc5eb32fb3",  # VTM-12.0 cfg/, measured on tag VTM-12.0
                     "random-access": "6ffc52e33a688bd72b38a001db17dd1a"}


def sequence_command(exe: str | Path, cfg: str | Path, src: str | Path, bitstream: str | Path, recon: str | Path,
                     settings: Any) -> list[str]:
    """The EncoderApp argument list for a sequence (``settings``: ``coding.sequence.SequenceSettings``)::

        EncoderApp -c CFG -i IN.yuv -b OUT.266 -o REC.yuv -wdt W -hgt H -fr FPS -fs SKIP -f FRAMES -q QP
          --IntraPeriod=IP --DecodingRefreshType=1 --InputBitDepth=B --InternalBitDepth=10 --OutputBitDepth=10 --InputChromaFormat=C
          --ConformanceWindowMode=1 [--SEIDecodedPictureHash=1] [...as for pictures] [extra args]

    ``--DecodingRefreshType=1`` (a CRA every intra period), as CompressAI-Vision passes it whenever its intra
    period is >= 1: the low-delay cfg has ``DecodingRefreshType: 0``, and VTM 12.0 then silently drops the
    intra period (EncAppCfg.cpp: ``if (!m_iDecodingRefreshType) m_iIntraPeriod = -1``), coding one intra
    picture only (measured: ``--IntraPeriod=8`` alone gives B pictures at POC 8 and 16).  The random-access
    cfg already has 1.  VTM 12.0 reads ``-fr`` as an integer (EncAppCfg.cpp ``m_iFrameRate``): a fractional rate is passed
    rounded; at a fixed QP it changes no coded bit (it is the rate of the log's kbps and of the VUI/SEI
    timing only), and vcmbench's kbps always uses the condition's exact rate."""
    fmt = settings.fmt
    return _with_settings([str(exe), "-c", str(cfg), "-i", str(src), "-b", str(bitstream), "-o", str(recon),
                           "-wdt", str(fmt.width), "-hgt", str(fmt.height), "-fr", str(int(round(settings.fps))),
                           "-fs", str(settings.frame_skip), "-f", str(settings.frames), "-q", str(settings.qp),
                           f"--IntraPeriod={settings.intra_period}", "--DecodingRefreshType=1"], settings)


@CODECS.register("vtm")
class VTMCodec(Codec):
    """VTM EncoderApp/DecoderApp driver (see module docstring)."""

    name = "vtm"
    sequence_join = "parcat"  # coding.sequence: overlapping segments joined as VTM's parcat joins them

    def __init__(self, vtm_dir: str | os.PathLike | None = None, cfg: str | os.PathLike | None = None,
                 expected_version: str = "12.0", allow_version_mismatch: bool = False,
                 encoder_app: str | None = None, decoder_app: str | None = None, cfg_md5: str | None = None,
                 sequence_cfgs: dict[str, str] | None = None, **_: Any) -> None:
        self.vtm_dir = vtm_dir
        self.sequence_cfgs = dict(sequence_cfgs or {})  # structure -> cfg path (else the VTM tree's LD/RA cfg)
        self.encoder = Path(encoder_app) if encoder_app else find_vtm_binary("EncoderApp", vtm_dir)
        self._decoder_app = decoder_app
        self.expected_version = str(expected_version)
        self.allow_version_mismatch = allow_version_mismatch
        self.cfg = self._find_cfg(cfg)
        if cfg_md5:
            from ...core.hashing import md5_file

            actual = md5_file(self.cfg)
            if actual != cfg_md5.lower() and not allow_version_mismatch:
                raise CodecError(f"{self.cfg} has MD5 {actual}, but the condition names {cfg_md5.lower()} "
                                 "(VTM-12.0 encoder_intra_vtm.cfg). Use the condition's cfg, or override with "
                                 "--allow-version-mismatch.")

    def _find_cfg(self, cfg: str | os.PathLike | None) -> Path:
        return find_vtm_cfg(DEFAULT_CFG, cfg, self.vtm_dir, encoder=self.encoder)

    def check_version(self) -> str:
        v = vtm_banner_version(self.encoder)
        if v != self.expected_version and not self.allow_version_mismatch:
            raise CodecError(f"{self.encoder} is VTM {v}, but the condition asks for VTM {self.expected_version}. "
                             "Use the right VTM build, or override with --allow-version-mismatch "
                             "(the signature then says '!override').")
        return v

    def version(self) -> str:
        return f"vtm-{vtm_banner_version(self.encoder)}"

    def signature(self, settings: EncodeSettings | None = None) -> str:
        v = vtm_banner_version(self.encoder)
        sig = f"vtm-{v}"
        if settings is not None and not settings.loop_filter:
            sig += "-nolf"
        if settings is not None and settings.internal_bit_depth != 10:
            sig += f"-ibd{settings.internal_bit_depth}"
        sig += f"#{file_hash(str(self.encoder))}"
        if v != self.expected_version:
            sig += "!override"
        return sig

    def encode(self, src_yuv: Path, bitstream: Path, settings: EncodeSettings,
               log_dir: Path | None = None) -> EncodeResult:
        self.check_version()
        src_yuv, bitstream = Path(src_yuv), Path(bitstream)
        check_input_size(src_yuv, settings.fmt)
        bitstream.parent.mkdir(parents=True, exist_ok=True)
        out_dir = Path(log_dir) if log_dir else bitstream.parent
        out_dir.mkdir(parents=True, exist_ok=True)
        recon = out_dir / f"{bitstream.stem}_enc_recon.yuv"
        log_path = out_dir / f"{bitstream.stem}_encoder.log"
        cmd = encoder_command(self.encoder, self.cfg, src_yuv, bitstream, recon, settings)
        res = run_process(cmd, timeout=settings.timeout, log_path=log_path)
        if res.timed_out:
            raise CodecError(f"EncoderApp timed out after {settings.timeout:.0f} s (log: {log_path}). "
                             "Raise the timeout for large pictures / low QPs.")
        if res.returncode != 0:
            raise CodecError(f"EncoderApp failed with status {res.returncode}: {res.tail(300)} (log: {log_path}).")
        if not bitstream.is_file() or bitstream.stat().st_size == 0:
            raise CodecError(f"EncoderApp exited 0 but wrote no bitstream {bitstream} (log: {log_path}).")
        info = parse_encoder_log(res.text())
        if info.get("banner_version") not in (None, self.expected_version) and not self.allow_version_mismatch:
            raise CodecError(f"The encoder log reports VTM {info['banner_version']}, not {self.expected_version}.")
        info["cfg"] = str(self.cfg)
        return EncodeResult(bitstream, bitstream.stat().st_size * 8, res.seconds, res.command, log_path,
                            recon if recon.is_file() else None, info)

    def sequence_cfg(self, structure: str) -> Path:
        """The cfg of a coding structure: ``sequence_cfgs[structure]`` when given, else ``cfg=`` when it has the
        structure's file name, else the VTM-12.0 tree's
        ``encoder_lowdelay_vtm.cfg`` / ``encoder_randomaccess_vtm.cfg`` found beside the binaries (md5 checked
        against VTM-12.0's unless ``sequence_cfgs`` names the file or ``allow_version_mismatch``)."""
        if structure not in STRUCTURE_CFGS:
            raise CodecError(f"VTM has no cfg for structure {structure!r}: use {', '.join(STRUCTURE_CFGS)}.")
        given = self.sequence_cfgs.get(structure)
        if not given and self.cfg.name == STRUCTURE_CFGS[structure]:
            given = str(self.cfg)  # the condition's cfg= names this structure's cfg
        explicit = bool(self.sequence_cfgs.get(structure))
        md5 = None if (explicit or self.allow_version_mismatch) else STRUCTURE_CFG_MD5[structure]
        return find_vtm_cfg(STRUCTURE_CFGS[structure], given, self.vtm_dir, encoder=self.encoder, md5=md5,
                            what=f"VTM {structure}")

    def encode_sequence(self, src_yuv: Path, bitstream: Path, settings: Any,
                        log_dir: Path | None = None) -> EncodeResult:
        """Encode ``settings.frames`` frames after ``settings.frame_skip`` with the structure's cfg
        (:func:`sequence_command`); the recon holds every coded frame in output order."""

        self.check_version()
        src_yuv, bitstream = Path(src_yuv), Path(bitstream)
        fmt = settings.fmt
        check_sequence_input(src_yuv, fmt, settings.frame_skip, settings.frames)
        cfg = self.sequence_cfg(settings.structure)
        m = re.search(r"(?m)^GOPSize\s*:\s*(\d+)", cfg.read_text(errors="replace"))
        gop = int(m.group(1)) if m else 0
        low_delay = settings.structure == "low-delay"
        if gop and (settings.intra_period % gop or (low_delay and settings.intra_period <= gop)):
            raise UsageError(f"VTM {settings.structure} ({cfg.name}, GOPSize {gop}) needs an intra period that is a "
                             f"multiple of {gop}{' and larger than it' if low_delay else ''}; got "
                             f"{settings.intra_period}. (VTM 12.0 refuses other multiples, and its low-delay coding "
                             "crashes with a segmentation fault at intra period = GOP size.)")
        bitstream.parent.mkdir(parents=True, exist_ok=True)
        out_dir = Path(log_dir) if log_dir else bitstream.parent
        out_dir.mkdir(parents=True, exist_ok=True)
        recon = out_dir / f"{bitstream.stem}_enc_recon.yuv"
        log_path = out_dir / f"{bitstream.stem}_encoder.log"
        cmd = sequence_command(self.encoder, cfg, src_yuv, bitstream, recon, settings)
        res = run_process(cmd, timeout=settings.timeout, log_path=log_path)
        if res.timed_out:
            raise CodecError(f"EncoderApp timed out after {settings.timeout:.0f} s coding {settings.frames} frames "
                             f"(log: {log_path}). Raise the timeout or split the sequence at intra periods.")
        if res.returncode != 0:
            raise CodecError(f"EncoderApp failed with status {res.returncode}: {res.tail(300)} (log: {log_path}).")
        if not bitstream.is_file() or bitstream.stat().st_size == 0:
            raise CodecError(f"EncoderApp exited 0 but wrote no bitstream {bitstream} (log: {log_path}).")
        info = parse_encoder_log(res.text())
        if len(info.get("pictures", [])) != settings.frames:
            raise CodecError(f"EncoderApp logged {len(info.get('pictures', []))} pictures, not the {settings.frames} "
                             f"asked for (log: {log_path}).")
        info["cfg"] = str(cfg)
        info["structure"] = settings.structure
        if float(settings.fps) != int(round(settings.fps)):
            info["fr_passed"] = int(round(settings.fps))
        return EncodeResult(bitstream, bitstream.stat().st_size * 8, res.seconds, res.command, log_path,
                            recon if recon.is_file() else None, info)

    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 120.0) -> DecodeResult:
        if self._decoder_app:
            dec = VTMDecoder(decoder_app=self._decoder_app)
        else:
            try:
                dec = VTMDecoder(self.vtm_dir if self.vtm_dir else self.encoder.parent)
            except CodecError:
                dec = VTMDecoder(self.vtm_dir)
        return dec.decode(bitstream, out_yuv, bit_depth, timeout)


def same_command_modulo_paths(a: list[str], b: list[str]) -> bool:
    """Whether two command lines are equal once every path is reduced to its file name."""
    if len(a) != len(b):
        return False

    def norm(x: str) -> str:
        if x.startswith("-") and "=" in x:
            return x
        return Path(x).name if ("/" in x or "\\" in x) else x

    return [norm(x) for x in a] == [norm(x) for x in b]

