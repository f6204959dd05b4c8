"""A proponent's cross-check package, treated as untrusted input: safe unpacking and the manifest.

Package layout (a directory or a ``.zip`` of it)::

    manifest.json        what the package holds (below)
    claims.csv|.xlsx     the proponent's claimed results (see ``claims.py``)
    bitstreams/...       one Annex-B VVC bitstream per (image, scale, QP)

``manifest.json``::

    {"vcmbench_crosscheck": 2,                                 # 1 is read too (items with "scale")
     "proponent": "ACME", "title": "m12345 proposal",          # free text (escaped in reports)
     "condition": "demo",                                      # a vcmbench condition name
     "label": "proposal", "codec": "vvenc",                   # informational
     "claims": "claims.csv",                                   # default: claims.csv / claims.xlsx
     "claimed_bd_rate_pct": -20.0,                             # optional: the BD-rate stated (or {scale %: %})
     "quality_key": "AP50",                                    # default: the condition's quality key
     "items": [{"image": "astronaut", "scale_pct": 100, "qp": 22,   # percent (version 1: "scale": 1.0)
                "bitstream": "bitstreams/astronaut_s100_q22.266",
                "width": 512, "height": 512,                   # coded (SPS, cropped) size
                "chroma_format": 420, "bit_depth": 10,         # coded format
                "original_width": 512, "original_height": 512, # the image's size, for bpp
                "decoded_md5": "..."}]}                        # optional: MD5 of the decoded YUV

The package only claims; the checker decides.  Tolerances, decoders, the task network, the BD method
and its remedies come from the checking side (``DEFAULT_TOLERANCES``, the command line, the condition):
a manifest field that tries to set them (``tolerances``, ``decoders``, ...) is reported in the report
and ignored (``manifest.py``).

``decoded_md5`` is the MD5 of the decoded picture written as planar YUV at the coded bit depth
(8-bit: 1 byte per sample; 10-bit: 16-bit little-endian), 4:0:0 as luma only — what
``DecoderApp -d <bit_depth>`` and ``vcmbench verify`` write.  A ``manifest.csv`` with the item
columns above is accepted instead of the JSON (the condition is then given on the command line).

Safety: a zip is inspected completely before anything is written — entries with absolute paths,
``..`` components, drive letters, backslashes, symlinks or other special files, encrypted
entries, duplicates, more than ``Limits.max_entries`` entries or more than ``Limits.max_total``
bytes uncompressed are refused with nothing written; extraction then enforces the sizes on the
bytes actually read.  A directory package may hold no symlinks.  Every path named by the
manifest must stay inside the package.  Names are data: every path part of a member matches
``MEMBER_PART`` (letters, digits, ``.``, ``_``, ``-``; no space, no shell metacharacter, no leading ``-``),
so no member name can change the meaning of a decoder's command line (a user's decoder template may
wrap a shell); a zip's ``__MACOSX/`` resource forks are skipped, never extracted.  No shell is ever involved.
"""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..core.errors import DataError, UsageError

MANIFEST_NAMES = ("manifest.json", "manifest.csv")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
MAX_NAME_BYTES = 255  # one path component (NAME_MAX on Linux and macOS)
MAX_PATH_BYTES = 1024
# one path part of a package member: what reaches a file name or a decoder's command line
MEMBER_PART = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9._-]*$")
MACOSX = "__MACOSX"  # Finder's resource-fork folder in a zip: skipped, never extracted


@dataclass(frozen=True)
class Limits:
    """Defaults for a package of unknown size; ``sized_for(items)`` scales the entry count and the
    total size to what the package's own manifest declares (a CTC package has ~120,000 bitstreams),
    so a real package is accepted while a bomb is still refused with the limit named."""

    max_entries: int = 20000
    max_total: int = 4 * 1024 ** 3  # bytes, uncompressed
    max_file: int = 1024 ** 3  # bytes, one file
    max_manifest: int = 128 * 1024 ** 2  # bytes, manifest / claims text (120,000 items: ~50 MB of JSON)
    max_items: int = 200000
    max_pixels: int = 8192 * 8192  # coded picture size a manifest may state (decoding allocates it)
    max_bitstream: int = 256 * 1024 ** 2  # bytes, one bitstream
    max_pictures: int = 16  # coded pictures in one (image) bitstream


    # per manifest item: entries allowed (the bitstream) and bytes allowed on average
    entries_slack: int = 1000
    bytes_per_item: int = 8 * 1024 ** 2
    max_total_ceiling: int = 2 * 1024 ** 4  # 2 TiB: never more, whatever a manifest says

    def sized_for(self, items: int) -> "Limits":
        from dataclasses import replace

        if items <= 0:
            return self
        return replace(self, max_entries=max(self.max_entries, items + self.entries_slack),
                       max_total=min(self.max_total_ceiling, max(self.max_total, items * self.bytes_per_item)))

    def describe(self, name: str) -> str:
        return f"limit {name} = {getattr(self, name):,}"


class PackageRefused(UsageError):
    """The package is unsafe or malformed; nothing was written."""


def _count_items(text: str, csv_manifest: bool) -> int:
    """Items a manifest declares (0 when unreadable: the default limits then apply)."""
    try:
        if csv_manifest:
            return max(0, sum(1 for line in text.splitlines() if line.strip()) - 1)
        data = json.loads(text)
        items = data.get("items") if isinstance(data, dict) else None
        return len(items) if isinstance(items, list) else 0
    except (ValueError, RecursionError):
        return 0


def manifest_sized_limits(path: Path, limits: Limits) -> Limits:
    """``limits`` sized from the manifest inside ``path`` (a zip or a directory), read with the
    manifest size limit and without extracting anything."""
    path = Path(path)
    if path.is_dir():
        for root in (path, *[c for c in sorted(path.iterdir())[:3] if c.is_dir() and not c.is_symlink()]):
            for m in MANIFEST_NAMES:
                f = root / m
                if f.is_file() and not f.is_symlink() and f.stat().st_size <= limits.max_manifest:
                    return limits.sized_for(_count_items(f.read_text(encoding="utf-8", errors="replace"),
                                                         m.endswith(".csv")))
        return limits
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist()[: limits.max_entries * 8]:
                parts = info.filename.split("/")
                if parts[-1] in MANIFEST_NAMES and len(parts) <= 2 and info.file_size <= limits.max_manifest:
                    with zf.open(info) as fh:
                        text = fh.read(limits.max_manifest + 1)[: limits.max_manifest].decode("utf-8", "replace")
                    return limits.sized_for(_count_items(text, parts[-1].endswith(".csv")))
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        return limits  # inspect_zip reports the problem
    return limits


# ---------------------------------------------------------------------------------------------
# Paths

def check_member_name(name: str, plain: bool = True) -> PurePosixPath:
    """A package-relative path, refused when it could escape the package (returns it normalised);
    ``plain``: also refused unless every part is a plain name (``MEMBER_PART``)."""
    if not name or "\x00" in name:
        raise PackageRefused(f"Refusing package entry {name!r}: empty name or NUL byte.")
    if "\\" in name:
        raise PackageRefused(f"Refusing package entry {name!r}: backslashes are not allowed in paths "
                             "(use '/' as the zip format requires).")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise PackageRefused(f"Refusing package entry {name!r}: absolute path. Package paths must be relative.")
    p = PurePosixPath(name)
    if any(part == ".." for part in p.parts):
        raise PackageRefused(f"Refusing package entry {name!r}: '..' would escape the package directory.")
    long = next((part for part in p.parts if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES), None)
    if long is not None or len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise PackageRefused(f"Refusing package entry {name[:80]!r}...: a name is longer than {MAX_NAME_BYTES} bytes "
                             f"(or the path longer than {MAX_PATH_BYTES}); use shorter file names.")
    if plain and p.parts[0] != MACOSX:
        check_safe_parts(name, p.parts)
    return p


def check_safe_parts(name: str, parts: tuple[str, ...] | list[str]) -> None:
    """Refuse a member whose path parts are not plain names (``MEMBER_PART``)."""
    bad = next((part for part in parts if not MEMBER_PART.match(part)), None)
    if bad is not None:
        raise PackageRefused(f"Refusing package entry {name[:120]!r}: {bad[:80]!r} holds characters other than "
                             "letters, digits, '.', '_' and '-' (spaces and shell metacharacters are not allowed: "
                             "member names reach file names and decoder command lines); ask the proponent to "
                             "rename the file (e.g. IMAGE_sSCALE_qQP.266).")


def resolve_member(root: Path, rel: str) -> Path:
    """``root/rel`` for a manifest path, refused if it escapes ``root`` or is not a regular file."""
    if not isinstance(rel, str):
        raise PackageRefused(f"Package path {rel!r} is not a string.")
    p = check_member_name(rel)
    full = root.joinpath(*p.parts)
    cur = root
    for part in p.parts:
        cur = cur / part
        if cur.is_symlink():
            raise PackageRefused(f"Refusing {rel!r}: {cur.relative_to(root)} is a symbolic link.")
    try:
        full.resolve().relative_to(root.resolve())
    except ValueError:
        raise PackageRefused(f"Refusing {rel!r}: it resolves outside the package.") from None
    if not full.is_file():
        raise DataError(f"The package has no file {rel!r} (named in the manifest). Check the manifest's paths.")
    return full


# ---------------------------------------------------------------------------------------------
# Zip inspection and extraction

def inspect_zip(zip_path: Path, limits: Limits = Limits(), plain: bool = True) -> list[zipfile.ZipInfo]:
    """Check every entry of a zip; raise PackageRefused naming the first problem.  Writes nothing.
    ``plain=False``: a zip that is never extracted (an xlsx) may hold names like ``[Content_Types].xml``."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageRefused(f"{zip_path} is not a readable zip file ({exc}).") from None
    with zf:
        infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise PackageRefused(f"Refusing {zip_path}: {len(infos):,} entries ({limits.describe('max_entries')}, "
                             "sized from the items its manifest declares).")
    total, seen = 0, set()
    for info in infos:
        p = check_member_name(info.filename, plain)
        mode = info.external_attr >> 16
        ftype = stat.S_IFMT(mode)  # 0 when the zip records no Unix file type (then: a plain file)
        if ftype and stat.S_ISLNK(mode):
            raise PackageRefused(f"Refusing package entry {info.filename!r}: symbolic links are not allowed.")
        if ftype and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise PackageRefused(f"Refusing package entry {info.filename!r}: not a regular file or directory.")
        if info.flag_bits & 0x1:
            raise PackageRefused(f"Refusing package entry {info.filename!r}: encrypted entries are not supported.")
        key = str(p).rstrip("/").lower()
        if key in seen:
            raise PackageRefused(f"Refusing package entry {info.filename!r}: duplicate name.")
        seen.add(key)
        if info.file_size > limits.max_file:
            raise PackageRefused(f"Refusing package entry {info.filename!r}: {info.file_size:,} bytes "
                                 f"({limits.describe('max_file')} bytes per file).")
        total += info.file_size
        if total > limits.max_total:
            raise PackageRefused(f"Refusing {zip_path}: more than {limits.max_total:,} bytes uncompressed "
                                 f"({limits.describe('max_total')} bytes, sized from the manifest's items; "
                                 "--max-bytes raises it).")
    return infos


def extract_zip(zip_path: Path, dest: Path, limits: Limits = Limits()) -> Path:
    """Inspect, then extract into ``dest`` (created; must not exist or be empty).  Returns the package root:
    ``dest``, or its single top-level folder when the zip wraps everything in one."""
    infos = inspect_zip(zip_path, limits)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"Extraction directory {dest} is not empty; give a new directory.")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _extract_all(zip_path, dest, infos, limits)
    except BaseException as exc:
        # nothing of a refused package survives: remove what was written (and ``dest`` if made here)
        _remove_contents(dest, remove_dir=created)
        if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                            ValueError)):
            raise PackageRefused(f"Refusing {zip_path.name}: the zip is corrupt ({type(exc).__name__}: {exc}); "
                                 "ask the proponent for an intact package (re-create the zip).") from None
        if isinstance(exc, OSError):
            raise PackageRefused(f"Cannot extract {zip_path.name} into {dest} ({exc.strerror or exc}); "
                                 "check the package and the free space of the work directory.") from None
        raise
    return _package_root(dest)


def _extract_all(zip_path: Path, dest: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    written = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in infos:
            p = check_member_name(info.filename)
            if p.parts[0] == MACOSX:
                continue
            target = dest.joinpath(*p.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            n = 0
            with zf.open(info) as src, open(target, "xb") as out:
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    n += len(chunk)
                    written += len(chunk)
                    if n > info.file_size or n > limits.max_file or written > limits.max_total:
                        raise PackageRefused(f"Refusing package entry {info.filename!r}: it expands beyond its "
                                             f"declared size (a zip bomb?; {limits.describe('max_file')}, "
                                             f"{limits.describe('max_total')} bytes).")
                    out.write(chunk)
            if n != info.file_size:
                raise PackageRefused(f"Refusing package entry {info.filename!r}: {n} bytes extracted, the zip "
                                     f"declares {info.file_size}; re-create the zip.")


def _remove_contents(d: Path, remove_dir: bool) -> None:
    import shutil

    if remove_dir:
        shutil.rmtree(d, ignore_errors=True)
        return
    for child in list(d.iterdir()) if d.is_dir() else []:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _package_root(d: Path) -> Path:
    if any((d / m).is_file() for m in MANIFEST_NAMES):
        return d
    subs = [c for c in d.iterdir() if not c.name.startswith(".") and c.name != "__MACOSX"]
    if len(subs) == 1 and subs[0].is_dir() and any((subs[0] / m).is_file() for m in MANIFEST_NAMES):
        return subs[0]
    raise DataError("The package has no manifest.json (or manifest.csv) at its top level. "
                    "See `vcmbench crosscheck --help` for the package layout.")


def check_directory(root: Path, limits: Limits = Limits()) -> None:
    """Refuse a directory package holding symlinks, too many files or too many bytes."""
    n, total = 0, 0
    for cur, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = Path(cur) / name
            if p.is_symlink():
                raise PackageRefused(f"Refusing package: {p.relative_to(root)} is a symbolic link.")
            check_safe_parts(str(p.relative_to(root)), [name])
        for name in files:
            p = Path(cur) / name
            st = p.lstat()
            if not stat.S_ISREG(st.st_mode):
                raise PackageRefused(f"Refusing package: {p.relative_to(root)} is not a regular file.")
            n += 1
            total += st.st_size
            if n > limits.max_entries or total > limits.max_total:
                raise PackageRefused(f"Refusing package {root}: more than {limits.max_entries:,} files or "
                                     f"{limits.max_total:,} bytes ({limits.describe('max_entries')}, "
                                     f"{limits.describe('max_total')} bytes, sized from the manifest's items).")


def open_package(path: str | os.PathLike, work_dir: str | os.PathLike, limits: Limits = Limits()) -> Path:
    """The package root directory: ``path`` itself (checked) or a zip extracted under ``work_dir``."""
    p = Path(path)
    if p.is_dir():
        limits = manifest_sized_limits(p, limits)
        check_directory(p, limits)
        return _package_root(p)
    if not p.exists():
        raise UsageError(f"Package {p} does not exist. Give a directory or a .zip file.")
    if not p.is_file():
        raise UsageError(f"Package {p} is neither a directory nor a regular file. Give a directory or a .zip file.")
    if not zipfile.is_zipfile(p):
        raise PackageRefused(f"{p} is neither a directory nor a zip file.")
    return extract_zip(p, Path(work_dir) / "package", manifest_sized_limits(p, limits))
