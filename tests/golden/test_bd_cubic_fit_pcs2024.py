"""The cubic-fit-pcs2024 remedy against the reference implementation.

Source: InterDigitalInc/CompressAI-Vision, scripts/metrics/cubic_polynomial.py (fit_cubic) and
scripts/metrics/curve_fitting.py (convert_to_monotonic_points_SFU, non_mono_only=True,
perf_name="end_accuracy", rate_name="bitrate (kbps)"), run here with scipy 1.x on the table below;
the fitted values are the ones it wrote (to its column "ap", whatever perf_name says).
"""

from __future__ import annotations

import pytest

from vcmbench.bd import clean_curve, compare

POINTS = [(2000.0, 71.2), (1100.0, 71.9), (600.0, 70.1), (320.0, 66.3), (170.0, 60.2), (90.0, 50.5)]
REFERENCE_FIT = [71.7163871138865, 71.38435603324743, 69.91963873209974, 66.47211269367344, 60.25805881482759,
                 50.44960192642978]  # same order as POINTS


def test_fit_equals_reference_in_percent():
    got = dict(clean_curve(POINTS, "t", ("cubic-fit-pcs2024",)).as_pairs())
    assert [got[r] for r, _ in POINTS] == pytest.approx(REFERENCE_FIT, abs=1e-6)


def test_fit_of_fractions_is_the_percent_fit_scaled():
    got = dict(clean_curve([(r, q / 100) for r, q in POINTS], "t", ("cubic-fit-pcs2024",)).as_pairs())
    assert [got[r] * 100 for r, _ in POINTS] == pytest.approx(REFERENCE_FIT, abs=1e-3)


def test_monotone_curve_is_left_alone_and_named_in_signature():
    mono = [(r, q) for r, q in zip((90.0, 170.0, 320.0, 600.0), (50.0, 60.0, 66.0, 70.0))]
    assert clean_curve(mono, "a", ("cubic-fit-pcs2024",)).as_pairs() == mono
    res = compare(mono, POINTS, remedies=("cubic-fit-pcs2024",))
    assert res.signature_part == "pchip-jvet+cubic-fit-pcs2024"
    assert any("cubic-fit-pcs2024 replaced" in n for n in res.notes)
