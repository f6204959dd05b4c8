"""S3 — which feature maps matter for which object sizes (seed-tables.md S3, key feature maps).

Variants (all on the split network's clean features of each image):

* ``single/<map>/<k>``: one map bilinearly down- then up-scaled by ``k`` = 2, 4, ... up to the
  largest power of two the map allows (``features.distortions.max_factor``; a 1x1 map has none);
* ``pair/<a>+<b>/<k>``: two maps at once at ``settings.pair_factor`` (default 2), every pair that
  both allow it;
* ``rebuild/<scenario>``: maps that are not sent rebuilt from the sent ones
  (``settings.reconstructions``: ``{name, rebuild: {target: {up: src} | {down: src} |
  {mix: [prev, next], a: A}}}``; ``up``/``down`` = bilinear resize of the source map to the target's
  size; ``mix`` = ``a·down(prev) + (1−a)·up(next)``), with the data-volume reduction factor
  = all maps' samples / the sent maps' samples.  A source must have the target's channel count.

Scored by COCO AP, APs, APm, APl; ΔAP against the clean run per (map, factor, object scale) —
the heat map — and the per-scale Δ table of the reconstructions.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..core.errors import ConditionError
from ..features.distortions import bilinear_down_up, max_factor, resize_map
from .common import AP_KEYS, clean, coco_ap, group, gt_path, head, layers_of, split_task


def _shapes(study) -> dict[str, list[int]]:
    shapes = study.settings.get("map_shapes")
    if not shapes:
        raise ConditionError(f"Study {study.name}: settings.map_shapes (layer: [C, H, W]) is required to plan the factors.")
    return {k: [int(x) for x in v] for k, v in shapes.items()}


def _scenarios(study) -> list[dict[str, Any]]:
    out = []
    for sc in study.settings.get("reconstructions", []):
        if "mix" in str(sc.get("rebuild")) and isinstance(sc.get("a"), list):
            for a in sc["a"]:
                rb = {t: ({**r, "a": a} if "mix" in r else r) for t, r in sc["rebuild"].items()}
                out.append({"name": f"{sc['name']} a={a:g}", "rebuild": rb})
        else:
            out.append({"name": sc["name"], "rebuild": sc["rebuild"]})
    return out


def plan(study, images, ctx):
    shapes = _shapes(study)
    maps = list(shapes)
    variants: list[tuple[str, dict[str, Any]]] = [("clean", {"kind": "clean"})]
    limits = {m: int((study.settings.get("max_factors") or {}).get(m) or max_factor(shapes[m])) for m in maps}
    for m in maps:
        k = 2
        while k <= limits[m]:
            variants.append((f"single/{m}/{k}", {"kind": "degrade", "maps": [m], "k": k}))
            k *= 2
    pk = int(study.settings.get("pair_factor", 2))
    if study.settings.get("pairs", True):
        for a, b in itertools.combinations(maps, 2):
            if limits[a] >= pk and limits[b] >= pk:
                variants.append((f"pair/{a}+{b}/{pk}", {"kind": "degrade", "maps": [a, b], "k": pk}))
    for sc in _scenarios(study):
        for t, r in sc["rebuild"].items():
            srcs = r.get("mix") or [r.get("up") or r.get("down")]
            for s in srcs:
                if s not in shapes or t not in shapes:
                    raise ConditionError(f"Reconstruction {sc['name']!r} names map {s if s not in shapes else t!r}, "
                                         f"not one of {maps}.")
                if shapes[s][0] != shapes[t][0]:
                    raise ConditionError(f"Reconstruction {sc['name']!r}: {t} has {shapes[t][0]} channels but its source "
                                         f"{s} has {shapes[s][0]}; rebuild a map only from maps of the same depth.")
        variants.append((f"rebuild/{sc['name']}", {"kind": "rebuild", "rebuild": sc["rebuild"]}))
    return [(key, im, p) for im in images for key, p in variants]  # image-major: clean features reused


def _rebuild(f0: dict[str, np.ndarray], rules: dict[str, Any]) -> dict[str, np.ndarray]:
    f = dict(f0)
    for t, r in rules.items():
        c, h, w = f0[t].shape
        if "mix" in r:
            a = float(r["a"])
            prev, nxt = r["mix"]
            f[t] = a * resize_map(f0[prev], w, h) + (1 - a) * resize_map(f0[nxt], w, h)
        else:
            f[t] = resize_map(f0[r.get("up") or r.get("down")], w, h)
    return f


def job(job) -> dict[str, Any]:
    p = job.p
    task = split_task(job)
    _, f0 = clean(job)
    layers_of(task, f0)
    if p["kind"] == "clean":
        f1 = f0
    elif p["kind"] == "degrade":
        f1 = dict(f0)
        for m in p["maps"]:
            f1[m] = bilinear_down_up(f0[m], int(p["k"]))
    else:
        f1 = _rebuild(f0, p["rebuild"])
    return {"detections": head(job, f1)}


def _delta(a: float, b: float) -> float | None:
    """a - b, or None when either is pycocotools' -1 (no object of that size in the ground truth)."""
    return None if a < 0 or b < 0 else a - b


def summarise(study, records, ctx) -> dict[str, Any]:
    gt = gt_path(ctx, study.condition)
    shapes = _shapes(study)
    by = group(records)
    base = coco_ap(gt, by["clean"])
    ap = {k: (base if k == "clean" else coco_ap(gt, v)) for k, v in by.items()}
    scales = [("AP", "all"), ("APs", "small"), ("APm", "medium"), ("APl", "large")]
    cols = ["map", "factor", "AP", "APs", "APm", "APl", "ΔAP", "ΔAPs", "ΔAPm", "ΔAPl"]
    single_rows, heat = [], []
    for key in sorted((k for k in ap if k.startswith("single/")), key=lambda k: (list(shapes).index(k.split("/")[1]),
                                                                                  int(k.split("/")[2]))):
        _, m, k = key.split("/")
        a = ap[key]
        d = [_delta(a[s], base[s]) for s, _ in scales]
        single_rows.append([m, int(k), *(a[s] for s, _ in scales), *d])
        heat.append({"map": m, "factor": int(k), **{n: dv for (_, n), dv in zip(scales, d)}})
    pair_rows = []
    for key in sorted(k for k in ap if k.startswith("pair/")):
        _, mm, k = key.split("/")
        a = ap[key]
        pair_rows.append([mm, int(k), *(a[s] for s, _ in scales), *(_delta(a[s], base[s]) for s, _ in scales)])
    total = sum(int(np.prod(s)) for s in shapes.values())
    rb_rows = []
    for key in sorted(k for k in ap if k.startswith("rebuild/")):
        rules = by[key][0]["params"]["rebuild"]
        sent = [m for m in shapes if m not in rules]
        sent_n = sum(int(np.prod(shapes[m])) for m in sent)
        a = ap[key]
        rb_rows.append([key.split("/", 1)[1], "+".join(sent), total / sent_n if sent_n else None,
                        *(a[s] for s, _ in scales), *(_delta(a[s], base[s]) for s, _ in scales)])
    tables = [
        {"name": "S3 clean", "columns": ["AP", "AP50", "APs", "APm", "APl"],
         "rows": [[base["AP"], base["AP50"], base["APs"], base["APm"], base["APl"]]],
         "note": "AP of the undegraded features (-1: no object of that size in the ground truth)"},
        {"name": "S3 one map degraded", "columns": cols, "rows": single_rows,
         "note": "bilinear down- then up-scaling of one map by the factor"},
        {"name": "S3 pairs of maps", "columns": ["maps", *cols[1:]], "rows": pair_rows},
        {"name": "S3 reconstruction of unsent maps",
         "columns": ["scenario", "sent maps", "data reduction (x)", *cols[2:]], "rows": rb_rows},
    ]
    plots = [{"name": "S3 ΔAP per map, factor and object scale", "kind": "heatmap", "cells": heat,
              "maps": list(shapes), "scales": [n for _, n in scales]}]
    return {"tables": tables, "plots": plots, "clean": {k: base[k] for k in AP_KEYS}}
