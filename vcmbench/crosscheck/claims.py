"""The proponent's claimed results: a CSV or xlsx table with one row per (scale, QP).

Columns (header names are matched case-insensitively; order is free):

* ``scale_pct`` resolution scale in percent (100, 75, ...; what ``vcmbench package`` writes), or ``scale``
  in (0, 1] or percent (earlier packages); optional, 100 % when absent;
* ``qp``     the QP;
* ``bpp``    the claimed dataset bpp (sum of bits / sum of original pixels, DESIGN.md 5.1);
* ``bits``   optional: the claimed total bits at that point (compared exactly);
* the accuracy: a column named as the condition's quality key (e.g. ``AP50``, ``map50``) or
  ``mAP``; its unit must be the condition's (fractions, not percent).

A CSV keeps each figure as printed, so a claimed ``0.4412`` is accepted when the recomputed
value is within half a unit of its last printed digit, or within the stated tolerance when that
is larger (see ``check.py``).  An xlsx cell holds a binary number: only the stated tolerance applies.
xlsx files are opened read-only with cached values (no formula is evaluated) after the same zip
inspection as a package.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DataError
from ..core.inputs import csv_rows, read_text
from .package import Limits, PackageRefused, inspect_zip

ACCURACY_ALIASES = ("mAP", "map", "accuracy")
MAX_ROWS = 10000


@dataclass
class Claim:
    scale: float
    qp: int
    values: dict[str, float]  # "bpp", "bits", "accuracy"
    printed: dict[str, str | None] = field(default_factory=dict)  # as printed (CSV) or None (xlsx numbers)
    line: int = 0


@dataclass
class Claims:
    file: str
    accuracy_column: str | None
    rows: list[Claim]
    notes: list[str] = field(default_factory=list)

    def get(self, scale: float, qp: int) -> Claim | None:
        for c in self.rows:
            if abs(c.scale - scale) < 1e-9 and c.qp == qp:
                return c
        return None


def _cells_from_csv(path: Path, limits: Limits) -> list[list[Any]]:
    if path.stat().st_size > limits.max_manifest:
        raise PackageRefused(f"{path.name} is larger than {limits.max_manifest} bytes.")
    text = read_text(path, "Claims file", limits.max_manifest)
    dialect = csv.excel
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
    except csv.Error:
        pass
    return [row for row in csv_rows(text, path.name, dialect, "Claims file") if any(c.strip() for c in row)]


def _cells_from_xlsx(path: Path, limits: Limits) -> list[list[Any]]:
    inspect_zip(path, Limits(max_entries=1000, max_total=limits.max_manifest * 4, max_file=limits.max_manifest * 4),
                plain=False)  # read by openpyxl, never extracted
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure of untrusted input is a data error
        raise DataError(f"{path.name} is not a readable xlsx workbook ({type(exc).__name__}: {exc}).") from None
    try:
        ws = wb["claims"] if "claims" in wb.sheetnames else wb.worksheets[0]
        rows = []
        for i, row in enumerate(ws.iter_rows(values_only=True)):
            if i > MAX_ROWS:
                raise PackageRefused(f"{path.name}: more than {MAX_ROWS} rows.")
            if any(c not in (None, "") for c in row):
                rows.append(list(row))
        return rows
    finally:
        wb.close()


def _number(v: Any, where: str) -> tuple[float, str | None]:
    if isinstance(v, bool) or v is None or (isinstance(v, str) and not v.strip()):
        raise DataError(f"{where}: empty or not a number ({v!r}). Every claimed figure must be a number "
                        "(an xlsx formula whose value was never saved reads as empty: save the workbook in a "
                        "spreadsheet application, or send a CSV).")
    if isinstance(v, (int, float)):
        f, printed = float(v), None
    else:
        text = str(v).strip()
        try:
            f = float(text)
        except ValueError:
            raise DataError(f"{where}: {text[:40]!r} is not a number.") from None
        printed = text
    if not math.isfinite(f):
        raise DataError(f"{where}: {v!r} is not a finite number (no NaN claims: leave the row out).")
    return f, printed


def load_claims(path: Path, quality_key: str | None, limits: Limits = Limits()) -> Claims:
    """Parse a claims file (``.csv`` or ``.xlsx``); see the module docstring."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        cells = _cells_from_csv(path, limits)
    elif suffix in (".xlsx", ".xlsm"):
        cells = _cells_from_xlsx(path, limits)
    else:
        raise DataError(f"Claims file {path.name}: use .csv or .xlsx.")
    if len(cells) < 2:
        raise DataError(f"Claims file {path.name} has no data rows (a header and one row per scale/QP).")
    if len(cells) > MAX_ROWS:
        raise PackageRefused(f"Claims file {path.name}: more than {MAX_ROWS} rows.")
    header = [str(c).strip() if c is not None else "" for c in cells[0]]
    low = {h.lower(): i for i, h in enumerate(header) if h}
    notes = []
    for need in ("qp", "bpp"):
        if need not in low:
            raise DataError(f"Claims file {path.name}: no {need!r} column (header: {header}). "
                            "Columns: scale_pct, qp, bpp, the accuracy (e.g. AP50 or mAP), optionally bits.")
    acc_col = None
    for cand in ([quality_key] if quality_key else []) + list(ACCURACY_ALIASES):
        if cand and cand.lower() in low:
            acc_col = header[low[cand.lower()]]
            break
    if acc_col is None:
        notes.append(f"no accuracy column ({quality_key or 'mAP'}) in {path.name}: accuracy claims are not checked")
    elif quality_key and acc_col.lower() != quality_key.lower():
        notes.append(f"claimed accuracy column {acc_col!r} is compared with the condition's {quality_key!r}")
    scale_col = "scale_pct" if "scale_pct" in low else "scale" if "scale" in low else None
    if scale_col is None:
        notes.append(f"no scale_pct (or scale) column in {path.name}: every claim is taken as scale 100 %")
    rows: list[Claim] = []
    seen = set()
    for n, row in enumerate(cells[1:], start=2):
        def cell(name: str) -> Any:
            i = low[name]
            return row[i] if i < len(row) else None

        where = f"{path.name} row {n}"
        qp_f, _ = _number(cell("qp"), f"{where}, qp")
        if not qp_f.is_integer():
            raise DataError(f"{where}: qp {qp_f} is not an integer.")
        scale = 1.0
        if scale_col is not None:
            raw = cell(scale_col)
            scale, _ = _number(raw.strip().rstrip("%") if isinstance(raw, str) else raw, f"{where}, {scale_col}")
            if scale_col == "scale_pct":
                if not 0 < scale <= 100:
                    raise DataError(f"{where}: scale_pct {scale:g} is outside (0, 100]; write the scale in percent.")
                scale /= 100.0
            else:
                if 1 < scale <= 100:
                    scale /= 100.0
                if not 0 < scale <= 1:
                    raise DataError(f"{where}: scale {scale} is outside (0, 1] (or 1-100 %).")
        vals, printed = {}, {}
        vals["bpp"], printed["bpp"] = _number(cell("bpp"), f"{where}, bpp")
        if "bits" in low and cell("bits") not in (None, ""):
            vals["bits"], printed["bits"] = _number(cell("bits"), f"{where}, bits")
        if acc_col is not None:
            vals["accuracy"], printed["accuracy"] = _number(cell(acc_col.lower()), f"{where}, {acc_col}")
        key = (round(scale, 9), int(qp_f))
        if key in seen:
            raise DataError(f"{where}: a second claim for scale {scale * 100:g} %, QP {int(qp_f)}.")
        seen.add(key)
        rows.append(Claim(scale=scale, qp=int(qp_f), values=vals, printed=printed, line=n))
    return Claims(file=path.name, accuracy_column=acc_col, rows=rows, notes=notes)


def find_claims_file(root: Path, named: str | None) -> str | None:
    """The claims file's package-relative name: the manifest's, else claims.csv / claims.xlsx."""
    if named:
        return named
    for cand in ("claims.csv", "claims.xlsx"):
        if (root / cand).is_file():
            return cand
    return None
