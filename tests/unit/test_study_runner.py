"""Study data (cttc/studies), the resumable runner, the report writers and the `vcmbench study` CLI,
on a toy split network (tests/toy_split.py) and three coco-tiny-cc images."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml
from click.testing import CliRunner

import tests.toy_split  # noqa: F401  (registers toy-split)
from vcmbench.cli import cli
from vcmbench.core.errors import ConditionError
from vcmbench.studies.model import list_studies, load_study, validate_study
from vcmbench.studies.runner import read_results, run_study


def test_every_shipped_study_loads_with_its_published_figures():
    names = list_studies()
    assert {"s1-downscaled-ssd", "s2-distortions-ssd", "s3-layers-ssd", "s4-occlusion-coco-people"} <= set(names)
    for n in names:
        s = load_study(n)
        assert s.data["kind"] == "study" and len(s.content_hash) >= 6
        assert s.data["published"]["tables"], n
        assert str(s.signature()).startswith(f"study:{n}@{s.version}#{s.content_hash}")


def test_s2_published_table_is_the_seed_table():
    """Source: seed-tables.md S2 (Gaussian noise rows: "I σ=1 .653/31.33, .583/24.06, 33.2", columns
    SSIM/PSNR [F], then [I], then mAP), copied into the study as data in that order (every figure of every
    study: tests/unit/test_study_tables.py)."""
    s = load_study("s2-distortions-ssd")
    noise = next(t for t in s.data["published"]["tables"] if t["name"] == "Gaussian noise")
    assert noise["columns"][2:6] == ["SSIM [F]", "PSNR [F]", "SSIM [I]", "PSNR [I]"]
    assert noise["rows"][1] == ["image", 1, 0.653, 31.33, 0.583, 24.06, 33.2]
    assert noise["rows"][-1][-1] == 10.5


def test_invalid_study_is_refused(tmp_path):
    assert any("study 'bogus'" in i for i in validate_study({"study": "bogus"}, "x"))
    p = tmp_path / "bad.yaml"
    p.write_text("schema_version: 1\nkind: study\nname: bad\nversion: 1\nstudy: layers\ntitle: t\n", encoding="utf-8")
    with pytest.raises(ConditionError, match="required key 'settings'"):
        load_study(p)


def _toy_study(tmp_path, body: dict) -> str:
    data = {"schema_version": 1, "kind": "study", "name": "toy", "version": 1, "title": "toy study",
            "condition": "coco-tiny-cc-ssd", "task": {"network": "toy-split"},
            "published": {"source": "none", "tables": []}, "reproduced": "here", **body}
    p = tmp_path / "toy.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(p)


def test_layer_study_runs_resumes_and_reports(tmp_path, coco_tiny):
    path = _toy_study(tmp_path, {"study": "layers", "settings": {
        "map_shapes": {"t0": [4, 16, 16], "t1": [4, 8, 8], "t2": [4, 4, 4]}, "max_factors": {"t0": 4},
        "pairs": False,
        "reconstructions": [{"name": "t1 from t0", "rebuild": {"t1": {"down": "t0"}}},
                            {"name": "t1 mixed", "rebuild": {"t1": {"mix": ["t0", "t2"]}}, "a": [0.5]}]}})
    out = tmp_path / "out"
    s = load_study(path)
    res = run_study(s, coco_tiny, out, jobs=1, limit=2)
    # singles: t0 2, 4 (max_factors), t1 2..8 (3), t2 2..4 (2); rebuilds: 2; clean: 1 -> 10 variants x 2 images
    assert res["jobs"] == {"total": 20, "skipped": 0, "ran": 20}
    single = next(t for t in res["tables"] if t["name"] == "S3 one map degraded")
    assert [(r[0], r[1]) for r in single["rows"]] == [("t0", 2), ("t0", 4), ("t1", 2), ("t1", 4), ("t1", 8),
                                                       ("t2", 2), ("t2", 4)]
    rebuild = next(t for t in res["tables"] if t["name"] == "S3 reconstruction of unsent maps")
    assert rebuild["rows"][0][3] == pytest.approx((1024 + 256 + 64) / (1024 + 64))  # all maps / sent maps
    assert [r[2] for r in rebuild["rows"]] == [None, 0.5]  # the mix weight a
    for t in res["tables"]:  # the table contract: images and one interval (or null) per cell
        assert t["images"] == 2 and len(t["ci"]) == len(t["rows"])
        assert all(len(c) == len(r) for c, r in zip(t["ci"], t["rows"]))
    assert all(iv is None or iv[0] <= iv[1] for t in res["tables"] for c in t["ci"] for iv in c)
    assert all(iv is None for c in single["ci"] for iv in c[:2])  # map and factor: no interval
    assert res["plots"][0]["kind"] == "heatmap" and len(res["plots"][0]["cells"]) == 7
    # resume: nothing re-run, same numbers
    res2 = run_study(s, coco_tiny, out, jobs=1, limit=2)
    assert res2["jobs"]["skipped"] == 20 and res2["tables"] == res["tables"]
    # a killed run loses only what was in flight: drop rows and re-run
    db = sqlite3.connect(out / "results.sqlite")
    db.execute("DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs LIMIT 3)")
    db.commit()
    db.close()
    res3 = run_study(s, coco_tiny, out, jobs=1, limit=2)
    assert res3["jobs"]["ran"] == 3 and res3["tables"] == res["tables"]
    r = CliRunner().invoke(cli, ["study", "report", str(out), "-o", str(tmp_path / "s.xlsx"), "-o", str(tmp_path / "s.html")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "S3 one map degraded" in html and "toy study" in html
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "s.xlsx")
    assert "S3 one map degraded" in wb.sheetnames
    assert read_results(out)["study"] == "toy"


def test_distortion_study_on_toy_network(tmp_path, coco_tiny):
    path = _toy_study(tmp_path, {"study": "distortions", "settings": {
        "seeds": [1, 2], "distortions": [{"name": "noise", "strengths": [2, 20]}, {"name": "blur", "strengths": [2],
                                                                                     "feature_windows": [21, 5]}]}})
    res = run_study(load_study(path), coco_tiny, tmp_path / "o", jobs=1, limit=2)
    noise = next(t for t in res["tables"] if t["name"] == "S2 noise")
    img = [r for r in noise["rows"] if r[0] == "image"]
    assert [r[1] for r in img] == [2.0, 20.0]
    assert img[0][5] > img[1][5] and img[0][4] > img[1][4]  # PSNR [I], SSIM [I] fall with sigma
    assert all(r[8].count(":") == 2 for r in noise["rows"])  # the recorded seeds
    blur = next(t for t in res["tables"] if t["name"] == "S2 blur")
    assert {r[0] for r in blur["rows"]} == {"image", "feature", "feature (window 5)"}


def test_study_cli_list_show_and_errors(tmp_path):
    r = CliRunner().invoke(cli, ["study", "list", "--json"])
    assert r.exit_code == 0 and any(x["name"] == "s3-layers-ssd" for x in json.loads(r.output))
    r = CliRunner().invoke(cli, ["study", "show", "s1-downscaled-ssd"])
    assert r.exit_code == 0
    assert "50.31" in r.output and "Reproduced figures:" in r.output and "S1 rate and accuracy" in r.output
    r = CliRunner().invoke(cli, ["study", "show", "nope"])
    assert r.exit_code == 2 and "Unknown study" in r.output
    r = CliRunner().invoke(cli, ["study", "report", str(tmp_path), "-o", str(tmp_path / "x.html")])
    assert r.exit_code != 0 and "study-results.json" in r.output
    for sub in ("list", "show", "run", "report", "train-restore"):
        r = CliRunner().invoke(cli, ["study", sub, "--help"])
        assert r.exit_code == 0 and "Example" in r.output


def test_study_refuses_a_network_that_cannot_split(tmp_path, coco_tiny, monkeypatch):
    """Refused from the registry, before building the network (which needs OpenCV <= 5.0 here)."""
    from vcmbench.run import jobs

    monkeypatch.setattr(jobs, "_CACHE", {})
    path = _toy_study(tmp_path, {"study": "layers", "task": {"network": "ssd-mobilenet-v2-coco-opencv"},
                                 "settings": {"map_shapes": {"t0": [4, 16, 16]}}})
    r = CliRunner().invoke(cli, ["study", "run", path, "--data", str(coco_tiny), "--out", str(tmp_path / "o"), "-q"])
    assert r.exit_code == 2 and "split-capable" in r.output, r.output
    assert jobs._CACHE == {}  # nothing was built
