"""Whole-sequence verification (coding/verify_sequence.py): every decoder decodes every frame, each picture's
decoded-picture-hash SEI is checked at its output position (random access reorders), the encoder's recon
otherwise; one bad picture and the sequence is not verified, the reason naming the frame.

The streams are made at test time by VVenC through the bundled FFmpeg (none is committed)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vcmbench.coding.bitstream import output_order, picture_units, read_bitstream, unescape
from vcmbench.coding.codecs.base import DecodeResult
from vcmbench.coding.codecs.decoders import Decoder, FFmpegDecoder
from vcmbench.coding.ffmpeg import ffmpeg_exe
from vcmbench.coding.verify_sequence import SequenceVerdict, verify_sequence
from vcmbench.coding.yuv import YuvFormat
from vcmbench.core.errors import UsageError
from vcmbench.core.process import run_process

W, H = 128, 64
FMT = YuvFormat(W, H, 420, 10)


def _source(n: int, seed: int = 1, w: int = W, h: int = H) -> bytes:
    """``n`` frames of 10-bit 4:2:0 noise (every frame different; big slices, so a flipped byte lands in
    slice data)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1024, size=n * w * h * 3 // 2, dtype=np.uint16).astype("<u2").tobytes()


def _encode(out: Path, src: bytes, n: int, params: str = "SEIDecodedPictureHash=1:IntraPeriod=16", qp: int = 22,
            w: int = W, h: int = H) -> str:
    """VVenC (libvvenc in the bundled FFmpeg, default random-access GOP) -> ``out``; returns FFmpeg's log."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "verbose", "-f", "rawvideo", "-pix_fmt", "yuv420p10le",
           "-s", f"{w}x{h}", "-r", "25", "-i", "pipe:0", "-frames:v", str(n), "-threads", "1", "-c:v", "libvvenc",
           "-preset", "faster", "-qp", str(qp), "-vvenc-params", params, "-f", "vvc", "-y", str(out)]
    res = run_process(cmd, timeout=300, stdin=src)
    assert res.ok and out.stat().st_size > 0, res.tail(400)
    return res.text()


def _verify(path: Path, frames: int, decoders=("ffmpeg", "pyav"), **kw) -> SequenceVerdict:
    kw.setdefault("recon", None)
    return verify_sequence(path, expected=kw.pop("expected", FMT), frames=frames, decoders=decoders, timeout=120, **kw)


@pytest.fixture(scope="module")
def ra(tmp_path_factory) -> tuple[Path, str]:
    """20 frames, VVenC random access with MD5 SEI: an IDR of POC 15 first, then its 15 leading pictures."""
    d = tmp_path_factory.mktemp("ra")
    log = _encode(d / "ra.266", _source(20), 20)
    return d / "ra.266", log


@pytest.fixture(scope="module")
def ra300(tmp_path_factory) -> tuple[Path, str, int, int, int]:
    """300 frames of 64x64, VVenC random access, IntraPeriod 32, MD5 SEI: (bitstream, log, frames, w, h)."""
    n, w, h = 300, 64, 64
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    for k in range(n):  # a smooth moving pattern: cheap to code
        y = (512 + 300 * np.sin((xx + 2 * k) / 7.0) * np.cos((yy + k) / 9.0)).astype("<u2")
        frames.append(y.tobytes() + np.full((h // 2, w // 2), 400 + k, "<u2").tobytes() * 2)
    bs = tmp_path_factory.mktemp("ra300") / "ra300.266"
    log = _encode(bs, b"".join(frames), n, "SEIDecodedPictureHash=1:IntraPeriod=32", qp=37, w=w, h=h)
    return bs, log, n, w, h


def test_random_access_sei_hashes_map_to_output_order_across_a_poc_wrap(ra300):
    """Golden: VVenC's own per-picture log line ``POC p ... [MD5:y,u,v]`` (FFmpeg -v verbose).  300 frames with
    IntraPeriod 32: IDR, CRAs with RASL pictures, and a POC LSB that wraps at 256 (log2_max_poc_lsb = 8)."""
    bs, log, n, w, h = ra300
    logged = {int(m.group(1)): m.group(2).split(",")
              for m in re.finditer(r"POC\s+(\d+) TId.*?\[MD5:([0-9a-f,]+)\]", log)}
    assert len(logged) >= 250  # (FFmpeg's log may interleave a few lines)
    units = picture_units(read_bitstream(bs))
    assert {u.type_name for u in units} >= {"IDR_W_RADL", "CRA", "RASL", "RADL"}
    assert max(u.poc for u in units) == n - 1 and [u.poc for u in output_order(units)] == list(range(n))
    for u in units:  # the SEI found for each picture is the one VVenC logged for that POC
        if u.poc in logged:
            assert u.hash is not None and u.hash.values == logged[u.poc], u.poc
    v = _verify(bs, n, expected=YuvFormat(w, h, 420, 10))
    assert v.ok, v.reason
    assert v.checks["sei_hash"] == {"ok": True, "checked": n, "absent": 0, "mismatched": [], "full_picture": False}
    assert [p["frame"] for p in v.pictures] == list(range(n)) and {p["sei"] for p in v.pictures} == {"ok"}
    assert [p["poc"] for p in v.pictures] == list(range(n))
    assert any(p["decode_order"] != p["frame"] for p in v.pictures)  # random access really reordered
    assert v.checks["agreement"] == {"ok": True, "decoders": ["ffmpeg", "pyav"]}
    assert len(v.decoded_md5s) == n and v.decoded_md5s[0] == v.pictures[0]["md5"]


@pytest.mark.parametrize("decoder", ["ffmpeg", "pyav-worker"])
def test_decoders_stream_frames_instead_of_holding_the_sequence(ra300, tmp_path, decoder):
    """A class-A sequence decodes to ~7 GB: the FFmpeg decoder and the PyAV worker write frame by frame.
    Measured with tracemalloc (numpy and bytes allocations): the Python peak while decoding 300 frames
    (3.7 MB) stays below 20 frames' worth."""
    import tracemalloc

    from vcmbench.coding.codecs.pyav_worker import decode_to_file

    bs, _, n, w, h = ra300
    out = tmp_path / "dec.yuv"
    fb = YuvFormat(w, h, 420, 10).frame_bytes
    import av  # noqa: F401  (its import is not the decoder's memory)

    tracemalloc.start()
    try:
        if decoder == "ffmpeg":
            FFmpegDecoder().decode(bs, out, 10, 120)
        else:
            assert decode_to_file(str(bs), str(out), 10, True)["frames"] == n
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.stat().st_size == n * fb
    assert peak < 20 * fb + bs.stat().st_size, (peak, n * fb)


def test_verified_sequence_keeps_its_decoded_frames(ra, tmp_path):
    bs, _ = ra
    v = _verify(bs, 20, keep_decoded=tmp_path / "keep" / "dec.yuv", log_dir=tmp_path / "logs")
    assert v.ok and v.decoded == tmp_path / "keep" / "dec.yuv"
    assert v.decoded.stat().st_size == 20 * FMT.frame_bytes
    assert (tmp_path / "logs" / "ra_ffmpeg_decoder.log").is_file()
    assert v.to_dict()["ok"] is True and len(v.to_dict()["pictures"]) == 20


def test_a_cropped_sequence_checks_its_sei_on_the_full_coded_pictures(tmp_path):
    """124x68 is coded as 128x72 with a conformance window; the SEI covers the full coded picture, so the SEI
    check decodes once more uncropped (FFmpeg/PyAV ``apply_cropping=0``)."""
    w, h, n = 124, 68, 10
    bs = tmp_path / "crop.266"
    _encode(bs, _source(n, seed=9, w=w, h=h), n, w=w, h=h)
    for decoders in (("ffmpeg",), ("pyav", "ffmpeg")):
        v = _verify(bs, n, decoders=decoders, expected=YuvFormat(w, h, 420, 10))
        assert v.ok, v.reason
        assert v.checks["sei_hash"] == {"ok": True, "checked": n, "absent": 0, "mismatched": [], "full_picture": True}
    assert v.checks["structure"]["width"] == w and read_bitstream(bs).sps.coded_width == 128


def test_two_independent_encodes_joined_with_cat_decode_as_one_sequence(tmp_path):
    """Two encodes (16 + 12 frames) concatenated byte for byte: every decoder gives the 28 frames, equal to
    the two parts decoded on their own, and both parts' SEI hashes check."""
    src = _source(28, seed=3)
    half = 16 * FMT.frame_bytes
    a, b, joined = tmp_path / "a.266", tmp_path / "b.266", tmp_path / "ab.266"
    _encode(a, src[:half], 16)
    _encode(b, src[half:], 12)
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    v = _verify(joined, 28)
    assert v.ok, v.reason
    assert v.checks["structure"]["clvs"] == 2 and v.checks["sei_hash"]["checked"] == 28
    parts = _verify(a, 16).decoded_md5s + _verify(b, 12).decoded_md5s
    assert v.decoded_md5s == parts
    assert [p["poc"] for p in v.pictures] == list(range(16)) + list(range(12))


def test_one_corrupted_picture_is_not_verified_naming_its_frame(ra, tmp_path):
    """A byte flipped inside the slice data of one picture of the highest temporal layer (no picture refers
    to it): FFmpeg and PyAV refuse it, and the verdict names its frame (found by decoding cut streams)."""
    bs, _ = ra
    units = picture_units(read_bitstream(bs))
    top = max(u.temporal_id for u in units)
    target = [u for u in units if u.temporal_id == top][3]
    data = bytearray(bs.read_bytes())
    data[target.offset + target.size // 2] ^= 0x55
    bad = tmp_path / "bad.266"
    bad.write_bytes(bytes(data))
    for dec in ("ffmpeg", "pyav"):
        v = _verify(bad, 20, decoders=(dec,))
        assert not v.ok and v.reason.startswith(
            f"not decodable: frame {target.poc} (POC {target.poc}, picture {target.index} in decoding order) "
            f"does not decode with {dec}: "), v.reason
        assert v.checks[f"decode:{dec}"]["first_bad_picture"] == {"frame": target.poc, "poc": target.poc,
                                                                  "decode_order": target.index}


def test_a_wrong_sei_hash_names_the_frame_in_output_order(ra, tmp_path):
    """The MD5 in the SEI of the picture decoded 4th (POC 1) is altered: frame 1 is reported, not frame 3."""
    bs, _ = ra
    info = read_bitstream(bs)
    units = picture_units(info)
    target = units[3]
    assert target.index != target.poc  # the case where decoding and output order differ
    sei = next(n for n in info.nals if n.nal_type == 24 and n.offset > target.offset
               and target.hash.values[0] in unescape(n.payload).hex())
    data = bytearray(bs.read_bytes())
    pos = sei.offset + 2 + unescape(sei.payload).hex().index(target.hash.values[0]) // 2 + 3
    data[pos] ^= 0x01
    bad = tmp_path / "badsei.266"
    bad.write_bytes(bytes(data))
    v = _verify(bad, 20)
    assert not v.ok and v.reason.startswith(f"hash mismatch: frame {target.poc}: md5 SEI of POC {target.poc} "
                                            f"(picture {target.index} in decoding order)"), v.reason
    assert [p["frame"] for p in v.pictures if p["sei"] == "mismatch"] == [target.poc]
    assert v.checks["sei_hash"]["mismatched"] == [target.poc] and v.checks["sei_hash"]["checked"] == 20


def test_wrong_frame_count_names_both_counts(ra):
    bs, _ = ra
    for frames in (19, 21):
        v = _verify(bs, frames)
        assert not v.ok and v.reason == (f"not decodable: the stream outputs 20 picture(s) (20 coded); expected "
                                         f"{frames} frames")
    with pytest.raises(UsageError):
        _verify(bs, 0)


class _Tampering(Decoder):
    """FFmpeg's decode, then ``edit(path)`` on its output: a decoder that disagrees or drops frames."""

    name = "fake"

    def __init__(self, edit) -> None:
        self.edit = edit

    def decode(self, bitstream, out_yuv, bit_depth=10, timeout=60.0, crop=True, log_path=None) -> DecodeResult:
        res = FFmpegDecoder().decode(bitstream, out_yuv, bit_depth, timeout, crop, log_path)
        self.edit(Path(out_yuv))
        return res

    def version(self) -> str:
        return "fake"


def test_a_decoder_that_disagrees_is_named_with_the_first_differing_frame(ra):
    bs, _ = ra

    def flip_frame_5(p: Path) -> None:
        data = bytearray(p.read_bytes())
        data[5 * FMT.frame_bytes + 100] ^= 1
        p.write_bytes(bytes(data))

    v = _verify(bs, 20, decoders=("ffmpeg", _Tampering(flip_frame_5)))
    assert not v.ok and v.reason.startswith("hash mismatch: frame 5: decoders disagree (ffmpeg "), v.reason
    assert ", fake " in v.reason and v.checks["agreement"]["frame"] == 5


def test_a_decoder_with_too_few_frames_names_the_counts(ra):
    bs, _ = ra

    def drop_last(p: Path) -> None:
        p.write_bytes(p.read_bytes()[: 19 * FMT.frame_bytes])

    v = _verify(bs, 20, decoders=("pyav", _Tampering(drop_last)))
    assert not v.ok and v.reason == "not decodable: fake output 19 frame(s); expected 20"


def test_without_sei_each_frame_is_checked_against_the_recon(tmp_path):
    """No SEI in the stream: the encoder's reconstruction (here: frames decoded by PyAV, one altered) is
    compared frame by frame."""
    bs = tmp_path / "nosei.266"
    _encode(bs, _source(12, seed=5), 12, "IntraPeriod=16")
    recon = tmp_path / "recon.yuv"
    FFmpegDecoder().decode(bs, recon, 10, 60)
    v = _verify(bs, 12, recon=recon)
    assert v.ok and v.checks["recon"] == {"ok": True, "checked": 12, "mismatched": []}
    assert {p["sei"] for p in v.pictures} == {"absent"} and {p["recon"] for p in v.pictures} == {"ok"}
    data = bytearray(recon.read_bytes())
    data[7 * FMT.frame_bytes + 5] ^= 4
    recon.write_bytes(bytes(data))
    v = _verify(bs, 12, recon=recon)
    assert not v.ok and v.reason == "hash mismatch: frame 7: decoded frame differs from the encoder reconstruction"
    assert [p["frame"] for p in v.pictures if p["recon"] == "mismatch"] == [7]
    recon.write_bytes(bytes(data[: 11 * FMT.frame_bytes]))
    v = _verify(bs, 12, recon=recon)
    assert not v.ok and v.reason.startswith("hash mismatch: encoder reconstruction has ")


def test_garbage_and_format_mismatch_are_verdicts(ra, tmp_path):
    bs, _ = ra
    v = _verify(bs, 20, expected=YuvFormat(W, H, 420, 8))
    assert not v.ok and v.reason == "format mismatch: SPS says bit depth 10 (expected 8)"
    junk = tmp_path / "junk.266"
    junk.write_bytes(b"\x00\x00\x01" + bytes(range(256)) * 4)
    v = _verify(junk, 20)
    assert not v.ok and v.reason.startswith("not decodable: ")
    cut = tmp_path / "cut.266"
    cut.write_bytes(bs.read_bytes()[: bs.stat().st_size // 2])
    v = _verify(cut, 20)
    assert not v.ok and v.reason.startswith("not decodable: ")


def test_mutated_sequences_all_get_a_verdict(ra, tmp_path):
    """40 mutations (bytes flipped, cut, a NAL unit dropped or doubled): each ends in a verdict with one of the
    documented reason prefixes, never an exception; a verified mutation (an AUD dropped, an SEI doubled...)
    decodes to exactly the original frames."""
    import random

    bs, _ = ra
    original = _verify(bs, 20, decoders=("ffmpeg",)).decoded_md5s
    src = bs.read_bytes()
    nals = read_bitstream(bs).nals
    rng = random.Random(22)
    kinds: dict[str, int] = {}
    for i in range(40):
        data = bytearray(src)
        how = i % 4
        if how == 0:
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif how == 1:
            data = data[: rng.randrange(1, len(data))]
        else:
            n = rng.choice(nals)
            a, b = n.offset - n.start_code, n.offset + n.size
            data = data[:a] + data[b:] if how == 2 else data[:b] + data[a:b] + data[b:]
        p = tmp_path / f"m{i}.266"
        p.write_bytes(bytes(data))
        v = _verify(p, 20, decoders=("ffmpeg",))
        assert isinstance(v, SequenceVerdict) and v.reason.startswith(
            ("ok", "not decodable: ", "hash mismatch: ", "format mismatch: ")), v.reason
        assert not v.ok or v.decoded_md5s == original, (i, v.pictures)
        kinds[v.reason.split(":")[0]] = kinds.get(v.reason.split(":")[0], 0) + 1
    assert kinds.get("not decodable", 0) >= 10, kinds


def test_a_stream_vcmbench_cannot_parse_is_checked_by_its_command_decoder(ra, tmp_path):
    """``bitstream_format`` other than vvc (a template codec's): no structure or SEI check, the command
    decoder must give ``frames`` frames of ``expected``."""
    bs, _ = ra
    tpl = f"{ffmpeg_exe()} -v error -f vvc -i {{input}} -f rawvideo -pix_fmt yuv420p10le -y {{output}}"
    v = _verify(bs, 20, decoders=(tpl, "pyav"), bitstream_format="other")
    assert v.ok, v.reason
    assert v.checks["structure"] == {"ok": True, "detail": "not VVC: structure not parsed"}
    assert v.checks["agreement"] == {"ok": True, "decoders": ["command0", "pyav"]}
    assert {p["sei"] for p in v.pictures} == {"absent"}
    v = _verify(bs, 21, decoders=(tpl,), bitstream_format="other")
    assert not v.ok and v.reason == "not decodable: command0 output 20 frame(s); expected 21"


def _smooth(n: int, first: int = 0) -> bytes:
    """Frames ``first``.. ``first + n - 1`` of a smooth moving pattern (noise would take VTM minutes)."""
    yy, xx = np.mgrid[0:H, 0:W]
    return b"".join((512 + 300 * np.sin((xx + 3 * k) / 7.0) * np.cos((yy + k) / 9.0)).astype("<u2").tobytes()
                    + np.full((H // 2, W // 2), 400 + 8 * k, "<u2").tobytes() * 2 for k in range(first, first + n))


def _vtm_encode(vtm_dir: Path, cfg: str, src: Path, bs: Path, rec: Path, n: int, skip: int = 0) -> None:
    from vcmbench.coding.codecs.vtm_apps import find_vtm_binary, find_vtm_cfg

    cmd = [str(find_vtm_binary("EncoderApp", vtm_dir)), "-c", str(find_vtm_cfg(cfg, vtm_dir=vtm_dir)),
           "-i", str(src), "-b", str(bs), "-o", str(rec), "-wdt", str(W), "-hgt", str(H), "-fr", "25", "-fs", str(skip),
           "-f", str(n), "-q", "37", "--InputBitDepth=10", "--InternalBitDepth=10", "--InputChromaFormat=420",
           "--SEIDecodedPictureHash=1", "--ConformanceWindowMode=1"]
    res = run_process(cmd, timeout=600)
    assert res.ok, res.tail(400)


@pytest.mark.needs_vtm
def test_vtm_segments_joined_verify_with_every_decoder(vtm_dir, tmp_path):
    """Two VTM random-access encodes of one source (FrameSkip 0 and 9, 9 frames each) joined byte for byte:
    FFmpeg, PyAV and VTM's DecoderApp give all 18 frames in order, equal to the two recons concatenated,
    and every SEI hash checks."""
    from vcmbench.coding.codecs.decoders import VTMDecoder

    src = tmp_path / "src.yuv"
    src.write_bytes(_smooth(18))
    parts = []
    for k, skip in enumerate((0, 9)):
        bs, rec = tmp_path / f"s{k}.266", tmp_path / f"s{k}.yuv"
        _vtm_encode(vtm_dir, "encoder_randomaccess_vtm.cfg", src, bs, rec, 9, skip)
        parts.append((bs, rec))
    joined, recon = tmp_path / "joined.266", tmp_path / "recon.yuv"
    joined.write_bytes(b"".join(p[0].read_bytes() for p in parts))
    recon.write_bytes(b"".join(p[1].read_bytes() for p in parts))
    v = _verify(joined, 18, decoders=("ffmpeg", "pyav", VTMDecoder(vtm_dir)), recon=recon)
    assert v.ok, v.reason
    assert v.checks["structure"]["clvs"] == 2 and v.checks["sei_hash"]["checked"] == 18
    assert v.checks["recon"] == {"ok": True, "checked": 18, "mismatched": []}


@pytest.mark.needs_vtm
@pytest.mark.parametrize("cfg", ["encoder_lowdelay_vtm.cfg", "encoder_randomaccess_vtm.cfg"])
def test_vtm_low_delay_and_random_access_verify_with_every_decoder(vtm_dir, tmp_path, cfg):
    """VTM 12.0 EncoderApp with the condition cfgs and MD5 SEI; FFmpeg, PyAV and VTM's DecoderApp agree on all
    17 frames, every SEI hash and the encoder's reconstruction (POC order) check."""
    from vcmbench.coding.codecs.decoders import VTMDecoder

    n = 17
    src = tmp_path / "src.yuv"
    src.write_bytes(_smooth(n))
    bs, rec = tmp_path / "vtm.266", tmp_path / "rec.yuv"
    _vtm_encode(vtm_dir, cfg, src, bs, rec, n)
    v = _verify(bs, n, decoders=("ffmpeg", "pyav", VTMDecoder(vtm_dir)), recon=rec)
    assert v.ok, v.reason
    assert v.checks["sei_hash"]["checked"] == n and v.checks["recon"]["checked"] == n
    assert v.checks["agreement"]["decoders"] == ["ffmpeg", "pyav", "vtm"]
    if "randomaccess" in cfg:
        assert any(p["decode_order"] != p["frame"] for p in v.pictures)
