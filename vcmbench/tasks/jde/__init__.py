"""Native JDE 1088x608 (Darknet-53 + YOLOv3 heads with 512-d embeddings) in plain torch, registered as
the task network ``jde-1088x608``: the FCM conditions' tracker.

Modules by concern: ``layers`` (the network as data, split sets, sources), ``model`` (the forward
pass, split anywhere), ``post`` (letterbox, NMS, scaling back), ``weights`` (the published
checkpoint: safe loading, name/shape checks, sha256), ``seeded`` (seeded weights in that format),
``complexity``, ``network`` (the ``TrackingNetwork``).  torch is imported when a network is built.
"""

from __future__ import annotations

from ..base import TASK_INFO, TASKS

NAME = "jde-1088x608"


@TASKS.register(NAME)
def build_jde(**opts):
    from .network import JDENetwork

    return JDENetwork(**opts)


def _jde_identity(weights: str | None = None, **opts) -> dict | None:
    """The weights file the network would load, or None when there is none (building says what is missing)."""
    import os
    from pathlib import Path

    w = weights or os.environ.get("VCMBENCH_JDE_WEIGHTS")
    if not w or not Path(w).is_file():
        return None
    return {"files": [str(Path(w).resolve())], "packages": ["torch", "opencv-python-headless"]}


build_jde.identity = _jde_identity  # type: ignore[attr-defined]

TASK_INFO[NAME] = {
    "type": "tracking (person detection + 512-d embeddings, JDE association)",
    "backend": "native torch (Towards-Realtime-MOT JDE, as CompressAI-Vision runs it)",
    "split": "tvd (layers 36, 61, 74) | hieve (layers 105, 90, 75): task option split",
    "weights": "jde.1088x608.uncertainty.pt (--task-weights or VCMBENCH_JDE_WEIGHTS)",
}


def static_details() -> dict:
    """What ``vcmbench tasks --json`` shows for JDE without weights (all of it follows from the layer
    table): split sets with their layers, each split layer's shape and range, complexity per split set
    (kMAC/pixel as ``tasks.network_details`` computes it)."""
    from .complexity import count
    from .layers import SPLITS, output_shape

    out: dict = {"split_points": list(SPLITS), "split_layers": {k: list(v) for k, v in SPLITS.items()},
                 "feature_layers": {}, "complexity": {}}
    for name, split in SPLITS.items():
        out["feature_layers"][name] = {str(i): {"shape": list(output_shape(i)), "range": None} for i in split}
        c = count(split)
        px = c["input_pixels"]
        c["kmac_per_pixel"] = {part: round(c[part]["macs"] / px / 1000, 3) for part in ("front", "back")}
        out["complexity"][name] = c
    return out
