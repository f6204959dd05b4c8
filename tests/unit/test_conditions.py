"""Test conditions as data: every shipped condition validates, and each validation error is reported
with its file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.conditions import (
    list_conditions,
    load_condition,
    resolve_path,
    validate_file,
    verify_data,
)
from vcmbench.core.errors import EXIT_NOT_VERIFIED, EXIT_USAGE, ConditionError

REPO = Path(__file__).resolve().parents[2]


def test_every_shipped_condition_validates():
    names = list_conditions()
    for required in ("vcm-oiv6-det", "vcm-oiv6-seg", "fcm-oiv6-det-player", "coco-val2017-det",
                     "coco-val2017-seg", "seed-sr-coco-train", "seed-sr-coco-test", "cityscapes-val-seg", "demo"):
        assert required in names
    for name in names:
        assert validate_file(resolve_path(name)) == [], name


def test_oiv6_detection_anchor_facts():
    """Facts from DESIGN.md 5.1 / the MPEG VCM CTC: QP ladder, scales, cfg md5, list checksum."""
    c = load_condition("vcm-oiv6-det")
    assert c.qps == [22, 27, 32, 37, 42, 47]
    assert c.scales == [1.0, 0.75, 0.5, 0.25]
    assert c.codec["cfg"]["md5"] == "1a36d5744bfdd4c5d6d1c8e6d237e19b"
    assert c.dataset["image_list"] == {"file": "detection_validation_input_5k.lst",
                                       "md5": "3b926ad6b9be4d4a226b1039a360dd36", "count": 5000}
    assert c.signature().get("cttc").startswith("vcm-oiv6-det@1#")
    assert c.data["base"] == "vcm-image-anchor-base"


def test_feature_anchor_and_seed_subsets(shared):
    f = load_condition("fcm-oiv6-det-player")
    assert f.qps == [35, 37, 39, 41, 43, 45] and f.codec["chroma_format"] == 400
    assert f.section("feature")["tiling"] == {"p2": [16, 16], "p3": [32, 8], "p4": [64, 4], "p5": [128, 2]}
    import json

    seed = json.loads((shared / "data" / "seed-coco-subsets.json").read_text())
    assert load_condition("seed-sr-coco-test").dataset["image_ids"] == seed["test_ids"]
    assert load_condition("seed-sr-coco-train").dataset["image_ids"] == seed["train_ids"]


def test_content_hash_follows_settings_not_prose(tmp_path):
    """The cttc signature part carries a hash of the settings: a changed QP ladder or threshold makes
    results incomparable even when the version was not bumped; a reworded description does not."""
    base = load_condition("demo")
    prose = load_condition(_demo(tmp_path, "demo", description="reworded", title="new title"))
    assert prose.signature().get("cttc") == base.signature().get("cttc")
    moved = load_condition(_demo(tmp_path, "demo", ground_truth__score_threshold=0.4))
    assert moved.signature().get("cttc") != base.signature().get("cttc")
    # CLI overrides are recorded in their own parts; the condition's hash stays that of the file
    assert base.with_overrides(qps=[22, 37]).signature().get("cttc") == base.signature().get("cttc")


def test_abstract_base_cannot_be_run():
    with pytest.raises(ConditionError, match="abstract"):
        load_condition("vcm-image-anchor-base")


def test_unknown_condition_lists_available():
    with pytest.raises(ConditionError, match="Available: .*vcm-oiv6-det"):
        load_condition("vcm-oiv6")


# --- each validation error, with its file and key ------------------------------------------------

def _write(tmp: Path, name: str, data: dict) -> Path:
    p = tmp / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _demo(tmp: Path, name: str = "mine", **changes) -> Path:
    data = yaml.safe_load((REPO / "cttc" / "demo.yaml").read_text())
    data["name"] = name
    for dotted, value in changes.items():
        obj = data
        keys = dotted.split("__")
        for k in keys[:-1]:
            obj = obj[k]
        obj[keys[-1]] = value
    return _write(tmp, name, data)


@pytest.mark.parametrize("changes, key, message", [
    ({"codec__qpz": [1]}, "codec.qpz", "unknown key"),
    ({"colour": "ctc"}, "colour", "unknown key"),
    ({"codec__qps": [22, 64]}, "codec.qps", "QP 64 is outside 0-63"),
    ({"codec__qps": [-1, 22]}, "codec.qps", "QP -1 is outside 0-63"),
    ({"codec__qps": [22, 27, 22]}, "codec.qps", "duplicate QP(s) [22]"),
    ({"codec__scales": [1.0, 75]}, "codec.scales", "scale 75 is outside (0, 1]"),
    ({"codec__scales": [0, 1.0]}, "codec.scales", "scale 0 is outside (0, 1]"),
    ({"codec__chroma_format": 400}, "codec.chroma_format", "image conditions code RGB pictures as 4:2:0"),
    ({"codec__input_bit_depth": 10, "codec__internal_bit_depth": 8}, "codec.input_bit_depth", "exceeds the internal bit depth"),
    ({"codec__cfg": {"file": "x.cfg", "md5": "1a36d5744bfdd4c5d6d1c8e6d237e19b"}}, "codec.cfg", "vvenc takes a preset"),
    ({"metric__quality_key": "map50"}, "metric.quality_key", "not produced by coco-ap"),
    ({"metric__iou_type": "segm"}, "metric.iou_type", "detection task produces boxes only"),
    ({"task__split_point": "fpn"}, "task.split_point", "image conditions run the whole network"),
])
def test_validation_errors_name_file_and_key(tmp_path, changes, key, message):
    path = _demo(tmp_path, **changes)
    issues = validate_file(path)
    assert any(i.key == key and message in i.message and i.file == str(path) for i in issues), issues


def test_malformed_checksum(tmp_path):
    data = yaml.safe_load((REPO / "cttc" / "vcm-oiv6-det.yaml").read_text())
    data["dataset"]["image_list"]["md5"] = "3B926AD6"  # short and upper case
    shutil.copy(REPO / "cttc" / "vcm-image-anchor-base.yaml", tmp_path)
    path = _write(tmp_path, "vcm-oiv6-det", data)
    issues = validate_file(path)
    assert [(i.key, i.message) for i in issues] == [
        ("dataset.image_list", "malformed checksum '3B926AD6': md5 must be 32 lowercase hex digits")]


def test_inheritance_cycle_and_depth(tmp_path):
    a = yaml.safe_load((REPO / "cttc" / "demo.yaml").read_text())
    _write(tmp_path, "a", {**a, "name": "a", "base": "b"})
    _write(tmp_path, "b", {**a, "name": "b", "base": "a"})
    issues = validate_file(tmp_path / "a.yaml")
    assert issues and issues[0].key == "base" and "cycle" in issues[0].message
    _write(tmp_path, "c", {**a, "name": "c", "base": "d"})
    _write(tmp_path, "d", {**a, "name": "d", "base": "e"})
    _write(tmp_path, "e", {**a, "name": "e"})
    issues = validate_file(tmp_path / "c.yaml")
    assert issues and issues[0].key == "base" and "depth > 1" in issues[0].message
    _write(tmp_path, "s", {**a, "name": "s", "base": "s"})
    assert "names itself" in validate_file(tmp_path / "s.yaml")[0].message


def test_inheritance_merges_sections(tmp_path):
    """A child replaces only the keys it names; lists are replaced, not appended."""
    shutil.copy(REPO / "cttc" / "vcm-image-anchor-base.yaml", tmp_path)
    child = yaml.safe_load((REPO / "cttc" / "vcm-oiv6-det.yaml").read_text())
    child["name"] = "child"
    child["codec"] = {"qps": [22, 37]}
    p = _write(tmp_path, "child", child)
    c = load_condition(p)
    assert c.qps == [22, 37] and c.scales == [1.0, 0.75, 0.5, 0.25]
    assert c.codec["cfg"]["md5"] == "1a36d5744bfdd4c5d6d1c8e6d237e19b"


def test_feature_tiling_must_cover_channels(tmp_path):
    data = yaml.safe_load((REPO / "cttc" / "fcm-oiv6-det-player.yaml").read_text())
    data["feature"]["tiling"]["p3"] = [32, 4]
    p = _write(tmp_path, "fcm-oiv6-det-player", data)
    issues = validate_file(p)
    assert [(i.key, i.message) for i in issues] == [
        ("feature.tiling.p3", "32 x 4 = 128 tiles, but the layer has 256 channels")]


def test_overrides_are_validated_and_recorded():
    c = load_condition("demo").with_overrides(qps=[22, 37], scales=[1.0])
    assert c.qps == [22, 37] and c.overrides == ("qps=22,37", "scales=1")
    with pytest.raises(ConditionError, match="QP 70 is outside"):
        load_condition("demo").with_overrides(qps=[70])


# --- verify-data --------------------------------------------------------------------------------

def test_verify_data_passes_on_shared_openimages(oid_dir):
    checks = verify_data(load_condition("vcm-oiv6-det"), oid_dir)
    assert [c.ok for c in checks] == [True, True, True, True]
    checks = verify_data(load_condition("vcm-oiv6-seg"), oid_dir)
    assert all(c.ok for c in checks)


def test_verify_data_names_the_changed_file(oid_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(oid_dir, data)
    f = data / "detection_validation_labels_5k.csv"
    lines = f.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace(",1", ",0")
    f.write_text("".join(lines))
    result = CliRunner().invoke(cli, ["cttc", "verify-data", "vcm-oiv6-det", "--data", str(data)])
    assert result.exit_code == EXIT_NOT_VERIFIED
    assert "detection_validation_labels_5k.csv: md5" in result.output
    assert "detection_validation_5k_bbox.csv" not in result.output.split("error:")[1]
    (data / "selected_classes.txt").unlink()
    result = CliRunner().invoke(cli, ["cttc", "verify-data", "vcm-oiv6-det", "--data", str(data)])
    assert "selected_classes.txt: missing" in result.output


# --- CLI ------------------------------------------------------------------------------------------

def test_cttc_cli_list_show_validate(tmp_path):
    r = CliRunner().invoke(cli, ["cttc", "list"])
    assert r.exit_code == 0 and "vcm-oiv6-det" in r.output
    import json

    r = CliRunner().invoke(cli, ["cttc", "show", "vcm-oiv6-det", "--json"])
    d = json.loads(r.output)
    assert d["codec"]["qps"] == [22, 27, 32, 37, 42, 47] and d["codec"]["scales"] == [1.0, 0.75, 0.5, 0.25]
    assert d["signature"].startswith("cttc:vcm-oiv6-det@1#")
    for name in list_conditions():
        if name != "vcm-image-anchor-base":
            assert CliRunner().invoke(cli, ["cttc", "show", name]).exit_code == 0, name
    assert CliRunner().invoke(cli, ["cttc", "validate"]).exit_code == 0
    bad = _demo(tmp_path, codec__qps=[22, 99])
    r = CliRunner().invoke(cli, ["cttc", "validate", str(bad)])
    assert r.exit_code == EXIT_USAGE and "codec.qps: QP 99 is outside 0-63" in r.output
    r = CliRunner().invoke(cli, ["cttc", "show", "nope"])
    assert r.exit_code == EXIT_USAGE and "Unknown condition 'nope'" in r.output


def test_condition_colour_modes_are_the_yuv_modes():
    from vcmbench.coding.yuv import MODES
    from vcmbench.conditions import COLOR_MODES

    assert COLOR_MODES == MODES
