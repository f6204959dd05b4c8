"""Verification verdicts: fixtures decode to the recorded MD5s with every decoder; corrupted input
(truncated, bit flips, garbage, empty, a PNG renamed .266) gives a clear negative verdict, never a
crash or a hang; a fuzz-style run of mutated bitstreams all end in a verdict within the timeout."""

from __future__ import annotations

import json
import random
import shutil
import time

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.coding.verify import Verdict, plane_hash, verify_bitstream
from vcmbench.coding.yuv import YuvFormat
from vcmbench.core.errors import EXIT_NOT_VERIFIED, UsageError

PREFIXES = ("ok", "not decodable: ", "hash mismatch: ", "format mismatch: ")


def _cases(vtm_fixtures):
    return json.loads((vtm_fixtures / "manifest.json").read_text())["cases"]


def _fmt(c) -> YuvFormat:
    return YuvFormat(c["width"], c["height"], c["chroma_format"], c["bit_depth"])


def test_fixtures_decode_to_the_recorded_md5_with_ffmpeg_and_pyav(vtm_fixtures):
    """Golden source: `decoded_md5` of fixtures/vtm12/manifest.json (VTM 12.0 DecoderApp -d 10)."""
    for c in _cases(vtm_fixtures):
        v = verify_bitstream(vtm_fixtures / c["bitstream"], expected=_fmt(c), md5=c["decoded_md5"],
                             decoders=("ffmpeg", "pyav"))
        assert isinstance(v, Verdict) and v.ok, (c["name"], v.reason)
        assert v.decoded_md5 == c["decoded_md5"] and v.bits == c["bitstream_bytes"] * 8
        assert v.checks["sei_hash"]["ok"] and v.checks["agreement"]["ok"] and v.checks["md5"]["ok"]
    # the SEI of the cropped fixture covers the full 256x192 picture: it was checked uncropped
    v = verify_bitstream(vtm_fixtures / "nonmult8_250x186_420_qp37.266", decoders=("ffmpeg",))
    assert v.ok and v.checks["sei_hash"]["full_picture"] is True


def test_wrong_md5_and_wrong_format_are_negative(vtm_fixtures, tmp_path):
    c = _cases(vtm_fixtures)[1]
    bs = vtm_fixtures / c["bitstream"]
    v = verify_bitstream(bs, md5="0" * 32, decoders=("ffmpeg",))
    assert not v.ok and v.reason.startswith("hash mismatch: decoded MD5")
    v = verify_bitstream(bs, expected=YuvFormat(256, 192, 400, 10), decoders=("ffmpeg",))
    assert not v.ok and v.reason == "format mismatch: SPS says chroma 420 (expected 400)"
    v = verify_bitstream(bs, expected=YuvFormat(250, 192, 420, 8), decoders=("ffmpeg",))
    assert v.reason.startswith("format mismatch:") and "size 256x192" in v.reason and "bit depth 10" in v.reason
    bad_recon = tmp_path / "r.yuv"
    bad_recon.write_bytes(b"\0" * c["decoded_bytes"])
    v = verify_bitstream(bs, recon=bad_recon, decoders=("ffmpeg",))
    assert v.reason.startswith("hash mismatch: decoded pictures differ from the encoder reconstruction")
    v = verify_bitstream(bs, decoders=("ffmpeg",), keep_decoded=tmp_path / "keep" / "d.yuv", log_dir=tmp_path / "logs")
    assert v.ok and v.decoded.stat().st_size == c["decoded_bytes"]
    log = (tmp_path / "logs" / f"{bs.stem}_ffmpeg_decoder.log").read_text()
    assert "# command:" in log and "# status: exit 0" in log
    with pytest.raises(UsageError):
        verify_bitstream(bs, decoders=())


def test_plane_hash_checksum_and_md5():
    import numpy as np

    p = np.arange(12, dtype=np.uint16).reshape(3, 4) * 100
    assert plane_hash(p, 10, "md5") == __import__("hashlib").md5(p.astype("<u2").tobytes()).hexdigest()
    # H.274 checksum by hand for a 1x2 picture, 10-bit: x=1 -> xor mask 1
    q = np.array([[0x1FF, 0x2AB]], np.uint16)
    expected = ((0xFF ^ 0) + (0x01 ^ 0) + (0xAB ^ 1) + (0x02 ^ 1)) & 0xFFFFFFFF
    assert plane_hash(q, 10, "checksum") == f"{expected:08x}"


@pytest.mark.parametrize("vvenc_hash,kind", [(2, "crc"), (3, "checksum")])
def test_crc_and_checksum_sei_are_checked(tmp_path, vtm_fixtures, vvenc_hash, kind):
    """Golden source: VVenC's own decoded-picture-hash SEI (SEIDecodedPictureHash=2 CRC, =3 checksum)."""
    from vcmbench.coding.bitstream import read_bitstream
    from vcmbench.coding.codecs import EncodeSettings, get_codec
    from vcmbench.core.process import run_process

    fmt = YuvFormat(256, 192, 420, 10)
    c = get_codec("vvenc")
    cmd = c.command(tmp_path / "h.266", EncodeSettings(37, fmt, preset="faster"))
    i = cmd.index("-vvenc-params")
    cmd[i + 1] += f":SEIDecodedPictureHash={vvenc_hash}"
    assert run_process(cmd, timeout=60, stdin=c.input_bytes(vtm_fixtures / "texture_256x192_420_qp37.yuv", fmt)).ok
    assert read_bitstream(tmp_path / "h.266").picture_hashes[0].hash_type == kind
    v = verify_bitstream(tmp_path / "h.266", expected=fmt, decoders=("ffmpeg",))
    assert v.ok and v.checks["sei_hash"]["pictures"][0]["type"] == kind, v.reason
    data = bytearray((tmp_path / "h.266").read_bytes())
    data[-2] ^= 0x40  # inside the SEI hash value of the last plane
    (tmp_path / "h.266").write_bytes(bytes(data))
    for dec in ("ffmpeg", "pyav"):  # the pictures decode; our SEI check names the mismatch
        v = verify_bitstream(tmp_path / "h.266", decoders=(dec,))
        assert v.reason.startswith("hash mismatch: picture 0 " + kind), v.reason


def _corrupt_variants(src: bytes, png: bytes) -> dict[str, bytes]:
    flipped = bytearray(src)
    flipped[len(src) // 2] ^= 0x10
    sei_flip = bytearray(src)
    sei_flip[-3] ^= 0x01  # inside the SEI MD5 of the luma plane
    return {"empty": b"", "truncated": src[: len(src) // 2], "header only": src[:60], "bit flip": bytes(flipped),
            "sei flip": bytes(sei_flip), "garbage": bytes(random.Random(1).randrange(256) for _ in range(3000)),
            "png renamed": png, "zeros": b"\0" * 1000, "start codes only": b"\0\0\1" * 50}


def test_corrupted_inputs_get_clear_verdicts(vtm_fixtures, tmp_path):
    from PIL import Image

    Image.new("RGB", (16, 16), (200, 10, 10)).save(tmp_path / "img.png")
    src = (vtm_fixtures / "texture_256x192_420_qp37.266").read_bytes()
    for name, data in _corrupt_variants(src, (tmp_path / "img.png").read_bytes()).items():
        p = tmp_path / "x.266"
        p.write_bytes(data)
        t0 = time.perf_counter()
        v = verify_bitstream(p, decoders=("ffmpeg", "pyav"), timeout=20)
        assert time.perf_counter() - t0 < 25
        assert not v.ok, name
        assert v.reason.startswith(("not decodable: ", "hash mismatch: ")), (name, v.reason)
        assert len(v.reason) > len("not decodable: ") + 5
    p.write_bytes(b"")
    assert verify_bitstream(p).reason == "not decodable: empty file"
    p.write_bytes((tmp_path / "img.png").read_bytes())
    assert "not decodable" in verify_bitstream(p).reason


def _mutate(rng: random.Random, b: bytes) -> bytes:
    b = bytearray(b)
    k = rng.randrange(6)
    if k == 0:
        return bytes(b[: rng.randrange(len(b))])
    if k == 1:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if k == 2:
        i = rng.randrange(len(b))
        return bytes(b[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + b[i:])
    if k == 3:
        i = rng.randrange(len(b))
        return bytes(b[:i] + b[min(len(b), i + rng.randint(1, 100)):])
    if k == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000)))
    b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def _fuzz(vtm_fixtures, tmp_path, n: int, decoders: tuple[str, ...], seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    sources = [(vtm_fixtures / c["bitstream"]).read_bytes() for c in _cases(vtm_fixtures)]
    kinds: dict[str, int] = {}
    timeout = 10.0
    for k in range(n):
        p = tmp_path / f"m{k % 4}.266"
        p.write_bytes(_mutate(rng, rng.choice(sources)))
        t0 = time.perf_counter()
        v = verify_bitstream(p, decoders=decoders, timeout=timeout)
        assert time.perf_counter() - t0 < timeout * len(decoders) * 2 + 5
        assert v.reason.startswith(PREFIXES), v.reason
        kinds[v.reason.split(":")[0]] = kinds.get(v.reason.split(":")[0], 0) + 1
    return kinds


def test_fuzz_200_mutated_bitstreams_all_get_a_verdict(vtm_fixtures, tmp_path):
    """200 mutations (truncation, bit flips, insertions, deletions, garbage), FFmpeg and PyAV: ~10 s."""
    kinds = _fuzz(vtm_fixtures, tmp_path, 200, ("ffmpeg", "pyav"), seed=11)
    assert sum(kinds.values()) == 200 and kinds.get("not decodable", 0) > 100


@pytest.mark.slow
def test_fuzz_1000_mutations_with_both_decoders(vtm_fixtures, tmp_path):
    kinds = _fuzz(vtm_fixtures, tmp_path, 1000, ("ffmpeg", "pyav"), seed=2026)
    assert sum(kinds.values()) == 1000


def test_hanging_or_crashing_decoder_is_a_verdict(vtm_fixtures, tmp_path, monkeypatch):
    """A decoder that hangs or dies is killed / reported, never hanging the caller."""
    import sys

    from vcmbench.coding.codecs.decoders import CommandDecoder

    bs = vtm_fixtures / "texture_256x192_420_qp47.266"
    hang = f'{sys.executable} -c "import time; time.sleep(30)" {{input}} {{output}}'
    t0 = time.perf_counter()
    v = verify_bitstream(bs, decoders=(hang,), timeout=1)
    assert time.perf_counter() - t0 < 5
    assert v.reason.startswith("not decodable: command0: timed out after")
    crash = f'{sys.executable} -c "import os; os.abort()" {{input}} {{output}}'
    v = verify_bitstream(bs, decoders=(crash,), timeout=10)
    assert v.reason.startswith("not decodable: command0:") and "exit status" in v.reason
    short = f'{sys.executable} -c "import sys; open(sys.argv[2], \'wb\').write(b\'12\')" {{input}} {{output}}'
    assert CommandDecoder(short).version().startswith("command:")
    v = verify_bitstream(bs, decoders=(short,), timeout=10)
    assert v.reason.startswith("not decodable:") and "not a whole number" in v.reason, v.reason


def test_cli_verify(vtm_fixtures):
    c = _cases(vtm_fixtures)[3]
    f = str(vtm_fixtures / c["bitstream"])
    args = ["verify", f, "--width", "250", "--height", "186", "--chroma", "420", "--bit-depth", "10", "--decoder", "all"]
    r = CliRunner().invoke(cli, [*args, "--md5", c["decoded_md5"], "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)[0]
    assert d["ok"] and {"decode:ffmpeg", "decode:pyav"} <= set(d["checks"])
    assert "decoders: ffmpeg, pyav" in r.stderr  # `all` names what ran
    if "vtm" not in r.stderr:
        assert "VTM (the reference decoder) is not installed" in r.stderr
    r = CliRunner().invoke(cli, [*args, "--md5", "1" * 32])
    assert r.exit_code == EXIT_NOT_VERIFIED and "hash mismatch" in r.output
    r = CliRunner().invoke(cli, ["verify", f, "--width", "250"])
    assert r.exit_code == 2 and "--bit-depth" in r.output


def test_cli_verify_many_files_one_bad(vtm_fixtures, tmp_path):
    bad = tmp_path / "bad.266"
    bad.write_bytes((vtm_fixtures / "texture_256x192_420_qp22.266").read_bytes()[:300])
    good = tmp_path / "good.266"
    shutil.copyfile(vtm_fixtures / "texture_256x192_420_qp22.266", good)
    r = CliRunner().invoke(cli, ["verify", str(good), str(bad), "--decoder", "ffmpeg"])
    assert r.exit_code == EXIT_NOT_VERIFIED
    assert "not decodable" in r.output and " ok " in r.output


FAKE_SERVER = r"""
import json, os, sys, time
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    mode = open(os.environ["FAKE_PYAV_MODE"]).read().strip()
    if mode == "hang":
        time.sleep(60)
    if mode == "crash":
        os.abort()
    print(json.dumps({"ok": False, "error": "fake says no"}), flush=True)
"""


def test_persistent_pyav_worker_survives_hangs_and_crashes(vtm_fixtures, tmp_path, monkeypatch):
    """The persistent PyAV worker is killed after a timeout, restarted after a crash, and the verdicts
    name what happened; the real worker then decodes correctly again."""
    import sys

    from vcmbench.coding.codecs.decoders import _PyAVServer

    bs = vtm_fixtures / "texture_256x192_420_qp47.266"
    script = tmp_path / "server.py"
    script.write_text(FAKE_SERVER)
    mode = tmp_path / "mode"
    monkeypatch.setenv("FAKE_PYAV_MODE", str(mode))
    _PyAVServer._reset()
    monkeypatch.setattr(_PyAVServer, "command", [sys.executable, str(script)])
    try:
        mode.write_text("hang")
        t0 = time.perf_counter()
        v = verify_bitstream(bs, decoders=("pyav",), timeout=1.0)
        assert time.perf_counter() - t0 < 8 and v.reason == "not decodable: pyav: timed out after 1.0 s"
        mode.write_text("crash")
        v = verify_bitstream(bs, decoders=("pyav",), timeout=10)
        assert v.reason.startswith("not decodable: pyav: the decoder process crashed (signal 6)"), v.reason
        mode.write_text("no")
        assert verify_bitstream(bs, decoders=("pyav",)).reason == "not decodable: pyav: fake says no"
    finally:
        _PyAVServer._reset()
    monkeypatch.undo()
    assert verify_bitstream(bs, decoders=("pyav",)).ok
