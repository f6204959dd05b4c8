"""Recompute a package's accuracy from its decoded bitstreams, exactly as ``vcmbench run`` scores a run.

Per decoded picture: YUV -> RGB with the condition's colour mode, crop / scale back to the
original size (``yuv.ctc_yuv_to_rgb``, as ``vcmbench run`` does), the condition's task network with
the pipeline's options, then the pipeline's scorer (``run.scoring.Scorer``: COCO AP or the OID challenge metric, with
annotations or reference-output ground truth) over the images of each (scale, QP) point.
Nothing here re-implements a stage: it reuses the pipeline's functions so the recomputed number
is the number ``vcmbench run`` would have produced for those images.

Raises ``EvaluationError`` / ``DataError`` with the reason when this cannot be done here (the
task network is not installed, the condition's data is absent, an image of the package is not
in the condition's dataset).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..core.errors import DataError, EvaluationError, VcmbenchError
from .manifest import Item


class AccuracyRecomputer:
    """Built once per package (images, task network, ground truth); called once per (scale, QP) point
    with that point's decoded pictures, it returns the point's ``quality_key`` accuracy."""

    def __init__(self, cond: Any, items: list[Item], data_dir: str | Path | None, quality_key: str | None = None):
        from ..conditions.datasets import list_images, load_rgb
        from ..run.jobs import get_cached_task
        from ..run.pipeline import check_supported, task_options_for
        from ..run.scoring import Scorer

        if cond.kind != "image":
            raise EvaluationError(f"condition {cond.name} codes features: recomputing its accuracy needs the feature "
                                  "pipeline (dequantise, untile, task head), which crosscheck does not drive yet")
        try:
            check_supported(cond)
        except VcmbenchError as exc:
            raise EvaluationError(f"the pipeline cannot score condition {cond.name}: {exc}") from None
        try:
            refs = {r.image_id: r for r in list_images(cond, data_dir)}
        except VcmbenchError as exc:
            raise DataError(f"the condition's images are not available here ({exc}); pass --data") from None
        unknown = sorted({it.image for it in items if it.image not in refs})
        if unknown:
            raise DataError(f"image(s) {unknown[:5]} of the package are not in condition {cond.name}'s dataset")
        for it in items:
            r = refs[it.image]
            if (r.width, r.height) != (it.original_width, it.original_height):
                raise DataError(f"image {it.image}: the manifest says {it.original_width}x{it.original_height}, the "
                                f"dataset's image is {r.width}x{r.height}")
        topts = task_options_for(cond)
        try:
            self.task = get_cached_task(cond.task["network"], tuple(sorted(topts.items())))
        except VcmbenchError as exc:
            raise EvaluationError(f"task network {cond.task['network']!r} is not available here ({exc})") from None
        used = sorted({it.image for it in items})
        ref_preds: dict[str, dict] = {}
        if cond.ground_truth_mode == "reference-output":
            for name in used:
                ref_preds[name] = self.task.run(load_rgb(refs[name])).to_json()
        run = {"data_dir": None if data_dir is None else str(Path(data_dir).resolve())}
        self.scorer = Scorer(cond.to_dict(), run, [asdict(refs[n]) for n in used], ref_preds)
        self.cond = cond
        self.quality_key = quality_key or cond.metric["quality_key"]

    def __call__(self, group: list[tuple[Item, Path]]) -> float:
        from ..coding.yuv import YuvFormat, ctc_yuv_to_rgb, read_yuv

        preds: dict[str, dict] = {}
        for it, yuv in group:
            fmt = YuvFormat(it.width, it.height, it.chroma_format, it.bit_depth)
            restored = ctc_yuv_to_rgb(read_yuv(yuv, fmt), fmt, it.original_width, it.original_height, it.scale,
                                      mode=self.cond.color_mode)
            preds[it.image] = self.task.run(restored).to_json()
        acc, _ = self.scorer.score(preds)
        if self.quality_key not in acc:
            raise EvaluationError(f"the scorer gave no {self.quality_key!r} (has {sorted(acc)})")
        return float(acc[self.quality_key])
