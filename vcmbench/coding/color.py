"""RGB <-> YUV colour conversion as named, exact modes, the FFmpeg range probe, and the colour part
of the result signature (DESIGN.md §5.1).

Every mode names its matrix, range, chroma filter and rounding.  Planes are numpy arrays (8-bit
``uint8``); :mod:`vcmbench.coding.yuv` dispatches to these functions and handles bit depth.

``ctc``
    The conversion the public anchor scripts (CompressAI-Vision, VCM-RS) INTEND: FFmpeg swscale
    ``rgb24`` -> ``yuv420p``, BT.601 matrix, FULL range in and out, swscale's own fixed point and
    chroma filter.  Full range is spelled ``-color_range pc`` (output side; before ``-i`` on the
    way back), which FFmpeg 7+ honours.  Refused when the probe finds the FFmpeg in use does not.
``ctc-bitexact``
    ``ctc`` with ``-sws_flags bicubic+accurate_rnd+bitexact`` (portable C arithmetic, no SIMD).
``scripts-literal``
    What the scripts' FFmpeg commands ACTUALLY do with the FFmpeg in use: exactly their options,
    in their positions (``-pix_fmt yuv420p -dst_range 1`` after ``-i``; ``-src_range 1`` before
    ``-i`` on the way back).  Measured (issue 12): FFmpeg >= 7 (bundled 9.0.2) ignores
    ``-dst_range 1`` and writes LIMITED range; FFmpeg <= 6 honours it (FULL); every version ignores
    ``-src_range 1`` before ``-i`` (reads LIMITED).  The probe finds out and the signature says it,
    e.g. ``scripts-literal=limited,limited#ffmpeg9.0.2-0d709a`` (RGB->YUV output range, YUV->RGB
    input range).  This is the mode that reproduces a published anchor produced with that FFmpeg.
``bt601-full-int``
    Recommended for new contributions: independent of FFmpeg and of the CPU (pure integer
    arithmetic, identical everywhere).  BT.601 full range (JFIF) with coefficients scaled by 2^16
    and rounded to integers whose rows sum exactly (Y: 19595, 38470, 7471; Cb: -11059, -21709,
    32768; Cr: 32768, -27439, -5329).  Y = (Y16 + 2^15) >> 16.  4:2:0 chroma = the 2x2 block SUM of
    full-resolution chroma (edge-replicated at odd sizes), (S + 128*2^18 + 2^17) >> 18.  Back:
    chroma replicated 2x2, R = Y + 1.402 Cr', G = Y - 0.344136 Cb' - 0.714136 Cr', B = Y + 1.772 Cb'
    with coefficients 91881, 22554, 46802, 116130 (/2^16) at the decoded bit depth d:
    (Y << 16 + sum) + 2^(15+d-8) >> (16+d-8).  ``>>`` is an arithmetic shift (floor), so every
    rounding is half up.  Results clipped to 0..255.
``bt601-full-numpy`` ... ``bt709-limited-numpy``
    float64 matrix, 2x2 mean chroma, round half up (named alternatives; never an anchor's numbers).

The colour part of the signature names the mode and, whenever FFmpeg touches the pixels (an FFmpeg
colour mode, or a CTC down-scale), the converter: ``#ffmpeg<version>-<binary sha256[:6]>``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from ..core.errors import CodecError, UsageError

_MATRICES = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}
NUMPY_MODES = tuple(f"{m}-{r}-numpy" for m in _MATRICES for r in ("full", "limited"))
FFMPEG_MODES = ("ctc", "ctc-bitexact", "scripts-literal")
INT_MODES = ("bt601-full-int",)
MODES = (*FFMPEG_MODES, *INT_MODES, *NUMPY_MODES)
BITEXACT = ["-sws_flags", "bicubic+accurate_rnd+bitexact"]
RECOMMENDED = "bt601-full-int"

# (RGB->YUV output-side options, YUV->RGB input-side options, the ranges the mode needs or None)
_SPELLING = {
    "ctc": (["-color_range", "pc"], ["-color_range", "pc"], ("full", "full")),
    "ctc-bitexact": (["-color_range", "pc"], ["-color_range", "pc"], ("full", "full")),
    "scripts-literal": (["-dst_range", "1"], ["-src_range", "1"], None),
}


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise UsageError(f"Unknown colour conversion mode {mode!r}. Available: {', '.join(MODES)} "
                         f"({RECOMMENDED} is recommended for new contributions; see README 'Colour conversion').")


def ffmpeg_args(mode: str) -> tuple[list[str], list[str]]:
    """(options after ``-i`` for RGB->YUV, options before ``-i`` for YUV->RGB) of an FFmpeg mode."""
    out, inp, _ = _SPELLING[mode]
    extra = BITEXACT if mode == "ctc-bitexact" else []
    return [*extra, *out], list(inp)


def ffmpeg_convert(data: bytes, in_args: list[str], out_args: list[str], expect_bytes: int,
                   timeout: float = 120.0, exe: str | None = None) -> bytes:
    """Pipe one raw picture through FFmpeg (rawvideo in, rawvideo out)."""
    from ..core.process import run_process
    from .ffmpeg import ffmpeg_exe

    cmd = [exe or ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", *in_args, "-i", "pipe:0",
           "-frames:v", "1", *out_args, "-f", "rawvideo", "pipe:1"]
    res = run_process(cmd, timeout=timeout, stdin=data)
    if not res.ok or len(res.stdout) != expect_bytes:
        raise CodecError(f"FFmpeg conversion failed ({'timeout' if res.timed_out else f'exit {res.returncode}'}, "
                         f"{len(res.stdout)} of {expect_bytes} bytes): {res.tail()}. Command: {' '.join(cmd)}")
    return res.stdout


# ------------------------------------------------------------------------------------------ probe


@lru_cache(maxsize=None)
def _probe(exe: str, stamp: tuple, mode: str) -> tuple[str, str]:
    out_args, in_args = ffmpeg_args(mode)
    # RGB->YUV: a black 2x2 picture; luma 0 = full range, 16 = limited range
    y = ffmpeg_convert(bytes(12), ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "2x2"],
                       [*out_args, "-pix_fmt", "yuv420p"], 6, timeout=60, exe=exe)[0]
    out_range = {0: "full", 16: "limited"}.get(y, f"unknown-y{y}")
    # YUV->RGB: 10-bit luma 64 (= 16 in 8 bits), neutral chroma; full range reads 16, limited reads 0
    yuv = np.array([64] * 4 + [512, 512], "<u2").tobytes()
    r = ffmpeg_convert(yuv, ["-f", "rawvideo", "-pix_fmt", "yuv420p10le", "-s", "2x2", *in_args],
                       ["-pix_fmt", "rgb24"], 12, timeout=60, exe=exe)[0]
    in_range = {16: "full", 0: "limited"}.get(r, f"unknown-r{r}")
    return out_range, in_range


def probe_ranges(mode: str, exe: str | None = None) -> tuple[str, str]:
    """What the FFmpeg in use does with ``mode``'s range options: (range it writes converting RGB->YUV,
    range it reads converting YUV->RGB), each ``full`` or ``limited``.  A one-picture probe, cached per
    FFmpeg binary (path, size and mtime)."""
    from .ffmpeg import ffmpeg_exe

    exe = exe or ffmpeg_exe()
    st = os.stat(exe)
    return _probe(exe, (st.st_size, st.st_mtime_ns), mode)


def require_honoured(mode: str, exe: str | None = None) -> tuple[str, str]:
    """Probe ``mode`` (FFmpeg modes) and refuse it when this FFmpeg cannot do what it promises."""
    check_mode(mode)
    if mode not in FFMPEG_MODES:
        return ("full" if "full" in mode else "limited",) * 2
    got = probe_ranges(mode, exe)
    need = _SPELLING[mode][2]
    if need is not None and got != need:
        from .ffmpeg import ffmpeg_exe, ffmpeg_version

        raise CodecError(
            f"Colour mode {mode!r} needs full range in and out, but the FFmpeg in use ({exe or ffmpeg_exe()}, "
            f"version {ffmpeg_version()}) writes {got[0]} range and reads {got[1]} range with "
            f"{' '.join(_SPELLING[mode][0])}. Use imageio-ffmpeg's FFmpeg (unset VCMBENCH_FFMPEG), or the colour "
            f"mode scripts-literal (what the public scripts do with this FFmpeg) or {RECOMMENDED} (no FFmpeg).")
    if any(r.startswith("unknown") for r in got):
        raise CodecError(f"The FFmpeg range probe for colour mode {mode!r} gave {got}: this FFmpeg converts in a "
                         f"way vcmbench does not know. Use colour mode {RECOMMENDED}.")
    return got


def converter_identity() -> str:
    """``ffmpeg<version>-<sha256[:6] of the binary>`` of the FFmpeg in use."""
    from ..core.hashing import file_hash
    from .ffmpeg import ffmpeg_exe, ffmpeg_version

    return f"ffmpeg{ffmpeg_version()}-{file_hash(ffmpeg_exe())}"


def color_signature(mode: str, scales: Iterable[float] = (1.0,)) -> str:
    """The signature's colour part (see the module docstring); probes (and refuses) FFmpeg modes."""
    got = require_honoured(mode)
    value = f"{mode}={got[0]},{got[1]}" if mode == "scripts-literal" else mode
    scaled = any(abs(float(s) - 1.0) > 1e-9 and abs(float(s) - 100.0) > 1e-9 for s in scales)
    if mode in FFMPEG_MODES or scaled:
        value += f"#{converter_identity()}"
    return value


# ------------------------------------------------------------------------------------------ integer


_Y = (19595, 38470, 7471)
_CB = (-11059, -21709, 32768)
_CR = (32768, -27439, -5329)


def rgb_to_yuv_int(rgb: np.ndarray, chroma: int) -> list[np.ndarray]:
    """``bt601-full-int`` RGB -> 8-bit Y, Cb, Cr (4:2:0 or 4:4:4); see the module docstring."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    y = (_Y[0] * r + _Y[1] * g + _Y[2] * b + (1 << 15)) >> 16
    cb = _CB[0] * r + _CB[1] * g + _CB[2] * b
    cr = _CR[0] * r + _CR[1] * g + _CR[2] * b
    if chroma == 444:
        planes = [y, (cb + (128 << 16) + (1 << 15)) >> 16, (cr + (128 << 16) + (1 << 15)) >> 16]
    else:
        planes = [y, (_sum2x2(cb) + (128 << 18) + (1 << 17)) >> 18, (_sum2x2(cr) + (128 << 18) + (1 << 17)) >> 18]
    return [np.clip(p, 0, 255).astype(np.uint8) for p in planes]


def _sum2x2(p: np.ndarray) -> np.ndarray:
    h, w = p.shape
    q = np.pad(p, ((0, h % 2), (0, w % 2)), mode="edge")
    return q[0::2, 0::2] + q[1::2, 0::2] + q[0::2, 1::2] + q[1::2, 1::2]


def yuv_to_rgb_int(planes: Sequence[np.ndarray], width: int, height: int, chroma: int, bit_depth: int) -> np.ndarray:
    """``bt601-full-int`` decoded planes (any bit depth >= 8) -> HxWx3 uint8 RGB."""
    d = bit_depth - 8
    y = planes[0].astype(np.int64)
    if chroma == 400:
        cb = cr = np.zeros_like(y)
    else:
        mid = 128 << d
        cb, cr = planes[1].astype(np.int64) - mid, planes[2].astype(np.int64) - mid
        if chroma == 420:
            cb = np.repeat(np.repeat(cb, 2, 0), 2, 1)[:height, :width]
            cr = np.repeat(np.repeat(cr, 2, 0), 2, 1)[:height, :width]
    shift = 16 + d
    y16, half = y << 16, 1 << (shift - 1)
    r = (y16 + 91881 * cr + half) >> shift
    g = (y16 - 22554 * cb - 46802 * cr + half) >> shift
    b = (y16 + 116130 * cb + half) >> shift
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------ float


def _coeffs(mode: str) -> tuple[float, float, bool]:
    mat, rng, _ = mode.split("-")
    kr, kb = _MATRICES[mat]
    return kr, kb, rng == "full"


def rgb_to_yuv_numpy(rgb: np.ndarray, mode: str, chroma: int) -> list[np.ndarray]:
    kr, kb, full = _coeffs(mode)
    kg = 1.0 - kr - kb
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = kr * r + kg * g + kb * b
    cb = (b - y) / (2 * (1 - kb))
    cr = (r - y) / (2 * (1 - kr))
    if full:
        y8, cb8, cr8 = y, cb + 128.0, cr + 128.0
    else:
        y8, cb8, cr8 = 16 + y * 219 / 255, 128 + cb * 224 / 255, 128 + cr * 224 / 255
    if chroma == 420:
        cb8, cr8 = _sum2x2(cb8) / 4.0, _sum2x2(cr8) / 4.0
    return [np.clip(np.floor(p + 0.5), 0, 255).astype(np.uint8) for p in (y8, cb8, cr8)]


def yuv_to_rgb_numpy(planes: Sequence[np.ndarray], width: int, height: int, chroma: int, mode: str) -> np.ndarray:
    """8-bit planes -> RGB with a float numpy mode."""
    kr, kb, full = _coeffs(mode)
    kg = 1.0 - kr - kb
    y = planes[0].astype(np.float64)
    if chroma == 400:
        cb = cr = np.full_like(y, 128.0)
    elif chroma == 420:
        cb = np.repeat(np.repeat(planes[1], 2, 0), 2, 1)[:height, :width].astype(np.float64)
        cr = np.repeat(np.repeat(planes[2], 2, 0), 2, 1)[:height, :width].astype(np.float64)
    else:
        cb, cr = planes[1].astype(np.float64), planes[2].astype(np.float64)
    if full:
        cb, cr = cb - 128.0, cr - 128.0
    else:
        y, cb, cr = (y - 16) * 255 / 219, (cb - 128) * 255 / 224, (cr - 128) * 255 / 224
    r = y + 2 * (1 - kr) * cr
    b = y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / kg
    return np.clip(np.floor(np.stack([r, g, b], -1) + 0.5), 0, 255).astype(np.uint8)
