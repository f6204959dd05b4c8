"""``vcmbench study train-restore``: train the feature restoration network of the S1 study.

Data: the split network's features of the user's images, through the S1 pipeline up to the decoder:
every layer with a down-scaling factor bicubically down-scaled (OpenCV, to ``ceil(H/s) x ceil(W/s)``),
all layers rearranged into one picture and quantised to ``bits`` with the image's min/max (eq. 1),
then — the paper's Table 3 setting, the default — coded with VVenC at each of ``qps`` (the study's
``preset``, ``chroma``, ``loop_filter``; ``studies.common.code_picture``, bitstreams verified and kept
under ``OUT/coding``), decoded, de-quantised (eq. 2) and un-tiled.  Without ``qps`` the pairs are the
quantised, uncoded layers (the older variant).  A training pair is (decoded down-scaled layer,
original layer), both normalised to [0, 1] with the decoded layer's min/max (as ``module_restore``
normalises at inference).

Input (``channels``): ``multi`` — all C channels of a map are one input (``espcn-multi``,
``features.restoration.LayerESPCN``, one branch per layer; the paper's Table 3 "multi-channel"), a
batch is up to ``batch`` maps of one layer; ``single`` — every channel is its own input (``espcn``), a
batch is ``batch`` channels of one map.  Both predict the residual over bicubic up-sampling.

Loss (``loss``): ``l2-ssim`` ``10·L2 + (1 − SSIM)`` (the seed paper's; SSIM with a 7x7 Gaussian window,
σ 1.5, valid region, per channel), ``l2`` or ``l1`` (the paper's Table 1 compares losses).  Adam lr 1e-4,
β (0.5, 0.99) (the seed paper's settings).  The last ``holdout`` images are held out.

Resumable: ``OUT/checkpoint.pt`` (model, optimiser, step, RNG states, loss history: tensors and plain
data, read back with ``torch.load(weights_only=True)``) is written atomically every ``checkpoint_every``
steps and at the end; a re-run continues from it (the settings must match, they are stored in it).
Output: ``OUT/restoration.pt`` (state_dict), ``OUT/restoration.json`` (the network's name ``espcn`` or
``espcn-multi`` — data, never an import path — options, weights sha256, ``info``: how it was trained,
which labels the study's Tables 1 and 3; held-out evaluation): PSNR of the network and of bicubic on the
held-out images' maps from the same decoded input (the same rate).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from ..core.errors import UsageError
from ..core.hashing import file_digest
from ..core.jsonio import write_json
from ..core.safe_pickle import load_torch_weights
from ..features.distortions import FeaturePicture, resize_map
from ..features.restoration import bicubic_restore, resolve_spec

LOSSES = ("l2-ssim", "l2", "l1")
CHANNELS = ("multi", "single")


def _normalised(lr: np.ndarray, hr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = float(lr.min()), float(lr.max())
    span = hi - lo if hi > lo else 1.0
    return ((lr - lo) / span).astype(np.float32), ((hr - lo) / span).astype(np.float32)


def _pairs(task, images, factors: dict[str, int], bits: int, load_rgb, *, qps=None, coding=None,
           run_dir: Path | None = None) -> list[dict[str, tuple]]:
    """One dict per (image, QP): down-scaled layer -> (decoded input, original target), normalised."""
    from .common import code_picture

    coding = dict(coding or {})
    out = []
    for im in images:
        f = task.features(load_rgb(im))
        layers = [k for k in (getattr(task, "feature_layers", None) or sorted(f)) if k in f]
        small = {}
        for k in layers:
            s = int(factors.get(k, 1))
            c, h, w = f[k].shape
            small[k] = f[k] if s == 1 else resize_map(f[k], -(-w // s), -(-h // s), "bicubic")
        fp = FeaturePicture.from_features(small, layers, bits)
        decoded = []
        if qps:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            for q in qps:
                job = SimpleNamespace(job_id=f"train-{im.digest[:16]}", image=im, run_dir=str(run_dir),
                                      task=coding.get("task", ""), task_options=(), signature="train-restore",
                                      variant=f"train/qp{q}")
                pic, _ = code_picture(job, fp.picture, int(q), preset=coding.get("preset", "faster"),
                                      loop_filter=bool(coding.get("loop_filter", False)),
                                      chroma=int(coding.get("chroma", 420)), tag=f"-qp{q}")
                decoded.append(fp.to_features(pic))
        else:
            decoded.append(fp.to_features(fp.picture))
        for dec in decoded:
            out.append({k: _normalised(dec[k].astype(np.float32), f[k].astype(np.float32))
                        for k in factors if int(factors[k]) != 1})
    return out


def _ssim_loss(x, y, window: int = 7, sigma: float = 1.5):
    import torch
    import torch.nn.functional as F

    win = min(window, x.shape[-1], x.shape[-2])
    g = torch.exp(-((torch.arange(win, dtype=x.dtype) - (win - 1) / 2) ** 2) / (2 * sigma ** 2))
    g = (g / g.sum())
    k = (g[:, None] * g[None, :])[None, None]
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = F.conv2d(x, k), F.conv2d(y, k)
    sxx = F.conv2d(x * x, k) - mx * mx
    syy = F.conv2d(y * y, k) - my * my
    sxy = F.conv2d(x * y, k) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return 1.0 - s.mean()


def loss_value(name: str, pred, target):
    """The training loss ``name`` (``LOSSES``) of ``pred`` against ``target`` (N, C, H, W); SSIM per channel."""
    import torch

    if name == "l2-ssim":
        c = pred.shape[1]
        p = pred.reshape(-1, 1, *pred.shape[-2:]) if c != 1 else pred
        t = target.reshape(-1, 1, *target.shape[-2:]) if c != 1 else target
        return 10 * torch.mean((pred - target) ** 2) + _ssim_loss(p, t)
    if name == "l2":
        return torch.mean((pred - target) ** 2)
    if name == "l1":
        return torch.mean(torch.abs(pred - target))
    raise UsageError(f"Unknown loss {name!r}; use one of {', '.join(LOSSES)}.")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def evaluate(net, pairs: list[dict[str, tuple]]) -> dict[str, float]:
    """Mean PSNR (peak 1) over held-out maps: network vs bicubic from the same decoded input."""
    from ..features.restoration import module_restore

    pn, pb = [], []
    for per in pairs:
        for k, (lr, hr) in per.items():
            c, h, w = hr.shape
            pn.append(_psnr(hr, module_restore(net, lr, h, w, k) if net is not None else bicubic_restore(lr, h, w)))
            pb.append(_psnr(hr, bicubic_restore(lr, h, w)))
    return {"psnr_net": float(np.mean(pn)), "psnr_bicubic": float(np.mean(pb)), "maps": len(pn)}


def train_restoration(task, images, out: str | Path, *, layers: list[str], scale: int = 2, bits: int = 8,
                      steps: int = 400, batch: int = 16, lr: float = 1e-4, holdout: int = 4, seed: int = 0,
                      checkpoint_every: int = 50, load_rgb=None, qps: list[int] | None = None,
                      coding: dict[str, Any] | None = None, channels: str = "single", loss: str = "l2-ssim",
                      progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """Train a restoration for the down-scaled ``layers`` (factor ``scale``); see the module docstring.

    ``qps``: code the training features with VVenC at these QPs (``coding``: preset, chroma, loop_filter,
    task — the study's); None: uncoded (quantised) features.  ``channels``: ``single`` or ``multi``."""
    import torch

    from ..features.restoration import ESPCN, LayerESPCN

    if load_rgb is None:
        from ..conditions.datasets import load_rgb
    if len(images) <= holdout:
        raise UsageError(f"{len(images)} images cannot leave {holdout} held out; give more images or --holdout smaller.")
    if not layers:
        raise UsageError("No layers to train on: give the layers that are down-scaled (--layers).")
    if channels not in CHANNELS:
        raise UsageError(f"channels {channels!r}: use one of {', '.join(CHANNELS)}.")
    if loss not in LOSSES:
        raise UsageError(f"Unknown loss {loss!r}; use one of {', '.join(LOSSES)}.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    qps = [int(q) for q in qps] if qps else None
    coding = {k: v for k, v in dict(coding or {}).items() if k in ("preset", "chroma", "loop_filter", "task")}
    settings = {"layers": list(layers), "scale": int(scale), "bits": int(bits), "batch": int(batch), "lr": float(lr),
                "betas": [0.5, 0.99], "holdout": int(holdout), "seed": int(seed),
                "images": [im.digest for im in images], "steps": int(steps), "qps": qps, "coding": coding,
                "channels": channels, "loss": loss}
    ck = out / "checkpoint.pt"
    state = None
    if ck.is_file():  # read (weights only) and checked before any feature is extracted or coded
        state = load_torch_weights(ck, "Training checkpoint")
        old = {k: v for k, v in state["settings"].items() if k != "steps"}
        if old != {k: v for k, v in settings.items() if k != "steps"}:
            raise UsageError(f"{ck} was trained with other settings ({state['settings']}); give another --out "
                             "or the same settings to resume.")
    factors = {k: int(scale) for k in layers}
    kw = dict(qps=qps, coding=coding, run_dir=out / "coding")
    train_pairs = _pairs(task, images[:-holdout], factors, bits, load_rgb, **kw)
    test_pairs = _pairs(task, images[-holdout:], factors, bits, load_rgb, **kw)
    torch.manual_seed(seed)
    if channels == "multi":
        nch = {k: int(train_pairs[0][k][0].shape[0]) for k in layers}
        net = LayerESPCN(scale=scale, channels=nch)
        options: dict[str, Any] = {"scale": int(scale), "channels": nch}
    else:
        net = ESPCN(scale=scale)
        options = {"scale": int(scale)}
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.99))
    rng = np.random.default_rng(seed)
    step, history = 0, []
    if state is not None:
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        torch.set_rng_state(state["torch_rng"])
        rng.bit_generator.state = state["np_rng"]
        step, history = int(state["step"]), list(state["history"])

    def save() -> None:
        tmp = ck.with_name(f".{ck.name}.tmp{os.getpid()}")
        torch.save({"model": net.state_dict(), "optim": opt.state_dict(), "step": step, "history": history,
                    "torch_rng": torch.get_rng_state(), "np_rng": rng.bit_generator.state, "settings": settings},
                   str(tmp))
        os.replace(tmp, ck)

    if channels == "multi":
        weights = np.ones(len(train_pairs) * len(layers), float)
    else:
        weights = np.array([per[k][1].shape[0] for per in train_pairs for k in layers], float)
    keys = [(i, k) for i, per in enumerate(train_pairs) for k in layers]
    t0 = time.perf_counter()
    net.train()
    while step < steps:
        i, k = keys[rng.choice(len(keys), p=weights / weights.sum())]
        lr_map, hr_map = train_pairs[i][k]
        if channels == "multi":
            same = [j for j, per in enumerate(train_pairs) if per[k][0].shape == lr_map.shape]
            pick = rng.choice(same, size=min(batch, len(same)), replace=False)
            x = torch.from_numpy(np.stack([train_pairs[j][k][0] for j in pick]))
            y = torch.from_numpy(np.stack([train_pairs[j][k][1] for j in pick]))
            pred = net(x, size=tuple(y.shape[-2:]), layer=k)
        else:
            idx = rng.choice(lr_map.shape[0], size=min(batch, lr_map.shape[0]), replace=False)
            x = torch.from_numpy(lr_map[idx])[:, None]
            y = torch.from_numpy(hr_map[idx])[:, None]
            pred = net(x, size=tuple(y.shape[-2:]))
        value = loss_value(loss, pred, y)
        opt.zero_grad()
        value.backward()
        opt.step()
        step += 1
        history.append(float(value.detach()))
        if step % checkpoint_every == 0 or step == steps:
            save()
        if progress:
            progress(step, steps, history[-1])
    net.eval()
    train_s = time.perf_counter() - t0
    wpath = out / "restoration.pt"
    tmp = wpath.with_name(f".{wpath.name}.tmp{os.getpid()}")
    torch.save(net.state_dict(), str(tmp))
    os.replace(tmp, wpath)
    ev = evaluate(net, test_pairs)
    name = "espcn-multi" if channels == "multi" else "espcn"
    trained_on = (f"coded (VVenC QP {', '.join(str(q) for q in qps)})" if qps else "uncoded (quantised)")
    info = {"network": name, "weights": str(wpath.resolve()), "options": options,
            "info": {"model": "espcn", "loss": loss, "input": f"{channels}-channel", "trained_on": trained_on,
                     "qps": qps or []},
            "sha256": file_digest(wpath, "sha256"), "settings": settings, "steps": step,
            "train_seconds_this_session": train_s, "final_loss": history[-1] if history else None,
            "heldout": ev, "beats_bicubic": ev["psnr_net"] > ev["psnr_bicubic"],
            "params": int(sum(p.numel() for p in net.parameters()))}
    write_json(out / "restoration.json", info)
    return info


def restoration_spec(path: str | Path, plugins: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    """The restoration named by a train-restore output directory (or its restoration.json).

    The file is data: it names a network (``espcn``, an installed entry point, or a class given on the
    command line with ``--restoration-module``, in ``plugins``), never code to import."""
    p = Path(path)
    if p.is_dir():
        p = p / "restoration.json"
    if not p.is_file():
        raise UsageError(f"{p} does not exist: give the --out directory of `vcmbench study train-restore`.")
    try:
        info = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{p} is not a restoration.json ({type(exc).__name__}: {exc}); give the --out directory of "
                         "`vcmbench study train-restore`.") from None
    if not isinstance(info, dict) or not info.get("weights"):
        raise UsageError(f"{p} names no weights; give the --out directory of `vcmbench study train-restore`.")
    entry = {k: info[k] for k in ("network", "module", "weights", "options", "info") if k in info}
    return resolve_spec(entry, plugins, str(p))
