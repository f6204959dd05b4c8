"""S1 — down-scaled feature coding with restoration (seed-tables.md S1, the SR feature-compression paper).

Per image and QP: the split network's features -> each coded layer bicubically down-scaled by its
factor (``settings.factors``: layer -> factor, 1 = not scaled) to ``ceil(H/s) x ceil(W/s)`` ->
every layer rearranged into one picture (``square_tiling``) and quantised to ``settings.bits``
with the image's own min/max (eq. 1; the two float32 values, 64 bits, are counted as side
information) -> VVenC at the QP, loop filter as ``settings.loop_filter`` (off in the paper),
4:0:0 or 4:2:0 with the channel replicated (``settings.chroma``) -> decoded and verified ->
de-quantised (eq. 2) -> un-tiled -> each restoration (``bicubic`` built in; trained modules named
on the command line or in ``settings.restorations``) up-scales the layers back -> task head -> COCO AP.

The anchor (``settings.anchor``) is the same pipeline without down-scaling or restoration, at
its own QPs: vcmbench's P-layer-style anchor for this network (VVenC, not the VTM anchor).
Rate: bits of all bitstreams + side information / pixels of the original images (bpp over the
dataset).  Reported: the RD table, BD-rate of each restoration against the anchor (pchip-jvet),
and the complexity table (parameters of the network's halves and of the restoration, restoration
GMACs per image, restoration time and end-to-end time per image).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..core.errors import ConditionError
from ..features.distortions import FeaturePicture, resize_map
from ..features.restoration import FeatureRestorer, gmacs, resolve_spec
from .common import AP_KEYS, clean, coco_ap, code_picture, group, gt_path, layers_of, split_task

SIDE_BITS = 64
_RESTORERS: dict[str, FeatureRestorer] = {}


def restorations(study, ctx) -> list[dict[str, Any]]:
    """The study's restorations (data: names, resolved by ``resolve_spec``) and those of the command line."""
    plugins = tuple(ctx.get("restoration_modules") or ())
    out = []
    for r in list(study.settings.get("restorations", ["bicubic"])):
        r = resolve_spec(r, plugins, f"Study {study.name}: settings.restorations")
        out.append({"method": r} if isinstance(r, str) else dict(r))
    for r in list(ctx.get("restorations") or []):
        out.append({"method": r} if isinstance(r, str) else dict(r))
    return out


def _restorer(spec: dict[str, Any]) -> FeatureRestorer:
    key = repr(sorted(spec.items()))
    if key not in _RESTORERS:
        _RESTORERS[key] = FeatureRestorer(spec)
    return _RESTORERS[key]


def plan(study, images, ctx):
    s = study.settings
    if not s.get("qps") or not s.get("factors"):
        raise ConditionError(f"Study {study.name}: settings.qps and settings.factors are required.")
    rest = restorations(study, ctx)
    names = [_restorer(r).signature() for r in rest]
    common = {"bits": int(s.get("bits", 8)), "chroma": int(s.get("chroma", 420)),
              "loop_filter": bool(s.get("loop_filter", False)), "preset": s.get("preset", "medium")}
    out = []
    for im in images:  # image-major: the clean features are reused
        for q in (s.get("anchor") or {}).get("qps", []):
            out.append((f"anchor/qp{q}", im, {**common, "qp": int(q), "factors": {}, "restorations": []}))
        for q in s["qps"]:
            out.append((f"down/qp{q}", im, {**common, "qp": int(q), "factors": s["factors"], "restorations": rest,
                                            "restoration_names": names}))
    return out


def job(job) -> dict[str, Any]:
    p = job.p
    task = split_task(job)
    t0 = time.perf_counter()
    _, f0 = clean(job)
    t_front = time.perf_counter() - t0
    layers = layers_of(task, f0)
    t1 = time.perf_counter()
    small = {}
    for k in layers:
        s = int(p["factors"].get(k, 1))
        c, h, w = f0[k].shape
        small[k] = f0[k] if s == 1 else resize_map(f0[k], -(-w // s), -(-h // s), "bicubic")
    fp = FeaturePicture.from_features(small, layers, p["bits"])
    pic, bits = code_picture(job, fp.picture, p["qp"], preset=p["preset"], loop_filter=p["loop_filter"],
                             chroma=p["chroma"])
    dec = fp.to_features(pic)
    t_code = time.perf_counter() - t1
    rec: dict[str, Any] = {"bits": bits, "side_bits": SIDE_BITS, "pixels": job.image.width * job.image.height,
                           "detections": {}, "restore_seconds": {}, "e2e_seconds": {}}
    specs = p["restorations"] or [{"method": "none"}]
    for spec in specs:
        name = "none" if spec.get("method") == "none" else _restorer(spec).signature()
        t2 = time.perf_counter()
        f1 = dict(dec)
        if name != "none":
            rst = _restorer(spec)
            for k in layers:
                if int(p["factors"].get(k, 1)) != 1:
                    c, h, w = f0[k].shape
                    f1[k] = rst(dec[k], h, w)
        t_rest = time.perf_counter() - t2
        t3 = time.perf_counter()
        det = task.head(f1, (job.image.width, job.image.height)).to_json()
        t_head = time.perf_counter() - t3
        rec["detections"][name] = det
        rec["restore_seconds"][name] = t_rest
        rec["e2e_seconds"][name] = t_front + t_code + t_rest + t_head
    return rec


def summarise(study, records, ctx) -> dict[str, Any]:
    from ..bd import compare
    from ..core.errors import BDError

    gt = gt_path(ctx, study.condition)
    by = group(records)
    curves: dict[str, list[tuple[float, float, int]]] = {}
    rows, timing = [], {}
    for key in sorted(by, key=lambda k: (k.split("/")[0], int(k.split("qp")[1]))):
        recs = by[key]
        pixels = sum(r["pixels"] for r in recs)
        bpp = sum(r["bits"] + r["side_bits"] for r in recs) / pixels
        qp = int(key.split("qp")[1])
        for name in recs[0]["detections"]:
            ap = coco_ap(gt, [{"eval_id": r["eval_id"], "detections": r["detections"][name]} for r in recs])
            label = "anchor" if key.startswith("anchor") else name
            curves.setdefault(label, []).append((bpp, ap["AP"], qp))
            rows.append([label, qp, bpp, ap["AP"], ap["APs"], ap["APm"], ap["APl"]])
            t = timing.setdefault(label, {"restore": [], "e2e": []})
            t["restore"] += [r["restore_seconds"][name] for r in recs]
            t["e2e"] += [r["e2e_seconds"][name] for r in recs]
    bd_rows = []
    if "anchor" in curves:
        for label, pts in curves.items():
            if label == "anchor":
                continue
            try:
                res = compare([(r, q) for r, q, _ in curves["anchor"]], [(r, q) for r, q, _ in pts], "pchip-jvet",
                              remedies=("drop-nonmono",))
                bd_rows.append([label, res.bd_rate_pct, res.bd_quality, "; ".join(res.warnings + res.notes)])
            except BDError as exc:
                bd_rows.append([label, None, None, f"not computable: {exc}"])
    comp_rows = _complexity(study, ctx, records, timing)
    tables = [
        {"name": "S1 rate and accuracy", "columns": ["curve", "QP", "bpp", "AP", "APs", "APm", "APl"], "rows": rows,
         "note": "bpp = (bitstream bits + 64 side bits per image) / original pixels, over the dataset"},
        {"name": "S1 BD-rate against the anchor", "columns": ["restoration", "BD-rate (%)", "BD-AP", "notes"],
         "rows": bd_rows, "note": "pchip-jvet on (bpp, AP); anchor = the same pipeline without down-scaling (VVenC)"},
        {"name": "S1 complexity", "columns": ["restoration", "params front (M)", "params back (M)",
                                              "network GMACs / image", "restoration params (M)",
                                              "restoration GMACs / image",
                                              "restoration time / image (s)", "end-to-end time / image (s)"],
         "rows": comp_rows},
    ]
    plots = [{"name": "S1 AP against bpp", "kind": "lines", "x_label": "bpp", "y_label": "AP",
              "series": [{"label": k, "points": sorted((r, q) for r, q, _ in v)} for k, v in curves.items()]}]
    return {"tables": tables, "plots": plots}


def _complexity(study, ctx, records, timing) -> list[list[Any]]:
    from ..run.jobs import get_cached_task

    task = get_cached_task(str(study.task.get("network")), study.task_options())
    cx = task.complexity() if hasattr(task, "complexity") else {}
    front, back = cx.get("front") or {}, cx.get("back") or {}
    net_params = [front.get("params"), back.get("params")]
    net_gmacs = (front.get("macs", 0) + back.get("macs", 0)) / 1e9 if front and back else None
    rows = []
    for label, t in timing.items():
        params = g = None
        if label not in ("anchor", "bicubic"):
            spec = next((s for s in restorations(study, ctx) if _restorer(s).signature() == label), None)
            if spec is not None:
                rst = _restorer(spec)
                params = rst.params() / 1e6
                g = _gmacs_per_image(study, rst)
        rest_s = None if label == "anchor" else float(np.mean(t["restore"]))
        rows.append([label, *(None if p is None else p / 1e6 for p in net_params), net_gmacs, params, g,
                     rest_s, float(np.mean(t["e2e"]))])
    return rows


def _gmacs_per_image(study, rst) -> float | None:
    ms = study.settings.get("map_shapes") or {}
    if not ms or rst.net is None:
        return None
    total = 0.0
    for k, (c, h, w) in ms.items():
        s = int(study.settings["factors"].get(k, 1))
        if s != 1:
            total += gmacs(rst.net, (int(c), 1, -(-int(h) // s), -(-int(w) // s)))
    return total


__all__ = ["plan", "job", "summarise", "AP_KEYS"]
