"""Weights are data (issue 26): a model-zoo ``.pkl``, a torch checkpoint or restoration weights that would
run code are refused before anything runs, and say why; real model-zoo-shaped files still load."""

from __future__ import annotations

import builtins
import collections
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from vcmbench.core.errors import DataError
from vcmbench.core.safe_pickle import ALLOWED_GLOBALS, Refused, ZooUnpickler, _allowed, load_zoo_pickle


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: the file exists afterwards iff the code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def _evil(marker: Path) -> dict:
    return {"model": {"a": np.ones(2, np.float32), "b": _Payload(marker)}, "__author__": "x"}


def test_allowed_globals_are_exactly_the_table():
    assert set(ALLOWED_GLOBALS) == {f"{m}.{n}" for m, n in _allowed()}


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_model_zoo_pickle_that_would_run_code_is_refused(tmp_path, protocol):
    from vcmbench.tasks.rcnn.weights import read_state

    marker = tmp_path / "pwned"
    evil = tmp_path / "model_final_evil.pkl"
    evil.write_bytes(pickle.dumps(_evil(marker), protocol=protocol))
    with pytest.raises(DataError, match=r"was not loaded: it references (builtins|io)\.open, .*published model-zoo file"):
        read_state(evil)
    assert not marker.exists()


def test_payload_through_the_real_unpickler_would_run(tmp_path):
    """The payload above is live: plain pickle.load creates the file (so the refusal test can fail)."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Payload(marker))).close()
    assert marker.exists()


@pytest.mark.parametrize("name", ["os.system", "subprocess.run", "numpy.load", "numpy.core.multiarray.fromfile",
                                  "torch._utils._rebuild_tensor_v2", "builtins.eval"])
def test_names_outside_the_table_are_refused(name):
    module, attr = name.rsplit(".", 1)
    data = b"\x80\x02c" + f"{module}\n{attr}\n".encode() + b")R."
    with pytest.raises(Refused, match=name.replace(".", r"\.")):
        ZooUnpickler(io.BytesIO(data)).load()


def test_codecs_and_object_arrays_are_refused():
    bad_codec = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x04\x00\x00\x00zlib\x86R."
    with pytest.raises(Refused, match="zlib"):
        ZooUnpickler(io.BytesIO(bad_codec)).load()
    good_codec = bad_codec.replace(b"X\x04\x00\x00\x00zlib", b"X\x06\x00\x00\x00latin1")
    assert ZooUnpickler(io.BytesIO(good_codec)).load() == b"ab"
    objs = np.array([1, "x"], dtype=object)
    with pytest.raises(Refused, match="Python objects"):
        ZooUnpickler(io.BytesIO(pickle.dumps(objs, protocol=2))).load()


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_model_zoo_shaped_files_load_under_every_protocol(tmp_path, protocol):
    """Arrays, numpy scalars and an OrderedDict load; numpy 1.x's ``numpy.core`` names (the published
    zoo files') resolve to the same functions."""
    state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.int64(7), "h": np.ones(2, np.float16)}
    blob = pickle.dumps({"model": collections.OrderedDict(state), "__author__": "zoo"}, protocol=protocol)
    variants = [blob]
    if protocol <= 2:  # text GLOBAL opcodes: spell them as numpy 1.x did
        variants.append(blob.replace(b"numpy._core.", b"numpy.core."))
        assert variants[1] != blob
    for i, b in enumerate(variants):
        p = tmp_path / f"z{i}.pkl"
        p.write_bytes(b)
        out = load_zoo_pickle(p)
        assert np.array_equal(out["model"]["w"], state["w"]) and out["model"]["w"].dtype == np.float32
        assert out["model"]["n"] == 7 and out["__author__"] == "zoo"


def test_broken_files_are_unreadable_not_refused(tmp_path):
    """A truncated or foreign file is 'cannot read', not a refusal that blames code it does not hold."""
    from vcmbench.tasks.rcnn.weights import read_state

    (tmp_path / "cut.pkl").write_bytes(pickle.dumps({"model": {"a": np.ones(3)}})[:-20])
    (tmp_path / "junk.pth").write_bytes(b"junk")
    for name in ("cut.pkl", "junk.pth"):
        with pytest.raises(DataError, match="Cannot read weights file") as err:
            read_state(tmp_path / name)
        assert "was not loaded" not in str(err.value)


def test_seeded_weights_still_load(tmp_path):
    from vcmbench.tasks.rcnn import get_config
    from vcmbench.tasks.rcnn.seeded import seeded_state, write_model_zoo_pkl
    from vcmbench.tasks.rcnn.weights import read_state, validate_state

    cfg = get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x")
    state = seeded_state(cfg, 3)
    p = write_model_zoo_pkl(state, tmp_path / "seeded.pkl")
    got = validate_state(cfg, read_state(p), str(p))
    assert set(got) == set(state) and all(np.array_equal(got[k], state[k]) for k in state)


def test_torch_checkpoint_that_would_run_code_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    from vcmbench.tasks.rcnn.weights import read_state

    marker = tmp_path / "pwned"
    p = tmp_path / "model.pth"
    torch.save({"model": {"a": torch.ones(2)}, "x": _Payload(marker)}, str(p))
    with pytest.raises(DataError, match=r"was not loaded: it holds objects other than tensors.*state_dict"):
        read_state(p)
    assert not marker.exists()
    torch.save({"model": {"a": torch.ones(2)}}, str(p))
    assert np.array_equal(read_state(p)["a"], np.ones(2, np.float32))


def test_train_restore_checkpoint_that_would_run_code_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    from vcmbench.studies.train import train_restoration

    marker = tmp_path / "pwned"
    out = tmp_path / "restore"
    out.mkdir()
    torch.save({"settings": {}, "model": _Payload(marker)}, str(out / "checkpoint.pt"))
    images = [type("Im", (), {"digest": f"d{i}"})() for i in range(3)]
    with pytest.raises(DataError, match=r"Training checkpoint .*checkpoint\.pt was not loaded"):
        train_restoration(None, images, out, layers=["x"], holdout=1)
    assert not marker.exists()


def test_restoration_weights_that_would_run_code_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    from vcmbench.features.restoration import load_module

    marker = tmp_path / "pwned"
    p = tmp_path / "restoration.pt"
    torch.save({"c1.weight": _Payload(marker)}, str(p))
    with pytest.raises(DataError, match=r"Restoration weights .*restoration\.pt was not loaded"):
        load_module("vcmbench.features.restoration:ESPCN", p, {"scale": 2})
    assert not marker.exists()


def test_detectron2_checkpoint_reader(tmp_path):
    """detectron2 0.6 DetectionCheckpointer._load_file semantics, read safely (no detectron2 needed)."""
    from vcmbench.tasks.detectron2 import checkpoint_dict

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_evil(marker), protocol=2))
    with pytest.raises(DataError, match=r"(builtins|io)\.open"):
        checkpoint_dict(str(evil))
    assert not marker.exists()
    zoo = tmp_path / "zoo.pkl"
    zoo.write_bytes(pickle.dumps({"model": {"a": np.ones(1)}, "__author__": "Detectron2 Model Zoo"}))
    assert checkpoint_dict(str(zoo))["__author__"] == "Detectron2 Model Zoo"
    c2 = tmp_path / "c2.pkl"
    c2.write_bytes(pickle.dumps({"blobs": {"conv1_w": np.ones(1), "conv1_w_momentum": np.ones(1)}}))
    got = checkpoint_dict(str(c2))
    assert list(got["model"]) == ["conv1_w"] and got["matching_heuristics"] and got["__author__"] == "Caffe2"


def test_train_restore_resumes_from_its_own_checkpoint_with_weights_only(tmp_path):
    """The checkpoint train-restore writes (model, optimiser, RNG states, settings) loads under
    weights_only=True, so a resume continues where it stopped."""
    pytest.importorskip("torch")
    from vcmbench.studies.train import train_restoration

    class Task:
        def features(self, rgb):
            return {"a": rgb[:, :, :4].transpose(2, 0, 1).astype(np.float32)}

    images = [type("Im", (), {"digest": f"d{i}", "seed": i})() for i in range(3)]

    def load(im):
        return np.random.default_rng(im.seed).random((8, 8, 4)).astype(np.float32)

    out = tmp_path / "restore"
    first = train_restoration(Task(), images, out, layers=["a"], steps=2, batch=2, holdout=1, checkpoint_every=1,
                              load_rgb=load)
    done = []
    second = train_restoration(Task(), images, out, layers=["a"], steps=3, batch=2, holdout=1, checkpoint_every=1,
                               load_rgb=load, progress=lambda step, total, loss: done.append(step))
    assert first["steps"] == 2 and second["steps"] == 3 and done == [3]  # one step more, not three
    assert json.loads((out / "restoration.json").read_text())["network"] == "espcn"
