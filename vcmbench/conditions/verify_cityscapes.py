"""verify-data for the Cityscapes layout (``format: cityscapes-gtfine``; see ``verify_data``).

``DIR/<gtFine folder>/<city>/<id>_gtFine_{instanceIds,labelIds}.png`` + ``<id>_gtFine_polygons.json``
and ``DIR/<images>/<city>/<id>_leftImg8bit.png``, ``<id>`` = ``<city>_<seq>_<frame>``.  Sizes come from
the PNG headers and the polygons' ``imgWidth``/``imgHeight``; nothing is decoded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..core.errors import DataError
from .datasets import (
    CITYSCAPES_IMAGE_SUFFIX,
    GTFINE_SUFFIXES,
    cityscapes_dirs,
    cityscapes_image_files,
    cityscapes_image_id,
    cityscapes_ref,
)
from .model import Condition


def _png_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except OSError:
        return None


def _polygons_size(path: Path) -> tuple[int, int] | None:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        return int(d["imgWidth"]), int(d["imgHeight"])
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None


def _size_text(s: tuple[int, int] | None) -> str:
    return "unreadable" if s is None else f"{s[0]}x{s[1]}"


def _examples(items: list[str]) -> str:
    return ", ".join(items[:3]) + (", ..." if len(items) > 3 else "")


def _gt_sets(gt_dir: Path) -> tuple[dict[tuple[str, str], Path], list[str]]:
    """(city, id) -> instanceIds file, and the instanceIds files whose names are not Cityscapes names."""
    out, bad = {}, []
    for p in sorted(gt_dir.glob(f"*/*{GTFINE_SUFFIXES[0]}")):
        try:
            out[(p.parent.name, cityscapes_image_id(p))] = p
        except DataError:
            bad.append(f"{p.parent.name}/{p.name}")
    return out, bad


def check_gtfine(gt_dir: Path, expected: int | None, label: str) -> tuple[bool, str, int | None]:
    """(ok, message, count of ``<city>/*_gtFine_instanceIds.png``) of a gtFine folder: the recorded count,
    each instanceIds file with its labelIds PNG and polygons JSON, all three of one size."""
    if not gt_dir.is_dir():
        return False, (f"{gt_dir} is not a folder; put the gtFine/<split> folder of the Cityscapes download "
                       "(<city>/<city>_<seq>_<frame>_gtFine_*) there"), None
    sets, badly_named = _gt_sets(gt_dir)
    n = len(sets) + len(badly_named)
    problems = []
    if expected is not None and n != expected:
        msg = f"{label} holds {n} <city>/*{GTFINE_SUFFIXES[0]} file(s), the condition records {expected}"
        elsewhere = sum(1 for _ in gt_dir.rglob(f"*{GTFINE_SUFFIXES[0]}")) - n
        if elsewhere:
            msg += f" ({elsewhere} more lie outside the <city>/ folders one level down: keep the download's layout)"
        msg += (f"; give the complete {label} of the official download (a subset or a synthetic layout is verified "
                f"against a condition file that records its own count, rows: {n})")
        problems.append(msg)
    if badly_named:
        problems.append(f"{len(badly_named)} file(s) not named <city>_<seq>_<frame>{GTFINE_SUFFIXES[0]} "
                        f"(e.g. {_examples(badly_named)}); keep the download's names")
    incomplete, sizes_differ = [], []
    for (city, core), inst in sets.items():
        labels, polygons = (inst.parent / (core + s) for s in GTFINE_SUFFIXES[1:])
        missing = [p.name for p in (labels, polygons) if not p.is_file()]
        if missing:
            incomplete.append(f"{city}/{' and '.join(missing)}")
            continue
        sizes = (_png_size(inst), _png_size(labels), _polygons_size(polygons))
        if None in sizes or len(set(sizes)) != 1:
            sizes_differ.append(f"{core} (instanceIds {_size_text(sizes[0])}, labelIds {_size_text(sizes[1])}, "
                                f"polygons {_size_text(sizes[2])})")
    if incomplete:
        problems.append(f"{len(incomplete)} instanceIds file(s) lack their companion(s): missing {_examples(incomplete)}; "
                        "every image needs _gtFine_instanceIds.png, _gtFine_labelIds.png and _gtFine_polygons.json")
    if sizes_differ:
        problems.append(f"{len(sizes_differ)} gtFine set(s) disagree on the image size or cannot be read: "
                        f"{_examples(sizes_differ)}; re-extract gtFine from the download")
    if problems:
        return False, "; ".join(problems), n
    return True, f"ok: {n} instanceIds files, each with its labelIds PNG and polygons JSON, sizes agree", n


def check_cityscapes_images(cond: Condition, d: Path, sums: dict[str, str] | None
                            ) -> tuple[str, bool, str, int | None, int]:
    """(folder, ok, message, expected count, count) of the images: every ``leftImg8bit`` image has its gtFine
    set and every set its image, of the same size; the count is the recorded one; with ``sums`` (md5sum
    names relative to the images folder, or bare file names) every image's MD5."""
    folder, gt_dir = cityscapes_dirs(cond, d)
    expected = (cityscapes_ref(cond) or {}).get("rows")
    label = cond.dataset.get("images") or str(folder.relative_to(d))
    if not folder.is_dir():
        return (label, False, f"missing: images folder {folder} does not exist; put the Cityscapes leftImg8bit/<split> "
                f"folder (<city>/*{CITYSCAPES_IMAGE_SUFFIX}) there", expected, 0)
    images: dict[tuple[str, str], Path] = {}
    badly_named = []
    for p in cityscapes_image_files(folder):
        try:
            images[(p.parent.name, cityscapes_image_id(p))] = p
        except DataError:
            badly_named.append(f"{p.parent.name}/{p.name}")
    gts, _ = _gt_sets(gt_dir) if gt_dir.is_dir() else ({}, [])
    problems = []
    if expected is not None and len(images) != expected:
        problems.append(f"{label} holds {len(images)} <city>/*{CITYSCAPES_IMAGE_SUFFIX} image(s), the condition "
                        f"records {expected}")
    if badly_named:
        problems.append(f"{len(badly_named)} image(s) not named <city>_<seq>_<frame>{CITYSCAPES_IMAGE_SUFFIX} "
                        f"(e.g. {_examples(badly_named)})")
    no_gt = [f"{c}/{i}" for (c, i) in images if (c, i) not in gts]
    no_image = [f"{c}/{i}" for (c, i) in gts if (c, i) not in images]
    if no_gt:
        problems.append(f"{len(no_gt)} image(s) have no gtFine files in {gt_dir} (e.g. {_examples(no_gt)}); use the "
                        "gtFine folder of the same split")
    if no_image:
        problems.append(f"{len(no_image)} gtFine set(s) have no image in {label} (e.g. {_examples(no_image)}); use the "
                        "leftImg8bit folder of the same split")
    differ = []
    for key, p in images.items():
        if key in gts:
            si, sg = _png_size(p), _png_size(gts[key])
            if si is None or si != sg:
                differ.append(f"{key[1]} (image {_size_text(si)}, gtFine {_size_text(sg)})")
    if differ:
        problems.append(f"{len(differ)} image(s) differ in size from their gtFine files or cannot be read: "
                        f"{_examples(differ)}")
    if sums is not None:
        bad = []
        for (city, _), p in images.items():
            want = sums.get(f"{city}/{p.name}") or sums.get(p.name)
            if want is None:
                bad.append(f"{city}/{p.name}: no checksum")
                continue
            got = hashlib.md5(p.read_bytes()).hexdigest()
            if got != want:
                bad.append(f"{city}/{p.name}: md5 {got} differs from {want}")
        if bad:
            problems.append(f"{len(bad)} image checksum problem(s): {'; '.join(bad[:3])}")
    ok_msg = (f"ok: {len(images)} images, each with its gtFine files, sizes agree"
              + (", checksums match" if sums is not None else " (no checksums given)"))
    return label, not problems, "; ".join(problems) or ok_msg, expected, len(images)
