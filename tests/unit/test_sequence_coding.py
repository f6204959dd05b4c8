"""Inter coding of sequences (issue 22): the segment plan, the parcat join on constructed NAL streams, VVenC
low-delay / random-access structure proven from its own log, a split VVenC encode that FFmpeg decodes to every
frame, resume of finished segments, and the template codec's sequence placeholders.

References: CompressAI-Vision 31165daf ``codecs/std_codecs.py`` (``_distribute_parallel_work``: segment k starts
at ``k * intra_period`` and codes ``intra_period + 1`` frames); VTM-12.0 ``source/App/Parcat/parcat.cpp`` (what the
join keeps, drops and renumbers); H.266 (05/2022) 7.3.2.3 SPS and 7.3.2.8 picture header syntax (the bit layout
the constructed streams below are written in)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.video_fixture import moving_pattern_yuv
from vcmbench.coding.bitstream import parse_nals
from vcmbench.coding.codecs import get_codec
from vcmbench.coding.codecs.decoders import FFmpegDecoder
from vcmbench.coding.codecs.template import TemplateCodec
from vcmbench.coding.codecs.vtm import sequence_command
from vcmbench.coding.codecs.vvenc import VVenCCodec, sequence_gop
from vcmbench.coding.sequence import SequenceSettings, encode_sequence, join_segments, plan_segments
from vcmbench.coding.yuv import YuvFormat
from vcmbench.core.errors import BitstreamError, DataError, UsageError

# ------------------------------------------------------------------------------------------- plan


@pytest.mark.parametrize("frames, ip, plan", [
    (65, 32, [(0, 33), (32, 33)]),  # the peer adds (64, 1), which parcat then drops whole
    (64, 32, [(0, 33), (32, 32)]),
    (96, 32, [(0, 33), (32, 33), (64, 32)]),  # the peer asks for 4 workers here and fails its own assertion
    (33, 32, [(0, 33)]),  # fits one intra period + its closing intra picture: not split (as the peer)
    (34, 32, [(0, 33), (32, 2)]),
    (1, 32, [(0, 1)]),
    (9, 4, [(0, 5), (4, 5)]),
    (10, 4, [(0, 5), (4, 5), (8, 2)]),
])
def test_plan_overlapping_segments(frames, ip, plan):
    got = plan_segments(frames, ip)
    assert got == plan
    covered = sorted({f for first, n in got for f in range(first, first + n)})
    assert covered == list(range(frames))
    for (a, n), (b, _) in zip(got, got[1:]):
        assert b == a + n - 1 and b % ip == 0  # consecutive segments share exactly their boundary intra frame
    assert sum(n for _, n in got) - (len(got) - 1) == frames  # the join drops one frame per later segment


def test_plan_back_to_back_and_unsplit():
    assert plan_segments(17, 8, overlap=False) == [(0, 8), (8, 8), (16, 1)]
    assert plan_segments(16, 8, overlap=False) == [(0, 8), (8, 8)]
    assert plan_segments(600, 32, split=False) == [(0, 600)]
    assert plan_segments(600, 32, split=False, overlap=False) == [(0, 600)]
    for bad in ((0, 32), (10, 0), (True, 4), (10, 2.0)):
        with pytest.raises(UsageError, match="a positive number of frames"):
            plan_segments(*bad)


# ----------------------------------------------------------------------- constructed NAL streams


class _Bits:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, v: int) -> "_Bits":
        self.bits += [(v >> (n - 1 - k)) & 1 for k in range(n)]
        return self

    def ue(self, v: int) -> "_Bits":
        n = (v + 1).bit_length()
        return self.u(n - 1, 0).u(n, v + 1)

    def rbsp(self) -> bytes:
        b = self.bits + [1]
        b += [0] * (-len(b) % 8)
        return bytes(int("".join(map(str, b[k:k + 8])), 2) for k in range(0, len(b), 8))


def _nal(t: int, payload: bytes, tid: int = 0) -> bytes:
    return b"\x00\x00\x00\x01" + bytes([0, (t << 3) | (tid + 1)]) + payload


def _sps(poc_bits: int = 8) -> bytes:
    # 7.3.2.3 up to sps_log2_max_pic_order_cnt_lsb_minus4 (no PTL, no conformance window, no subpictures)
    b = _Bits().u(4, 0).u(4, 0).u(3, 0).u(2, 1).u(2, 2).u(1, 0).u(1, 0).u(1, 0).ue(64).ue(64).u(1, 0).u(1, 0)
    return _nal(15, b.ue(2).u(1, 0).u(1, 0).u(4, poc_bits - 4).u(8, 0xA5).rbsp())


def _ph(poc: int, irap: bool, poc_bits: int = 8) -> bytes:
    # 7.3.2.8: gdr_or_irap, non_ref, [gdr], inter_allowed, [intra_allowed], ue(pps_id), pic_order_cnt_lsb, ...
    b = _Bits().u(1, int(irap)).u(1, 0)
    if irap:
        b.u(1, 0)
    b.u(1, int(not irap))
    if not irap:
        b.u(1, 1)
    return _nal(19, b.ue(0).u(poc_bits, poc % (1 << poc_bits)).u(6, 0b101101).rbsp())


def _slice_with_ph(t: int, poc: int) -> bytes:
    # a slice whose picture header is in the slice header (sh_picture_header_in_slice_header_flag = 1)
    return _nal(t, _Bits().u(1, 1).u(1, 0).u(1, 0).u(1, 1).u(1, 1).ue(0).u(8, poc % 256).u(9, 0x155).rbsp())


def _picture(poc: int, kind: str, tag: int | None = None) -> bytes:
    """One coded picture (PH NAL, slice, suffix SEI); ``kind`` IDR | CRA | TRAIL | TRAIL_PH_IN_SH; ``tag`` (the
    POC the segment's own encoder gave it) marks its slice data and SEI, which the join leaves alone."""
    tag = poc if tag is None else tag
    if kind == "TRAIL_PH_IN_SH":
        out = _slice_with_ph(0, poc)
    else:
        t = {"IDR": 8, "CRA": 9, "TRAIL": 0}[kind]
        out = _ph(poc, kind != "TRAIL") + _nal(t, bytes([0x40, tag & 0xFF, 0x3C]))  # first bit 0: PH is a NAL
    return out + _nal(24, bytes([0x84, 0x10, tag & 0xFF, 0x80]))


def _segment(n: int, kinds: dict[int, str] | None = None) -> bytes:
    """A VTM-like segment of ``n`` pictures: parameter sets, IDR at POC 0, CRA at POC n-1, TRAIL between."""
    kinds = kinds or {}
    out = _sps() + _nal(16, b"\x88\x80") + _nal(17, b"\x12\x34\x80")
    for poc in range(n):
        out += _picture(poc, kinds.get(poc, "IDR" if poc == 0 else "CRA" if poc == n - 1 else "TRAIL"))
    return out


def test_join_keeps_first_segment_and_renumbers_later_ones():
    """Expected bytes are built independently: segment 2 written directly with POCs continuing after segment 1
    (POC base = the pictures segment 1 renumbered = its non-IDR pictures), without its parameter sets, APS, IDR
    picture header, IDR slice and that picture's suffix SEI (parcat.cpp ``filter_segment``)."""
    s1, s2, s3 = _segment(5), _segment(5), _segment(3)
    joined, rec = join_segments([s1, s2, s3], [5, 5, 3])
    tail2 = b"".join(_picture(p, "CRA" if p == 8 else "TRAIL", p - 4) for p in range(5, 9))
    tail3 = b"".join(_picture(p, "CRA" if p == 10 else "TRAIL", p - 8) for p in range(9, 11))
    assert joined == s1 + tail2 + tail3
    assert [s["poc_base"] for s in rec["segments"]] == [0, 4, 8]
    assert [s["nal_units_dropped"] for s in rec["segments"]] == [0, 6, 6]  # SPS PPS APS, the IDR picture header, slice and SEI
    assert rec["method"] == "parcat" and rec["poc_lsb_bits"] == 8
    types = [n.nal_type for n in parse_nals(joined)]
    assert types.count(8) == 1 and types.count(15) == 1  # one IDR, one SPS left


def test_join_renumbers_picture_headers_inside_slice_headers():
    s1 = _segment(4)
    s2 = _segment(4, {1: "TRAIL_PH_IN_SH", 2: "TRAIL_PH_IN_SH"})
    joined, _ = join_segments([s1, s2], [4, 4])
    assert joined == (s1 + _picture(4, "TRAIL_PH_IN_SH", 1) + _picture(5, "TRAIL_PH_IN_SH", 2)
                      + _picture(6, "CRA", 3))


def test_join_refuses_a_segment_whose_pocs_are_not_its_own():
    s2 = _sps() + _nal(16, b"\x88\x80") + b"".join(_picture(p, "IDR" if p == 0 else "TRAIL") for p in (0, 7, 8, 9))
    with pytest.raises(BitstreamError, match=r"segment 2: its pictures carry POC LSBs \[0, 7, 8, 9\]"):
        join_segments([_segment(4), s2], [4, 4])
    with pytest.raises(BitstreamError, match="no Annex-B start code"):
        join_segments([_segment(4), b"\x01\x02\x03\x04\x05"], [4, 1])


# ------------------------------------------------------------------------------------ VVenC


_sequence = moving_pattern_yuv  # (frames < 40 here: the same bytes as a k-step pattern)


FMT = YuvFormat(64, 64, 420, 8)


def _settings(frames: int, ip: int, structure: str, **kw) -> SequenceSettings:
    return SequenceSettings(qp=32, fmt=FMT, frames=frames, fps=25, intra_period=ip, structure=structure,
                            preset="faster", timeout=120, **kw)


def test_vvenc_gop_parameters():
    assert sequence_gop("low-delay", 32) == ["PicReordering=0", "GOPSize=8", "DecodingRefreshType=none",
                                             "IntraPeriod=32"]
    assert sequence_gop("random-access", 64) == ["GOPSize=32", "DecodingRefreshType=cra", "POC0IDR=1",
                                                 "IntraPeriod=64"]
    assert sequence_gop("random-access", 16)[0] == "GOPSize=16"
    with pytest.raises(UsageError, match="multiple of 16"):
        sequence_gop("random-access", 24)
    with pytest.raises(UsageError, match="multiple of 8"):
        sequence_gop("low-delay", 4)


def test_vvenc_low_delay_structure_from_its_log(tmp_path):
    """Low delay: coding order = output order (no reordering), intra pictures exactly every intra period."""
    src = _sequence(tmp_path / "in.yuv", 17)
    r = encode_sequence(VVenCCodec(), src, tmp_path / "ld.266", _settings(17, 8, "low-delay"),
                        log_dir=tmp_path / "logs", work_dir=tmp_path / "w", split=False)
    log = (tmp_path / "logs" / "segment_000_encoder.log").read_text()
    coded = [int(x) for x in __import__("re").findall(r"(?m)^POC\s+(\d+)", log)]
    assert coded == list(range(17))
    intra = [p["poc"] for p in r.info["pictures"] if p["slice"] == "I"]
    assert intra == [0, 8, 16]
    assert {p["slice"] for p in r.info["pictures"] if p["poc"] not in intra} <= {"B", "P"}
    assert r.join == {"method": "none", "segments": 1} and len(r.segments) == 1
    assert "PicReordering=0" in r.commands[0][r.commands[0].index("-vvenc-params") + 1]


def test_vvenc_random_access_structure_from_its_log(tmp_path):
    """Random access: IDR at POC 0, CRA at the intra period coded before the pictures it follows (reordering),
    those pictures RASL; B pictures on a temporal hierarchy."""
    src = _sequence(tmp_path / "in.yuv", 17)
    r = encode_sequence(VVenCCodec(), src, tmp_path / "ra.266", _settings(17, 16, "random-access"),
                        log_dir=tmp_path / "logs", work_dir=tmp_path / "w", split=False)
    log = (tmp_path / "logs" / "segment_000_encoder.log").read_text()
    coded = [int(x) for x in __import__("re").findall(r"(?m)^POC\s+(\d+)", log)]
    assert coded[:3] == [0, 16, 8] and sorted(coded) == list(range(17))
    by_poc = {p["poc"]: p for p in r.info["pictures"]}
    assert by_poc[0]["nal_type"].startswith("IDR") and by_poc[16]["nal_type"] == "CRA"
    assert by_poc[0]["slice"] == by_poc[16]["slice"] == "I"
    assert all(by_poc[k]["nal_type"] == "RASL" and by_poc[k]["slice"] == "B" for k in range(1, 16))
    assert len({by_poc[k]["tid"] for k in range(1, 16)}) >= 3


def _decode_frames(bitstream: Path, out: Path) -> np.ndarray:
    FFmpegDecoder().decode(bitstream, out, 10, 60)
    data = np.fromfile(out, "<u2")
    return data.reshape(-1, 64 * 64 * 3 // 2)


def test_vvenc_two_segments_decode_as_the_whole_sequence(tmp_path):
    src = _sequence(tmp_path / "in.yuv", 16)
    s = _settings(16, 8, "low-delay", sei_hash=True)
    r = encode_sequence(VVenCCodec(), src, tmp_path / "seq.266", s, log_dir=tmp_path / "logs",
                        work_dir=tmp_path / "w")
    assert [(g["first"], g["frames"]) for g in r.segments] == [(0, 8), (8, 8)]
    assert r.join["method"] == "concat" and r.join["same_as_unsplit"] is False and r.bits == 8 * (tmp_path / "seq.266").stat().st_size
    assert r.bits == sum(g["bits"] for g in r.segments)
    assert [p["poc"] for p in r.info["pictures"]] == list(range(16))
    assert len(r.commands) == 2 and r.recon is None
    whole = _decode_frames(tmp_path / "seq.266", tmp_path / "seq.yuv")
    assert whole.shape[0] == 16
    parts = [_decode_frames(tmp_path / "w" / f"segment_00{k}.266", tmp_path / f"p{k}.yuv") for k in (0, 1)]
    assert np.array_equal(whole, np.concatenate(parts))
    # the segments really are frames 0-7 and 8-15: each decoded frame is closest to its own source frame
    srcf = np.fromfile(src, np.uint8).reshape(16, -1)[:, :64 * 64].astype(float) * 4
    err = [[np.abs(whole[i, :64 * 64] - srcf[j]).mean() for j in range(16)] for i in range(16)]
    assert [int(np.argmin(e)) for e in err] == list(range(16))


class _Counting:
    """A codec wrapper that counts the segment encodes it is asked for."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []
        self.name, self.sequence_join = inner.name, inner.sequence_join

    def signature(self):
        return "counting"

    def encode_sequence(self, src, bitstream, settings, log_dir=None):
        self.calls.append(settings.frame_skip)
        return self.inner.encode_sequence(src, bitstream, settings, log_dir)


def test_resume_reuses_verified_segments_and_redoes_the_rest(tmp_path):
    src = _sequence(tmp_path / "in.yuv", 16)
    s = _settings(16, 8, "low-delay")
    work, out = tmp_path / "w", tmp_path / "seq.266"
    first = encode_sequence(_Counting(VVenCCodec()), src, out, s, log_dir=tmp_path / "l", work_dir=work)
    data = out.read_bytes()
    prog = json.loads((work / "progress.json").read_text())
    assert [e["index"] for e in prog["segments"]] == [0, 1] and all(len(e["sha256"]) == 64 for e in prog["segments"])

    again = _Counting(VVenCCodec())
    r = encode_sequence(again, src, out, s, log_dir=tmp_path / "l", work_dir=work)
    assert again.calls == [] and [g["reused"] for g in r.segments] == [True, True] and out.read_bytes() == data

    # a kill after segment 0: progress lists segment 0 only (segment 1's file may be partial)
    prog["segments"] = prog["segments"][:1]
    (work / "progress.json").write_text(json.dumps(prog))
    (work / "segment_001.266").write_bytes(b"\x00\x00\x01partial")
    killed = _Counting(VVenCCodec())
    r = encode_sequence(killed, src, out, s, log_dir=tmp_path / "l", work_dir=work)
    assert killed.calls == [8] and [g["reused"] for g in r.segments] == [True, False] and out.read_bytes() == data

    # a tampered finished segment (sha256 no longer matches) is encoded again
    seg0 = work / "segment_000.266"
    seg0.write_bytes(seg0.read_bytes()[:-1] + b"\x00")
    tampered = _Counting(VVenCCodec())
    r = encode_sequence(tampered, src, out, s, log_dir=tmp_path / "l", work_dir=work)
    assert tampered.calls == [0] and [g["reused"] for g in r.segments] == [False, True] and out.read_bytes() == data
    assert first.segments[0]["sha256"] == r.segments[0]["sha256"]

    # other settings: nothing is reused
    other = _Counting(VVenCCodec())
    encode_sequence(other, src, out, _settings(16, 8, "low-delay", loop_filter=False), log_dir=tmp_path / "l",
                    work_dir=work)
    assert other.calls == [0, 8]


def test_encode_sequence_refuses_a_short_source(tmp_path):
    src = _sequence(tmp_path / "in.yuv", 5)
    with pytest.raises(DataError, match="fewer than the 0 \\+ 9 frames"):
        encode_sequence(VVenCCodec(), src, tmp_path / "x.266", _settings(9, 8, "low-delay"), log_dir=tmp_path,
                        work_dir=tmp_path / "w")
    with pytest.raises(DataError, match="need"):
        VVenCCodec().encode_sequence(src, tmp_path / "y.266", _settings(4, 8, "low-delay", frame_skip=2))


# ------------------------------------------------------------------------------- VTM / template


def test_vtm_sequence_command_line():
    s = SequenceSettings(qp=37, fmt=YuvFormat(416, 240, 420, 8), frames=33, fps=50, intra_period=64,
                         structure="random-access", frame_skip=64, sei_hash=True)
    assert sequence_command("EncoderApp", "ra.cfg", "in.yuv", "o.266", "r.yuv", s) == [
        "EncoderApp", "-c", "ra.cfg", "-i", "in.yuv", "-b", "o.266", "-o", "r.yuv", "-wdt", "416", "-hgt", "240",
        "-fr", "50", "-fs", "64", "-f", "33", "-q", "37", "--IntraPeriod=64", "--DecodingRefreshType=1",
        "--InputBitDepth=8",
        "--InternalBitDepth=10", "--OutputBitDepth=10", "--InputChromaFormat=420", "--ConformanceWindowMode=1",
        "--SEIDecodedPictureHash=1"]
    s.fps = 29.97
    assert sequence_command("E", "c", "i", "o", "r", s)[13:15] == ["-fr", "30"]


_FAKE_ENCODER = """
import sys
args = dict(a.split("=", 1) for a in sys.argv[1:])
open(args["out"], "wb").write(repr(sorted(args.items())).encode())
"""


def test_template_sequence_placeholders(tmp_path):
    script = tmp_path / "enc.py"
    script.write_text(_FAKE_ENCODER)
    src = _sequence(tmp_path / "in.yuv", 6)
    picture_only = TemplateCodec(encode=[sys.executable, str(script), "in={input}", "out={output}", "qp={qp}"])
    with pytest.raises(UsageError, match=r"codes single pictures: its encode template has no \{frames\}"):
        picture_only.encode_sequence(src, tmp_path / "a.bin", _settings(4, 8, "low-delay"))
    codec = TemplateCodec(encode=[sys.executable, str(script), "in={input}", "out={output}", "qp={qp}",
                                  "f={frames}", "fr={fps}", "fs={frame_skip}", "ip={intra_period}", "w={width}",
                                  "st={structure}"], bitstream_format="other")
    s = SequenceSettings(qp=30, fmt=FMT, frames=4, fps=29.97, intra_period=32, frame_skip=2)
    res = codec.encode_sequence(src, tmp_path / "b.bin", s, tmp_path / "logs")
    got = dict(eval((tmp_path / "b.bin").read_text()))  # noqa: S307 - written by the fake encoder above
    assert got == {"in": str(src), "out": str(tmp_path / "b.bin"), "qp": "30", "f": "4", "fr": "29.97", "fs": "2",
                   "ip": "32", "w": "64", "st": "low-delay"}
    assert res.recon is None and codec.sequence_join == "concat"
    with pytest.raises(UsageError, match="Unknown sequence_join"):
        TemplateCodec(encode=[sys.executable, "{input}", "{output}", "{qp}"], sequence_join="glue")


def test_picture_codecs_keep_refusing_sequences_through_the_base_class():
    from vcmbench.coding.codecs.base import Codec

    assert Codec.encode_sequence is not VVenCCodec.encode_sequence
    assert get_codec("vvenc").sequence_join == "concat"


@pytest.mark.parametrize("structure, ip", [("low-delay", 8), ("random-access", 16)])
def test_a_vvenc_stream_without_its_hash_sei_is_the_stream_encoded_without_it(tmp_path, structure, ip):
    """A video run verifies VVenC sequences with the decoded-picture-hash SEI and keeps them without it
    (run.sequence_jobs): removing the hash SEI NAL units must give exactly the bytes libvvenc writes when asked
    for no SEI (H.266 Annex D: the SEI takes no part in decoding, so the encoder's decisions are the same)."""
    from vcmbench.coding.bitstream import read_bitstream, strip_picture_hash_sei

    src = _sequence(tmp_path / "src.yuv", 17)
    codec = get_codec("vvenc", preset="faster")
    plain, hashed = tmp_path / "plain.266", tmp_path / "hashed.266"
    codec.encode_sequence(src, plain, _settings(17, ip, structure))
    codec.encode_sequence(src, hashed, _settings(17, ip, structure, sei_hash=True))
    assert len(read_bitstream(hashed).picture_hashes) == 17 and not read_bitstream(plain).picture_hashes
    data, removed = strip_picture_hash_sei(hashed.read_bytes())
    assert removed == 17 and data == plain.read_bytes()
    assert strip_picture_hash_sei(data) == (data, 0)


def test_a_vvenc_4_0_0_10_bit_sequence_verifies_picture_by_picture(tmp_path):
    """Feature coding of video (issue 23): packed feature frames are ONE planar 4:0:0 10-bit file, coded by VVenC
    as one inter sequence (fed as luma + constant-512 chroma with ChromaFormatIDC=400, DESIGN.md 5.4) and verified
    as 4:0:0 at the internal bit depth: every picture's hash SEI (MD5 of its one plane), every installed decoder;
    the decoded frames are close to the source, frame by frame (each closest to its own source frame)."""
    from vcmbench.coding.bitstream import read_bitstream
    from vcmbench.coding.verify_sequence import verify_sequence

    n, size = 9, 64
    yy, xx = np.mgrid[0:size + 3 * n, 0:size + 3 * n]
    tex = (512 + 300 * np.sin(xx / 7.0) * np.cos(yy / 11.0)).astype("<u2")
    frames = [tex[2 * k:2 * k + size, 3 * k:3 * k + size] for k in range(n)]
    src = tmp_path / "features.yuv"
    src.write_bytes(b"".join(f.tobytes() for f in frames))
    fmt = YuvFormat(size, size, 400, 10)
    s = SequenceSettings(qp=27, fmt=fmt, frames=n, fps=30, intra_period=8, structure="low-delay", preset="faster",
                         timeout=120, sei_hash=True)
    r = encode_sequence(VVenCCodec(), src, tmp_path / "f.266", s, log_dir=tmp_path / "logs", work_dir=tmp_path / "w",
                        split=False)
    info = read_bitstream(tmp_path / "f.266")
    assert info.sps.chroma_format == 400 and len(info.picture_hashes) == n
    v = verify_sequence(tmp_path / "f.266", expected=fmt, frames=n, recon=r.recon, decoders=["pyav", "ffmpeg"],
                        timeout=60, keep_decoded=tmp_path / "dec.yuv", tmp_dir=tmp_path)
    assert v.ok, v.reason
    assert {"decode:pyav", "decode:ffmpeg", "sei_hash"} <= set(v.checks) and len(v.pictures) == n
    dec = np.fromfile(tmp_path / "dec.yuv", "<u2").reshape(n, size, size).astype(float)
    assert dec.shape[0] == n  # 4:0:0: one plane a frame, nothing else
    err = [[np.abs(dec[i] - frames[j]).mean() for j in range(n)] for i in range(n)]
    assert [int(np.argmin(e)) for e in err] == list(range(n)) and max(min(e) for e in err) < 8
    # the same file read as 4:2:0 is refused (not whole frames of that format)
    with pytest.raises(DataError, match=r"fewer than the 0 \+ 9 frames of 64x64 420 10-bit"):
        encode_sequence(VVenCCodec(), src, tmp_path / "g.266", SequenceSettings(
            qp=27, fmt=YuvFormat(size, size, 420, 10), frames=n, fps=30, intra_period=8, preset="faster",
            timeout=120), log_dir=tmp_path / "logs", work_dir=tmp_path / "w2", split=False)
