"""Planar YUV files, RGB<->YUV conversion and the CTC pad/scale rules (DESIGN.md §5.1).

File layout: planar, Y then U then V (4:2:0: chroma planes ``ceil(H/2) x ceil(W/2)``; 4:0:0:
Y only; 4:4:4: three full planes), one frame after another.  8-bit samples are one byte;
10-bit samples are 16-bit little-endian words (the layout of VTM/FFmpeg ``yuv420p10le``).
In memory a picture is a list of 2-D numpy planes: ``uint8`` for 8-bit, ``uint16`` otherwise.

Colour conversion modes (``mode=``): see :mod:`vcmbench.coding.color` (named, exact modes, the
FFmpeg range probe and the signature's colour part).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..core.errors import DataError, UsageError
from .color import (  # noqa: F401
    BITEXACT,
    FFMPEG_MODES,
    INT_MODES,
    MODES,
    NUMPY_MODES,
    check_mode,
    ffmpeg_args,
    ffmpeg_convert,
    require_honoured,
    rgb_to_yuv_int,
    rgb_to_yuv_numpy,
    yuv_to_rgb_int,
    yuv_to_rgb_numpy,
)

CHROMA_FORMATS = (420, 400, 444)
BIT_DEPTHS = (8, 10)


@dataclass(frozen=True)
class YuvFormat:
    """Geometry and sample format of a planar YUV picture (see module docstring for the layout)."""

    width: int
    height: int
    chroma: int = 420  # 420 | 400 | 444
    bit_depth: int = 10  # 8 -> 1 byte per sample; 9..16 -> 16-bit little-endian

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and isinstance(self.height, int)) or self.width <= 0 or self.height <= 0:
            raise UsageError(f"Invalid YUV size {self.width}x{self.height}: width and height must be positive integers.")
        if self.chroma not in CHROMA_FORMATS:
            raise UsageError(f"Unsupported chroma format {self.chroma!r}: use one of {CHROMA_FORMATS}.")
        if not 8 <= int(self.bit_depth) <= 16:
            raise UsageError(f"Unsupported bit depth {self.bit_depth!r}: use 8 or 10 (up to 16).")

    @property
    def sample_bytes(self) -> int:
        return 1 if self.bit_depth == 8 else 2

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8) if self.bit_depth == 8 else np.dtype("<u2")

    def plane_shapes(self) -> list[tuple[int, int]]:
        """(rows, columns) of each plane."""
        y = (self.height, self.width)
        if self.chroma == 400:
            return [y]
        if self.chroma == 444:
            return [y, y, y]
        c = ((self.height + 1) // 2, (self.width + 1) // 2)
        return [y, c, c]

    @property
    def frame_bytes(self) -> int:
        return sum(h * w for h, w in self.plane_shapes()) * self.sample_bytes

    @property
    def pix_fmt(self) -> str:
        """The FFmpeg pixel format of this layout (e.g. ``yuv420p10le``, ``gray10le``)."""
        base = {420: "yuv420p", 444: "yuv444p", 400: "gray"}[self.chroma]
        if self.bit_depth == 8:
            return base
        return f"{base}{self.bit_depth}le"

    def describe(self) -> str:
        return f"{self.width}x{self.height} {self.chroma} {self.bit_depth}-bit"


def read_yuv(path: str | Path, fmt: YuvFormat, frame: int = 0) -> list[np.ndarray]:
    """Read frame ``frame`` of a planar YUV file as planes Y[,U,V].

    The file size must be a whole number of frames of ``fmt``; anything else is refused with
    the sizes named (a wrong width/height/bit depth is the usual cause).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"YUV file not found: {path}. Check the path.") from None
    fb = fmt.frame_bytes
    if size == 0 or size % fb:
        raise DataError(f"{path} has {size} bytes, which is not a whole number of {fmt.describe()} frames "
                        f"({fb} bytes each). Check width, height, chroma format and bit depth.")
    if not 0 <= frame < size // fb:
        raise DataError(f"{path} has {size // fb} frame(s); frame {frame} does not exist.")
    with open(path, "rb") as fh:
        fh.seek(frame * fb)
        data = fh.read(fb)
    return planes_from_bytes(data, fmt)


def planes_from_bytes(data: bytes, fmt: YuvFormat) -> list[np.ndarray]:
    """Split one frame of raw bytes into planes (native-endian copies)."""
    if len(data) != fmt.frame_bytes:
        raise DataError(f"Got {len(data)} bytes for a {fmt.describe()} frame; expected {fmt.frame_bytes}.")
    arr = np.frombuffer(data, dtype=fmt.dtype)
    planes, off = [], 0
    for h, w in fmt.plane_shapes():
        planes.append(arr[off:off + h * w].reshape(h, w).astype(np.uint8 if fmt.bit_depth == 8 else np.uint16))
        off += h * w
    return planes


def planes_to_bytes(planes: Sequence[np.ndarray], fmt: YuvFormat) -> bytes:
    """Serialise planes in the file layout of ``fmt`` after checking shapes and sample range."""
    shapes = fmt.plane_shapes()
    if len(planes) != len(shapes):
        raise UsageError(f"{fmt.describe()} needs {len(shapes)} plane(s); got {len(planes)}.")
    out = []
    vmax = (1 << fmt.bit_depth) - 1
    for i, (p, shp) in enumerate(zip(planes, shapes)):
        p = np.asarray(p)
        if p.shape != shp:
            raise UsageError(f"Plane {i} has shape {p.shape}; {fmt.describe()} needs {shp}.")
        if p.size and (p.min() < 0 or p.max() > vmax):
            raise UsageError(f"Plane {i} has samples outside 0..{vmax} for {fmt.bit_depth}-bit.")
        out.append(np.ascontiguousarray(p.astype(fmt.dtype)).tobytes())
    return b"".join(out)


def write_yuv(path: str | Path, planes: Sequence[np.ndarray], fmt: YuvFormat) -> None:
    """Write one frame atomically (a crash never leaves a partial file)."""
    from ..core.jsonio import atomic_write_bytes

    atomic_write_bytes(path, planes_to_bytes(planes, fmt))


def to_bit_depth(planes: Sequence[np.ndarray], src_depth: int, dst_depth: int) -> list[np.ndarray]:
    """Change the bit depth as VTM does for ``--InputBitDepth``/``--InternalBitDepth``.

    Up: left shift.  Down: round half up then shift, clipped (VTM's output scaling).
    """
    if dst_depth == src_depth:
        return [np.asarray(p).copy() for p in planes]
    dt = np.uint8 if dst_depth == 8 else np.uint16
    if dst_depth > src_depth:
        s = dst_depth - src_depth
        return [(np.asarray(p).astype(np.uint32) << s).astype(dt) for p in planes]
    s = src_depth - dst_depth
    vmax = (1 << dst_depth) - 1
    return [np.minimum((np.asarray(p).astype(np.uint32) + (1 << (s - 1))) >> s, vmax).astype(dt) for p in planes]


# ---------------------------------------------------------------------------------------------
# RGB <-> YUV (the modes live in vcmbench.coding.color)


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise UsageError(f"Expected an HxWx3 uint8 RGB array; got shape {rgb.shape} dtype {rgb.dtype}.")
    return np.ascontiguousarray(rgb)


def _check_mode(mode: str) -> None:
    check_mode(mode)


def _ffmpeg_to_yuv(rgb: np.ndarray, mode: str, fmt8: YuvFormat, vf: str | None = None) -> list[np.ndarray]:
    """8-bit planes of ``fmt8`` from an RGB picture with an FFmpeg mode; ``vf`` (an RGB filter such as
    ``scale=W:H``, producing ``fmt8``'s size) runs first, in the same process."""
    require_honoured(mode)
    h, w, _ = rgb.shape
    out_args, _ = ffmpeg_args(mode)
    pre = ["-vf", f"{vf},format=rgb24"] if vf else []
    data = ffmpeg_convert(rgb.tobytes(), ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}"],
                          [*pre, "-pix_fmt", fmt8.pix_fmt, *out_args], fmt8.frame_bytes)
    return planes_from_bytes(data, fmt8)


def _ffmpeg_to_rgb(planes: Sequence[np.ndarray], fmt: YuvFormat, mode: str, vf: str | None = None,
                   size: tuple[int, int] | None = None) -> np.ndarray:
    """RGB picture from planes of ``fmt`` with an FFmpeg mode; ``vf`` (an RGB filter such as
    ``scale=W:H``, producing ``size`` = (width, height)) runs after the conversion, in the same process."""
    require_honoured(mode)
    out_args, in_args = ffmpeg_args(mode)
    extra = [a for a in out_args if a in BITEXACT]
    w, h = size or (fmt.width, fmt.height)
    post = ["-vf", f"format=rgb24,{vf}"] if vf else []
    data = ffmpeg_convert(planes_to_bytes(planes, fmt),
                          ["-f", "rawvideo", "-pix_fmt", fmt.pix_fmt, "-s", f"{fmt.width}x{fmt.height}", *in_args],
                          [*extra, *post, "-pix_fmt", "rgb24"], w * h * 3)
    return np.frombuffer(data, np.uint8).reshape(h, w, 3).copy()


def rgb_to_yuv(rgb: np.ndarray, mode: str = "ctc", chroma: int = 420, bit_depth: int = 8) -> list[np.ndarray]:
    """Convert an HxWx3 uint8 RGB picture to planes Y[,U,V] with a colour mode of :mod:`.color`.

    ``chroma=400`` returns the luma plane of the 4:2:0 conversion.  ``bit_depth=10`` shifts the
    8-bit result left by 2 (VTM's InputBitDepth=8 -> InternalBitDepth=10).  FFmpeg modes are probed
    first (a mode the FFmpeg in use cannot honour is refused).
    """
    _check_mode(mode)
    rgb = _check_rgb(rgb)
    if chroma not in CHROMA_FORMATS:
        raise UsageError(f"Unsupported chroma format {chroma!r}: use one of {CHROMA_FORMATS}.")
    h, w, _ = rgb.shape
    sub = 444 if chroma == 444 else 420
    if mode in FFMPEG_MODES:
        planes = _ffmpeg_to_yuv(rgb, mode, YuvFormat(w, h, sub, 8))
    elif mode in INT_MODES:
        planes = rgb_to_yuv_int(rgb, sub)
    else:
        planes = rgb_to_yuv_numpy(rgb, mode, sub)
    if chroma == 400:
        planes = planes[:1]
    return to_bit_depth(planes, 8, bit_depth)


def yuv_to_rgb(planes: Sequence[np.ndarray], fmt: YuvFormat, mode: str = "ctc") -> np.ndarray:
    """Convert planes of ``fmt`` to an HxWx3 uint8 RGB picture.

    FFmpeg modes convert the planes at their own bit depth (10-bit is converted by swscale
    directly, as the anchor scripts feed ``yuv420p10le``) with the mode's input-side range
    options; ``bt601-full-int`` works at the planes' bit depth too; the float modes first round
    to 8 bits.  4:0:0 is treated as grey.
    """
    _check_mode(mode)
    if mode in FFMPEG_MODES:
        return _ffmpeg_to_rgb(planes, fmt, mode)
    if mode in INT_MODES:
        return yuv_to_rgb_int(planes, fmt.width, fmt.height, fmt.chroma, fmt.bit_depth)
    p8 = to_bit_depth(planes, fmt.bit_depth, 8) if fmt.bit_depth != 8 else list(planes)
    return yuv_to_rgb_numpy(p8, fmt.width, fmt.height, fmt.chroma, mode)


# ---------------------------------------------------------------------------------------------
# CTC pad / scale (DESIGN.md §5.1)

_SCALES = {1.0: None, 0.75: (3, 8), 0.5: (1, 4), 0.25: (1, 8)}


def _norm_scale(scale: float) -> float:
    s = float(scale)
    if s > 1.0:  # given in percent
        s /= 100.0
    if s not in _SCALES:
        raise UsageError(f"Unsupported CTC scale {scale!r}: use 100, 75, 50 or 25 (%) / 1.0, 0.75, 0.5, 0.25.")
    return s


def ctc_coded_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """Coded picture size for a CTC scale, in exact integer arithmetic.

    100 %: ``pad=ceil(iw/2)*2:ceil(ih/2)*2``; 75 %: ``scale=ceil(iw*3/8)*2:ceil(ih*3/8)*2``;
    50 %: ``ceil(iw/4)*2``; 25 %: ``ceil(iw/8)*2`` (the anchor scripts' FFmpeg filters).
    """
    s = _norm_scale(scale)
    if s == 1.0:
        return -(-width // 2) * 2, -(-height // 2) * 2
    num, den = _SCALES[s]
    return -(-width * num // den) * 2, -(-height * num // den) * 2


def _ffmpeg_rgb_filter(rgb: np.ndarray, vf: str, out_w: int, out_h: int) -> np.ndarray:
    h, w, _ = rgb.shape
    data = ffmpeg_convert(rgb.tobytes(), ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}"],
                          ["-vf", vf, "-pix_fmt", "rgb24"], out_w * out_h * 3)
    return np.frombuffer(data, np.uint8).reshape(out_h, out_w, 3).copy()


def ctc_prepare(rgb: np.ndarray, scale: float) -> np.ndarray:
    """Pad (100 %) or down-scale (75/50/25 %) an RGB picture as the anchor scripts do.

    Padding adds black columns/rows at the right/bottom (FFmpeg ``pad``, x=y=0).  Scaling is
    FFmpeg's ``scale`` filter with its default (bicubic) flags on ``rgb24``, run by the
    bundled FFmpeg so that it is bit-exact with the scripts.
    """
    rgb = _check_rgb(rgb)
    h, w, _ = rgb.shape
    cw, ch = ctc_coded_size(w, h, scale)
    if _norm_scale(scale) == 1.0:
        if (cw, ch) == (w, h):
            return rgb.copy()
        out = np.zeros((ch, cw, 3), np.uint8)
        out[:h, :w] = rgb
        return out
    return _ffmpeg_rgb_filter(rgb, f"scale={cw}:{ch}", cw, ch)


def ctc_restore(rgb: np.ndarray, width: int, height: int, scale: float) -> np.ndarray:
    """Undo :func:`ctc_prepare`: crop (100 %) or scale back to ``width x height`` (FFmpeg bicubic)."""
    rgb = _check_rgb(rgb)
    h, w, _ = rgb.shape
    cw, ch = ctc_coded_size(width, height, scale)
    if (w, h) != (cw, ch):
        raise UsageError(f"Picture is {w}x{h}, but scale {scale} of {width}x{height} is coded as {cw}x{ch}.")
    if _norm_scale(scale) == 1.0:
        return rgb[:height, :width].copy()
    return _ffmpeg_rgb_filter(rgb, f"scale={width}:{height}", width, height)


def ctc_rgb_to_yuv(rgb: np.ndarray, scale: float, mode: str = "ctc", bit_depth: int = 8) -> list[np.ndarray]:
    """``rgb_to_yuv(ctc_prepare(rgb, scale), mode, 420, bit_depth)``: the coded 4:2:0 planes of an RGB
    picture.  With an FFmpeg colour mode below 100 % the down-scale and the conversion run in one FFmpeg
    process (``scale=W:H,format=rgb24``, then the mode's conversion): the same bytes as the two
    processes (tested for every FFmpeg mode), one process start fewer per picture."""
    _check_mode(mode)
    if mode in FFMPEG_MODES and _norm_scale(scale) != 1.0:
        rgb = _check_rgb(rgb)
        cw, ch = ctc_coded_size(rgb.shape[1], rgb.shape[0], scale)
        planes = _ffmpeg_to_yuv(rgb, mode, YuvFormat(cw, ch, 420, 8), vf=f"scale={cw}:{ch}")
        return to_bit_depth(planes, 8, bit_depth)
    return rgb_to_yuv(ctc_prepare(rgb, scale), mode=mode, chroma=420, bit_depth=bit_depth)


def ctc_yuv_to_rgb(planes: Sequence[np.ndarray], fmt: YuvFormat, width: int, height: int, scale: float,
                   mode: str = "ctc") -> np.ndarray:
    """``ctc_restore(yuv_to_rgb(planes, fmt, mode), width, height, scale)``: the decoded picture at the
    original size.  With an FFmpeg colour mode below 100 % the conversion and the up-scale run in one
    FFmpeg process (the same bytes as two, tested)."""
    _check_mode(mode)
    if mode in FFMPEG_MODES and _norm_scale(scale) != 1.0:
        cw, ch = ctc_coded_size(width, height, scale)
        if (fmt.width, fmt.height) != (cw, ch):
            raise UsageError(f"Picture is {fmt.width}x{fmt.height}, but scale {scale} of {width}x{height} is coded "
                             f"as {cw}x{ch}.")
        return _ffmpeg_to_rgb(planes, fmt, mode, vf=f"scale={width}:{height}", size=(width, height))
    return ctc_restore(yuv_to_rgb(planes, fmt, mode=mode), width, height, scale)


def read_image_rgb(path: str | Path, decoder: str = "ffmpeg") -> np.ndarray:
    """Decode an image file to HxWx3 uint8 RGB.

    ``ffmpeg`` decodes as the anchor scripts do (their first FFmpeg call reads the JPEG/PNG);
    ``pil`` uses Pillow (libjpeg), which differs from FFmpeg's JPEG decoding by up to 3 levels
    (mean ~0.04, measured on COCO photographs).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Image not found: {path}. Check the path.")
    if decoder == "pil":
        from PIL import Image

        with Image.open(path) as im:
            return np.asarray(im.convert("RGB")).copy()
    if decoder != "ffmpeg":
        raise UsageError(f"Unknown image decoder {decoder!r}: use ffmpeg or pil.")
    from ..core.process import run_process
    from .ffmpeg import ffmpeg_exe

    probe = run_process([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-frames:v", "1",
                         "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], timeout=120)
    size = _image_size(path)
    if not probe.ok or size is None or len(probe.stdout) != size[0] * size[1] * 3:
        raise DataError(f"FFmpeg could not decode {path} to RGB: {probe.tail(200)}")
    return np.frombuffer(probe.stdout, np.uint8).reshape(size[1], size[0], 3).copy()


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except Exception:  # noqa: BLE001
        return None


CTC_FILTERS = {1.0: "pad=ceil(iw/2)*2:ceil(ih/2)*2", 0.75: "scale=ceil(iw*3/8)*2:ceil(ih*3/8)*2",
               0.5: "scale=ceil(iw/4)*2:ceil(ih/4)*2", 0.25: "scale=ceil(iw/8)*2:ceil(ih/8)*2"}


def ctc_image_to_yuv(path: str | Path, scale: float, bit_depth: int = 10,
                     mode: str = "ctc") -> tuple[list[np.ndarray], YuvFormat]:
    """The anchor scripts' whole pre-processing of one image file, as their commands run it:
    ``ffmpeg -i IMAGE -vf <pad/scale filter of DESIGN.md 5.1>`` to ``rgb24`` (their PNG), then
    RGB -> 8-bit YUV 4:2:0 full range (``mode``), then ``bit_depth`` (left shift).

    This is the VCM-RS script's chain (DESIGN.md 5.1).  At 100 % it equals
    ``rgb_to_yuv(ctc_prepare(read_image_rgb(path), 1.0))``; at 75/50/25 % FFmpeg scales a JPEG in
    its own YUV domain before the RGB conversion, which differs from scaling the RGB picture by up
    to 4 levels (measured).  CompressAI-Vision instead converts the file straight to
    ``yuv420p10le`` without an RGB step — yet another result.
    """
    from ..core.process import run_process
    from .ffmpeg import ffmpeg_exe

    path = Path(path)
    size = _image_size(path) if path.is_file() else None
    if size is None:
        raise DataError(f"Cannot read the image {path}. Check the path and the file.")
    cw, ch = ctc_coded_size(size[0], size[1], scale)
    res = run_process([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-frames:v", "1",
                       "-vf", CTC_FILTERS[_norm_scale(scale)], "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                      timeout=120)
    if not res.ok or len(res.stdout) != cw * ch * 3:
        raise DataError(f"FFmpeg could not pad/scale {path}: {res.tail(200)}")
    rgb = np.frombuffer(res.stdout, np.uint8).reshape(ch, cw, 3)
    return rgb_to_yuv(rgb, mode, 420, bit_depth), YuvFormat(cw, ch, 420, bit_depth)
