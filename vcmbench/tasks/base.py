"""Task-network contract: ``Detections`` and the ``TaskNetwork`` base class with named split points.

Conventions
-----------
* Input images are ``HxWx3 uint8`` **RGB** arrays in original-image pixels.  A backend converts
  to its own convention (BGR, resizing, normalisation) inside ``run``/``features`` and says so in
  its ``input_convention``.
* ``Detections.boxes`` are ``(N, 4)`` float64 ``x1, y1, x2, y2`` in pixels of the image given to
  ``run`` (continuous coordinates: a box covering the whole image is ``0, 0, W, H``);
  ``scores`` ``(N,)`` in [0, 1], sorted descending; ``labels`` COCO class names (``"traffic light"``);
  optional ``masks`` ``(N, H, W)`` bool.
* ``classes`` lists the COCO names the backend can output.  ``signature()`` is the value of the
  result signature's ``task`` part contributed by the backend (name, weights hash, thresholds).
* Split-capable backends (``split_points`` non-empty) implement ``features(rgb)`` returning
  ``{layer: float32 ndarray (C, H, W)}`` and ``head(features, image_size)`` producing the same
  ``Detections`` as ``run`` would from those features; ``feature_info()`` gives each layer's shape
  and value range, ``complexity()`` the parameters and MACs of the network before/after the split.

Backends register with ``@TASKS.register("name")``; ``vcmbench.tasks.get_task(name, **opts)``
builds one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..core.errors import ConditionError, DataError
from ..core.registry import Registry


@dataclass
class Detections:
    """Detections on one image (see the module docstring for conventions)."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: list[str]
    masks: np.ndarray | None = None
    image_size: tuple[int, int] = (0, 0)  # (width, height) of the image the boxes refer to

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        self.labels = [str(x) for x in self.labels]
        n = len(self.boxes)
        if len(self.scores) != n or len(self.labels) != n:
            raise DataError(f"Detections: {n} boxes, {len(self.scores)} scores and {len(self.labels)} labels; "
                            "they must have the same length.")
        if self.masks is not None and len(self.masks) != n:
            raise DataError(f"Detections: {len(self.masks)} masks for {n} boxes.")

    def __len__(self) -> int:
        return len(self.boxes)

    def filtered(self, score_threshold: float = 0.0, max_detections: int | None = None) -> "Detections":
        """Those with score >= threshold, best first, at most ``max_detections``."""
        order = np.argsort(-self.scores, kind="stable")
        order = order[self.scores[order] >= score_threshold]
        if max_detections is not None:
            order = order[:max_detections]
        return Detections(self.boxes[order], self.scores[order], [self.labels[i] for i in order],
                          None if self.masks is None else self.masks[order], self.image_size)

    def to_json(self) -> dict[str, Any]:
        """JSON form (boxes rounded to 1e-4 px, scores to 1e-6: stable across runs and machines)."""
        out: dict[str, Any] = {
            "image_size": list(self.image_size),
            "boxes": [[round(float(v), 4) for v in b] for b in self.boxes],
            "scores": [round(float(s), 6) for s in self.scores],
            "labels": list(self.labels),
        }
        if self.masks is not None:
            from pycocotools import mask as mask_util

            rles = []
            for m in self.masks:
                rle = mask_util.encode(np.asfortranarray(m.astype(np.uint8)))
                rles.append({"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")})
            out["masks"] = rles
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Detections":
        masks = None
        if d.get("masks") is not None:
            from pycocotools import mask as mask_util

            h, w = d["image_size"][1], d["image_size"][0]
            masks = np.zeros((len(d["masks"]), h, w), dtype=bool)
            for i, r in enumerate(d["masks"]):
                masks[i] = mask_util.decode({"size": r["size"], "counts": r["counts"].encode("ascii")}).astype(bool)
        return cls(np.asarray(d["boxes"], dtype=np.float64).reshape(-1, 4), d["scores"], d["labels"], masks,
                   tuple(d.get("image_size", (0, 0))))

    @classmethod
    def empty(cls, image_size: tuple[int, int] = (0, 0)) -> "Detections":
        return cls(np.zeros((0, 4)), np.zeros(0), [], None, image_size)


class TaskNetwork(ABC):
    """A task network (see the module docstring for the contract)."""

    name: str = "task"
    task_type: str = "detection"  # "detection" | "instance-segmentation"
    classes: Sequence[str] = ()
    input_convention: str = "RGB uint8"
    split_points: tuple[str, ...] = ()  # names accepted by features(); empty: cannot split
    feature_layers: tuple[str, ...] = ()  # the layers features() returns

    def __init__(self, score_threshold: float = 0.05, max_detections: int = 100) -> None:
        self.score_threshold = float(score_threshold)
        self.max_detections = int(max_detections)

    @abstractmethod
    def run(self, rgb: np.ndarray) -> Detections:
        """Detections on one HxWx3 uint8 RGB image, in its pixels."""

    def features(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        raise ConditionError(
            f"Task network {self.name!r} cannot be split (no split points): feature conditions need a "
            "split-capable backend such as detectron2.")

    def head(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> Detections:
        raise ConditionError(f"Task network {self.name!r} has no head to run on features; use a split-capable backend.")

    def feature_info(self) -> dict[str, dict[str, Any]]:
        """``{layer: {"shape": [C, H, W] | None, "range": [lo, hi] | None}}`` for each of ``feature_layers``
        (shape for the backend's nominal input; range when the values are bounded, e.g. ReLU6 [0, 6]).
        Empty for a backend that cannot split."""
        return {}

    def complexity(self) -> dict[str, Any] | None:
        """``{"front": {"params", "macs"}, "back": {"params", "macs"}, "input_pixels"}`` for one image:
        parameters and multiply-accumulates before and after the split (the backend's docstring says
        what is counted); None when the backend does not know them."""
        return None

    @abstractmethod
    def signature(self) -> str:
        """Value of the ``task`` signature part for this backend and its settings."""

    @staticmethod
    def identity(**opts: Any) -> dict[str, Any] | None:
        """What the network built with ``opts`` depends on besides its name and options, found without
        building it: ``{"files": [weights and graph files], "packages": [distributions whose version
        can change the signature or the facts]}``.  The planner keys its cache of network facts
        (run.network_facts) on the files' content hashes; None (the default) means "build it to know"."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.task_type, "classes": len(self.classes),
                "input": self.input_convention, "split_points": list(self.split_points),
                "score_threshold": self.score_threshold, "max_detections": self.max_detections}


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Refuse anything but an HxWx3 uint8 array."""
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise DataError(f"Task networks take HxWx3 uint8 RGB images; got shape {a.shape} dtype {a.dtype}.")
    return a


# --- tracking (issue 23) ----------------------------------------------------------------------------

@dataclass
class FrameDetections:
    """What a tracking network detects on one frame, before association: ``detections`` (boxes in the
    frame's original pixels, ``Detections`` conventions) and, for a tracker with appearance features
    (JDE), one L2-normalised embedding row per detection (``(N, D)`` float32); None for an IoU-only
    tracker (the SSD tracker)."""

    detections: Detections
    embeddings: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.embeddings is not None:
            self.embeddings = np.asarray(self.embeddings, dtype=np.float32).reshape(len(self.detections), -1)


@dataclass
class Tracks:
    """The tracks a tracker outputs at one frame, as the reference writes them (after its output
    filters: JDE keeps ``w*h > min_box_area`` and not ``w/h > 1.6``): ``ids`` (N,) int64 >= 1,
    ``tlwh`` (N, 4) float64 left, top, width, height in the frame's original pixels, ``scores`` (N,)
    the detection score of the track's last match.  JSON keeps full float precision (MOTA is decided
    at IoU 0.5: no rounding)."""

    ids: np.ndarray
    tlwh: np.ndarray
    scores: np.ndarray
    image_size: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=np.int64).reshape(-1)
        self.tlwh = np.asarray(self.tlwh, dtype=np.float64).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        if not (len(self.ids) == len(self.tlwh) == len(self.scores)):
            raise DataError(f"Tracks: {len(self.ids)} ids, {len(self.tlwh)} boxes and {len(self.scores)} scores; "
                            "they must have the same length.")

    def __len__(self) -> int:
        return len(self.ids)

    def to_json(self) -> dict[str, Any]:
        return {"image_size": list(self.image_size), "ids": [int(i) for i in self.ids],
                "tlwh": [[float(v) for v in b] for b in self.tlwh], "scores": [float(s) for s in self.scores]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Tracks":
        return cls(d["ids"], np.asarray(d["tlwh"], dtype=np.float64).reshape(-1, 4), d["scores"],
                   tuple(d.get("image_size", (0, 0))))

    def mot_rows(self, frame: int) -> list[tuple[tuple[float, float, float, float], int, float]]:
        """``[((x, y, w, h), id, score), ...]`` for frame number ``frame``: what ``metrics.mot.write_tracks``
        and ``metrics.mot.tracks_frame`` take."""
        return [(tuple(float(v) for v in b), int(i), float(s)) for b, i, s in zip(self.tlwh, self.ids, self.scores)]


class Tracker(ABC):
    """The association state over one sequence (a new one per sequence: ids start at 1)."""

    @abstractmethod
    def update(self, frame: FrameDetections) -> Tracks:
        """Associate one frame's detections (frames in order, every frame once) and return the output tracks."""


class TrackingNetwork(TaskNetwork):
    """A tracker: a detector (whole, or split: ``features`` / ``detect_features``) and its association.

    ``detect(rgb)`` = ``detect_features(features(rgb), (W, H))`` for a split-capable network (the same arrays);
    ``run(rgb)`` gives the frame's ``Detections`` (no association); ``new_tracker(frame_rate)`` a fresh
    association state for one sequence (the frame rate scales the lost-track buffer as the reference does).
    A sequence is tracked as ``t = net.new_tracker(fps); [t.update(net.detect(f)) for f in frames]``."""

    task_type = "tracking"

    @abstractmethod
    def detect(self, rgb: np.ndarray) -> FrameDetections:
        """Detections (and embeddings) on one HxWx3 uint8 RGB frame."""

    def detect_features(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> FrameDetections:
        raise ConditionError(f"Task network {self.name!r} cannot be split (no split points).")

    def run(self, rgb: np.ndarray) -> Detections:
        return self.detect(rgb).detections

    def head(self, features: dict[str, np.ndarray], image_size: tuple[int, int]) -> Detections:
        return self.detect_features(features, image_size).detections

    @abstractmethod
    def new_tracker(self, frame_rate: float) -> Tracker:
        """A fresh association state for one sequence at ``frame_rate`` frames a second."""


TASKS: Registry[Callable[..., TaskNetwork]] = Registry("task network", "vcmbench tasks")
# Human descriptions for `vcmbench tasks`, without building (importing) the backend.
TASK_INFO: dict[str, dict[str, str]] = {}
