"""Golden BD vectors from ../shared/golden/bdrate_public.json (each test names its source)."""

from __future__ import annotations

import json

import pytest

from vcmbench import bd
from vcmbench.core.errors import BDError


def _vectors(path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}


def test_golden_file_has_only_known_vectors(golden_bd):
    """Every vector in the golden file is exercised by a test below (catches vectors added later)."""
    assert set(_vectors(golden_bd)) == {"G1_VCEG_M33_cubic", "G3_JCTVC_E137_pchip", "G4_JCTVC_E137_pchip",
                                        "G10_nonmonotonic_quality"}


def test_g1_vceg_m33_cubic(golden_bd):
    """Source: VCEG-M33 example data; expected values asserted in tbr/bjontegaard_cpp example.cpp
    (BD-rate -13.261773 %, BD-PSNR 0.800713 dB), tolerance 1e-6, method cubic."""
    v = _vectors(golden_bd)["G1_VCEG_M33_cubic"]
    res = bd.compare(v["anchor"], v["test"], "cubic")
    assert res.bd_rate_pct == pytest.approx(v["expected"]["bd_rate_pct"], abs=v["tolerance"])
    assert res.bd_quality == pytest.approx(v["expected"]["bd_psnr"], abs=v["tolerance"])


@pytest.mark.parametrize("key", ["G3_JCTVC_E137_pchip", "G4_JCTVC_E137_pchip"])
def test_jctvc_e137_pchip_jvet(golden_bd, key):
    """Source: JCTVC-E137 validation data as used by the Netflix vmaf bd_rate_calculator tests
    (published there as a fraction; here in percent), tolerance 1e-9, method = the JCTVC/JVET
    Excel VBA piecewise cubic, i.e. vcmbench's ``pchip-jvet``."""
    v = _vectors(golden_bd)[key]
    res = bd.compare(v["anchor"], v["test"], "pchip-jvet")
    assert res.bd_rate_pct == pytest.approx(v["expected"]["bd_rate_pct"], abs=v["tolerance"])
    assert res.points_anchor == 4 and res.points_test == 4
    assert res.overlap > 0.99 and not res.warnings


@pytest.mark.parametrize("key", ["G3_JCTVC_E137_pchip", "G4_JCTVC_E137_pchip"])
def test_jctvc_e137_scipy_pchip_equals_vba_for_monotone_data(golden_bd, key):
    """Source: JCTVC-E137 vectors (Netflix vmaf tests).  For monotone data scipy's PCHIP uses the
    same slopes as the VBA, so ``pchip`` must agree to rounding (1e-9 %)."""
    v = _vectors(golden_bd)[key]
    assert bd.bd_rate(v["anchor"], v["test"], "pchip") == pytest.approx(v["expected"]["bd_rate_pct"], abs=1e-9)


@pytest.mark.parametrize("method", bd.method_names())
def test_g10_nonmonotonic_refused_naming_the_point(golden_bd, method):
    """Source: Netflix vmaf calculate_bd_rate tests: a curve whose quality is not monotone in rate
    must be refused.  The message names the offending point (anchor rate 108048.8736, quality 39.6471)."""
    v = _vectors(golden_bd)["G10_nonmonotonic_quality"]
    assert v["expected"]["error"] == "non-monotonic"
    with pytest.raises(BDError) as exc:
        bd.compare(v["anchor"], v["test"], method)
    msg = str(exc.value)
    assert "not monotonic" in msg and "anchor" in msg
    assert "rate=108048.8736" in msg and "quality=39.6471" in msg
    assert "remedy" in msg
