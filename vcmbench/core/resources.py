"""Locate the data directories shipped with the package: cttc/, anchors/, templates/.

In a source checkout (or editable install) they are top-level folders beside ``vcmbench/``;
in an installed wheel they are packaged under ``vcmbench/_data/`` (see pyproject.toml).
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parents[1]  # the vcmbench package folder
NAMES = ("cttc", "anchors", "templates")


def resource_dir(name: str) -> Path:
    if name not in NAMES:
        raise ValueError(f"unknown resource folder {name!r}")
    env = os.environ.get(f"VCMBENCH_{name.upper()}_DIR")
    if env:
        return Path(env)
    installed = _PKG / "_data" / name
    if installed.is_dir():
        return installed
    return _PKG.parent / name
