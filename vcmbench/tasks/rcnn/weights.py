"""Model-zoo weights: the parameter names/shapes a configuration needs, loading a ``.pkl``, sha256 checks.

A detectron2 model-zoo file is a pickle (read by ``core.safe_pickle``'s restricted unpickler, never
``pickle.load``: it builds numpy arrays and plain data only) of
``{"model": {name: ndarray}, "__author__": ...}`` with detectron2's module names
(``backbone.bottom_up.res2.0.conv1.weight``, ``roi_heads.box_predictor.cls_score.weight``...).
Files saved by detectron2's own checkpointer (``.pth``, ``{"model": {name: tensor}}``) load too
(``torch.load(weights_only=True)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import DataError, UsageError
from ...core.safe_pickle import load_torch_weights, load_zoo_pickle
from .config import RCNNConfig

# Keys a model-zoo file may carry that inference does not use (detectron2 ignores them as well:
# non-persistent buffers, BatchNorm bookkeeping).
IGNORED_SUFFIXES = ("num_batches_tracked",)
IGNORED_KEYS = ("pixel_mean", "pixel_std")
IGNORED_PREFIXES = ("proposal_generator.anchor_generator.",)


def _conv_norm(out: dict[str, tuple[int, ...]], name: str, cout: int, cin: int, k: int) -> None:
    out[f"{name}.weight"] = (cout, cin, k, k)
    for p in ("weight", "bias", "running_mean", "running_var"):
        out[f"{name}.norm.{p}"] = (cout,)


def expected_shapes(cfg: RCNNConfig) -> dict[str, tuple[int, ...]]:
    """Every parameter the configuration needs, name -> shape, in detectron2's naming and order."""
    out: dict[str, tuple[int, ...]] = {}
    bu = "backbone.bottom_up"
    _conv_norm(out, f"{bu}.stem.conv1", 64, 3, 7)
    in_ch, out_ch = 64, 256
    bottleneck = cfg.num_groups * cfg.width_per_group
    stage_out = []
    for si, nblocks in enumerate(cfg.blocks):
        stage = f"res{si + 2}"
        for bi in range(nblocks):
            pre = f"{bu}.{stage}.{bi}"
            if in_ch != out_ch:
                _conv_norm(out, f"{pre}.shortcut", out_ch, in_ch, 1)
            _conv_norm(out, f"{pre}.conv1", bottleneck, in_ch, 1)
            _conv_norm(out, f"{pre}.conv2", bottleneck, bottleneck // cfg.num_groups, 3)
            _conv_norm(out, f"{pre}.conv3", out_ch, bottleneck, 1)
            in_ch = out_ch
        stage_out.append(out_ch)
        out_ch *= 2
        bottleneck *= 2
    c = cfg.fpn_channels
    for lvl, cin in zip(range(2, 6), stage_out):
        out[f"backbone.fpn_lateral{lvl}.weight"] = (c, cin, 1, 1)
        out[f"backbone.fpn_lateral{lvl}.bias"] = (c,)
        out[f"backbone.fpn_output{lvl}.weight"] = (c, c, 3, 3)
        out[f"backbone.fpn_output{lvl}.bias"] = (c,)
    a = len(cfg.aspect_ratios)
    rh = "proposal_generator.rpn_head"
    out[f"{rh}.conv.weight"], out[f"{rh}.conv.bias"] = (c, c, 3, 3), (c,)
    out[f"{rh}.objectness_logits.weight"], out[f"{rh}.objectness_logits.bias"] = (a, c, 1, 1), (a,)
    out[f"{rh}.anchor_deltas.weight"], out[f"{rh}.anchor_deltas.bias"] = (4 * a, c, 1, 1), (4 * a,)
    fin = c * cfg.box_pooler_resolution ** 2
    for i in range(1, cfg.box_num_fc + 1):
        out[f"roi_heads.box_head.fc{i}.weight"] = (cfg.box_fc_dim, fin)
        out[f"roi_heads.box_head.fc{i}.bias"] = (cfg.box_fc_dim,)
        fin = cfg.box_fc_dim
    k = cfg.num_classes
    out["roi_heads.box_predictor.cls_score.weight"] = (k + 1, fin)
    out["roi_heads.box_predictor.cls_score.bias"] = (k + 1,)
    out["roi_heads.box_predictor.bbox_pred.weight"] = (4 * k, fin)
    out["roi_heads.box_predictor.bbox_pred.bias"] = (4 * k,)
    if cfg.mask_on:
        m = cfg.mask_conv_dim
        cin = c
        for i in range(1, cfg.mask_num_conv + 1):
            out[f"roi_heads.mask_head.mask_fcn{i}.weight"] = (m, cin, 3, 3)
            out[f"roi_heads.mask_head.mask_fcn{i}.bias"] = (m,)
            cin = m
        out["roi_heads.mask_head.deconv.weight"] = (m, m, 2, 2)  # ConvTranspose2d: (in, out, kh, kw)
        out["roi_heads.mask_head.deconv.bias"] = (m,)
        out["roi_heads.mask_head.predictor.weight"] = (k, m, 1, 1)
        out["roi_heads.mask_head.predictor.bias"] = (k,)
    return out


def check_published(cfg: RCNNConfig, path: Path, sha: str, allow_mismatch: bool) -> bool:
    """Refuse a file named like a published model-zoo file whose sha256 differs (unless allowed).

    Returns True when ``allow_mismatch`` admitted such a file (the signature records it)."""
    want = cfg.published_sha256.get(path.name)
    mismatch = want is not None and want != sha
    if mismatch and not allow_mismatch:
        raise DataError(f"{path} is named like the model-zoo file of {cfg.name}, whose published sha256 is {want}, "
                        f"but its sha256 is {sha}: the file is corrupt or not the published one. Download it again, "
                        "or pass --allow-unpublished-weights (task option allow_unpublished_weights=true) to use it "
                        "anyway; the signature then records it.")
    return mismatch


def _to_numpy(v: Any) -> np.ndarray:
    if isinstance(v, np.ndarray):
        return v
    if hasattr(v, "detach"):  # a torch tensor (.pth checkpoints)
        return v.detach().cpu().numpy()
    return np.asarray(v)


def read_state(path: str | Path) -> dict[str, np.ndarray]:
    """name -> ndarray from a model-zoo ``.pkl`` (or a detectron2 ``.pth`` checkpoint)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"Weights file {p} does not exist; pass the model-zoo .pkl with --task-weights FILE.")
    if p.suffix == ".pkl":
        data = load_zoo_pickle(p)
    else:
        data = load_torch_weights(p)
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, dict):
        raise DataError(f"Weights file {p} has no 'model' dict (keys: {sorted(map(str, data))[:8] if isinstance(data, dict) else type(data).__name__}); "
                        "it is not a detectron2 model-zoo file.")
    return {str(k): _to_numpy(v) for k, v in model.items()}


def _ignored(name: str) -> bool:
    return name in IGNORED_KEYS or name.endswith(IGNORED_SUFFIXES) or name.startswith(IGNORED_PREFIXES)


def validate_state(cfg: RCNNConfig, state: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """The parameters ``cfg`` needs, checked: a missing, unexpected or mis-shaped key is an error naming it."""
    want = expected_shapes(cfg)
    missing = [k for k in want if k not in state]
    unexpected = [k for k in state if k not in want and not _ignored(k)]
    bad = [f"{k} {tuple(state[k].shape)} (expected {want[k]})" for k in want
           if k in state and tuple(state[k].shape) != want[k]]
    if missing or unexpected or bad:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", bad)):
            if items:
                more = f" (+{len(items) - 10} more)" if len(items) > 10 else ""
                parts.append(f"{label}: {', '.join(items[:10])}{more}")
        raise DataError(f"Weights {source} do not fit {cfg.name}: " + "; ".join(parts)
                        + ". Give the model-zoo file of this config (--task-weights) or the matching network name.")
    return {k: np.asarray(state[k], dtype=np.float32) for k in want}


def unpublished_weights_option(network: str) -> dict[str, bool]:
    """The task option of ``--allow-unpublished-weights`` for ``network``; refused for a network without
    published model-zoo weights (only ``rcnn:`` and ``detectron2:`` networks check a published sha256)."""
    backend = network.partition(":")[0] if ":" in network else network
    if backend not in ("rcnn", "detectron2"):
        raise UsageError(f"--allow-unpublished-weights applies to rcnn: and detectron2: networks (model-zoo weights "
                         f"with a published sha256); this task network is {network or 'not set'!r}: drop the option.")
    return {"allow_unpublished_weights": True}
