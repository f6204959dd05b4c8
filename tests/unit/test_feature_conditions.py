"""Feature conditions as data: the quantisation range, rounding, formula and header are condition fields;
the two public OIV6 feature settings are expressed as their scripts define them; tiling is checked
against each layer's channel count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from vcmbench.conditions import load_condition, validate_file
from vcmbench.conditions.schema import QUANT_FORMULAS, ROUNDINGS
from vcmbench.core.errors import ConditionError
from vcmbench.features.packing import FORMULAS
from vcmbench.features.packing import ROUNDINGS as PACK_ROUNDINGS

REPO = Path(__file__).resolve().parents[2]


def test_schema_and_packing_name_the_same_formulas():
    assert QUANT_FORMULAS == FORMULAS and ROUNDINGS == PACK_ROUNDINGS


def test_ee12_player_anchor_is_the_scripts():
    """MPEG-137 EE1.2 P-layer anchor scripts (commit 61ec265): quantizer.py _min -23.1728, _scale 23.4838
    (commented _max 20.3891); utils.py astype(np.uint16) truncation; demo.sh QPs 35..45; no side info."""
    f = load_condition("fcm-oiv6-det-player")
    feat = f.section("feature")
    assert f.version == 2 and f.qps == [35, 37, 39, 41, 43, 45] and f.codec["chroma_format"] == 400
    assert feat["quant_range"]["mode"] == "fixed"
    assert (feat["quant_range"]["min"], feat["quant_range"]["max"]) == (-23.1728, 20.3891)
    assert feat["quant_formula"] == "ee12-scale" and feat["quant_scale"] == 23.4838 and feat["rounding"] == "floor"
    assert feat["header"]["bits"] == 0 and f.section("rate")["side_info"] == "not-counted"
    assert "quantizer.py" in feat["quant_range"]["source"] and "utils.py" in feat["source"]


def test_compressai_vision_condition_is_its_code():
    """CompressAI-Vision (commit 31165da) codecs/utils.py MIN_MAX_DATASET['mpeg-oiv6-detection'] =
    (20.246625900268555, 28.397470474243164), min_max_normalization clamp + floor; std_codecs.py
    HeaderWriter: 1 + 2*4 + 4 + 2*4 = 21 bytes per one-frame image, in the counted bytes."""
    f = load_condition("fcm-oiv6-det-cav")
    feat = f.section("feature")
    assert (feat["quant_range"]["min"], feat["quant_range"]["max"]) == (20.246625900268555, 28.397470474243164)
    assert feat["quant_formula"] == "cav-minmax" and feat["rounding"] == "floor"
    assert feat["header"]["bits"] == 21 * 8 and f.section("rate")["side_info"] == "counted"
    assert "clamps every value below 20.2466" in feat["quant_range"]["source"]
    assert "ODD BUT REPRODUCED" in f.data["description"]


def test_ssd_feature_condition_tiles_every_map_into_one_picture():
    from vcmbench.features.packing import layout

    f = load_condition("coco-tiny-cc-ssd-features")
    feat = f.section("feature")
    shapes = {"m0": (576, 19, 19), "m1": (1280, 10, 10), "m2": (512, 5, 5), "m3": (256, 3, 3),
              "m4": (256, 2, 2), "m5": (128, 1, 1)}
    lay = layout(shapes, feat["tiling"], feat["coded_layers"])
    assert (lay.width, lay.height) == (640, 571)
    assert f.task["split_point"] == "heads" and f.codec["name"] == "vvenc"
    assert f.dataset == load_condition("coco-tiny-cc-ssd").dataset  # the image twin: same images
    assert load_condition("coco-tiny-cc-ssd-features-vtm").codec["name"] == "vtm"


def _feature_cond(tmp: Path, **feature) -> Path:
    data = yaml.safe_load((REPO / "cttc" / "coco-tiny-cc-ssd-features.yaml").read_text())
    data["name"] = "mine"
    data["feature"].update(feature)
    for k, v in list(data["feature"].items()):
        if v is None:
            del data["feature"][k]
    p = tmp / "mine.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


@pytest.mark.parametrize("changes, key, message", [
    ({"quant_range": "global-minmax"}, "feature.quant_range", "never measured over a run's images"),
    ({"quant_range": {"mode": "fixed", "min": 1, "max": 1, "source": "x"}}, "feature.quant_range", "must exceed"),
    ({"quant_range": {"mode": "fixed", "min": 0, "max": 6}}, "feature.quant_range", "missing 'source'"),
    ({"quant_range": {"mode": "per-image", "source": "x"}}, "feature.header", "per-image range is transmitted"),
    ({"rounding": "ceil"}, "feature.rounding", "is not one of"),
    ({"rounding": None}, "feature.rounding", "required key is missing"),
    ({"quant_scale": 2.0}, "feature.quant_scale", "belongs to quant_formula ee12-scale"),
    ({"tiling": {"m0": [24, 24], "m1": [64, 20], "m2": [128, 4], "m3": [128, 2], "m4": [256, 1], "m5": [64, 1]}},
     "feature.tiling.m5", "64 x 1 = 64 tiles, but the layer has 128 channels"),
])
def test_feature_validation_errors(tmp_path, changes, key, message):
    issues = validate_file(_feature_cond(tmp_path, **changes))
    assert any(i.key == key and message in i.message for i in issues), issues


class _Net:
    feature_layers = ("m0", "m1")
    split_points = ("heads",)

    def feature_info(self):
        return {"m0": {"shape": [576, 19, 19], "range": [0, 6]}, "m1": {"shape": None, "range": None}}


def test_plan_time_tiling_check_names_the_network_channels():
    from vcmbench.run.pipeline import check_tiling

    cond = load_condition("coco-tiny-cc-ssd-features")
    feature = {"layers": ["m0", "m1"], "tiling": {"m0": [24, 25], "m1": [64, 20]}}
    with pytest.raises(ConditionError, match="holds 600 tiles, but 'ssd-mobilenet-v2-coco' gives it 576 channels"):
        check_tiling(cond, _Net(), feature)
    check_tiling(cond, _Net(), {"layers": ["m0", "m1"], "tiling": {"m0": [24, 24], "m1": [1, 1]}})  # m1: no shape
    with pytest.raises(ConditionError, match="codes layer 'p2'"):
        check_tiling(cond, _Net(), {"layers": ["p2"], "tiling": {"p2": [16, 16]}})


def test_quantiser_formulas_and_rounding():
    from vcmbench.features.packing import Quantiser

    x = np.array([-1.0, 0.0, 0.0029, 0.003, 2.5, 6.0, 7.0], np.float32)
    r = Quantiser(0.0, 6.0, 10, "round").quantise(x)
    f = Quantiser(0.0, 6.0, 10, "floor").quantise(x)
    assert r.tolist() == [0, 0, 0, 1, 426, 1023, 1023]  # 0.003 * 1023 / 6 = 0.5115 -> 1; 2.5 -> 426.25
    assert f.tolist() == [0, 0, 0, 0, 426, 1023, 1023]
    with pytest.raises(Exception, match="empty"):
        Quantiser(1.0, 1.0)
    # the padding value is the code of 0.0, or 0 when 0.0 lies outside the range
    assert Quantiser(-1.0, 1.0).fill() == 512 and Quantiser(20.0, 28.0, formula="cav-minmax").fill() == 0
