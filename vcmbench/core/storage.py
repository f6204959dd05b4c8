"""Disk faults (full, read-only, failing) told apart from verdicts.

A decoder that cannot write its pictures because the disk is full fails exactly like a decoder that
cannot decode the stream: both exit non-zero or leave a short file.  A verdict must come only from the
decoders, so every negative decode is checked against the disk (:func:`check_room`) before it is
believed, and an ``OSError`` whose errno is a storage fault (:data:`STORAGE_ERRNOS`) becomes a
:class:`~.errors.StorageError`: the job ends as failed-to-run and a resume redoes it.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from .errors import StorageError, UsageError


class ReadOnlyOutput(UsageError):
    """An output folder this process cannot write (read-only file system, permissions)."""

STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT})
_FIX = {
    errno.ENOSPC: "free some space on it",
    errno.EDQUOT: "free some space on it (the disk quota is used up)",
    errno.EROFS: "make it writable or choose another --out",
    errno.EIO: "check the disk (an input/output error)",
}
_SQLITE_FULL = ("database or disk is full", "disk i/o error", "attempt to write a readonly database")


def is_storage_fault(exc: BaseException) -> bool:
    """An ``OSError`` with a storage errno, or SQLite's disk-full / I/O / read-only error."""
    if isinstance(exc, StorageError):
        return True
    if isinstance(exc, OSError):
        return exc.errno in STORAGE_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        return any(m in str(exc).lower() for m in _SQLITE_FULL)
    return False


def storage_error(exc: BaseException, what: str) -> StorageError:
    """A :class:`StorageError` for ``exc`` (see :func:`is_storage_fault`) met while doing ``what``."""
    if isinstance(exc, StorageError):
        return exc
    code = getattr(exc, "errno", None)
    where = getattr(exc, "filename", None)
    if code is None and isinstance(exc, sqlite3.Error):  # SQLite names the fault in words only
        text = str(exc).lower()
        code = errno.ENOSPC if "full" in text else errno.EROFS if "readonly" in text else errno.EIO
    why = os.strerror(code) if code in STORAGE_ERRNOS else str(exc)
    fix = _FIX.get(code, "free some space on it or choose another --out")  # type: ignore[arg-type]
    return StorageError(f"{what}: {why}" + (f" ({where})" if where else "") + f": {fix}, then re-run the same "
                        "command; the jobs that did not finish are redone (nothing was recorded for them).")


def unwritable(folder: str | os.PathLike, exc: BaseException, what: str = "--out") -> Exception | None:
    """The error to raise for ``exc``, met creating or opening files in ``folder``: a read-only folder (or one
    this user may not write) is bad usage (:class:`~.errors.UsageError`, exit 2: choose another ``what``); a
    full or failing disk a :class:`StorageError`; ``None`` when ``exc`` is neither."""
    code = getattr(exc, "errno", None)
    readonly = code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in str(exc).lower()
    if not readonly and isinstance(exc, sqlite3.Error) and not is_storage_fault(exc):
        readonly = os.path.isdir(folder) and not os.access(folder, os.W_OK)
    if readonly:
        why = os.strerror(code) if isinstance(code, int) and code else "it is read-only"
        return ReadOnlyOutput(f"Cannot write in {folder} ({why}): choose a writable {what} (nothing was written).")
    if is_storage_fault(exc):
        return storage_error(exc, f"writing in {folder}")
    return None


def check_room(folder: str | os.PathLike, nbytes: int, what: str) -> None:
    """Raise :class:`StorageError` when ``folder`` cannot take ``nbytes`` more bytes now (written, synced,
    removed): the test that a decoder's failure was not the disk's."""
    path = Path(folder) / f".vcmbench-room-{os.getpid()}.tmp"
    chunk = b"\0" * min(max(int(nbytes), 1), 1 << 20)
    left = max(int(nbytes), 1)
    try:
        with open(path, "wb") as fh:
            while left > 0:
                fh.write(chunk[:left])
                left -= len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS:
            raise storage_error(exc, what) from None
        raise
    finally:
        try:
            path.unlink()
        except OSError:
            pass
