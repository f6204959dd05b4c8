"""``vcmbench study train-restore``: train the feature restoration network of the S1 study.

Data: the split network's features of the user's images; for every layer with a down-scaling
factor, each channel is a training pair: the target is the channel normalised to [0, 1] with the
image's min/max over the coded layers (as the 8-bit picture of the pipeline), the input is the
same channel bicubically down-scaled (OpenCV, to ``ceil(H/s) x ceil(W/s)``, as the S1 pipeline)
and quantised to ``bits`` (eq. 1).  The last ``holdout`` images are held out.

Model: ``features.restoration.ESPCN`` (residual over bicubic).  Loss ``10·L2 + (1 − SSIM)`` (SSIM
with a 7x7 Gaussian window, σ 1.5, valid region, on the [0, 1] maps), Adam lr 1e-4, β (0.5, 0.99)
(the seed paper's settings), batches of ``batch`` channels of one layer.

Resumable: ``OUT/checkpoint.pt`` (model, optimiser, step, RNG states, loss history: tensors and plain
data, read back with ``torch.load(weights_only=True)``) is written atomically every ``checkpoint_every`` steps and at the end; a re-run continues from it (the
settings must match, they are stored in it).  Output: ``OUT/restoration.pt`` (state_dict),
``OUT/restoration.json`` (the network's name ``espcn`` — data, never an import path — options, weights
sha256, held-out evaluation): PSNR/SSIM
of the network and of bicubic on the held-out images' channels from the same quantised input
(the same rate).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core.errors import UsageError
from ..core.hashing import file_digest
from ..core.jsonio import write_json
from ..core.safe_pickle import load_torch_weights
from ..features.distortions import resize_map
from ..features.packing import dequantise, quantise
from ..features.restoration import bicubic_restore, resolve_spec


def _pairs(task, images, layers: list[str], scale: int, bits: int, load_rgb) -> list[dict[str, tuple]]:
    out = []
    for im in images:
        f = task.features(load_rgb(im))
        lo = min(float(f[k].min()) for k in f)
        hi = max(float(f[k].max()) for k in f)
        span = hi - lo if hi > lo else 1.0
        per = {}
        for k in layers:
            hr = (f[k].astype(np.float32) - lo) / span
            c, h, w = hr.shape
            lr = resize_map(hr, -(-w // scale), -(-h // scale), "bicubic")
            lr = dequantise(quantise(lr, 0.0, 1.0, bits), 0.0, 1.0, bits)
            per[k] = (lr, hr)
        out.append(per)
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


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def evaluate(net, pairs: list[dict[str, tuple]]) -> dict[str, float]:
    """Mean PSNR (peak 1) over held-out channels: network vs bicubic from the same quantised input."""
    from ..features.restoration import module_restore

    pn, pb = [], []
    for per in pairs:
        for k, (lr, hr) in per.items():
            c, h, w = hr.shape
            pn.append(_psnr(hr, module_restore(net, lr, h, w) if net is not None else bicubic_restore(lr, h, w)))
            pb.append(_psnr(hr, bicubic_restore(lr, h, w)))
    return {"psnr_net": float(np.mean(pn)), "psnr_bicubic": float(np.mean(pb)), "maps": len(pn)}


def train_restoration(task, images, out: str | Path, *, layers: list[str], scale: int = 2, bits: int = 8,
                      steps: int = 400, batch: int = 16, lr: float = 1e-4, holdout: int = 4, seed: int = 0,
                      checkpoint_every: int = 50, load_rgb=None,
                      progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    import torch

    from ..features.restoration import ESPCN

    if load_rgb is None:
        from ..conditions.datasets import load_rgb
    if len(images) <= holdout:
        raise UsageError(f"{len(images)} images cannot leave {holdout} held out; give more images or --holdout smaller.")
    if not layers:
        raise UsageError("No layers to train on: give the layers that are down-scaled (--layers).")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"layers": list(layers), "scale": int(scale), "bits": int(bits), "batch": int(batch), "lr": float(lr),
                "betas": [0.5, 0.99], "holdout": int(holdout), "seed": int(seed),
                "images": [im.digest for im in images], "steps": int(steps)}
    torch.manual_seed(seed)
    net = ESPCN(scale=scale)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.99))
    rng = np.random.default_rng(seed)
    step, history = 0, []
    ck = out / "checkpoint.pt"
    if ck.is_file():
        state = load_torch_weights(ck, "Training checkpoint")
        old = {k: v for k, v in state["settings"].items() if k != "steps"}
        if old != {k: v for k, v in settings.items() if k != "steps"}:
            raise UsageError(f"{ck} was trained with other settings ({state['settings']}); give another --out "
                             "or the same settings to resume.")
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        torch.set_rng_state(state["torch_rng"])
        rng.bit_generator.state = state["np_rng"]
        step, history = int(state["step"]), list(state["history"])
    train_pairs = _pairs(task, images[:-holdout], layers, scale, bits, load_rgb)
    test_pairs = _pairs(task, images[-holdout:], layers, scale, bits, load_rgb)

    def save() -> None:
        tmp = ck.with_name(f".{ck.name}.tmp{os.getpid()}")
        torch.save({"model": net.state_dict(), "optim": opt.state_dict(), "step": step, "history": history,
                    "torch_rng": torch.get_rng_state(), "np_rng": rng.bit_generator.state, "settings": settings},
                   str(tmp))
        os.replace(tmp, ck)

    weights = np.array([per[k][1].shape[0] for per in train_pairs for k in layers], float)
    keys = [(i, k) for i, per in enumerate(train_pairs) for k in layers]
    t0 = time.perf_counter()
    net.train()
    while step < steps:
        i, k = keys[rng.choice(len(keys), p=weights / weights.sum())]
        lr_map, hr_map = train_pairs[i][k]
        idx = rng.choice(lr_map.shape[0], size=min(batch, lr_map.shape[0]), replace=False)
        x = torch.from_numpy(lr_map[idx])[:, None]
        y = torch.from_numpy(hr_map[idx])[:, None]
        pred = net(x, size=tuple(y.shape[-2:]))
        loss = 10 * torch.mean((pred - y) ** 2) + _ssim_loss(pred, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        history.append(float(loss.detach()))
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
    info = {"network": "espcn", "weights": str(wpath.resolve()), "options": {"scale": int(scale)},
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
    entry = {k: info[k] for k in ("network", "module", "weights", "options") if k in info}
    return resolve_spec(entry, plugins, str(p))
