"""Safe input: open user-given files as regular files only, with size limits where read whole.

Every reader of user input (conditions, CSV/JSON, result sets, bitstreams, claims) goes through
here, so that a FIFO, a directory, ``/dev/zero`` or a socket is refused with a verdict instead of
hanging or exhausting memory, an oversized file is refused naming its limit, and undecodable text
is a :class:`DataError` that names the file and the fix — never a traceback.

The file is opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open descriptor, so
opening a FIFO with no writer returns at once and there is no race between check and use.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import DataError

MiB = 1 << 20
# Default ceilings for files read whole.  Generous for real inputs, finite for hostile ones.
MAX_TEXT = 256 * MiB  # CSV / JSON / YAML (OID box CSVs are ~100 MB)
MAX_CONDITION = 16 * MiB  # a condition YAML
MAX_BITSTREAM = 1024 * MiB  # a coded stream read whole for parsing
CSV_FIELD_LIMIT = 128 * 1024  # Python's csv default; a larger field is refused, not a traceback


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def open_regular(path: str | os.PathLike, what: str = "file", limit: int | None = None) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (not larger than ``limit``)."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise DataError(f"{what} {p} does not exist; check the path.") from None
    except IsADirectoryError:
        raise DataError(f"{what} {p} is a directory, not a file; give the path of a file.") from None
    except PermissionError:
        raise DataError(f"{what} {p} cannot be read (permission denied); fix its permissions.") from None
    except OSError as exc:
        raise DataError(f"{what} {p} cannot be opened ({exc.strerror}); give a regular file.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{what} {p} is {_kind(st.st_mode)}, not a regular file; give the path of a file.")
        if limit is not None and st.st_size > limit:
            raise DataError(f"{what} {p} is {st.st_size} bytes, over the limit of {limit} bytes for this input; "
                            "check that it is the right file.")
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_regular(path: str | os.PathLike, what: str = "file", limit: int | None = None) -> Path:
    """Refuse ``path`` unless it is a readable regular file; returns it as a Path."""
    open_regular(path, what, limit).close()
    return Path(path)


def read_bytes(path: str | os.PathLike, what: str = "file", limit: int = MAX_TEXT) -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes."""
    with open_regular(path, what, limit) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while reading
        raise DataError(f"{what} {path} is over the limit of {limit} bytes for this input; check the file.")
    return data


def decode_text(data: bytes, path: str | os.PathLike, what: str = "file") -> str:
    """UTF-8 (a leading BOM is dropped); undecodable bytes are a DataError naming the offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} {path} is not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
                        "save it as UTF-8.") from None


def read_text(path: str | os.PathLike, what: str = "file", limit: int = MAX_TEXT) -> str:
    """The whole content of a regular UTF-8 text file of at most ``limit`` bytes."""
    return decode_text(read_bytes(path, what, limit), path, what)


def csv_rows(text: str, path: str | os.PathLike, dialect: type[csv.Dialect] | csv.Dialect = csv.excel,
             what: str = "CSV file") -> list[list[str]]:
    """All rows of CSV ``text``; a malformed row or a field over 128 KiB is a DataError, not a traceback."""
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return list(reader)
    except csv.Error as exc:
        raise DataError(f"{what} {path} line {reader.line_num}: {exc} (fields are limited to {CSV_FIELD_LIMIT} "
                        "bytes); fix the file.") from None
