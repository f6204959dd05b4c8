"""``--allow-unpublished-weights`` (issue 26): the option the published-sha256 error names exists on
``run`` and ``study run``, reaches the task network, and the task signature records a file it admitted."""

from __future__ import annotations

import pytest

from tests.unit._hostile import invoke
from vcmbench.core.errors import DataError, UsageError


class _Stop(UsageError):
    pass


def test_run_passes_the_option_to_the_task_network(tmp_path, monkeypatch):
    import vcmbench.run.pipeline as pipeline

    seen = {}

    def fake(cond, data_dir, out_dir, **kw):
        seen.update(kw["task_options"] or {})
        raise _Stop("stopped by the test")

    monkeypatch.setattr(pipeline, "run_condition", fake)
    w = tmp_path / "model_final_68b088.pkl"
    w.write_bytes(b"x")
    r = invoke(["run", "coco-val2017-det", "--out", tmp_path / "o", "--task-weights", w, "--allow-unpublished-weights"])
    assert r.exit_code == 2 and "stopped by the test" in r.output
    assert seen == {"weights": str(w), "allow_unpublished_weights": True}
    seen.clear()
    invoke(["run", "coco-val2017-det", "--out", tmp_path / "o", "--task-weights", w])
    assert "allow_unpublished_weights" not in seen


def test_study_run_passes_the_option_to_the_task_network(tmp_path, monkeypatch):
    """A junk file named like the published X101 weights: refused by its sha256 without the option; with
    it, the sha256 check lets it through and reading it is what fails (so the option reached the network)."""
    pytest.importorskip("torch")
    from vcmbench.studies.model import load_study
    from vcmbench.studies.runner import build_jobs

    w = tmp_path / "model_final_68b088.pkl"
    w.write_bytes(b"junk")
    monkeypatch.setenv("VCMBENCH_RCNN_WEIGHTS", str(w))
    monkeypatch.delenv("VCMBENCH_D2_WEIGHTS", raising=False)
    study = load_study("s3-layers-frcnn")
    with pytest.raises(UsageError, match="pass --allow-unpublished-weights"):
        build_jobs(study, [], tmp_path, {})
    with pytest.raises(UsageError, match="Cannot read weights file"):
        build_jobs(study, [], tmp_path, {"task_options": {"allow_unpublished_weights": True}})

    import vcmbench.studies.runner as runner

    got = {}

    def fake_run(s, d, o, **kw):
        got.update(kw["options"])
        raise _Stop("stopped by the test")

    monkeypatch.setattr(runner, "run_study", fake_run)
    r = invoke(["study", "run", "s3-layers-frcnn", "--out", tmp_path / "s", "--allow-unpublished-weights"])
    assert r.exit_code == 2 and got["task_options"] == {"allow_unpublished_weights": True}, r.output


@pytest.mark.parametrize("args", [["run", "coco-tiny-cc-ssd"], ["study", "run", "s2-distortions-ssd"]])
def test_option_is_refused_for_networks_without_published_weights(tmp_path, args):
    r = invoke([*args, "--out", tmp_path / "o", "--allow-unpublished-weights"])
    assert r.exit_code == 2 and "applies to rcnn: and detectron2: networks" in r.output, r.output
    assert not (tmp_path / "o").exists()


def test_signature_records_admitted_unpublished_weights(tmp_path):
    pytest.importorskip("torch")
    from vcmbench.tasks import get_task
    from vcmbench.tasks.rcnn import get_config
    from vcmbench.tasks.rcnn.seeded import seeded_state, write_model_zoo_pkl

    model = "COCO-Detection/faster_rcnn_R_50_FPN_3x"
    state = seeded_state(get_config(model), 1)
    named = write_model_zoo_pkl(state, tmp_path / "model_final_280758.pkl")  # the published file's name
    with pytest.raises(DataError, match="pass --allow-unpublished-weights"):
        get_task(f"rcnn:{model}", weights=str(named), device="cpu")
    net = get_task(f"rcnn:{model}", weights=str(named), device="cpu", allow_unpublished_weights=True)
    assert net.signature().endswith("~unpublished") and net.weights_sha256[:12] in net.signature()
    other = write_model_zoo_pkl(state, tmp_path / "seeded.pkl")  # no published file of that name: no mark
    plain = get_task(f"rcnn:{model}", weights=str(other), device="cpu", allow_unpublished_weights=True)
    assert plain.signature() == f"rcnn~faster_rcnn_R_50_FPN_3x#{plain.weights_sha256[:12]}"
