"""Codecs given by command templates (coding.codecs.template): a scripted fake codec with a reconstruction,
and FFmpeg's own HEVC encoder/decoder; verification decodes with the given decoder and compares with the
encoder's reconstruction; the signature carries the binaries' hash."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vcmbench.coding.codecs import EncodeSettings, get_codec
from vcmbench.coding.ffmpeg import ffmpeg_exe, ffmpeg_has
from vcmbench.coding.verify import verify_bitstream
from vcmbench.coding.yuv import YuvFormat, planes_to_bytes
from vcmbench.core.errors import CodecError, UsageError

FAKE = textwrap.dedent('''
    """A fake codec: 8-bit 4:2:0 in; 'bitstream' = header + zlib of the 10-bit picture quantised by QP;
    the reconstruction and the decoder's output are that picture (10-bit LE).  --lie flips a sample."""
    import struct, sys, zlib
    import numpy as np
    mode = sys.argv[1]
    if mode == "version":
        print("fakecodec 1.2.3"); sys.exit(0)
    if mode == "enc":
        src, out, rec, w, h, qp = sys.argv[2:8]
        w, h, qp = int(w), int(h), int(qp)
        x = np.fromfile(src, np.uint8).astype(np.uint16) << 2
        k = qp // 10
        q = (x >> k) << k
        open(out, "wb").write(b"FAKE" + struct.pack("<HH", w, h) + zlib.compress(q.astype("<u2").tobytes()))
        q.astype("<u2").tofile(rec)
    elif mode == "dec":
        data = open(sys.argv[2], "rb").read()
        assert data[:4] == b"FAKE", "not a fake bitstream"
        pic = np.frombuffer(zlib.decompress(data[8:]), "<u2").copy()
        if "--lie" in sys.argv:
            pic[0] ^= 4
        pic.tofile(sys.argv[3])
''')


@pytest.fixture
def fake(tmp_path) -> Path:
    p = tmp_path / "fakecodec.py"
    p.write_text(FAKE)
    return p


def _src(tmp_path, w=32, h=24) -> tuple[Path, YuvFormat]:
    fmt = YuvFormat(w, h, 420, 8)
    rng = np.random.default_rng(1)
    planes = [rng.integers(0, 256, s).astype(np.uint8) for s in fmt.plane_shapes()]
    src = tmp_path / "src.yuv"
    src.write_bytes(planes_to_bytes(planes, fmt))
    return src, fmt


def _fake_codec(fake: Path, lie: bool = False):
    py = sys.executable
    return get_codec("template", tool="fakecodec", bitstream_format="fake",
                     encode=f"{py} {fake} enc {{input}} {{output}} {{recon}} {{width}} {{height}} {{qp}}",
                     decode=f"{py} {fake} dec {{input}} {{output}}" + (" --lie" if lie else ""),
                     version_command=f"{py} {fake} version")


def test_fake_template_codec_encodes_and_verifies_against_its_reconstruction(tmp_path, fake):
    codec = _fake_codec(fake)
    src, fmt = _src(tmp_path)
    res = codec.encode(src, tmp_path / "a.bin", EncodeSettings(qp=37, fmt=fmt))
    assert res.recon is not None and res.command[-1] == "37" and res.bits == (tmp_path / "a.bin").stat().st_size * 8
    expected = YuvFormat(32, 24, 420, 10)
    v = verify_bitstream(res.bitstream, expected=expected, recon=res.recon, decoders=[codec.decode_template],
                         bitstream_format="fake")
    assert v.ok, v.reason
    assert set(v.checks) == {"structure", "decode:command0", "recon"}
    lying = _fake_codec(fake, lie=True)
    v = verify_bitstream(res.bitstream, expected=expected, recon=res.recon, decoders=[lying.decode_template],
                         bitstream_format="fake")
    assert not v.ok and v.reason.startswith("hash mismatch: decoded pictures differ from the encoder reconstruction")
    (tmp_path / "bad.bin").write_bytes(b"garbage")
    v = verify_bitstream(tmp_path / "bad.bin", expected=expected, decoders=[codec.decode_template],
                         bitstream_format="fake")
    assert not v.ok and v.reason.startswith("not decodable: command0")


def test_template_signature_names_tool_version_and_hash(tmp_path, fake):
    sig = _fake_codec(fake).signature()
    assert sig.startswith("fakecodec-fakecodec_1.2.3#")
    fake.write_text(FAKE + "\n# changed\n")  # another script: another hash
    assert _fake_codec(fake).signature().split("#")[1] != sig.split("#")[1]


def test_template_refuses_missing_placeholders_and_binaries(fake):
    with pytest.raises(UsageError, match=r"\{qp\}"):
        get_codec("template", encode=f"{sys.executable} {fake} enc {{input}} {{output}}")
    with pytest.raises(CodecError, match="not installed"):
        get_codec("template", tool="hm", encode="/nonexistent/TAppEncoder -i {input} -b {output} -q {qp}")


@pytest.mark.skipif(not ffmpeg_has("encoders", "libx265"), reason="this FFmpeg has no libx265 encoder")
def test_ffmpeg_hevc_as_a_template_codec(tmp_path):
    """The FFmpeg that ships with imageio-ffmpeg, driven purely by templates: libx265 at a fixed QP, decoded by
    FFmpeg's HEVC decoder to 10-bit planar YUV."""
    ff = ffmpeg_exe()
    codec = get_codec(
        "template", tool="x265", bitstream_format="hevc",
        encode=(f"{ff} -hide_banner -nostdin -v error -f rawvideo -pix_fmt {{pix_fmt}} -s {{width}}x{{height}} "
                "-i {input} -frames:v 1 -c:v libx265 -x265-params qp={qp}:pools=none:log-level=error "
                "-pix_fmt yuv420p10le -f hevc -y {output}"),
        decode=f"{ff} -hide_banner -nostdin -v error -f hevc -i {{input}} -f rawvideo -pix_fmt yuv420p10le -y {{output}}",
        version_command=f"{ff} -hide_banner -version")
    src, fmt = _src(tmp_path, 64, 48)
    res = codec.encode(src, tmp_path / "a.265", EncodeSettings(qp=32, fmt=fmt))
    assert res.recon is None and res.bits > 0
    v = verify_bitstream(res.bitstream, expected=YuvFormat(64, 48, 420, 10), decoders=[codec.decode_template],
                         bitstream_format="hevc")
    assert v.ok, v.reason
    assert codec.signature().startswith("x265-ffmpeg_version_") and "#" in codec.signature()
