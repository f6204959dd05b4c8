"""Statistics of reproduced study figures: a percentile bootstrap interval over images.

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
    draws = np.array([stat(rng.integers(0, n, n)) for _ in range(int(resamples))], dtype=np.float64)
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return None
    a = (1.0 - level) / 2.0
    lo, hi = np.percentile(draws, [100 * a, 100 * (1 - a)])
    return float(lo), float(hi)
