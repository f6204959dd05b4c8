"""Planar YUV I/O, RGB<->YUV modes, CTC pad/scale rules (DESIGN.md §5.1)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from vcmbench.coding.yuv import (
    YuvFormat,
    ctc_coded_size,
    ctc_prepare,
    ctc_restore,
    read_yuv,
    rgb_to_yuv,
    to_bit_depth,
    write_yuv,
    yuv_to_rgb,
)
from vcmbench.core.errors import DataError, UsageError


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.mark.parametrize("chroma", [420, 400, 444])
@pytest.mark.parametrize("bit_depth", [8, 10])
@pytest.mark.parametrize("size", [(8, 6), (7, 5), (1, 1)])
def test_read_write_roundtrip(tmp_path, chroma, bit_depth, size):
    fmt = YuvFormat(size[0], size[1], chroma, bit_depth)
    rng = np.random.default_rng(0)
    planes = [rng.integers(0, 1 << bit_depth, s).astype(np.uint8 if bit_depth == 8 else np.uint16)
              for s in fmt.plane_shapes()]
    p = tmp_path / "x.yuv"
    write_yuv(p, planes, fmt)
    assert p.stat().st_size == fmt.frame_bytes
    back = read_yuv(p, fmt)
    assert len(back) == (1 if chroma == 400 else 3)
    for a, b in zip(planes, back):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_layout_is_planar_little_endian(tmp_path):
    fmt = YuvFormat(2, 2, 420, 10)
    assert fmt.frame_bytes == (4 + 1 + 1) * 2
    planes = [np.array([[1, 2], [3, 1023]], np.uint16), np.array([[512]], np.uint16), np.array([[256]], np.uint16)]
    write_yuv(tmp_path / "a.yuv", planes, fmt)
    assert (tmp_path / "a.yuv").read_bytes() == bytes([1, 0, 2, 0, 3, 0, 0xFF, 3, 0, 2, 0, 1])


def test_wrong_size_is_refused_with_the_sizes(tmp_path):
    p = tmp_path / "x.yuv"
    p.write_bytes(b"\0" * 100)
    with pytest.raises(DataError, match="not a whole number of 8x8 420 8-bit frames"):
        read_yuv(p, YuvFormat(8, 8, 420, 8))
    with pytest.raises(UsageError, match="outside 0..255"):
        write_yuv(p, [np.full((2, 2), 300, np.uint16), np.zeros((1, 1)), np.zeros((1, 1))], YuvFormat(2, 2, 420, 8))
    with pytest.raises(UsageError):
        YuvFormat(0, 4)
    with pytest.raises(UsageError):
        YuvFormat(4, 4, 422)


def test_bit_depth_conversion_is_vtms():
    p = [np.array([[0, 1, 255]], np.uint8)]
    up = to_bit_depth(p, 8, 10)[0]
    assert up.dtype == np.uint16 and up.tolist() == [[0, 4, 1020]]
    down = to_bit_depth([np.array([[0, 1, 2, 1021, 1023]], np.uint16)], 10, 8)[0]
    assert down.tolist() == [[0, 0, 1, 255, 255]]  # round half up, clipped


@pytest.mark.parametrize("w,h,scale,expected", [
    (250, 187, 100, (250, 188)), (251, 187, 1.0, (252, 188)),
    (250, 187, 75, (188, 142)),  # ceil(250*3/8)=94 -> 188; ceil(187*3/8)=71 -> 142
    (250, 187, 0.5, (126, 94)),  # ceil(62.5)=63 -> 126; ceil(46.75)=47 -> 94
    (250, 187, 25, (64, 48)),  # ceil(31.25)=32 -> 64; ceil(23.375)=24 -> 48
    (1024, 768, 75, (768, 576)), (640, 480, 25, (160, 120)),
])
def test_ctc_coded_size(w, h, scale, expected):
    assert ctc_coded_size(w, h, scale) == expected


def test_ctc_coded_size_matches_ffmpeg_expressions():
    """Source: the anchor scripts' FFmpeg filter expressions (DESIGN.md §5.1), evaluated by FFmpeg itself."""
    rgb = np.zeros((187, 251, 3), np.uint8)
    for scale, vf in [(75, "scale=ceil(iw*3/8)*2:ceil(ih*3/8)*2"), (50, "scale=ceil(iw/4)*2:ceil(ih/4)*2"),
                      (25, "scale=ceil(iw/8)*2:ceil(ih/8)*2"), (100, "pad=ceil(iw/2)*2:ceil(ih/2)*2")]:
        out = subprocess.run([_ffmpeg(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "251x187",
                              "-i", "pipe:0", "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                             input=rgb.tobytes(), capture_output=True, timeout=60, check=True).stdout
        w, h = ctc_coded_size(251, 187, scale)
        assert len(out) == w * h * 3, scale


def _anchor_script_yuv(tmp_path, rgb: np.ndarray, range_args=("-color_range", "pc")) -> bytes:
    """What the public anchor script does: a PNG, then `ffmpeg -i x.png -f rawvideo -pix_fmt yuv420p -dst_range 1`
    (``-dst_range 1`` spelled ``-color_range pc``, the spelling the bundled FFmpeg 9 honours)."""
    from PIL import Image

    png = tmp_path / "pad.png"
    Image.fromarray(rgb).save(png)
    out = tmp_path / "x.yuv"
    subprocess.run([_ffmpeg(), "-y", "-v", "error", "-i", str(png), "-f", "rawvideo", "-pix_fmt", "yuv420p",
                    *range_args, str(out)], check=True, timeout=60, capture_output=True)
    return out.read_bytes()


def test_bundled_ffmpeg_ignores_the_scripts_dst_range_option(tmp_path):
    """Field fact (measured on FFmpeg 9.0.2 of imageio-ffmpeg 0.8.1): the anchor scripts' literal
    `-dst_range 1` is accepted but ignored, giving LIMITED range (white -> 235); `-color_range pc`
    gives the full range the scripts meant (white -> 255).  If this test fails, FFmpeg changed:
    re-check the ctc mode."""
    white = np.full((4, 4, 3), 255, np.uint8)
    literal = _anchor_script_yuv(tmp_path, white, ("-dst_range", "1"))
    assert literal[0] == 235
    assert _anchor_script_yuv(tmp_path, white)[0] == 255
    assert rgb_to_yuv(white, "ctc")[0][0, 0] == 255


def test_ctc_conversion_equals_the_anchor_scripts_ffmpeg_on_photographs(tmp_path, coco_tiny):
    """Golden source: the bundled FFmpeg run with the anchor scripts' exact arguments on PNG files
    (CompressAI-Vision / VCM-RS `ffmpeg -i pad.png -f rawvideo -pix_fmt yuv420p -dst_range 1`)."""
    from PIL import Image

    paths = sorted((coco_tiny / "images").glob("*.jpg"))[:3]
    assert paths
    for p in paths:
        rgb = ctc_prepare(np.asarray(Image.open(p).convert("RGB"))[:160, :210], 100)
        planes = rgb_to_yuv(rgb, "ctc")
        fmt = YuvFormat(rgb.shape[1], rgb.shape[0], 420, 8)
        from vcmbench.coding.yuv import planes_to_bytes

        assert planes_to_bytes(planes, fmt) == _anchor_script_yuv(tmp_path, rgb), p.name


def test_ctc_conversion_on_random_pictures_and_10bit_is_a_shift(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (34, 50, 3)).astype(np.uint8)
    p8 = rgb_to_yuv(rgb, "ctc")
    from vcmbench.coding.yuv import planes_to_bytes

    assert planes_to_bytes(p8, YuvFormat(50, 34, 420, 8)) == _anchor_script_yuv(tmp_path, rgb)
    p10 = rgb_to_yuv(rgb, "ctc", bit_depth=10)
    assert all(np.array_equal(a.astype(np.uint16) << 2, b) for a, b in zip(p8, p10))
    y400 = rgb_to_yuv(rgb, "ctc", chroma=400)
    assert len(y400) == 1 and np.array_equal(y400[0], p8[0])


def test_ctc_yuv_to_rgb_equals_the_anchor_scripts_ffmpeg(tmp_path):
    """Golden source: `ffmpeg -f rawvideo -pix_fmt yuv420p10le -s WxH -src_range 1 -i rec.yuv -pix_fmt rgb24` (VCM-RS),
    with `-src_range 1` spelled `-color_range pc` (the bundled FFmpeg ignores `-src_range` there)."""
    fmt = YuvFormat(48, 32, 420, 10)
    rng = np.random.default_rng(2)
    planes = [rng.integers(0, 1024, s).astype(np.uint16) for s in fmt.plane_shapes()]
    src = tmp_path / "rec.yuv"
    write_yuv(src, planes, fmt)
    png = tmp_path / "rec.png"
    subprocess.run([_ffmpeg(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p10le", "-s", "48x32",
                    "-color_range", "pc", "-i", str(src), "-frames", "1", "-pix_fmt", "rgb24", str(png)],
                   check=True, timeout=60, capture_output=True)
    from PIL import Image

    assert np.array_equal(yuv_to_rgb(planes, fmt, "ctc"), np.asarray(Image.open(png).convert("RGB")))


@pytest.mark.parametrize("mode", ["bt601-full-numpy", "bt709-full-numpy", "bt601-limited-numpy", "bt709-limited-numpy"])
def test_numpy_modes_roundtrip_closely(mode):
    rgb = np.random.default_rng(3).integers(0, 256, (16, 16, 3)).astype(np.uint8)
    planes = rgb_to_yuv(rgb, mode, chroma=444)
    back = yuv_to_rgb(planes, YuvFormat(16, 16, 444, 8), mode)
    assert np.abs(back.astype(int) - rgb).max() <= (2 if "full" in mode else 3)


def test_bt601_full_numpy_is_close_to_ctc():
    """The named numpy alternative deviates from FFmpeg's fixed-point arithmetic by at most 1 in luma."""
    rgb = np.random.default_rng(4).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    a = rgb_to_yuv(rgb, "ctc", chroma=444)
    b = rgb_to_yuv(rgb, "bt601-full-numpy", chroma=444)
    assert np.abs(a[0].astype(int) - b[0]).max() <= 1
    grey = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, 2)
    assert np.array_equal(rgb_to_yuv(grey, "bt601-full-numpy", chroma=444)[0][0], np.arange(256))


def test_unknown_mode_and_bad_rgb_are_refused():
    with pytest.raises(UsageError, match="Available"):
        rgb_to_yuv(np.zeros((2, 2, 3), np.uint8), "bt2020")
    with pytest.raises(UsageError, match="HxWx3 uint8"):
        rgb_to_yuv(np.zeros((2, 2), np.uint8))


def test_ctc_prepare_and_restore():
    rgb = np.random.default_rng(5).integers(0, 256, (37, 51, 3)).astype(np.uint8)
    padded = ctc_prepare(rgb, 100)
    assert padded.shape == (38, 52, 3)
    assert np.array_equal(padded[:37, :51], rgb) and not padded[37:].any() and not padded[:, 51:].any()
    assert np.array_equal(ctc_restore(padded, 51, 37, 100), rgb)
    for s in (75, 50, 25):
        small = ctc_prepare(rgb, s)
        w, h = ctc_coded_size(51, 37, s)
        assert small.shape == (h, w, 3)
        assert ctc_restore(small, 51, 37, s).shape == rgb.shape
    with pytest.raises(UsageError, match="coded as"):
        ctc_restore(padded, 40, 37, 100)
    with pytest.raises(UsageError, match="Unsupported CTC scale"):
        ctc_coded_size(10, 10, 60)


def test_ctc_bitexact_is_swscales_portable_c_code(tmp_path):
    """Golden source: the bundled FFmpeg with SIMD disabled (`-cpuflags 0`), i.e. swscale's C code."""
    rgb = np.random.default_rng(6).integers(0, 256, (40, 64, 3)).astype(np.uint8)
    c_code = subprocess.run([_ffmpeg(), "-v", "error", "-cpuflags", "0", "-f", "rawvideo", "-pix_fmt", "rgb24",
                             "-s", "64x40", "-i", "pipe:0", "-pix_fmt", "yuv420p", "-color_range", "pc",
                             "-f", "rawvideo", "pipe:1"], input=rgb.tobytes(), capture_output=True, timeout=60,
                            check=True).stdout
    from vcmbench.coding.yuv import planes_to_bytes

    assert planes_to_bytes(rgb_to_yuv(rgb, "ctc-bitexact"), YuvFormat(64, 40, 420, 8)) == c_code
    fmt = YuvFormat(64, 40, 420, 8)
    smooth = np.stack([*np.meshgrid(np.arange(64) * 3, np.arange(40) * 5), np.full((40, 64), 90)], -1).astype(np.uint8)
    back = yuv_to_rgb(rgb_to_yuv(smooth, "ctc-bitexact"), fmt, "ctc-bitexact")
    assert back.shape == smooth.shape and np.abs(back.astype(int) - smooth).max() <= 6  # 4:2:0 loss only


def test_image_file_to_ctc_yuv(coco_tiny):
    from PIL import Image

    from vcmbench.coding.yuv import ctc_image_to_yuv, read_image_rgb

    p = sorted((coco_tiny / "images").glob("*.jpg"))[0]
    ff = read_image_rgb(p)
    pil = read_image_rgb(p, "pil")
    assert ff.shape == pil.shape == np.asarray(Image.open(p)).shape
    assert np.abs(ff.astype(int) - pil).max() <= 4  # libjpeg vs FFmpeg JPEG decoding
    # 100 %: FFmpeg's pad on the file == pad of FFmpeg's RGB (the VCM-RS script's PNG intermediate)
    odd = [q for q in sorted((coco_tiny / "images").glob("*.jpg")) if Image.open(q).size[1] % 2][:1] or [p]
    planes8, fmt8 = ctc_image_to_yuv(odd[0], 100, bit_depth=8)
    expect = rgb_to_yuv(ctc_prepare(read_image_rgb(odd[0]), 100), "ctc")
    assert all(np.array_equal(a, b) for a, b in zip(planes8, expect)) and fmt8.height % 2 == 0
    planes, fmt = ctc_image_to_yuv(p, 50)
    assert (fmt.width, fmt.height) == ctc_coded_size(ff.shape[1], ff.shape[0], 50) and fmt.bit_depth == 10
    assert [pl.shape for pl in planes] == fmt.plane_shapes() and int(planes[0].max()) % 4 == 0
    with pytest.raises(DataError):
        read_image_rgb(p.with_suffix(".nope"))


@pytest.mark.parametrize("mode", ["ctc", "ctc-bitexact", "scripts-literal"])
def test_one_process_scale_and_conversion_equal_two_processes(mode, coco_tiny):
    """Reference: the two separate FFmpeg processes (``ctc_prepare`` then ``rgb_to_yuv``; ``yuv_to_rgb``
    then ``ctc_restore``) that the anchor scripts run; the one-process chains must give the same bytes."""
    from PIL import Image

    from vcmbench.coding.yuv import ctc_rgb_to_yuv, ctc_yuv_to_rgb

    rng = np.random.default_rng(7)
    pictures = [np.asarray(Image.open(p).convert("RGB"))[:181, :263]
                for p in sorted((coco_tiny / "images").glob("*.jpg"))[:2]]
    pictures.append(rng.integers(0, 256, (59, 77, 3)).astype(np.uint8))
    for rgb in pictures:
        h, w, _ = rgb.shape
        for scale in (0.75, 0.5):
            two = rgb_to_yuv(ctc_prepare(rgb, scale), mode, 420, 10)
            one = ctc_rgb_to_yuv(rgb, scale, mode, 10)
            assert all(np.array_equal(a, b) for a, b in zip(two, one)), (mode, rgb.shape, scale)
            fmt = YuvFormat(*ctc_coded_size(w, h, scale), 420, 10)
            noisy = [np.clip(p.astype(np.int32) + rng.integers(-3, 4, p.shape), 0, 1023).astype(np.uint16) for p in two]
            expected = ctc_restore(yuv_to_rgb(noisy, fmt, mode), w, h, scale)
            assert np.array_equal(ctc_yuv_to_rgb(noisy, fmt, w, h, scale, mode), expected), (mode, rgb.shape, scale)
    with pytest.raises(UsageError, match="coded as"):
        ctc_yuv_to_rgb(two, YuvFormat(40, 30, 420, 10), w, h, 0.75, mode)
