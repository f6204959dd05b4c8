"""``vcmbench report`` end to end: run directories in, xlsx + HTML out; LibreOffice opens the xlsx."""

from __future__ import annotations

import csv
import subprocess

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import have_libreoffice
from tests.unit._resultsets import make_anchor, make_test
from vcmbench.cli import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def rundirs(tmp_path):
    a, t = tmp_path / "runs" / "vtm", tmp_path / "runs" / "proposal"
    a.mkdir(parents=True)
    t.mkdir(parents=True)
    make_anchor().save(a / "resultset.json")
    make_test(label="Proposal <b>X</b>", rate_factor=0.75).save(t / "resultset.json")
    return a, t


def _report(tmp_path, rundirs, *extra):
    a, t = rundirs
    xlsx, html = tmp_path / "out" / "r.xlsx", tmp_path / "out" / "r.html"
    res = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "-o", str(xlsx), "-o", str(html),
                                   *extra])
    return res, xlsx, html


def test_report_writes_both_outputs(tmp_path, rundirs):
    res, xlsx, html = _report(tmp_path, rundirs, "--title", "Proposal X vs VTM")
    assert res.exit_code == 0, res.output
    assert "-25.00 %" in res.stdout and f"wrote {xlsx}" in res.stdout
    wb = openpyxl.load_workbook(xlsx)
    prov = [c for row in wb["Provenance"].iter_rows(values_only=True) for c in row if c]
    cmd = next(v for v in prov if isinstance(v, str) and v.startswith("vcmbench report --anchor"))
    assert "--title 'Proposal X vs VTM'" in cmd
    text = html.read_text()
    assert "Proposal X vs VTM" in text and "Proposal &lt;b&gt;X&lt;/b&gt;" in text
    assert "http://" not in text and "https://" not in text


def test_report_bad_output_type_and_help(tmp_path, rundirs):
    a, t = rundirs
    res = CliRunner().invoke(cli, ["report", "--anchor", str(a), "--test", str(t), "-o", str(tmp_path / "r.pdf")])
    assert res.exit_code == 2 and "use a name ending in .xlsx or .html" in res.output
    res = CliRunner().invoke(cli, ["report", "--help"])
    assert "Example:\n    vcmbench report --anchor" in res.output


@pytest.mark.needs_libreoffice
def test_xlsx_opens_in_libreoffice(tmp_path, rundirs):
    soffice = have_libreoffice()
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed; install libreoffice-calc to run this check")
    res, xlsx, _ = _report(tmp_path, rundirs)
    assert res.exit_code == 0, res.output
    outdir = tmp_path / "lo"
    # all sheets to CSV "as shown" (sheet index -1, LibreOffice >= 7.2); a private profile avoids clashing with other runs
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1", "--outdir", str(outdir),
         str(xlsx)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "could not be loaded" not in proc.stderr + proc.stdout
    summary = outdir / "r-Summary.csv"
    assert summary.exists(), (proc.stdout, proc.stderr, list(outdir.iterdir()) if outdir.exists() else None)
    rows = list(csv.reader(summary.read_text().splitlines()))
    data = [r for r in rows if r and r[0] == "vcm-oiv6-det"]
    assert len(data) == 2 and data[0][6] == "-25.00%"  # a number with the percent format applied
    assert (outdir / "r-vcm-oiv6-det.csv").exists() and (outdir / "r-Provenance.csv").exists()
