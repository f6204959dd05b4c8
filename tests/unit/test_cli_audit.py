"""Issue-24 audit items on the CLI side: one default decoder set for `run` and `crosscheck`, `report`
taking `--rate-col/--quality-col` like `bdrate`, scales in percent in the human and JSON outputs."""

from __future__ import annotations

import pytest


@pytest.fixture
def fake_vtm(tmp_path, monkeypatch):
    monkeypatch.delenv("VCMBENCH_VTM_DIR", raising=False)
    d = tmp_path / "vtm" / "bin"
    d.mkdir(parents=True)
    for app in ("Encoder", "Decoder"):
        p = d / f"{app}AppStatic"
        p.write_text(f"#!/bin/sh\necho 'VVCSoftware: VTM {app} Version 12.0 [Linux]'\n")
        p.chmod(0o755)
    return d


def test_crosscheck_decodes_with_the_decoders_of_run(fake_vtm, monkeypatch):
    from vcmbench.crosscheck.check import default_decoders as crosscheck_default
    from vcmbench.run.pipeline import default_decoders as run_default

    decs, note = crosscheck_default()
    assert decs == list(run_default("vvenc")) == ["pyav", "ffmpeg"]
    assert "VTM DecoderApp (the reference decoder) is not configured" in note
    monkeypatch.setenv("VCMBENCH_VTM_DIR", str(fake_vtm))
    decs, note = crosscheck_default()
    assert decs == list(run_default("vvenc")) == ["pyav", "ffmpeg", "vtm"]
    assert "VTM DecoderApp (the reference decoder)" in note and "not configured" not in note
