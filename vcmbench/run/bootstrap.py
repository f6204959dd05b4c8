"""Paired bootstrap confidence intervals of BD-rate and BD-quality over the items (images) of a dataset.

What the interval means: how much the BD-rate would move if the same codecs and network were
measured on another image set of the same size drawn from the same population.  It measures the
sampling uncertainty of the image set only, not codec, network or platform variation.

Method (percentile, paired): each resample draws n item indices with replacement (n = number of
items); the same draw is used for anchor and test and for every rate point of both curves.  For
each point the rate is recomputed as the dataset rate of the drawn multiset (Σ bits / Σ pixels, an
item drawn k times counted k times, DESIGN.md 5.1) and the accuracy from per-item records
(``metrics.item_records``: the metric of the multiset, as if the drawn images were a dataset).
Then BD-rate and BD-quality are computed with the same method, remedies and extension as the point
estimate.  A resample whose BD is refused (e.g. a curve that is not monotone in that resample) is
counted and reported, never silently dropped; the interval is the ``(100 - level) / 2`` and
``(100 + level) / 2`` percentiles (numpy's linear interpolation) of the resamples that gave a value.
More than ``FAIL_WARN`` of the resamples failing is a warning; more than ``FAIL_REFUSE`` is no
interval (an error naming the first reason).

Draws: one generator ``numpy.random.default_rng(seed)``, ``integers(0, n, size=(rows, n))`` for blocks of
``BLOCK`` resamples in turn; items are in sorted id order, so the same seed, resamples and items give the
same interval anywhere.  The interval's
signature part is ``ci:<level>-b<resamples>-s<seed>`` (``ci_part``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..core.errors import BDError, DataError, UsageError

MIN_RESAMPLES = 100
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
FAIL_WARN = 0.05
FAIL_REFUSE = 0.5
METHOD = "paired percentile bootstrap over images"
MAX_RESAMPLES = 100_000
BLOCK = 1000  # resamples drawn and evaluated at a time

Statistic = Callable[[list[tuple[float, float]], list[tuple[float, float]]], tuple[float, float | None]]


@dataclass
class PointItems:
    """One rate point's per-item records: bits and pixels per item (0 where the item is not counted at
    this point, e.g. an unverified bitstream), ``counted`` per item, and ``accuracy(W)`` -> (resamples,)
    the point's quality for item weights ``W`` (resamples x items; NaN where undefined)."""

    scale: float
    qp: int
    bits: np.ndarray
    pixels: np.ndarray
    counted: np.ndarray
    accuracy: Callable[[np.ndarray], np.ndarray]


@dataclass
class ItemCurves:
    """The per-item records of one result set: ``items`` (sorted ids) and its points."""

    source: str
    items: list[str]
    quality_key: str
    points: list[PointItems] = field(default_factory=list)

    def at_scale(self, scale: float) -> list[PointItems]:
        return sorted((p for p in self.points if abs(p.scale - scale) < 1e-9), key=lambda p: p.qp)


def check_level(level: float) -> float:
    """The confidence level in percent, strictly between 0 and 100."""
    try:
        v = float(level)
    except (TypeError, ValueError):
        raise UsageError(f"Confidence level {level!r} is not a number; give a percentage such as 95.") from None
    if not math.isfinite(v) or not 0 < v < 100:
        raise UsageError(f"Confidence level {level!r} must lie strictly between 0 and 100 (percent); "
                         "give e.g. --ci 95.")
    return v


def check_options(level: float, resamples: int, seed: int) -> tuple[float, int, int]:
    """Validated (level, resamples, seed); the reasons are in the messages."""
    v = check_level(level)
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < MIN_RESAMPLES:
        raise UsageError(f"--resamples {resamples!r} is too few: percentile intervals need at least {MIN_RESAMPLES} "
                         f"resamples to place their tails (the 2.5 % tail of 100 is 2.5 values); the default is "
                         f"{DEFAULT_RESAMPLES}.")
    if resamples > MAX_RESAMPLES:
        raise UsageError(f"--resamples {resamples} is more than {MAX_RESAMPLES}; beyond a few thousand the interval's "
                         "ends move less than its sampling error — give e.g. 1000 or 5000.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"--seed {seed!r} must be a non-negative integer (the default is {DEFAULT_SEED}).")
    return v, int(resamples), int(seed)


def ci_part(level: float, resamples: int, seed: int) -> str:
    """The signature part's value: ``95-b1000-s0``."""
    return f"{level:g}-b{resamples}-s{seed}"


def resample_blocks(n: int, resamples: int, seed: int, block: int = BLOCK):
    """(rows, n) count blocks, ``resamples`` rows in all: how often each item is drawn in each resample (each
    row sums to n).  One generator, ``default_rng(seed)``, draws the blocks in turn (memory stays bounded)."""
    if n < 2:
        raise DataError(f"A bootstrap over {n} item(s) says nothing; it needs at least 2 images.")
    rng = np.random.default_rng(seed)
    for a in range(0, resamples, block):
        rows = min(block, resamples - a)
        idx = rng.integers(0, n, size=(rows, n))
        flat = idx + (np.arange(rows) * n)[:, None]
        yield np.bincount(flat.ravel(), minlength=rows * n).reshape(rows, n)


def resample_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """All the blocks of ``resample_blocks`` as one (resamples, n) array."""
    return np.concatenate(list(resample_blocks(n, resamples, seed)), axis=0)


def curve_values(points: Sequence[PointItems], w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(resamples, points) rates and accuracies."""
    rates = np.empty((w.shape[0], len(points)))
    accs = np.empty((w.shape[0], len(points)))
    for j, p in enumerate(points):
        wp = w if p.counted.all() else w * p.counted
        px = wp @ p.pixels
        with np.errstate(divide="ignore", invalid="ignore"):
            rates[:, j] = np.where(px > 0, (wp @ p.bits) / np.where(px > 0, px, 1), np.nan)
        accs[:, j] = p.accuracy(wp)
    return rates, accs


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (100.0 - level) / 2.0
    lo, hi = np.percentile(values, [tail, 100.0 - tail])
    return float(lo), float(hi)


def paired_bootstrap(anchor: Sequence[PointItems], test: Sequence[PointItems], n_items: int, statistic: Statistic,
                     level: float, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict:
    """The interval of ``statistic(anchor_curve, test_curve) -> (bd_rate_pct, bd_quality | None)`` (a
    ``BDError`` = a failed resample) over paired resamples of ``n_items`` items.

    Returns the ``ci`` dict of ``report.model.BDEntry.ci``: ``level, low, high`` (BD-rate, percent),
    ``bd_quality_low/high`` (stored units, None when no resample gave one), ``resamples`` (used),
    ``requested``, ``failed``, ``first_failure``, ``seed``, ``items``, ``method``, ``warnings``; or
    ``{"level": .., "error": ..}`` when more than ``FAIL_REFUSE`` of the resamples failed.
    """
    level, resamples, seed = check_options(level, resamples, seed)
    bd = np.full(resamples, np.nan)
    bq = np.full(resamples, np.nan)
    reasons: dict[str, int] = {}
    r = 0
    for block in resample_blocks(n_items, resamples, seed):
        w = block.astype(np.float64)
        ra, qa = curve_values(anchor, w)
        rt, qt = curve_values(test, w)
        for i in range(w.shape[0]):
            try:
                if not (np.isfinite(ra[i]).all() and np.isfinite(qa[i]).all() and np.isfinite(rt[i]).all()
                        and np.isfinite(qt[i]).all()):
                    raise BDError("a point's rate or accuracy is undefined in this resample (no counted image, or "
                                  "no ground truth drawn)")
                b, q = statistic(list(zip(ra[i].tolist(), qa[i].tolist())),
                                 list(zip(rt[i].tolist(), qt[i].tolist())))
                bd[r] = b
                if q is not None:
                    bq[r] = q
            except BDError as exc:
                why = str(exc).split(". ")[0]
                reasons[why] = reasons.get(why, 0) + 1
            r += 1
    ok = np.isfinite(bd)
    used = int(ok.sum())
    failed = resamples - used
    base = {"level": level, "resamples": used, "requested": resamples, "failed": failed, "seed": seed,
            "items": int(n_items), "method": METHOD}
    first = max(reasons, key=reasons.get) if reasons else None
    if failed > FAIL_REFUSE * resamples:
        return {"level": level, "error": f"only {used} of {resamples} resamples gave a BD-rate ({failed} refused, most "
                                         f"often: {first}); an interval of the rest would describe only the "
                                         "resamples that happen to work — name a remedy (--remedy) or use more images",
                "requested": resamples, "failed": failed, "seed": seed, "items": int(n_items)}
    low, high = _percentiles(bd[ok], level)
    qok = np.isfinite(bq)
    q_low, q_high = _percentiles(bq[qok], level) if qok.sum() >= MIN_RESAMPLES // 2 else (None, None)
    warnings = []
    if failed > FAIL_WARN * resamples:
        warnings.append(f"{failed} of {resamples} resamples ({failed / resamples:.1%}) gave no BD-rate (most often: "
                        f"{first}); the interval is over the other {used}, which can make it too narrow")
    return {**base, "low": low, "high": high, "bd_quality_low": q_low, "bd_quality_high": q_high,
            "first_failure": first, "warnings": warnings}
