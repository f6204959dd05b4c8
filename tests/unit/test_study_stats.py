"""studies.stats: the trend verdict on constructed cases (the rule of its docstring), and the resample
weights that reproduce bootstrap_interval's draws."""

from __future__ import annotations

import numpy as np
import pytest

from vcmbench.studies.stats import bootstrap_interval, percentile_interval, resample_weights, trend_verdict

PUB = [43.0, 41.6, 40.0]


def _iv(c, h=0.001):
    return [c - h, c + h]


def test_agreeing_separated_ordering_is_yes():
    rep = [0.30, 0.25, 0.20]
    v = trend_verdict(PUB, rep, [_iv(x) for x in rep])
    assert v == {"verdict": "yes", "claims": 3, "agree": 3, "disagree": 0, "separated": 3, "contradicted": 0}


def test_direction_does_not_matter_only_the_ordering():
    rep = [0.1, 0.2, 0.3]  # reversed
    assert trend_verdict(PUB, rep, [_iv(x) for x in rep])["verdict"] == "no"
    assert trend_verdict([1, 2, 3], rep, [_iv(x) for x in rep])["verdict"] == "yes"  # lower-is-better paper


def test_overlapping_intervals_are_not_significant():
    rep = [0.30, 0.25, 0.20]
    ivs = [_iv(0.30), _iv(0.25, 0.06), _iv(0.20)]  # the middle row overlaps both neighbours
    v = trend_verdict(PUB, rep, ivs)
    assert v["verdict"] == "not significant" and v["agree"] == 3 and v["separated"] == 1


def test_a_disagreement_inside_the_intervals_is_not_significant_one_outside_is_no():
    rep = [0.25, 0.30, 0.20]  # rows 0 and 1 swapped
    wide = [_iv(0.25, 0.03), _iv(0.30, 0.03), _iv(0.20)]
    v = trend_verdict(PUB, rep, wide)
    assert v["verdict"] == "not significant" and v["disagree"] == 1 and v["contradicted"] == 0
    v = trend_verdict(PUB, rep, [_iv(x) for x in rep])
    assert v["verdict"] == "no" and v["contradicted"] == 1


def test_ties_missing_figures_and_missing_intervals():
    assert trend_verdict([43.0], [0.4], [_iv(0.4)])["verdict"] is None  # one row: nothing to order
    assert trend_verdict([1.0, 1.0], [0.2, 0.3], [_iv(0.2), _iv(0.3)])["verdict"] is None  # published tie
    v = trend_verdict([2.0, 1.0, None], [0.3, 0.2, 0.9], [_iv(0.3), _iv(0.2), _iv(0.9)])
    assert v["claims"] == 1 and v["verdict"] == "yes"  # the row without a published figure takes no part
    assert trend_verdict([2.0, 1.0], [0.3, float("nan")], [None, None])["verdict"] is None
    v = trend_verdict([2.0, 1.0], [0.3, 0.2], [None, _iv(0.2)])  # no interval: nothing is separated
    assert v["verdict"] == "not significant"
    v = trend_verdict([2.0, 1.0], [0.3, 0.3], [_iv(0.3), _iv(0.3)])  # a reproduced tie disagrees
    assert v["disagree"] == 1 and v["verdict"] == "not significant"


def test_resample_weights_are_bootstrap_intervals_draws():
    values = np.array([0.1, 0.5, 0.2, 0.9, 0.4, 0.3, 0.8])
    w = resample_weights(len(values), resamples=300, seed=5)
    assert w.shape == (300, 7) and (w.sum(axis=1) == 7).all()
    means = (w @ values) / 7
    assert percentile_interval(means) == pytest.approx(bootstrap_interval(values, resamples=300, seed=5), abs=1e-12)
    assert percentile_interval([float("nan")]) is None
