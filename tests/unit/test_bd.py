"""Unit and property tests of the BD engine (vcmbench/bd.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcmbench import bd
from vcmbench.core.errors import BDError, RegistryError, UsageError

ANCHOR = [(1000.0, 32.0), (1800.0, 34.1), (3300.0, 36.3), (6000.0, 38.2), (11000.0, 40.0)]
TEST = [(900.0, 32.3), (1650.0, 34.4), (3000.0, 36.5), (5600.0, 38.5), (10500.0, 40.2)]


def _curve(draw_rates, draw_q):
    r = np.cumsum(draw_rates)
    q = np.cumsum(draw_q)
    return [(float(a), float(b)) for a, b in zip(r, q)]


curves = st.builds(
    _curve,
    st.lists(st.floats(0.05, 5.0), min_size=5, max_size=7),
    st.lists(st.floats(0.2, 3.0), min_size=5, max_size=7),
).filter(lambda c: len(c) >= 4)


def test_registry_lists_all_methods():
    assert bd.method_names() == ["akima", "cubic", "pchip", "pchip-jvet", "pchip-trapz"]
    with pytest.raises(RegistryError, match="Available: akima, cubic"):
        bd.compare(ANCHOR, TEST, "spline")


@pytest.mark.parametrize("method", bd.method_names())
def test_identical_curves_give_zero(method):
    res = bd.compare(ANCHOR, ANCHOR, method)
    assert res.bd_rate_pct == pytest.approx(0.0, abs=1e-12)
    assert res.bd_quality == pytest.approx(0.0, abs=1e-12)
    assert res.overlap == 1.0 and res.overlap_rate == 1.0


@settings(max_examples=25, deadline=None)
@given(curve=curves, k=st.floats(0.2, 5.0), method=st.sampled_from(bd.method_names()))
def test_scaling_test_rates_by_k_gives_k_minus_1(curve, k, method):
    scaled = [(r * k, q) for r, q in curve]
    assert bd.bd_rate(curve, scaled, method) == pytest.approx((k - 1.0) * 100.0, rel=1e-9, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(a=curves, shift=st.floats(-0.3, 0.3), stretch=st.floats(0.8, 1.25), method=st.sampled_from(bd.method_names()))
def test_swapping_anchor_and_test_inverts_the_ratio(a, shift, stretch, method):
    b = [(r * stretch, q + shift) for r, q in a]
    try:
        ab = bd.compare(a, b, method, min_overlap=0)
    except BDError:  # no overlap after the shift: must also be refused the other way round
        with pytest.raises(BDError):
            bd.compare(b, a, method)
        return
    ba = bd.compare(b, a, method, min_overlap=0)
    assert (1 + ab.bd_rate_pct / 100) * (1 + ba.bd_rate_pct / 100) == pytest.approx(1.0, rel=1e-9)
    if ab.bd_quality is None:  # rate ranges do not overlap: refused both ways, with a reason
        assert ba.bd_quality is None and "do not overlap" in ab.bd_quality_error
    else:
        assert ab.bd_quality == pytest.approx(-ba.bd_quality, abs=1e-9)
    assert ab.overlap == pytest.approx(ba.overlap)


def test_sign_convention_test_saving_rate_is_negative():
    res = bd.compare(ANCHOR, TEST)
    assert res.bd_rate_pct < 0 and res.bd_quality > 0
    assert res.method == "pchip-jvet" and res.signature_part == "pchip-jvet"


def test_order_of_points_does_not_matter():
    assert bd.bd_rate(ANCHOR[::-1], TEST) == bd.bd_rate(ANCHOR, TEST)


def test_identical_pairs_are_dropped_and_noted():
    res = bd.compare(ANCHOR + [ANCHOR[0]], TEST)
    assert res.points_anchor == 5
    assert any("identical duplicate" in n for n in res.notes)
    assert res.bd_rate_pct == bd.bd_rate(ANCHOR, TEST)


def test_duplicate_rate_with_different_quality_refused():
    with pytest.raises(BDError, match=r"same rate but different quality.*rate=1000"):
        bd.compare(ANCHOR + [(1000.0, 33.0)], TEST)


@pytest.mark.parametrize("bad", [0.0, -5.0])
def test_non_positive_rate_refused(bad):
    with pytest.raises(BDError, match="non-positive rate"):
        bd.compare(ANCHOR[:-1] + [(bad, 40.0)], TEST)


def test_non_finite_refused():
    with pytest.raises(BDError, match="not finite"):
        bd.compare(ANCHOR[:-1] + [(11000.0, math.nan)], TEST)


def test_too_few_points():
    with pytest.raises(BDError, match="3 usable point.*cubic needs at least 4"):
        bd.compare(ANCHOR[:3], TEST, "cubic")
    with pytest.raises(BDError, match="needs at least 3"):
        bd.compare(ANCHOR[:2], TEST, "pchip-jvet")
    with pytest.raises(BDError, match="no rate-quality points"):
        bd.compare([], TEST)


def test_flat_quality_is_non_monotonic():
    with pytest.raises(BDError, match="has the same quality"):
        bd.compare(ANCHOR + [(20000.0, 40.0)], TEST)


def test_no_overlap_refused_with_ranges():
    far = [(r, q + 50) for r, q in TEST]
    with pytest.raises(BDError, match=r"anchor \[32, 40\] and test \[82.3, 90.2\] do not overlap"):
        bd.compare(ANCHOR, far)


def test_small_overlap_warns():
    part = [(r, q + 6) for r, q in TEST]
    res = bd.compare(ANCHOR, part)
    assert res.overlap == pytest.approx((40.0 - 38.3) / (46.2 - 32.0))
    assert any("overlap only 12%" in w for w in res.warnings)
    assert not bd.compare(ANCHOR, TEST).warnings


NONMONO = [(1000.0, 0.40), (2000.0, 0.50), (4000.0, 0.47), (8000.0, 0.58), (16000.0, 0.57)]


def test_remedy_drop_nonmono():
    res = bd.compare(NONMONO, NONMONO, remedies=["drop-nonmono"])
    assert res.points_anchor == 3
    assert res.signature_part == "pchip-jvet+drop-nonmono"
    assert sum("drop-nonmono dropped" in n for n in res.notes) == 4  # 2 points x (anchor, test)
    assert [q for _, q in res.anchor_points] == [0.40, 0.50, 0.58]


def test_remedy_upper_hull():
    res = bd.compare(NONMONO, NONMONO, remedies=["upper-hull"])
    # hull in (log10 rate, mAP) from the lowest rate up to the best quality (8000, 0.58)
    assert [r for r, _ in res.anchor_points] == [1000.0, 2000.0, 8000.0]
    assert res.signature_part == "pchip-jvet+upper-hull"


def test_remedy_monotone_fit_pools_violators():
    curve = bd.clean_curve(NONMONO, "anchor", ["monotone-fit"])
    assert np.all(np.diff(curve.quality) > 0)
    assert curve.quality[1] == pytest.approx(0.485)
    assert curve.rate[1] == pytest.approx(math.sqrt(2000.0 * 4000.0))
    assert any("merged 2 points" in n for n in curve.notes)


def test_unknown_remedy_and_extension():
    with pytest.raises(UsageError, match="Unknown non-monotonicity remedy"):
        bd.compare(ANCHOR, TEST, remedies=["smooth"])
    with pytest.raises(UsageError, match="only for method pchip-jvet"):
        bd.compare(ANCHOR, TEST, "cubic", extend="both")
    with pytest.raises(UsageError, match="Unknown extension mode"):
        bd.compare(ANCHOR, TEST, extend="sideways")


def test_extension_modes_follow_the_vba():
    """bdRateExtend: Low/High/Both extend only when the ranges do not overlap; *Always always."""
    part = [(r, q + 6) for r, q in TEST]
    base = bd.compare(ANCHOR, part)
    assert bd.compare(ANCHOR, part, extend="both").bd_rate_pct == base.bd_rate_pct
    always = bd.compare(ANCHOR, part, extend="both-always")
    assert always.quality_range == (32.0, 46.2)
    assert always.signature_part == "pchip-jvet+ext-both-always"
    far = [(r, q + 10) for r, q in TEST]
    with pytest.raises(BDError):
        bd.compare(ANCHOR, far)
    bridged = bd.compare(ANCHOR, far, extend="both")
    assert bridged.quality_range == (32.0, 50.2) and bridged.bd_rate_pct < -90


def test_jvet_interior_slope_has_no_sign_test():
    """The VBA's harmonic slope is applied even when neighbouring secants differ in sign."""
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, 1.0, 0.5, 2.0])
    d = bd.jvet_slopes(x, y)
    expected = (3 * 1 + 3 * 1) / ((2 + 1) / 1.0 + (1 + 2) / -0.5)
    assert d[1] == pytest.approx(expected)  # scipy's pchip would set 0 here
    assert d[1] != 0


def test_result_to_dict_is_plain():
    d = bd.compare(ANCHOR, TEST).to_dict()
    assert d["method"] == "pchip-jvet" and isinstance(d["bd_rate_pct"], float)
    assert d["anchor_points"][0] == (1000.0, 32.0)
