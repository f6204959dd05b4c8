"""Issue-24 audit items on the CLI side: one default decoder set for `run` and `crosscheck`, `report`
taking `--rate-col/--quality-col` like `bdrate`, scales in percent in the human and JSON outputs."""

from __future__ import annotations

import pytest


@pytest.fixture
def fake_vtm(tmp_path, monkeypatch):
    monkeypatch.delenv("VCMBENCH_VTM_DIR", raising=False)
    d = tmp_path / "vtm" / "bin"
    d.mkdir(parents=True)
    for app in ("Encoder", "Decoder"):
        p = d / f"{app}AppStatic"
        p.write_text(f"#!/bin/sh\necho 'VVCSoftware: VTM {app} Version 12.0 [Linux]'\n")
        p.chmod(0o755)
    return d


def test_crosscheck_decodes_with_the_decoders_of_run(fake_vtm, monkeypatch):
    from vcmbench.crosscheck.check import default_decoders as crosscheck_default
    from vcmbench.run.pipeline import default_decoders as run_default

    decs, note = crosscheck_default()
    assert decs == list(run_default("vvenc")) == ["pyav", "ffmpeg"]
    assert "VTM DecoderApp (the reference decoder) is not configured" in note
    monkeypatch.setenv("VCMBENCH_VTM_DIR", str(fake_vtm))
    decs, note = crosscheck_default()
    assert decs == list(run_default("vvenc")) == ["pyav", "ffmpeg", "vtm"]
    assert "VTM DecoderApp (the reference decoder)" in note and "not configured" not in note


def _csv(path, rates, kbps, maps, alts):
    rows = ["Dataset,qp,bpp,kbps,mAP,alt"] + [f"oiv6,{qp},{r},{k},{m},{a}" for qp, r, k, m, a in
                                       zip((22, 27, 32, 37), rates, kbps, maps, alts)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_report_takes_rate_col_and_quality_col_like_bdrate(tmp_path):
    import json

    from click.testing import CliRunner

    from vcmbench.cli import cli

    a = _csv(tmp_path / "a.csv", [0.1, 0.2, 0.4, 0.8], [90, 210, 380, 850], [0.50, 0.60, 0.70, 0.75],
             [0.30, 0.45, 0.52, 0.61])
    t = _csv(tmp_path / "t.csv", [0.09, 0.18, 0.37, 0.75], [85, 170, 390, 700], [0.51, 0.60, 0.71, 0.755],
             [0.31, 0.44, 0.55, 0.60])
    got = {}
    for cols in ([], ["--rate-col", "kbps", "--quality-col", "alt"]):
        bd = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t), "--json", *cols])
        assert bd.exit_code == 0, bd.output
        rep = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "--json",
                                       "-o", str(tmp_path / f"r{len(cols)}.xlsx"), *cols])
        assert rep.exit_code == 0, rep.output
        want = json.loads(bd.stdout)["results"][0]["bd"]["bd_rate_pct"]
        have = json.loads(rep.stdout)["results"][0]["bd"]["bd_rate_pct"]
        assert have == pytest.approx(want, abs=1e-9)
        got[bool(cols)] = have
    assert abs(got[True] - got[False]) > 1.0  # the columns were really used


def test_report_quality_col_on_result_sets(tmp_path):
    import json

    from click.testing import CliRunner

    from tests.unit._resultsets import make_anchor, make_test
    from vcmbench.cli import cli

    a = make_anchor().save(tmp_path / "a.json")
    t = make_test().save(tmp_path / "t.json")
    r = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "--quality-col", "nope",
                                 "-o", str(tmp_path / "r.xlsx")])
    assert r.exit_code == 2 and "has no accuracy 'nope'" in r.output and "--quality-col" in r.output
    r = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "--rate-col", "bits",
                                 "-o", str(tmp_path / "r.xlsx")])
    assert r.exit_code == 2 and "reported in bpp" in r.output
    r = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "--quality-col", "map50_oid",
                                 "--json", "-o", str(tmp_path / "r.xlsx")])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["results"]) == 2


def test_anchors_show_scales_in_percent():
    import json

    from click.testing import CliRunner

    from vcmbench.cli import cli

    r = CliRunner().invoke(cli, ["anchors", "show", "demo"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("vvenc-")]
    assert rows and {tuple(x[1:3]) for x in rows} == {("100", "%"), ("75", "%")}
    d = json.loads(CliRunner().invoke(cli, ["anchors", "show", "demo", "--json"]).stdout)
    assert {(row["scale"], row["scale_pct"]) for row in d["rows"]} == {(1.0, 100.0), (0.75, 75.0)}


def test_anchor_comparison_rows_name_the_scale_in_percent():
    from vcmbench.anchors import compare, load_anchor
    from vcmbench.core.records import RatePoint, ResultSet

    a = load_anchor("demo")
    rs = ResultSet(condition="demo", codec="vvenc", label="vvenc-faster", quality_key="AP", signature=a.signature,
                   points=[RatePoint(scale=1.0, qp=22, bits=1, pixels=1, bpp=1.0, accuracy={"AP": 0.9}, images=1)])
    c = compare(a, rs, "vvenc-faster")
    rows = c.to_dict()["rows"]
    assert {r["scale_pct"] for r in rows} == {100.0, 75.0}
    missing = [r for r in rows if r["status"] == "missing"]
    assert missing and "the run has no point at scale 75 %, QP 22" in {r["detail"] for r in missing}


def test_cttc_show_and_list_give_scales_in_percent():
    import json

    from click.testing import CliRunner

    from vcmbench.cli import cli

    d = json.loads(CliRunner().invoke(cli, ["cttc", "show", "demo", "--json"]).stdout)
    assert d["codec"]["scales"] == [1.0, 0.75] and d["codec"]["scales_pct"] == [100.0, 75.0]
    text = CliRunner().invoke(cli, ["cttc", "show", "demo"]).stdout
    assert "# scales: 100 %, 75 %" in text
    rows = json.loads(CliRunner().invoke(cli, ["cttc", "list", "--json"]).stdout)
    demo = next(r for r in rows if r["name"] == "demo")
    assert demo["scales_pct"] == [100.0, 75.0]
    listed = CliRunner().invoke(cli, ["cttc", "list"]).stdout  # piped: every column, one line per condition
    assert any(line.startswith("demo ") and " 100,75 " in line for line in listed.splitlines()), listed
