"""Locating FFmpeg and asking it what it is and what it has.

``VCMBENCH_FFMPEG`` selects another FFmpeg binary; by default the one bundled with
imageio-ffmpeg (FFmpeg 9 with libvvenc and the native VVC decoder, DESIGN.md §5.4).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..core.errors import CodecError
from ..core.process import run_process


@lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary: ``VCMBENCH_FFMPEG`` if set, else the one bundled with imageio-ffmpeg."""
    env = os.environ.get("VCMBENCH_FFMPEG")
    if env:
        if not Path(env).is_file():
            raise CodecError(f"VCMBENCH_FFMPEG={env} does not exist. Unset it to use imageio-ffmpeg's FFmpeg.")
        return env
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a declared dependency
        raise CodecError("imageio-ffmpeg is not installed: `pip install 'imageio-ffmpeg>=0.8.1'`.") from None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:  # pragma: no cover
        raise CodecError(f"imageio-ffmpeg found no FFmpeg binary ({exc}). Reinstall imageio-ffmpeg>=0.8.1.") from None


@lru_cache(maxsize=None)
def ffmpeg_version() -> str:
    """FFmpeg release number from ``ffmpeg -version`` (e.g. ``9.0.2``)."""
    res = run_process([ffmpeg_exe(), "-hide_banner", "-version"], timeout=30)
    first = res.stdout.decode("utf-8", "replace").splitlines()[:1]
    if not res.ok or not first:
        raise CodecError(f"`{ffmpeg_exe()} -version` failed: {res.tail()}. Reinstall imageio-ffmpeg.")
    # "ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright ..."
    token = first[0].split()[2] if len(first[0].split()) > 2 else "unknown"
    token = token.lstrip("nN")
    return token.split("-")[0] or "unknown"


@lru_cache(maxsize=None)
def ffmpeg_has(kind: str, name: str) -> bool:
    """Whether FFmpeg lists ``name`` among its ``kind`` ("encoders" or "decoders")."""
    res = run_process([ffmpeg_exe(), "-hide_banner", f"-{kind}"], timeout=30)
    for line in res.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] == name:
            return True
    return False
