"""A video run removes ``RUNDIR/partial/<job_id>`` folders of jobs it does not plan (QPs, settings or data changed),
says so in its notes, and never removes a planned job's folder (its resume state); a run of part of the condition's
sequences (``--sequence``) removes only the folders of the sequences it runs (named by the previous run.json).

The plans are real (``run.video_plan.make_video_plan`` on sequences made by tests/video_fixture.py, 64x48, 3 frames):
nothing is encoded."""

from __future__ import annotations

import yaml

from tests.video_fixture import make_synthetic_sequence
from vcmbench.conditions import load_condition
from vcmbench.run.sequence_jobs import partial_dir
from vcmbench.run.store import RunStore
from vcmbench.run.video_pipeline import _remove_stale_partials, video_run_json
from vcmbench.run.video_plan import VideoRunOptions, make_video_plan


def _two_sequences(tmp_path):
    """One condition of two sequences (A 64x48, B 64x64: other bytes, other job ids; class D), made as two fixture sequences merged into one YAML."""
    a = make_synthetic_sequence(tmp_path, frames=3, width=64, height=48, qps=(37, 42), name="SeqA_64x48_30")
    b = make_synthetic_sequence(tmp_path, frames=3, width=64, height=64, qps=(37, 42), name="SeqB_64x64_30",
                                condition="other")
    doc = yaml.safe_load(a.condition_path.read_text())
    doc["dataset"]["sequences"] += yaml.safe_load(b.condition_path.read_text())["dataset"]["sequences"]
    doc["dataset"]["report_classes"]["D"]["sequences"] = ["SeqA_64x48_30", "SeqB_64x64_30"]
    a.condition_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    b.condition_path.unlink()
    return load_condition(a.condition_path), a.data_dir


def _partial(run, job_id):
    d = partial_dir(run, job_id)
    d.mkdir(parents=True)
    (d / "progress.json").write_text('{"version": 1, "key": "k", "segments": []}')
    return d


def test_a_run_removes_the_partial_folders_of_jobs_it_does_not_plan_and_keeps_its_own(tmp_path):
    cond, data = _two_sequences(tmp_path)
    run = tmp_path / "run"
    old = make_video_plan(cond.with_overrides(qps=[22]), data, run, VideoRunOptions(env={}))  # QPs changed since
    plan = make_video_plan(cond, data, run, VideoRunOptions(env={}))
    stale = [s.job_id for s in old.specs if s.qp == 22]
    mine = [s.job_id for s in plan.specs if s.qp == 37]
    assert len(stale) == 2 and len(mine) == 2 and not set(stale) & {s.job_id for s in plan.specs}
    dirs = {j: _partial(run, j) for j in [*stale, *mine]}
    with RunStore(run) as store:
        note = _remove_stale_partials(store, plan)
        assert _remove_stale_partials(store, plan) == ""  # nothing left to remove: no note
    assert all(not dirs[j].exists() for j in stale) and all(dirs[j].is_dir() for j in mine)
    assert note.startswith("removed 2 unfinished job folder(s) under partial/ that this run does not plan")
    assert all(j in note for j in stale) and not any(j in note for j in mine)


def test_a_run_of_one_sequence_keeps_the_other_sequences_partial_folders(tmp_path):
    cond, data = _two_sequences(tmp_path)
    run = tmp_path / "run"
    whole = make_video_plan(cond, data, run, VideoRunOptions(env={}))
    # the previous run (both sequences, QP 37 and 42) left a folder per sequence job; run.json names their sequences
    left = {(s.image.name, s.qp): s.job_id for s in whole.specs if s.qp is not None}
    dirs = {k: _partial(run, j) for k, j in left.items()}
    with RunStore(run) as store:
        store.write_meta_json("run.json", video_run_json(whole, "x", None))
    only_a = make_video_plan(cond.with_overrides(qps=[37]), data, run,
                             VideoRunOptions(env={}, sequences=["SeqA_64x48_30"]))
    with RunStore(run) as store:
        note = _remove_stale_partials(store, only_a)
    # SeqA at QP 42 is no job of this run of SeqA: removed; SeqA at 37 is planned; SeqB's are another selection's
    assert not dirs[("SeqA_64x48_30", 42)].exists() and note.startswith("removed 1 ") and left[("SeqA_64x48_30", 42)] in note
    assert dirs[("SeqA_64x48_30", 37)].is_dir()
    assert dirs[("SeqB_64x64_30", 37)].is_dir() and dirs[("SeqB_64x64_30", 42)].is_dir()
    # a run of the whole condition at QP 37 removes the QP 42 folder left of SeqB
    with RunStore(run) as store:
        note = _remove_stale_partials(store, make_video_plan(cond.with_overrides(qps=[37]), data, run,
                                                             VideoRunOptions(env={})))
    assert not dirs[("SeqB_64x64_30", 42)].exists() and left[("SeqB_64x64_30", 42)] in note
    assert dirs[("SeqA_64x48_30", 37)].is_dir() and dirs[("SeqB_64x64_30", 37)].is_dir()
