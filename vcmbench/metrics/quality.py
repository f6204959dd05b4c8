"""Image and feature quality: PSNR (per plane, weighted YUV), SSIM, MS-SSIM, MAE.

Conventions
-----------
* Inputs are numpy arrays (torch tensors are accepted and converted with ``.detach().cpu()``).
  Computation is in float64.  ``ref`` is the original, ``test`` the decoded/reconstructed signal.
* **Data range** (the PSNR peak and the SSIM ``L``) is never guessed from the test signal:
  integer samples of bit depth *b* use ``2**b - 1`` (8-bit: 255, 10-bit: 1023; pass
  ``bit_depth``), float signals need an explicit ``data_range``.  The *feature* PSNR in the tensor
  domain uses the reference tensor's dynamic range ``max(ref) - min(ref)`` (named so in its
  figure name); in the packed-picture domain the peak is ``2**bit_depth - 1`` of the packed picture.
* PSNR = 10·log10(peak² / MSE); identical inputs give ``inf``.
* Weighted YUV PSNR = (wY·PSNR_Y + wU·PSNR_U + wV·PSNR_V) / (wY + wU + wV): the JVET 6:1:1
  (default) or the 4:1:1 the seed study used.  Weights average PSNRs (dB), not MSEs.
* SSIM (Wang et al. 2004): 11×11 Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, population
  (co)variances, mean over the *valid* region (the border of 5 samples is excluded).  Equal to
  scikit-image ``structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=L)``.
* MS-SSIM (Wang et al. 2003): 5 scales, weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), 2×2
  mean-pool down-sampling (an odd last row/column is dropped), contrast·structure at scales 1–4
  and full SSIM at scale 5; negative terms are clamped to 0 before the power (as pytorch-msssim
  does).  Each side must be ≥ 176 samples (11 × 2⁴).
* Colour/multi-channel arrays (H×W×C) are averaged over channels for SSIM/MS-SSIM.
* Arithmetic: OpenCV's separable float64 filter (about five times scipy.ndimage's here), in place in
  reused work arrays: MS-SSIM runs on every coded picture of a run.  SSIM filters four maps (the
  means, E[a²] + E[b²] as one map, E[ab]).  MS-SSIM splits the reference side (per scale level: the
  pooled original, its filtered mean and variance: :class:`MsSsimReference`) from the test side (three
  filtered maps: mean, E[b²], E[ab]); the reference side is computed once per original picture and
  reused by all its decoded versions (``image_quality(..., ref_key=...)``, a small per-process cache),
  and a fresh computation goes through the same code, so reuse changes no bit.  Equal to the
  references above within 1e-12 (golden tests).
"""

from __future__ import annotations

import math
import threading
from typing import Any, Sequence

import numpy as np

from ..core.errors import DataError

YUV_WEIGHTS = {"6:1:1": (6.0, 1.0, 1.0), "4:1:1": (4.0, 1.0, 1.0)}
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

__all__ = ["YUV_WEIGHTS", "as_array", "mse", "psnr", "psnr_yuv", "ssim", "ms_ssim", "mae", "feature_psnr",
           "peak_for_bit_depth", "feature_quality", "image_quality", "coded_psnr", "sequence_psnr", "weighted_yuv", "MsSsimReference",
           "ms_ssim_reference", "ms_ssim_against", "ReferenceCache"]


def as_array(x: Any) -> np.ndarray:
    """numpy view of an array-like or torch tensor (no torch import needed)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _pair(ref: Any, test: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_array(ref), as_array(test)
    if a.shape != b.shape:
        raise DataError(f"Reference and test differ in shape ({a.shape} vs {b.shape}); compare like with like "
                        "(crop or rescale the decoded picture back to the original size first).")
    if a.size == 0:
        raise DataError("Cannot compute quality of empty arrays.")
    return a.astype(np.float64), b.astype(np.float64)


def peak_for_bit_depth(bit_depth: int) -> float:
    if not 1 <= int(bit_depth) <= 16:
        raise DataError(f"bit_depth {bit_depth!r} must be 1..16.")
    return float(2 ** int(bit_depth) - 1)


def _peak(arr: np.ndarray, data_range: float | None, bit_depth: int | None) -> float:
    if data_range is not None and bit_depth is not None:
        raise DataError("Give data_range or bit_depth, not both.")
    if bit_depth is not None:
        return peak_for_bit_depth(bit_depth)
    if data_range is None:
        if np.issubdtype(arr.dtype, np.integer):
            if arr.dtype == np.uint8:
                return 255.0
            raise DataError(f"{arr.dtype} samples: pass bit_depth (e.g. 10 for 10-bit video) or data_range.")
        raise DataError("Float samples: pass data_range (the peak signal value, e.g. 1.0 or 255).")
    if not (math.isfinite(float(data_range)) and float(data_range) > 0):
        raise DataError(f"data_range {data_range!r} must be a positive number.")
    return float(data_range)


def mse(ref: Any, test: Any) -> float:
    a, b = _pair(ref, test)
    return float(np.mean((a - b) ** 2))


def psnr(ref: Any, test: Any, data_range: float | None = None, bit_depth: int | None = None) -> float:
    """PSNR in dB of one plane/array.  Peak from ``bit_depth`` or ``data_range`` (uint8 → 255)."""
    peak = _peak(as_array(ref), data_range, bit_depth)
    m = mse(ref, test)
    return math.inf if m == 0 else 10.0 * math.log10(peak * peak / m)


def psnr_yuv(ref_planes: Sequence[Any], test_planes: Sequence[Any], bit_depth: int = 8,
             weights: str | Sequence[float] = "6:1:1") -> dict[str, float]:
    """Per-plane PSNR (keys ``Y``, ``U``, ``V``) and the weighted ``YUV`` PSNR.

    ``weights``: ``"6:1:1"`` (JVET), ``"4:1:1"`` (the seed study) or three numbers.  A 4:0:0
    picture (one plane) gives only ``Y`` (and ``YUV`` = ``Y``).
    """
    if isinstance(weights, str):
        if weights not in YUV_WEIGHTS:
            raise DataError(f"Unknown YUV PSNR weights {weights!r}; use {', '.join(YUV_WEIGHTS)} or three numbers.")
        w = YUV_WEIGHTS[weights]
    else:
        w = tuple(float(x) for x in weights)
        if len(w) != 3 or min(w) < 0 or sum(w) <= 0:
            raise DataError(f"YUV weights {weights!r} must be three non-negative numbers with a positive sum.")
    if len(ref_planes) != len(test_planes) or len(ref_planes) not in (1, 3):
        raise DataError(f"Give 1 (4:0:0) or 3 planes for both pictures (got {len(ref_planes)} and {len(test_planes)}).")
    out = {name: psnr(r, t, bit_depth=bit_depth) for name, r, t in zip("YUV", ref_planes, test_planes)}
    if len(ref_planes) == 1:
        out["YUV"] = out["Y"]
    else:
        out["YUV"] = (w[0] * out["Y"] + w[1] * out["U"] + w[2] * out["V"]) / sum(w)
    return out


# ----------------------------------------------------------------------------- SSIM
def _gauss(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


_WINDOW = _gauss()
_SCRATCH = threading.local()
_SCRATCH_KEEP = 1 << 22  # samples per buffer kept between calls (6 x 32 MB at most, per thread)


def _scratch(shape: tuple[int, ...], count: int = 6) -> list[np.ndarray]:
    """``count`` float64 work arrays of ``shape``, reused by the SSIM calls of this thread: fresh
    multi-megabyte arrays cost page faults comparable to the arithmetic (MS-SSIM runs on every coded
    picture of a run)."""
    n = int(np.prod(shape))
    bufs = getattr(_SCRATCH, "bufs", None)
    if bufs is None or bufs[0].size < n or len(bufs) < count:
        bufs = [np.empty(n) for _ in range(max(count, 6))]
        if n <= _SCRATCH_KEEP:
            _SCRATCH.bufs = bufs
    return [b[:n].reshape(shape) for b in bufs[:count]]


def _filt_valid(img: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The Gaussian window's weighted mean at every position where it fits inside the picture (the
    *valid* region), per channel of an H×W or H×W×C (C ≤ 4) float64 array; ``out`` (the shape of
    ``img``) receives the filtered picture and a view of its valid region is returned.

    OpenCV's separable filter in float64 (SIMD; about five times scipy.ndimage's correlate1d here);
    the border mode only fills samples that are cropped away, so the values are the plain weighted
    sums (equal to scipy's and pytorch-msssim's to rounding, 1e-16)."""
    import cv2

    k = _WINDOW.size // 2
    kern = _WINDOW.reshape(-1, 1)
    cv2.sepFilter2D(img, cv2.CV_64F, kern, kern, dst=out, borderType=cv2.BORDER_REFLECT_101)
    return out[k:-k, k:-k]


def _ssim_terms(a: np.ndarray, b: np.ndarray, peak: float, *, luminance: bool,
                k1: float = 0.01, k2: float = 0.03) -> np.ndarray:
    """Per-channel means of contrast·structure (``luminance=False``) or of the full SSIM map."""
    import cv2

    if min(a.shape[:2]) < _WINDOW.size:
        raise DataError(f"SSIM needs pictures of at least {_WINDOW.size}x{_WINDOW.size} samples, "
                        f"got {a.shape[0]}x{a.shape[1]}.")
    if a.ndim == 3 and a.shape[2] > 4:  # OpenCV filters at most 4 channels at once
        return np.concatenate([_ssim_terms(np.ascontiguousarray(a[..., i]), np.ascontiguousarray(b[..., i]), peak,
                                           luminance=luminance, k1=k1, k2=k2) for i in range(a.shape[2])])
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    c1, c2 = (k1 * peak) ** 2, (k2 * peak) ** 2
    w = _scratch(a.shape)
    # Four filtered maps: the means, E[a²] + E[b²] filtered as one map (the filter is linear) and
    # E[ab]; the rest is done in place.
    mu_a, mu_b = _filt_valid(a, w[0]), _filt_valid(b, w[1])
    sq = np.multiply(a, a, out=w[4])
    sq += np.multiply(b, b, out=w[5])
    e_sq = _filt_valid(sq, w[2])
    e_ab = _filt_valid(np.multiply(a, b, out=w[4]), w[3])
    mu_ab = np.multiply(mu_a, mu_b, out=w[5][: mu_a.shape[0], : mu_a.shape[1]])
    np.square(mu_a, out=mu_a)
    mu_a += np.square(mu_b, out=mu_b)  # mu_a² + mu_b²
    val = e_ab
    val -= mu_ab                       # covariance
    val *= 2.0
    val += c2
    e_sq -= mu_a                       # variance of a + variance of b
    e_sq += c2
    val /= e_sq                        # contrast·structure
    if luminance:
        mu_ab *= 2.0
        mu_ab += c1
        mu_a += c1
        mu_ab /= mu_a
        val *= mu_ab
    return np.array(cv2.mean(val)[: 1 if val.ndim == 2 else val.shape[2]])  # per channel; 10x numpy's strided mean


def _check_layout(a: np.ndarray) -> None:
    if a.ndim not in (2, 3):
        raise DataError(f"SSIM takes H×W or H×W×C arrays, got shape {a.shape}.")


def ssim(ref: Any, test: Any, data_range: float | None = None, bit_depth: int | None = None) -> float:
    """Mean SSIM (see module conventions)."""
    peak = _peak(as_array(ref), data_range, bit_depth)
    a, b = _pair(ref, test)
    _check_layout(a)
    return float(np.mean(_ssim_terms(a, b, peak, luminance=True)))


def _pool2(x: np.ndarray) -> np.ndarray:
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    x = x[:h, :w]
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


MS_SSIM_MIN_SIDE = _WINDOW.size * 2 ** (len(MS_SSIM_WEIGHTS) - 1)  # 176: the window fits at the 5th scale


class MsSsimReference:
    """The reference side of MS-SSIM, computed once per original picture and reused for every decoded
    version of it (its QPs and scales): per channel group (the picture, or each channel when it has
    more than 4) and per scale level, the float64 picture ``a``, its filtered mean ``mu_a`` and its
    filtered variance ``var_a`` = E[a²] − mu_a² (and ``mu_a²`` at the last level, for the luminance
    term).  :func:`ms_ssim` builds one for every call, so a reused reference gives the same number,
    bit for bit, as a fresh one."""

    __slots__ = ("shape", "peak", "groups", "nbytes")

    def __init__(self, ref: np.ndarray, peak: float) -> None:
        a = np.asarray(ref, dtype=np.float64)
        _check_layout(a)
        if min(a.shape[:2]) < MS_SSIM_MIN_SIDE:
            raise DataError(f"MS-SSIM needs pictures of at least {MS_SSIM_MIN_SIDE}x{MS_SSIM_MIN_SIDE} samples "
                            f"(5 scales), got {a.shape[0]}x{a.shape[1]}; use ssim() for small pictures.")
        self.shape, self.peak = a.shape, float(peak)
        chans = [a] if a.ndim == 2 or a.shape[2] <= 4 else [a[..., i] for i in range(a.shape[2])]
        self.groups = [self._levels(np.ascontiguousarray(c)) for c in chans]
        self.nbytes = sum(x.nbytes for g in self.groups for lev in g for x in lev if x is not None)

    @staticmethod
    def _levels(a: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]:
        levels = []
        for i in range(len(MS_SSIM_WEIGHTS)):
            last = i == len(MS_SSIM_WEIGHTS) - 1
            mu = _filt_valid(a, np.empty_like(a)).copy()
            var = _filt_valid(a * a, np.empty_like(a)).copy()
            mu2 = np.square(mu)
            var -= mu2
            levels.append((a, mu, var, mu2 if last else None))
            if not last:
                a = np.ascontiguousarray(_pool2(a))
        return levels


def _cs_terms(level: tuple, b: np.ndarray, peak: float, *, luminance: bool,
              k1: float = 0.01, k2: float = 0.03) -> np.ndarray:
    """Per-channel means of contrast·structure (or of the full SSIM map with ``luminance``) of the
    test picture ``b`` against one level of an :class:`MsSsimReference`: three filtered maps of the
    test side (its mean, E[b²], E[ab]), the rest in place in reused work arrays."""
    import cv2

    a, mu_a, var_a, mu_a2 = level
    c1, c2 = (k1 * peak) ** 2, (k2 * peak) ** 2
    w = _scratch(b.shape, 4)
    mu_b = _filt_valid(b, w[0])
    e_bb = _filt_valid(np.multiply(b, b, out=w[3]), w[1])
    e_ab = _filt_valid(np.multiply(a, b, out=w[3]), w[2])
    mu_ab = np.multiply(mu_a, mu_b, out=w[3][: mu_a.shape[0], : mu_a.shape[1]])
    np.square(mu_b, out=mu_b)
    val = e_ab
    val -= mu_ab                       # covariance
    val *= 2.0
    val += c2
    e_bb -= mu_b                       # variance of b
    e_bb += var_a
    e_bb += c2
    val /= e_bb                        # contrast·structure
    if luminance:
        mu_ab *= 2.0
        mu_ab += c1
        mu_b += mu_a2                  # mu_a² + mu_b²
        mu_b += c1
        mu_ab /= mu_b
        val *= mu_ab
    return np.array(cv2.mean(val)[: 1 if val.ndim == 2 else val.shape[2]])  # per channel; 10x numpy's strided mean


def _ms_ssim_with(ref: MsSsimReference, b: np.ndarray) -> float:
    if b.shape != ref.shape:
        raise DataError(f"Reference and test differ in shape ({ref.shape} vs {b.shape}); compare like with like "
                        "(crop or rescale the decoded picture back to the original size first).")
    chans = [b] if len(ref.groups) == 1 else [b[..., i] for i in range(b.shape[2])]
    totals = []
    for levels, x in zip(ref.groups, chans):
        x = np.ascontiguousarray(x, dtype=np.float64)
        total = 1.0
        for i, w in enumerate(MS_SSIM_WEIGHTS):
            last = i == len(MS_SSIM_WEIGHTS) - 1
            total = total * np.maximum(_cs_terms(levels[i], x, ref.peak, luminance=last), 0.0) ** w
            if not last:
                x = np.ascontiguousarray(_pool2(x))
        totals.append(total)
    return float(np.mean(np.concatenate(totals)))


def ms_ssim_reference(ref: Any, data_range: float | None = None, bit_depth: int | None = None) -> MsSsimReference:
    """The reference side of MS-SSIM for ``ref`` (reuse it with :func:`ms_ssim_against`)."""
    return MsSsimReference(as_array(ref), _peak(as_array(ref), data_range, bit_depth))


def ms_ssim_against(ref: MsSsimReference, test: Any) -> float:
    """MS-SSIM of ``test`` against a precomputed reference; equal, bit for bit, to ``ms_ssim(ref, test)``."""
    return _ms_ssim_with(ref, as_array(test))


def ms_ssim(ref: Any, test: Any, data_range: float | None = None, bit_depth: int | None = None) -> float:
    """MS-SSIM with 5 scales and the standard weights (see module conventions)."""
    peak = _peak(as_array(ref), data_range, bit_depth)
    a, b = _pair(ref, test)
    _check_layout(a)
    return _ms_ssim_with(MsSsimReference(a, peak), b)


class ReferenceCache:
    """The MS-SSIM references of the last few original pictures of this process, keyed by the caller's
    content key (e.g. the image's content hash) and the picture's shape and dtype; at most ``entries``
    references and ``max_bytes`` bytes (a reference of a W×H RGB picture takes about 75·W·H bytes).
    The jobs of one picture (its QPs and scales) follow one another in a run's plan, so one or two
    entries serve them all; jobs of one picture spread over several workers compute it once per worker."""

    def __init__(self, entries: int = 2, max_bytes: int = 512 << 20) -> None:
        self.entries, self.max_bytes = int(entries), int(max_bytes)
        self._items: dict[Any, MsSsimReference] = {}
        self.hits = self.misses = 0

    def get(self, key: Any, ref: np.ndarray, peak: float) -> MsSsimReference:
        full = (key, tuple(ref.shape), str(ref.dtype), float(peak))
        got = self._items.pop(full, None)
        if got is not None:
            self.hits += 1
        else:
            self.misses += 1
            got = MsSsimReference(ref, peak)
        if got.nbytes <= self.max_bytes:
            self._items[full] = got  # most recent last
            while len(self._items) > self.entries or sum(r.nbytes for r in self._items.values()) > self.max_bytes:
                self._items.pop(next(iter(self._items)))
        return got

    def clear(self) -> None:
        self._items.clear()


REFERENCES = ReferenceCache()  # this process's (each worker has its own)


def mae(pred: Any, target: Any) -> float:
    """Mean absolute error (regression tasks, e.g. age estimation in years)."""
    a, b = _pair(pred, target)
    return float(np.mean(np.abs(a - b)))


def feature_psnr(ref: Any, test: Any, domain: str = "tensor", bit_depth: int = 10) -> tuple[float, str]:
    """PSNR of a feature tensor and the figure's name.

    ``domain="tensor"``: on the float tensor values, peak = max(ref) − min(ref).
    ``domain="packed"``: on the packed integer picture (e.g. 10-bit tiles), peak = 2**bit_depth − 1.
    """
    if domain == "tensor":
        r = as_array(ref).astype(np.float64)
        rng = float(r.max() - r.min()) if r.size else 0.0
        if rng <= 0:
            raise DataError("The reference feature tensor is constant: its dynamic range (the PSNR peak) is 0.")
        return psnr(r, test, data_range=rng), "feature PSNR (tensor domain, peak = max-min of reference)"
    if domain == "packed":
        r = as_array(ref)
        if not np.issubdtype(r.dtype, np.integer):
            raise DataError("Packed-domain feature PSNR takes the integer packed picture; quantise first.")
        return psnr(r, test, bit_depth=bit_depth), f"feature PSNR (packed {bit_depth}-bit picture)"
    raise DataError(f"Unknown feature domain {domain!r}; use 'tensor' or 'packed'.")


# ----------------------------------------------------------------------------- per-job quality records
def _db(peak: float, m: float) -> float | None:
    """PSNR in dB, or None when it is not finite (identical signals, or a constant reference)."""
    if m <= 0 or peak <= 0:
        return None
    return 10.0 * math.log10(peak * peak / m)


def feature_quality(ref: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    """Decoded features against the originals: ``feature_mse`` / ``feature_psnr`` over all the layers
    of ``ref`` together and ``layers: {name: {mse, psnr}}``.

    Tensor domain: the PSNR peak is the reference's dynamic range (max − min) of the layer, or of all
    layers for the overall figure.  A PSNR that is not finite (no error, or a constant reference) is
    None."""
    layers: dict[str, dict[str, float | None]] = {}
    sse, n, lo, hi = 0.0, 0, math.inf, -math.inf
    for name in ref:
        a, b = _pair(ref[name], test[name])
        err = float(np.sum((a - b) ** 2))
        rmin, rmax = float(a.min()), float(a.max())
        m = err / a.size
        layers[name] = {"mse": m, "psnr": _db(rmax - rmin, m)}
        sse, n, lo, hi = sse + err, n + a.size, min(lo, rmin), max(hi, rmax)
    if n == 0:
        raise DataError("No feature layer to compare.")
    m = sse / n
    return {"feature_mse": m, "feature_psnr": _db(hi - lo, m), "layers": layers}


def image_quality(ref_rgb: Any, test_rgb: Any, ref_yuv: Sequence[Any] | None = None,
                  test_yuv: Sequence[Any] | None = None, ref_bit_depth: int = 8, test_bit_depth: int = 10, *,
                  ref_key: Any = None) -> dict[str, Any]:
    """A decoded picture against its original: ``psnr_rgb`` (8-bit RGB, all channels), ``ms_ssim`` (RGB,
    mean over channels; None with ``ms_ssim_note`` when the picture is under 176 samples a side) and,
    with the YUV planes, ``psnr_y``/``psnr_u``/``psnr_v`` of the coded picture at the decoder's bit
    depth (the source planes scaled by ``2**(test_bit_depth - ref_bit_depth)``, as the VTM encoder
    reports PSNR).  Weighted YUV PSNR is formed from the planes by :func:`weighted_yuv`.  A PSNR that
    is not finite (identical pictures) is None.

    ``ref_key`` (the original's content hash): the MS-SSIM reference side is taken from this process's
    :data:`REFERENCES` cache (computed once per original picture, reused by its QPs and scales; the
    same numbers bit for bit)."""
    a, b = _pair(ref_rgb, test_rgb)
    out: dict[str, Any] = {"psnr_rgb": _db(255.0, float(np.mean((a - b) ** 2)))}
    if min(a.shape[:2]) >= MS_SSIM_MIN_SIDE:
        _check_layout(a)
        ref = REFERENCES.get(ref_key, a, 255.0) if ref_key is not None else MsSsimReference(a, 255.0)
        out["ms_ssim"] = _ms_ssim_with(ref, b)
    else:
        out["ms_ssim"] = None
        out["ms_ssim_note"] = f"picture under {MS_SSIM_MIN_SIDE} samples a side: MS-SSIM (5 scales) undefined"
    if ref_yuv is not None and test_yuv is not None:
        out.update(coded_psnr(ref_yuv, test_yuv, ref_bit_depth, test_bit_depth))
    return out


def coded_psnr(ref_yuv: Sequence[Any], test_yuv: Sequence[Any], ref_bit_depth: int = 8,
               test_bit_depth: int = 10) -> dict[str, float | None]:
    """``psnr_y``/``psnr_u``/``psnr_v`` of a coded picture at the decoder's bit depth (the source planes scaled by
    ``2**(test_bit_depth - ref_bit_depth)``, as the VTM encoder reports PSNR); None where not finite."""
    if test_bit_depth < ref_bit_depth:
        raise DataError(f"Decoded bit depth {test_bit_depth} is below the source's {ref_bit_depth}.")
    shift = float(2 ** (int(test_bit_depth) - int(ref_bit_depth)))
    peak = peak_for_bit_depth(test_bit_depth)
    out: dict[str, float | None] = {}
    for name, r, t in zip("yuv", ref_yuv, test_yuv):
        ra, ta = _pair(as_array(r).astype(np.float64) * shift, t)
        out[f"psnr_{name}"] = _db(peak, float(np.mean((ra - ta) ** 2)))
    return out


def sequence_psnr(frames: Sequence[dict[str, float | None]]) -> dict[str, Any]:
    """A sequence's PSNR as the JVET tools summarise it (the VTM encoder's "Average" line): per plane, the mean
    over frames of each frame's PSNR (:func:`coded_psnr`), plus the 6:1:1 weighted ``psnr_yuv``.  A plane with a
    lossless frame (PSNR not finite) has no mean (None, with ``psnr_note``): VTM's 999.99 dB stand-in would
    decide the mean."""
    out: dict[str, Any] = {"frames": len(frames)}
    lossless = []
    for key in ("psnr_y", "psnr_u", "psnr_v"):
        vals = [f.get(key) for f in frames]
        if not vals or any(v is None for v in vals):
            out[key] = None
            if vals:
                lossless.append(key)
        else:
            out[key] = float(sum(vals)) / len(vals)
    out["psnr_yuv"] = weighted_yuv(out)
    if lossless:
        out["psnr_note"] = f"{', '.join(lossless)}: a frame is identical to its source (PSNR not finite): no mean"
    return out


def weighted_yuv(planes: dict[str, float | None], weights: str | Sequence[float] = "6:1:1") -> float | None:
    """(wY·PSNR_Y + wU·PSNR_U + wV·PSNR_V) / (wY + wU + wV) from ``psnr_y/u/v``; None if one is missing."""
    w = YUV_WEIGHTS[weights] if isinstance(weights, str) and weights in YUV_WEIGHTS else weights
    if isinstance(w, str) or len(tuple(w)) != 3 or min(w) < 0 or sum(w) <= 0:
        raise DataError(f"YUV weights {weights!r}: use {', '.join(YUV_WEIGHTS)} or three non-negative numbers.")
    vals = [planes.get(f"psnr_{c}") for c in "yuv"]
    if any(v is None for v in vals):
        return None
    return float(sum(float(x) * v for x, v in zip(w, vals)) / sum(float(x) for x in w))
