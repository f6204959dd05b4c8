"""The VTM applications on disk: finding ``EncoderApp``/``DecoderApp``, reading their banner version,
and the DecoderApp command line.  Shared by the VTM codec driver (``vtm``) and the VTM decoder
(``decoders.VTMDecoder``), which both import it (and not each other's module)."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from ...core.errors import CodecError, CodecSetupError
from ...core.process import run_process

_BANNER = re.compile(r"VVCSoftware: VTM (Encoder|Decoder) Version (\S+)")


def find_vtm_binary(name: str, vtm_dir: str | os.PathLike | None = None) -> Path:
    """Locate ``EncoderApp``/``DecoderApp`` in ``vtm_dir`` or ``VCMBENCH_VTM_DIR``.

    Not configured, a folder that does not exist, one without the binary, or a binary that is not executable:
    :class:`CodecSetupError` (bad input, exit 2), naming the folder and the fix."""
    given = "--vtm-dir" if vtm_dir else "--vtm-dir / VCMBENCH_VTM_DIR"
    base = vtm_dir or os.environ.get("VCMBENCH_VTM_DIR")
    if not base:
        raise CodecSetupError(f"VTM {name} is not configured: pass --vtm-dir or set VCMBENCH_VTM_DIR to the folder "
                              "holding the VTM 12.0 EncoderApp and DecoderApp.")
    base = Path(base)
    if not base.is_dir():
        raise CodecSetupError(f"{given} {base}: {'no such folder' if not base.exists() else 'not a folder'}. "
                              "Point it at the folder holding the VTM 12.0 EncoderApp and DecoderApp (or its bin/).")
    for d in (base, base / "bin"):
        for n in (name, f"{name}Static", f"{name}.exe"):
            p = d / n
            if p.is_file():
                if not os.access(p, os.X_OK):
                    raise CodecSetupError(f"{p} is not executable: chmod +x it.")
                return p
    raise CodecSetupError(f"No VTM {name} in {base} (looked for {name}, {name}Static, also in bin/). "
                          f"Point {given} at the VTM binaries.")


@lru_cache(maxsize=None)
def _banner_of(exe: str, mtime: float) -> str:
    res = run_process([exe], timeout=30)
    m = _BANNER.search(res.text())
    if not m:
        raise CodecError(f"{exe} printed no VTM banner ('VVCSoftware: VTM ... Version X'): is it a VTM binary?")
    return m.group(2)


def vtm_banner_version(exe: Path) -> str:
    """The version in the binary's own banner (it is run once without arguments)."""
    exe = Path(exe)
    return _banner_of(str(exe), exe.stat().st_mtime)


def decoder_command(exe: str | Path, bitstream: str | Path, out_yuv: str | Path, bit_depth: int = 10) -> list[str]:
    return [str(exe), "-b", str(bitstream), "-o", str(out_yuv), "-d", str(bit_depth)]


DEFAULT_CFG = "encoder_intra_vtm.cfg"


def cfg_candidates(file: str = DEFAULT_CFG, given: str | os.PathLike | None = None,
                   vtm_dir: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None,
                   encoder: str | os.PathLike | None = None) -> list[Path]:
    """Where the VTM encoder cfg ``file`` is looked for, in order (the ONE place that decides it):

    1. ``given`` (``--cfg``/``cfg=``), which must then exist; 2. ``VCMBENCH_VTM_CFG``;
    3. for the VTM directory (``vtm_dir``, else ``VCMBENCH_VTM_DIR``, else the encoder's folder):
       ``<dir>/cfg/<file>``, ``<dir>/../cfg/<file>`` (the standard VTM tree, ``bin/`` beside ``cfg/``,
       given ``--vtm-dir .../bin``), ``<dir>/<file>``; 4. ``<data_dir>/<file>``.
    """
    if given:
        return [Path(given)]
    cands: list[Path] = []
    if os.environ.get("VCMBENCH_VTM_CFG"):
        cands.append(Path(os.environ["VCMBENCH_VTM_CFG"]))
    vdir = vtm_dir or os.environ.get("VCMBENCH_VTM_DIR") or (Path(encoder).parent if encoder else None)
    if vdir:
        d = Path(vdir)
        cands += [d / "cfg" / file, d.parent / "cfg" / file, d / file]
    if data_dir:
        cands.append(Path(data_dir) / file)
    return cands


def find_vtm_cfg(file: str = DEFAULT_CFG, given: str | os.PathLike | None = None,
                 vtm_dir: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None,
                 encoder: str | os.PathLike | None = None, md5: str | None = None, what: str = "") -> Path:
    """The first existing cfg of :func:`cfg_candidates`, checked against ``md5`` when given."""
    cands = cfg_candidates(file, given, vtm_dir, data_dir, encoder)
    path = next((c for c in cands if c.is_file()), None)
    if path is None:
        raise CodecError(f"VTM encoder configuration not found: {what or 'VTM'} needs {file}"
                         + (f" (md5 {md5})" if md5 else "") + f"; tried {', '.join(map(str, cands)) or 'nothing'}. "
                         "Give --cfg FILE, set VCMBENCH_VTM_CFG, or point --vtm-dir at the bin/ folder of a VTM "
                         "12.0 tree (cfg/ beside it).")
    if md5:
        from ...core.hashing import md5_file

        actual = md5_file(path)
        if actual != md5.lower():
            raise CodecError(f"VTM cfg {path} has md5 {actual}, but {what or 'the condition'} records {md5.lower()}: "
                             f"use the cfg the condition names (VTM-12.0 cfg/{file}).")
    return path
