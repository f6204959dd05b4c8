"""``vcmbench bdrate`` CLI tests (CliRunner)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.cli import cli

A = "bpp,mAP\n0.05,0.50\n0.1,0.60\n0.2,0.68\n0.4,0.72\n"
T = "bpp,mAP\n0.045,0.51\n0.09,0.61\n0.18,0.685\n0.36,0.725\n"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_help_has_example():
    res = CliRunner().invoke(cli, ["bdrate", "--help"])
    assert res.exit_code == 0
    assert "Example:\n    vcmbench bdrate --anchor" in res.output


def test_csv_default_columns_and_json(tmp_path):
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", _write(tmp_path, "a.csv", A),
                                   "--test", _write(tmp_path, "t.csv", T), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    (r,) = out["results"]
    assert r["method"] == "pchip-jvet" and r["bd"]["bd_rate_pct"] < 0
    assert r["signature"].startswith("bd:pchip-jvet|v:")
    assert out["rate"] == "bpp" and out["quality"] == "mAP"


def test_named_columns_and_tsv(tmp_path):
    text = "kbps\tPSNR\n" + "\n".join(f"{r}\t{q}" for r, q in [(100, 30), (200, 33), (400, 36), (800, 39)]) + "\n"
    p = _write(tmp_path, "a.tsv", text)
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", p, "--test", p, "--rate-col", "kbps", "--quality-col", "psnr"])
    assert res.exit_code == 0, res.output
    assert "+0.00 %" in res.stdout


def test_missing_column_names_the_fix(tmp_path):
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", _write(tmp_path, "a.csv", A),
                                   "--test", _write(tmp_path, "t.csv", T), "--quality-col", "AP"])
    assert res.exit_code == 2
    assert "no quality column 'AP'" in res.output and "--quality-col" in res.output


def test_non_monotonic_refused_exit_2_and_remedy(tmp_path):
    bad = "bpp,mAP\n0.05,0.50\n0.1,0.60\n0.2,0.68\n0.4,0.66\n"
    a, t = _write(tmp_path, "a.csv", bad), _write(tmp_path, "t.csv", T)
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", a, "--test", t])
    assert res.exit_code == 2
    assert "point (rate=0.4, quality=0.66)" in res.output
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", a, "--test", t, "--remedy", "drop-nonmono", "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)["results"][0]
    assert r["signature"].startswith("bd:pchip-jvet+drop-nonmono|")
    assert r["bd"]["points_anchor"] == 3


def test_cubic_with_too_few_points_in_comparison_exits_2_after_table(tmp_path):
    three = "bpp,mAP\n0.05,0.50\n0.1,0.60\n0.2,0.68\n"
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", _write(tmp_path, "a.csv", three),
                                   "--test", _write(tmp_path, "t.csv", T), "-m", "pchip-jvet", "-m", "cubic"])
    assert res.exit_code == 2
    assert "pchip-jvet" in res.stdout and "not computed" in res.stdout
    assert "cubic needs at least 4" in res.output


def test_unknown_method(tmp_path):
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", _write(tmp_path, "a.csv", A),
                                   "--test", _write(tmp_path, "t.csv", T), "-m", "spline"])
    assert res.exit_code == 2 and "Unknown BD method 'spline'" in res.output


def test_result_sets_per_scale_and_signature(tmp_path):
    a = make_anchor().save(tmp_path / "a.json")
    run = tmp_path / "run"
    run.mkdir()
    make_test().save(run / "resultset.json")
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(run), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["results"]
    assert [r["scale_pct"] for r in rows] == [100, 50]
    for r in rows:
        assert abs(r["bd"]["bd_rate_pct"] + 10.0) < 1e-9  # test rates are 0.9 x anchor
        assert "|bd:pchip-jvet" in r["signature"] and "cttc:vcm-oiv6-det@1" in r["signature"]
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(run), "--scale", "50", "--json"])
    assert [r["scale_pct"] for r in json.loads(res.stdout)["results"]] == [50]
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(run), "--scale", "0.5"])
    assert res.exit_code == 2 and "in percent" in res.output


def test_result_sets_with_differing_task_refused_unless_forced(tmp_path):
    a = make_anchor().save(tmp_path / "a.json")
    other = make_test(signature=make_test().signature.replace("task:frcnn-x101", "task:ssd-mnv2"))
    t = other.save(tmp_path / "t.json")
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t)])
    assert res.exit_code == 2
    assert "task: 'frcnn-x101' vs 'ssd-mnv2'" in res.output and "--force" in res.output
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t), "--force", "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)["results"][0]
    assert r["forced"] == ["task"] and "|forced:task" in r["signature"]
    assert "FORCED" in res.stderr


def test_results_csv_works_with_bdrate_defaults(tmp_path):
    """`results --csv` output is a valid `bdrate` input as it is (the quality_key column names the quality)."""
    for name, rs in (("a", make_anchor()), ("t", make_test())):
        (tmp_path / name).mkdir()
        rs.save(tmp_path / name / "resultset.json")
        r = CliRunner().invoke(cli, ["results", str(tmp_path / name), "--csv"])
        assert r.exit_code == 0, r.output
        (tmp_path / f"{name}.csv").write_text(r.stdout)
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.csv"), "--test", str(tmp_path / "t.csv"),
                                   "--scale", "75", "--json"])
    assert res.exit_code == 2 and "None of the requested scales" in res.output  # the sets have 100 % and 50 %
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.csv"), "--test", str(tmp_path / "t.csv"),
                                   "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["quality"] == "map50_oid" and [r["scale_pct"] for r in out["results"]] == [100, 50]
    assert all(abs(r["bd"]["bd_rate_pct"] + 10.0) < 1e-9 for r in out["results"])


def test_two_dataset_peer_csv_one_bd_per_dataset(tmp_path):
    """CompressAI-Vision final_OIV6.csv layout: one BD-rate per Dataset, never one pooled curve."""
    from tests.unit.test_report_inputs import _final_csv

    a = _final_csv(tmp_path / "final_OIV6_anchor.csv")
    t = _final_csv(tmp_path / "final_OIV6.csv", det_rate=0.9, seg_rate=0.8)
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(a), "--test", str(t)])
    assert res.exit_code == 0, res.output
    assert "mpeg-oiv6-detection" in res.stdout and "-10.00 %" in res.stdout
    assert "mpeg-oiv6-segmentation" in res.stdout and "-20.00 %" in res.stdout
    rep = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "-o", str(tmp_path / "r.xlsx"),
                                   "--json"])
    assert rep.exit_code == 0, rep.output
    got = {r["condition"]: round(r["bd"]["bd_rate_pct"], 6) for r in json.loads(rep.stdout)["results"]}
    assert got == {"mpeg-oiv6-detection": -10.0, "mpeg-oiv6-segmentation": -20.0}
