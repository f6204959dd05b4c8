"""COCO AP via pycocotools (bbox and segm).

Conventions
-----------
* Predictions are COCO *results* dicts: ``image_id``, ``category_id`` (or ``category_name``,
  mapped explicitly by :func:`coco_category_map`), ``bbox`` ``[x, y, w, h]`` in original-image
  pixels, ``score``, and for ``segm`` a ``segmentation`` (RLE or polygons).
* Returned values are fractions (not %), exactly ``COCOeval.stats`` in the order
  AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (maxDets 100 for all but AR1/AR10).
  ``-1.0`` is pycocotools' own "undefined" value: the GT has no object in that area range.
* With no predictions at all, AP and AR are 0 (pycocotools cannot evaluate an empty result set;
  a single score-0 false positive stands in, which leaves every figure at 0).
* pycocotools prints; this module captures its output (the library never prints).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..core.errors import DataError, EvaluationError
from ..core.jsonio import read_json

STAT_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
IOU_TYPES = ("bbox", "segm")

__all__ = ["STAT_KEYS", "coco_evaluate", "coco_evaluated", "coco_category_map", "detections_to_coco", "load_coco_gt",
           "metric_name"]


def metric_name(iou_type: str = "bbox") -> str:
    return f"COCO AP@[.5:.95] ({iou_type}, pycocotools)"


def _norm(name: str) -> str:
    return " ".join(str(name).replace("_", " ").split()).lower()


def load_coco_gt(gt: Mapping | str | os.PathLike) -> dict:
    """A COCO instances dataset as a dict (from a dict or a JSON file)."""
    if isinstance(gt, Mapping):
        data = dict(gt)
    else:
        p = Path(gt)
        if not p.is_file():
            raise DataError(f"COCO ground truth {p} does not exist; pass an instances_*.json file.")
        data = read_json(p, "COCO ground truth")
    if not isinstance(data, dict):
        raise DataError("COCO ground truth must be a JSON object with images, annotations and categories lists; "
                        "give a COCO instances file.")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise DataError(f"COCO ground truth lacks the '{key}' list; give a COCO instances file.")
    _check_gt(data)
    return data


def _number(v: Any, where: str) -> float:
    """A finite JSON number, or a DataError naming where it is."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DataError(f"{where} is {v!r:.40}, not a number; fix the file.")
    if not math.isfinite(v):
        raise DataError(f"{where} is {v!r}; numbers must be finite (no NaN or infinity) — fix the file.")
    return float(v)


def _ident(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)) or (isinstance(v, str) and not v.strip().isdigit()):
        if not (isinstance(v, float) and math.isfinite(v) and v == int(v)):
            raise DataError(f"{where} is {v!r:.40}, not an integer id; fix the file.")
    return int(v)


def _check_box(box: Any, where: str) -> None:
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise DataError(f"{where} bbox is {box!r:.60}; a COCO box is [x, y, width, height] (4 numbers).")
    for name, v in zip(("x", "y", "width", "height"), box):
        _number(v, f"{where} bbox {name}")
    if box[2] < 0 or box[3] < 0:
        raise DataError(f"{where} bbox {list(box)} has a negative width or height; a COCO box is "
                        "[x, y, width, height] — convert [x1, y1, x2, y2] boxes.")


def _check_gt(data: dict) -> None:
    """Types and finiteness of the ground truth (a NaN box would silently score as a match or a miss)."""
    for i, im in enumerate(data["images"]):
        if not isinstance(im, dict) or "id" not in im:
            raise DataError(f"COCO ground truth images[{i}] has no id; fix the file.")
        _ident(im["id"], f"COCO ground truth images[{i}].id")
        for k in ("height", "width"):
            if k in im and _number(im[k], f"COCO ground truth images[{i}].{k}") <= 0:
                raise DataError(f"COCO ground truth images[{i}].{k} is {im[k]!r}; an image size is positive — "
                                "fix the file.")
    for i, c in enumerate(data["categories"]):
        if not isinstance(c, dict) or "id" not in c or "name" not in c:
            raise DataError(f"COCO ground truth categories[{i}] needs an id and a name; fix the file.")
        _ident(c["id"], f"COCO ground truth categories[{i}].id")
        if not isinstance(c["name"], str):
            raise DataError(f"COCO ground truth categories[{i}].name is {c['name']!r:.40}, not a name; fix the file.")
    for key in ("images", "categories"):
        _unique([int(x["id"]) for x in data[key]], f"COCO ground truth {key}")
    for i, a in enumerate(data["annotations"]):
        where = f"COCO ground truth annotations[{i}]"
        if not isinstance(a, dict):
            raise DataError(f"{where} is not an object; fix the file.")
        for k in ("image_id", "category_id"):
            if k not in a:
                raise DataError(f"{where} has no {k}; fix the file.")
            _ident(a[k], f"{where}.{k}")
        if "bbox" in a:
            _check_box(a["bbox"], where)
        if "area" in a and _number(a["area"], f"{where}.area") < 0:
            raise DataError(f"{where}.area is {a['area']!r}; an area is not negative — fix the file.")
        if "iscrowd" in a and (isinstance(a["iscrowd"], bool) or a["iscrowd"] not in (0, 1)):
            raise DataError(f"{where}.iscrowd is {a['iscrowd']!r:.40}; iscrowd is 0 or 1 — fix the file.")
        if "id" in a:
            _ident(a["id"], f"{where}.id")


def _unique(ids: list[int], what: str) -> None:
    seen: set[int] = set()
    dup = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dup:
        raise DataError(f"{what} repeat the id(s) {dup[:10]}; ids are unique — fix the file.")


def _check_gt_for_eval(data: dict, iou_type: str) -> None:
    """What pycocotools' evaluation reads of the ground truth: every annotation's id, area, iscrowd and
    box or segmentation, image and category ids that exist, image sizes for segm."""
    from .coco_segm import check_segmentation

    img = {int(im["id"]): im for im in data["images"]}
    cats = {int(c["id"]) for c in data["categories"]}
    if iou_type == "segm":
        for i, im in enumerate(data["images"]):
            if "height" not in im or "width" not in im:
                raise DataError(f"COCO ground truth images[{i}] has no height or width; segm evaluation needs "
                                "both — fix the file.")
    need = ("id", "area", "iscrowd", "bbox" if iou_type == "bbox" else "segmentation")
    for i, a in enumerate(data["annotations"]):
        where = f"COCO ground truth annotations[{i}]"
        miss = [k for k in need if k not in a]
        if miss:
            raise DataError(f"{where} has no {', '.join(miss)} ({iou_type} evaluation needs {', '.join(need)}); "
                            "fix the file.")
        if int(a["image_id"]) not in img:
            raise DataError(f"{where}.image_id {a['image_id']!r} is not in the ground truth's images; fix the file.")
        if int(a["category_id"]) not in cats:
            raise DataError(f"{where}.category_id {a['category_id']!r} is not in the ground truth's categories; "
                            "fix the file.")
        if iou_type == "segm":
            im = img[int(a["image_id"])]
            check_segmentation(a["segmentation"], where, (int(im["height"]), int(im["width"])))
    _unique([int(a["id"]) for a in data["annotations"]], "COCO ground truth annotations")


def _check_predictions(preds: list[dict], iou_type: str, data: dict | None = None) -> None:
    from .coco_segm import check_segmentation

    sizes = {int(im["id"]): (int(im["height"]), int(im["width"])) for im in (data or {}).get("images", [])
             if "height" in im and "width" in im}
    for i, p in enumerate(preds):
        where = f"prediction {i} (image {p.get('image_id')!r:.20})"
        _number(p.get("score"), f"{where} score")
        if "bbox" in p:
            _check_box(p["bbox"], where)
        if iou_type == "segm" and not isinstance(p.get("segmentation"), (dict, list)):
            raise DataError(f"{where} segmentation is not an RLE object or a polygon list; fix the predictions.")
        if iou_type == "segm" and p.get("image_id") in sizes:
            check_segmentation(p["segmentation"], where, sizes[p["image_id"]])


def coco_category_map(gt: Mapping | str | os.PathLike, names: Sequence[str]) -> dict[str, int]:
    """Map detector class names to the GT's category ids, by name.

    Names compare case-insensitively with ``_`` and spaces equal (``traffic_light`` =
    ``traffic light``).  Raises :class:`DataError` listing every name the GT does not have.
    """
    data = load_coco_gt(gt)
    by_name = {_norm(c["name"]): int(c["id"]) for c in data["categories"]}
    missing = [n for n in names if _norm(n) not in by_name]
    if missing:
        raise DataError(
            f"Class name(s) not among the ground truth's categories: {', '.join(map(repr, missing))}. "
            f"Known: {', '.join(sorted(c['name'] for c in data['categories']))}."
        )
    return {n: by_name[_norm(n)] for n in names}


def detections_to_coco(image_id: int, detections: Any, category_map: Mapping[str, int],
                       iou_type: str = "bbox") -> list[dict]:
    """COCO result dicts for one image from a ``tasks.base.Detections``-like object.

    ``bbox`` = ``[x1, y1, x2 - x1, y2 - y1]`` (pixels); ``segm`` adds the mask as compressed RLE
    (``counts`` as text).  ``category_map`` (from :func:`coco_category_map`) must name every label
    present; a missing one is a :class:`DataError` listing them.
    """
    labels = list(detections.labels)
    missing = sorted({n for n in labels if n not in category_map})
    if missing:
        raise DataError(f"No category id for detector class(es) {', '.join(map(repr, missing))}; "
                        "build the map with coco_category_map(gt, names) over all detector classes.")
    masks = getattr(detections, "masks", None)
    if iou_type == "segm":
        if masks is None:
            raise DataError(f"Detections of image {image_id} have no masks; segm results need them.")
        import numpy as np
        from pycocotools import mask as mask_utils
    out = []
    for i, (box, score, name) in enumerate(zip(detections.boxes, detections.scores, labels)):
        x1, y1, x2, y2 = (float(v) for v in box)
        r: dict[str, Any] = {"image_id": int(image_id), "category_id": int(category_map[name]),
                             "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score)}
        if iou_type == "segm":
            rle = mask_utils.encode(np.asfortranarray(np.asarray(masks[i], dtype=np.uint8)))
            r["segmentation"] = {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
        out.append(r)
    return out


def _load_predictions(predictions: Any) -> list[dict]:
    if isinstance(predictions, (str, os.PathLike)):
        p = Path(predictions)
        if not p.is_file():
            raise DataError(f"COCO predictions {p} do not exist; pass a COCO results JSON file.")
        predictions = read_json(p, "COCO predictions")
    if not isinstance(predictions, list) or not all(isinstance(p, Mapping) for p in predictions):
        raise DataError("COCO predictions must be a list of result dicts (image_id, category_id, bbox, score).")
    return [dict(p) for p in predictions]


def _resolve_categories(preds: list[dict], data: dict) -> None:
    named = [p for p in preds if "category_id" not in p]
    if not named:
        return
    if any("category_name" not in p for p in named):
        raise DataError("A prediction has neither category_id nor category_name; give one of them.")
    mapping = coco_category_map(data, sorted({p["category_name"] for p in named}))
    for p in named:
        p["category_id"] = mapping[p["category_name"]]


def coco_evaluate(gt: dict | str | Path, predictions: list[dict] | str | Path, iou_type: str = "bbox",
                  image_ids: Sequence[int] | None = None) -> dict[str, float]:
    """COCO AP/AR of ``predictions`` against ``gt`` with pycocotools ``COCOeval`` (see module doc)."""
    ev = coco_evaluated(gt, predictions, iou_type, image_ids)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        ev.accumulate()
        ev.summarize()
    stats = [float(s) for s in ev.stats]
    if len(stats) != len(STAT_KEYS):
        raise EvaluationError(f"pycocotools returned {len(stats)} statistics, expected {len(STAT_KEYS)}.")
    return dict(zip(STAT_KEYS, stats))


def coco_evaluated(gt: dict | str | Path, predictions: list[dict] | str | Path, iou_type: str = "bbox",
                   image_ids: Sequence[int] | None = None):
    """The checked inputs' pycocotools ``COCOeval`` after ``evaluate()`` (per-image records in ``evalImgs``),
    before ``accumulate()``: what :func:`coco_evaluate` summarises and ``metrics.item_records`` re-weights."""
    if iou_type not in IOU_TYPES:
        raise DataError(f"Unknown iou_type {iou_type!r}; use one of {', '.join(IOU_TYPES)}.")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    data = load_coco_gt(gt)
    preds = _load_predictions(predictions)
    for i, p in enumerate(preds):
        for k in ("image_id", "category_id"):
            if k in p and (isinstance(p[k], bool) or not isinstance(p[k], int)):
                raise DataError(f"prediction {i}: {k} is {p[k]!r:.40}, not an integer; fix the predictions.")
        if "category_name" in p and not isinstance(p["category_name"], str):
            raise DataError(f"prediction {i}: category_name is {p['category_name']!r:.40}, not a name; fix it.")
    _resolve_categories(preds, data)
    _check_gt_for_eval(data, iou_type)
    gt_img = {int(im["id"]) for im in data["images"]}
    cat_ids = {int(c["id"]) for c in data["categories"]}
    bad_img = sorted({p.get("image_id") for p in preds} - gt_img, key=str)
    if bad_img:
        raise DataError(f"Predictions name image ids not in the ground truth: {bad_img[:10]}; "
                        "check that predictions and ground truth are of the same image set.")
    bad_cat = sorted({p.get("category_id") for p in preds} - cat_ids, key=str)
    if bad_cat:
        raise DataError(f"Predictions use category ids not in the ground truth: {bad_cat[:10]}; "
                        "map detector classes with coco_category_map().")
    need = ("bbox", "score") if iou_type == "bbox" else ("segmentation", "score")
    for p in preds:
        miss = [k for k in need if k not in p]
        if miss:
            raise DataError(f"A prediction for image {p.get('image_id')} lacks {', '.join(miss)} (needed for {iou_type}).")
    _check_predictions(preds, iou_type, data)
    if image_ids is not None:
        unknown = sorted(set(int(i) for i in image_ids) - gt_img)
        if unknown:
            raise DataError(f"image_ids not in the ground truth: {unknown[:10]}.")
    if not preds:
        preds = [_dummy_prediction(data, iou_type)]
    if iou_type == "segm":
        _segmentations_to_rle(preds, data)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(data)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(preds)
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        if image_ids is not None:
            ev.params.imgIds = sorted(int(i) for i in image_ids)
        ev.evaluate()
    return ev


def _segmentations_to_rle(preds: list[dict], data: dict) -> None:
    """pycocotools' loadRes takes compressed RLE only: convert polygons / uncompressed RLE."""
    from pycocotools import mask as mask_utils

    sizes = {int(im["id"]): (int(im["height"]), int(im["width"])) for im in data["images"]}
    for p in preds:
        seg = p["segmentation"]
        if isinstance(seg, dict) and isinstance(seg.get("counts"), (str, bytes)):
            continue
        h, w = sizes[int(p["image_id"])]
        rles = mask_utils.frPyObjects(seg, h, w)
        p["segmentation"] = mask_utils.merge(rles) if isinstance(rles, list) else rles


def _dummy_prediction(data: dict, iou_type: str) -> dict:
    if not data["images"] or not data["categories"]:
        raise EvaluationError("The COCO ground truth has no images or no categories; nothing to evaluate.")
    d: dict[str, Any] = {"image_id": int(data["images"][0]["id"]), "category_id": int(data["categories"][0]["id"]),
                         "score": 0.0, "bbox": [0.0, 0.0, 1.0, 1.0]}
    if iou_type == "segm":
        d["segmentation"] = [[0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]]
    return d
