"""With real VTM 12.0 binaries (``--vtm-dir`` / VCMBENCH_VTM_DIR): every shared fixture reproduced byte for
byte, a `vcmbench run` with VTM that needs nothing but ``--vtm-dir``, and bitstreams equal to those of the
public CompressAI-Vision VTM image pipeline in the scripts-literal colour mode.  Skipped (with the reason)
where VTM is not configured, e.g. in CI."""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vcmbench.coding.codecs import EncodeSettings, get_codec
from vcmbench.coding.verify import verify_bitstream
from vcmbench.coding.yuv import YuvFormat

from ..conftest import SHARED

pytestmark = [pytest.mark.integration, pytest.mark.needs_vtm]
_MANIFEST = SHARED / "fixtures" / "vtm12" / "manifest.json"
CASES = json.loads(_MANIFEST.read_text())["cases"] if _MANIFEST.is_file() else []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_real_vtm_reproduces_every_fixture(case, vtm_dir, vtm_fixtures, tmp_path):
    """Golden source: fixtures/vtm12/manifest.json `bitstream_md5`, `decoded_md5` (VTM 12.0, encoder_intra_vtm.cfg)."""
    cfg = vtm_fixtures.parent / "encoder_intra_vtm_12.0.cfg"
    codec = get_codec("vtm", vtm_dir=vtm_dir, cfg=cfg)
    fmt = YuvFormat(case["width"], case["height"], case["chroma_format"], case["bit_depth"])
    out = tmp_path / case["bitstream"]
    res = codec.encode(vtm_fixtures / case["source"], out,
                       EncodeSettings(case["qp"], fmt, sei_hash=bool(case.get("sei_decoded_picture_hash")), timeout=900))
    def names(cmd):  # paths reduced to file names; the cfg argument (-c) compared by content (its md5 above)
        return [Path(a).name if "/" in a else a for a in cmd[1:2] + cmd[3:]]

    assert names(res.command) == names(case["encoder_cmd"])
    assert res.command.count("--ConformanceWindowMode=1") == 1
    assert hashlib.md5(out.read_bytes()).hexdigest() == case["bitstream_md5"]
    v = verify_bitstream(out, expected=fmt, md5=case["decoded_md5"], recon=res.recon, decoders=("vtm", "ffmpeg", "pyav"))
    assert v.ok, v.reason


def test_vcmbench_run_with_only_vtm_dir_verifies_every_bitstream(vtm_dir, coco_tiny, tmp_path, monkeypatch):
    """Issue 12 "done when": `vcmbench run coco-tiny-cc-vtm --vtm-dir VTM/bin` with no environment variable; the
    cfg is found in the standard VTM tree (bin/ beside cfg/) or the shared fixtures."""
    for var in ("VCMBENCH_VTM_DIR", "VCMBENCH_VTM_CFG"):
        monkeypatch.delenv(var, raising=False)
    from vcmbench.cli import cli

    args = ["run", "coco-tiny-cc-vtm", "--data", str(coco_tiny), "--vtm-dir", str(vtm_dir), "--qps", "47",
            "--scales", "50", "--limit", "1", "--jobs", "1", "--quiet", "--json", "--out", str(tmp_path / "run")]
    if not (vtm_dir / "cfg").is_dir() and not (vtm_dir.parent / "cfg").is_dir():
        args += ["--cfg", str(coco_tiny.parent.parent / "fixtures" / "encoder_intra_vtm_12.0.cfg")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["not_verified"] == 0 and not summary["errors"]
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["decoders"] == ["pyav", "ffmpeg", "vtm"] and run["codec_signature"].startswith("vtm-12.0#")
    assert (tmp_path / "run" / "bitstreams" / "5001_s50_qp47.266").is_file()


# CompressAI-Vision (github.com/InterDigitalInc/CompressAI-Vision, commit 31165daf62af4e7fff02b39ba23b39e8c24278b1),
# compressai_vision/pipelines/fo_vcm: fo/predict.py reads the image with cv2.imread; pipeline/vtm.py
# VTMEncoderDecoder.BGR runs ffmpeg.py FFMpeg.ff_op (pad/scale, PNG in, APNG out), FFMpeg.ff_RGB24ToRAW and
# __VTMEncode__ with these exact command templates (steps 1-3 of its docstring):
PUBLIC_VF = {100: "pad=ceil(iw/2)*2:ceil(ih/2)*2", 50: "scale=ceil(iw/4)*2:ceil(ih/4)*2"}
PUBLIC_FF_OP = '{ffmpeg} -y -hide_banner -loglevel error -i pipe: -vf "{op}" -f apng pipe:'
PUBLIC_TO_RAW = "{ffmpeg} -y -hide_banner -loglevel error -i pipe: -f rawvideo -pix_fmt {form} -dst_range 1 pipe:"
PUBLIC_ENCODE = ("{encoderApp} -c {vtm_cfg} -i {inp_yuv_path} -b {bin_path} -o {out_yuv_path} -fr 1 -f 1 -wdt {wdt} "
                 "-hgt {hgt} -q {qp} --ConformanceWindowMode=1 --InternalBitDepth=10")


def _public_pipeline(image: Path, qp: int, scale: int, encoder: Path, cfg: Path, ffmpeg: str, work: Path) -> bytes:
    from PIL import Image

    cv2 = pytest.importorskip("cv2")
    rgb = cv2.imread(str(image))[:, :, [2, 1, 0]]

    def pipe(comm: str, data: bytes) -> bytes:
        return subprocess.run(shlex.split(comm), input=data, capture_output=True, check=True, timeout=300).stdout

    png = io.BytesIO()
    Image.fromarray(rgb).save(png, format="png")
    padded = np.array(Image.open(io.BytesIO(pipe(PUBLIC_FF_OP.format(ffmpeg=ffmpeg, op=PUBLIC_VF[scale]),
                                                  png.getvalue()))).convert("RGB"))
    png = io.BytesIO()
    Image.fromarray(padded).save(png, format="png")
    yuv = work / "tmp_.yuv"
    yuv.write_bytes(pipe(PUBLIC_TO_RAW.format(ffmpeg=ffmpeg, form="yuv420p"), png.getvalue()))
    out = work / f"public_s{scale}_qp{qp}.bin"
    subprocess.run(shlex.split(PUBLIC_ENCODE.format(
        encoderApp=encoder, vtm_cfg=cfg, inp_yuv_path=yuv, bin_path=out, out_yuv_path=work / "nada_.yuv",
        wdt=padded.shape[1], hgt=padded.shape[0], qp=qp)), capture_output=True, check=True, timeout=900)
    return out.read_bytes()


def test_scripts_literal_bitstreams_equal_the_public_compressai_vision_pipeline(vtm_dir, coco_tiny, tmp_path,
                                                                              monkeypatch):
    """Golden source: the public CompressAI-Vision VTM image pipeline (command templates above) run with the same
    FFmpeg and VTM build.  Measured when this test was written: 12 of 12 equal (3 images x QP 37/47 x 100/50 %)."""
    for var in ("VCMBENCH_VTM_CFG", "VCMBENCH_FFMPEG"):
        monkeypatch.delenv(var, raising=False)
    from vcmbench.coding.codecs.vtm_apps import find_vtm_binary, find_vtm_cfg
    from vcmbench.coding.ffmpeg import ffmpeg_exe
    from vcmbench.run.pipeline import run_condition

    cfg = find_vtm_cfg(given=None, vtm_dir=vtm_dir, data_dir=coco_tiny.parent.parent / "fixtures")
    if cfg.name != "encoder_intra_vtm.cfg":
        pytest.skip("the VTM tree's cfg/encoder_intra_vtm.cfg is needed")
    s = run_condition("coco-tiny-cc-vtm", coco_tiny, tmp_path / "run", qps=[37, 47], scales=[0.5], limit=1, jobs=1,
                      codec_options={"vtm_dir": str(vtm_dir), "cfg": str(cfg)})
    assert not s.errors and s.not_verified == 0
    encoder = find_vtm_binary("EncoderApp", vtm_dir)
    image = coco_tiny / "images" / "000000005001.jpg"
    for qp in (37, 47):
        ours = (tmp_path / "run" / "bitstreams" / f"5001_s50_qp{qp}.266").read_bytes()
        assert ours == _public_pipeline(image, qp, 50, encoder, cfg, ffmpeg_exe(), tmp_path), f"QP {qp}"
