"""A bitstream that fails verification is stored and reported, not scored; `vcmbench run` exits 4."""

from __future__ import annotations

import json

import pytest


@pytest.mark.integration
def test_cli_run_exits_4_when_a_bitstream_does_not_verify(tmp_path, monkeypatch):
    """A failing verdict (forced) is stored and reported, the point shows it, and `run` exits 4."""
    from click.testing import CliRunner

    import vcmbench.coding.verify as verify
    import vcmbench.run.execute as execute
    from vcmbench.cli import cli
    from vcmbench.run.jobs import KIND_CODE

    real_verify, real_code_job = verify.verify_bitstream, execute.JOB_FUNCTIONS[KIND_CODE]

    def code_job(spec):
        return real_code_job(spec)

    def fake_verify(path, **kw):  # bitstreams are named <image>_s<scale>_qp<QP>.266
        v = real_verify(path, **kw)
        if path.stem.endswith("_qp47"):
            v.ok, v.reason = False, "hash mismatch: forced by the test"
        return v

    monkeypatch.setattr(verify, "verify_bitstream", fake_verify)
    monkeypatch.setitem(execute.JOB_FUNCTIONS, KIND_CODE, code_job)
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["run", "demo", "--qps", "42,47", "--scales", "100", "--limit", "1", "--preset",
                                   "faster", "--jobs", "1", "--quiet", "--out", str(out)])
    assert res.exit_code == 4, res.output
    rs = json.loads((out / "resultset.json").read_text())
    assert [p["qp"] for p in rs["points"]] == [42]  # the only image of QP 47 failed: no point
    assert any("QP 47: left out — no bitstream verified (hash mismatch: forced" in n for n in rs["notes"])
    res = CliRunner().invoke(cli, ["results", str(out)])
    assert res.exit_code == 0 and "QP 47: left out" in res.output
    # resuming (everything cached) still reports the stored negative verdict
    res = CliRunner().invoke(cli, ["run", "demo", "--qps", "42,47", "--scales", "100", "--limit", "1", "--preset",
                                   "faster", "--jobs", "1", "--quiet", "--out", str(out)])
    assert res.exit_code == 4 and "3 cached" in res.output and "1 not verified" in res.output, res.output
