"""Bjøntegaard-delta (BD) rate and quality, every method in use, pure numpy/scipy (DESIGN.md §5.3).

Conventions
-----------
* A curve is a sequence of ``(rate, quality)`` pairs; rate > 0 in any unit (bits, bpp, kbps),
  quality in its own units (PSNR dB, mAP as a fraction or in percent).
* BD-rate: x = quality, y = log10(rate).  Both interpolants are integrated over the overlap
  ``[max(min_A, min_B), min(max_A, max_B)]`` of the quality ranges; BD-rate = 10**(mean of
  y_test − y_anchor) − 1, reported in **percent**; negative = the test needs less rate.
* BD-quality (BD-PSNR, BD-mAP): axes swapped (x = log10(rate), y = quality); the mean difference
  test − anchor in the quality's own units (positive = the test is better).
* The overlap fraction reported with every result is |intersection| / |union| of the two
  x ranges (quality for BD-rate, log10 rate for BD-quality); below 75 % a warning is attached.

Methods (registry ``METHODS``; the name goes into the ``bd:`` signature part)
* ``pchip-jvet``  replica of the JCTVC/JVET Excel VBA (``bdRateExtend``/``bdRIntEnh``/``pchipend``):
  sort by x, drop identical pairs, interior slopes by the weighted harmonic mean *without* the
  sign test, the three-point end-slope rule, analytic integration of each cubic piece.  Its
  extension modes (``extend=``) are those of ``bdRateExtend``: ``low``/``high``/``both`` extend
  only when the curves do not overlap, ``*-always`` always extend; an extension adds a point at
  the integration bound by linear extrapolation of the two outermost points.
  BD-quality uses the same interpolation with the axes swapped (as the dPSNR mode of the
  Python ports of the VBA; the VBA itself only has BD-rate with this interpolation).
* ``cubic``  VCEG-M33: least-squares cubic polynomial of y over x, integrated analytically.
* ``pchip``  scipy's monotone PCHIP (as the ``bjontegaard`` package), integrated analytically.
* ``akima``  scipy's Akima interpolator, integrated analytically.
* ``pchip-trapz``  scipy PCHIP sampled at 100 evenly spaced x over the overlap, trapezoid rule
  (Netflix / AOM tools).

Input checks (``BDError``, exit code 2): non-finite values, non-positive rate, fewer points
than the method needs, two points with the same rate but different quality, quality not
strictly increasing with rate, no overlap.  Identical (rate, quality) pairs are dropped (as the
VBA does) and listed in ``BDResult.notes``.  Non-monotonic curves can be repaired only by an
explicit remedy (``REMEDIES``), which is named in the signature part, e.g. ``pchip-jvet+drop-nonmono``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from .core.errors import BDError, UsageError
from .core.registry import Registry

DEFAULT_METHOD = "pchip-jvet"
MIN_OVERLAP = 0.75
TRAPZ_SAMPLES = 100

REMEDIES = {
    "drop-nonmono": "drop every point that does not improve quality over all lower-rate points (Pareto front)",
    "upper-hull": "keep the upper convex hull in (log10 rate, quality) up to the highest quality",
    "monotone-fit": "isotonic (pool-adjacent-violators) fit of quality over rate; pooled points merged",
    "cubic-fit-pcs2024": "Wang et al. (PCS 2024) monotone concave cubic fit of quality over log10 rate, "
                         "applied to a non-monotonic curve only (as CompressAI-Vision's FCM reporting)",
}

EXTEND_MODES = ("none", "low", "high", "both", "low-always", "high-always", "both-always")

Integrator = Callable[[float, float], float]


@dataclass(frozen=True)
class BDMethod:
    """A BD interpolation method: ``build(x, y)`` returns ``integrate(lo, hi)`` of the interpolant.

    ``x`` is strictly increasing, ``len(x) >= min_points``; lo/hi lie inside [x[0], x[-1]]
    (except for pchip-jvet extensions, which the engine adds as explicit points).
    """

    name: str
    min_points: int
    description: str
    build: Callable[[np.ndarray, np.ndarray], Integrator]


METHODS: Registry[BDMethod] = Registry("BD method", "vcmbench bdrate --help")


def _register(name: str, min_points: int, description: str):
    def deco(fn: Callable[[np.ndarray, np.ndarray], Integrator]):
        METHODS.add(name, BDMethod(name, min_points, description, fn))
        return fn

    return deco


# ---------------------------------------------------------------------------------------------
# JCTVC/JVET VBA replica
# ---------------------------------------------------------------------------------------------

def _pchipend(h1: float, h2: float, del1: float, del2: float) -> float:
    """Non-centred three-point end slope with the VBA's shape rules."""
    d = ((2.0 * h1 + h2) * del1 - h1 * del2) / (h1 + h2)
    if d * del1 < 0:
        d = 0.0
    elif del1 * del2 < 0 and abs(d) > abs(3.0 * del1):
        d = 3.0 * del1
    return d


def _harmonic_slope(h_prev: float, h: float, del_prev: float, dl: float) -> float:
    """VBA interior slope 3(h_prev+h) / ((2h+h_prev)/del_prev + (h+2h_prev)/dl), no sign test.

    A zero secant makes the VBA divide by zero; its limit (slope 0) is used instead.
    """
    if del_prev == 0.0 or dl == 0.0:
        return 0.0
    return (3.0 * h_prev + 3.0 * h) / ((2.0 * h + h_prev) / del_prev + (h + 2.0 * h_prev) / dl)


def jvet_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Node slopes of the VBA's piecewise cubic (``len(x) >= 3``, x strictly increasing)."""
    n = len(x)
    h = np.diff(x)
    delta = np.diff(y) / h
    d = np.zeros(n)
    d[0] = _pchipend(h[0], h[1], delta[0], delta[1])
    for i in range(1, n - 1):
        d[i] = _harmonic_slope(h[i - 1], h[i], delta[i - 1], delta[i])
    d[n - 1] = _pchipend(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3])
    return d


def _jvet_integrate(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """Analytic integral over [lo, hi] of the VBA cubic pieces (clipped per piece as ``intCurve``)."""
    h = np.diff(x)
    delta = np.diff(y) / h
    d = jvet_slopes(x, y)
    c = (3.0 * delta - 2.0 * d[:-1] - d[1:]) / h
    b = (d[:-1] - 2.0 * delta + d[1:]) / (h * h)
    total = 0.0
    for i in range(len(x) - 1):
        s0 = min(max(x[i], lo), hi) - x[i]
        s1 = min(max(x[i + 1], lo), hi) - x[i]
        if s1 > s0:
            total += (s1 - s0) * y[i]
            total += (s1 * s1 - s0 * s0) * d[i] / 2.0
            total += (s1 ** 3 - s0 ** 3) * c[i] / 3.0
            total += (s1 ** 4 - s0 ** 4) * b[i] / 4.0
    return float(total)


@_register("pchip-jvet", 3, "JCTVC/JVET Excel VBA piecewise cubic (bdRateExtend), analytic integral")
def _build_jvet(x: np.ndarray, y: np.ndarray) -> Integrator:
    return lambda lo, hi: _jvet_integrate(x, y, lo, hi)


def _extend_point(x: np.ndarray, y: np.ndarray, at: float, low: bool) -> tuple[np.ndarray, np.ndarray]:
    """Add a point at ``at`` by linear extrapolation of the two outermost points (VBA bdRIntEnh)."""
    if low:
        yy = y[0] + (at - x[0]) * (y[0] - y[1]) / (x[0] - x[1])
        return np.concatenate([[at], x]), np.concatenate([[yy], y])
    yy = y[-1] + (at - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return np.concatenate([x, [at]]), np.concatenate([y, [yy]])


# ---------------------------------------------------------------------------------------------
# Other methods
# ---------------------------------------------------------------------------------------------

@_register("cubic", 4, "VCEG-M33 least-squares cubic polynomial, analytic integral")
def _build_cubic(x: np.ndarray, y: np.ndarray) -> Integrator:
    p = np.polyint(np.polyfit(x, y, 3))
    return lambda lo, hi: float(np.polyval(p, hi) - np.polyval(p, lo))


@_register("pchip", 3, "scipy monotone PCHIP (as the `bjontegaard` package), analytic integral")
def _build_pchip(x: np.ndarray, y: np.ndarray) -> Integrator:
    from scipy.interpolate import PchipInterpolator

    f = PchipInterpolator(x, y)
    return lambda lo, hi: float(f.integrate(lo, hi))


@_register("akima", 3, "scipy Akima interpolation, analytic integral")
def _build_akima(x: np.ndarray, y: np.ndarray) -> Integrator:
    from scipy.interpolate import Akima1DInterpolator

    f = Akima1DInterpolator(x, y)
    return lambda lo, hi: float(f.integrate(lo, hi))


@_register("pchip-trapz", 3, f"scipy PCHIP sampled at {TRAPZ_SAMPLES} points + trapezoid rule (Netflix/AOM)")
def _build_pchip_trapz(x: np.ndarray, y: np.ndarray) -> Integrator:
    from scipy.interpolate import PchipInterpolator

    f = PchipInterpolator(x, y)

    def integrate(lo: float, hi: float) -> float:
        xs = np.linspace(lo, hi, num=TRAPZ_SAMPLES)
        ys = f(xs)
        return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2.0)

    return integrate


# ---------------------------------------------------------------------------------------------
# Input cleaning, remedies
# ---------------------------------------------------------------------------------------------

def _fmt(rate: float, quality: float, names: dict | None = None) -> str:
    """A point as messages name it: by its name (e.g. ``scale 75 % QP 37``) when the caller gave one,
    else by its (rate, quality) values."""
    name = (names or {}).get((float(rate), float(quality)))
    return str(name) if name else f"(rate={rate:.10g}, quality={quality:.10g})"


def _names(points: Sequence[Sequence[float]], names: Sequence[str] | None) -> dict:
    """(rate, quality) -> the caller's name of that point (``compare(..., anchor_names=...)``)."""
    if not names:
        return {}
    out: dict = {}
    for p, n in zip(points, names):
        try:
            out.setdefault((float(p[0]), float(p[1])), n)
        except (TypeError, ValueError, IndexError):
            continue
    return out


@dataclass
class Curve:
    """A cleaned RD curve: rates ascending, qualities strictly ascending."""

    rate: np.ndarray
    quality: np.ndarray
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rate)

    def as_pairs(self) -> list[tuple[float, float]]:
        return [(float(r), float(q)) for r, q in zip(self.rate, self.quality)]


def _to_array(points: Iterable[Sequence[float]], name: str, names: dict | None = None) -> np.ndarray:
    try:
        arr = np.asarray([[float(p[0]), float(p[1])] for p in points], dtype=float)
    except (TypeError, ValueError, IndexError) as exc:
        raise BDError(f"{name}: points must be (rate, quality) number pairs ({exc}).") from None
    if arr.size == 0:
        raise BDError(f"{name}: no rate-quality points given.")
    for r, q in arr:
        if not (math.isfinite(r) and math.isfinite(q)):
            raise BDError(f"{name}: point {_fmt(r, q, names)} is not finite; remove it or fix the input.")
        if r <= 0:
            raise BDError(f"{name}: point {_fmt(r, q, names)} has a non-positive rate; BD needs log(rate). "
                          "Remove the point or check the rate column.")
    return arr


def _drop_nonmono(r: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    keep, dropped, best = [], [], -math.inf
    for i in range(len(r)):
        if q[i] > best:
            keep.append(i)
            best = q[i]
        else:
            dropped.append(i)
    return r[keep], q[keep], dropped


def _upper_hull(r: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    top = int(np.argmax(q))  # first index of the highest quality (rates ascending)
    xs = np.log10(r)
    hull: list[int] = []
    for i in range(top + 1):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (xs[b] - xs[a]) * (q[i] - q[a]) - (q[b] - q[a]) * (xs[i] - xs[a])
            if cross >= 0:  # b lies on or below the chord a-i: not on the upper hull
                hull.pop()
            else:
                break
        hull.append(i)
    dropped = [i for i in range(len(r)) if i not in hull]
    return r[hull], q[hull], dropped


def _monotone_fit(r: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Pool-adjacent-violators with equal weights; a pooled block becomes one point at the mean
    log10 rate of its members and their mean quality."""
    blocks: list[list[float]] = []  # [sum_q, count, sum_logr]
    for ri, qi in zip(np.log10(r), q):
        blocks.append([qi, 1, ri])
        while len(blocks) >= 2 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, n, lr = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
            blocks[-1][2] += lr
    rr = np.array([10 ** (b[2] / b[1]) for b in blocks])
    qq = np.array([b[0] / b[1] for b in blocks])
    merged = [f"merged {int(b[1])} points into {_fmt(10 ** (b[2] / b[1]), b[0] / b[1])}" for b in blocks if b[1] > 1]
    return rr, qq, merged


def _cubic_fit_pcs2024(r: np.ndarray, q: np.ndarray, name: str) -> tuple[np.ndarray, list[str]]:
    """Wang et al., "Improvements of the BD-Rate Metrics Using Monotonic Curve-Fitting Methods", PCS 2024,
    as CompressAI-Vision ``scripts/metrics/cubic_polynomial.py`` + ``curve_fitting.py`` compute it.

    A cubic ``q(x) = b0 x^3 + b1 x^2 + b2 x + b3`` of x = log10(rate) is fitted by least squares
    (SLSQP from b = (1, 1, 1, 1)) under: q' >= 0 and q'' <= 0 at every point, q(x_min) >= 0 and
    q(x_max) <= 100 (accuracy in percent).  The qualities are replaced by the fitted values at the
    same rates.  Qualities given as fractions (all <= 1) are fitted in percent and scaled back, so the
    numbers equal the reference's on its percent data.  Only a non-monotonic curve is refitted (the
    reference's ``non_mono_only=True``; its CTTC script passes ``False`` for the SFU/TVD VCM tables).
    The reference writes the fitted values to a column named ``ap`` whatever metric it was given
    (``perf_name`` is ignored on write: an mIoU or MOTA table keeps its unfitted column and gains an
    ``ap`` one); here the fitted values replace the quality that was fitted.  A failed fit leaves the
    points unchanged (as the reference) and says so in a note.
    """
    from scipy.optimize import minimize

    if all(q[i] > q[i - 1] for i in range(1, len(q))):
        return q, []
    factor = 100.0 if float(np.max(q)) <= 1.0 else 1.0
    x = np.log10(r)
    y = q * factor

    def f(b, xs):
        return b[0] * xs ** 3 + b[1] * xs ** 2 + b[2] * xs + b[3]

    cons = (
        {"type": "ineq", "fun": lambda b: 3 * b[0] * x ** 2 + 2 * b[1] * x + b[2]},
        {"type": "ineq", "fun": lambda b: -6 * b[0] * x - 2 * b[1]},
        {"type": "ineq", "fun": lambda b: f(b, x[0]) - 0.0},
        {"type": "ineq", "fun": lambda b: 100.0 - f(b, x[-1])},
    )
    res = minimize(lambda b: float(np.sum((f(b, x) - y) ** 2)), x0=np.ones(4), method="SLSQP", constraints=cons)
    if not res.success:
        return q, [f"{name}: cubic-fit-pcs2024 did not converge ({res.message}); points left unchanged"]
    fitted = f(res.x, x) / factor
    notes = [f"{name}: cubic-fit-pcs2024 replaced quality {qi:.10g} by {fi:.10g} at rate {ri:.10g}"
             for ri, qi, fi in zip(r, q, fitted)]
    return np.asarray(fitted, dtype=float), notes


def clean_curve(points: Iterable[Sequence[float]], name: str = "curve", remedies: Sequence[str] = (),
                point_names: Sequence[str] | None = None) -> Curve:
    """Validate a curve, drop identical pairs, apply remedies, require strict monotonicity.

    ``point_names`` (parallel to ``points``, e.g. ``scale 75 % QP 37``) name the points in messages."""
    for rem in remedies:
        if rem not in REMEDIES:
            raise UsageError(f"Unknown non-monotonicity remedy {rem!r}. Available: {', '.join(REMEDIES)}.")
    points = list(points)
    nm = _names(points, point_names)
    arr = _to_array(points, name, nm)
    notes: list[str] = []
    order = np.lexsort((arr[:, 1], arr[:, 0]))  # by rate, then quality
    arr = arr[order]
    uniq = [arr[0]]
    for row in arr[1:]:
        prev = uniq[-1]
        if row[0] == prev[0]:
            if row[1] == prev[1]:
                notes.append(f"{name}: dropped identical duplicate point {_fmt(*row, nm)}")
                continue
            raise BDError(f"{name}: two points have the same rate but different quality: {_fmt(*prev, nm)} and "
                          f"{_fmt(*row, nm)}. Remove one of them (BD needs one quality per rate).")
        uniq.append(row)
    arr = np.asarray(uniq)
    r, q = arr[:, 0].copy(), arr[:, 1].copy()
    for rem in remedies:
        before = list(zip(r, q))
        if rem == "drop-nonmono":
            r, q, dropped = _drop_nonmono(r, q)
            notes += [f"{name}: drop-nonmono dropped {_fmt(*before[i], nm)}" for i in dropped]
        elif rem == "upper-hull":
            r, q, dropped = _upper_hull(r, q)
            notes += [f"{name}: upper-hull dropped {_fmt(*before[i], nm)}" for i in dropped]
        elif rem == "monotone-fit":
            r, q, merged = _monotone_fit(r, q)
            notes += [f"{name}: monotone-fit {m}" for m in merged]
        elif rem == "cubic-fit-pcs2024":
            q, fit_notes = _cubic_fit_pcs2024(r, q, name)
            notes += fit_notes
    for i in range(1, len(r)):
        if q[i] <= q[i - 1]:
            what = "the same" if q[i] == q[i - 1] else "lower"
            raise BDError(
                f"{name}: quality is not monotonic in rate: point {_fmt(r[i], q[i], nm)} has {what} quality than "
                f"{_fmt(r[i - 1], q[i - 1], nm)} at a lower rate. Fix the data, or choose an explicit remedy "
                f"({', '.join(REMEDIES)}; CLI --remedy), which is recorded in the signature."
            )
    return Curve(r, q, notes)


# ---------------------------------------------------------------------------------------------
# The computation
# ---------------------------------------------------------------------------------------------

@dataclass
class BDResult:
    """BD-rate (percent) and BD-quality (quality units) of ``test`` against ``anchor``.

    ``bd_quality`` is None only when it could not be computed; ``bd_quality_error`` says why.
    """

    method: str
    signature_part: str  # value of the signature's ``bd`` part, e.g. "pchip-jvet+drop-nonmono"
    bd_rate_pct: float
    bd_quality: float | None
    overlap: float  # |quality intersection| / |quality union|, for BD-rate
    overlap_rate: float | None  # the same on log10(rate), for BD-quality
    quality_range: tuple[float, float]  # integration interval for BD-rate
    points_anchor: int
    points_test: int
    remedies: tuple[str, ...] = ()
    extend: str = "none"
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bd_quality_error: str | None = None
    anchor_points: list[tuple[float, float]] = field(default_factory=list)  # as used (after cleaning)
    test_points: list[tuple[float, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        import dataclasses

        return dataclasses.asdict(self)


def signature_part(method: str, remedies: Sequence[str] = (), extend: str = "none") -> str:
    parts = [method] + ([f"ext-{extend}"] if extend != "none" else []) + list(remedies)
    return "+".join(parts)


def _overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    lo, hi = max(a.min(), b.min()), min(a.max(), b.max())
    union = max(a.max(), b.max()) - min(a.min(), b.min())
    frac = max(hi - lo, 0.0) / union if union > 0 else 0.0
    return float(lo), float(hi), float(frac)


def bd_delta(xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray, method: str = DEFAULT_METHOD,
             extend: str = "none", axis: str = "quality") -> tuple[float, float, float, float]:
    """Mean of f_test − f_anchor over the x overlap; returns (mean, lo, hi, overlap fraction).

    ``x`` must be strictly increasing.  ``extend`` (pchip-jvet only) follows the VBA modes.
    """
    spec = METHODS.get(method)
    if extend not in EXTEND_MODES:
        raise UsageError(f"Unknown extension mode {extend!r}. Available: {', '.join(EXTEND_MODES)}.")
    if extend != "none" and method != "pchip-jvet":
        raise UsageError(f"Extension mode {extend!r} exists only for method pchip-jvet (the VBA's bdRateExtend).")
    for name, x in (("anchor", xa), ("test", xb)):
        if len(x) < spec.min_points:
            raise BDError(f"{name}: {len(x)} usable point(s), method {method} needs at least {spec.min_points}. "
                          "Add rate points or choose another method.")
    lo, hi, frac = _overlap(xa, xb)
    no_overlap = hi <= lo
    mins = (min(xa.min(), xb.min()), max(xa.min(), xb.min()))
    maxs = (min(xa.max(), xb.max()), max(xa.max(), xb.max()))
    if extend.endswith("-always") or (extend != "none" and no_overlap):
        kind = extend.replace("-always", "")
        lo = mins[0] if kind in ("low", "both") else mins[1]
        hi = maxs[1] if kind in ("high", "both") else maxs[0]
        if hi <= lo:
            raise BDError(f"The {axis} ranges do not overlap and extension mode {extend!r} does not bridge them; "
                          "use extend both-always or measure overlapping points.")
    elif no_overlap:
        raise BDError(
            f"The {axis} ranges of anchor [{xa.min():.6g}, {xa.max():.6g}] and test [{xb.min():.6g}, {xb.max():.6g}] "
            "do not overlap: BD is undefined. Add rate points so the curves overlap "
            "(or, for pchip-jvet, an explicit extension mode)."
        )
    integrals = []
    for x, y in ((xa, ya), (xb, yb)):
        if method == "pchip-jvet":
            if x[0] > lo:
                x, y = _extend_point(x, y, lo, low=True)
            if x[-1] < hi:
                x, y = _extend_point(x, y, hi, low=False)
        integrals.append(spec.build(x, y)(lo, hi))
    lo, hi = float(lo), float(hi)
    mean = (integrals[1] - integrals[0]) / (hi - lo)
    if not math.isfinite(mean):
        raise BDError(f"BD ({method}) over {axis} [{lo:.6g}, {hi:.6g}] is not finite; check the input points.")
    return mean, lo, hi, frac


MAX_LOG10_RATIO = 300.0  # 10**300 is near the largest float; a larger ratio of rates is an input error


def compare(anchor: Iterable[Sequence[float]], test: Iterable[Sequence[float]], method: str = DEFAULT_METHOD, *,
            remedies: Sequence[str] = (), extend: str = "none", min_overlap: float = MIN_OVERLAP,
            anchor_names: Sequence[str] | None = None, test_names: Sequence[str] | None = None) -> BDResult:
    """BD-rate and BD-quality of ``test`` against ``anchor`` (each a sequence of (rate, quality)).

    ``anchor_names`` / ``test_names`` (parallel to the points, e.g. ``scale 75 % QP 37``) name the
    points in errors and notes instead of their raw values; they change no number."""
    METHODS.get(method)
    remedies = tuple(dict.fromkeys(remedies))
    a = clean_curve(anchor, "anchor", remedies, anchor_names)
    b = clean_curve(test, "test", remedies, test_names)
    la, lb = np.log10(a.rate), np.log10(b.rate)
    mean, lo, hi, frac = bd_delta(a.quality, la, b.quality, lb, method, extend, axis="quality")
    if mean > MAX_LOG10_RATIO:
        raise BDError(f"The test curve's rate is about 10^{mean:.0f} times the anchor's: BD-rate is beyond the "
                      "floating-point range. Check that both curves use the same rate unit (bpp) and are the "
                      "right inputs.")
    bd_rate = (10.0 ** mean - 1.0) * 100.0
    warnings = []
    if frac < min_overlap:
        warnings.append(f"quality ranges overlap only {frac:.0%} (< {min_overlap:.0%}): BD-rate is extrapolated "
                        "from a small common range; interpret with care")
    q_val: float | None
    q_err: str | None = None
    frac_r: float | None
    try:
        q_val, _, _, frac_r = bd_delta(la, a.quality, lb, b.quality, method, extend, axis="log10(rate)")
        if frac_r < min_overlap:
            warnings.append(f"rate ranges overlap only {frac_r:.0%} (< {min_overlap:.0%}): BD-quality is "
                            "computed over a small common range")
    except BDError as exc:
        q_val, frac_r, q_err = None, None, str(exc)
    return BDResult(
        method=method, signature_part=signature_part(method, remedies, extend), bd_rate_pct=float(bd_rate),
        bd_quality=None if q_val is None else float(q_val), overlap=frac, overlap_rate=frac_r,
        quality_range=(lo, hi), points_anchor=len(a), points_test=len(b), remedies=remedies, extend=extend,
        notes=a.notes + b.notes, warnings=warnings, bd_quality_error=q_err,
        anchor_points=a.as_pairs(), test_points=b.as_pairs(),
    )


def bd_rate(anchor, test, method: str = DEFAULT_METHOD, **kw) -> float:
    """BD-rate in percent (negative = the test saves rate)."""
    return compare(anchor, test, method, **kw).bd_rate_pct


def bd_quality(anchor, test, method: str = DEFAULT_METHOD, **kw) -> float:
    """BD-quality (BD-PSNR / BD-mAP) in the quality's units; raises BDError if not computable."""
    res = compare(anchor, test, method, **kw)
    if res.bd_quality is None:
        raise BDError(res.bd_quality_error or "BD-quality could not be computed.")
    return res.bd_quality


def method_names() -> list[str]:
    return METHODS.names()
