"""The VTM applications on disk: finding ``EncoderApp``/``DecoderApp``, reading their banner version,
and the DecoderApp command line.  Shared by the VTM codec driver (``vtm``) and the VTM decoder
(``decoders.VTMDecoder``), which both import it (and not each other's module)."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from ...core.errors import CodecError
from ...core.process import run_process

_BANNER = re.compile(r"VVCSoftware: VTM (Encoder|Decoder) Version (\S+)")


def find_vtm_binary(name: str, vtm_dir: str | os.PathLike | None = None) -> Path:
    """Locate ``EncoderApp``/``DecoderApp`` in ``vtm_dir`` or ``VCMBENCH_VTM_DIR``."""
    base = vtm_dir or os.environ.get("VCMBENCH_VTM_DIR")
    if not base:
        raise CodecError(f"VTM {name} is not configured: pass --vtm-dir or set VCMBENCH_VTM_DIR to the folder "
                         "holding the VTM 12.0 EncoderApp and DecoderApp.")
    base = Path(base)
    for d in (base, base / "bin"):
        for n in (name, f"{name}Static", f"{name}.exe"):
            p = d / n
            if p.is_file():
                if not os.access(p, os.X_OK):
                    raise CodecError(f"{p} is not executable: chmod +x it.")
                return p
    raise CodecError(f"No VTM {name} in {base} (looked for {name}, {name}Static, also in bin/). "
                     "Point --vtm-dir / VCMBENCH_VTM_DIR at the VTM binaries.")


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
