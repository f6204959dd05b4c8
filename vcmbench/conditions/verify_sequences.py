"""`cttc verify-data` for a sequence condition: the frames on disk and the annotated frames of every
sequence against the evaluated range the condition records.

Layout under the data folder (the reference framework's ``fcm_testdata`` layout), per sequence:

* ``<dir>/seqinfo.ini`` (MOT style; optional): ``frameRate``, ``seqLength``, ``imWidth``, ``imHeight``,
  ``imDir``, ``imExt`` must equal the condition's fps, evaluated frame count and size;
* the frames: the raw 4:2:0 file ``<yuv>`` (8-bit, or 10-bit little-endian in 16-bit words; frame count
  = file size / frame size, a whole number) holding the whole sequence (``total_frames``, from which
  frames ``first_frame .. first_frame + frames - 1`` are evaluated), or a PNG folder ``<dir>/<imDir>/``
  (``img1``: ``000001.png``…) holding exactly the evaluated frames, of the condition's size and bit depth;
* the annotations ``<annotations.file>``: a COCO JSON whose ``images`` are the annotated frames (their
  count must equal the evaluated frames; md5 and annotation count checked when recorded), or a MOT
  ``gt.txt`` (frame numbers 1..frames).

A range that disagrees is refused with the expected and found counts.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

from ..core.errors import DataError
from ..core.inputs import open_regular, read_bytes, read_text
from .checks import FileCheck
from .model import Condition

_MAX_SEQINFO = 1 << 20


def frame_bytes(width: int, height: int, bit_depth: int) -> int:
    """Bytes of one 4:2:0 frame (10-bit samples stored in 16-bit words, as JCT-VC/JVET files are)."""
    return width * height * 3 // 2 * (1 if bit_depth <= 8 else 2)


def yuv_frame_count(path: Path, width: int, height: int, bit_depth: int) -> tuple[int, int]:
    """(whole frames, leftover bytes) of a raw 4:2:0 file."""
    size = path.stat().st_size
    fb = frame_bytes(width, height, bit_depth)
    return size // fb, size % fb


def read_seqinfo(path: Path) -> dict[str, str]:
    """The ``[Sequence]`` section of a MOT ``seqinfo.ini`` (keys as written, e.g. ``frameRate``)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep the case of the keys
    try:
        parser.read_string(read_text(path, "seqinfo.ini", _MAX_SEQINFO))
    except configparser.Error as exc:
        raise ValueError(f"not a seqinfo.ini: {exc}".splitlines()[0]) from None
    if "Sequence" not in parser:
        raise ValueError("no [Sequence] section")
    return dict(parser["Sequence"])


def png_header(path: Path) -> tuple[int, int, int] | None:
    """(width, height, bit depth) from a PNG's IHDR chunk, or None when it is not a PNG."""
    with open_regular(path, "PNG frame") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", head[16:24])
    return w, h, head[24]


def _seqinfo_problems(s: dict[str, Any], info: dict[str, str]) -> list[str]:
    want = {"frameRate": s["fps"], "seqLength": s["frames"], "imWidth": s["width"], "imHeight": s["height"]}
    out = []
    for key, exp in want.items():
        got = info.get(key)
        try:
            ok = got is not None and float(got) == float(exp)
        except ValueError:
            ok = False
        if not ok:
            out.append(f"seqinfo.ini {key}={got} but the condition records {exp:g}")
    return out


def frame_folder(s: dict[str, Any], d: Path, info: dict[str, str] | None) -> tuple[str, str, list[Path] | None]:
    """(imDir, imExt, the frame files sorted by name, or None when the folder is absent) of a sequence's
    PNG frame folder ``<dir>/<imDir>`` (``seqinfo.ini`` ``imDir``/``imExt``, default ``img1``/``.png``)."""
    im_dir = (info or {}).get("imDir", "img1")
    ext = (info or {}).get("imExt", ".png")
    folder = d / s["dir"] / im_dir
    if not folder.is_dir():
        return im_dir, ext, None
    return im_dir, ext, sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ext.lower())


def _frames_on_disk(s: dict[str, Any], d: Path, info: dict[str, str] | None) -> tuple[bool, str, int | None]:
    """(ok, message, frames found) for the raw file or the PNG folder."""
    first, n, total = s["first_frame"], s["frames"], s.get("total_frames")
    if s.get("yuv") and (d / s["yuv"]).is_file():
        found, rest = yuv_frame_count(d / s["yuv"], s["width"], s["height"], s["bit_depth"])
        what = f"{s['yuv']} ({s['width']}x{s['height']} 4:2:0 {s['bit_depth']}-bit)"
        if rest:
            return False, (f"{what} is not a whole number of frames: {found} frames and {rest} bytes over; check the "
                           "size and bit depth"), found
        if total is not None and found != total:
            return False, f"{what} holds {found} frames, the condition expects {total} (total_frames)", found
        if first + n > found:
            return False, (f"{what} holds {found} frames, the evaluated range {first}..{first + n - 1} needs "
                           f"{first + n}"), found
        return True, f"{found} frames in {s['yuv']}, evaluating {first}..{first + n - 1}", found
    im_dir, ext, files = frame_folder(s, d, info)
    if files is not None:
        if len(files) != n:
            return False, f"{s['dir']}/{im_dir} holds {len(files)} {ext} frames, the condition expects {n}", len(files)
        hdr = png_header(files[0]) if ext.lower() == ".png" else None
        if ext.lower() == ".png" and hdr is None:
            return False, f"{files[0].name} is not a PNG file", len(files)
        if hdr is not None and (hdr[0], hdr[1]) != (s["width"], s["height"]):
            return False, f"{files[0].name} is {hdr[0]}x{hdr[1]}, the condition expects {s['width']}x{s['height']}", n
        if hdr is not None and hdr[2] != s["bit_depth"]:
            return False, f"{files[0].name} has {hdr[2]}-bit samples, the condition expects {s['bit_depth']}", n
        return True, f"{n} frames in {s['dir']}/{im_dir}", n
    want = f"{s['yuv']} or " if s.get("yuv") else ""
    return False, f"missing: no frames ({want}{s['dir']}/{im_dir}/*{ext})", None


def _annotated_frames(s: dict[str, Any], d: Path) -> tuple[list[str], int | None]:
    """(problems, annotated frames found) of the sequence's annotation file (none named: a
    reference-output condition, nothing to count)."""
    ref = s.get("annotations")
    if ref is None:
        return [], None
    path = d / ref["file"]
    if not path.is_file():
        return [f"missing annotations {ref['file']}"], None
    try:
        data = read_bytes(path, "annotation file")
    except DataError as exc:
        return [str(exc)], None
    problems = []
    if ref.get("md5") and hashlib.md5(data).hexdigest() != ref["md5"]:
        problems.append(f"{ref['file']} md5 {hashlib.md5(data).hexdigest()} differs from the recorded {ref['md5']}")
    if ref["format"] == "coco-json":
        try:
            coco = json.loads(data.decode("utf-8"))
            ids = sorted(int(im["id"]) for im in coco["images"])
            n_ann = len(coco["annotations"])
        except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError):
            return problems + [f"{ref['file']} is not a COCO JSON with images and annotations"], None
        if ref.get("rows") is not None and n_ann != ref["rows"]:
            problems.append(f"{ref['file']} holds {n_ann} annotations, the condition records {ref['rows']}")
        if len(set(ids)) != len(ids) or (ids and ids != list(range(ids[0], ids[0] + len(ids)))):
            problems.append(f"{ref['file']}: the annotated frame ids are not consecutive ({ids[:3]}..{ids[-3:]})")
        found = len(ids)
    else:  # mot-gt: frame,id,x,y,w,h,... with frames numbered from 1
        frames = set()
        for line in data.decode("utf-8", errors="replace").splitlines():
            head = line.split(",", 1)[0].strip()
            if head:
                try:
                    frames.add(int(float(head)))
                except (ValueError, OverflowError):
                    return problems + [f"{ref['file']} is not a MOT gt.txt (frame number {head!r:.20})"], None
        if frames and (min(frames) < 1 or max(frames) > s["frames"]):
            problems.append(f"{ref['file']} annotates frames {min(frames)}..{max(frames)}, outside the "
                            f"{s['frames']} evaluated frames")
        return problems, len(frames)
    if found != s["frames"]:
        problems.append(f"{ref['file']} annotates {found} frames, the condition evaluates {s['frames']} "
                        f"(frames {s['first_frame']}..{s['first_frame'] + s['frames'] - 1})")
    return problems, found


def check_sequence(s: dict[str, Any], data_dir: str | Path) -> tuple[list[str], str, int | None, int | None]:
    """(problems, frames message, frames found, annotated frames found) of one sequence of a condition:
    its seqinfo.ini, frames on disk and annotated frames against the condition's facts."""
    d = Path(data_dir)
    problems: list[str] = []
    info = None
    ini = d / s["dir"] / "seqinfo.ini"
    if ini.is_file():
        try:
            info = read_seqinfo(ini)
            problems += _seqinfo_problems(s, info)
        except (ValueError, DataError) as exc:
            problems.append(f"{s['dir']}/seqinfo.ini: {exc}")
    try:
        ok_frames, msg, found = _frames_on_disk(s, d, info)
    except DataError as exc:
        ok_frames, msg, found = False, str(exc), None
    if not ok_frames:
        problems.append(msg)
    ann_problems, annotated = _annotated_frames(s, d)
    return problems + ann_problems, msg, found, annotated


def verify_sequences(cond: Condition, data_dir: str | Path) -> list[FileCheck]:
    """One row per sequence: seqinfo.ini, frames on disk and annotated frames against the condition."""
    checks = []
    for s in cond.dataset["sequences"]:
        problems, msg, found, annotated = check_sequence(s, data_dir)
        ok_msg = f"ok: {msg}; {annotated} annotated frames" if annotated is not None else f"ok: {msg}"
        ann = s.get("annotations") or {}
        checks.append(FileCheck(f"sequence {s['name']}", s.get("yuv") or s["dir"], not problems,
                                "; ".join(problems) or ok_msg, ann.get("md5", ""), "",
                                s["frames"], annotated if annotated is not None else found))
    return checks


def _md5_of(path: Path) -> str:
    h = hashlib.md5()
    with open_regular(path, "frame file") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_sequence_checksums(cond: Condition, data_dir: str | Path, sums: dict[str, str]) -> list[FileCheck]:
    """With ``--checksums`` (md5sum lines, names relative to the data folder): one row per sequence, the MD5
    of its raw file (also against the condition's ``yuv_md5`` where recorded) or of every PNG frame."""
    d = Path(data_dir)
    checks = []
    for s in cond.dataset["sequences"]:
        bad: list[str] = []
        if s.get("yuv") and (d / s["yuv"]).is_file():
            label, files = s["yuv"], [s["yuv"]]
        else:
            ini = d / s["dir"] / "seqinfo.ini"
            try:
                info = read_seqinfo(ini) if ini.is_file() else None
            except (ValueError, DataError):
                info = None  # the frame check reports the broken seqinfo.ini
            im_dir, _ext, found = frame_folder(s, d, info)  # the folder seqinfo.ini names (imDir, imExt)
            files = [str(p.relative_to(d)) for p in found or ()]
            label = f"{s['dir']}/{im_dir}"
        if not files:
            checks.append(FileCheck(f"sequence {s['name']} checksums", label, False, "missing: no frames to hash"))
            continue
        for name in files:
            want = [w for w in (sums.get(name), s.get("yuv_md5") if name == s.get("yuv") else None) if w]
            if not want:
                bad.append(f"{name}: no checksum")
                continue
            got = _md5_of(d / name)
            bad += [f"{name}: md5 {got} differs from {w}" for w in want if w != got]
        checks.append(FileCheck(f"sequence {s['name']} checksums", label, not bad,
                                "; ".join(bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
                                if bad else f"ok: {len(files)} file(s), checksums match"))
    return checks
