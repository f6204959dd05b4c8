"""A codec given only by command templates runs through `run`, `verify` and `crosscheck` (issue 12): the
FFmpeg that ships (libvvenc encoder, native VVC decoder) written as templates in a condition, and a
scripted fake non-VVC codec with an encoder reconstruction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.coding.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _condition(tmp_path: Path, name: str, codec: dict) -> Path:
    data = yaml.safe_load((ROOT / "cttc" / "demo.yaml").read_text())
    data["name"] = name
    data["preprocess"]["color"] = "ctc"  # the FFmpeg colour steps (the demo itself converts in bt601-full-int)
    data["codec"] = {**{k: data["codec"][k] for k in ("qps", "scales", "input_bit_depth", "internal_bit_depth",
                                                       "chroma_format")}, **codec}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _need_ssd():
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(f"SSD-MobileNetV2 weights absent: {why}")


def test_ffmpeg_vvenc_by_templates_runs_verifies_and_crosschecks(tmp_path):
    _need_ssd()
    ff = ffmpeg_exe()
    dec = f"{ff} -hide_banner -nostdin -v error -f vvc -i {{input}} -f rawvideo -pix_fmt yuv420p10le -y {{output}}"
    cond = _condition(tmp_path, "demo-template", {
        "name": "ffmpeg-vvenc",
        "encode": (f"{ff} -hide_banner -nostdin -v error -f rawvideo -pix_fmt {{pix_fmt}} -s {{width}}x{{height}} "
                   "-i {input} -frames:v 1 -threads 1 -c:v libvvenc -preset faster -qp {qp} -qpa 0 "
                   "-vvenc-params IntraPeriod=1:IntraQPOffset=0 -pix_fmt yuv420p10le -f vvc -y {output}"),
        "decode": dec, "version_command": f"{ff} -hide_banner -version",
        "source": "FFmpeg libvvenc driven by command templates (test)"})
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["run", str(cond), "--qps", "47", "--scales", "100", "--limit", "1", "--jobs", "1",
                                   "--quiet", "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["not_verified"] == 0 and not summary["errors"]
    run = json.loads((out / "run.json").read_text())
    assert run["codec_signature"].startswith("ffmpeg-vvenc-ffmpeg_version_") and "#" in run["codec_signature"]
    assert run["decoders"] == ["pyav", "ffmpeg", dec]
    bs = sorted((out / "bitstreams").glob("*.266"))
    assert [b.name for b in bs] == ["astronaut_s100_qp47.266"]
    log = (out / "commands.log").read_text()
    assert "libvvenc" in log and "-color_range pc" in log  # the encoder and the FFmpeg colour steps
    res = CliRunner().invoke(cli, ["verify", str(bs[0]), "--decoder", dec, "--decoder", "pyav"])
    assert res.exit_code == 0, res.output

    from vcmbench.crosscheck import crosscheck
    from vcmbench.crosscheck.build import package_from_run

    pkg = package_from_run(out, tmp_path / "pkg", proponent="test", title="template codec", quality_key="AP")
    xc = crosscheck(pkg, work_dir=tmp_path / "xc", decoders=[dec], condition=str(cond), accuracy_fn=None)
    counts = xc.counts()
    assert counts["verified"] >= 1 and counts["failed"] == 0 and counts["differs"] == 0, counts


def test_scripted_non_vvc_codec_runs_with_its_own_decoder(tmp_path):
    _need_ssd()
    from tests.unit.test_codec_template import FAKE

    script = tmp_path / "fakecodec.py"
    script.write_text(FAKE)
    py = sys.executable
    cond = _condition(tmp_path, "demo-fake", {
        "name": "fakecodec", "bitstream_format": "fake",
        "encode": f"{py} {script} enc {{input}} {{output}} {{recon}} {{width}} {{height}} {{qp}}",
        "decode": f"{py} {script} dec {{input}} {{output}}", "version_command": f"{py} {script} version",
        "source": "scripted fake codec (test)"})
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["run", str(cond), "--qps", "47", "--scales", "100", "--limit", "1", "--jobs", "1",
                                   "--quiet", "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    store_rows = json.loads((out / "resultset.json").read_text())["points"]
    assert len(store_rows) == 1 and store_rows[0]["failed"] == 0
