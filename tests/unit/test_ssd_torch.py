"""The TF graph reader and the PyTorch SSD-MobileNetV2-COCO: parsing, SAME padding, split, complexity."""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.core.errors import DataError
from vcmbench.tasks import get_task
from vcmbench.tasks.ssd_graph import same_pads
from vcmbench.tasks.tf_graph import graph_def_class, tensor_to_array


def _weights_or_skip():
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(why)


@pytest.fixture(scope="module")
def net():
    _weights_or_skip()
    return get_task("ssd-mobilenet-v2-coco", score_threshold=0.01, max_detections=100, threads=1)


def test_graphdef_messages_roundtrip_and_tensor_values():
    """Field numbers as tensorflow/core/framework/{graph,node_def,attr_value,tensor}.proto: a message built
    here, serialised and parsed back, gives the same values; a single float_val fills the shape (TF rule)."""
    G = graph_def_class()
    g = G()
    n = g.node.add(name="w", op="Const")
    t = n.attr["value"].tensor
    t.dtype = 1
    t.tensor_shape.dim.add(size=2)
    t.tensor_shape.dim.add(size=3)
    t.tensor_content = np.arange(6, dtype="<f4").tobytes()
    n2 = g.node.add(name="c", op="Const")
    t2 = n2.attr["value"].tensor
    t2.dtype = 1
    t2.tensor_shape.dim.add(size=4)
    t2.float_val.append(0.5)
    n3 = g.node.add(name="conv", op="Conv2D", input=["x", "w"])
    n3.attr["strides"].list.i.extend([1, 2, 2, 1])
    n3.attr["padding"].s = b"SAME"
    back = G()
    back.ParseFromString(g.SerializeToString())
    assert np.array_equal(tensor_to_array(back.node[0].attr["value"].tensor), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert tensor_to_array(back.node[1].attr["value"].tensor).tolist() == [0.5] * 4
    assert list(back.node[2].input) == ["x", "w"] and list(back.node[2].attr["strides"].list.i) == [1, 2, 2, 1]


def test_tf_graph_rejects_a_file_that_is_not_a_graph(tmp_path):
    from vcmbench.tasks.tf_graph import read_graph

    bad = tmp_path / "x.pb"
    bad.write_bytes(b"\xff\xff\xff\xff not a protobuf")
    with pytest.raises(DataError, match="GraphDef"):
        read_graph(bad)


def test_frozen_graph_constants():
    """Source: DESIGN.md 5.6 (measured when the .pb was first read): 2572 Const nodes, 16.88 M float parameters."""
    _weights_or_skip()
    from vcmbench.tasks.ssd import PB, model_dir
    from vcmbench.tasks.tf_graph import const_arrays, read_graph

    consts = const_arrays(read_graph(model_dir() / PB))
    assert len(consts) == 2572
    assert round(sum(a.size for a in consts.values() if a.dtype == np.float32) / 1e6, 2) == 16.88


@pytest.mark.parametrize("size,k,stride,pads", [(300, 3, 2, (0, 1)), (19, 3, 2, (1, 1)), (2, 3, 2, (0, 1)),
                                                 (1, 3, 1, (1, 1)), (150, 3, 1, (1, 1)), (10, 1, 1, (0, 0))])
def test_tf_same_padding(size, k, stride, pads):
    """Source: TensorFlow's SAME rule (tf.nn.convolution docs): out = ceil(in/stride),
    total = max((out-1)*stride + k - in, 0), floor half before, the rest after."""
    assert same_pads(size, k, stride) == pads


def test_features_compose_to_run_bit_for_bit(net, coco_tiny):
    from vcmbench.conditions.datasets import _sample_rgb, list_images, load_rgb

    images = [_sample_rgb("astronaut")]
    from vcmbench.conditions import load_condition

    images.append(load_rgb(list_images(load_condition("coco-tiny-cc-ssd"), coco_tiny)[0]))
    for rgb in images:
        feats = net.features(rgb)
        assert list(feats) == ["m0", "m1", "m2", "m3", "m4", "m5"]
        info = net.feature_info()
        for k, f in feats.items():
            assert f.dtype == np.float32 and list(f.shape) == info[k]["shape"]
            assert f.min() >= 0.0 and f.max() <= 6.0
        assert max(f.max() for f in feats.values()) == 6.0  # the clamp is reached: [0, 6] is not a loose bound
        assert min(f.min() for f in feats.values()) == 0.0
        a = net.head(feats, (rgb.shape[1], rgb.shape[0]))
        b = net.run(rgb)
        assert len(b) > 0 and a.labels == b.labels
        assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.scores, b.scores)
        assert np.array_equal(net.features(rgb)["m3"], feats["m3"])  # deterministic


def test_head_refuses_wrong_features(net):
    feats = {k: np.zeros(v["shape"], np.float32) for k, v in net.feature_info().items()}
    del feats["m2"]
    with pytest.raises(DataError, match="m2"):
        net.head(feats, (100, 100))
    feats["m2"] = np.zeros((3, 5, 5), np.float32)
    with pytest.raises(DataError, match="m2"):
        net.head(feats, (100, 100))


def _independent_complexity():
    """Parameters and MACs counted from the published architecture, not from the graph: MobileNetV2 1.0
    (Sandler et al. 2018, Table 2: t, c, n, s rows), cut after Conv_1 (1280); the SSD extra layers named in the
    TF OD API ssd_mobilenet_v2 feature extractor (1x1 256 / 3x3 s2 512, 128/256, 128/256, 64/128, depthwise
    3x3 then pointwise); 3x3 box predictors with 3, 6, 6, 6, 6, 6 anchors x (4 + 91 classes)."""
    params = macs = 0
    hw = 300

    def conv(cin, cout, k, stride=1, groups=1):
        nonlocal params, macs, hw
        hw = -(-hw // stride)
        params += cout * (cin // groups) * k * k + cout  # weights + (folded BatchNorm) bias
        macs += hw * hw * cout * (cin // groups) * k * k

    conv(3, 32, 3, 2)
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)]:
        for i in range(n):
            if t != 1:
                conv(cin, cin * t, 1)
            conv(cin * t, cin * t, 3, s if i == 0 else 1, groups=cin * t)
            conv(cin * t, c, 1)
            cin = c
    conv(320, 1280, 1)
    maps = [(576, 19), (1280, 10)]
    cin = 1280
    for mid, out in [(256, 512), (128, 256), (128, 256), (64, 128)]:
        conv(cin, mid, 1)
        conv(mid, mid, 3, 2, groups=mid)
        conv(mid, out, 1)
        maps.append((out, hw))
        cin = out
    front = (params, macs)
    back_p = back_m = 0
    for (c, s), a in zip(maps, [3, 6, 6, 6, 6, 6]):
        for per in (4, 91):
            back_p += a * per * c * 9 + a * per
            back_m += s * s * a * per * c * 9
    return front, (back_p, back_m), maps


def test_complexity_matches_the_published_architecture(net):
    (fp, fm), (bp, bm), maps = _independent_complexity()
    c = net.complexity()
    assert c == {"front": {"params": fp, "macs": fm}, "back": {"params": bp, "macs": bm}, "input_pixels": 90000}
    assert [tuple(v["shape"][:2]) for v in net.feature_info().values()] == maps
    assert all(v["range"] == [0.0, 6.0] for v in net.feature_info().values())


def test_tasks_json_publishes_split_features_and_complexity(net):
    import json

    from click.testing import CliRunner

    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, ["tasks", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    r = rows["ssd-mobilenet-v2-coco"]
    assert r["split_points"] == ["heads"] and r["feature_layers"] == net.feature_info()
    c = net.complexity()
    assert r["complexity"]["front"] == c["front"] and r["complexity"]["back"] == c["back"]
    assert r["complexity"]["kmac_per_pixel"]["front"] == round(c["front"]["macs"] / 90000 / 1000, 3)
    from vcmbench.tasks.ssd import opencv_dnn_available

    ok, why = opencv_dnn_available()
    cv = rows["ssd-mobilenet-v2-coco-opencv"]
    if ok:  # built: it publishes that it cannot split
        assert cv["available"] is True and cv["split_points"] == [] and cv["complexity"] is None
    else:  # OpenCV 5.1 and later: not built, listed as unavailable with the reason
        assert cv["available"] is False and cv["reason"] == why and "split_points" not in cv
