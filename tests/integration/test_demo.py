"""`vcmbench demo`: runs from the registries alone and its reports carry the numbers of `vcmbench results`."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner


def _xlsx_rows(path):
    """(scale, qp) -> (bpp, quality, bits) for the anchor and the test columns of the condition sheet.

    Layout (report/xlsx.py): Dataset, Scale (%), then per set QP, Bits, Pixels, bpp (=Bits/Pixels, a formula),
    accuracy in percent, EncT, DecT (tests: + EncT/DecT ratios in percent)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[[n for n in wb.sheetnames if n not in ("Summary", "Provenance")][0]]
    anchor, test = {}, {}
    for row in ws.iter_rows(values_only=True):
        if len(row) >= 18 and isinstance(row[2], int) and isinstance(row[3], int) and isinstance(row[9], int):
            assert str(row[5]).startswith("=") and str(row[12]).startswith("=")  # live bpp formulas
            anchor[(row[1] / 100, row[2])] = (row[3] / row[4], row[6] / 100, row[3])
            test[(row[1] / 100, row[9])] = (row[10] / row[11], row[13] / 100, row[10])
    return anchor, test


def _results_json(run_dir):
    from vcmbench.cli import cli

    res = CliRunner().invoke(cli, ["results", str(run_dir), "--json"])
    assert res.exit_code == 0, res.output
    rs = json.loads(res.output)
    return {(p["scale"], p["qp"]): (p["bpp"], p["accuracy"][rs["quality_key"]], p["bits"]) for p in rs["points"]}, rs


def _check_reports_match_results(res):
    anchor_x, test_x = _xlsx_rows(res.xlsx)
    anchor_r, rs_a = _results_json(res.anchor_dir)
    test_r, rs_t = _results_json(res.test_dir)
    # the workbook holds the same numbers; its cells keep ~16 significant digits (the last binary digit of a
    # double may differ), hence the 1e-14 relative comparison — bits are exact
    for x, r in ((anchor_x, anchor_r), (test_x, test_r)):
        assert sorted(x) == sorted(r)
        for k in r:
            assert x[k][2] == r[k][2] and x[k][:2] == pytest.approx(r[k][:2], rel=1e-14, abs=0), k
    html = res.html.read_text(encoding="utf-8")
    for bpp, q, _ in list(anchor_r.values()) + list(test_r.values()):
        assert f">{bpp:.4f}</td>" in html and f">{q * 100:.3f}</td>" in html  # core.units: bpp 4, percent 3
    for rs in (rs_a, rs_t):
        assert "gt:reference-output" in rs["signature"] and any("reference-output" in n for n in rs["notes"])
        assert all(p["failed"] == 0 for p in rs["points"])


@pytest.mark.integration
def test_small_demo_writes_both_reports(tmp_path):
    from vcmbench.demo import run_demo

    res = run_demo(tmp_path / "demo", jobs=2, limit=2, qps=[22, 32, 42, 47], scales=[1.0])
    assert res.xlsx.is_file() and res.html.is_file() and res.docx.is_file()
    assert len(res.bd) == 1 and (res.bd[0]["bd_rate_pct"] is not None or res.bd[0]["error"])
    _check_reports_match_results(res)
    _check_readme_commands_reproduce_bd(res)


def _check_readme_commands_reproduce_bd(res):
    """The README's commands (section "The demo's numbers") give the demo's BD-rates, remedy named."""
    from pathlib import Path

    from vcmbench.cli import cli

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "vcmbench bdrate --anchor vcmbench-demo/anchor --test vcmbench-demo/test --remedy drop-nonmono" in readme
    html = res.html.read_text(encoding="utf-8")
    assert "drop-nonmono" in html  # the remedy is named in the report
    r = CliRunner().invoke(cli, ["bdrate", "--anchor", str(res.anchor_dir), "--test", str(res.test_dir),
                                 "--remedy", "drop-nonmono", "--json"])
    rows = json.loads(r.stdout)["results"]
    for e, row in zip(res.bd, rows):
        assert row["scale_pct"] == e["scale"] * 100
        if e["bd_rate_pct"] is None:
            assert row["error"] and r.exit_code == 2
        else:
            assert row["bd"]["bd_rate_pct"] == e["bd_rate_pct"] and row["bd"]["signature_part"] == "pchip-jvet+drop-nonmono"
    r = CliRunner().invoke(cli, ["report", "--anchor", str(res.anchor_dir), "--test", str(res.test_dir),
                                 "--remedy", "drop-nonmono", "-o", str(res.out_dir / "again.xlsx"), "--json"])
    again = json.loads(r.stdout)["results"]
    assert [a.get("bd", {}).get("bd_rate_pct") for a in again] == [e["bd_rate_pct"] for e in res.bd]


@pytest.mark.integration
@pytest.mark.slow
def test_full_demo_command_under_ten_minutes(tmp_path):
    """The README's first command: `vcmbench demo --out DIR` (2 cores: about 3 minutes measured)."""
    from vcmbench.cli import cli
    from vcmbench.demo import DemoResult

    out = tmp_path / "demo"
    t0 = time.monotonic()
    r = CliRunner().invoke(cli, ["demo", "--out", str(out), "--jobs", "2", "--quiet"])
    assert r.exit_code == 0, r.output
    assert time.monotonic() - t0 < 600
    assert f"xlsx report: {out / 'report.xlsx'}" in r.output and f"HTML report: {out / 'report.html'}" in r.output
    assert "BD-rate" in r.output
    _check_reports_match_results(DemoResult(out, out / "anchor", out / "test", out / "report.xlsx", out / "report.html"))
