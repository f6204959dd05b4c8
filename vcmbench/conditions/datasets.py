"""The images of a condition's dataset and how to load them.

Dataset forms (``dataset`` section of a condition):

* ``sample_images``: names of scikit-image sample photographs (``skimage.data.<name>()``); no data dir.
* ``annotations.*`` of format ``coco-json`` with an ``images`` folder: the images the JSON lists
  (optionally only ``image_ids``), in ascending id order.
* ``image_list``: a file in the data dir, one image name per line, relative to the images folder:
  ``DIR/<images>`` when the condition names one, else ``DIR/images`` or ``DIR`` (the first that
  holds the first listed image).  The image id is the file stem (OpenImages ``ImageID``).
* ``annotations.*`` of format ``cityscapes-gtfine`` (the Cityscapes layout): the images are
  ``DIR/<images>/<city>/<city>_<seq>_<frame>_leftImg8bit.png`` (``images``: e.g. ``leftImg8bit/val``),
  listed sorted by file name; the image id is ``<city>_<seq>_<frame>`` (the name cityscapesscripts
  matches predictions by), the evaluation id 1..N.  Each listed image needs its ground truth
  ``DIR/<file>/<city>/<image id>_gtFine_instanceIds.png`` (``file``: e.g. ``gtFine/val``).

Images are loaded as HxWx3 uint8 RGB with Pillow, without applying EXIF orientation (annotations
refer to the stored pixel grid); grey and CMYK images are converted to RGB, alpha is dropped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ConditionError, DataError
from ..core.hashing import md5_file
from .model import Condition


@dataclass(frozen=True)
class ImageRef:
    image_id: str  # stable name used in records ("184324", "astronaut", OID ImageID)
    eval_id: int  # integer id for COCO evaluation (the COCO id, or 1..N)
    width: int
    height: int
    digest: str  # md5 of the file bytes (or of the decoded sample array)
    path: str | None = None  # image file
    sample: str | None = None  # skimage.data sample name

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _sample_rgb(name: str) -> np.ndarray:
    """A scikit-image sample picture: ``skimage.data.<name>()``, or a picture file of that stem bundled in
    the ``skimage/data`` folder (e.g. ``motorcycle_left``, the left view of ``stereo_motorcycle``).
    Only pictures shipped inside the package are used; nothing is downloaded."""
    try:
        import skimage.data as skd
    except ImportError:
        raise DataError("Sample images need scikit-image: `pip install scikit-image` (or `pip install vcmbench[demo]`).") from None
    folder = Path(skd.__file__).parent
    files = sorted(p for p in folder.glob(f"{name}.*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif"))
    if files:
        from PIL import Image

        with Image.open(files[0]) as im:
            return to_rgb(np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im), f"skimage sample {name}")
    fn = getattr(skd, name, None) if name in getattr(skd, "__all__", ()) else None
    if fn is None or not callable(fn):
        raise DataError(f"scikit-image ships no sample picture {name!r} here; use one bundled in {folder} "
                        "(e.g. astronaut, chelsea, coffee, rocket).")
    return to_rgb(np.asarray(fn()), f"skimage.data.{name}")


def to_rgb(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype != np.uint8:
        raise DataError(f"{what} is {a.dtype}, not 8-bit; vcmbench codes 8-bit RGB images.")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim != 3 or a.shape[2] != 3:
        raise DataError(f"{what} has shape {a.shape}; expected HxW (grey), HxWx3 (RGB) or HxWx4 (RGBA).")
    return np.ascontiguousarray(a)


def load_rgb(ref: ImageRef) -> np.ndarray:
    """The image as HxWx3 uint8 RGB, checked against the recorded size."""
    if ref.sample is not None:
        rgb = _sample_rgb(ref.sample)
    else:
        from PIL import Image

        try:
            with Image.open(ref.path) as im:
                rgb = np.asarray(im.convert("RGB"))
        except FileNotFoundError:
            raise DataError(f"Image {ref.path} does not exist; check --data.") from None
        except OSError as exc:
            raise DataError(f"Image {ref.path} cannot be read: {exc}.") from None
    h, w = rgb.shape[:2]
    if (w, h) != (ref.width, ref.height):
        raise DataError(f"Image {ref.image_id} is {w}x{h} but the dataset records {ref.width}x{ref.height}; "
                        "the file differs from the one listed (check --data).")
    return rgb


def _size_of(path: Path) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except FileNotFoundError:
        raise DataError(f"Image {path} does not exist; check --data and the image list.") from None
    except OSError as exc:
        raise DataError(f"Image {path} cannot be read: {exc}.") from None


def coco_json_ref(cond: Condition) -> dict[str, Any] | None:
    for ref in (cond.dataset.get("annotations") or {}).values():
        if ref.get("format") == "coco-json":
            return ref
    return None


@lru_cache(maxsize=8)
def _read_coco(path: str) -> dict[str, Any]:
    from ..metrics.coco import load_coco_gt

    return load_coco_gt(path)


def _need_dir(data_dir: str | Path | None, cond: Condition) -> Path:
    if data_dir is None:
        raise DataError(f"Condition {cond.name} needs its data: give --data DIR (the folder holding its files).")
    d = Path(data_dir)
    if not d.is_dir():
        raise DataError(f"Data directory {d} does not exist; give the folder holding the condition's files.")
    return d


def list_images(cond: Condition, data_dir: str | Path | None, limit: int | None = None) -> list[ImageRef]:
    """The dataset's images (the first ``limit`` of them), in a stable order.  ``limit`` 0 or negative is
    refused (it would silently mean "all" or "all but the last N").  A sequence (video) condition is
    refused: its sequences are listed by ``conditions.sequences.list_sequences`` and run by ``vcmbench run``."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        from ..core.errors import UsageError

        raise UsageError(f"limit {limit!r}: give a positive number of images (1 or more), or no limit for all of them.")
    ds = cond.dataset
    if cond.is_sequences:
        raise ConditionError(f"Condition {cond.name} is a video condition (sequences, not images): run it with "
                             f"`vcmbench run {cond.name} --data DIR --out RUNDIR`; this command takes image conditions. "
                             f"Check the sequences with `vcmbench cttc verify-data {cond.name} --data DIR`.")
    refs: list[ImageRef] = []
    if ds.get("sample_images"):
        for i, name in enumerate(ds["sample_images"][: limit or None]):
            rgb = _sample_rgb(name)
            digest = hashlib.md5(repr(rgb.shape).encode() + rgb.tobytes()).hexdigest()
            refs.append(ImageRef(name, i + 1, rgb.shape[1], rgb.shape[0], digest, sample=name))
        return refs
    d = _need_dir(data_dir, cond)
    coco = coco_json_ref(cond)
    if coco is not None and not ds.get("image_list"):
        data = _read_coco(str(d / coco["file"]))
        images = sorted(data["images"], key=lambda im: int(im["id"]))
        if ds.get("image_ids"):
            want = [int(i) for i in ds["image_ids"]]
            by_id = {int(im["id"]): im for im in images}
            missing = [i for i in want if i not in by_id]
            if missing:
                raise DataError(f"image_ids {missing[:10]} are not in {coco['file']}; check the annotation file.")
            images = [by_id[i] for i in want]
        folder = d / (ds.get("images") or "images")
        if not folder.is_dir():
            raise DataError(f"Images folder {folder} does not exist; the condition's images go in DIR/{ds.get('images') or 'images'}.")
        for im in images[: limit or None]:
            p = folder / im["file_name"]
            if not p.is_file():
                raise DataError(f"Image {p} listed in {coco['file']} is missing; put the dataset's images in {folder}.")
            refs.append(ImageRef(str(im["id"]), int(im["id"]), int(im["width"]), int(im["height"]), md5_file(p), str(p)))
        return refs
    if ds.get("image_list"):
        lst = d / ds["image_list"]["file"]
        if not lst.is_file():
            raise DataError(f"Image list {lst} is missing; put {ds['image_list']['file']} in the data directory.")
        from ..core.inputs import read_text

        names = [ln.strip() for ln in read_text(lst, "Image list").splitlines() if ln.strip()]
        if not names:
            raise DataError(f"Image list {lst} is empty.")
        candidates = [d / ds["images"]] if ds.get("images") else [d / "images", d]
        folder = next((c for c in candidates if (c / names[0]).is_file()), None)
        if folder is None:
            raise DataError(f"The first listed image {names[0]!r} is in none of {[str(c) for c in candidates]}; "
                            "put the images in DIR/images (or DIR) as the list names them.")
        for i, name in enumerate(names[: limit or None]):
            p = folder / name
            w, h = _size_of(p)
            refs.append(ImageRef(Path(name).stem, i + 1, w, h, md5_file(p), str(p)))
        return refs
    cs = cityscapes_ref(cond)
    if cs is not None:
        return _list_cityscapes(cond, d, cs, limit)
    raise ConditionError(f"Condition {cond.name}: cannot tell which images to run (no sample_images, coco-json with "
                         "images, image_list, or a cityscapes-gtfine layout).")


# ---- the Cityscapes layout ---------------------------------------------------------------------------
CITYSCAPES_FORMAT = "cityscapes-gtfine"
CITYSCAPES_IMAGE_SUFFIX = "_leftImg8bit.png"
GTFINE_SUFFIXES = ("_gtFine_instanceIds.png", "_gtFine_labelIds.png", "_gtFine_polygons.json")
_CS_ID = re.compile(r"[^_]+_[^_]+_[^_]+")  # <city>_<seq>_<frame>, the three parts cityscapesscripts splits names into


def cityscapes_ref(cond: Condition) -> dict[str, Any] | None:
    """The condition's ``cityscapes-gtfine`` annotation entry (the gtFine folder), or None."""
    for ref in (cond.dataset.get("annotations") or {}).values():
        if ref.get("format") == CITYSCAPES_FORMAT:
            return ref
    return None


def cityscapes_dirs(cond: Condition, data_dir: str | Path) -> tuple[Path, Path]:
    """(images folder, gtFine folder) of a Cityscapes condition in ``data_dir``."""
    ref = cityscapes_ref(cond)
    if ref is None:
        raise ConditionError(f"Condition {cond.name} has no {CITYSCAPES_FORMAT} annotation folder.")
    return Path(data_dir) / (cond.dataset.get("images") or "leftImg8bit/val"), Path(data_dir) / ref["file"]


def cityscapes_image_files(folder: Path) -> list[Path]:
    """``<city>/*_leftImg8bit.png`` under ``folder``, sorted by file name."""
    return sorted(folder.glob(f"*/*{CITYSCAPES_IMAGE_SUFFIX}"), key=lambda p: p.name)


def cityscapes_image_id(path: Path) -> str:
    """``<city>_<seq>_<frame>`` of a ``*_leftImg8bit.png`` or ``*_gtFine_*`` file (DataError for another name)."""
    name = path.name
    for suffix in (CITYSCAPES_IMAGE_SUFFIX, *GTFINE_SUFFIXES):
        if name.endswith(suffix) and _CS_ID.fullmatch(name[: -len(suffix)]):
            return name[: -len(suffix)]
    raise DataError(f"{path} is not named like a Cityscapes file (<city>_<seq>_<frame>{CITYSCAPES_IMAGE_SUFFIX}, "
                    "<city>_<seq>_<frame>_gtFine_instanceIds.png); keep the names of the official download.")


def cityscapes_gt_file(gt_dir: Path, image_path: str | Path, suffix: str = GTFINE_SUFFIXES[0]) -> Path:
    """The gtFine file of an image: same city folder, ``<image id><suffix>``."""
    p = Path(image_path)
    return gt_dir / p.parent.name / (cityscapes_image_id(p) + suffix)


def _list_cityscapes(cond: Condition, d: Path, ref: dict[str, Any], limit: int | None) -> list[ImageRef]:
    folder, gt_dir = cityscapes_dirs(cond, d)
    if not folder.is_dir():
        raise DataError(f"Images folder {folder} does not exist; put the Cityscapes leftImg8bit/<split> folder "
                        f"(<city>/<city>_<seq>_<frame>{CITYSCAPES_IMAGE_SUFFIX}) in DIR/{cond.dataset.get('images')}.")
    files = cityscapes_image_files(folder)
    if not files:
        raise DataError(f"No <city>/*{CITYSCAPES_IMAGE_SUFFIX} under {folder}; put the Cityscapes images there, "
                        "one folder per city.")
    refs = []
    for i, p in enumerate(files[: limit or None]):
        image_id = cityscapes_image_id(p)
        gt = cityscapes_gt_file(gt_dir, p)
        if not gt.is_file():
            raise DataError(f"Image {image_id} has no ground truth {gt}; put the gtFine/<split> folder of the same "
                            f"split in DIR/{ref['file']} (check with `vcmbench cttc verify-data {cond.name}`).")
        w, h = _size_of(p)
        refs.append(ImageRef(image_id, i + 1, w, h, md5_file(p), str(p)))
    return refs
