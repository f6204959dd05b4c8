"""The images of a condition's dataset and how to load them.

Dataset forms (``dataset`` section of a condition):

* ``sample_images``: names of scikit-image sample photographs (``skimage.data.<name>()``); no data dir.
* ``annotations.*`` of format ``coco-json`` with an ``images`` folder: the images the JSON lists
  (optionally only ``image_ids``), in ascending id order.
* ``image_list``: a file in the data dir, one image name per line, relative to the images folder:
  ``DIR/<images>`` when the condition names one, else ``DIR/images`` or ``DIR`` (the first that
  holds the first listed image).  The image id is the file stem (OpenImages ``ImageID``).

Images are loaded as HxWx3 uint8 RGB with Pillow, without applying EXIF orientation (annotations
refer to the stored pixel grid); grey and CMYK images are converted to RGB, alpha is dropped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ConditionError, DataError
from ..core.hashing import md5_file
from . import Condition


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
    """The dataset's images (the first ``limit`` of them), in a stable order."""
    ds = cond.dataset
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
    raise ConditionError(f"Condition {cond.name}: cannot tell which images to run (no sample_images, coco-json with "
                         "images, or image_list).")
