"""VVenC through imageio-ffmpeg's FFmpeg: DESIGN.md §5.4 flag set, 4:2:0 / 4:0:0, 8-bit input, loop
filters, SEI hash, and the round trip encode -> verify with every decoder, bit-exact."""

from __future__ import annotations

import re

import numpy as np
import pytest

from vcmbench.coding.bitstream import read_bitstream
from vcmbench.coding.codecs import EncodeSettings, codec_names, get_codec
from vcmbench.coding.verify import verify_bitstream
from vcmbench.coding.yuv import YuvFormat, read_yuv, to_bit_depth, write_yuv
from vcmbench.core.errors import DataError, RegistryError, UsageError


def _picture(tmp_path, fmt: YuvFormat, name="src.yuv"):
    rng = np.random.default_rng(7)
    h, w = fmt.height, fmt.width
    y = (np.add.outer(np.arange(h) * 3, np.arange(w) * 2) % 200 + 20).astype(np.uint16)
    y = y + rng.integers(0, 20, y.shape).astype(np.uint16)
    planes = [y]
    if fmt.chroma == 420:
        planes += [np.full(s, 120, np.uint16) + rng.integers(0, 16, s).astype(np.uint16) for s in fmt.plane_shapes()[1:]]
    planes = to_bit_depth(planes, 8, fmt.bit_depth) if fmt.bit_depth != 8 else [p.astype(np.uint8) for p in planes]
    path = tmp_path / name
    write_yuv(path, planes, fmt)
    return path


def test_registry():
    assert {"vvenc", "vtm"} <= set(codec_names())
    with pytest.raises(RegistryError, match="Unknown codec 'vtm12'. Available: .*vvenc"):
        get_codec("vtm12")
    with pytest.raises(UsageError, match="Unknown VVenC preset"):
        get_codec("vvenc", preset="ludicrous")


def test_command_is_the_design_flag_set():
    c = get_codec("vvenc")
    cmd = c.command(__import__("pathlib").Path("o.266"), EncodeSettings(32, YuvFormat(64, 48, 420, 10), preset="fast"))
    s = " ".join(cmd)
    for part in ("-f rawvideo -pix_fmt yuv420p10le -s 64x48 -r 1 -i pipe:0 -frames:v 1", "-c:v libvvenc -preset fast",
                 "-qp 32 -qpa 0", "-vvenc-params IntraPeriod=1:IntraQPOffset=0", "-f vvc"):
        assert part in s, part
    nolf = c.vvenc_params(EncodeSettings(32, YuvFormat(64, 48, 400, 10), loop_filter=False, sei_hash=True))
    assert nolf == ("IntraPeriod=1:IntraQPOffset=0:ChromaFormatIDC=400:LoopFilterDisable=1:SAO=0:ALF=0:CCALF=0:EDO=0"
                    ":SEIDecodedPictureHash=1")


def test_version_and_signature():
    c = get_codec("vvenc")
    assert re.fullmatch(r"vvenc-1\.\d+\S*/ffmpeg-\d+\.\d+(\.\d+)?", c.version()), c.version()
    sig = c.signature()
    assert re.fullmatch(r"vvenc-1\.\d+-medium-ffmpeg[\d.]+#[0-9a-f]{6}", sig), sig
    s = EncodeSettings(30, YuvFormat(64, 64), preset="faster", loop_filter=False)
    assert "-faster-nolf-" in c.signature(s)


def test_round_trip_420_is_bit_exact_across_decoders_with_sei(tmp_path):
    fmt = YuvFormat(96, 64, 420, 10)
    src = _picture(tmp_path, fmt)
    c = get_codec("vvenc")
    s = EncodeSettings(qp=37, fmt=fmt, preset="faster", sei_hash=True)
    res = c.encode(src, tmp_path / "a.266", s, log_dir=tmp_path / "logs")
    assert res.bits == (tmp_path / "a.266").stat().st_size * 8
    assert res.info["qp"] == 37  # IntraQPOffset=0: the picture is coded at the asked QP
    assert res.info["vvenc_version"].startswith("1.") and res.info["psnr_y"] > 25
    assert res.log_path.is_file() and "libvvenc" in res.log_path.read_text()
    v = verify_bitstream(tmp_path / "a.266", expected=fmt, decoders=("ffmpeg", "pyav"), keep_decoded=tmp_path / "d.yuv")
    assert v.ok, v.reason
    assert v.checks["sei_hash"]["ok"] and v.checks["agreement"]["ok"]
    dec = c.decode(tmp_path / "a.266", tmp_path / "d2.yuv")
    assert dec.fmt == fmt and (tmp_path / "d2.yuv").read_bytes() == (tmp_path / "d.yuv").read_bytes()
    # deterministic: the same input gives the same bytes, whatever the thread count
    import dataclasses

    c.encode(src, tmp_path / "b.266", dataclasses.replace(s, threads=2))
    assert (tmp_path / "a.266").read_bytes() == (tmp_path / "b.266").read_bytes()


def test_8bit_input_is_shifted_to_10_bits_like_vtm(tmp_path):
    f8 = YuvFormat(64, 48, 420, 8)
    src8 = _picture(tmp_path, f8, "s8.yuv")
    f10 = YuvFormat(64, 48, 420, 10)
    src10 = tmp_path / "s10.yuv"
    write_yuv(src10, to_bit_depth(read_yuv(src8, f8), 8, 10), f10)
    c = get_codec("vvenc")
    c.encode(src8, tmp_path / "a.266", EncodeSettings(32, f8, preset="faster"))
    c.encode(src10, tmp_path / "b.266", EncodeSettings(32, f10, preset="faster"))
    assert (tmp_path / "a.266").read_bytes() == (tmp_path / "b.266").read_bytes()
    assert read_bitstream(tmp_path / "a.266").sps.bit_depth == 10


def test_400_codes_monochrome_and_decodes_to_luma_only(tmp_path):
    fmt = YuvFormat(64, 64, 400, 10)
    src = _picture(tmp_path, fmt)
    c = get_codec("vvenc")
    c.encode(src, tmp_path / "m.266", EncodeSettings(35, fmt, preset="faster", sei_hash=True))
    assert read_bitstream(tmp_path / "m.266").sps.chroma_format == 400
    v = verify_bitstream(tmp_path / "m.266", expected=fmt, decoders=("ffmpeg", "pyav"))
    assert v.ok, v.reason
    assert (tmp_path / "m.266").stat().st_size > 0
    dec = c.decode(tmp_path / "m.266", tmp_path / "m.yuv")
    assert dec.fmt == fmt and (tmp_path / "m.yuv").stat().st_size == 64 * 64 * 2
    y = read_yuv(tmp_path / "m.yuv", fmt)[0].astype(int)
    assert np.abs(y - read_yuv(src, fmt)[0]).mean() < 40  # luma not squeezed to 64..940


def test_loop_filters_off_removes_alf_aps(tmp_path):
    fmt = YuvFormat(128, 64, 420, 10)
    src = _picture(tmp_path, fmt)
    c = get_codec("vvenc")
    on = c.encode(src, tmp_path / "on.266", EncodeSettings(37, fmt, preset="faster"))
    off = c.encode(src, tmp_path / "off.266", EncodeSettings(37, fmt, preset="faster", loop_filter=False))
    assert (tmp_path / "on.266").read_bytes() != (tmp_path / "off.266").read_bytes()
    assert "PREFIX_APS" not in read_bitstream(tmp_path / "off.266").count_per_type
    assert on.bits > 0 and off.bits > 0
    assert verify_bitstream(tmp_path / "off.266", expected=fmt, decoders=("ffmpeg",)).ok


def test_in_process_pyav_matches_the_isolated_worker(tmp_path, vtm_fixtures):
    from vcmbench.coding.codecs.decoders import PyAVDecoder

    bs = vtm_fixtures / "mosaic_256x256_400_qp37.266"
    a = PyAVDecoder(isolate=False).decode(bs, tmp_path / "a.yuv")
    b = PyAVDecoder(persistent=False).decode(bs, tmp_path / "b.yuv")
    assert a.fmt == b.fmt == YuvFormat(256, 256, 400, 10)
    assert (tmp_path / "a.yuv").read_bytes() == (tmp_path / "b.yuv").read_bytes()


def test_bad_inputs_are_refused(tmp_path):
    c = get_codec("vvenc")
    src = _picture(tmp_path, YuvFormat(64, 48, 420, 10))
    with pytest.raises(DataError, match="Check width, height"):
        c.encode(src, tmp_path / "x.266", EncodeSettings(30, YuvFormat(64, 48, 420, 8)))
    with pytest.raises(UsageError, match="even picture sizes"):
        c.encode(src, tmp_path / "x.266", EncodeSettings(30, YuvFormat(63, 48, 420, 10)))
    with pytest.raises(UsageError, match="Invalid QP"):
        EncodeSettings(70, YuvFormat(64, 48))
