"""Checking a user's data files (image lists, annotations, class lists) against the checksums and
counts a condition records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import DataError
from .model import Condition


@dataclass
class FileCheck:
    role: str
    file: str
    ok: bool
    message: str
    expected_md5: str = ""
    actual_md5: str = ""
    expected_count: int | None = None
    actual_count: int | None = None


def _md5_and_lines(path: Path) -> tuple[str, int]:
    h = hashlib.md5()
    data = path.read_bytes()
    h.update(data)
    lines = [ln for ln in data.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return h.hexdigest(), len(lines)


def data_files(cond: Condition) -> list[tuple[str, dict[str, Any], str | None]]:
    """(role, file ref, count key) of every user-supplied file the condition records."""
    ds = cond.dataset
    out: list[tuple[str, dict[str, Any], str | None]] = []
    if ds.get("image_list"):
        out.append(("image_list", ds["image_list"], "count"))
    for role, ref in (ds.get("annotations") or {}).items():
        out.append((f"annotations.{role}", ref, "rows"))
    if ds.get("classes"):
        out.append(("classes", ds["classes"], "count"))
    return out


def verify_data(cond: Condition, data_dir: str | Path) -> list[FileCheck]:
    """Check the user's list/annotation files against the recorded checksums and counts.

    Counts: an image list or class list counts its non-empty lines; a CSV counts rows after the
    header; a JSON annotation file records the number of ``annotations`` entries.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"Data directory {data_dir} does not exist. Give the folder holding the condition's files.")
    checks = []
    for role, ref, count_key in data_files(cond):
        path = data_dir / ref["file"]
        exp_n = ref.get(count_key) if count_key else None
        if not path.exists():
            checks.append(FileCheck(role, ref["file"], False, f"missing: {path} does not exist",
                                    ref.get("md5", ""), "", exp_n, None))
            continue
        fmt = ref.get("format", "")
        if path.is_dir():
            n = sum(1 for _ in path.rglob("*_instanceIds.png")) if fmt == "cityscapes-gtfine" else \
                sum(1 for f in path.rglob("*") if f.is_file())
            ok = exp_n is None or n == exp_n
            checks.append(FileCheck(role, ref["file"], ok, "ok (directory; no checksum)" if ok else
                                    f"{count_key} {n} differs from the recorded {exp_n}", "", "", exp_n, n))
            continue
        md5, lines = _md5_and_lines(path)
        if fmt == "coco-json":
            import json

            try:
                n = len(json.loads(path.read_text(encoding="utf-8")).get("annotations", []))
            except (ValueError, AttributeError, RecursionError):  # not JSON, not UTF-8, not an object
                n = -1
        elif fmt.endswith("-csv"):
            n = max(lines - 1, 0)
        else:
            n = lines
        problems = []
        if ref.get("md5") and md5 != ref["md5"]:
            problems.append(f"md5 {md5} differs from the recorded {ref['md5']}")
        if exp_n is not None and n != exp_n:
            problems.append(f"{count_key} {n} differs from the recorded {exp_n}")
        ok_msg = "ok" if ref.get("md5") else "ok (no checksum recorded; count checked)"
        checks.append(FileCheck(role, ref["file"], not problems, "; ".join(problems) or ok_msg,
                                ref.get("md5", ""), md5, exp_n, n))
    return checks
