"""Result records: typed dataclasses serialised to JSON with ``schema_version`` and a signature.

Contract between the pipeline (producer), the BD engine and reports, anchors and cross-check
(consumers):

* ``JobRecord``   one (image, scale, QP) job: rate, verification verdict, timings.
* ``RatePoint``   one row of a result set: aggregated over the dataset at one (scale, QP).
* ``ResultSet``   one condition x codec (x label): the rows a report / BD computation consumes.

``accuracy`` is a dict of named metrics (e.g. ``{"map50_oid": 0.78}`` or
``{"AP": 0.32, "AP50": 0.50, ...}``); ``ResultSet.quality_key`` names the one used as the
quality axis for BD computations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError
from .jsonio import read_json, write_json

SCHEMA_VERSION = 1


def _check_schema(d: dict, what: str) -> None:
    if not isinstance(d, dict):
        raise DataError(f"{what}: expected a JSON object, got {type(d).__name__}.")
    v = d.get("schema_version")
    if v != SCHEMA_VERSION:
        raise DataError(
            f"{what}: schema_version {v!r} is not supported (this vcmbench reads {SCHEMA_VERSION}). "
            "Re-create it with this version of vcmbench."
        )


def _from_dict(cls, d: dict, what: str):
    if not isinstance(d, dict):
        raise DataError(f"{what}: expected a JSON object, got {type(d).__name__}.")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise DataError(f"{what}: unknown field(s) {unknown}; expected a subset of {sorted(names)}.")
    missing = [f.name for f in dataclasses.fields(cls)
               if f.name not in d and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise DataError(f"{what}: missing field(s) {missing}.")
    for f in dataclasses.fields(cls):
        if f.name in d:
            _check_type(d[f.name], str(f.type), f"{what}: field {f.name!r}")
    return cls(**d)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_type(v: Any, annotation: str, where: str) -> None:
    """Refuse a value of the wrong JSON type, and any non-finite number (a NaN would become a silent
    wrong number downstream)."""
    import math

    def bad(expected: str) -> DataError:
        return DataError(f"{where} is {v!r:.60}, expected {expected}; fix or re-create the file.")

    if annotation == "float":
        if not _is_number(v):
            raise bad("a number")
        if not math.isfinite(v):
            raise bad("a finite number")
    elif annotation == "int":
        if not (_is_number(v) and math.isfinite(v) and float(v).is_integer()):
            raise bad("an integer")
    elif annotation == "str":
        if not isinstance(v, str):
            raise bad("a string")
    elif annotation == "bool":
        if not isinstance(v, bool):
            raise bad("true or false")
    elif annotation == "dict[str, float]":
        if not isinstance(v, dict):
            raise bad("an object of name: number")
        for k, x in v.items():
            if not _is_number(x) or not math.isfinite(x):
                raise DataError(f"{where}[{k!r}] is {x!r:.60}, expected a finite number; fix or re-create the file.")
    elif annotation.startswith("dict["):
        if not isinstance(v, dict):
            raise bad("an object")
    elif annotation == "list[str]":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise bad("a list of strings")
    elif annotation.startswith("list["):
        if not isinstance(v, list):
            raise bad("a list")


@dataclass
class JobRecord:
    job_id: str
    image_id: str
    scale: float
    qp: int
    width: int  # original (unpadded, unscaled) size
    height: int
    coded_width: int
    coded_height: int
    bits: int  # bitstream bits (plus side information when the condition counts it)
    verified: bool
    verdict: str  # "ok" or "not decodable: <reason>" / "hash mismatch: ..."
    encode_seconds: float = 0.0
    decode_seconds: float = 0.0
    task_seconds: float = 0.0
    bitstream: str = ""  # path relative to the run directory
    side_info_bits: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    signature: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "JobRecord":
        _check_schema(d, "job record")
        return _from_dict(cls, d, "job record")


@dataclass
class RatePoint:
    scale: float
    qp: int
    bits: int
    pixels: int  # sum of original W x H over the images counted
    bpp: float  # bits / pixels (DESIGN.md 5.1), not a mean of per-image bpp
    accuracy: dict[str, float]
    images: int
    encode_seconds: float = 0.0
    decode_seconds: float = 0.0
    task_seconds: float = 0.0
    failed: int = 0  # jobs whose bitstream did not verify (reported, not scored)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "RatePoint":
        return _from_dict(cls, d, "rate point")


@dataclass
class ResultSet:
    condition: str
    codec: str
    label: str  # e.g. "anchor", "test", "vvenc-medium-75%"
    quality_key: str  # key into RatePoint.accuracy used as the quality axis
    points: list[RatePoint]
    signature: str
    metric: str = ""  # human name of the accuracy metric, e.g. "OID challenge mAP@0.5"
    dataset: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)  # env, command lines, run dir
    notes: list[str] = field(default_factory=list)  # e.g. "ground truth: reference-output"
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ResultSet":
        if not isinstance(d, dict):
            raise DataError(f"result set: expected a JSON object, got {type(d).__name__}.")
        _check_schema(d, "result set")
        d = dict(d)
        if not isinstance(d.get("points", []), list):
            raise DataError("result set: field 'points' must be a list of rate points; fix or re-create the file.")
        d["points"] = [RatePoint.from_dict(p) for p in d.get("points", [])]
        return _from_dict(cls, d, "result set")

    def save(self, path: str | Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "ResultSet":
        data = read_json(path)
        if not isinstance(data, dict):
            raise DataError(f"{path}: expected a JSON object with a result set.")
        return cls.from_dict(data)

    def rd_points(self, scale: float | None = None) -> list[tuple[float, float]]:
        """(bpp, quality) pairs, optionally restricted to one scale."""
        out = []
        for p in self.points:
            if scale is not None and abs(p.scale - scale) > 1e-9:
                continue
            if self.quality_key not in p.accuracy:
                raise DataError(
                    f"Result set {self.label!r}: point scale={p.scale} qp={p.qp} has no {self.quality_key!r} "
                    f"accuracy (has {sorted(p.accuracy)})."
                )
            out.append((p.bpp, p.accuracy[self.quality_key]))
        return out


RESULTSET_FILE = "resultset.json"


def load_result_set(path: str | Path) -> ResultSet:
    """A result set from a ``*.json`` file or a run directory (``RUNDIR/resultset.json``)."""
    p = Path(path)
    if p.is_dir():
        f = p / RESULTSET_FILE
        if not f.exists():
            raise DataError(
                f"{p} is a directory without {RESULTSET_FILE}: is it a finished vcmbench run directory? "
                "Run `vcmbench results RUNDIR` to (re)build it."
            )
        return ResultSet.load(f)
    if not p.exists():
        raise DataError(f"Result set {p} does not exist. Give a run directory or a result-set JSON file.")
    return ResultSet.load(p)
