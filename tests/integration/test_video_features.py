"""Issue 23 "Feature coding of video": the synthetic detection sequence (tests/video_fixture.py, 9 frames of 416x240)
as a feature condition — SSD-MobileNetV2 split at its heads, every frame's six maps quantised (fixed ReLU6 range),
tiled into one 640x572 picture, the 9 pictures coded as ONE 4:0:0 10-bit inter sequence by VVenC at 2 QPs, every
picture verified, the decoded features through the SSD's heads frame by frame — scored with kbps and COCO AP by the
video results, and compared by `vcmbench bdrate` with its image-domain twin; features are computed once per frame
(the reference job), and a run whose coding job was killed resumes without recomputing them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.video_fixture import make_synthetic_sequence, ssd_heads_feature

pytestmark = pytest.mark.integration


def _rows(run_dir, kind):
    from vcmbench.run.store import RunStore

    with RunStore(run_dir, create=False) as store:
        return {(r["image_id"], r.get("qp")): (r, p) for _, r, p in store.rows(kind)}


def test_feature_sequence_end_to_end(tmp_path):
    from vcmbench.cli import cli
    from vcmbench.core.records import ResultSet
    from vcmbench.features.cache import FeatureCache

    feat = make_synthetic_sequence(tmp_path / "f", frames=9, intra_period=8, qps=(32, 42),
                                   condition="synthetic-video-features", feature=ssd_heads_feature(),
                                   twin="synthetic-video")
    out = tmp_path / "frun"
    args = ["run", str(feat.condition_path), "--data", str(feat.data_dir), "--out", str(out), "--jobs", "1", "-q"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "jobs: 3 (0 cached, 3 run, 0 failed, 0 not verified)" in r.output

    meta = json.loads((out / "run.json").read_text())
    assert meta["video"] and meta["feature"]["split"] == "heads" and meta["feature"]["bits"] == 10
    assert [j for j in meta["jobs"] if j["kind"] == "code"] and {j["kind"] for j in meta["jobs"]} == {"code",
                                                                                                     "reference"}
    # the reference job computed every frame's features once (1.4 MB of float32 each); the code jobs loaded them
    cached = sorted((out / FeatureCache(out).dir.name).glob("*.npz"))
    assert len(cached) == 9 and all(p.stat().st_size > 352192 * 4 for p in cached)
    refs = _rows(out, "reference")
    assert len(refs[(feat.name, None)][1]["frames"]) == 9
    coded = _rows(out, "code")
    assert sorted(coded) == [(feat.name, 32), (feat.name, 42)]
    bits = {}
    for (_, qp), (rec, pred) in coded.items():
        x = rec["extra"]
        assert rec["verified"], rec["verdict"]
        assert x["features_computed"] == 0  # every frame's features from the cache
        # one 4:0:0 picture of the packed maps a frame: 640 wide (m1's 64 tiles of 10), 571 rows padded to 572
        assert (rec["coded_width"], rec["coded_height"]) == (640, 572) and x["layout"]["height"] == 571
        assert x["layout"]["bit_depth"] == 10 and x["range"] == [0.0, 6.0] and rec["side_info_bits"] == 0
        assert {"decode:pyav", "decode:ffmpeg", "sei_hash"} <= set(x["checks"]) and len(x["pictures"]) == 9
        assert all(p["sei"] == "ok" for p in x["pictures"]) and x["hash_sei"]["check"] == "ok"
        assert x["hash_sei"]["bits_kept"] == rec["bits"] == (out / rec["bitstream"]).stat().st_size * 8
        assert [(s["first"], s["frames"]) for s in x["segments"]] == [(0, 9)]
        assert x["kbps"] == pytest.approx(rec["bits"] * 30 / (1000 * 9))
        q = x["quality"]
        assert q["frames"] == 9 and len(q["per_frame"]) == 9 and set(q["layers"]) == {f"m{i}" for i in range(6)}
        assert 15 < q["feature_psnr"] < 60
        assert len(pred["frames"]) == 9 and all(f["image_size"] == [416, 240] for f in pred["frames"])
        bits[qp] = rec["bits"]
    assert bits[32] > bits[42]

    rs = ResultSet.load(out / "resultset.json")
    assert rs.provenance["kind"] == "feature" and rs.provenance["twin"] == "synthetic-video"
    seq_pts = {p.qp: p for p in rs.points if p.extra["level"] == "sequence"}
    assert seq_pts[32].extra["kbps"] == pytest.approx(bits[32] * 30 / 9000)
    assert seq_pts[32].accuracy["AP"] > seq_pts[42].accuracy["AP"]



@pytest.mark.slow  # (~90 s here: two runs of 3 QPs)
def test_bdrate_of_a_feature_sequence_run_against_its_image_twin(tmp_path):
    """`vcmbench bdrate` pairs the feature run with its image-domain twin (bd.twin), warns that the kinds differ and
    gives the class and Overall BD-rate on kbps (3 QPs: pchip-jvet needs at least 3 points)."""
    from vcmbench.cli import cli

    runs = {}
    for kind, extra in (("features", {"feature": ssd_heads_feature(), "twin": "synthetic-video"}), ("image", {})):
        seq = make_synthetic_sequence(tmp_path / kind, frames=9, intra_period=8, qps=(27, 37, 47),
                                      condition="synthetic-video" + ("-features" if extra else ""), **extra)
        runs[kind] = tmp_path / f"{kind}-run"
        r = CliRunner().invoke(cli, ["run", str(seq.condition_path), "--data", str(seq.data_dir), "--out",
                                     str(runs[kind]), "--jobs", "1", "-q"])
        assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["bdrate", "--anchor", str(runs["image"]), "--test", str(runs["features"]), "--json"])
    assert r.exit_code == 0, r.output
    assert "twin conditions (bd.twin" in r.output
    got = json.loads(r.output[r.output.index("{"):r.output.rindex("}") + 1])
    overall = got["overall"][0]
    assert overall["group"] == "Overall" and overall["classes"] == ["CLASS-D"]
    assert isinstance(overall["bd_rate_pct"], float) and overall.get("error") is None


def test_a_killed_feature_sequence_job_resumes(tmp_path, monkeypatch):
    """The encoder dies in the first run (as a killed job would): the reference job (and the cached features) are
    stored, the code job reported; the re-run runs only the code job, from the cached features.  This condition
    quantises each frame with its own range, sent as side information (64 bits a frame + 104 a sequence, as
    CompressAI-Vision's header): counted in the rate."""
    from vcmbench.coding.codecs.vvenc import VVenCCodec
    from vcmbench.conditions import load_condition
    from vcmbench.run.video_pipeline import VideoRunOptions, run_video

    seq = make_synthetic_sequence(tmp_path, frames=5, intra_period=8, qps=(37,), feature=ssd_heads_feature(
        quant_range={"mode": "per-image"}, side_info="counted", header_bits=64, sequence_bits=104))
    real = VVenCCodec.encode_sequence
    calls = []

    def failing(self, src, bitstream, settings, log_dir=None):
        calls.append(settings.fmt.chroma)
        if len(calls) == 1:
            raise RuntimeError("encoder killed")
        return real(self, src, bitstream, settings, log_dir)

    monkeypatch.setattr(VVenCCodec, "encode_sequence", failing)
    cond = load_condition(seq.condition_path)
    out = tmp_path / "run"
    first = run_video(cond, seq.data_dir, out, VideoRunOptions(jobs=1, env={}))
    assert len(first.errors) == 1 and "encoder killed" in first.errors[0]["error"] and first.ran == 1
    assert len(list((out / "features").glob("*.npz"))) == 5
    second = run_video(cond, seq.data_dir, out, VideoRunOptions(jobs=1, env={}))
    assert second.errors == [] and second.ran == 1 and second.skipped == 1 and calls == [400, 400]
    rec, pred = _rows(out, "code")[(seq.name, 37)]
    assert rec["verified"], rec["verdict"]
    x = rec["extra"]
    assert x["features_computed"] == 0 and len(pred["frames"]) == 5
    assert rec["side_info_bits"] == 5 * 64 + 104 and x["side_info"] == "counted"
    assert len(x["range"]) == 5 and all(0.0 <= lo < hi <= 6.0 for lo, hi in x["range"])  # each frame's own range
    assert x["kbps"] == pytest.approx((rec["bits"] + 5 * 64 + 104) * 30 / (1000 * 5))
    (point,) = [p for p in second.result_set.points if p.extra["level"] == "sequence"]
    assert point.bits == rec["bits"] + 5 * 64 + 104 and point.extra["kbps"] == pytest.approx(x["kbps"])


def test_a_run_too_big_to_cache_computes_the_same_features_in_each_job(tmp_path):
    """``feature_cache=False`` (what a TVD-sized run gets: run.video_plan.feature_cache_plan): nothing is stored under
    features/, each job computes its frames' features itself, and the bitstream and the predictions equal the
    cached run's (the cache holds the exact float32 values)."""
    from vcmbench.conditions import load_condition
    from vcmbench.run.video_pipeline import VideoRunOptions, run_video

    seq = make_synthetic_sequence(tmp_path, frames=3, intra_period=8, qps=(42,), feature=ssd_heads_feature())
    cond = load_condition(seq.condition_path)
    runs = {}
    for cache in (True, False):
        out = tmp_path / f"run-{cache}"
        summary = run_video(cond, seq.data_dir, out, VideoRunOptions(jobs=1, env={}, feature_cache=cache))
        assert summary.errors == [] and summary.ran == 2
        assert json.loads((out / "run.json").read_text())["feature_cache"]["cache"] is cache
        assert len(list((out / "features").glob("*.npz"))) == (3 if cache else 0)
        runs[cache] = _rows(out, "code")[(seq.name, 42)]
    (rec_c, pred_c), (rec_n, pred_n) = runs[True], runs[False]
    assert rec_c["extra"]["features_computed"] == 0 and rec_n["extra"]["features_computed"] == 6  # pack + quality
    assert rec_c["extra"]["bitstream_sha256"] == rec_n["extra"]["bitstream_sha256"] and pred_c == pred_n
    assert rec_c["extra"]["quality"] == rec_n["extra"]["quality"]


@pytest.mark.slow  # (VTM 12.0 codes 18 packed 640x572 pictures: minutes here)
@pytest.mark.needs_vtm
def test_feature_sequence_with_vtm_split_and_joined(vtm_dir, tmp_path):
    """VTM 12.0 low-delay codes the packed 4:0:0 frames split at the intra period and joined (parcat's way); every
    picture is verified against the encoder's reconstruction and by every decoder, VTM's DecoderApp included."""
    from vcmbench.cli import cli

    # (VTM low-delay: an intra period a multiple of its GOP 8 and larger than it)
    seq = make_synthetic_sequence(tmp_path, frames=18, intra_period=16, qps=(47,), codec="vtm", width=208, height=120,
                                  feature=ssd_heads_feature())
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["run", str(seq.condition_path), "--data", str(seq.data_dir), "--out", str(out),
                                 "--vtm-dir", str(vtm_dir), "--jobs", "1", "-q"])
    assert r.exit_code == 0, r.output
    ((rec, pred),) = _rows(out, "code").values()
    x = rec["extra"]
    assert rec["verified"], rec["verdict"]
    assert [(s["first"], s["frames"]) for s in x["segments"]] == [(0, 17), (16, 2)] and x["join"]["method"] == "parcat"
    assert {"decode:pyav", "decode:ffmpeg", "decode:vtm"} <= set(x["checks"]) and len(x["pictures"]) == 18
    assert all(p.get("recon") == "ok" for p in x["pictures"])
    assert (rec["coded_width"], rec["coded_height"]) == (640, 572) and len(pred["frames"]) == 18
    assert "--ChromaFormatIDC=400" in (out / "commands.log").read_text()
