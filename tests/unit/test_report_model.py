"""Report model: pairing result sets by condition, comparability, BD per scale."""

from __future__ import annotations

import pytest

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.core.errors import DataError, SignatureMismatch
from vcmbench.core.records import RatePoint
from vcmbench.report import build_report, pair_result_sets


def test_pairs_by_condition_and_computes_per_scale():
    a1, a2 = make_anchor("vcm-oiv6-det"), make_anchor("vcm-oiv6-seg")
    t1, t2 = make_test("vcm-oiv6-seg", rate_factor=0.8), make_test("vcm-oiv6-det", rate_factor=1.1)
    model = build_report([a1, a2], [t1, t2])
    assert [s.condition for s in model.sections] == ["vcm-oiv6-seg", "vcm-oiv6-det"]
    got = {(e.condition, e.scale): e.result.bd_rate_pct for e in model.entries}
    assert got == pytest.approx({("vcm-oiv6-seg", 1.0): -20.0, ("vcm-oiv6-seg", 0.5): -20.0,
                                 ("vcm-oiv6-det", 1.0): 10.0, ("vcm-oiv6-det", 0.5): 10.0})
    e = model.entries[0]
    assert "|scale:100|bd:pchip-jvet|anchor:vtm-12.0" in e.signature
    assert model.provenance["bd_method"] == "pchip-jvet"
    assert model.provenance["environment"]["vcmbench"]


def test_missing_and_duplicate_anchor():
    with pytest.raises(DataError, match="condition 'other'.*anchors cover \\['vcm-oiv6-det'\\]"):
        pair_result_sets([make_anchor()], [make_test("other")])
    with pytest.raises(DataError, match="Two anchor result sets"):
        pair_result_sets([make_anchor(), make_anchor()], [make_test()])
    with pytest.raises(DataError, match="No test result set"):
        pair_result_sets([make_anchor()], [])


def test_signature_mismatch_refused_or_forced_and_recorded():
    t = make_test(signature=make_test().signature.replace("map:oid", "map:coco"))
    with pytest.raises(SignatureMismatch, match="map: 'oid' vs 'coco'.*--force"):
        build_report([make_anchor()], [t])
    model = build_report([make_anchor()], [t], force=True)
    assert model.sections[0].forced == ["VVenC medium: map: 'oid' vs 'coco'"]
    assert any(w.startswith("FORCED") for w in model.warnings)
    assert all("|forced:map" in e.signature for e in model.entries)
    assert model.provenance["forced"]


def test_uncomputable_bd_is_an_entry_with_a_reason_not_nan():
    t = make_test()
    t.points = [p for p in t.points if p.scale == 1.0][:2] + [p for p in t.points if p.scale == 0.5]
    model = build_report([make_anchor()], [t], method="cubic")
    bad = next(e for e in model.entries if e.scale == 1.0)
    assert bad.result is None and "needs at least 4" in bad.error
    assert next(e for e in model.entries if e.scale == 0.5).ok
    assert any("BD not computed" in w for w in model.warnings)


def test_scales_without_anchor_are_skipped_with_warning():
    t = make_test()
    t.points.append(RatePoint(scale=0.25, qp=37, bits=10, pixels=100, bpp=0.1, accuracy={"map50_oid": 0.5}, images=1))
    model = build_report([make_anchor()], [t])
    assert sorted(e.scale for e in model.entries) == [0.5, 1.0]
    assert any("scale 25 % has no anchor points" in w for w in model.warnings)


def test_remedy_is_in_every_signature():
    model = build_report([make_anchor()], [make_test()], remedies=["upper-hull"])
    assert model.bd_signature_part == "pchip-jvet+upper-hull"
    assert all("bd:pchip-jvet+upper-hull" in e.signature for e in model.entries)


def test_malformed_test_signature_is_an_error_not_a_silent_blank():
    """A BD number must carry its provenance: a result set whose signature cannot be parsed is refused."""
    import pytest

    from vcmbench.core.errors import DataError
    from vcmbench.report.model import bd_signature

    assert bd_signature("cttc:demo@1", "pchip-jvet", 1.0, []).startswith("cttc:demo@1|scale:100|bd:pchip-jvet|")
    with pytest.raises(DataError, match="result set 'x' carries a malformed signature"):
        bd_signature("no-colon-here", "pchip-jvet", 1.0, [], source="result set 'x'")
