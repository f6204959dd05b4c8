"""Scoring a run's predictions: the condition's metric on the condition's ground truth.

``Scorer`` loads the ground truth once (COCO JSON, OpenImages CSVs, the Cityscapes gtFine files, or the
reference-output pseudo ground truth from the run's own reference jobs) and scores any subset of the
images' predictions (Cityscapes: ``run.cityscapes_scoring``);
``detections_to_coco`` / ``detections_to_oid`` turn stored Detections JSON into metric rows.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..conditions.datasets import ImageRef
from ..core.errors import ConditionError, DataError, EvaluationError


class Scorer:
    """Accuracy of a set of images' predictions under the condition's metric and ground truth."""

    def __init__(self, cond: dict[str, Any], run: dict[str, Any], refs: list[Any], reference_preds: dict[str, dict],
                 results_dir: Path | None = None) -> None:
        """``results_dir``: where metrics that score files keep them per point (Cityscapes result layout)."""
        self.cond = cond
        self.metric = cond["metric"]
        self.iou_type = self.metric.get("iou_type", "bbox")
        self.refs = {r["image_id"]: ImageRef(**r) for r in refs}
        self.gt_mode = (cond.get("ground_truth") or {}).get("mode", "annotations")
        self.notes: list[str] = []
        name = self.metric["name"]
        if self.gt_mode == "reference-output":
            from ..tasks.reference import NOTE, reference_ground_truth

            thr = float(cond["ground_truth"].get("score_threshold", 0.5))
            missing = [i for i in self.refs if i not in reference_preds]
            if missing:
                raise EvaluationError(f"reference-output ground truth is missing for images {missing[:5]}: the reference "
                                      "jobs did not finish; re-run `vcmbench run` to complete them.")
            self.gt = reference_ground_truth(list(self.refs.values()), reference_preds, thr)
            self.notes.append(NOTE.format(thr=thr))
            self.kind = "coco"
        elif name == "coco-ap":
            from ..metrics.coco import load_coco_gt

            ref = coco_json_ref_dict(cond)
            self.gt = load_coco_gt(Path(_data_dir(run)) / ref["file"])
            self.kind = "coco"
        elif name == "oid-challenge":
            self._load_oid(run)
            self.kind = "oid"
        elif name == "cityscapes-ap":
            from .cityscapes_scoring import CityscapesScoring

            self.cityscapes = CityscapesScoring(cond, Path(_data_dir(run)), self.refs, results_dir)
            self.kind = "cityscapes"
        else:
            raise ConditionError(f"metric {name!r} is not scored by the pipeline.")
        if self.kind == "coco":
            from ..metrics.coco import coco_category_map
            from ..tasks.coco_names import COCO_NAMES

            names = {c["name"] for c in self.gt["categories"]}
            self.cat_map = coco_category_map(self.gt, [n for n in COCO_NAMES if n in names or n.replace(" ", "_") in names])

    def _load_oid(self, run: dict[str, Any]) -> None:
        from ..metrics.openimages import load_oid_ground_truth

        ds = self.cond["dataset"]
        d = Path(_data_dir(run))
        ann = ds.get("annotations") or {}
        by_fmt = {ref["format"]: d / ref["file"] for ref in ann.values()}
        classes = d / ds["classes"]["file"] if ds.get("classes") else None
        seg = self.iou_type == "segm"
        self.gt = load_oid_ground_truth(by_fmt.get("oid-boxes-csv"), by_fmt["oid-labels-csv"], classes,
                                        masks_csv=by_fmt.get("oid-masks-csv") if seg else None)
        self.classes = set(self.gt.classes)

    def score(self, preds: dict[str, dict], point: str | None = None) -> tuple[dict[str, float], dict[str, Any]]:
        """(accuracy dict, extra) over the images in ``preds`` (image_id -> Detections JSON); ``point`` names
        the rate point for a metric that keeps files per point (``results_dir``)."""
        refs = [self.refs[i] for i in preds]
        if self.kind == "cityscapes":
            keys = list(dict.fromkeys([self.metric["quality_key"], *(self.metric.get("report") or [])]))
            return self.cityscapes.score(preds, keys, point)
        if self.kind == "coco":
            from ..metrics.coco import coco_evaluate

            rows = []
            for r in refs:
                rows += detections_to_coco(preds[r.image_id], r.eval_id, self.cat_map, self.iou_type)
            stats = coco_evaluate(self.gt, rows, self.iou_type, image_ids=[r.eval_id for r in refs])
            keys = list(dict.fromkeys([self.metric["quality_key"], *(self.metric.get("report") or [])]))
            acc = {k: stats[k] for k in keys if stats[k] >= 0}
            undefined = [k for k in keys if stats[k] < 0]
            if self.metric["quality_key"] in undefined:
                raise EvaluationError(f"{self.metric['quality_key']} is undefined (pycocotools -1): the ground truth "
                                      "of these images has no object to score.")
            return acc, ({"undefined": undefined} if undefined else {})
        from ..metrics.openimages import oid_evaluate

        rows = []
        for r in refs:
            rows += detections_to_oid(preds[r.image_id], r, self.classes, self.iou_type == "segm")
        gt = self.gt if len(refs) == len(self.refs) and set(self.refs) >= set(self.gt.image_ids) else _oid_subset(self.gt, [r.image_id for r in refs])
        res = oid_evaluate(gt, rows, segmentation=self.iou_type == "segm",
                           iou_threshold=float(self.metric.get("iou") or 0.5),
                           group_of_weight=self.metric.get("group_of_weight"))
        return {self.metric["quality_key"]: float(res.map)}, {"classes_evaluated": len(res.per_class)}

    def metric_name(self) -> str:
        if self.kind == "coco":
            from ..metrics.coco import metric_name

            base = metric_name(self.iou_type)
            return base + (" vs reference-output pseudo ground truth" if self.gt_mode == "reference-output" else "")
        if self.kind == "cityscapes":
            from ..metrics.cityscapes import metric_name as cityscapes_metric_name

            return cityscapes_metric_name()
        from ..metrics.openimages import metric_name

        return metric_name(self.iou_type == "segm", float(self.metric.get("iou") or 0.5))


def coco_json_ref_dict(cond: dict[str, Any]) -> dict[str, Any]:
    for ref in ((cond.get("dataset") or {}).get("annotations") or {}).values():
        if ref.get("format") == "coco-json":
            return ref
    raise ConditionError("coco-ap with annotations needs a coco-json annotation file in dataset.annotations.")


def _data_dir(run: dict[str, Any]) -> str:
    d = run.get("data_dir")
    if not d or not Path(d).is_dir():
        raise DataError(f"The run's data directory {d!r} is not available; the ground truth is read from there.")
    return d


def _oid_subset(gt: Any, image_ids: list[str]) -> Any:
    """The OID ground truth restricted to some images (for --limit runs and unverified jobs)."""
    import numpy as np

    keep = sorted(set(image_ids) & set(gt.image_ids))
    old_index = {name: i for i, name in enumerate(gt.image_ids)}
    remap = np.full(len(gt.image_ids), -1, np.int64)
    for new, name in enumerate(keep):
        remap[old_index[name]] = new
    b = remap[gt.box_image] >= 0
    lab = remap[gt.label_image] >= 0
    sub = copy.copy(gt)
    sub.image_ids = keep
    sub.box_image, sub.box_class, sub.boxes, sub.group_of = remap[gt.box_image][b], gt.box_class[b], gt.boxes[b], gt.group_of[b]
    sub.label_image, sub.label_class, sub.label_confidence = remap[gt.label_image][lab], gt.label_class[lab], gt.label_confidence[lab]
    if gt.masks is not None:
        sub.masks = [m for m, k in zip(gt.masks, b) if k]
        sub.mask_size = {int(remap[i]): s for i, s in gt.mask_size.items() if remap[i] >= 0}
    return sub


def detections_to_coco(dets: dict[str, Any], eval_id: int, cat_map: dict[str, int], iou_type: str) -> list[dict]:
    """Detections JSON (tasks.Detections.to_json) -> COCO result dicts (bbox xywh in pixels)."""
    out = []
    masks = dets.get("masks")
    for i, (b, s, lab) in enumerate(zip(dets["boxes"], dets["scores"], dets["labels"])):
        if lab not in cat_map:
            continue
        r = {"image_id": eval_id, "category_id": cat_map[lab], "score": float(s),
             "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]}
        if iou_type == "segm":
            if masks is None:
                raise DataError("The metric evaluates masks (segm) but the task network gave boxes only; "
                                "use an instance-segmentation network.")
            r["segmentation"] = masks[i]
        out.append(r)
    return out


def detections_to_oid(dets: dict[str, Any], ref: ImageRef, classes: set[str], segmentation: bool = False) -> list[dict]:
    """Detections JSON -> OID prediction rows (normalised coordinates), kept classes only.

    ``segmentation`` adds ``ImageWidth, ImageHeight, Mask`` (the mask's COCO RLE counts, zlib level 9,
    base64 — the OID challenge encoding, as ``metrics.oid_io.encode_oid_mask`` writes it)."""
    import base64
    import zlib

    from ..tasks.coco_names import oid_label

    w, h = ref.width, ref.height
    masks = dets.get("masks")
    if segmentation and masks is None:
        raise DataError("The metric evaluates masks (segm) but the task network gave boxes only; "
                        "use an instance-segmentation network.")
    rows = []
    for i, (b, s, lab) in enumerate(zip(dets["boxes"], dets["scores"], dets["labels"])):
        name = oid_label(lab)
        if name not in classes:
            continue
        row = {"ImageID": ref.image_id, "LabelName": name, "Score": float(s),
               "XMin": b[0] / w, "XMax": b[2] / w, "YMin": b[1] / h, "YMax": b[3] / h}
        if segmentation:
            counts = masks[i]["counts"].encode("ascii")
            row.update(ImageWidth=w, ImageHeight=h,
                       Mask=base64.b64encode(zlib.compress(counts, zlib.Z_BEST_COMPRESSION)).decode("ascii"))
        rows.append(row)
    return rows
