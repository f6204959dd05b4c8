"""The Cityscapes layout: listing (names, order, --limit, ground truth per image) and verify-data of gtFine
(the recorded count, each image's gtFine files, sizes), on the synthetic layout of tests/cityscapes_fixture.py."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from PIL import Image

from tests.cityscapes_fixture import image_id, synthetic_condition, write_cityscapes_layout
from vcmbench.conditions import load_condition, verify_data
from vcmbench.conditions.datasets import list_images
from vcmbench.conditions.verify_data import verify_images
from vcmbench.core.errors import ConditionError, DataError

pytest.importorskip("cityscapesscripts")
GT = "gtFine/val"


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("cs")
    return root, write_cityscapes_layout(root / "data", 3), synthetic_condition(root / "cond", 3)


@pytest.fixture
def data(layout, tmp_path):
    d = tmp_path / "data"
    shutil.copytree(layout[0] / "data", d)
    return d


def _checks(cond, d, checksums=None):
    return {c.role: c for c in verify_data(cond, d) + verify_images(cond, d, checksums)}


def test_listing_sorted_by_name_with_limit(layout):
    root, ids, cond_path = layout
    refs = list_images(load_condition("cityscapes-val-seg"), root / "data", 2)
    assert [r.image_id for r in refs] == ids[:2] == ["frankfurt_000000_000019", "lindau_000001_000056"]
    assert [r.eval_id for r in refs] == [1, 2] and all((r.width, r.height) == (512, 256) for r in refs)
    assert refs[1].path.endswith(f"leftImg8bit/val/lindau/{ids[1]}_leftImg8bit.png")
    assert len(list_images(load_condition(cond_path), root / "data")) == 3


def test_listing_refuses_an_image_without_ground_truth(data):
    (data / GT / "lindau" / f"{image_id(1)}_gtFine_instanceIds.png").unlink()
    cond = load_condition("cityscapes-val-seg")
    assert len(list_images(cond, data, 1)) == 1  # only the listed images need theirs
    with pytest.raises(DataError, match=f"{image_id(1)} has no ground truth .*gtFine.*verify-data"):
        list_images(cond, data, 2)


def test_listing_refuses_foreign_names_and_missing_folders(data, tmp_path):
    cond = load_condition("cityscapes-val-seg")
    shutil.copy(data / "leftImg8bit/val/frankfurt" / f"{image_id(0)}_leftImg8bit.png",
                data / "leftImg8bit/val/frankfurt/aachen_1_leftImg8bit.png")
    with pytest.raises(DataError, match="not named like a Cityscapes file"):
        list_images(cond, data)
    with pytest.raises(DataError, match="leftImg8bit/<split>"):
        list_images(cond, tmp_path)


def test_real_condition_refuses_a_synthetic_layout_with_its_count(layout):
    root, _, cond_path = layout
    checks = _checks(load_condition("cityscapes-val-seg"), root / "data")
    gt = checks["annotations.instances"]
    assert not gt.ok and (gt.expected_count, gt.actual_count) == (500, 3)
    assert "holds 3" in gt.message and "records 500" in gt.message and "rows: 3" in gt.message
    assert not checks["images"].ok and "records 500" in checks["images"].message
    ok = _checks(load_condition(cond_path), root / "data")  # the copy recording the layout's own count
    assert all(c.ok for c in ok.values()), ok
    assert "3 instanceIds files" in ok["annotations.instances"].message and "3 images" in ok["images"].message


def test_each_gtfine_problem_is_named(data, layout):
    cond = load_condition(layout[2])
    (data / GT / "frankfurt" / f"{image_id(0)}_gtFine_labelIds.png").unlink()
    poly = data / GT / "lindau" / f"{image_id(1)}_gtFine_polygons.json"
    poly.write_text(json.dumps({**json.loads(poly.read_text()), "imgWidth": 2048}))
    msg = _checks(cond, data)["annotations.instances"].message
    assert f"frankfurt/{image_id(0)}_gtFine_labelIds.png" in msg and "companion" in msg
    assert f"{image_id(1)} (instanceIds 512x256, labelIds 512x256, polygons 2048x256)" in msg


def test_images_and_gtfine_pair_up_with_equal_sizes(data, layout):
    cond = load_condition(layout[2])
    img = data / "leftImg8bit/val/munster" / f"{image_id(2)}_leftImg8bit.png"
    with Image.open(img) as im:
        im.resize((256, 128)).save(img)
    (data / "leftImg8bit/val/lindau" / f"{image_id(1)}_leftImg8bit.png").unlink()
    extra = data / "leftImg8bit/val/lindau/lindau_000099_000019_leftImg8bit.png"
    shutil.copy(img, extra)
    c = _checks(cond, data)["images"]
    assert not c.ok
    assert f"1 image(s) have no gtFine files in {data / GT} (e.g. lindau/lindau_000099_000019)" in c.message
    assert f"1 gtFine set(s) have no image in leftImg8bit/val (e.g. lindau/{image_id(1)})" in c.message
    assert f"{image_id(2)} (image 256x128, gtFine 512x256)" in c.message


def test_checksums(data, layout, tmp_path):
    import hashlib

    cond = load_condition(layout[2])
    imgs = sorted((data / "leftImg8bit/val").glob("*/*.png"))
    sums = tmp_path / "md5"
    sums.write_text("".join(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.parent.name}/{p.name}\n" for p in imgs))
    assert _checks(cond, data, sums)["images"].message.endswith("checksums match")
    sums.write_text(sums.read_text().replace(sums.read_text()[:32], "0" * 32, 1))
    c = _checks(cond, data, sums)["images"]
    assert not c.ok and "1 image checksum problem(s)" in c.message


def test_verify_data_cli(layout):
    from vcmbench.cli import cli

    root, _, cond_path = layout
    ok = CliRunner().invoke(cli, ["cttc", "verify-data", str(cond_path), "--data", str(root / "data")])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(cli, ["cttc", "verify-data", "cityscapes-val-seg", "--data", str(root / "data")])
    assert bad.exit_code == 4 and "records 500" in bad.output and "Traceback" not in bad.output


def test_run_accepts_cityscapes_and_checks_the_network():
    from vcmbench.run.pipeline import check_supported

    cond = load_condition("cityscapes-val-seg")
    check_supported(cond)  # cityscapes-ap is scored by the pipeline

    class Net:
        task_type, classes = "instance-segmentation", ("person", "car")

    check_supported(cond, Net())
    Net.task_type = "detection"
    with pytest.raises(ConditionError, match="scores instance masks"):
        check_supported(cond, Net())
    Net.task_type, Net.classes = "instance-segmentation", ("cat", "dog")
    with pytest.raises(ConditionError, match="none of the Cityscapes classes"):
        check_supported(cond, Net())
