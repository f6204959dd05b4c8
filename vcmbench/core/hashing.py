"""Content hashes of files (streamed): bitstream / decoded-picture MD5s, binary and weight fingerprints."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def md5_file(path: str | os.PathLike) -> str:
    return file_digest(path, "md5")


@lru_cache(maxsize=64)
def short_hash(path: str, n: int = 6, algorithm: str = "sha256") -> str:
    """First ``n`` hex digits of a file's digest: identifies a binary or weights file in signatures.
    Cached per path (binaries and weights do not change during a process)."""
    return file_digest(path, algorithm)[:n]


def file_hash(path: str, n: int = 6) -> str:
    """First ``n`` hex digits of the SHA-256 of a file (identifies a binary in signatures)."""
    return short_hash(str(path), n)
