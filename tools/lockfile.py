"""Reading the lock files written by ``tools/lock`` (shared by ``tools/lock`` and ``tools/check-newest``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_DIR = ROOT / "lock"


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def python_version(python: str = sys.executable) -> str:
    import subprocess

    return subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], check=True,
                          text=True, capture_output=True, timeout=60).stdout.strip()


def lock_path(pyver: str, which: str) -> Path:
    return LOCK_DIR / f"py{pyver}-{which}.txt"


def read_lock(path: Path) -> dict[str, tuple[str, str, int]]:
    """canonical name -> (name as written, version, number of hashes)."""
    text = path.read_text().replace("\\\n", " ")
    out: dict[str, tuple[str, str, int]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})*)\s*$", line)
        if not m:
            raise ValueError(f"{path.name}: not a pinned, hashed line: {line[:80]!r}")
        out[canonical(m.group(1))] = (m.group(1), m.group(2), m.group(3).count("--hash="))
    return out
