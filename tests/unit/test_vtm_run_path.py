"""The VTM path of `vcmbench run` (issue 12) without real VTM: cfg looked up in one place (standard VTM tree
with --vtm-dir .../bin), --vtm-dir reaching the verification decoder, the condition's codec.version with the
--allow-version-mismatch override, a refused run leaving nothing behind, --ConformanceWindowMode=1 once, and
the decoder policy of runs (issue 13: every installed decoder, refusal on disagreement)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcmbench.coding.codecs import EncodeSettings, get_codec
from vcmbench.coding.codecs.decoders import VTMDecoder
from vcmbench.coding.codecs.vtm import encoder_command
from vcmbench.coding.codecs.vtm_apps import cfg_candidates, find_vtm_cfg
from vcmbench.coding.yuv import YuvFormat
from vcmbench.core.errors import CodecError

CFG_MD5 = "1a36d5744bfdd4c5d6d1c8e6d237e19b"  # VTM-12.0 cfg/encoder_intra_vtm.cfg (vcm-image-anchor-base)


@pytest.fixture
def vtm_tree(tmp_path, shared, monkeypatch) -> Path:
    """A standard VTM tree: bin/ (fake EncoderApp/DecoderApp printing the 12.0 banner) beside cfg/."""
    for var in ("VCMBENCH_VTM_DIR", "VCMBENCH_VTM_CFG"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "VVCSoftware_VTM"
    (root / "bin").mkdir(parents=True)
    (root / "cfg").mkdir()
    for app in ("Encoder", "Decoder"):
        p = root / "bin" / f"{app}AppStatic"
        p.write_text(f"#!/bin/sh\necho 'VVCSoftware: VTM {app} Version 12.0 [Linux]'\n")
        p.chmod(0o755)
    shutil.copy(shared / "fixtures" / "encoder_intra_vtm_12.0.cfg", root / "cfg" / "encoder_intra_vtm.cfg")
    return root


def test_cfg_is_found_beside_bin_in_the_standard_tree(vtm_tree):
    cands = cfg_candidates(vtm_dir=vtm_tree / "bin")
    assert cands[1] == vtm_tree / "cfg" / "encoder_intra_vtm.cfg"
    assert find_vtm_cfg(vtm_dir=vtm_tree / "bin", md5=CFG_MD5) == vtm_tree / "cfg" / "encoder_intra_vtm.cfg"
    codec = get_codec("vtm", vtm_dir=vtm_tree / "bin")  # the codec uses the same lookup
    assert codec.cfg == vtm_tree / "cfg" / "encoder_intra_vtm.cfg"
    (vtm_tree / "cfg" / "encoder_intra_vtm.cfg").write_text("# another cfg\n")
    with pytest.raises(CodecError, match="md5"):
        find_vtm_cfg(vtm_dir=vtm_tree / "bin", md5=CFG_MD5)


def test_condition_version_is_checked_and_the_override_is_recorded(vtm_tree):
    from vcmbench.conditions import load_condition
    from vcmbench.run.pipeline import _codec_options

    cond = load_condition("coco-tiny-cc-vtm")
    opts = _codec_options(cond, {"vtm_dir": str(vtm_tree / "bin")}, None)
    assert opts["expected_version"] == "12.0" and opts["cfg"].endswith("cfg/encoder_intra_vtm.cfg")
    codec = get_codec("vtm", vtm_dir=vtm_tree / "bin", expected_version="13.0")
    with pytest.raises(CodecError, match="--allow-version-mismatch"):
        codec.check_version()
    over = get_codec("vtm", vtm_dir=vtm_tree / "bin", expected_version="13.0", allow_version_mismatch=True)
    assert over.check_version() == "12.0" and over.signature().endswith("!override")


def test_refused_run_leaves_no_run_directory(tmp_path, coco_tiny, vtm_tree):
    from vcmbench.cli import cli

    (vtm_tree / "cfg" / "encoder_intra_vtm.cfg").unlink()
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["run", "coco-tiny-cc-vtm", "--data", str(coco_tiny), "--vtm-dir",
                                   str(vtm_tree / "bin"), "--limit", "1", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "encoder_intra_vtm.cfg" in res.output and "--vtm-dir" in res.output
    assert not out.exists()
    res = CliRunner().invoke(cli, ["run", "--help"])
    assert "--allow-version-mismatch" in res.output


def test_vtm_dir_reaches_the_verification_decoder_without_environment(vtm_tree):
    from vcmbench.conditions.datasets import ImageRef
    from vcmbench.run.jobs import JobSpec, bitstream_name, verification_decoders
    from vcmbench.run.pipeline import default_decoders

    opts = {"vtm_dir": str(vtm_tree / "bin")}
    decs = default_decoders("vtm", opts)
    assert decs == ("pyav", "ffmpeg", "vtm")
    spec = JobSpec(job_id="c1", kind="code", image=ImageRef("im 1", 1, 10, 10, "d"), run_dir="/tmp", task="t",
                   task_options=(), scale=0.5, qp=37, codec="vtm", codec_options=tuple(opts.items()), decoders=decs)
    built = verification_decoders(spec)
    assert built[:2] == ["pyav", "ffmpeg"] and isinstance(built[2], VTMDecoder)
    assert built[2].exe == vtm_tree / "bin" / "DecoderAppStatic"
    assert bitstream_name(spec) == "im_1_s50_qp37.266"
    assert default_decoders("vvenc", {}) == ("pyav", "ffmpeg")


def test_conformance_window_mode_is_passed_once():
    s = EncodeSettings(qp=37, fmt=YuvFormat(64, 48, 420, 8), extra_args=("--ConformanceWindowMode=1", "--Level=6.2"))
    cmd = encoder_command("EncoderApp", "c.cfg", "in.yuv", "out.266", "rec.yuv", s)
    assert cmd.count("--ConformanceWindowMode=1") == 1 and cmd[-1] == "--Level=6.2"


def test_a_run_verdict_needs_every_decoder(tmp_path):
    """Issue 13: a stream one decoder rejects is not verified even when another decodes it (the reproduction was a
    mutated SPS that FFmpeg rejects and PyAV's libavcodec accepts; here a rejecting decoder stands for it)."""
    from vcmbench.coding.verify import verify_bitstream

    bs = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "vtm12" / "texture_256x192_420_qp47.266"
    if not bs.is_file():
        pytest.skip("shared VTM fixtures absent")
    assert verify_bitstream(bs, decoders=("pyav", "ffmpeg")).ok
    v = verify_bitstream(bs, decoders=("pyav", "false {input} {output}"))
    assert not v.ok and v.reason.startswith("not decodable: command1")
