"""The sequences of a video condition (FCM SFU-HW-Objects-v1, TVD, HiEve) and how to read their frames.

A sequence dataset (``dataset.sequences``, schema in ``conditions.schema_sequences``) names, per
sequence, its raw 4:2:0 file (JCT-VC naming, holding ``total_frames`` frames of which
``first_frame .. first_frame + frames - 1`` are evaluated) or its PNG frame folder with a
``seqinfo.ini`` (the MOT layout, holding the evaluated frames only).  ``SequenceRef`` is the
resolved, checked sequence a run works on (the video counterpart of ``datasets.ImageRef``).

Functions (the video contract of issue 22):

* :func:`list_sequences` resolves a condition's sequences against a data folder, refusing data that
  disagrees with the condition (the checks of ``vcmbench cttc verify-data``);
* :func:`write_source_yuv` writes the evaluated frames as ONE planar 4:2:0 file (the codec's input);
* :func:`frame_rgb` gives an uncompressed frame as RGB (the task network's reference input);
* :func:`yuv_frame_to_rgb` turns a decoded frame into RGB with the same colour mode.

Colour.  A raw JCT-VC file is already YUV 4:2:0: the codec gets its bytes (bit depth changed by a
shift only), and RGB for the network comes from the condition's colour mode (``preprocess.color``),
the same conversion for the uncompressed and the decoded frames.  PNG frames are RGB: they are
converted to 4:2:0 with the colour mode exactly as pictures are (``coding.yuv.ctc_rgb_to_yuv`` at
scale 1; the sizes are even, nothing is padded), and decoded frames back with ``ctc_yuv_to_rgb``.

What the reference framework does (CompressAI-Vision @31165daf, read for this module):

* network input, SFU: ``data/mpeg-fcm/SFUHW/prepare_sfu_data.py`` turns the JCT-VC file into PNG
  frames with ``ffmpeg -s WxH -r FPS -pix_fmt yuv420p -i SEQ.yuv -vf select=gte(n,FirstFrame)
  -start_number 0 -vframes N <dir>_%3d.png``: FFmpeg's default YUV -> RGB, i.e. BT.601 LIMITED range
  (no range option at all), swscale's default bicubic chroma up-sampling; the detector reads those
  PNGs (detectron2 ``DatasetMapper``/``cv2.imread``).  With a raw file this is what the colour mode
  ``scripts-literal`` does on the way back (its ``-src_range 1`` before ``-i`` is ignored by every
  FFmpeg, DESIGN.md 5.1), which is why the FCM conditions set that mode;
* codec input (pixel coding, ``codecs/encdec_utils/png_yuv.py`` ``PngFilesToYuvFileConverter``): the
  PNG frames through ``ffmpeg -pattern_type glob -i '*.png' -vf pad=ceil(iw/2)*2:ceil(ih/2)*2
  -pix_fmt yuv420p10le -dst_range 1`` (FFmpeg >= 7 ignores ``-dst_range 1``: limited range), or,
  with ``use_yuv: True`` (default False), a copy of the sequence's own YUV file; decoded YUV -> PNG
  with ``-src_range 1`` before ``-i`` (ignored) or, in VCM mode, no range option.  vcmbench codes the
  raw file's own bytes instead of that RGB round trip (the JVET practice for JCT-VC sequences);
  the FCM anchors themselves code features, not pixels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import ConditionError, DataError, UsageError
from ..core.inputs import open_regular, read_bytes
from .model import Condition
from .verify_sequences import check_sequence, frame_bytes, frame_folder, read_seqinfo

if TYPE_CHECKING:
    from ..coding.yuv import YuvFormat


@dataclass(frozen=True)
class SequenceRef:
    """One sequence of a run, resolved against the data folder.

    ``image_id`` (= ``name``) lets a sequence stand where a run stores an image id; ``eval_ids`` are the
    image ids of the evaluated frames in the sequence's ground truth (frame k <-> ``eval_ids[k]``).
    """

    name: str  # the sequence's name in reports (condition's ``name``)
    cls: str  # its class (the QP ladder's key)
    width: int
    height: int
    fps: float
    bit_depth: int  # of the source frames (8 or 10)
    first_frame: int  # FrameSkip into the raw file (0 for a PNG folder: it holds the evaluated frames only)
    frames: int  # FramesToBeEncoded: the evaluated frames
    intra_period: int
    digest: str  # md5 over the evaluated frames' bytes (raw file range, or the PNG files' bytes in order)
    yuv: str | None = None  # absolute path of the raw 4:2:0 file, or None
    frame_files: tuple[str, ...] = ()  # absolute paths of the PNG frames in order (empty for a raw file)
    annotations: str | None = None  # absolute path of the ground truth file (None: reference-output runs)
    annotation_format: str = "coco-json"  # coco-json | mot-gt
    eval_ids: tuple[int, ...] = ()  # ground-truth image id of each evaluated frame

    @property
    def image_id(self) -> str:
        return self.name

    @property
    def pixels(self) -> int:
        """Original pixels over the evaluated frames (the bpp denominator)."""
        return self.width * self.height * self.frames

    @classmethod
    def from_dict(cls, d: dict) -> "SequenceRef":
        """The sequence as a run stored it (``SequenceRef.__dict__`` in run.json: tuples came back as lists)."""
        known = {f: d[f] for f in cls.__dataclass_fields__ if f in d}
        missing = [f for f in ("name", "cls", "width", "height", "fps", "bit_depth", "first_frame", "frames",
                               "intra_period", "digest") if f not in known]
        if missing:
            raise DataError(f"A stored sequence lacks {', '.join(missing)}: the run.json is damaged or from another "
                            "vcmbench; start the run again.")
        known["frame_files"] = tuple(known.get("frame_files") or ())
        known["eval_ids"] = tuple(int(i) for i in known.get("eval_ids") or ())
        return cls(**known)


# ------------------------------------------------------------------------------------------------ listing

_CHUNK = 1 << 22


def _fix(cond: Condition, data_dir: str | Path) -> str:
    where = cond.path if cond.path is not None else cond.name
    return f"check the data folder with `vcmbench cttc verify-data {where} --data {data_dir}`"


def run_sequences(cond: Condition, sets: Sequence[str] = ()) -> list[str]:
    """The names of the sequences a run of ``cond`` codes, in condition order: every sequence of a
    reporting class once the optional ``sets`` are applied (``Condition.sequence_classes``)."""
    keep = {n for names in cond.sequence_classes(list(sets)).values() for n in names}
    return [s["name"] for s in cond.dataset["sequences"] if s["name"] in keep]


def list_sequences(cond: Condition, data_dir: str | Path, limit: int | None = None, names: Sequence[str] = (),
                   sets: Sequence[str] = ()) -> list[SequenceRef]:
    """The condition's sequences resolved against ``data_dir``, in condition order: the optional ``sets``
    applied, then ``names`` selected (unknown names refused), then the first ``limit``.

    Each sequence passes the checks of ``vcmbench cttc verify-data`` (seqinfo.ini, frames on disk,
    annotated frames) or the call fails with a DataError naming what disagrees (expected and found
    counts) and the verify-data command.  ``digest`` is the md5 of the evaluated frames' bytes (the raw
    file's byte range, read once, streaming; or the PNG files in order).  ``eval_ids``: a COCO JSON's
    image ids sorted by ``file_name`` (frame k <-> the k-th), 1..frames for a MOT gt.txt or when the
    condition names no annotation file (reference-output ground truth).
    """
    if not cond.is_sequences:
        raise ConditionError(f"Condition {cond.name} is not a sequence condition (no dataset.sequences): list its "
                             "images with the image dataset functions.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UsageError(f"--limit must be a positive number of sequences, got {limit!r}.")
    chosen = run_sequences(cond, sets)
    if names:
        unknown = [n for n in names if n not in chosen]
        if unknown:
            raise UsageError(f"Unknown sequence(s) {', '.join(unknown)} in condition {cond.name}"
                             f"{' with sets ' + ', '.join(sets) if sets else ''}; available: {', '.join(chosen)} "
                             f"(see `vcmbench cttc show {cond.name}`).")
        chosen = [n for n in chosen if n in set(names)]
    if limit is not None:
        chosen = chosen[:limit]
    d = Path(data_dir)
    if not d.is_dir():
        raise DataError(f"Data folder {d} does not exist; give --data the folder that holds the sequences "
                        f"({_fix(cond, d)}).")
    by_name = {s["name"]: s for s in cond.dataset["sequences"]}
    return [_resolve(cond, by_name[n], d) for n in chosen]


def _resolve(cond: Condition, s: dict, d: Path) -> SequenceRef:
    problems, _msg, _found, _annotated = check_sequence(s, d)
    if problems:
        raise DataError(f"Sequence {s['name']}: {'; '.join(problems)}. The frames on disk must be the condition's; "
                        f"{_fix(cond, d)}.")
    w, h, depth, first, n = s["width"], s["height"], s["bit_depth"], s["first_frame"], s["frames"]
    yuv: str | None = None
    files: tuple[str, ...] = ()
    if s.get("yuv") and (d / s["yuv"]).is_file():
        path = (d / s["yuv"]).resolve()
        yuv = str(path)
        fb = frame_bytes(w, h, depth)
        digest = _range_md5(str(path), *_stamp(path), first * fb, n * fb)
    else:
        ini = d / s["dir"] / "seqinfo.ini"
        info = read_seqinfo(ini) if ini.is_file() else None
        _dir, _ext, found = frame_folder(s, d, info)
        files = tuple(str(p.resolve()) for p in found or ())
        md5 = hashlib.md5()
        for f in files:
            with open_regular(f, "PNG frame") as fh:
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    md5.update(chunk)
        digest = md5.hexdigest()
        first = 0  # a frame folder holds the evaluated frames only
    ann = s.get("annotations")
    ann_path = str((d / ann["file"]).resolve()) if ann else None
    fmt = ann["format"] if ann else "coco-json"
    eval_ids = _eval_ids(ann_path, fmt, n, s["name"]) if ann_path else tuple(range(1, n + 1))
    return SequenceRef(name=s["name"], cls=s["class"], width=w, height=h, fps=float(s["fps"]), bit_depth=depth,
                       first_frame=first, frames=n, intra_period=s["intra_period"], digest=digest, yuv=yuv,
                       frame_files=files, annotations=ann_path, annotation_format=fmt, eval_ids=eval_ids)


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


@lru_cache(maxsize=64)
def _range_md5(path: str, size: int, mtime_ns: int, offset: int, length: int) -> str:
    """md5 of ``length`` bytes from ``offset`` (streaming; cached per file state within a process)."""
    md5 = hashlib.md5()
    with open_regular(path, "raw YUV file") as fh:
        fh.seek(offset)
        left = length
        while left:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                raise DataError(f"{path} ended {left} bytes before the evaluated frames' end; check the file "
                                "(`vcmbench cttc verify-data`).")
            md5.update(chunk)
            left -= len(chunk)
    return md5.hexdigest()


def _eval_ids(path: str, fmt: str, frames: int, name: str) -> tuple[int, ...]:
    if fmt != "coco-json":
        return tuple(range(1, frames + 1))  # a MOT gt.txt numbers the frames 1..N
    try:
        coco = json.loads(read_bytes(path, "annotation file").decode("utf-8"))
        images = sorted(coco["images"], key=lambda im: str(im["file_name"]))
        ids = tuple(int(im["id"]) for im in images)
    except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError):
        raise DataError(f"{path} is not a COCO JSON whose images have id and file_name (sequence {name}); check the "
                        "annotation file (`vcmbench cttc verify-data`).") from None
    if len(ids) != frames:
        raise DataError(f"{path} lists {len(ids)} images, sequence {name} evaluates {frames} frames; check the "
                        "annotation file (`vcmbench cttc verify-data`).")
    return ids


# ------------------------------------------------------------------------------------------------ frames


def _source_format(ref: SequenceRef) -> "YuvFormat":
    from ..coding.yuv import YuvFormat

    return YuvFormat(ref.width, ref.height, 420, ref.bit_depth)


def _check_index(ref: SequenceRef, k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < ref.frames:
        raise UsageError(f"Sequence {ref.name} has {ref.frames} evaluated frames (0..{ref.frames - 1}); "
                         f"frame {k!r} does not exist.")


def _png_rgb(ref: SequenceRef, k: int) -> np.ndarray:
    from PIL import Image

    path = ref.frame_files[k]
    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise DataError(f"Frame {path} of sequence {ref.name} does not exist; check --data.") from None
    except OSError as exc:
        raise DataError(f"Frame {path} of sequence {ref.name} cannot be read: {exc}.") from None
    if rgb.shape[:2] != (ref.height, ref.width):
        raise DataError(f"Frame {path} is {rgb.shape[1]}x{rgb.shape[0]} but sequence {ref.name} is "
                        f"{ref.width}x{ref.height}; check --data (`vcmbench cttc verify-data`).")
    return rgb


def _raw_planes(ref: SequenceRef, k: int) -> list[np.ndarray]:
    from ..coding.yuv import read_yuv

    return read_yuv(ref.yuv, _source_format(ref), ref.first_frame + k)


def frame_rgb(ref: SequenceRef, k: int, color: str) -> np.ndarray:
    """The uncompressed evaluated frame ``k`` (0-based) as HxWx3 uint8 RGB: a PNG frame as stored, or a
    raw frame converted with the colour mode ``color`` (:func:`yuv_frame_to_rgb`)."""
    _check_index(ref, k)
    if ref.yuv is None:
        return _png_rgb(ref, k)
    return yuv_frame_to_rgb(_raw_planes(ref, k), _source_format(ref), color)


def yuv_frame_to_rgb(planes: Sequence[np.ndarray], fmt: "YuvFormat", color: str) -> np.ndarray:
    """A 4:2:0 frame (source or decoded, at its own bit depth) as HxWx3 uint8 RGB with the colour mode
    ``color``, the conversion a decoded picture of an image condition gets at scale 1
    (``coding.yuv.ctc_yuv_to_rgb``)."""
    from ..coding.yuv import ctc_yuv_to_rgb

    return ctc_yuv_to_rgb(list(planes), fmt, fmt.width, fmt.height, 1.0, mode=color)


def write_source_yuv(ref: SequenceRef, out: str | Path, color: str, bit_depth: int) -> "YuvFormat":
    """Write the evaluated frames (``ref.frames``, FrameSkip already applied) as ONE planar 4:2:0 file at
    ``bit_depth``, atomically; returns the format of one frame.

    A raw file: its byte range, bit depth changed as VTM does (``coding.yuv.to_bit_depth``: shift up,
    round down); the bytes read are checked against ``ref.digest`` (a file changed since it was listed
    is refused).  PNG frames: each converted with the colour mode ``color`` exactly as a picture is
    (``coding.yuv.ctc_rgb_to_yuv`` at scale 1), and their bytes checked against ``ref.digest`` too.
    """
    import os

    from ..coding.yuv import YuvFormat, ctc_rgb_to_yuv, planes_from_bytes, planes_to_bytes, to_bit_depth

    if bit_depth not in (8, 10):
        raise UsageError(f"Source bit depth {bit_depth!r}: use 8 or 10.")
    out = Path(out)
    fmt_out = YuvFormat(ref.width, ref.height, 420, bit_depth)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    md5 = hashlib.md5()
    try:
        with open(tmp, "wb") as dst:
            if ref.yuv is not None:
                fmt_in = _source_format(ref)
                with open_regular(ref.yuv, "raw YUV file") as fh:
                    fh.seek(ref.first_frame * fmt_in.frame_bytes)
                    for k in range(ref.frames):
                        data = fh.read(fmt_in.frame_bytes)
                        if len(data) != fmt_in.frame_bytes:
                            raise DataError(f"{ref.yuv} ended inside frame {ref.first_frame + k} of sequence "
                                            f"{ref.name}; check the file (`vcmbench cttc verify-data`).")
                        md5.update(data)
                        if bit_depth != ref.bit_depth:
                            data = planes_to_bytes(to_bit_depth(planes_from_bytes(data, fmt_in), ref.bit_depth,
                                                                bit_depth), fmt_out)
                        dst.write(data)
            else:
                for k, path in enumerate(ref.frame_files):
                    with open_regular(path, "PNG frame") as fh:
                        for chunk in iter(lambda: fh.read(_CHUNK), b""):
                            md5.update(chunk)
                    planes = ctc_rgb_to_yuv(_png_rgb(ref, k), 1.0, mode=color, bit_depth=bit_depth)
                    dst.write(planes_to_bytes(planes, fmt_out))
            dst.flush()
            os.fsync(dst.fileno())
        if md5.hexdigest() != ref.digest:
            raise DataError(f"The frames of sequence {ref.name} changed since the run listed them (md5 "
                            f"{md5.hexdigest()}, listed {ref.digest}); check --data and start the run again.")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return fmt_out
