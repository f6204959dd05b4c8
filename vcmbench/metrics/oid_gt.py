"""OpenImages (OID) ground truth in array form, and its loader (see ``oid_io`` for the formats)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..core.errors import DataError
from .oid_io import (
    normalise_class_name,
    numeric_columns,
    oid_mask_to_rle,
    read_boxes_csv,
    read_class_list,
    read_labels_csv,
    read_masks_csv,
)

__all__ = ["OIDGroundTruth", "load_oid_ground_truth", "class_index"]

_MERGE_ON = ["LabelName", "ImageID", "XMin", "XMax", "YMin", "YMax", "IsGroupOf"]


@dataclass
class OIDGroundTruth:
    """Ground truth in array form.  Boxes are ``[YMin, XMin, YMax, XMax]`` normalised, in the row
    order of the boxes CSV (of the boxes/masks join for segmentation, as pandas orders it — the
    reference's order, which decides ties in its first-best-box rule)."""

    classes: list[str]
    image_ids: list[str]  # sorted; an image's index is its position here
    box_image: np.ndarray
    box_class: np.ndarray
    boxes: np.ndarray
    group_of: np.ndarray
    label_image: np.ndarray
    label_class: np.ndarray
    label_confidence: np.ndarray
    masks: list | None = None  # per box: pycocotools RLE dict or None (box-only instance)
    mask_size: dict[int, tuple[int, int]] = field(default_factory=dict)  # image -> (H, W)
    dropped: dict[str, int] = field(default_factory=dict)  # rows of classes not in the list

    @property
    def evaluable_keys(self) -> np.ndarray:
        """Sorted unique ``image * n_classes + class`` of the evaluable (image, class) pairs."""
        c = len(self.classes)
        return np.unique(np.concatenate([self.label_image * c + self.label_class, self.box_image * c + self.box_class]))


def class_index(names, classes: list[str]) -> np.ndarray:
    """Class index of each name (normalised), -1 for names not in ``classes``; one lookup per distinct name."""
    import pandas as pd

    lut = {c: i for i, c in enumerate(classes)}
    codes, uniques = pd.factorize(pd.Series(names, dtype=object).astype(str))
    table = np.array([lut.get(normalise_class_name(n), -1) for n in uniques] + [-1], dtype=np.int64)
    return table[codes]  # code -1 (missing) picks the trailing -1


def load_oid_ground_truth(boxes_csv, labels_csv, classes: Sequence[str] | str | os.PathLike | None = None,
                          masks_csv=None) -> OIDGroundTruth:
    """Read OID ground truth.  ``classes``: names, a class-list file or label map; ``None`` = the
    sorted union of classes in the two CSVs.  ``masks_csv`` (segmentation) is outer-joined to the
    boxes on ``ImageID,LabelName,XMin,XMax,YMin,YMax,IsGroupOf``; ``boxes_csv`` may be ``None``
    when the masks CSV is given (it carries the box columns)."""
    import pandas as pd

    labels = read_labels_csv(labels_csv)
    if masks_csv is not None:
        masks = read_masks_csv(masks_csv)
        boxes = masks if boxes_csv is None else pd.merge(read_boxes_csv(boxes_csv), masks, how="outer", on=_MERGE_ON)
    elif boxes_csv is None:
        raise DataError("No ground-truth boxes: pass a boxes CSV (and a masks CSV for segmentation).")
    else:
        boxes = read_boxes_csv(boxes_csv)
    if classes is None:
        names = sorted({normalise_class_name(n) for n in pd.concat([boxes.LabelName, labels.LabelName])})
    else:
        names = read_class_list(classes)
    bcls = class_index(boxes.LabelName.astype(str), names)
    lcls = class_index(labels.LabelName.astype(str), names)
    dropped = {"box_rows_unlisted_class": int((bcls < 0).sum()), "label_rows_unlisted_class": int((lcls < 0).sum())}
    boxes, bcls = boxes[bcls >= 0].reset_index(drop=True), bcls[bcls >= 0]
    labels, lcls = labels[lcls >= 0].reset_index(drop=True), lcls[lcls >= 0]
    image_ids = sorted(set(boxes.ImageID.astype(str)) | set(labels.ImageID.astype(str)))
    index = pd.Index(image_ids)
    coords = numeric_columns(boxes, ["YMin", "XMin", "YMax", "XMax"], "GT boxes")
    conf = pd.to_numeric(labels.Confidence, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(conf).all():
        raise DataError("Image-level labels have a non-numeric Confidence; use 1 (present) or 0 (verified absent).")
    gt = OIDGroundTruth(
        classes=names, image_ids=image_ids,
        box_image=index.get_indexer(boxes.ImageID.astype(str)).astype(np.int64), box_class=bcls,
        boxes=coords, group_of=_group_of(boxes),
        label_image=index.get_indexer(labels.ImageID.astype(str)).astype(np.int64), label_class=lcls,
        label_confidence=conf, dropped=dropped)
    if masks_csv is not None:
        _attach_masks(gt, boxes)
    return gt


def _attach_masks(gt: OIDGroundTruth, df) -> None:
    import pandas as pd

    rles: list = []
    for i, (cell, w, h) in enumerate(zip(df.Mask, df.ImageWidth, df.ImageHeight)):
        if pd.isnull(cell):
            rles.append(None)
            continue
        img = int(gt.box_image[i])
        size = (int(h), int(w))
        if gt.mask_size.setdefault(img, size) != size:
            raise DataError(f"GT masks of image {gt.image_ids[img]} differ in size ({gt.mask_size[img]} vs {size}); "
                            "all masks of one image must have the image's size.")
        rles.append(oid_mask_to_rle(cell, w, h))
    gt.masks = rles


def _group_of(boxes) -> np.ndarray:
    """IsGroupOf as booleans: empty is 0; anything else must be a finite number."""
    import pandas as pd

    raw = boxes.IsGroupOf
    v = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(v) & raw.notna().to_numpy())
    if bad.size:
        raise DataError(f"GT boxes: row {int(bad[0]) + 1} has IsGroupOf = {raw.iloc[int(bad[0])]!r}; use 0 or 1.")
    return np.nan_to_num(v, nan=0.0).astype(int) > 0
