"""S3 — which feature maps matter for which object sizes (seed-tables.md S3, key feature maps).

Variants (all on the split network's clean features of each image):

* ``single/<map>/<k>``: one map bilinearly down- then up-scaled by ``k`` = 2, 4, ... up to the map's
  largest factor (``settings.max_factors``, the report's table; else the largest power of two the map
  allows, ``features.distortions.max_factor``; a 1x1 map has none);
* ``combo/<a>+<b>[+...]``: several maps degraded at once, each at ITS largest factor (the report's
  Figure 10): ``settings.pairs: true`` = every pair, ``settings.combinations`` = ``all`` (every set of
  two or more maps) or a list of map lists; only maps that allow a factor take part.  A numeric
  ``settings.pair_factor`` instead degrades the pairs at that one factor (``pair/<a>+<b>/<k>``, the
  study files before version 4);
* ``rebuild/<scenario>``: maps that are not sent rebuilt from the sent ones (the report's Figure 11)
  (``settings.reconstructions``: ``{name, rebuild: {target: {up: src} | {down: src} |
  {mix: [prev, next], a: A}}}``; ``up``/``down`` = bilinear resize of the source map to the target's
  size; ``mix`` = ``a·down(prev) + (1−a)·up(next)``), with the data-volume reduction factor
  = all maps' samples / the sent maps' samples.  A source must have the target's channel count.

Scored by COCO AP, APs, APm, APl; ΔAP against the clean run per (map, factor, object scale) —
the heat map — and the per-scale Δ table of the reconstructions.  Every figure has a 95 % percentile
bootstrap interval over images (``studies.stats``; the same resamples for every row, so a ΔAP interval
is that of the paired difference; ``settings.bootstrap_resamples``, default 1000), and the tables
that the report published carry ``compare`` (published table, corresponding rows and columns, percent).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..core.errors import ConditionError
from ..features.distortions import bilinear_down_up, max_factor, resize_map
from .common import AP_KEYS, clean, coco_ap_records, group, gt_path, head, layers_of, split_task
from .stats import LEVEL, RESAMPLES, SEED, percentile_interval, resample_weights


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


def largest_factors(study) -> dict[str, int]:
    """The largest factor of each map: ``settings.max_factors`` (the report's), else what the map allows."""
    shapes = _shapes(study)
    return {m: int((study.settings.get("max_factors") or {}).get(m) or max_factor(shapes[m])) for m in shapes}


def combinations(study, limits: dict[str, int] | None = None) -> list[tuple[str, ...]]:
    """The map sets degraded together at their largest factors (``pairs`` and ``combinations`` settings), in
    map order, each once; maps whose largest factor is 1 leave a set (a set left with fewer than two is
    dropped)."""
    limits = limits or largest_factors(study)
    maps = list(limits)
    ok = [m for m in maps if limits[m] >= 2]
    sets: list[tuple[str, ...]] = []
    if study.settings.get("pairs", True) and study.settings.get("pair_factor", "max") == "max":
        sets += list(itertools.combinations(ok, 2))
    combos = study.settings.get("combinations") or []
    if combos == "all":
        sets += [c for r in range(2, len(ok) + 1) for c in itertools.combinations(ok, r)]
    elif isinstance(combos, list):
        for c in combos:
            unknown = [m for m in c if m not in limits]
            if unknown:
                raise ConditionError(f"Study {study.name}: settings.combinations names {', '.join(map(str, unknown))}, "
                                     f"not one of the maps {', '.join(maps)}.")
            sets.append(tuple(m for m in maps if m in c and limits[m] >= 2))
    else:
        raise ConditionError(f"Study {study.name}: settings.combinations is {combos!r}; give 'all' or a list of map "
                             "lists (e.g. [[p2, p3, p4]]).")
    out: list[tuple[str, ...]] = []
    for c in sets:
        if len(c) >= 2 and c not in out:
            out.append(c)
    return out


def plan(study, images, ctx):
    shapes = _shapes(study)
    maps = list(shapes)
    variants: list[tuple[str, dict[str, Any]]] = [("clean", {"kind": "clean"})]
    limits = largest_factors(study)
    for m in maps:
        k = 2
        while k <= limits[m]:
            variants.append((f"single/{m}/{k}", {"kind": "degrade", "maps": [m], "k": k}))
            k *= 2
    pk = study.settings.get("pair_factor", "max")
    if pk != "max":
        pk = int(pk)
        if study.settings.get("pairs", True):
            for a, b in itertools.combinations(maps, 2):
                if limits[a] >= pk and limits[b] >= pk:
                    variants.append((f"pair/{a}+{b}/{pk}", {"kind": "degrade", "maps": [a, b], "k": pk}))
    for combo in combinations(study, limits):
        variants.append(("combo/" + "+".join(combo), {"kind": "degrade", "factors": {m: limits[m] for m in combo}}))
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
    names = {sc["name"] for sc in _scenarios(study)}
    unknown = [n for n in (study.settings.get("published_rows") or {}) if n not in names]
    if unknown:
        raise ConditionError(f"Study {study.name}: settings.published_rows names {', '.join(map(repr, unknown))}, not a "
                             f"reconstruction the study runs ({', '.join(sorted(names)) or 'none'}).")
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
        factors = p.get("factors") or {m: p["k"] for m in p["maps"]}
        for m, k in factors.items():
            f1[m] = bilinear_down_up(f0[m], int(k))
    else:
        f1 = _rebuild(f0, p["rebuild"])
    return {"detections": head(job, f1)}


def _delta(a: float, b: float) -> float | None:
    """a - b, or None when either is pycocotools' -1 (no object of that size in the ground truth)."""
    return None if a < 0 or b < 0 else a - b


SCALES = [("AP", "all"), ("APs", "small"), ("APm", "medium"), ("APl", "large")]
KEYS = ("AP", "AP50", "APs", "APm", "APl")


def _published(study, seed: str) -> dict[str, Any] | None:
    """The study's published table transcribed from seed table ``seed`` (its ``seed:`` key)."""
    for t in (study.data.get("published") or {}).get("tables", []):
        if t.get("seed") == seed:
            return t
    return None


def _iv(draws) -> list[float] | None:
    iv = percentile_interval(draws)
    return None if iv is None else [iv[0], iv[1]]


def _mix_a(rules: dict[str, Any]) -> float | None:
    a = [float(r["a"]) for r in rules.values() if "mix" in r]
    return a[0] if len(a) == 1 else None


def summarise(study, records, ctx) -> dict[str, Any]:
    gt = gt_path(ctx, study.condition)
    shapes = _shapes(study)
    by = group(records)
    ids = sorted({int(r["eval_id"]) for r in by["clean"]})
    resamples = int(study.settings.get("bootstrap_resamples", RESAMPLES))
    w = resample_weights(len(ids), resamples=resamples) if len(ids) >= 2 else None
    ap: dict[str, dict[str, float]] = {}
    draws: dict[str, dict[str, Any]] = {}
    for k, v in by.items():
        ap[k], per_image = coco_ap_records(gt, v, ids, KEYS)
        draws[k] = {q: (None if w is None else per_image[q].accuracy(w)) for q in KEYS}
    base, d0 = ap["clean"], draws["clean"]

    def ci(key: str, q: str, delta: bool = False) -> list[float] | None:
        d = draws[key][q]
        if d is None:
            return None
        return _iv(d - d0[q] if delta else d)

    def figures(key: str) -> tuple[list[Any], list[Any]]:
        a = ap[key]
        # pycocotools' -1 (no object of that size in the ground truth): no figure, no Δ
        vals = [a[s] if a[s] >= 0 else None for s, _ in SCALES] + [_delta(a[s], base[s]) for s, _ in SCALES]
        cis = [ci(key, s) for s, _ in SCALES] + [ci(key, s, True) for s, _ in SCALES]
        return vals, [c if v is not None else None for v, c in zip(vals, cis)]

    cols = ["map", "factor", "AP", "APs", "APm", "APl", "ΔAP", "ΔAPs", "ΔAPm", "ΔAPl"]
    single_rows, single_ci, heat = [], [], []
    for key in sorted((k for k in ap if k.startswith("single/")), key=lambda k: (list(shapes).index(k.split("/")[1]),
                                                                                  int(k.split("/")[2]))):
        _, m, k = key.split("/")
        vals, cis = figures(key)
        single_rows.append([m, int(k), *vals])
        single_ci.append([None, None, *cis])
        heat.append({"map": m, "factor": int(k), **{n: dv for (_, n), dv in zip(SCALES, vals[4:])}})
    combo_rows, combo_ci = [], []
    order = {c: i for i, c in enumerate(combinations(study))}
    for key in sorted((k for k in ap if k.startswith(("combo/", "pair/"))),
                      key=lambda k: (order.get(tuple(k.split("/")[1].split("+")), len(order)), k)):
        p = by[key][0]["params"]
        factors = p.get("factors") or {m: p["k"] for m in p["maps"]}
        vals, cis = figures(key)
        combo_rows.append(["+".join(factors), "+".join(str(int(f)) for f in factors.values()), *vals])
        combo_ci.append([None, None, *cis])
    total = sum(int(np.prod(s)) for s in shapes.values())
    rb_rows, rb_ci, rb_keys = [], [], []
    for key in sorted(k for k in ap if k.startswith("rebuild/")):
        rules = by[key][0]["params"]["rebuild"]
        sent = [m for m in shapes if m not in rules]
        sent_n = sum(int(np.prod(shapes[m])) for m in sent)
        vals, cis = figures(key)
        rb_rows.append([key.split("/", 1)[1], "+".join(sent), _mix_a(rules), total / sent_n if sent_n else None,
                        *vals])
        rb_ci.append([None, None, None, None, *cis])
        rb_keys.append(key)
    limits = largest_factors(study)
    n_img = len(ids)
    clean_vals = [base[k] if base[k] >= 0 else None for k in KEYS]
    clean_t = {"name": "S3 clean", "columns": list(KEYS), "rows": [clean_vals], "images": n_img,
               "ci": [[ci("clean", k) if v is not None else None for k, v in zip(KEYS, clean_vals)]],
               "note": "AP of the undegraded features (– where the ground truth has no object of that size)"}
    pub = _published(study, "S3 baseline")
    if pub:
        clean_t["compare"] = {"published": pub["name"], "rows": [[0, 0]],
                              "columns": [[k, k] for k in KEYS if k in pub["columns"]], "units": "percent",
                              "higher_is_better": True, "order_by": "AP"}
    factors_t = {"name": "S3 largest factor per map", "columns": list(shapes), "rows": [[limits[m] for m in shapes]],
                 "images": n_img, "ci": [[None] * len(shapes)],
                 "note": "the largest down-scaling factor of each map (the single-map rows go up to it; the "
                         "combinations use it)"}
    pub = _published(study, "S3 max factors")
    if pub and set(pub["columns"]) & {m.upper() for m in shapes}:
        factors_t["compare"] = {"published": pub["name"], "rows": [[0, 0]],
                                "columns": [[m, m.upper()] for m in shapes if m.upper() in pub["columns"]],
                                "units": "x", "higher_is_better": True, "order_by": next(iter(shapes))}
    rb_t = {"name": "S3 reconstruction of unsent maps", "images": n_img,
            "columns": ["scenario", "sent maps", "a", "data reduction (x)", *cols[2:]], "rows": rb_rows, "ci": rb_ci,
            "note": "maps not sent rebuilt from the sent ones (a: weight of the down-scaled previous map in a mix)"}
    pub = _published(study, "S3 reconstruction")
    pairs = _published_rows(study, rb_keys, pub)
    if pub and pairs:
        rb_t["compare"] = {"published": pub["name"], "rows": pairs,
                           "columns": [[c, c] for c in ("data reduction (x)", "AP", "ΔAP", "ΔAPs", "ΔAPm", "ΔAPl")
                                       if c in pub["columns"]],
                           "units": "percent", "higher_is_better": True, "order_by": "AP"}
    tables = [
        clean_t,
        factors_t,
        {"name": "S3 one map degraded", "columns": cols, "rows": single_rows, "ci": single_ci, "images": n_img,
         "note": "bilinear down- then up-scaling of one map by the factor"},
        {"name": "S3 maps degraded together", "columns": ["maps", "factors", *cols[2:]], "rows": combo_rows,
         "ci": combo_ci, "images": n_img,
         "note": "the maps degraded at once, each by its factor (its largest unless pair_factor says otherwise)"},
        rb_t,
    ]
    plots = [{"name": "S3 ΔAP per map, factor and object scale", "kind": "heatmap", "cells": heat,
              "maps": list(shapes), "scales": [n for _, n in SCALES]}]
    return {"tables": tables, "plots": plots, "clean": {k: base[k] for k in AP_KEYS},
            "bootstrap": {"resamples": resamples, "level": LEVEL, "seed": SEED}}


def _published_rows(study, rb_keys: list[str], pub) -> list[list[int]]:
    """[reproduced row, published row] of the reconstructions that ``settings.published_rows`` (reproduced
    scenario name -> published row index) ties to the published reconstruction table."""
    want = study.settings.get("published_rows") or {}
    if not pub or not want:
        return []
    names = [k.split("/", 1)[1] for k in rb_keys]
    out = []
    for name, row in want.items():
        if name not in names:
            raise ConditionError(f"Study {study.name}: settings.published_rows names the scenario {name!r}, which the "
                                 f"study does not run; use one of {', '.join(names) or 'none'}.")
        if not 0 <= int(row) < len(pub["rows"]):
            raise ConditionError(f"Study {study.name}: settings.published_rows gives row {row} of {pub['name']!r}, "
                                 f"which has {len(pub['rows'])} row(s).")
        out.append([names.index(name), int(row)])
    return sorted(out)
