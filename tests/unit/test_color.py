"""Colour conversion modes (vcmbench.coding.color): the FFmpeg range probe, the scripts' literal
commands, the integer converter, refusal of a mode an FFmpeg cannot honour, and the signature part."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from PIL import Image

from vcmbench.coding import color, ffmpeg
from vcmbench.coding.yuv import YuvFormat, planes_from_bytes, planes_to_bytes, rgb_to_yuv, yuv_to_rgb
from vcmbench.core.errors import CodecError


def _photo(h: int = 48, w: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(7)
    rgb = np.stack([(x * 4) % 256, (y * 5 + x) % 256, (255 - x * 3) % 256], -1) + rng.integers(-20, 20, (h, w, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _bundled(monkeypatch):
    monkeypatch.delenv("VCMBENCH_FFMPEG", raising=False)
    ffmpeg.ffmpeg_exe.cache_clear()
    ffmpeg.ffmpeg_version.cache_clear()


def test_probe_finds_what_the_bundled_ffmpeg_does_with_the_range_options(monkeypatch):
    """Issue 12, measured facts: FFmpeg 9.0.2 (imageio-ffmpeg) honours -color_range pc on both sides, ignores
    the scripts' -dst_range 1 (writes limited range) and -src_range 1 before -i (reads limited range)."""
    _bundled(monkeypatch)
    assert color.probe_ranges("ctc") == ("full", "full")
    assert color.probe_ranges("ctc-bitexact") == ("full", "full")
    assert color.probe_ranges("scripts-literal") == ("limited", "limited")


def _scripts_rgb_to_yuv(rgb: np.ndarray) -> bytes:
    """CompressAI-Vision pipelines/fo_vcm/ffmpeg.py FFMpeg.ff_RGB24ToRAW, its exact command (PNG through a pipe)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="png")
    cmd = [ffmpeg.ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-i", "pipe:", "-f", "rawvideo",
           "-pix_fmt", "yuv420p", "-dst_range", "1", "pipe:"]
    return subprocess.run(cmd, input=buf.getvalue(), capture_output=True, check=True, timeout=60).stdout


def _scripts_yuv_to_rgb(data: bytes, w: int, h: int) -> np.ndarray:
    """CompressAI-Vision FFMpeg.ff_RAWToRGB24, its exact command (APNG out through a pipe, read by PIL)."""
    cmd = [ffmpeg.ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt",
           "yuv420p10le", "-s", f"{w}x{h}", "-src_range", "1", "-i", "pipe:", "-frames", "1", "-pix_fmt", "rgb24",
           "-f", "apng", "pipe:"]
    out = subprocess.run(cmd, input=data, capture_output=True, check=True, timeout=60).stdout
    return np.array(Image.open(io.BytesIO(out)))


def test_scripts_literal_equals_the_public_scripts_commands(monkeypatch):
    """Golden source: the FFmpeg commands of CompressAI-Vision (pipelines/fo_vcm/ffmpeg.py), run unchanged with the
    same FFmpeg: scripts-literal gives the same YUV bytes and the same RGB picture back."""
    _bundled(monkeypatch)
    rgb = _photo()
    fmt8 = YuvFormat(64, 48, 420, 8)
    ours = planes_to_bytes(rgb_to_yuv(rgb, "scripts-literal"), fmt8)
    assert ours == _scripts_rgb_to_yuv(rgb)
    fmt10 = YuvFormat(64, 48, 420, 10)
    planes10 = rgb_to_yuv(rgb, "ctc", bit_depth=10)
    assert np.array_equal(yuv_to_rgb(planes10, fmt10, "scripts-literal"),
                          _scripts_yuv_to_rgb(planes_to_bytes(planes10, fmt10), 64, 48))
    # and it is not the intended full-range conversion with this FFmpeg
    assert ours != planes_to_bytes(rgb_to_yuv(rgb, "ctc"), fmt8)


def _fake_ffmpeg(tmp_path, drop: str) -> str:
    """A wrapper around the real FFmpeg that drops one option with its value (as an FFmpeg that ignores it)."""
    real = ffmpeg.ffmpeg_exe()
    p = tmp_path / "ffmpeg"
    p.write_text("#!/bin/bash\nargs=(); skip=0\nfor a in \"$@\"; do\n  if [ $skip = 1 ]; then skip=0; continue; fi\n"
                 f"  if [ \"$a\" = \"{drop}\" ]; then skip=1; continue; fi\n  args+=(\"$a\")\ndone\n"
                 f"exec {real} \"${{args[@]}}\"\n")
    p.chmod(0o755)
    return str(p)


def test_an_ffmpeg_that_ignores_color_range_is_refused_for_ctc_and_changes_the_signature(tmp_path, monkeypatch):
    _bundled(monkeypatch)
    bundled_sig = color.color_signature("ctc")
    assert bundled_sig.startswith("ctc#ffmpeg") and color.converter_identity() in bundled_sig
    fake = _fake_ffmpeg(tmp_path, "-color_range")  # behaves like FFmpeg 5.1 with -color_range pc
    monkeypatch.setenv("VCMBENCH_FFMPEG", fake)
    ffmpeg.ffmpeg_exe.cache_clear()
    try:
        assert color.probe_ranges("ctc") == ("limited", "limited")
        with pytest.raises(CodecError, match="needs full range"):
            rgb_to_yuv(_photo(), "ctc")
        with pytest.raises(CodecError, match="scripts-literal"):
            color.color_signature("ctc")
        lit = color.color_signature("scripts-literal")
        assert lit.startswith("scripts-literal=limited,limited#ffmpeg") and lit.split("#")[1] != bundled_sig.split("#")[1]
    finally:
        ffmpeg.ffmpeg_exe.cache_clear()


def test_an_ffmpeg_that_honours_dst_range_is_recorded_as_full_in_limited_out(tmp_path, monkeypatch):
    """FFmpeg <= 6 honours -dst_range 1 and ignores -src_range 1 before -i (issue 12): emulated by mapping
    -dst_range 1 to the -color_range pc that the bundled FFmpeg honours."""
    _bundled(monkeypatch)
    real = ffmpeg.ffmpeg_exe()
    p = tmp_path / "ffmpeg6"
    p.write_text("#!/bin/bash\nargs=()\nfor a in \"$@\"; do\n  if [ \"$a\" = \"-dst_range\" ]; then a=-color_range; fi\n"
                 "  if [ \"$a\" = \"1\" ] && [ \"${args[-1]}\" = \"-color_range\" ]; then a=pc; fi\n  args+=(\"$a\")\n"
                 f"done\nexec {real} \"${{args[@]}}\"\n")
    p.chmod(0o755)
    monkeypatch.setenv("VCMBENCH_FFMPEG", str(p))
    ffmpeg.ffmpeg_exe.cache_clear()
    try:
        assert color.probe_ranges("scripts-literal") == ("full", "limited")
        assert color.color_signature("scripts-literal").startswith("scripts-literal=full,limited#")
    finally:
        ffmpeg.ffmpeg_exe.cache_clear()


def test_integer_converter_values_and_rounding():
    """ITU-T T.871 (JFIF) full-range BT.601: Y = 0.299 R + 0.587 G + 0.114 B, Cb = 128 - 0.168736 R - 0.331264 G
    + 0.5 B, Cr = 128 + 0.5 R - 0.418688 G - 0.081312 B; rounded half up and clipped."""
    px = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 64, 32]]], np.uint8)
    y, cb, cr = rgb_to_yuv(px, "bt601-full-int", chroma=444)
    r, g, b = (px[..., i].astype(float) for i in range(3))

    def ref(v):
        return np.clip(np.floor(v + 0.5), 0, 255).astype(int).tolist()

    assert y.tolist() == ref(0.299 * r + 0.587 * g + 0.114 * b) == [[0, 255, 76, 150, 29, 79]]
    assert cb.tolist() == ref(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)
    assert cr.tolist() == ref(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
    # against the float formula on a photograph-like picture: never more than 1 apart (rounding of the fixed point)
    rgb = _photo()
    ints = rgb_to_yuv(rgb, "bt601-full-int", chroma=444)
    flts = rgb_to_yuv(rgb, "bt601-full-numpy", chroma=444)
    for a, b in zip(ints, flts):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_integer_converter_is_exact_and_independent_of_ffmpeg(monkeypatch):
    rgb = _photo()
    planes = rgb_to_yuv(rgb, "bt601-full-int", bit_depth=10)
    fmt = YuvFormat(64, 48, 420, 10)
    # 4:2:0 chroma is the rounded mean of the 2x2 block of full-resolution chroma (float reference: within 1)
    flt = rgb_to_yuv(rgb, "bt601-full-numpy")
    for k in (1, 2):
        assert np.abs((planes[k] >> 2).astype(int) - flt[k].astype(int)).max() <= 1
    back = yuv_to_rgb(planes, fmt, "bt601-full-int")  # inverse at 10 bits vs the float inverse at 8 bits
    fback = yuv_to_rgb(flt, YuvFormat(64, 48, 420, 8), "bt601-full-numpy")
    assert np.abs(back.astype(int) - fback.astype(int)).max() <= 3
    grey = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, 2).repeat(2, 0)
    g = rgb_to_yuv(grey, "bt601-full-int")
    assert np.array_equal(g[0][0], np.arange(256)) and (g[1] == 128).all()
    assert np.array_equal(yuv_to_rgb(g, YuvFormat(256, 2, 420, 8), "bt601-full-int"), grey)
    # no FFmpeg involved: an FFmpeg that does not exist changes nothing
    monkeypatch.setenv("VCMBENCH_FFMPEG", "/nonexistent/ffmpeg")
    ffmpeg.ffmpeg_exe.cache_clear()
    try:
        assert planes_to_bytes(rgb_to_yuv(rgb, "bt601-full-int"), YuvFormat(64, 48, 420, 8)) == \
            planes_to_bytes(planes_from_bytes(planes_to_bytes(rgb_to_yuv(rgb, "bt601-full-int"),
                                                              YuvFormat(64, 48, 420, 8)), YuvFormat(64, 48, 420, 8)),
                            YuvFormat(64, 48, 420, 8))
        assert color.color_signature("bt601-full-int") == "bt601-full-int"
    finally:
        ffmpeg.ffmpeg_exe.cache_clear()


def test_signature_names_the_converter_whenever_ffmpeg_touches_the_pixels(monkeypatch):
    _bundled(monkeypatch)
    ident = color.converter_identity()
    assert color.color_signature("ctc", [1.0, 0.75]) == f"ctc#{ident}"
    assert color.color_signature("bt601-full-int", [1.0]) == "bt601-full-int"
    assert color.color_signature("bt601-full-int", [100, 50]) == f"bt601-full-int#{ident}"  # FFmpeg scales
    with pytest.raises(Exception, match="Unknown colour conversion mode"):
        color.color_signature("bt2020")
