"""Cross-check packages at CTC scale: limits sized from the manifest; conditions never opened as local paths."""

from __future__ import annotations

import json
import zipfile

import pytest

from vcmbench.crosscheck.package import Limits, PackageRefused, inspect_zip, manifest_sized_limits
from vcmbench.crosscheck.proponent import checked_condition


def _zip(path, declared: int, entries: int):
    items = [{"image": f"i{k}", "scale": 1.0, "qp": 22, "bitstream": f"bitstreams/i{k}_s100_q22.266"}
             for k in range(declared)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", json.dumps({"vcmbench_crosscheck": 1, "items": items}))
        for k in range(entries):
            zf.writestr(f"bitstreams/i{k}_s100_q22.266", b"")
    return path


def test_ctc_sized_package_accepted_and_bomb_refused_with_limit_named(tmp_path):
    small = Limits(max_entries=100, entries_slack=10)  # the defaults scaled down 200x, to keep the test quick
    big = _zip(tmp_path / "big.zip", declared=300, entries=300)
    limits = manifest_sized_limits(big, small)
    assert limits.max_entries == 310 and len(inspect_zip(big, limits)) == 301
    with pytest.raises(PackageRefused, match="limit max_entries = 100"):
        inspect_zip(big, small)  # unsized: refused
    assert Limits().sized_for(120000).max_entries == 121000  # a CTC package (~120,000 bitstreams)
    assert Limits().sized_for(120000).max_total == 120000 * 8 * 1024 ** 2
    bomb = _zip(tmp_path / "bomb.zip", declared=10, entries=300)
    with pytest.raises(PackageRefused, match="limit max_entries = 100"):
        inspect_zip(bomb, manifest_sized_limits(bomb, small))
    assert Limits().sized_for(10 ** 9).max_total == Limits().max_total_ceiling


@pytest.mark.parametrize("name", ["/dev/zero", "/etc/passwd", "../../etc/passwd.yaml", "/etc/x.yaml"])
def test_manifest_condition_is_never_a_local_path(tmp_path, name):
    with pytest.raises(PackageRefused):
        checked_condition(name, tmp_path, trusted=False)


def test_manifest_condition_shipped_name_or_file_inside_package(tmp_path):
    assert checked_condition("demo", tmp_path, trusted=False).condition.name == "demo"
    from vcmbench.conditions.load import resolve_path

    (tmp_path / "conds").mkdir()
    (tmp_path / "conds" / "coco-tiny-cc-ssd.yaml").write_text(resolve_path("coco-tiny-cc-ssd").read_text())
    c = checked_condition("conds/coco-tiny-cc-ssd.yaml", tmp_path, trusted=False)
    assert c.condition.name == "coco-tiny-cc-ssd" and c.source == "shipped" and c.file == "conds/coco-tiny-cc-ssd.yaml"
