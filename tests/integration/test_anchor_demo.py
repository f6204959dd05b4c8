"""`vcmbench anchors verify demo` end to end: re-runs the whole demo (minutes), compares with the
shipped demo anchor row by row (bits exact, accuracy within 1e-9), then changes one stored number
in a copy of the anchor and expects the regression exit code with a readable diff."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.core.resources import resource_dir

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_anchor_reproduces_and_a_changed_number_is_a_regression(tmp_path):
    shipped = resource_dir("anchors") / "demo.json"
    if not shipped.exists():
        pytest.skip("the demo anchor has not been generated yet (vcmbench anchors update demo --create ...)")
    work = tmp_path / "demo"
    r = CliRunner().invoke(cli, ["anchors", "verify", "demo", "--work-dir", str(work)])
    assert r.exit_code == 0, r.output
    assert r.output.count("PASS:") == 2
    store = tmp_path / "anchors"
    store.mkdir()
    d = json.loads(shipped.read_text())
    row = next(x for x in d["rows"] if x["metric"] == "bits")
    row["expected"] += 8
    (store / "demo.json").write_text(json.dumps(d))
    r = CliRunner().invoke(cli, ["anchors", "--anchors-dir", str(store), "verify", "demo", "--run", str(work)])
    assert r.exit_code == 3, r.output
    assert "REGRESSION: 1 of" in r.output and "DIFFERS" in r.output
    shutil.rmtree(work, ignore_errors=True)
