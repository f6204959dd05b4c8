"""Signature, registry, result records, atomic writes, exit codes."""

from __future__ import annotations

import json
import os

import pytest

from vcmbench import RESULTS_VERSION
from vcmbench.core.errors import (
    EXIT_REGRESSION,
    EXIT_USAGE,
    AnchorMismatch,
    ConditionError,
    DataError,
    RegistryError,
    SignatureMismatch,
    UsageError,
)
from vcmbench.core.jsonio import atomic_write_text
from vcmbench.core.records import JobRecord, RatePoint, ResultSet, load_result_set
from vcmbench.core.registry import Registry
from vcmbench.core.signature import BD_COMPARABLE_PARTS, Signature


def test_signature_round_trip_and_replace():
    s = Signature.of(cttc="vcm-oiv6-det@1", codec="vtm-12.0#3f2a", qp="22-47").with_version()
    text = str(s)
    assert text == f"cttc:vcm-oiv6-det@1|codec:vtm-12.0#3f2a|qp:22-47|v:{RESULTS_VERSION}"
    assert Signature.parse(text) == s
    assert str(s.with_part("codec", "vvenc-1.15")).startswith("cttc:vcm-oiv6-det@1|codec:vvenc-1.15|")


def test_signature_mismatch_names_the_part():
    a = Signature.of(cttc="x@1", codec="vtm-12.0#aaaaaa", task="t", map="m")
    b = Signature.of(cttc="x@1", codec="vtm-12.0#bbbbbb", task="t", map="m")
    with pytest.raises(SignatureMismatch, match=r"codec: 'vtm-12.0#aaaaaa' vs 'vtm-12.0#bbbbbb'"):
        a.require_comparable(b)
    a.require_comparable(b, keys=BD_COMPARABLE_PARTS)  # codecs may differ between anchor and test


@pytest.mark.parametrize("bad", ["a|b", "with space", "", "x:y"])
def test_signature_refuses_bad_values(bad):
    with pytest.raises(UsageError):
        Signature.of(codec=bad)


def test_registry_refuses_duplicates_and_lists_available():
    reg: Registry[int] = Registry("codec", hint="vcmbench codecs")
    reg.register("vtm")(1)
    reg.add("vvenc", 2)
    with pytest.raises(RegistryError, match="Duplicate codec name 'vtm'"):
        reg.add("vtm", 3)
    with pytest.raises(RegistryError, match=r"Unknown codec 'vtm12'. Available: vtm, vvenc — see `vcmbench codecs`"):
        reg.get("vtm12")
    assert reg.names() == ["vtm", "vvenc"] and "vtm" in reg


def _rs() -> ResultSet:
    pts = [RatePoint(scale=1.0, qp=q, bits=b, pixels=1000, bpp=b / 1000, accuracy={"map50": a}, images=2)
           for q, b, a in [(22, 900, 0.8), (27, 500, 0.7)]]
    return ResultSet(condition="demo", codec="vvenc", label="anchor", quality_key="map50", points=pts,
                     signature="cttc:demo@1")


def test_result_set_round_trip(tmp_path):
    rs = _rs()
    rs.save(tmp_path / "resultset.json")
    back = load_result_set(tmp_path)
    assert back == rs
    assert back.rd_points() == [(0.9, 0.8), (0.5, 0.7)]
    job = JobRecord(job_id="k", image_id="i", scale=1.0, qp=22, width=4, height=4, coded_width=4, coded_height=4,
                    bits=8, verified=True, verdict="ok")
    assert JobRecord.from_dict(json.loads(json.dumps(job.to_dict()))) == job


def test_result_set_errors_are_clear(tmp_path):
    d = _rs().to_dict()
    d["schema_version"] = 99
    (tmp_path / "a.json").write_text(json.dumps(d))
    with pytest.raises(DataError, match="schema_version 99 is not supported"):
        load_result_set(tmp_path / "a.json")
    with pytest.raises(DataError, match="without resultset.json"):
        load_result_set(tmp_path)
    d = _rs().to_dict()
    d["bogus"] = 1
    (tmp_path / "b.json").write_text(json.dumps(d))
    with pytest.raises(DataError, match=r"unknown field\(s\) \['bogus'\]"):
        load_result_set(tmp_path / "b.json")
    rs = _rs()
    rs.quality_key = "AP"
    with pytest.raises(DataError, match="has no 'AP' accuracy"):
        rs.rd_points()


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    atomic_write_text(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_exit_codes_are_distinct():
    assert AnchorMismatch.exit_code == EXIT_REGRESSION == 3
    assert ConditionError.exit_code == EXIT_USAGE == 2


def test_atomic_write_gives_ordinary_permissions(tmp_path):
    """mkstemp creates 0600 files; results are shared, so they get what open() would give."""
    mask = os.umask(0o022)
    os.umask(mask)
    p = atomic_write_text(tmp_path / "r.json", "{}")
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask
