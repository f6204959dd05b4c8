"""Task networks: the registry ``task_registry`` and ``get_task(name, **opts)``.

Names are the condition's ``task.network`` values: ``ssd-mobilenet-v2-coco`` (PyTorch, split-capable),
``ssd-mobilenet-v2-coco-opencv`` (the same network on OpenCV DNN, the reference backend) or
``detectron2:<model-zoo config>`` (e.g. ``detectron2:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x``).
Backend modules import their heavy dependencies (cv2, torch, detectron2) only when a network is built.
"""

from __future__ import annotations

from typing import Any

from . import detectron2 as _d2  # noqa: F401  (registers "detectron2"; imports detectron2 lazily)
from . import ssd as _ssd  # noqa: F401  (registers "ssd-mobilenet-v2-coco-opencv"; imports cv2 lazily)
from . import ssd_torch as _ssd_torch  # noqa: F401  (registers "ssd-mobilenet-v2-coco"; imports torch lazily)
from .base import TASK_INFO, TASKS, Detections, TaskNetwork

task_registry = TASKS

__all__ = ["Detections", "TaskNetwork", "task_registry", "get_task", "split_network_name", "task_names", "TASK_INFO",
           "network_details"]


def split_network_name(name: str) -> tuple[str, str | None]:
    """``"detectron2:COCO-Detection/x"`` -> ``("detectron2", "COCO-Detection/x")``; plain names -> ``(name, None)``."""
    backend, sep, model = name.partition(":")
    return (backend, model) if sep else (name, None)


def get_task(name: str, **opts: Any) -> TaskNetwork:
    """Build the task network ``name`` (a registry name, optionally ``backend:model``).

    ``opts``: ``score_threshold``, ``max_detections`` and backend options (``weights`` for detectron2,
    ``threads`` for OpenCV).
    """
    backend, model = split_network_name(name)
    factory = TASKS.get(backend)
    if model is not None:
        opts = {"model": model, **opts}
    return factory(**opts)


def task_names() -> list[str]:
    return TASKS.names()


def network_details(net: TaskNetwork) -> dict[str, Any]:
    """Split points, feature maps (shape, value range) and complexity of a built network, for
    ``vcmbench tasks --json``; complexity also per input pixel (kMAC/pixel, as the FCM conditions report it)."""
    out: dict[str, Any] = {"split_points": list(net.split_points), "feature_layers": net.feature_info()}
    c = net.complexity()
    if c:
        px = c["input_pixels"]
        c = {**c, "kmac_per_pixel": {part: round(c[part]["macs"] / px / 1000, 3) for part in ("front", "back")}}
    out["complexity"] = c
    return out
