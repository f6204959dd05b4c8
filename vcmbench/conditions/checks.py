"""``FileCheck``: one row of `cttc verify-data` (a file, a folder or a sequence against the condition)."""

from __future__ import annotations

from dataclasses import dataclass


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
