"""Issue 22 "Done when" with VTM 12.0 (`--vtm-dir`): a synthetic sequence (208x120) runs end to end with the low-delay
and the random-access configuration of the VTM-12.0 tree, split at the intra period and joined, every picture
verified by every decoder (PyAV, FFmpeg, VTM DecoderApp) against the encoder's reconstruction, every frame
scored.  Needs the VTM binaries (pass --vtm-dir or set VCMBENCH_VTM_DIR; /tmp/vtm12/bin here)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.video_fixture import make_synthetic_sequence

pytestmark = [pytest.mark.integration, pytest.mark.needs_vtm]


# VTM wants an intra period that is a multiple of the cfg's GOP (8 low-delay, 16 random-access) and, for random
# access, larger than it; the sequence has two frames past one intra period: two segments.
@pytest.mark.parametrize("structure, frames, intra_period", [("low-delay", 18, 16), ("random-access", 34, 32)])
def test_synthetic_sequence_with_vtm(structure, frames, intra_period, vtm_dir, tmp_path):
    from vcmbench.cli import cli
    from vcmbench.run.store import RunStore

    seq = make_synthetic_sequence(tmp_path, frames=frames, intra_period=intra_period, qps=(42,), codec="vtm",
                                  structure=structure, layout="yuv", first_frame=1, width=208, height=120)
    out = tmp_path / "run"
    args = ["run", str(seq.condition_path), "--data", str(seq.data_dir), "--out", str(out), "--vtm-dir",
            str(vtm_dir), "--jobs", "1", "-q"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "jobs: 2 (0 cached, 2 run, 0 failed, 0 not verified)" in r.output
    meta = json.loads((out / "run.json").read_text())
    assert meta["structure"] == structure and meta["codec"] == "vtm" and "vtm" in meta["decoders"]
    with RunStore(out, create=False) as store:
        ((_, rec, pred),) = list(store.rows("code"))
    x = rec["extra"]
    assert rec["verified"], rec["verdict"]
    # split at the intra period; VTM's segments share their boundary intra picture (the parcat join)
    assert x["structure"] == structure and [(s["first"], s["frames"]) for s in x["segments"]] == [
        (0, intra_period + 1), (intra_period, 2)]
    assert {"decode:pyav", "decode:ffmpeg", "decode:vtm"} <= set(x["checks"])
    assert len(x["pictures"]) == frames and all(p.get("recon") in ("ok", "n/a") for p in x["pictures"])
    assert any(p.get("recon") == "ok" or p.get("sei") == "ok" for p in x["pictures"])  # pictures checked one by one
    assert x["kbps"] == pytest.approx(rec["bits"] * 30 / (1000 * frames)) and len(pred["frames"]) == frames
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "jobs: 2 (2 cached, 0 run" in again.output
