"""``vcmbench report`` end to end: result sets in; .docx, HTML and xlsx out, all or nothing;
LibreOffice converts all three (where it is installed)."""

from __future__ import annotations

import csv
import re
import subprocess
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import have_libreoffice
from tests.unit._resultsets import make_anchor, make_test
from vcmbench.cli import cli

pytestmark = pytest.mark.integration

META = """\
m_number: m70001
wg: 4
meeting: 151st MPEG meeting
location: Geneva, CH
dates: 2026-01-13/2026-01-17
title: Proposal X for VCM
purpose: Proposal
authors:
  - {name: A. Author, affiliation: Example University, email: a.author@example.org}
  - {name: B. Author, affiliation: Example Corp}
introduction: |
  Proposal X changes the in-loop filter.

  It is tested under the VCM CTC.
proposal: Adopt Proposal X into the VCM reference software.
conclusion: Proposal X saves rate on both tasks.
"""


@pytest.fixture
def rundirs(tmp_path):
    """Two conditions (datasets) with one anchor and one test each."""
    out = {}
    for cond in ("vcm-oiv6-det", "vcm-oiv6-seg"):
        a, t = tmp_path / "runs" / f"vtm-{cond}", tmp_path / "runs" / f"proposal-{cond}"
        a.mkdir(parents=True)
        t.mkdir(parents=True)
        make_anchor(cond).save(a / "resultset.json")
        make_test(cond, label="Proposal <b>X</b>", rate_factor=0.75 if cond.endswith("det") else 0.8).save(
            t / "resultset.json")
        out[cond] = (a, t)
    return out


def _report(tmp_path, rundirs, *extra, outputs=("r.docx", "r.html", "r.xlsx")):
    args = ["report"]
    for a, t in rundirs.values():
        args += ["--anchor", str(a), "--test", str(t)]
    paths = [tmp_path / "out" / o for o in outputs]
    for p in paths:
        args += ["-o", str(p)]
    return CliRunner().invoke(cli, args + list(extra)), paths


def _docx_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    return re.sub(r"<[^>]+>", " ", xml)


def test_report_docx_html_xlsx_with_meta(tmp_path, rundirs):
    meta = tmp_path / "meta.yaml"
    meta.write_text(META)
    res, (docx, html, xlsx) = _report(tmp_path, rundirs, "--meta", str(meta))
    assert res.exit_code == 0, res.output
    assert "-25.00 %" in res.stdout and "-20.00 %" in res.stdout and "placeholders" not in res.output
    text = html.read_text()
    dtext = _docx_text(docx)
    for t in (text, dtext):
        assert "ISO/IEC JTC 1/SC 29/WG 4" in t and "MPEG VIDEO CODING" in t and "MOVING PICTURES AND AUDIO" not in t
        assert "m70001" in t and "Geneva, CH" in t and "13–17 January 2026" in t and "Example University" in t
        assert "Adopt Proposal X" in t and "saves rate on both tasks" in t
        assert not re.search(r"\[(m-number|authors|dates|meeting|Introduction|Conclusion)", t, re.I)
        assert str(tmp_path) not in t and "/runs/anchor" not in t  # no local paths
        assert "{'" not in t and "{&#39;" not in t  # no dict reprs
    assert "Proposal &lt;b&gt;X&lt;/b&gt;" in text and "http://" not in text
    assert text.count("<svg") == 4  # one figure per condition and scale
    with zipfile.ZipFile(docx) as z:
        assert len([n for n in z.namelist() if n.startswith("word/media/")]) == 4
    ws = openpyxl.load_workbook(xlsx)["Summary"]
    rows = list(ws.iter_rows(values_only=True))
    head = rows.index(next(r for r in rows if r and r[0] == "Dataset"))
    data = [r for r in rows[head + 1:] if r and r[1] in ("vcm-oiv6-det", "vcm-oiv6-seg")]
    assert [(r[1], r[2]) for r in data] == [("vcm-oiv6-det", 100), ("vcm-oiv6-det", 50), ("vcm-oiv6-seg", 100),
                                            ("vcm-oiv6-seg", 50)]
    assert rows[head][6] == "BD-rate (%)" and [round(r[6], 6) for r in data] == [-25.0, -25.0, -20.0, -20.0]
    assert rows[head][8].startswith("EncT") and all(str(r[8]).startswith("='") for r in data)  # live time ratios
    assert not [r for r in rows if r and r[0] == "Overall"]  # no condition defines a mean over these rows
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == f"${head + 1}:${head + 1}"


def test_report_without_meta_keeps_named_placeholders(tmp_path, rundirs):
    res, (html,) = _report(tmp_path, rundirs, outputs=("r.html",))
    assert res.exit_code == 0, res.output
    assert "placeholders for m_number, meeting, location, dates, authors, introduction, conclusion" in res.stderr
    assert "[m-number]" in html.read_text()


def test_report_outputs_all_or_nothing(tmp_path, rundirs):
    blocker = tmp_path / "out"
    blocker.mkdir()
    (blocker / "file").write_text("x")
    res, paths = _report(tmp_path, rundirs, outputs=("r.html", "file/r.xlsx"))
    assert res.exit_code == 2, res.output
    assert "nothing was written" in res.output and "Traceback" not in res.output
    assert not (blocker / "r.html").exists() and not list(blocker.glob(".*.tmp"))


def test_report_bad_output_type_and_help(tmp_path, rundirs):
    res, _ = _report(tmp_path, rundirs, outputs=("r.pdf",))
    assert res.exit_code == 2 and "use a name ending in .xlsx, .html or .docx" in res.output
    res = CliRunner().invoke(cli, ["report", "--help"])
    assert "Example:\n    vcmbench report --anchor" in res.output


def _soffice(tmp_path, args):
    soffice = have_libreoffice()
    return subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.needs_libreoffice
def test_libreoffice_converts_all_three(tmp_path, rundirs):
    if not have_libreoffice():
        pytest.skip("LibreOffice (soffice) is not installed; install libreoffice-writer and libreoffice-calc to run this")
    meta = tmp_path / "meta.yaml"
    meta.write_text(META)
    res, (docx, html, xlsx) = _report(tmp_path, rundirs, "--meta", str(meta))
    assert res.exit_code == 0, res.output
    pdf = tmp_path / "pdf"
    for src in (docx, xlsx):
        proc = _soffice(tmp_path, ["--convert-to", "pdf", "--outdir", str(pdf), str(src)])
        assert proc.returncode == 0 and "Error" not in proc.stderr, proc.stderr
        assert (pdf / f"{src.stem}.pdf").stat().st_size > 1000
    proc = _soffice(tmp_path, ["--convert-to", "pdf:writer_web_pdf_Export", "--outdir", str(tmp_path / "hpdf"),
                               str(html)])
    assert proc.returncode == 0 and "Error" not in proc.stderr, proc.stderr
    assert (tmp_path / "hpdf" / "r.pdf").stat().st_size > 1000
    # xlsx formulas recalculated by LibreOffice give the values the workbook stores (what pandas reads)
    outdir = tmp_path / "csv"
    proc = _soffice(tmp_path, ["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,"
                               "false,-1", "--outdir", str(outdir), str(xlsx)])
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader((outdir / "r-Summary.csv").read_text().splitlines()))
    head = rows.index(next(r for r in rows if r and r[0] == "Dataset"))
    data = [r for r in rows[head + 1:] if r and r[1] == "vcm-oiv6-det"]
    assert data[0][6] == "-25.00" and data[0][8] == "100.0"  # BD-rate (%); EncT (%): equal encode times
    import pandas as pd

    stored = pd.read_excel(xlsx, sheet_name=None, header=None)
    for name, frame in stored.items():
        if name in ("Summary", "Provenance"):
            continue
        lo = list(csv.reader((outdir / f"r-{name}.csv").read_text().splitlines()))
        formulas = openpyxl.load_workbook(xlsx)[name]
        cells = [c for row in formulas.iter_rows() for c in row if c.data_type == "f"]
        assert cells
        for c in cells:  # LibreOffice's result, shown with the cell's decimals, is the stored value rounded
            got, want = lo[c.row - 1][c.column - 1], frame.iat[c.row - 1, c.column - 1]
            decimals = len(c.number_format.split(".")[1]) if "." in c.number_format else 0
            assert abs(float(got) - want) <= 0.5 * 10 ** -decimals * (1 + 1e-9), (name, c.coordinate, got, want)


@pytest.mark.needs_libreoffice
def test_docx_renders_to_a4_with_tables_in_width_and_captions_with_their_figures(tmp_path, rundirs):
    """Issue 24's done-when check on the Word file: LibreOffice renders it to A4 pages, no word of any table
    outside the text width, every figure's caption on its picture's page, no table caption left alone."""
    from tests.integration.pdfcheck import have_poppler, problems

    if not have_libreoffice() or not have_poppler():
        pytest.skip("needs LibreOffice (soffice) and poppler-utils (pdftotext, pdfimages)")
    meta = tmp_path / "meta.yaml"
    meta.write_text(META)
    res, (docx,) = _report(tmp_path, rundirs, "--meta", str(meta), outputs=("r.docx",))
    assert res.exit_code == 0, res.output
    proc = _soffice(tmp_path, ["--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(docx)])
    assert proc.returncode == 0, proc.stderr
    assert problems(tmp_path / "pdf" / "r.pdf") == []
