"""Option values are validated at parse time (issue 13): ``--timeout 0`` reported a good stream
"not decodable" (exit 4) and ``--timeout nan|inf`` crashed; a missing bitstream exited 1."""

from __future__ import annotations

import click
import pytest

from vcmbench.cli.params import TIMEOUT, FiniteFloat, RegularFile

from ._hostile import invoke


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf", "abc", ""])
def test_timeout_must_be_finite_and_positive(value, vtm_fixtures):
    good = vtm_fixtures / "texture_256x192_420_qp22.266"
    r = invoke(["verify", good, "--timeout", value])
    assert r.exit_code == 2 and "--timeout" in r.output, r.output
    r = invoke(["conformance", "run", vtm_fixtures / "manifest.json", "--timeout", value])
    assert r.exit_code == 2 and "--timeout" in r.output, r.output


def test_missing_bitstream_is_bad_input(tmp_path):
    for cmd in (["verify"], ["bitstream", "info"]):
        r = invoke([*cmd, tmp_path / "missing.266"])
        assert r.exit_code == 2 and "does not exist" in r.output


@pytest.mark.parametrize("opt", [["--jobs", "0"], ["--jobs", "-3"], ["--limit", "0"]])
def test_counts_must_be_positive(opt, tmp_path):
    r = invoke(["run", "demo", "--out", tmp_path / "r", *opt])
    assert r.exit_code == 2 and opt[0] in r.output and not (tmp_path / "r").exists()


def test_bdrate_scale_and_overlap_ranges(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("bpp,mAP\n0.1,0.5\n0.2,0.6\n0.3,0.7\n0.4,0.8\n")
    # scales are percent (BRIEF.md grammar): 75 is valid, a fraction or over 100 is refused
    for opt in (["--scale", "nan"], ["--scale", "0.75"], ["--scale", "150"], ["--min-overlap", "inf"], ["--min-overlap", "-1"]):
        r = invoke(["bdrate", "--anchor", f, "--test", f, *opt])
        assert r.exit_code == 2 and opt[0] in r.output, (opt, r.output)


def test_param_types_directly(tmp_path):
    assert TIMEOUT.convert("2.5", None, None) == 2.5
    with pytest.raises(click.BadParameter, match="finite"):
        FiniteFloat(0, 1).convert("nan", None, None)
    with pytest.raises(click.BadParameter, match=r"outside \(0, 1\]"):
        FiniteFloat(0, 1, min_open=True).convert("0", None, None)
    with pytest.raises(click.BadParameter):
        RegularFile().convert(str(tmp_path), None, None)
