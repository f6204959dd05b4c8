"""Issue 22 "Done when": a synthetic sequence runs end to end with VVenC through `vcmbench run` — each QP one
inter bitstream (one encode: VVenC's default), every picture verified by every decoder, every decoded
frame through the SSD, kbps and AP per sequence and per class — and a re-run skips everything; a sequence job
split at its intra period (--split) and killed between two segments restarts from its finished segment.  The sequence (33 frames of 416x240 panned and
zoomed across a coco-tiny-cc picture) is made at test time by tests/video_fixture.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.video_fixture import make_synthetic_sequence

pytestmark = pytest.mark.integration


def _rows(run_dir, kind):
    from vcmbench.run.store import RunStore

    with RunStore(run_dir, create=False) as store:
        return {(r["image_id"], r.get("qp")): (r, p) for _, r, p in store.rows(kind)}


def test_synthetic_sequence_end_to_end_with_vvenc(tmp_path):
    from vcmbench.cli import cli
    from vcmbench.core.records import ResultSet

    seq = make_synthetic_sequence(tmp_path, frames=33, intra_period=32, qps=(32, 42))
    out = tmp_path / "run"
    args = ["run", str(seq.condition_path), "--data", str(seq.data_dir), "--out", str(out), "--jobs", "2", "-q"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "jobs: 3 (0 cached, 3 run, 0 failed, 0 not verified)" in r.output
    assert seq.name in r.output and "kbps" in r.output

    meta = json.loads((out / "run.json").read_text())
    assert meta["video"] and meta["qps_by_sequence"] == {seq.name: [32, 42]} and meta["split"] is False
    assert meta["classes"] == {"D": [seq.name]} and meta["structure"] == "low-delay"
    coded = _rows(out, "code")
    refs = _rows(out, "reference")
    assert sorted(coded) == [(seq.name, 32), (seq.name, 42)] and list(refs) == [(seq.name, None)]
    assert len(refs[(seq.name, None)][1]["frames"]) == 33
    bits = {}
    for (_, qp), (rec, pred) in coded.items():
        x = rec["extra"]
        assert rec["verified"], rec["verdict"]
        # one bitstream per QP in one encode (VVenC's default: a split VVenC encode codes differently)
        assert [(s["first"], s["frames"]) for s in x["segments"]] == [(0, 33)]
        assert {"decode:pyav", "decode:ffmpeg"} <= set(x["checks"])  # every installed decoder
        assert len(x["pictures"]) == 33  # every picture checked
        # VVenC writes no reconstruction: each picture was checked against its hash SEI, which the kept (and rated)
        # stream no longer carries; the stripped stream decodes to the verified frames
        assert all(pic["sei"] == "ok" for pic in x["pictures"]), x["pictures"][:2]
        assert x["hash_sei"]["removed_nal_units"] == 33 and x["hash_sei"]["check"] == "ok"
        assert x["hash_sei"]["bits_kept"] == rec["bits"] < x["hash_sei"]["bits_with_hash_sei"]
        bs = out / rec["bitstream"]
        from vcmbench.coding.bitstream import read_bitstream

        assert not read_bitstream(bs).picture_hashes
        assert rec["bitstream"] == f"bitstreams/{seq.name}_qp{qp}.266" and bs.stat().st_size * 8 == rec["bits"]
        assert x["kbps"] == pytest.approx(rec["bits"] * 30 / (1000 * 33))  # bits x fps / (1000 x frames)
        assert x["bpp"] == pytest.approx(rec["bits"] / (416 * 240 * 33))
        assert 25 < x["quality"]["psnr_y"] < 50 and x["structure"] == "low-delay" and x["frames"] == 33
        assert len(pred["frames"]) == 33 and all(f["image_size"] == [416, 240] for f in pred["frames"])
        bits[qp] = rec["bits"]
    assert bits[32] > bits[42]
    assert not any((out / "partial").glob("*"))  # stored jobs keep no segments

    rs = ResultSet.load(out / "resultset.json")
    assert rs.provenance.get("video") is True
    levels = {(p.extra["level"], p.extra["group"], p.qp) for p in rs.points}
    assert {("sequence", seq.name, 32), ("sequence", seq.name, 42)} <= levels
    assert any(level == "class" and group == "D" for level, group, _ in levels)
    for p in rs.points:
        assert 0 <= p.accuracy["AP"] <= 1 and p.extra["kbps"] > 0

    stale = out / "partial" / "c0ffee0000000000000000"  # a job of other QPs, killed: no job of this run
    stale.mkdir(parents=True)
    (stale / "progress.json").write_text('{"version": 1, "key": "k", "segments": []}')
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "jobs: 3 (3 cached, 0 run, 0 failed, 0 not verified)" in again.output
    assert not stale.exists() and f"note: removed 1 unfinished job folder(s) under partial/ that this run does not " \
        f"plan (QPs, settings or data changed since they were started): {stale.name}" in again.output


def test_a_killed_sequence_job_restarts_from_its_finished_segments(tmp_path, monkeypatch):
    """The first run's encoder fails in the second segment (as a killed job would stop there): the job is
    reported, its finished segment kept; the re-run reuses that segment, encodes the rest, verifies the joined
    stream and stores the job."""
    from vcmbench.coding.codecs.vvenc import VVenCCodec
    from vcmbench.conditions import load_condition
    from vcmbench.run.video_pipeline import VideoRunOptions, run_video

    seq = make_synthetic_sequence(tmp_path, frames=17, intra_period=8, qps=(37,), layout="yuv", first_frame=2)
    real = VVenCCodec.encode_sequence
    calls = []

    def failing(self, src, bitstream, settings, log_dir=None):
        calls.append(settings.frame_skip)
        if settings.frame_skip == 8 and calls.count(8) == 1:
            raise RuntimeError("encoder killed in the second segment")
        return real(self, src, bitstream, settings, log_dir)

    monkeypatch.setattr(VVenCCodec, "encode_sequence", failing)
    cond = load_condition(seq.condition_path)
    out = tmp_path / "run"
    first = run_video(cond, seq.data_dir, out, VideoRunOptions(jobs=1, env={}, split=True))
    assert len(first.errors) == 1 and "killed in the second segment" in first.errors[0]["error"]
    job_id = first.errors[0]["job_id"]
    assert (out / "partial" / job_id / "progress.json").is_file()
    second = run_video(cond, seq.data_dir, out, VideoRunOptions(jobs=1, env={}, split=True))
    assert second.errors == [] and second.ran == 1 and second.skipped == 1
    assert calls == [0, 8, 8, 16]  # the first segment was not encoded again
    rec, pred = _rows(out, "code")[(seq.name, 37)]
    assert rec["verified"], rec["verdict"]
    assert [(s["first"], s["frames"], s["reused"]) for s in rec["extra"]["segments"]] == [
        (0, 8, True), (8, 8, False), (16, 1, False)]
    assert len(pred["frames"]) == 17 and not (out / "partial" / job_id).exists()


@pytest.mark.slow  # (~50 s here: two runs and a cluster's start)
def test_video_run_on_dask_equals_the_serial_run(tmp_path):
    """The same sequence jobs on a Dask LocalCluster of two workers store the serial run's bitstreams, records'
    rates and verdicts, and predictions (one job = one sequence at one QP, whatever executor runs it)."""
    pytest.importorskip("distributed")
    from vcmbench.conditions import load_condition
    from vcmbench.run.executor import make_executor
    from vcmbench.run.video_pipeline import VideoRunOptions, run_video

    seq = make_synthetic_sequence(tmp_path, frames=9, intra_period=8, qps=(37, 47))
    cond = load_condition(seq.condition_path)
    serial = run_video(cond, seq.data_dir, tmp_path / "serial", VideoRunOptions(jobs=1, env={}))
    with make_executor(2, "dask") as ex:
        dask = run_video(cond, seq.data_dir, tmp_path / "dask", VideoRunOptions(executor=ex, env={}))
    assert serial.errors == dask.errors == [] and dask.executor["executor"] == "dask" and dask.ran == 3
    a, b = _rows(tmp_path / "serial", "code"), _rows(tmp_path / "dask", "code")
    assert sorted(a) == sorted(b) == [(seq.name, 37), (seq.name, 47)]
    for key in a:
        (ra, pa), (rb, pb) = a[key], b[key]
        assert ra["verified"] and rb["verified"] and ra["extra"]["bitstream_sha256"] == rb["extra"]["bitstream_sha256"]
        assert ra["bits"] == rb["bits"] and ra["extra"]["kbps"] == rb["extra"]["kbps"] and pa == pb
    refs_a, refs_b = _rows(tmp_path / "serial", "reference"), _rows(tmp_path / "dask", "reference")
    assert list(refs_a) == list(refs_b) == [(seq.name, None)]
    assert refs_a[(seq.name, None)][1] == refs_b[(seq.name, None)][1]
