"""Scoring a Cityscapes run: the stored predictions in the Cityscapes result layout, scored by cityscapesscripts.

Per rate point (and once for the uncompressed images) the predictions of the point's scored images
(``Detections`` JSON as the jobs stored them: labels, scores, full-image COCO-RLE masks) are written as

* ``<image id>_pred.txt``: one line per instance, ``masks/<image id>_<k>.png <labelId> <score>``;
* ``masks/<image id>_<k>.png``: the instance's mask, 1-bit, non-zero on the instance,

with ``labelId`` = ``tasks.cityscapes_names.CITYSCAPES_LABEL_IDS[label]`` (detections of other classes
are left out and counted in the point's ``labels_left_out``), and scored by
``metrics.cityscapes.cityscapes_instance_ap`` on the ground truth of those images only (``--limit``
runs and points with unverified bitstreams score what they have).  The folder is written under a
temporary name and renamed into place (``RUNDIR/cityscapes-results/<point>/``) with its scores in
``score.json``, keyed by a hash of every input (each image's predictions and ground-truth file,
the label table, the layout and cityscapesscripts' version): a rebuilt or resumed run reuses a
point whose inputs did not change and rewrites one whose inputs did.  Without a results folder
(cross-check) the layout goes to a temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..conditions.datasets import ImageRef, cityscapes_dirs, cityscapes_gt_file
from ..core.errors import ConditionError, DataError
from ..core.jsonio import read_json, write_json

RESULTS_DIR = "cityscapes-results"
SCORE_FILE = "score.json"
LAYOUT_VERSION = 1
_TMP = ".tmp-"


def check_network(cond: Any, task: Any) -> None:
    """A Cityscapes condition needs an instance-segmentation network with Cityscapes classes."""
    from ..tasks.cityscapes_names import CITYSCAPES_LABEL_IDS

    net = cond.task["network"]
    if getattr(task, "task_type", "") != "instance-segmentation":
        raise ConditionError(f"Condition {cond.name} scores instance masks (Cityscapes AP); {net!r} is a "
                             f"{getattr(task, 'task_type', 'non-segmentation')} network. Use a Mask R-CNN such as "
                             "detectron2:Cityscapes/mask_rcnn_R_50_FPN.")
    if not set(getattr(task, "classes", ())) & set(CITYSCAPES_LABEL_IDS):
        raise ConditionError(f"{net!r} predicts none of the Cityscapes classes ({', '.join(CITYSCAPES_LABEL_IDS)}); "
                             "use a network trained on Cityscapes, e.g. detectron2:Cityscapes/mask_rcnn_R_50_FPN.")


def point_name(scale: float, qp: int) -> str:
    """The rate point's folder under ``RUNDIR/cityscapes-results`` (``100pct-qp37``)."""
    return f"{round(scale * 100)}pct-qp{qp}"


def _evaluator_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cityscapesscripts")
    except PackageNotFoundError:
        raise DataError("Cityscapes AP needs cityscapesscripts: install vcmbench from its lock file "
                        "(`pip install cityscapesscripts`).") from None


class CityscapesScoring:
    """Cityscapes AP of the images' stored predictions (see the module docstring)."""

    def __init__(self, cond: dict[str, Any], data_dir: Path, refs: dict[str, ImageRef], results_dir: Path | None):
        from PIL import Image

        from ..conditions import Condition
        from ..tasks.cityscapes_names import CITYSCAPES_LABEL_IDS

        c = Condition(data={k: v for k, v in cond.items() if not k.startswith("_")})
        _, self.gt_dir = cityscapes_dirs(c, data_dir)
        self.label_ids = dict(CITYSCAPES_LABEL_IDS)
        self.refs = refs
        self.results_dir = results_dir
        self.gt: dict[str, Path] = {}
        for image_id, ref in refs.items():
            gt = cityscapes_gt_file(self.gt_dir, ref.path or image_id)
            if not gt.is_file():
                raise DataError(f"Image {image_id} has no ground truth {gt}; put the gtFine folder of its split in the "
                                f"run's data directory ({data_dir}).")
            with Image.open(gt) as im:
                if im.size != (ref.width, ref.height):
                    raise DataError(f"Ground truth {gt} is {im.size[0]}x{im.size[1]}, image {image_id} "
                                    f"{ref.width}x{ref.height}; check the layout with `vcmbench cttc verify-data`.")
            self.gt[image_id] = gt
        self._gt_md5: dict[str, str] = {}

    def _gt_digest(self, image_id: str) -> str:
        if image_id not in self._gt_md5:
            from ..core.hashing import md5_file

            self._gt_md5[image_id] = md5_file(self.gt[image_id])
        return self._gt_md5[image_id]

    def _key(self, preds: dict[str, dict]) -> str:
        images = [[i, hashlib.sha256(json.dumps(preds[i], sort_keys=True).encode()).hexdigest(), self._gt_digest(i)]
                  for i in sorted(preds)]
        blob = {"layout": LAYOUT_VERSION, "labels": self.label_ids, "evaluator": _evaluator_version(), "images": images}
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()

    def score(self, preds: dict[str, dict], keys: list[str], point: str | None = None) -> tuple[dict[str, float], dict]:
        """(accuracy ``{key: value}`` for ``keys`` of AP/AP50, extra: per-class AP, classes without GT, labels
        left out) of the images in ``preds``; ``point`` names the folder kept in the results folder."""
        res = self._cached_or_scored(preds, point)
        acc = {k: float(res[k]) for k in keys}
        extra: dict[str, Any] = {"per_class": res["per_class"], "classes_without_gt": res["classes_without_gt"]}
        if res.get("labels_left_out"):
            extra["labels_left_out"] = res["labels_left_out"]
        return acc, extra

    def _cached_or_scored(self, preds: dict[str, dict], point: str | None) -> dict[str, Any]:
        from ..metrics.cityscapes import cityscapes_instance_ap

        key = self._key(preds)
        keep = self.results_dir is not None and point is not None
        if keep:
            final = self.results_dir / point
            try:
                cached = read_json(final / SCORE_FILE)
                if isinstance(cached, dict) and cached.get("key") == key:
                    return cached["result"]
            except DataError:  # absent or damaged: scored again
                pass
            self.results_dir.mkdir(parents=True, exist_ok=True)
            _remove_orphans(self.results_dir)
            tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP}{os.getpid()}-{point}-", dir=self.results_dir))
        else:
            tmp = Path(tempfile.mkdtemp(prefix="vcmbench-cs-results-"))
        try:
            left_out = self._write_layout(preds, tmp)
            res = cityscapes_instance_ap(self.gt_dir, tmp, image_ids=sorted(preds))
            res["labels_left_out"] = left_out
            if keep:
                write_json(tmp / SCORE_FILE, {"key": key, "images": sorted(preds), "result": res})
                _swap_in(tmp, final)
            return res
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _write_layout(self, preds: dict[str, dict], folder: Path) -> dict[str, int]:
        import numpy as np
        from PIL import Image
        from pycocotools import mask as mask_util

        (folder / "masks").mkdir()
        left_out: dict[str, int] = {}
        for image_id in sorted(preds):
            ref, d = self.refs[image_id], preds[image_id]
            masks = d.get("masks")
            if masks is None and d["labels"]:
                raise DataError(f"Image {image_id}: the stored predictions have boxes but no masks; Cityscapes AP "
                                "scores masks: use an instance-segmentation network.")
            lines = []
            for k, (label, score) in enumerate(zip(d["labels"], d["scores"])):
                if label not in self.label_ids:
                    left_out[label] = left_out.get(label, 0) + 1
                    continue
                rle = masks[k]
                if list(rle["size"]) != [ref.height, ref.width]:
                    raise DataError(f"Image {image_id}: a predicted mask is {rle['size'][1]}x{rle['size'][0]}, the "
                                    f"image {ref.width}x{ref.height}; the stored predictions do not belong to this "
                                    "image (re-run into a new --out).")
                m = mask_util.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")})
                name = f"masks/{image_id}_{k}.png"
                Image.fromarray(np.ascontiguousarray(m, dtype=bool)).save(folder / name)
                lines.append(f"{name} {self.label_ids[label]} {float(score)!r}\n")
            (folder / f"{image_id}_pred.txt").write_text("".join(lines), encoding="ascii")
        return dict(sorted(left_out.items()))


def _swap_in(tmp: Path, final: Path) -> None:
    """Put the finished folder ``tmp`` at ``final`` (replacing an older one) by renames."""
    old = None
    if final.exists():
        old = final.with_name(f"{_TMP}{os.getpid()}-old-{final.name}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_orphans(results_dir: Path) -> None:
    """Temporary folders left by a scoring process that no longer runs (killed mid-write)."""
    for p in results_dir.glob(f"{_TMP}*"):
        try:
            pid = int(p.name[len(_TMP):].split("-", 1)[0])
        except ValueError:
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
