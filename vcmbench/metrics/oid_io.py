"""Readers and writers for the OpenImages (OID) challenge CSV formats and class lists.

Formats (one header line, comma separated):

* **GT boxes**: ``ImageID,LabelName,XMin,XMax,YMin,YMax,IsGroupOf`` (coordinates normalised to
  [0, 1]; extra columns are ignored).
* **Image-level labels**: ``ImageID,LabelName,Confidence``.  Every row is a *verified* label:
  Confidence 1 = present, 0 = verified absent (a "negative label").
* **GT masks** (instance segmentation): ``ImageID,LabelName,ImageWidth,ImageHeight,XMin,XMax,
  YMin,YMax,IsGroupOf,Mask`` — the challenge's segmentation ground-truth form.  Rows are joined
  to the boxes CSV on ``ImageID,LabelName,XMin,XMax,YMin,YMax,IsGroupOf`` (an outer join, as the
  TF OD API does); a box without a mask row is a *box-only* instance.  As in that join, n identical
  box rows and m identical mask rows of one image become n×m instances.  The masks CSV may also be
  given alone (it carries the box columns).
* **Predictions**: ``ImageID,LabelName,Score,XMin,XMax,YMin,YMax``; segmentation adds
  ``ImageWidth,ImageHeight,Mask``.
* **Mask** cells: COCO compressed RLE of the binary mask (H×W, column-major as pycocotools
  encodes it) → zlib → base64 (ASCII).  :func:`encode_oid_mask` writes it.

Class names: LabelName values are compared after replacing spaces by ``_`` (the shared VCM
ground truth uses COCO names with ``_``: ``traffic_light``), so a detector's ``traffic light``
matches.  A class list is a text file (one name per line, ``#`` comments allowed), a
``.pbtxt`` label map (the ``name:`` fields, in file order) or a sequence of names.
"""

from __future__ import annotations

import base64
import os
import re
import zlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.errors import DataError

BOX_COLUMNS = ("ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax", "IsGroupOf")
LABEL_COLUMNS = ("ImageID", "LabelName", "Confidence")
MASK_COLUMNS = BOX_COLUMNS + ("ImageWidth", "ImageHeight", "Mask")
PRED_COLUMNS = ("ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax")
PRED_MASK_COLUMNS = ("ImageWidth", "ImageHeight", "Mask")


def normalise_class_name(name: str) -> str:
    """Class names are compared with spaces replaced by underscores (``teddy bear`` → ``teddy_bear``)."""
    return str(name).strip().replace(" ", "_")


def read_class_list(classes: Sequence[str] | str | os.PathLike) -> list[str]:
    """A class list from names, a text file (one per line) or a ``.pbtxt`` label map."""
    if isinstance(classes, (str, os.PathLike)):
        from ..core.inputs import read_text

        path = Path(classes)
        text = read_text(path, "Class list")
        if path.suffix == ".pbtxt":
            names = re.findall(r'^\s*name\s*:\s*"([^"]*)"', text, flags=re.M)
        else:
            names = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
            names = [n for n in names if n]
        where = str(path)
    else:
        names = [str(c) for c in classes]
        where = "the class list"
    names = [normalise_class_name(n) for n in names]
    if not names:
        raise DataError(f"{where} holds no class names; give at least one class.")
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})
    if dups:
        raise DataError(f"{where} lists classes more than once: {', '.join(dups)}; remove the duplicates.")
    return names


def _read_csv(path: str | os.PathLike, required: Sequence[str], what: str):
    import pandas as pd

    from ..core.inputs import check_regular

    p = check_regular(path, f"{what} CSV")
    try:
        df = pd.read_csv(p, dtype={"ImageID": str, "LabelName": str})
    except Exception as exc:  # pandas raises many parser error types
        raise DataError(f"Cannot parse {what} CSV {p}: {exc}") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{what} CSV {p} lacks column(s) {', '.join(missing)}; expected header {','.join(required)}."
        )
    return df


def numeric_columns(df, columns: Sequence[str], what: str) -> np.ndarray:
    """``df[columns]`` as float64; a cell that is not a finite number is a DataError naming its row."""
    import pandas as pd

    out = np.empty((len(df), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{what}: row {i + 1} (data line {i + 2}) has {col} = {df[col].iloc[i]!r}, not a finite "
                            f"number ({bad.size} such row(s)); every {col} must be a number.")
        out[:, j] = v
    return out


def read_boxes_csv(path: str | os.PathLike):
    return _read_csv(path, BOX_COLUMNS, "GT boxes")


def read_labels_csv(path: str | os.PathLike):
    return _read_csv(path, LABEL_COLUMNS, "image-level labels")


def read_masks_csv(path: str | os.PathLike):
    return _read_csv(path, MASK_COLUMNS, "GT masks")


def read_predictions(predictions: Any, segmentation: bool = False):
    """Predictions as a pandas DataFrame from a DataFrame, a list of dicts or a CSV path."""
    import pandas as pd

    required = PRED_COLUMNS + (PRED_MASK_COLUMNS if segmentation else ())
    if isinstance(predictions, (str, os.PathLike)):
        return _read_csv(predictions, required, "predictions")
    if isinstance(predictions, pd.DataFrame):
        df = predictions
    else:
        rows = list(predictions)
        df = pd.DataFrame(rows, columns=list(required)) if not rows else pd.DataFrame(rows)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(f"Predictions lack column(s) {', '.join(missing)}; expected {','.join(required)}.")
    return df


def encode_oid_mask(binary_mask: np.ndarray) -> str:
    """Encode an H×W binary mask as the OID ``Mask`` cell: COCO RLE → zlib (level 9) → base64."""
    from pycocotools import mask as coco_mask

    m = np.asarray(binary_mask)
    if m.ndim != 2:
        raise DataError(f"A mask must be a 2-D H×W array, got shape {m.shape}.")
    rle = coco_mask.encode(np.asfortranarray((m > 0).astype(np.uint8)[:, :, None]))[0]
    return base64.b64encode(zlib.compress(rle["counts"], zlib.Z_BEST_COMPRESSION)).decode("ascii")


def oid_mask_to_rle(cell: str, width: int, height: int) -> dict:
    """Decode an OID ``Mask`` cell into a pycocotools RLE dict ``{'size': [H, W], 'counts': bytes}``."""
    try:
        counts = zlib.decompress(base64.b64decode(cell))
    except Exception as exc:
        raise DataError(f"Mask cell is not base64(zlib(COCO RLE)): {exc}; write masks with encode_oid_mask.") from None
    return {"size": [int(height), int(width)], "counts": counts}


def decode_oid_mask(cell: str, width: int, height: int) -> np.ndarray:
    """Decode an OID ``Mask`` cell into an H×W uint8 {0, 1} array."""
    from pycocotools import mask as coco_mask

    return coco_mask.decode(oid_mask_to_rle(cell, width, height))


def write_predictions_csv(path: str | os.PathLike, rows: Sequence[dict], segmentation: bool = False) -> None:
    """Write prediction rows (dicts with the OID prediction columns) atomically."""
    import csv
    import io

    from ..core.jsonio import atomic_write_text

    cols = list(PRED_COLUMNS + (PRED_MASK_COLUMNS if segmentation else ()))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r[c] for c in cols})
    atomic_write_text(Path(path), buf.getvalue())


def detections_to_oid_rows(image_id: str, detections: Any, classes: Sequence[str] | None = None,
                           segmentation: bool = False) -> list[dict]:
    """Prediction rows for one image from a ``tasks.base.Detections``-like object.

    Boxes ``x1, y1, x2, y2`` in pixels of an image of ``detections.image_size = (W, H)`` become
    ``XMin = x1/W, XMax = x2/W, YMin = y1/H, YMax = y2/H`` (not clipped); labels are normalised
    (spaces → ``_``) and, when ``classes`` is given, only those classes are kept (the anchor keeps
    the selected classes).  ``segmentation`` adds ``ImageWidth, ImageHeight, Mask`` (the masks must
    be at the image size).
    """
    w, h = (int(v) for v in detections.image_size)
    if w <= 0 or h <= 0:
        raise DataError(f"Detections of image {image_id} carry no image_size (W, H); set it to normalise boxes.")
    keep = None if classes is None else {normalise_class_name(c) for c in classes}
    masks = getattr(detections, "masks", None)
    if segmentation and masks is None:
        raise DataError(f"Detections of image {image_id} have no masks; segmentation predictions need them.")
    rows = []
    for i, (box, score, label) in enumerate(zip(detections.boxes, detections.scores, detections.labels)):
        name = normalise_class_name(label)
        if keep is not None and name not in keep:
            continue
        x1, y1, x2, y2 = (float(v) for v in box)
        row = {"ImageID": str(image_id), "LabelName": name, "Score": float(score),
               "XMin": x1 / w, "XMax": x2 / w, "YMin": y1 / h, "YMax": y2 / h}
        if segmentation:
            m = np.asarray(masks[i])
            if m.shape != (h, w):
                raise DataError(f"Mask {i} of image {image_id} is {m.shape[0]}x{m.shape[1]}, the image {h}x{w} (HxW).")
            row.update(ImageWidth=w, ImageHeight=h, Mask=encode_oid_mask(m))
        rows.append(row)
    return rows
