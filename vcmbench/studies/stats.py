"""Statistics of reproduced study figures: a percentile bootstrap interval over images, and the trend
verdict of a reproduced table against the published one (:func:`trend_verdict`).

A figure computed from ``n`` images (a mean of per-image values, or a statistic such as COCO AP that is
recomputed on the resampled image set) gets a 95 % interval by resampling the images with replacement
``resamples`` times (numpy ``default_rng(seed)``: the same interval on every machine for the same inputs)
and taking the 2.5th and 97.5th percentiles of the statistic (numpy's default linear interpolation).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

RESAMPLES = 1000
LEVEL = 0.95
SEED = 0


def bootstrap_interval(values: Sequence[float] | None = None, *, statistic: Callable[[np.ndarray], float] | None = None,
                       n: int | None = None, resamples: int = RESAMPLES, level: float = LEVEL,
                       seed: int = SEED) -> tuple[float, float] | None:
    """The ``level`` percentile-bootstrap interval of a figure over images.

    Either ``values`` (one value per image; the statistic is their mean) or ``statistic`` (called with an
    array of ``n`` image indices drawn with replacement; it recomputes the figure on those images, e.g. AP).
    None when fewer than two images (no interval)."""
    if (values is None) == (statistic is None):
        raise ValueError("give per-image values or a statistic over image indices, not both")
    if values is not None:
        v = np.asarray(values, dtype=np.float64)
        n = len(v)
        if n < 2:
            return None
        stat = lambda idx: float(v[idx].mean())  # noqa: E731
    else:
        if n is None or n < 2:
            return None
        stat = statistic
    rng = np.random.default_rng(seed)
    return percentile_interval([stat(rng.integers(0, n, n)) for _ in range(int(resamples))], level)


def resample_weights(n: int, *, resamples: int = RESAMPLES, seed: int = SEED):
    """The bootstrap draws of :func:`bootstrap_interval` as image weights: a ``(resamples, n)`` array whose row
    ``r`` counts how often each image is drawn in resample ``r`` (the same draws, in the same order, as
    ``bootstrap_interval(statistic=..., n=n, resamples=..., seed=...)`` passes to its statistic).  For figures
    recomputed from per-image records with weights (``metrics.item_records``: COCO AP of a weighted multiset);
    one array serves every figure of a table, so differences between rows are paired."""
    rng = np.random.default_rng(seed)
    w = np.zeros((int(resamples), int(n)), np.float64)
    for r in range(int(resamples)):
        w[r] = np.bincount(rng.integers(0, n, n), minlength=n)
    return w


def percentile_interval(draws, level: float = LEVEL) -> tuple[float, float] | None:
    """The ``level`` percentile interval of bootstrap draws (non-finite draws left out); None without any."""
    d = np.asarray(draws, dtype=np.float64)
    d = d[np.isfinite(d)]
    if not len(d):
        return None
    a = (1.0 - level) / 2.0
    lo, hi = np.percentile(d, [100 * a, 100 * (1 - a)])
    return float(lo), float(hi)


YES, NO, NOT_SIGNIFICANT = "yes", "no", "not significant"


def _separated(a, b) -> bool:
    return a is not None and b is not None and (float(a[1]) < float(b[0]) or float(b[1]) < float(a[0]))


def trend_verdict(published: Sequence[float | None], reproduced: Sequence[float | None],
                  intervals: Sequence[Sequence[float] | None]) -> dict:
    """Does the reproduced ordering of one quantity across rows agree with the published ordering?

    ``published[i]``, ``reproduced[i]`` and ``intervals[i]`` (the reproduced figure's bootstrap interval
    ``[lo, hi]``, or None) belong to the i-th pair of corresponding rows.  The rule:

    1. Every pair of rows ``(i, j)`` whose published figures differ is a *claim*: the paper orders i before j
       (or after).  Rows with a missing (None, NaN) published or reproduced figure take part in no claim;
       published ties make no claim.  No claim (fewer than two rows, or all published figures equal):
       verdict ``None`` ("no ordering to test").
    2. A claim *agrees* when ``reproduced[i] - reproduced[j]`` has the sign of ``published[i] -
       published[j]`` (a reproduced tie disagrees).  The direction (higher or lower is better) does not
       enter: the ordering is compared, not the winner.
    3. A claim is *separated* when the two reproduced intervals are both given and disjoint
       (``hi_i < lo_j`` or ``hi_j < lo_i``); an interval that is missing separates nothing.
    4. Verdict: ``"no"`` when some disagreeing claim is separated (the data contradict the paper);
       otherwise ``"not significant"`` when some claim disagrees (all its disagreements lie within the
       intervals) or some agreeing claim is not separated; otherwise ``"yes"`` (every claim agrees and
       every one is separated).

    Returns ``{"verdict", "claims", "agree", "disagree", "separated", "contradicted"}`` (counts of claims;
    ``separated``: agreeing claims with disjoint intervals; ``contradicted``: disagreeing ones)."""
    import math

    def ok(v) -> bool:
        return v is not None and not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(float(v))

    rows = [i for i in range(min(len(published), len(reproduced), len(intervals)))
            if ok(published[i]) and ok(reproduced[i])]
    claims = agree = separated = contradicted = 0
    for a, i in enumerate(rows):
        for j in rows[a + 1:]:
            dp = float(published[i]) - float(published[j])
            if dp == 0:
                continue
            claims += 1
            dr = float(reproduced[i]) - float(reproduced[j])
            sep = _separated(intervals[i], intervals[j])
            if dr != 0 and (dr > 0) == (dp > 0):
                agree += 1
                separated += sep
            else:
                contradicted += sep
    disagree = claims - agree
    if not claims:
        verdict = None
    elif contradicted:
        verdict = NO
    elif disagree or separated < agree:
        verdict = NOT_SIGNIFICANT
    else:
        verdict = YES
    return {"verdict": verdict, "claims": claims, "agree": agree, "disagree": disagree, "separated": separated,
            "contradicted": contradicted}
