"""Issue 24 audit: the cross-check package writes scales in percent (manifest version 2, ``scale_pct``;
claims ``scale_pct``), still reads version-1 packages (``scale`` as a fraction), and every report names
each point by its scale in percent and its QP (a QP column in the HTML, xlsx, JSON and terminal)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vcmbench.core.errors import DataError
from vcmbench.crosscheck import crosscheck, write_report
from vcmbench.crosscheck.claims import load_claims
from vcmbench.crosscheck.manifest import FORMAT_VERSION, item_scale, load_manifest, stated_bd_rates

from ._hostile import invoke

BITS = 6040 * 8  # texture_256x192_420_qp22.266 (shared/fixtures/vtm12/manifest.json: 6040 bytes)
BPP = BITS / (256 * 192)
ITEM = {"image": "astronaut", "qp": 22, "bitstream": "bitstreams/astronaut_s100_q22.266", "width": 256, "height": 192,
        "chroma_format": 420, "bit_depth": 10, "original_width": 256, "original_height": 192,
        "decoded_md5": "eeaa4f7235ecb45a611678cc27b17f67"}


def _package(d: Path, fixtures: Path, version: int) -> Path:
    (d / "bitstreams").mkdir(parents=True)
    shutil.copyfile(fixtures / "texture_256x192_420_qp22.266", d / ITEM["bitstream"])
    item = dict(ITEM, **({"scale_pct": 100} if version == 2 else {"scale": 1.0}))
    (d / "manifest.json").write_text(json.dumps({"vcmbench_crosscheck": version, "condition": "demo",
                                                 "items": [item]}))
    col, val = ("scale_pct", "100") if version == 2 else ("scale", "1.0")
    (d / "claims.csv").write_text(f"{col},qp,bits,bpp,AP\n{val},22,{BITS},{BPP!r},0.3\n")
    return d


def _accuracy(cond, items, data_dir, quality_key):
    return lambda group: 0.3


def test_version_1_and_2_packages_check_alike(tmp_path, vtm_fixtures):
    assert FORMAT_VERSION == 2
    res = {v: crosscheck(_package(tmp_path / f"v{v}", vtm_fixtures, v), accuracy_fn=_accuracy, decoders=["pyav"])
           for v in (1, 2)}
    for r in res.values():
        assert r.ok, r.to_dict()
    assert [(i.kind, i.name, i.status, i.scale, i.qp) for i in res[1].items] == \
           [(i.kind, i.name, i.status, i.scale, i.qp) for i in res[2].items]
    d = res[2].to_dict()
    points = [i for i in d["items"] if i["kind"] in ("bitstream", "bits", "bpp", "accuracy")]
    assert points and all(i["scale_pct"] == 100.0 and i["qp"] == 22 and "scale" not in i for i in points)
    assert {i["name"] for i in points} == {"astronaut scale 100 % QP 22", "scale 100 % QP 22"}


def test_reports_have_scale_and_qp_columns(tmp_path, vtm_fixtures):
    res = crosscheck(_package(tmp_path / "p", vtm_fixtures, 2), accuracy_fn=_accuracy, decoders=["pyav"])
    html = write_report(res, tmp_path / "r.html").read_text()
    assert "<th>scale</th><th>QP</th><th>status</th>" in html and '<td class="num">100 %</td>' in html
    from openpyxl import load_workbook

    ws = load_workbook(write_report(res, tmp_path / "r.xlsx"))["items"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("kind", "item", "scale (%)", "QP", "status")
    assert {(r[2], r[3]) for r in rows[1:] if r[0] == "bpp"} == {(100, 22)}
    r = invoke(["crosscheck", tmp_path / "p", "--decoder", "pyav", "--no-accuracy"])
    assert r.exit_code == 0, r.output
    header = next(line for line in r.output.splitlines() if line.startswith("kind"))
    assert header.split()[:5] == ["kind", "item", "scale", "QP", "status"]
    assert any(line.startswith("bpp") and " 100 %   22 " in line for line in r.output.splitlines()), r.output


def test_item_scale_reads_percent_and_fractions():
    assert item_scale({"scale_pct": 75}, "i") == 0.75
    assert item_scale({"scale_pct": "50 %"}, "i") == 0.5
    assert item_scale({"scale": 0.25}, "i") == 0.25
    assert item_scale({"scale": 75}, "i") == 0.75  # version 1 read 1-100 as percent
    assert item_scale({"scale": 0.5, "scale_pct": 50}, "i") == 0.5
    for bad, msg in (({"scale_pct": 0}, "outside"), ({"scale_pct": 150}, "outside"), ({"scale_pct": True}, "number"),
                     ({"scale": 0.5, "scale_pct": 75}, "disagree"), ({"scale_pct": "nan"}, "finite")):
        with pytest.raises(DataError, match=msg):
            item_scale(bad, "i")


@pytest.mark.parametrize("version", [0, 3, "2", True])
def test_unknown_manifest_versions_are_refused(tmp_path, version):
    (tmp_path / "manifest.json").write_text(json.dumps({"vcmbench_crosscheck": version,
                                                        "items": [dict(ITEM, scale_pct=100)]}))
    with pytest.raises(DataError, match="is not supported"):
        load_manifest(tmp_path)


def test_claims_scale_pct_column(tmp_path):
    p = tmp_path / "claims.csv"
    p.write_text("scale_pct,qp,bpp,AP\n100,22,0.5,0.3\n75,22,0.3,0.2\n")
    c = load_claims(p, "AP")
    assert [(r.scale, r.qp) for r in c.rows] == [(1.0, 22), (0.75, 22)]
    p.write_text("scale_pct,qp,bpp,AP\n0.75,22,0.5,0.3\n")  # percent column: 0.75 means 0.75 %
    assert load_claims(p, "AP").rows[0].scale == pytest.approx(0.0075)
    p.write_text("scale_pct,qp,bpp,AP\n175,22,0.5,0.3\n")
    with pytest.raises(DataError, match="outside"):
        load_claims(p, "AP")


def test_stated_bd_rate_keys_in_percent_or_fraction():
    assert stated_bd_rates({"claimed_bd_rate_pct": {"75": -3.0, "1.0": -2.0, "50 %": -1.0}}) == \
        {0.75: -3.0, 1.0: -2.0, 0.5: -1.0}
    assert stated_bd_rates({"claimed_bd_rate_pct": -4.0}) == {-1.0: -4.0}


def test_claims_csv_of_a_package_is_in_percent():
    from tests.unit._resultsets import make_anchor
    from vcmbench.crosscheck.build import _claims_csv

    lines = _claims_csv(make_anchor(), ["map50_oid"]).splitlines()
    assert lines[0] == "scale_pct,qp,bits,bpp,map50_oid"
    assert {line.split(",")[0] for line in lines[1:]} == {"100", "50"}
