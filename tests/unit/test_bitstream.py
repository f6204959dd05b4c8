"""Pure-Python VVC Annex-B / NAL / SPS / SEI parsing (DESIGN.md §5.5), checked on the VTM 12.0 fixtures."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.coding.bitstream import (
    BitReader,
    parse_bitstream,
    parse_nals,
    parse_sps,
    read_bitstream,
    split_annexb,
    unescape,
)
from vcmbench.core.errors import BitstreamError


def _cases(vtm_fixtures):
    return json.loads((vtm_fixtures / "manifest.json").read_text())["cases"]


def test_fixtures_report_the_recorded_format(vtm_fixtures):
    """Golden source: fixtures/vtm12/manifest.json (VTM 12.0 EncoderApp runs)."""
    for c in _cases(vtm_fixtures):
        info = read_bitstream(vtm_fixtures / c["bitstream"])
        sps = info.sps
        assert (sps.width, sps.height, sps.chroma_format, sps.bit_depth) == \
            (c["width"], c["height"], c["chroma_format"], c["bit_depth"]), c["name"]
        assert info.size == c["bitstream_bytes"]
        assert sps.profile == "Main 10" and sps.ctu_size == 128
        assert info.pictures == 1
        assert sum(info.bytes_per_type.values()) == info.size
        assert [n.type_name for n in info.nals][:2] == ["SPS", "PPS"]
        assert info.count_per_type["IDR_N_LP"] == 1
        assert len(info.picture_hashes) == 1 and info.picture_hashes[0].hash_type == "md5"


def test_conformance_window_of_the_non_multiple_of_8_fixture(vtm_fixtures):
    sps = read_bitstream(vtm_fixtures / "nonmult8_250x186_420_qp37.266").sps
    assert (sps.coded_width, sps.coded_height) == (256, 192)
    assert sps.conf_win == (0, 6, 0, 6)
    assert (sps.width, sps.height) == (250, 186)


def test_sei_md5_of_a_400_picture_is_the_decoded_luma_md5(vtm_fixtures):
    """The 4:0:0 fixture's decoded file is luma only, so its MD5 equals the SEI's single MD5."""
    c = [c for c in _cases(vtm_fixtures) if c["chroma_format"] == 400][0]
    info = read_bitstream(vtm_fixtures / c["bitstream"])
    assert info.picture_hashes[0].values == [c["decoded_md5"]]


def test_sei_md5_equals_the_encoder_logs_md5(vtm_fixtures):
    """Golden source: the `[MD5:...]` of VTM's encoder log for each fixture."""
    import re

    for c in _cases(vtm_fixtures):
        log = (vtm_fixtures / f"{c['name']}_encoder.log").read_text()
        logged = re.search(r"\[MD5:([0-9a-f,]+)\]", log).group(1).split(",")
        assert read_bitstream(vtm_fixtures / c["bitstream"]).picture_hashes[0].values == logged


def test_annexb_split_and_emulation_prevention():
    data = b"\x00\x00\x00\x01\x78\x01\xAA\x00\x00\x03\x01\xBB\x00\x00\x01\x7a\x01\xCC\x00\x00"
    nals = list(split_annexb(data))
    assert [(o, sc) for o, sc, _ in nals] == [(4, 4), (15, 3)]
    assert nals[0][2] == b"\x78\x01\xAA\x00\x00\x03\x01\xBB"
    assert nals[1][2] == b"\x7a\x01\xCC"  # trailing zero bytes dropped
    assert unescape(b"\xAA\x00\x00\x03\x01\x00\x00\x03\x00\x00\x03") == b"\xAA\x00\x00\x01\x00\x00\x00\x00"
    # VVC header: forbidden(1) reserved(1) layer_id(6) | type(5) tid_plus1(3)
    hdr = parse_nals(b"\x00\x00\x01\x00\x79\x00")[0]  # byte0 0x00, byte1 0x79 = 01111 001
    assert (hdr.nal_type, hdr.temporal_id, hdr.layer_id, hdr.type_name) == (15, 0, 0, "SPS")
    hdr = parse_nals(b"\x00\x00\x01\x05\xC2\x00")[0]  # layer 5, type 24, tid 1
    assert (hdr.nal_type, hdr.temporal_id, hdr.layer_id, hdr.type_name) == (24, 1, 5, "SUFFIX_SEI")


def test_exp_golomb_reader():
    r = BitReader(bytes([0b10100110, 0b01000010, 0b10000000]))
    assert [r.ue(), r.ue(), r.ue(), r.ue()] == [0, 1, 2, 3]
    r = BitReader(bytes([0b01101000, 0b10000000]))  # ue 2 -> se -1, ue 1 -> se +1, ue 3 -> se +2
    assert [r.se(), r.se(), r.se()] == [-1, 1, 2]
    with pytest.raises(BitstreamError):
        BitReader(b"\x00").ue()


def test_vvenc_streams_parse(tmp_path):
    """Streams from another encoder (VVenC through FFmpeg) parse too: AUD first, level present."""
    import numpy as np

    from vcmbench.coding.codecs import EncodeSettings, get_codec
    from vcmbench.coding.yuv import YuvFormat, write_yuv

    fmt = YuvFormat(64, 48, 420, 8)
    write_yuv(tmp_path / "a.yuv", [np.full(s, 100, np.uint8) for s in fmt.plane_shapes()], fmt)
    get_codec("vvenc").encode(tmp_path / "a.yuv", tmp_path / "a.266", EncodeSettings(40, fmt, preset="faster"))
    info = read_bitstream(tmp_path / "a.266")
    assert info.nals[0].type_name == "AUD"
    assert (info.sps.width, info.sps.height, info.sps.bit_depth, info.sps.chroma_format) == (64, 48, 10, 420)
    assert info.sps.level is not None and info.sps.level != "unspecified"


@pytest.mark.parametrize("data,match", [
    (b"", "empty"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "non-zero data before|no Annex-B"),
    (b"hello world", "no Annex-B start code"), (b"\x00\x00\x01\x80\x79\x00", "forbidden_zero_bit"),
    (b"\x00\x00\x01\x00\x79", "runs past|no SPS"), (b"\x00\x00\x01\x00\x81", "no SPS"),
])
def test_garbage_raises_bitstream_error(data, match):
    with pytest.raises(BitstreamError, match=match):
        parse_bitstream(data)


def test_truncated_sps_raises(vtm_fixtures):
    data = (vtm_fixtures / "texture_256x192_420_qp37.266").read_bytes()
    sps = parse_nals(data)[0]
    with pytest.raises(BitstreamError):
        parse_sps(unescape(sps.payload)[:5])


def test_cli_bitstream_info(vtm_fixtures):
    f = str(vtm_fixtures / "nonmult8_250x186_420_qp37.266")
    r = CliRunner().invoke(cli, ["bitstream", "info", f, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert (d["sps"]["width"], d["sps"]["height"], d["sps"]["chroma_format"], d["sps"]["bit_depth"]) == (250, 186, 420, 10)
    assert d["nal_units"][0]["name"] == "SPS"
    r = CliRunner().invoke(cli, ["bitstream", "info", f])
    assert r.exit_code == 0 and "250x186" in r.output and "IDR_N_LP" in r.output


def test_cli_bitstream_info_on_garbage_is_an_error(tmp_path):
    p = tmp_path / "x.266"
    p.write_bytes(b"not a bitstream")
    r = CliRunner().invoke(cli, ["bitstream", "info", str(p)])
    assert r.exit_code == 2 and "no Annex-B start code" in r.output  # bad input (README exit codes)
