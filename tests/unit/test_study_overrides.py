"""``study run --condition/--task/--task-weights`` (issue 25): another dataset or task network without a copy
of the study file, recorded in the study signature; the options the task networks' error messages name
(``--task-weights``) exist on ``study run``."""

from __future__ import annotations

import pytest

import tests.toy_split  # noqa: F401  (registers toy-split)
from tests.unit._hostile import invoke
from vcmbench.core.errors import ConditionError, UsageError
from vcmbench.studies.model import load_study
from vcmbench.studies.runner import build_jobs

MRCNN = "rcnn:COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"


class _Stop(UsageError):
    pass


@pytest.fixture
def captured(monkeypatch):
    import vcmbench.studies.runner as runner

    got: dict = {}

    def fake_run(s, d, o, **kw):
        got.update(study=s, data=d, limit=kw.get("limit"), options=kw["options"])
        raise _Stop("stopped by the test")

    monkeypatch.setattr(runner, "run_study", fake_run)
    return got


def test_task_and_weights_reach_the_runner_and_the_signature(tmp_path, captured):
    w = tmp_path / "seeded.pkl"
    w.write_bytes(b"x")
    r = invoke(["study", "run", "s2-distortions-ssd", "--task", MRCNN, "--task-weights", w, "--limit", "2",
                "--data", tmp_path, "--out", tmp_path / "s"])
    assert r.exit_code == 2 and "stopped by the test" in r.output, r.output
    s, shipped = captured["study"], load_study("s2-distortions-ssd")
    assert s.task["network"] == MRCNN and s.overrides == {"task": MRCNN}
    assert captured["options"]["task_options"] == {"weights": str(w)} and captured["limit"] == 2
    assert s.content_hash != shipped.content_hash
    assert str(s.signature()) != str(shipped.signature()) and "rcnn~COCO-InstanceSegmentation" in str(s.signature())
    assert s.data["published"] == shipped.data["published"]  # the paper's figures stay the file's


def test_condition_override_is_recorded(tmp_path, captured):
    r = invoke(["study", "run", "s2-distortions-ssd", "--condition", "demo", "--out", tmp_path / "s"])
    assert r.exit_code == 2 and "stopped by the test" in r.output, r.output
    s = captured["study"]
    assert s.condition.name == "demo" and s.overrides == {"condition": "demo"}
    assert s.signature().get("cttc") == s.condition.signature().get("cttc")
    assert s.signature().get("cttc") != load_study("s2-distortions-ssd").signature().get("cttc")


def test_task_weights_are_refused_for_a_network_without_model_zoo_weights(tmp_path):
    w = tmp_path / "w.pkl"
    w.write_bytes(b"x")
    r = invoke(["study", "run", "s2-distortions-ssd", "--task-weights", w, "--out", tmp_path / "o"])
    assert r.exit_code == 2 and "--task-weights applies to rcnn: and detectron2: networks" in r.output, r.output
    assert "Traceback" not in r.output and not (tmp_path / "o").exists()


def test_unknown_condition_and_occlusion_condition_are_refused(tmp_path):
    r = invoke(["study", "run", "s2-distortions-ssd", "--condition", "no-such-condition", "--out", tmp_path / "o"])
    assert r.exit_code == 2 and "no-such-condition" in r.output and "Traceback" not in r.output, r.output
    with pytest.raises(ConditionError, match="drop --condition"):
        load_study("s4-occlusion-fgnet").with_overrides(condition="demo")


def test_layer_settings_of_another_network_are_refused_naming_the_fix(tmp_path):
    """s3-layers-ssd's map_shapes name the SSD's m0..m5; a network splitting into other layers is refused
    before any job is planned (not a KeyError in a worker)."""
    s = load_study("s3-layers-ssd").with_overrides(task="toy-split")
    with pytest.raises(ConditionError, match=r"m0, m1.*splits into t0, t1, t2.*run it without --task"):
        build_jobs(s, [], tmp_path, {})
