"""`vcmbench codecs` lists codecs and decoders with versions/signatures or the reason they are unavailable."""

from __future__ import annotations

import json

from click.testing import CliRunner

from vcmbench.cli import cli


def test_codecs_json(monkeypatch):
    monkeypatch.delenv("VCMBENCH_VTM_DIR", raising=False)
    r = CliRunner().invoke(cli, ["codecs", "--json"])
    assert r.exit_code == 0, r.output
    rows = {(d["kind"], d["name"]): d for d in json.loads(r.output)}
    assert rows[("codec", "vvenc")]["available"] and "#" in rows[("codec", "vvenc")]["signature"]
    assert rows[("decoder", "ffmpeg")]["available"] and rows[("decoder", "pyav")]["available"]
    assert not rows[("codec", "vtm")]["available"] and "VCMBENCH_VTM_DIR" in rows[("codec", "vtm")]["reason"]
    r = CliRunner().invoke(cli, ["codecs"])
    assert r.exit_code == 0 and "vvenc" in r.output and "{input}" in r.output
