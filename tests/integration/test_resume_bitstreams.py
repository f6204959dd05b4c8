"""Issue 13: a resumed run re-checks each stored bitstream's size and SHA-256 before trusting its row; a deleted,
truncated or altered bitstream makes its job run again (not counted as cached)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli

pytestmark = pytest.mark.integration


def test_deleted_truncated_or_altered_bitstream_is_made_again(tmp_path):
    from vcmbench.tasks.ssd import check_weights_present

    ok, why = check_weights_present()
    if not ok:
        pytest.skip(f"SSD-MobileNetV2 weights absent: {why}")
    out = tmp_path / "run"
    args = ["run", "demo", "--qps", "47", "--scales", "100", "--limit", "1", "--jobs", "1", "--quiet", "--json",
            "--out", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    bs = out / "bitstreams" / "astronaut_s100_qp47.266"
    good = bs.read_bytes()
    rs = json.loads((out / "resultset.json").read_text())
    assert rs["points"][0]["bits"] == len(good) * 8

    def resume() -> dict:
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 0, r.output
        return json.loads(r.output)

    assert resume()["cached"] == 2  # intact: everything cached
    for damage in ("delete", "truncate", "alter"):
        if damage == "delete":
            bs.unlink()
        elif damage == "truncate":
            bs.write_bytes(good[:50])
        else:
            bs.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
        s = resume()
        assert s["cached"] == 1 and s["ran"] == 1, (damage, s)  # the reference job only is cached
        assert bs.read_bytes() == good
