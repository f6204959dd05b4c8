"""The native JDE (`jde-1088x608`, seeded weights given with `--task-weights`) runs through `vcmbench run` on the
synthetic tracking sequence (tests/video_fixture.py): as an image anchor (pixels inter-coded, JDE + its
association on the decoded frames) and as a TVD-style feature anchor (JDE split at layers 36, 61, 74, the packed
4:0:0 10-bit frames inter-coded (and the same with the HiEve layers 105, 90, 75), the back half and the association on the decoded features).  Seeded weights
make MOTA meaningless; the mechanics (frames in, MOT files and MOTA rows out, the split chosen by the condition)
are what is checked.  Three frames keep it short (JDE costs seconds a frame on the CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.video_fixture import SOURCE, make_tracking_sequence

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    from vcmbench.tasks.jde.seeded import seeded_state, write_checkpoint

    return write_checkpoint(seeded_state(0), tmp_path_factory.mktemp("jde") / "jde_seed0.pt")


def _run(seq, out, weights):
    from vcmbench.cli import cli

    args = ["run", str(seq.condition_path), "--data", str(seq.data_dir), "--out", str(out), "--jobs", "1", "-q",
            "--task-weights", str(weights)]
    return CliRunner().invoke(cli, args)


def _feature(split: str) -> dict:
    """cttc/fcm-<split>-tracking-features.yaml's packing (layers, tiles, fixed range, 10 bits), without its
    CompressAI-Vision header (the fixture's condition counts no side information)."""
    f = yaml.safe_load((REPO / "cttc" / f"fcm-{split}-tracking-features.yaml").read_text())["feature"]
    keep = ("coded_layers", "channels", "tiling", "quant_bits", "quant_range", "quant_formula", "rounding")
    return {**{k: f[k] for k in keep}, "split_point": split, "header": {"bits": 0, "source": SOURCE},
            "side_info": "none", "source": SOURCE}


def _check(out: Path, seq) -> dict:
    from vcmbench.core.jsonio import read_json

    vr = read_json(out / "video-results.json")
    rows = vr["sequences"]
    assert [r["qp"] for r in rows] == [37] and rows[0]["verified"] and rows[0]["kbps"] > 0
    assert set(rows[0]["accuracy"]) == {"MOTA", "IDF1", "MOTP"}
    assert (out / "tracks" / "qp37").is_dir()
    return vr


def test_jde_image_anchor_run(tmp_path, weights):
    img = make_tracking_sequence(tmp_path / "img", frames=3, qps=(37,), network="jde-1088x608")
    r = _run(img, tmp_path / "run-img", weights)
    assert r.exit_code == 0, r.output
    assert "jde~1088x608#" in str(_check(tmp_path / "run-img", img))


@pytest.mark.parametrize("split", ["tvd", "hieve"])
def test_jde_feature_anchor_run(tmp_path, weights, split):
    """The condition's split point selects the layers the network returns (run.run_common.split_option)."""
    feat = make_tracking_sequence(tmp_path / "feat", frames=3, qps=(37,), network="jde-1088x608",
                                  feature=_feature(split), condition=f"synthetic-tracking-jde-{split}")
    r = _run(feat, tmp_path / "run-feat", weights)
    assert r.exit_code == 0, r.output
    assert "jde~1088x608#" in str(_check(tmp_path / "run-feat", feat))
