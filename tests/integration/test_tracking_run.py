"""Issue 23 "Done when": the synthetic tracking sequence runs end to end through `vcmbench run` with the SSD tracker
(`ssd-mobilenet-v2-coco-tracker`: SSD-MobileNetV2 persons + the JDE association without embeddings) and VVenC
(faster, low-delay), scored by MOTA against the fixture's own labels (TVD settings); the MOT files the run writes,
re-scored by `vcmbench evaluate mot`, give the same numbers; a killed run resumes; as an image anchor and as a
feature anchor (the same network split at its heads, the packed 4:0:0 10-bit frames inter-coded) with a BD-rate on
MOTA between the two, and the report.  The sequence (four people cut out of coco-tiny-cc pictures walking across a
coco-tiny-cc background, ground truth written by the fixture) is made at test time by tests/video_fixture.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.video_fixture import make_tracking_sequence

pytestmark = pytest.mark.integration


def _run(seq, out, *extra):
    from vcmbench.cli import cli

    args = ["run", str(seq.condition_path), "--data", str(seq.data_dir), "--out", str(out), "--jobs", "1", "-q", *extra]
    return CliRunner().invoke(cli, args)


def _evaluate_mot(gt, pred):
    from vcmbench.cli import cli

    r = CliRunner().invoke(cli, ["evaluate", "mot", "--gt", str(gt), "--pred", str(pred), "--dataset", "tvd", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for row in [*out["sequences"].values(), out["overall"]]:
        row.pop("mota_pct")
    return out


def test_image_anchor_tracking_run_end_to_end(tmp_path):
    """Every QP one verified inter bitstream; MOTA, IDF1, counts and kbps per sequence and class; the final CSV in
    the tracking layout; `results`; and `evaluate mot` on RUNDIR/tracks/qp<QP> equal to the run's numbers."""
    from vcmbench.core.jsonio import read_json

    seq = make_tracking_sequence(tmp_path, frames=13, qps=(32, 42, 47))
    out = tmp_path / "run"
    r = _run(seq, out)
    assert r.exit_code == 0, r.output
    assert "jobs: 4 (0 cached, 4 run, 0 failed, 0 not verified)" in r.output
    vr = read_json(out / "video-results.json")
    assert vr["metric"].startswith("MOTA/IDF1 (py-motmetrics 1.4.0, TVD settings")
    rows = {q["qp"]: q for q in vr["sequences"]}
    assert sorted(rows) == [32, 42, 47] and all(q["verified"] for q in rows.values())
    assert rows[32]["kbps"] > rows[42]["kbps"] > rows[47]["kbps"] > 0
    for qp, row in rows.items():
        assert row["kbps"] == pytest.approx(row["bits"] * 25 / (1000 * 13))
        assert set(row["accuracy"]) == {"MOTA", "IDF1", "MOTP"} and set(row["counts"]) == {"IDs", "FP", "FN"}
        got = _evaluate_mot(seq.data_dir / seq.name, out / "tracks" / f"qp{qp}")
        assert got["sequences"][seq.name] == row["mot"]
        assert got["overall"] == next(c["mot"] for c in vr["classes"] if c["qps"] == [qp])
    ref = vr["reference"][0]
    assert ref["accuracy"]["MOTA"] > 0.5, ref  # the SSD tracker follows the walkers on the uncompressed frames
    assert _evaluate_mot(seq.data_dir / seq.name, out / "tracks" / "reference")["sequences"][seq.name] == ref["mot"]
    assert [c["rank"] for c in vr["classes"]] == [0, 1, 2] and len(vr["overall"]) == 3
    csv = (out / "final_SYNTHETICTRACKING.csv").read_text().splitlines()
    assert len(csv) == 1 + 3 + 3 and csv[1].split(",")[1] == seq.name and csv[-1].split(",")[1] == "CLASS-SYN"
    from vcmbench.cli import cli

    shown = CliRunner().invoke(cli, ["results", str(out)])
    assert shown.exit_code == 0 and "MOTA (%)" in shown.output and "kbps" in shown.output and "IDs" in shown.output


def test_a_killed_tracking_run_resumes_with_the_same_numbers(tmp_path, monkeypatch):
    """The encoder fails at one QP (as a killed job would): the run reports it and scores the rest; the re-run
    codes only that job and gives every number a run without the failure gives."""
    from vcmbench.coding.codecs.vvenc import VVenCCodec
    from vcmbench.conditions import load_condition
    from vcmbench.run.video_pipeline import VideoRunOptions, run_video
    from vcmbench.run.video_results import build_video_results

    seq = make_tracking_sequence(tmp_path, frames=9, qps=(37, 47))
    real = VVenCCodec.encode_sequence
    failed = []

    def failing(self, src, bitstream, settings, log_dir=None):
        if settings.qp == 47 and not failed:
            failed.append(1)
            raise RuntimeError("encoder killed")
        return real(self, src, bitstream, settings, log_dir)

    monkeypatch.setattr(VVenCCodec, "encode_sequence", failing)
    cond = load_condition(seq.condition_path)
    out = tmp_path / "run"
    first = run_video(cond, seq.data_dir, out, VideoRunOptions(jobs=1, env={}))
    assert len(first.errors) == 1 and "encoder killed" in first.errors[0]["error"]
    part = build_video_results(out)
    assert [r["qp"] for r in part.sequences if r["verified"]] == [37]
    second = run_video(cond, seq.data_dir, out, VideoRunOptions(jobs=1, env={}))
    assert second.errors == [] and second.ran == 1 and second.skipped == 2
    done = build_video_results(out)
    assert [r["qp"] for r in done.sequences if r["verified"]] == [37, 47]
    assert done.sequences[0]["mot"] == part.sequences[0]["mot"]


@pytest.mark.slow  # (two runs of 17 frames at 4 QPs: ~2-3 min here)
def test_image_and_feature_anchors_give_a_bd_rate_on_mota_and_a_report(tmp_path):
    """The image anchor (pixels coded) and the feature anchor (the SSD split at its heads, the packed features of
    every frame as one 4:0:0 10-bit inter-coded sequence), the same tracker and labels: both verified with MOTA
    and kbps per QP, `bdrate` gives the class and Overall BD-rate on MOTA, `report` writes the tracking sections."""
    from tests.video_fixture import ssd_heads_feature
    from vcmbench.cli import cli
    from vcmbench.core.jsonio import read_json

    img = make_tracking_sequence(tmp_path / "img", frames=17, qps=(27, 32, 37, 42))
    # the feature anchor's own QPs: its packed ReLU6 maps cost ~30x the pixels' rate, and MOTA falls to 0 from QP 30
    # (measured: MOTA 55.9, 54.2, 52.5, 22.0 % at QP 17, 22, 25, 29; the image anchor 64.4, 52.5, 49.2, 22.0 % at
    # QP 27, 32, 37, 42): both curves monotone, their MOTA ranges overlapping
    feat = make_tracking_sequence(tmp_path / "feat", frames=17, qps=(17, 22, 25, 29), feature=ssd_heads_feature(),
                                  condition="synthetic-tracking-features", twin="synthetic-tracking")
    for seq, out in ((img, tmp_path / "img-run"), (feat, tmp_path / "feat-run")):
        r = _run(seq, out)
        assert r.exit_code == 0, r.output
        vr = read_json(out / "video-results.json")
        assert all(q["verified"] and q["kbps"] > 0 and "MOTA" in q["accuracy"] for q in vr["sequences"])
    r = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "img-run"), "--test", str(tmp_path / "feat-run"),
                                 "--json"])
    assert r.exit_code == 0, r.output
    bd = json.loads(r.stdout)
    cls = [s for s in bd["summary"] if s["group"] == "CLASS-SYN"]
    assert len(cls) == 1 and isinstance(cls[0]["bd_rate_pct"], float), cls
    assert bd["overall"][0]["bd_rate_pct"] == pytest.approx(cls[0]["bd_rate_pct"])
    x, h = tmp_path / "r.xlsx", tmp_path / "r.html"
    r = CliRunner().invoke(cli, ["report", "--anchor", str(tmp_path / "img-run"), "--test", str(tmp_path / "feat-run"),
                                 "-o", str(x), "-o", str(h)])
    assert r.exit_code == 0, r.output
    assert "MOTA" in h.read_text() and x.stat().st_size > 0
