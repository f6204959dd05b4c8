"""Checking a user's data files (image lists, annotations, class lists) against the checksums and
counts a condition records.

A sequence condition (video, ``dataset.sequences``) is checked per sequence by ``verify_sequences``:
frames on disk and annotated frames against the recorded range.

A Cityscapes layout (annotation ``format: cityscapes-gtfine``) is checked as a whole: the gtFine
folder holds exactly the recorded number of ``<city>/*_gtFine_instanceIds.png`` (``rows``; 500 for
the val split), each with its ``_gtFine_labelIds.png`` and ``_gtFine_polygons.json`` of the same size;
every ``leftImg8bit`` image has its gtFine files and every gtFine set its image, of the same size.
verify-data always checks the whole dataset (``--limit`` does not apply): a subset or a synthetic
layout with fewer files is refused with its count.  Such a layout is verified against a condition
file that records its own count (a copy of the condition with ``rows: N``, as the tests do); `vcmbench
run --limit N` does not need verify-data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..core.errors import DataError
from .checks import FileCheck
from .model import Condition


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
    if cond.is_sequences:  # a video condition: frames on disk and annotated frames per sequence
        from .verify_sequences import verify_sequences

        return verify_sequences(cond, data_dir)
    checks = []
    for role, ref, count_key in data_files(cond):
        path = data_dir / ref["file"]
        exp_n = ref.get(count_key) if count_key else None
        if not path.exists():
            checks.append(FileCheck(role, ref["file"], False, f"missing: {path} does not exist",
                                    ref.get("md5", ""), "", exp_n, None))
            continue
        fmt = ref.get("format", "")
        if fmt == "cityscapes-gtfine":  # (datasets.CITYSCAPES_FORMAT; imported lazily: datasets loads numpy)
            checks.append(_check_gtfine(role, ref, path))
            continue
        if path.is_dir():
            n = sum(1 for f in path.rglob("*") if f.is_file())
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


def _check_gtfine(role: str, ref: dict[str, Any], path: Path) -> FileCheck:
    from .verify_cityscapes import check_gtfine

    ok, msg, n = check_gtfine(path, ref.get("rows"), ref["file"])
    return FileCheck(role, ref["file"], ok, msg, "", "", ref.get("rows"), n)


def _expected_images(cond: Condition, d: Path) -> tuple[list[str], list[Path], str] | None:
    """(expected image names, candidate folders, where the names come from) or None (sample images)."""
    import json

    ds = cond.dataset
    if ds.get("sample_images"):
        return None
    if ds.get("image_list"):
        lst = d / ds["image_list"]["file"]
        if not lst.is_file():
            return [], [], f"{ds['image_list']['file']} (missing)"
        names = [ln.strip() for ln in lst.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        folders = [d / ds["images"]] if ds.get("images") else [d / "images", d]
        return names, folders, ds["image_list"]["file"]
    coco = next((ref for ref in (ds.get("annotations") or {}).values() if ref.get("format") == "coco-json"), None)
    if coco is not None:
        p = d / coco["file"]
        if not p.is_file():
            return [], [], f"{coco['file']} (missing)"
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            images = data.get("images", []) if isinstance(data, dict) else []
        except (ValueError, RecursionError):
            return [], [], f"{coco['file']} (unreadable)"
        if ds.get("image_ids"):
            want = {int(i) for i in ds["image_ids"]}
            images = [im for im in images if int(im.get("id", -1)) in want]
        return [str(im.get("file_name", "")) for im in images], [d / (ds.get("images") or "images")], coco["file"]
    return None


def _read_checksums(path: Path) -> dict[str, str]:
    """``md5sum`` output: ``<md5>  <name>`` per line (``*name`` for binary mode accepted)."""
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 32:
            raise DataError(f"{path} line {n}: expected '<md5>  <file name>' (md5sum format).")
        out[parts[1].strip().lstrip("*")] = parts[0].lower()
    return out


def verify_images(cond: Condition, data_dir: str | Path, checksums: str | Path | None = None) -> list[FileCheck]:
    """Check the condition's images: the folder, the count, every expected name present and (with a
    ``checksums`` file in md5sum format) every image's MD5.  No row for sample-image conditions."""
    from .datasets import cityscapes_ref

    d = Path(data_dir)
    if cond.is_sequences:  # frames are counted by verify_data; their checksums only when asked
        from .verify_sequences import verify_sequence_checksums

        return verify_sequence_checksums(cond, d, _read_checksums(Path(checksums))) if checksums else []
    if cityscapes_ref(cond) is not None:
        from .verify_cityscapes import check_cityscapes_images

        label, ok, msg, exp_n, n = check_cityscapes_images(cond, d, _read_checksums(Path(checksums)) if checksums else None)
        return [FileCheck("images", label, ok, msg, "", "", exp_n, n)]
    exp = _expected_images(cond, d)
    if exp is None:
        return []
    names, folders, src = exp
    ds = cond.dataset
    expected_n = (ds.get("image_list") or {}).get("count") or (len(ds["image_ids"]) if ds.get("image_ids") else None)
    if not names:
        return [FileCheck("images", "images", False, f"cannot tell which images to expect: {src}", "", "",
                          expected_n, None)]
    folder = next((f for f in folders if f.is_dir() and (f / names[0]).is_file()), None) or \
        next((f for f in folders if f.is_dir()), None)
    label = str(folder.relative_to(d)) if folder is not None and folder != d else "."
    if folder is None:
        return [FileCheck("images", str(folders[0].relative_to(d)), False,
                          f"missing: images folder {folders[0]} does not exist ({len(names)} images expected)", "", "",
                          expected_n or len(names), 0)]
    present = [n for n in names if (folder / n).is_file()]
    missing = [n for n in names if not (folder / n).is_file()]
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(names)} images named in {src} are missing from {label} "
                        f"(e.g. {', '.join(missing[:3])})")
    if expected_n is not None and len(names) != expected_n:
        problems.append(f"{src} names {len(names)} images, the condition records {expected_n}")
    if checksums:
        sums = _read_checksums(Path(checksums))
        bad = []
        for n in present:
            want = sums.get(n)
            if want is None:
                bad.append(f"{n}: no checksum")
                continue
            h = hashlib.md5()
            with open(folder / n, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != want:
                bad.append(f"{n}: md5 {h.hexdigest()} differs from {want}")
        if bad:
            problems.append(f"{len(bad)} image checksum problem(s): {'; '.join(bad[:3])}")
    ok_msg = f"ok: {len(present)} images" + (", checksums match" if checksums else " (no checksums given)")
    return [FileCheck("images", label, not problems, "; ".join(problems) or ok_msg, "", "",
                      expected_n or len(names), len(present))]
