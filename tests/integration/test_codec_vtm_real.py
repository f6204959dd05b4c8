"""With real VTM 12.0 binaries (VCMBENCH_VTM_DIR), re-encode a fixture's source and reproduce its bitstream."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from vcmbench.coding.codecs import EncodeSettings, get_codec
from vcmbench.coding.verify import verify_bitstream
from vcmbench.coding.yuv import YuvFormat

pytestmark = [pytest.mark.integration, pytest.mark.needs_vtm]


def _vtm_dir() -> str:
    d = os.environ.get("VCMBENCH_VTM_DIR")
    if not d or not any((Path(d) / n).is_file() for n in ("EncoderApp", "EncoderAppStatic", "bin/EncoderApp")):
        pytest.skip("no VTM 12.0 EncoderApp configured (set VCMBENCH_VTM_DIR to the folder holding it)")
    return d


def test_real_vtm_reproduces_the_fixture_bitstream(vtm_fixtures, tmp_path):
    """Golden source: fixtures/vtm12/manifest.json `bitstream_md5` (VTM 12.0, encoder_intra_vtm.cfg)."""
    vtm_dir = _vtm_dir()
    cfg = vtm_fixtures.parent / "encoder_intra_vtm_12.0.cfg"
    case = [c for c in json.loads((vtm_fixtures / "manifest.json").read_text())["cases"] if c["qp"] == 47][0]
    codec = get_codec("vtm", vtm_dir=vtm_dir, cfg=cfg)
    fmt = YuvFormat(case["width"], case["height"], case["chroma_format"], case["bit_depth"])
    out = tmp_path / case["bitstream"]
    res = codec.encode(vtm_fixtures / case["source"], out, EncodeSettings(case["qp"], fmt, sei_hash=True, timeout=900))
    assert hashlib.md5(out.read_bytes()).hexdigest() == case["bitstream_md5"]
    v = verify_bitstream(out, expected=fmt, md5=case["decoded_md5"], recon=res.recon, decoders=("vtm", "ffmpeg", "pyav"))
    assert v.ok, v.reason
