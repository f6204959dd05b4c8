"""VTM driver: exact command lines (vs the fixtures' encoder_cmd), log parsing (real VTM 12.0 logs),
banner/version refusal, input-size checks, and an end-to-end run with fake EncoderApp/DecoderApp."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from vcmbench.coding.codecs import EncodeSettings, get_codec, get_decoder
from vcmbench.coding.codecs.vtm import decoder_command, encoder_command, parse_encoder_log, same_command_modulo_paths
from vcmbench.coding.verify import verify_bitstream
from vcmbench.coding.yuv import YuvFormat
from vcmbench.core.errors import CodecError, DataError


def _cases(vtm_fixtures):
    return json.loads((vtm_fixtures / "manifest.json").read_text())["cases"]


def _settings(c, **kw) -> EncodeSettings:
    return EncodeSettings(qp=c["qp"], fmt=YuvFormat(c["width"], c["height"], c["chroma_format"], c["bit_depth"]), **kw)


def test_command_lines_equal_the_fixtures_commands(vtm_fixtures):
    """Golden source: `encoder_cmd` / `decoder_cmd` recorded in fixtures/vtm12/manifest.json."""
    for c in _cases(vtm_fixtures):
        d = Path("/some/where")
        cmd = encoder_command(d / "bin/EncoderApp", d / "cfg/encoder_intra_vtm.cfg", d / c["source"],
                              d / c["bitstream"], d / f"{c['name']}_enc_recon.yuv", _settings(c, sei_hash=True))
        assert same_command_modulo_paths(cmd, c["encoder_cmd"]), (cmd, c["encoder_cmd"])
        dec = decoder_command(d / "DecoderApp", d / c["bitstream"], d / f"{c['name']}_dec.yuv", 10)
        assert same_command_modulo_paths(dec, c["decoder_cmd"])
    c = _cases(vtm_fixtures)[0]
    nolf = encoder_command("E", "c.cfg", "i", "b", "r", _settings(c, loop_filter=False))
    assert nolf[-4:] == ["--LoopFilterDisable=1", "--SAO=0", "--ALF=0", "--CCALF=0"]
    assert "--SEIDecodedPictureHash=1" not in nolf
    assert not same_command_modulo_paths(nolf, c["encoder_cmd"])


def test_encoder_log_parsing_on_real_logs(vtm_fixtures):
    """Golden source: the fixtures' VTM 12.0 encoder logs."""
    info = parse_encoder_log((vtm_fixtures / "texture_256x192_420_qp37_encoder.log").read_text())
    assert info["banner_version"] == "12.0"
    assert info["picture_bits"] == 7096 and info["qp"] == 37
    assert (info["psnr_y"], info["psnr_u"], info["psnr_v"], info["psnr_yuv"]) == (35.4121, 45.2704, 44.7773, 36.9415)
    assert info["pictures"][0]["md5"][0] == "09c979bbdec2035c44a7b4b077f12079"
    assert info["seconds_elapsed"] == 4.495 and info["frames"] == 1
    mono = parse_encoder_log((vtm_fixtures / "mosaic_256x256_400_qp37_encoder.log").read_text())
    assert mono["picture_bits"] == 7520 and mono["psnr_y"] == 35.3579 and "psnr_u" not in mono
    for c in _cases(vtm_fixtures):
        info = parse_encoder_log((vtm_fixtures / f"{c['name']}_encoder.log").read_text())
        assert info["qp"] == c["qp"] and 0 < info["picture_bits"] <= c["bitstream_bytes"] * 8


FAKE_ENCODER = r'''
import os, shutil, sys
print()
print("VVCSoftware: VTM Encoder Version %s [Linux][GCC 12.2.0][64 bit] [SIMD=AVX2] " % os.environ.get("FAKE_VTM_VERSION", "12.0"))
args = sys.argv[1:]
if not args:
    print("usage: EncoderApp -c cfg ...")
    sys.exit(1)
opt = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i] in ("-i", "-b", "-o", "-c")}
with open(os.environ["FAKE_VTM_ARGS"], "w") as fh:
    fh.write("\n".join(args))
shutil.copyfile(os.environ["FAKE_VTM_BITSTREAM"], opt["-b"])
if os.environ.get("FAKE_VTM_RECON"):
    shutil.copyfile(os.environ["FAKE_VTM_RECON"], opt["-o"])
log = open(os.environ["FAKE_VTM_LOG"]).read()
sys.stdout.write(log.split("\n", 3)[3])
'''

FAKE_DECODER = r'''
import os, subprocess, sys
print("VVCSoftware: VTM Decoder Version %s [Linux]" % os.environ.get("FAKE_VTM_VERSION", "12.0"))
args = sys.argv[1:]
if not args:
    sys.exit(1)
opt = {args[i]: args[i + 1] for i in range(len(args) - 1)}
assert opt["-d"] == "10"
r = subprocess.run([os.environ["FAKE_FFMPEG"], "-v", "error", "-y", "-f", "vvc", "-i", opt["-b"], "-f", "rawvideo", opt["-o"]])
sys.exit(r.returncode)
'''


@pytest.fixture
def fake_vtm(tmp_path, monkeypatch):
    import imageio_ffmpeg

    d = tmp_path / "vtm"
    (d / "cfg").mkdir(parents=True)
    for name, body in (("EncoderApp", FAKE_ENCODER), ("DecoderApp", FAKE_DECODER)):
        p = d / name
        p.write_text(f"#!{sys.executable}\n{body}")
        p.chmod(p.stat().st_mode | stat.S_IXUSR)
    (d / "cfg" / "encoder_intra_vtm.cfg").write_text("# fake cfg\n")
    monkeypatch.setenv("FAKE_VTM_ARGS", str(tmp_path / "args.txt"))
    monkeypatch.setenv("FAKE_FFMPEG", imageio_ffmpeg.get_ffmpeg_exe())
    monkeypatch.delenv("VCMBENCH_VTM_CFG", raising=False)
    return d


def _prime(monkeypatch, vtm_fixtures, c, recon=None):
    monkeypatch.setenv("FAKE_VTM_BITSTREAM", str(vtm_fixtures / c["bitstream"]))
    monkeypatch.setenv("FAKE_VTM_LOG", str(vtm_fixtures / f"{c['name']}_encoder.log"))
    if recon:
        monkeypatch.setenv("FAKE_VTM_RECON", str(recon))


def test_fake_vtm_end_to_end_then_verify_with_all_decoders(fake_vtm, vtm_fixtures, tmp_path, monkeypatch):
    c = [c for c in _cases(vtm_fixtures) if c["name"].startswith("nonmult8")][0]
    recon = tmp_path / "true_recon.yuv"
    get_decoder("ffmpeg").decode(vtm_fixtures / c["bitstream"], recon)
    _prime(monkeypatch, vtm_fixtures, c, recon)
    codec = get_codec("vtm", vtm_dir=fake_vtm)
    assert codec.version() == "vtm-12.0"
    sig = codec.signature()
    assert sig.startswith("vtm-12.0#") and "override" not in sig
    out = tmp_path / "run" / c["bitstream"]
    res = codec.encode(vtm_fixtures / c["source"], out, _settings(c, sei_hash=True), log_dir=tmp_path / "logs")
    assert res.bits == c["bitstream_bytes"] * 8
    assert res.info["picture_bits"] > 0 and res.info["psnr_y"] > 30 and res.info["banner_version"] == "12.0"
    assert res.log_path.is_file() and res.recon == tmp_path / "logs" / f"{out.stem}_enc_recon.yuv"
    assert same_command_modulo_paths(res.command, c["encoder_cmd"])
    recorded = (tmp_path / "args.txt").read_text().split("\n")
    assert recorded == res.command[1:]
    monkeypatch.setenv("VCMBENCH_VTM_DIR", str(fake_vtm))
    v = verify_bitstream(out, expected=_settings(c).fmt, md5=c["decoded_md5"], recon=res.recon,
                         decoders=("vtm", "ffmpeg", "pyav"), timeout=30)
    assert v.ok, v.reason
    assert set(v.checks) >= {"structure", "decode:vtm", "decode:ffmpeg", "decode:pyav", "agreement", "sei_hash",
                             "md5", "recon"}
    dec = codec.decode(out, tmp_path / "dec.yuv")
    assert dec.fmt == YuvFormat(250, 186, 420, 10) and dec.command[1:3] == ["-b", str(out)]


def test_version_mismatch_is_refused_unless_overridden(fake_vtm, vtm_fixtures, tmp_path, monkeypatch):
    c = _cases(vtm_fixtures)[2]
    _prime(monkeypatch, vtm_fixtures, c)
    monkeypatch.setenv("FAKE_VTM_VERSION", "23.4")
    codec = get_codec("vtm", vtm_dir=fake_vtm)
    with pytest.raises(CodecError, match="VTM 23.4, but the condition asks for VTM 12.0"):
        codec.encode(vtm_fixtures / c["source"], tmp_path / "x.266", _settings(c))
    assert not (tmp_path / "x.266").exists()
    ok = get_codec("vtm", vtm_dir=fake_vtm, allow_version_mismatch=True)
    assert ok.signature().endswith("!override") and ok.version() == "vtm-23.4"
    # the fake prints a 12.0 log whatever its banner: the log's own banner is checked too
    res = ok.encode(vtm_fixtures / c["source"], tmp_path / "x.266", _settings(c))
    assert res.bits == c["bitstream_bytes"] * 8


def test_input_size_is_checked_before_encoding(fake_vtm, vtm_fixtures, tmp_path, monkeypatch):
    c = _cases(vtm_fixtures)[0]
    _prime(monkeypatch, vtm_fixtures, c)
    codec = get_codec("vtm", vtm_dir=fake_vtm)
    wrong = EncodeSettings(qp=22, fmt=YuvFormat(256, 192, 420, 8))  # the file is 10-bit
    with pytest.raises(DataError, match="147456 bytes but one 256x192 420 8-bit picture has 73728"):
        codec.encode(vtm_fixtures / c["source"], tmp_path / "x.266", wrong)
    assert not (tmp_path / "args.txt").exists()  # EncoderApp never ran


def test_cfg_md5_is_checked(fake_vtm, vtm_fixtures):
    """Golden source: DESIGN.md 5.1 / manifest: VTM-12.0 encoder_intra_vtm.cfg md5 1a36d5744bfdd4c5d6d1c8e6d237e19b."""
    cfg = vtm_fixtures.parent / "encoder_intra_vtm_12.0.cfg"
    good = get_codec("vtm", vtm_dir=fake_vtm, cfg=cfg, cfg_md5="1a36d5744bfdd4c5d6d1c8e6d237e19b")
    assert good.cfg == cfg
    with pytest.raises(CodecError, match="has MD5"):
        get_codec("vtm", vtm_dir=fake_vtm, cfg_md5="1a36d5744bfdd4c5d6d1c8e6d237e19b")  # the fake cfg


def test_missing_binaries_and_cfg_name_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("VCMBENCH_VTM_DIR", raising=False)
    with pytest.raises(CodecError, match="VCMBENCH_VTM_DIR"):
        get_codec("vtm")
    with pytest.raises(CodecError, match="No VTM EncoderApp"):
        get_codec("vtm", vtm_dir=tmp_path)
    (tmp_path / "EncoderApp").write_text("#!/bin/sh\n")
    (tmp_path / "EncoderApp").chmod(0o755)
    monkeypatch.delenv("VCMBENCH_VTM_CFG", raising=False)
    with pytest.raises(CodecError, match="encoder configuration not found"):
        get_codec("vtm", vtm_dir=tmp_path)
