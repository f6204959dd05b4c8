"""Cityscapes instance-segmentation AP via ``cityscapesscripts`` (the official evaluator).

Inputs, in the Cityscapes formats:

* ground truth: ``<city>_<seq>_<frame>_gtFine_instanceIds.png`` files (anywhere under ``gt_dir``);
  pixel value = ``labelId * 1000 + instance`` for instance classes, ``labelId`` otherwise.
* predictions: per GT image one ``<city>_<seq>_<frame>*.txt`` under ``pred_dir`` with lines
  ``relative/mask.png labelId confidence``; each mask PNG is non-zero on the instance.

Returned: ``AP`` (mean over IoU 0.50:0.95 and over classes with ground truth) and ``AP50``,
fractions, plus per-class figures and the classes without ground truth (not averaged).
Defaults are the official ones (minimum GT region 100 px, no distance thresholds).

The official script keeps its settings in a module-global ``args``, caches GT instances in a
file next to its own source, writes ``matches.json`` into the working directory, prints, and
calls ``sys.exit`` on errors.  This wrapper gives it a private settings object and a private
temporary working directory, captures its output and turns its exits into
:class:`EvaluationError`.  cityscapesscripts 2.3 calls ``np.in1d``, which numpy 2.4 removed: the
script's module sees a numpy proxy that adds it (``isin`` on the flattened array) during the call,
and its debug dump ``matches.json`` (which fails on numpy integers) is skipped.  It changes the process's working directory while it runs: do not call
it from several threads at once.
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..core.errors import DataError, EvaluationError

__all__ = ["cityscapes_instance_ap", "metric_name"]


def metric_name() -> str:
    return "Cityscapes instance AP@[.5:.95] (cityscapesscripts)"


class _NumpyCompat:
    """numpy for cityscapesscripts 2.3, which calls ``np.in1d`` (removed in numpy 2.4)."""

    def __init__(self, np):
        self._np = np

    def __getattr__(self, name):
        return getattr(self._np, name)

    def in1d(self, ar1, ar2, assume_unique=False, invert=False):
        return self._np.isin(self._np.asarray(ar1).ravel(), ar2, assume_unique=assume_unique, invert=invert)


def _find_predictions(gt_files: list[Path], pred_dir: Path) -> list[str]:
    """Per GT file the one ``<city>_<seq>_<frame>*.txt`` under ``pred_dir`` (cityscapesscripts' rule)."""
    txts = [(f, os.path.join(r, f)) for r, _, files in os.walk(pred_dir) for f in fnmatch.filter(files, "*.txt")]
    out = []
    for gt in gt_files:
        core = "_".join(gt.name.split("_")[:3])
        hits = [path for f, path in txts if fnmatch.fnmatch(f, f"{core}*.txt")]
        if len(hits) != 1:
            what = "no" if not hits else "several"
            raise DataError(f"Found {what} prediction file {core}*.txt under {pred_dir} for {gt.name}; "
                            "give exactly one prediction list per ground-truth image.")
        out.append(os.path.abspath(hits[0]))
    return out


def _gt_files(gt_root: Path, image_ids: Sequence[str] | None) -> list[Path]:
    files = sorted(gt_root.rglob("*_gtFine_instanceIds.png"))
    if not files:
        raise DataError(f"No *_gtFine_instanceIds.png under {gt_root}; give the gtFine folder of the split.")
    if image_ids is None:
        return files
    by_id: dict[str, list[Path]] = {}
    for f in files:
        by_id.setdefault(f.name[: -len("_gtFine_instanceIds.png")], []).append(f)
    missing = [i for i in image_ids if i not in by_id]
    several = [i for i in image_ids if len(by_id.get(i, ())) > 1]
    if missing:
        raise DataError(f"No ground truth {missing[0]}_gtFine_instanceIds.png under {gt_root} "
                        f"({len(missing)} image(s) lack one); give the gtFine folder of the images' split.")
    if several:
        raise DataError(f"Several {several[0]}_gtFine_instanceIds.png under {gt_root}; keep one gtFine split there.")
    return [by_id[i][0] for i in image_ids]


def cityscapes_instance_ap(gt_dir: str | os.PathLike, pred_dir: str | os.PathLike,
                           image_ids: Sequence[str] | None = None) -> dict:
    """Official Cityscapes instance AP of the predictions under ``pred_dir`` (see module doc).

    ``image_ids`` (``<city>_<seq>_<frame>``): evaluate only those images' ground truth (a run's scored
    images, e.g. with ``--limit``); by default every ``*_gtFine_instanceIds.png`` under ``gt_dir``."""
    gt_root, pred_root = Path(gt_dir).resolve(), Path(pred_dir).resolve()
    if not gt_root.is_dir():
        raise DataError(f"Cityscapes ground-truth folder {gt_root} does not exist.")
    if not pred_root.is_dir():
        raise DataError(f"Cityscapes prediction folder {pred_root} does not exist.")
    gt_files = _gt_files(gt_root, image_ids)
    preds = _find_predictions(gt_files, pred_root)

    import numpy as np
    from cityscapesscripts.evaluation import evalInstanceLevelSemanticLabeling as ev

    sink = io.StringIO()
    old_cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="vcmbench-cs-") as tmp:
        args = copy.copy(ev.args)
        args.gtInstancesFile = os.path.join(tmp, "gtInstances.json")
        args.exportFile = os.path.join(tmp, "result.json")
        args.predictionPath = str(pred_root)
        args.predictionWalk = None
        args.JSONOutput = False
        args.quiet = True
        args.colorized = False
        args.csv = False
        args.distanceAvailable = False
        saved_np, saved_write = ev.np, ev.writeDict2JSON

        def write_json(obj, name):  # the debug dump matches.json holds numpy ints the script cannot serialise
            if os.path.basename(str(name)) != "matches.json":
                saved_write(obj, name)

        try:
            ev.np = _NumpyCompat(np) if not hasattr(np, "in1d") else np
            ev.writeDict2JSON = write_json
            os.chdir(tmp)  # the script writes matches.json into the working directory
            with contextlib.redirect_stdout(sink):
                res = ev.evaluateImgLists(preds, [str(p) for p in gt_files], args)
        except SystemExit:
            raise EvaluationError(f"cityscapesscripts refused the input: {sink.getvalue().strip()[-500:]}") from None
        finally:
            os.chdir(old_cwd)
            ev.np, ev.writeDict2JSON = saved_np, saved_write
    avg = res["averages"]
    per_class, without = {}, []
    for name, d in avg["classes"].items():
        ap, ap50 = float(d["ap"]), float(d["ap50%"])
        if math.isnan(ap):
            without.append(name)
        else:
            per_class[name] = {"ap": ap, "ap50": ap50}
    if not per_class:
        raise EvaluationError("No Cityscapes instance class has ground truth (regions >= 100 px); AP is undefined.")
    all_ap, all_ap50 = float(avg["allAp"]), float(avg["allAp50%"])
    if not (np.isfinite(all_ap) and np.isfinite(all_ap50)):
        raise EvaluationError("cityscapesscripts returned a non-finite AP; check the predictions.")
    return {"metric": metric_name(), "AP": all_ap, "AP50": all_ap50, "per_class": per_class,
            "classes_without_gt": without, "images": len(gt_files)}
