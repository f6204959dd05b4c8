"""The native JDE network's structure, split sets, weights checks and letterbox (no full forward pass:
the golden test runs the network against the original implementation)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from vcmbench.core.errors import DataError, UsageError
from vcmbench.tasks.jde import layers as L

torch = pytest.importorskip("torch")


def test_layer_table_matches_the_cfg_structure():
    """Towards-Realtime-MOT @c2654cdd cfg/yolov3_1088x608.cfg: 116 layers, YOLO layers 85, 100, 115, the
    routes '-1, 61' (89) and '-1, 36' (104), 24-channel box convs 81/96/111, 512-channel embedding
    convs 83/98/113 reading routes of layers 79/94/109."""
    assert len(L.LAYERS) == 116
    assert L.YOLO_LAYERS == (85, 100, 115)
    assert L.LAYERS[89].inputs == (88, 61) and L.LAYERS[104].inputs == (103, 36)
    assert [L.LAYERS[i].kind for i in (4, 36, 61, 74)] == ["shortcut"] * 4
    for box, emb, src in ((81, 83, 79), (96, 98, 94), (111, 113, 109)):
        assert (L.LAYERS[box].cout, L.LAYERS[box].bn) == (24, False)
        assert (L.LAYERS[emb].cout, L.LAYERS[emb].k, L.LAYERS[emb].bn) == (512, 3, False)
        assert L.LAYERS[emb - 1].inputs == (src,)
    assert [L.LAYERS[i].anchor_mask for i in L.YOLO_LAYERS] == [(8, 9, 10, 11), (4, 5, 6, 7), (0, 1, 2, 3)]
    # 4 anchors x (19*34 + 38*68 + 76*136) rows: the count CompressAI-Vision's _jde_process asserts (54264)
    rows = sum(4 * L.output_shape(i)[1] * L.output_shape(i)[2] for i in L.YOLO_LAYERS)
    assert rows == 54264


def test_split_shapes_equal_the_reference_fpn_sizes():
    """CompressAI-Vision @31165daf data/mpeg-fcm/MPEGTVDTRACKING/fpn-sizes/TVD-01.json and
    data/mpeg-fcm/MPEGHIEVE/fpn-sizes/2.json ("fpn": layer -> [1, C, H, W])."""
    tvd = {36: (256, 76, 136), 61: (512, 38, 68), 74: (1024, 19, 34)}
    hieve = {105: (128, 76, 136), 90: (256, 38, 68), 75: (512, 19, 34)}
    for layer, shape in {**tvd, **hieve}.items():
        assert L.output_shape(layer) == shape
    assert L.SPLITS["tvd"] == (36, 61, 74) and L.SPLITS["hieve"] == (105, 90, 75)


def test_split_halves():
    # TVD: the back half reads the stage outputs 36 and 61 through routes 104 and 89
    back = L.needed(set(L.YOLO_LAYERS), set(L.SPLITS["tvd"]))
    assert min(back) == 75 and 89 in back and 104 in back
    # HiEve: the back half runs each head from its first conv; layer 79 is needed on both sides
    front = L.needed(set(L.SPLITS["hieve"]))
    back = L.needed(set(L.YOLO_LAYERS), set(L.SPLITS["hieve"]))
    assert 79 in front and 79 in back and 94 in front and 86 not in back and 101 not in back
    assert max(front) == 105 and 85 not in front and 100 not in front


def test_parse_split():
    assert L.parse_split("tvd") == (36, 61, 74)
    assert L.parse_split("HiEve") == (105, 90, 75)
    assert L.parse_split("36,61,74") == (36, 61, 74)
    assert L.parse_split([105, 90, 75]) == (105, 90, 75)
    for bad in ("nope", "61,74", "85,100,115", "36,36,74", "200"):
        with pytest.raises(UsageError):
            L.parse_split(bad)


def test_complexity_adds_up():
    from vcmbench.tasks.jde.complexity import count

    tvd, hieve = count(L.SPLITS["tvd"]), count(L.SPLITS["hieve"])
    assert tvd["front"]["macs"] > tvd["back"]["macs"] > 0
    # HiEve computes layers 76..79 and 91..94 in both halves (the front needs them for 90 and 105, the
    # back for the heads): the sum exceeds TVD's (no overlap) by exactly their cost
    twice = 19 * 34 * 2 * (512 * 1024 * 9 + 1024 * 512) + 38 * 68 * 2 * (256 * 512 * 9 + 512 * 256)
    assert hieve["front"]["macs"] + hieve["back"]["macs"] == tvd["front"]["macs"] + tvd["back"]["macs"] + twice


def test_letterbox_pads_a_4_3_frame_left_and_right():
    """JDE utils/datasets.letterbox: 480x360 -> ratio 608/360, resized 811x608, dw 138.5 -> left 138,
    right 139; borders cv2.copyMakeBorder value 127.5 (saturated to 128)."""
    from vcmbench.tasks.jde.post import letterbox

    img = np.full((360, 480, 3), 10, np.uint8)
    out = letterbox(img)
    assert out.shape == (608, 1088, 3)
    assert (out[:, :138] == 128).all() and (out[:, 138 + 811:] == 128).all()
    assert (out[:, 138:138 + 811] == 10).all()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """(state dict, checkpoint path) of the seed-0 weights, written once (about 240 MB)."""
    from vcmbench.tasks.jde.seeded import seeded_state, write_checkpoint

    state = seeded_state(0)
    return state, write_checkpoint(state, tmp_path_factory.mktemp("jde") / "w.pt")


def test_weights_missing_is_a_usage_error(monkeypatch):
    from vcmbench.tasks import get_task

    monkeypatch.delenv("VCMBENCH_JDE_WEIGHTS", raising=False)
    with pytest.raises(UsageError, match=r"--task-weights.*jde\.1088x608\.uncertainty\.pt|jde\.1088x608\.uncertainty\.pt.*--task-weights"):
        get_task("jde-1088x608")


def test_weights_checked_by_name_and_shape(seeded):
    from vcmbench.tasks.jde.weights import expected_shapes, read_state, validate_state

    state, path = seeded
    read = read_state(path)
    assert list(validate_state(read, "w.pt")) == list(expected_shapes())
    assert all(np.array_equal(read[k], state[k]) for k in ("module_list.0.conv_0.weight", "module_list.113.conv_113.bias"))
    s = dict(state)
    del s["module_list.83.conv_83.bias"]
    with pytest.raises(DataError, match=r"missing: module_list\.83\.conv_83\.bias"):
        validate_state(s, "w.pt")
    s = dict(state)
    s["module_list.81.conv_81.weight"] = np.zeros((30, 1024, 1, 1), np.float32)
    with pytest.raises(DataError, match=r"module_list\.81\.conv_81\.weight has shape \(30, 1024, 1, 1\), expected \(24, 1024, 1, 1\)"):
        validate_state(s, "w.pt")
    s = dict(state)
    s["module_list.7.conv_7.bias"] = np.zeros(128, np.float32)
    with pytest.raises(DataError, match=r"unexpected: module_list\.7\.conv_7\.bias"):
        validate_state(s, "w.pt")
    s = dict(state)
    s["classifier.weight"] = np.zeros((3, 512), np.float32)  # unused by inference (reference: strict=False)
    s["module_list.85.yolo_85.s_c"] = np.zeros(1, np.float32)
    s["module_list.0.batch_norm_0.num_batches_tracked"] = np.zeros((), np.int64)
    assert list(validate_state(s, "w.pt")) == list(expected_shapes())


def test_hostile_pickle_is_refused(tmp_path):
    from vcmbench.tasks.jde.weights import read_state

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    p = tmp_path / "evil.pt"
    torch.save({"model": Evil()}, p)
    with pytest.raises(DataError, match="was not loaded"):
        read_state(p)
    q = tmp_path / "plain.pkl"
    q.write_bytes(pickle.dumps({"model": {"a": 1}}))
    with pytest.raises(DataError):
        read_state(q)


def test_registered_and_described(seeded):
    from vcmbench.tasks import TASK_INFO, get_task, network_details, task_names

    path = seeded[1]
    assert "jde-1088x608" in task_names() and "split" in TASK_INFO["jde-1088x608"]
    net = get_task("jde-1088x608", weights=str(path), split="hieve")
    assert net.split_points == ("hieve", "tvd") and net.feature_layers == ("105", "90", "75")
    d = network_details(net)
    assert d["feature_layers"]["105"] == {"shape": [128, 76, 136], "range": None}
    assert d["complexity"]["front"]["macs"] > d["complexity"]["back"]["macs"] > 0
    sig = net.signature()
    assert sig.startswith("jde~1088x608#") and sig.endswith("~c0.5~n0.4~tb30~fr30~a200")
    t = net.new_tracker(50.0)  # the committee's runs keep the wrapper's frame_rate 30 at 50 fps
    assert (t.max_time_lost, t.conf_thres, t.min_box_area, t.embeddings) == (30, 0.5, 200.0, True)
    t = get_task("jde-1088x608", weights=str(path), track_frame_rate=None).new_tracker(50.0)
    assert t.max_time_lost == 50
    from vcmbench.core.hashing import file_digest

    assert file_digest(path, "sha256")[:12] in sig
    with pytest.raises(UsageError, match="missing"):
        net.detect_features({"105": np.zeros((128, 76, 136), np.float32)}, (640, 480))
    feats = {"105": np.zeros((128, 76, 136), np.float32), "90": np.zeros((256, 38, 68), np.float32),
             "75": np.zeros((512, 19, 32), np.float32)}
    with pytest.raises(DataError, match=r"75 \(512, 19, 32\) \(expected \(512, 19, 34\)\)"):
        net.detect_features(feats, (640, 480))


def test_tasks_json_details_need_no_weights():
    """What `vcmbench tasks --json` shows for jde-1088x608 (split sets, shapes, complexity) without a weights file."""
    from vcmbench.tasks.jde import static_details

    d = static_details()
    assert d["split_points"] == ["tvd", "hieve"]
    assert d["split_layers"] == {"tvd": [36, 61, 74], "hieve": [105, 90, 75]}
    assert d["feature_layers"]["tvd"]["74"]["shape"] == [1024, 19, 34]
    c = d["complexity"]["tvd"]
    assert c["input_pixels"] == 1088 * 608
    assert c["kmac_per_pixel"]["front"] == round(c["front"]["macs"] / (1088 * 608) / 1000, 3)
