"""One set of units for every human-facing number (CLI, HTML, docx, xlsx).

The committee's convention (MPEG VCM/FCM reporting templates, CompressAI-Vision's ``final_*.csv``:
"accuracy x100 for the MPEG template") is accuracy in percent.  Stored values (result sets, JSON,
the store) stay as computed — fractions for mAP/AP/MOTA — and only the display converts.  Each
quantity below has one unit, one scale factor from the stored value and one number of decimals,
so that the same quantity reads the same in every output:

=================  ===========  ==========  ========  ===========================================
quantity           stored as    shown as    decimals  e.g.
=================  ===========  ==========  ========  ===========================================
accuracy (AP…)     fraction     %           3         ``62.542`` (header ``mAP (%)``)
accuracy (MAE…)    years, …     as stored   3         ``5.210``
bd_rate            percent      %           2         ``-23.17 %``
bd_accuracy        fraction     pp          2         ``+4.03 pp`` (percentage points)
bpp                bits/pixel   bpp         4         ``0.1234``
kbps               kbit/s       kbps        2         ``812.40``
psnr               dB           dB          2         ``38.21``
msssim             [0, 1]       —           4         ``0.9812``
overlap            fraction     %           1         ``87.5 %``
scale              fraction     %           0 (``g``) ``75 %``
time ratio         fraction     %           1         ``96.3`` (EncT/DecT: test time / anchor time)
=================  ===========  ==========  ========  ===========================================

``is_fraction_key`` decides which accuracy keys are fractions (shown in percent): the COCO stats,
OpenImages ``map<IoU>`` (also with a suffix naming the protocol, ``map50_oid``), MOTA/MOTP/IDF1, mIoU.
Error-type keys (``mae``, ``mse``, anything else not listed) are shown as stored.  A key is never guessed from its values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .templating import fixed

# Accuracy keys stored as fractions in [0, 1] and shown in percent (lower-cased comparison).
_FRACTION_KEYS = {"ap", "ap50", "ap75", "aps", "apm", "apl", "ar1", "ar10", "ar100", "ars", "arm", "arl",
                  "map", "miou", "mota", "motp", "idf1", "hota", "accuracy"}


def is_fraction_key(key: str) -> bool:
    """True for accuracy keys stored as a fraction and shown in percent (``AP``, ``map50``, ``MOTA``…)."""
    k = str(key).lower()
    return k in _FRACTION_KEYS or re.fullmatch(r"map\d*(_[a-z0-9]+)*", k) is not None  # map50, map50_oid


@dataclass(frozen=True)
class Quantity:
    name: str
    unit: str          # shown after the number / in the header ("%", "pp", "bpp", "" …)
    factor: float      # display value = stored value × factor
    decimals: int
    signed: bool = False

    def value(self, v: float) -> float:
        """The display value (stored × factor), e.g. for an xlsx cell that holds the shown number."""
        return float(v) * self.factor

    def text(self, v: float | None, unit: bool = False) -> str:
        """The number as shown (``unit=True`` appends the unit, e.g. ``-23.17 %``); None -> ``""``."""
        if v is None:
            return ""
        s = fixed(self.value(v), self.decimals, signed=self.signed)
        return f"{s} {self.unit}" if unit and self.unit else s

    def header(self, label: str | None = None) -> str:
        """A column header naming the unit: ``mAP (%)``, ``BD-rate (%)``, ``bpp``."""
        label = label or self.name
        if not self.unit or self.unit == label:
            return label
        return f"{label} ({self.unit})"

    @property
    def xlsx_format(self) -> str:
        """The openpyxl number format showing ``decimals`` decimals of the display value."""
        body = "0" if self.decimals == 0 else "0." + "0" * self.decimals
        return f"+{body};-{body};{body}" if self.signed else body


BD_RATE = Quantity("BD-rate", "%", 1.0, 2, signed=True)
BPP = Quantity("bpp", "bpp", 1.0, 4)
KBPS = Quantity("kbps", "kbps", 1.0, 2)
PSNR = Quantity("PSNR", "dB", 1.0, 2)
MSSSIM = Quantity("MS-SSIM", "", 1.0, 4)
OVERLAP = Quantity("overlap", "%", 100.0, 1)
TIME_RATIO = Quantity("time ratio", "%", 100.0, 1)


def _picture_quality(key: str) -> Quantity | None:
    """PSNR keys (``psnr``, ``psnr_rgb``, ``psnr_y`` ...) in dB with 2 decimals; MS-SSIM keys with 4."""
    k = str(key).lower()
    if k.startswith("psnr"):
        return Quantity(key, PSNR.unit, 1.0, PSNR.decimals)
    if k.replace("-", "_") in ("ms_ssim", "msssim"):
        return Quantity(key, MSSSIM.unit, 1.0, MSSSIM.decimals)
    return None


def accuracy(key: str) -> Quantity:
    """The display quantity of accuracy key ``key``: percent for fractions, dB for PSNR, as stored otherwise."""
    if is_fraction_key(key):
        return Quantity(key, "%", 100.0, 3)
    return _picture_quality(key) or Quantity(key, "", 1.0, 3)


def bd_accuracy(key: str) -> Quantity:
    """BD-accuracy of ``key``: percentage points (``pp``) for fraction keys, dB for PSNR (BD-PSNR), the key's
    own unit otherwise."""
    if is_fraction_key(key):
        return Quantity(f"BD-{key}", "pp", 100.0, 2, signed=True)
    pq = _picture_quality(key)
    if pq is not None:
        return Quantity(f"BD-{key}", pq.unit, 1.0, pq.decimals, signed=True)
    return Quantity(f"BD-{key}", "", 1.0, 2, signed=True)


def rate(name: str) -> Quantity:
    """``bpp`` or ``kbps`` (any other rate name: 4 decimals, unit = the name)."""
    return {"bpp": BPP, "kbps": KBPS}.get(str(name).lower(), Quantity(str(name), str(name), 1.0, 4))


def scale_text(scale: float) -> str:
    """A scale stored as a fraction, shown in percent: ``0.75`` -> ``75 %``."""
    return f"{scale * 100:g} %"


def scale_pct(scale: float) -> float:
    """A scale stored as a fraction, as the number of percent written in JSON ``scale_pct`` keys: ``0.75`` -> ``75.0``."""
    return round(float(scale) * 100, 6)
