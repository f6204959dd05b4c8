"""`cttc verify-data` checks the images too: folder, count, names, optional checksums."""

from __future__ import annotations

import hashlib
import shutil

from click.testing import CliRunner

from tests.conftest import shared_path
from vcmbench.cli import cli


def _copy(tmp_path, keep: int | None = None):
    src = shared_path("data", "coco-tiny-cc")
    d = tmp_path / "data"
    (d / "images").mkdir(parents=True)
    shutil.copy(src / "instances_val2017_cc.json", d)
    imgs = sorted((src / "images").iterdir())
    for p in imgs[:keep]:
        (d / "images" / p.name).symlink_to(p)
    return d, imgs


def test_images_present_with_checksums(tmp_path):
    d, imgs = _copy(tmp_path)
    sums = tmp_path / "md5sums.txt"
    sums.write_text("".join(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.name}\n" for p in imgs))
    r = CliRunner().invoke(cli, ["cttc", "verify-data", "coco-tiny-cc-ssd", "--data", str(d), "--checksums", str(sums)])
    assert r.exit_code == 0, r.output
    assert "ok: 22 images, checksums match" in r.output
    sums.write_text(sums.read_text().replace(sums.read_text()[:32], "0" * 32, 1))
    r = CliRunner().invoke(cli, ["cttc", "verify-data", "coco-tiny-cc-ssd", "--data", str(d), "--checksums", str(sums)])
    assert r.exit_code == 4 and "1 image checksum problem" in r.output


def test_missing_images_fail(tmp_path):
    d, _ = _copy(tmp_path, keep=20)
    r = CliRunner().invoke(cli, ["cttc", "verify-data", "coco-tiny-cc-ssd", "--data", str(d), "--json"])
    assert r.exit_code == 4
    assert "2 of 22 images named in instances_val2017_cc.json are missing" in r.output
    shutil.rmtree(d / "images")
    r = CliRunner().invoke(cli, ["cttc", "verify-data", "coco-tiny-cc-ssd", "--data", str(d)])
    assert r.exit_code == 4 and "images folder" in r.output
