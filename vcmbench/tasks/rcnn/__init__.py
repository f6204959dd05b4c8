"""Native detectron2-equivalent Faster/Mask R-CNN FPN (pure torch), registered as ``rcnn:<model-zoo config>``.

Modules by concern: ``config`` (the model-zoo configs as data), ``weights`` (model-zoo ``.pkl``
loading, key/shape checks, sha256), ``backbone`` (ResNet/ResNeXt, FrozenBN folded), ``fpn``,
``rpn``, ``roi_heads`` (box and mask heads), ``ops`` (NMS, ROIAlignV2, box transforms, mask
pasting), ``model`` (pre/postprocessing and the split at the FPN), ``network`` (the TaskNetwork),
``seeded`` (seeded model-zoo-style weights), ``complexity``.  torch is imported when a network is built.
"""

from __future__ import annotations

from ..base import TASK_INFO, TASKS
from .config import CONFIGS, get_config, supported_models

__all__ = ["CONFIGS", "get_config", "supported_models", "build_rcnn"]


@TASKS.register("rcnn")
def build_rcnn(**opts):
    from .network import RCNNNetwork

    return RCNNNetwork(**opts)


def _rcnn_identity(model: str = "COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x", weights: str | None = None,
                   **opts) -> dict | None:
    """The weights file the network would load (as ``RCNNNetwork`` finds it), or None when there is none
    (building then says what is missing)."""
    import os
    from pathlib import Path

    from .network import WEIGHTS_ENV

    weights = weights or os.environ.get(WEIGHTS_ENV) or os.environ.get("VCMBENCH_D2_WEIGHTS")
    if not weights or not Path(weights).is_file():
        return None
    return {"files": [str(Path(weights).resolve())], "packages": ["torch"]}


build_rcnn.identity = _rcnn_identity  # type: ignore[attr-defined]

TASK_INFO["rcnn"] = {
    "type": "detection / instance-segmentation", "backend": "native torch (detectron2-equivalent)",
    "split": "fpn (p2..p6)",
    "weights": "model-zoo .pkl (--task-weights or VCMBENCH_RCNN_WEIGHTS)",
    "models": ", ".join(supported_models()),
}
