"""detectron2 model-zoo Faster R-CNN / Mask R-CNN, a thin adapter split at the FPN (``p2``..``p6``).

Used where detectron2 imports (it is not installable from the package registries, DESIGN.md 5.6);
imported lazily, so this module loads anywhere.  Weights are the user's model-zoo ``.pkl`` (or
``.pth``) file, loaded by detectron2's own ``DetectionCheckpointer`` (the zoo's name conversions)
except that the file is read by :func:`checkpoint_dict`: a ``.pkl`` through the restricted unpickler
of ``core.safe_pickle`` (never ``pickle.load``), anything else with ``torch.load(weights_only=True)``;
give it as ``weights=`` or in ``VCMBENCH_D2_WEIGHTS``.  Nothing is downloaded.

Preprocessing is detectron2's own ``DefaultPredictor`` path (DESIGN.md 5.1): the RGB input is
turned into the config's ``INPUT.FORMAT`` (BGR for the model-zoo models), resized with
``ResizeShortestEdge(MIN_SIZE_TEST=800, MAX_SIZE_TEST=1333)`` (PIL bilinear), and the model
subtracts ``PIXEL_MEAN`` / divides by ``PIXEL_STD`` and pads to ``SIZE_DIVISIBILITY`` (32) itself.
Outputs are rescaled by detectron2 to the input image size.  Classes: the 80 COCO classes numbered
contiguously 0..79 (``coco_names.COCO_NAMES`` order), or for ``Cityscapes/`` configs the 8 Cityscapes
thing classes (``cityscapes_names.CITYSCAPES_THING_CLASSES``, detectron2's own order).

Split point ``fpn``: ``features(rgb)`` = ``backbone(preprocessed image)`` = ``{p2..p6}`` (256
channels each, float32 ``(C, H, W)``); ``head(features, (W, H))`` runs the RPN, the ROI heads and
the postprocessing, as ``run`` would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError, UsageError
from .base import TASK_INFO, TASKS, Detections, TaskNetwork, check_rgb
from .cityscapes_names import CITYSCAPES_THING_CLASSES
from .coco_names import COCO_NAMES


def detectron2_available() -> tuple[bool, str]:
    """(usable?, reason when not), without building a model.

    detectron2 must import, and so must its compiled extension ``detectron2._C`` (``detectron2.layers``
    imports it at load: a source tree or an sdist built without its extension imports, then fails in
    ``build_model``) and the torchvision operators its R-CNN heads call (``nms``, ``roi_align``: a
    torchvision built for another torch imports without them)."""
    try:
        import detectron2  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - the reason is reported
        return False, f"detectron2 does not import here ({type(exc).__name__}: {exc}); install it from its own instructions"
    try:
        import detectron2._C  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - the reason is reported
        return False, (f"detectron2 imports here but its compiled extension detectron2._C does not "
                       f"({type(exc).__name__}: {exc}); build detectron2 with its extension (its own install "
                       "instructions)")
    try:
        import torch
        import torchvision.ops

        boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
        torchvision.ops.nms(boxes, torch.tensor([1.0]), 0.5)
        torchvision.ops.roi_align(torch.zeros((1, 1, 4, 4)), [boxes], (1, 1))
    except Exception as exc:  # noqa: BLE001 - the reason is reported
        return False, (f"detectron2 imports here but the torchvision operators it calls do not run "
                       f"({type(exc).__name__}: {exc}); install the torchvision built for this torch")
    return True, ""


def checkpoint_dict(filename: str) -> dict[str, Any]:
    """What detectron2 0.6's ``DetectionCheckpointer._load_file`` returns for ``filename``, read safely.

    ``.pkl``: a detectron2 zoo file (``model`` and ``__author__``) as it is, else a Detectron/Caffe2
    file (its ``blobs`` without ``*_momentum``, ``matching_heuristics``); other files: a torch
    checkpoint, wrapped in ``{"model": ...}`` when it is a bare state_dict.
    """
    from ..core.safe_pickle import load_torch_weights, load_zoo_pickle

    if filename.endswith(".pkl"):
        data = load_zoo_pickle(filename)
        if not isinstance(data, dict):
            raise DataError(f"Weights file {filename} holds a {type(data).__name__}, not a model-zoo dict; give the "
                             "model-zoo .pkl.")
        if "model" in data and "__author__" in data:
            return data
        data = data.get("blobs", data)
        data = {k: v for k, v in data.items() if not str(k).endswith("_momentum")}
        return {"model": data, "__author__": "Caffe2", "matching_heuristics": True}
    loaded = load_torch_weights(filename)
    if not isinstance(loaded, dict):
        raise DataError(f"Weights file {filename} holds a {type(loaded).__name__}, not a checkpoint dict; give a "
                         "detectron2 checkpoint or model-zoo .pkl.")
    return loaded if "model" in loaded else {"model": loaded}


def safe_checkpointer(base: type) -> type:
    """``base`` (detectron2's ``DetectionCheckpointer``) reading its file with :func:`checkpoint_dict`."""

    class SafeDetectionCheckpointer(base):  # type: ignore[misc, valid-type]
        def _load_file(self, filename: str) -> dict[str, Any]:
            return checkpoint_dict(filename)

    return SafeDetectionCheckpointer


def model_classes(model: str) -> tuple[str, ...]:
    """The contiguous class names of a model-zoo config: Cityscapes' 8 for ``Cityscapes/...``, else COCO's 80."""
    return CITYSCAPES_THING_CLASSES if model.startswith("Cityscapes/") else COCO_NAMES


def class_name(index: int, classes: tuple[str, ...] = COCO_NAMES) -> str:
    """Contiguous detectron2 class index (0..len(classes) - 1) -> name (COCO by default)."""
    if not 0 <= int(index) < len(classes):
        raise UsageError(f"detectron2 class index {index} is outside 0..{len(classes) - 1} "
                         f"(the model has {len(classes)} classes).")
    return classes[int(index)]


def resized_size(width: int, height: int, short: int = 800, max_size: int = 1333) -> tuple[int, int]:
    """(W, H) after ResizeShortestEdge, with detectron2's arithmetic (``get_output_shape``)."""
    scale = short / min(height, width)
    if height < width:
        newh, neww = short, scale * width
    else:
        newh, neww = scale * height, short
    if max(newh, neww) > max_size:
        s = max_size / max(newh, neww)
        newh, neww = newh * s, neww * s
    return int(neww + 0.5), int(newh + 0.5)


@TASKS.register("detectron2")
class Detectron2Network(TaskNetwork):
    split_points = ("fpn",)
    feature_layers = ("p2", "p3", "p4", "p5", "p6")
    classes = COCO_NAMES
    input_convention = "RGB uint8 -> cfg INPUT.FORMAT (BGR), ResizeShortestEdge 800/1333, model mean/std, pad 32"

    def __init__(self, model: str = "COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x", weights: str | None = None,
                 score_threshold: float = 0.05, max_detections: int = 100, device: str = "cpu",
                 threads: int | None = None, allow_unpublished_weights: bool = False) -> None:
        # allow_unpublished_weights: accepted for the same command lines as the native backend; detectron2
        # checks no published sha256 (its signature carries the weights file's hash)
        super().__init__(score_threshold, max_detections)
        ok, why = detectron2_available()
        if not ok:
            raise UsageError(f"Task network detectron2:{model} needs detectron2: {why}.")
        weights = weights or os.environ.get("VCMBENCH_D2_WEIGHTS")
        if not weights or not Path(weights).is_file():
            raise UsageError(f"detectron2:{model} needs its model-zoo weights file: pass --task-weights FILE.pkl "
                             f"or set VCMBENCH_D2_WEIGHTS (got {weights!r}); nothing is downloaded.")
        import torch
        from detectron2 import model_zoo
        from detectron2.checkpoint import DetectionCheckpointer
        from detectron2.config import get_cfg
        from detectron2.data import transforms as T
        from detectron2.modeling import build_model

        if threads is not None:
            torch.set_num_threads(int(threads))
        cfg = get_cfg()
        cfg.merge_from_file(model_zoo.get_config_file(model + ".yaml"))
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = self.score_threshold
        cfg.TEST.DETECTIONS_PER_IMAGE = self.max_detections
        cfg.MODEL.DEVICE = device
        self.cfg = cfg
        self.model_name = model
        self.classes = model_classes(model)
        if len(self.classes) != cfg.MODEL.ROI_HEADS.NUM_CLASSES:
            raise UsageError(f"detectron2:{model} has {cfg.MODEL.ROI_HEADS.NUM_CLASSES} classes; vcmbench knows the "
                             f"names of {len(self.classes)} for it: use a COCO or Cityscapes model-zoo config.")
        self.name = f"detectron2:{model}"
        self.task_type = "instance-segmentation" if cfg.MODEL.MASK_ON else "detection"
        self._model = build_model(cfg).eval()
        safe_checkpointer(DetectionCheckpointer)(self._model).load(str(weights))
        self._weights = Path(weights)
        self._aug = T.ResizeShortestEdge([cfg.INPUT.MIN_SIZE_TEST] * 2, cfg.INPUT.MAX_SIZE_TEST)
        self._torch = torch

    def signature(self) -> str:
        from ..core.hashing import short_hash

        return f"d2~{Path(self.model_name).name}#{short_hash(str(self._weights), 6, 'md5')}"

    # -- preprocessing (DefaultPredictor) ---------------------------------------------------------
    def _inputs(self, rgb: np.ndarray) -> dict[str, Any]:
        rgb = check_rgb(rgb)
        img = rgb[:, :, ::-1] if self.cfg.INPUT.FORMAT == "BGR" else rgb
        h, w = img.shape[:2]
        image = self._aug.get_transform(img).apply_image(img)
        tensor = self._torch.as_tensor(np.ascontiguousarray(image.astype("float32").transpose(2, 0, 1)))
        return {"image": tensor.to(self.cfg.MODEL.DEVICE), "height": h, "width": w}

    def _to_detections(self, instances: Any, w: int, h: int) -> Detections:
        inst = instances.to("cpu")
        boxes = inst.pred_boxes.tensor.numpy().astype(np.float64)
        scores = inst.scores.numpy()
        labels = [class_name(i, self.classes) for i in inst.pred_classes.numpy()]
        masks = inst.pred_masks.numpy().astype(bool) if inst.has("pred_masks") else None
        return Detections(boxes, scores, labels, masks, (w, h)).filtered(self.score_threshold, self.max_detections)

    def run(self, rgb: np.ndarray) -> Detections:
        inputs = self._inputs(rgb)
        with self._torch.no_grad():
            out = self._model([inputs])[0]["instances"]
        return self._to_detections(out, inputs["width"], inputs["height"])

    def features(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        inputs = self._inputs(rgb)
        with self._torch.no_grad():
            images = self._model.preprocess_image([inputs])
            feats = self._model.backbone(images.tensor)
        return {k: feats[k][0].cpu().numpy().astype(np.float32) for k in self.feature_layers}

    def head(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> Detections:
        from detectron2.structures import ImageList

        w, h = image_size
        rw, rh = resized_size(w, h, self.cfg.INPUT.MIN_SIZE_TEST, self.cfg.INPUT.MAX_SIZE_TEST)
        torch = self._torch
        dev = self.cfg.MODEL.DEVICE
        feats = {k: torch.as_tensor(np.ascontiguousarray(features[k]))[None].to(dev) for k in self.feature_layers}
        p2 = feats["p2"]
        images = ImageList(torch.zeros((1, 3, p2.shape[2] * 4, p2.shape[3] * 4), device=dev), [(rh, rw)])
        with torch.no_grad():
            proposals, _ = self._model.proposal_generator(images, feats, None)
            results, _ = self._model.roi_heads(images, feats, proposals, None)
            out = self._model._postprocess(results, [{"height": h, "width": w}], images.image_sizes)[0]["instances"]
        return self._to_detections(out, w, h)


TASK_INFO["detectron2"] = {
    "type": "detection / instance-segmentation", "backend": "detectron2 (lazy)", "split": "fpn (p2..p6)",
    "weights": "user-supplied model-zoo .pkl (--task-weights or VCMBENCH_D2_WEIGHTS)",
}
