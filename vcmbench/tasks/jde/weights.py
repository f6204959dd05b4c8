"""JDE checkpoints: the parameter names/shapes the network needs, safe loading, checks, sha256.

The published checkpoint (``jde.1088x608.uncertainty.pt``, Towards-Realtime-MOT README; what
CompressAI-Vision @31165daf ``cfgs/vision_model/default.yaml`` names) is a ``torch.save`` of a dict
whose ``"model"`` is the ``Darknet`` state dict, names as ``models.create_modules`` builds them:
``module_list.{i}.conv_{i}.weight`` (and ``.bias`` for the linear convs 81, 83, 96, 98, 111, 113),
``module_list.{i}.batch_norm_{i}.{weight,bias,running_mean,running_var,num_batches_tracked}``,
``module_list.{i}.yolo_{i}.{s_c,s_r,s_id}`` (training loss weights) and ``classifier.{weight,bias}``
(the 14455-identity training classifier).  Inference uses neither of the last two; the reference
loads with ``strict=False``.  Here the file is read with ``torch.load(weights_only=True)`` (tensors
and plain data only: a pickle naming other code is refused with a DataError) and every parameter
the network needs must be present with its shape: the first problem is named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import DataError, UsageError
from .layers import LAYERS, OUT_CHANNELS

PUBLISHED_FILE = "jde.1088x608.uncertainty.pt"
UNUSED_PREFIXES = ("classifier.",)
UNUSED_SUFFIXES = (".num_batches_tracked", ".s_c", ".s_r", ".s_id")


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """name -> shape of every parameter inference needs, in layer order."""
    out: dict[str, tuple[int, ...]] = {}
    for i, lay in enumerate(LAYERS):
        if lay.kind != "conv":
            continue
        src = lay.inputs[0]
        c_in = 3 if src < 0 else OUT_CHANNELS[src]
        out[f"module_list.{i}.conv_{i}.weight"] = (lay.cout, c_in, lay.k, lay.k)
        if lay.bn:
            for p in ("weight", "bias", "running_mean", "running_var"):
                out[f"module_list.{i}.batch_norm_{i}.{p}"] = (lay.cout,)
        else:
            out[f"module_list.{i}.conv_{i}.bias"] = (lay.cout,)
    return out


def _to_numpy(v: Any) -> np.ndarray:
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy()
    return np.asarray(v)


def read_state(path: str | Path) -> dict[str, np.ndarray]:
    """name -> ndarray from a JDE checkpoint (``{"model": state_dict, ...}``, or a bare state dict)."""
    from ...core.safe_pickle import load_torch_weights

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"JDE weights file {p} does not exist; pass the published {PUBLISHED_FILE} with "
                         "--task-weights FILE.")
    data = load_torch_weights(p, "JDE weights file")
    model = data.get("model", data) if isinstance(data, dict) else None
    if not isinstance(model, dict) or not all(hasattr(v, "shape") for v in model.values()):
        keys = sorted(map(str, data))[:8] if isinstance(data, dict) else type(data).__name__
        raise DataError(f"JDE weights file {p} holds no state dict under 'model' (found {keys}); give the "
                        f"published {PUBLISHED_FILE} (a torch.save of {{'model': Darknet state_dict}}).")
    return {str(k): _to_numpy(v) for k, v in model.items()}


def validate_state(state: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """The parameters the network needs as float32, checked: the first missing, unexpected or mis-shaped
    name is an error naming it (with counts of the others)."""
    want = expected_shapes()
    missing = [k for k in want if k not in state]
    unexpected = [k for k in state if k not in want and not k.startswith(UNUSED_PREFIXES)
                  and not k.endswith(UNUSED_SUFFIXES)]
    bad = [f"{k} has shape {tuple(state[k].shape)}, expected {want[k]}" for k in want
           if k in state and tuple(state[k].shape) != want[k]]
    for label, items in (("wrong shape", bad), ("missing", missing), ("unexpected", unexpected)):
        if items:
            more = f" (and {len(items) - 1} more {label})" if len(items) > 1 else ""
            raise DataError(f"JDE weights {source} do not fit the jde-1088x608 network: {label}: {items[0]}{more}. "
                            f"Give the published {PUBLISHED_FILE} (1088x608, 512-d embeddings) with --task-weights.")
    return {k: np.ascontiguousarray(state[k], dtype=np.float32) for k in want}
