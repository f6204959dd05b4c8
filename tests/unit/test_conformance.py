"""Conformance suites: the VTM 12.0 fixture manifest is a suite as it is; every decoder passes it;
an altered expected MD5 names the failing case; JSON / HTML / xlsx reports; exit code 4."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.coding.conformance import load_suite, run_suite, write_report
from vcmbench.core.errors import EXIT_NOT_VERIFIED, DataError, UsageError


@pytest.mark.parametrize("decoder", ["pyav", "ffmpeg"])
def test_fixture_manifest_passes(vtm_fixtures, decoder):
    """Golden source: fixtures/vtm12/manifest.json decoded MD5s (VTM 12.0 DecoderApp)."""
    rep = run_suite(vtm_fixtures / "manifest.json", decoder)
    assert rep.ok and rep.passed == len(rep.cases) == 5, [c.reason for c in rep.cases]
    assert rep.decoder_version.startswith(decoder)


def _altered(vtm_fixtures, tmp_path, index=2):
    m = json.loads((vtm_fixtures / "manifest.json").read_text())
    for c in m["cases"]:
        c["bitstream"] = str(vtm_fixtures / c["bitstream"])
    m["cases"][index]["decoded_md5"] = "0123456789abcdef0123456789abcdef"
    p = tmp_path / "suite.json"
    p.write_text(json.dumps(m))
    return p, m["cases"][index]["name"]


def test_altered_md5_names_the_failing_case(vtm_fixtures, tmp_path):
    suite, name = _altered(vtm_fixtures, tmp_path)
    rep = run_suite(suite, "pyav")
    assert not rep.ok and [c.name for c in rep.failing()] == [name]
    assert rep.failing()[0].reason.startswith("hash mismatch: decoded MD5")


def test_cli_conformance_run_and_reports(vtm_fixtures, tmp_path):
    r = CliRunner().invoke(cli, ["conformance", "run", str(vtm_fixtures / "manifest.json"), "--decoder", "pyav",
                                 "-o", str(tmp_path / "r.html"), "-o", str(tmp_path / "both.xlsx")])
    assert r.exit_code == 0, r.output
    assert "5/5 passed" in r.output
    assert (tmp_path / "both.xlsx").stat().st_size > 0  # every -o is kept
    html = (tmp_path / "r.html").read_text()
    assert html.count("PASS</td>") == 5 and "<script" not in html
    suite, name = _altered(vtm_fixtures, tmp_path, 0)
    r = CliRunner().invoke(cli, ["conformance", "run", str(suite), "--decoder", "ffmpeg", "--json",
                                 "-o", str(tmp_path / "r.xlsx")])
    assert r.exit_code == EXIT_NOT_VERIFIED
    d = json.loads(r.output[: r.output.rindex("}") + 1])
    assert d["passed"] == 4 and [c["name"] for c in d["cases"] if not c["ok"]] == [name]
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "r.xlsx").active
    verdicts = {row[0]: row[1] for row in ws.iter_rows(min_row=6, values_only=True)}
    assert verdicts[name] == "FAIL" and list(verdicts.values()).count("PASS") == 4


def test_command_template_decoder(vtm_fixtures, tmp_path):
    """Any decoder as a template: here the bundled FFmpeg writing raw native-format output."""
    import imageio_ffmpeg

    tmpl = f'"{imageio_ffmpeg.get_ffmpeg_exe()}" -v error -y -f vvc -i {{input}} -f rawvideo {{output}}'
    rep = run_suite(vtm_fixtures / "manifest.json", tmpl)
    assert rep.ok, [c.reason for c in rep.cases]
    with pytest.raises(UsageError, match="needs both"):
        run_suite(vtm_fixtures / "manifest.json", "mydecoder {input}")


def test_bad_suites_are_refused(tmp_path):
    p = tmp_path / "s.json"
    p.write_text('{"cases": [{"bitstream": "a.266"}]}')
    with pytest.raises(DataError, match="lacks"):
        load_suite(p)
    p.write_text('{"cases": []}')
    with pytest.raises(DataError, match="non-empty"):
        load_suite(p)
    p.write_text('{"cases": [{"name": "<img src=x onerror=alert(1)>", "bitstream": "missing.266", '
                 '"decoded_md5": "00", "width": 8, "height": 8, "chroma_format": 420, "bit_depth": 10}]}')
    rep = run_suite(p, "ffmpeg")
    assert not rep.ok and "missing" in rep.cases[0].reason
    write_report(rep, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    with pytest.raises(UsageError, match="Unknown report type"):
        write_report(rep, tmp_path / "r.pdf")
    write_report(rep, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["passed"] == 0
