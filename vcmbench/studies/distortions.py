"""S2 — features and images against distortions (seed-tables.md S2).

Each distortion (Gaussian blur, Gaussian noise, bicubic resize down+up, uniform quantisation,
VVenC coding noise) is applied at each strength in the image domain (to the RGB image before the
network) and in the feature domain (to the split network's features rearranged into one 8-bit
picture, ``features.distortions.FeaturePicture``; quantisation in the feature domain quantises
the float features to the given bits).  Random distortions run once per seed (``settings.seeds``)
and the median over the runs is reported, with the seeds.

Per image: SSIM/PSNR [F] of the features against the clean ones, measured on the one-channel
picture (0..255 scale of the image's feature range; PSNR over the layers' samples, SSIM
area-weighted over the layers' blocks of at least 11x11), and for image distortions SSIM/PSNR [I]
of the distorted image (8-bit RGB, mean over channels).  Per variant: COCO AP/APs/APm/APl of the
detections over all images, quality figures averaged over images.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from ..core.errors import ConditionError
from ..features.distortions import RANDOM_DISTORTIONS, FeaturePicture, apply_pixel, quantise_features
from ..metrics import quality
from .common import (
    AP_KEYS,
    clean,
    coco_ap,
    code_picture,
    fp_blocks,
    group,
    gt_path,
    head,
    layers_of,
    mean,
    picture_quality,
    split_task,
)

DEFAULT_WINDOW = 21


def _variants(settings: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = [("clean", {"domain": "clean"})]
    seeds = [int(s) for s in settings.get("seeds", [1, 2, 3])]
    domains = settings.get("domains", ["image", "feature"])
    for d in settings.get("distortions", []):
        name = d["name"]
        if name not in ("blur", "noise", "resize", "quantise", "coding"):
            raise ConditionError(f"Unknown distortion {name!r} in the study; use blur, noise, resize, quantise or coding.")
        for domain in domains:
            windows = [d.get("window", DEFAULT_WINDOW)]
            if domain == "feature" and d.get("feature_windows"):
                windows = [int(w) for w in d["feature_windows"]]
            for w in windows if name == "blur" else [None]:
                for s in d["strengths"]:
                    for seed in seeds if name in RANDOM_DISTORTIONS else [None]:
                        p: dict[str, Any] = {"domain": domain, "distortion": name, "strength": s}
                        key = f"{domain}/{name}/{s:g}"
                        if w is not None:
                            p["window"] = int(w)
                            key += f"/w{w}"
                        if seed is not None:
                            p["seed"] = seed
                            key += f"/seed{seed}"
                        if name == "coding":
                            p["coding"] = dict(settings.get("coding") or {})
                        p["feature_bits"] = int(settings.get("feature_bits", 8))
                        out.append((key, p))
    return out


def plan(study, images, ctx):
    vs = _variants(study.settings)
    return [(key, im, p) for im in images for key, p in vs]  # image-major: the clean features are reused


def job(job) -> dict[str, Any]:
    p = job.p
    task = split_task(job)
    rgb, f0 = clean(job)
    layers = layers_of(task, f0)
    fp = FeaturePicture.from_features(f0, layers, p.get("feature_bits", 8))
    rec: dict[str, Any] = {}
    name, s = p.get("distortion"), p.get("strength")
    coding = p.get("coding") or {}
    if p["domain"] == "clean":
        f1 = f0
    elif p["domain"] == "image":
        if name == "coding":
            rgb1, rec["bits"] = code_picture(job, rgb, int(s), preset=coding.get("preset", "medium"),
                                             loop_filter=coding.get("loop_filter", True))
        elif name == "quantise":
            from ..features.distortions import quantise_picture

            rgb1 = quantise_picture(rgb, int(s))
        else:
            rgb1 = apply_pixel(name, s, rgb, p.get("seed", 0), p.get("window", DEFAULT_WINDOW))
        rec["ssim_i"] = quality.ssim(rgb, rgb1, bit_depth=8)
        rec["psnr_i"] = quality.psnr(rgb, rgb1, bit_depth=8)
        f1 = task.features(rgb1)
    else:
        if name == "quantise":
            f1 = quantise_features(f0, layers, int(s))
        elif name == "coding":
            pic, rec["bits"] = code_picture(job, fp.picture, int(s), preset=coding.get("preset", "medium"),
                                            loop_filter=coding.get("loop_filter", True),
                                            chroma=int(coding.get("feature_chroma", 400)))
            f1 = {**f0, **fp.to_features(pic)}
        else:
            f1 = {**f0, **fp.to_features(apply_pixel(name, s, fp.picture, p.get("seed", 0),
                                                     p.get("window", DEFAULT_WINDOW)))}
    if p["domain"] != "clean":
        rec["ssim_f"], rec["psnr_f"] = picture_quality(fp.float_picture, fp.picture_of(f1), fp.mask(), fp_blocks(fp))
    rec["detections"] = head(job, f1)
    return rec


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and not np.isfinite(v) and not np.isinf(v)) else float(v)


def summarise(study, records, ctx) -> dict[str, Any]:
    gt = gt_path(ctx, study.condition)
    by = group(records)
    if "clean" not in by:
        raise ConditionError("The distortion study has no clean run; it is part of every plan — re-run the study.")
    base = coco_ap(gt, by["clean"])
    per: dict[str, dict[str, Any]] = {}
    for key, recs in by.items():
        ap = base if key == "clean" else coco_ap(gt, recs)
        per[key] = {"ap": {k: ap[k] for k in AP_KEYS}, "ssim_f": mean(r.get("ssim_f") for r in recs),
                    "psnr_f": mean(r.get("psnr_f") for r in recs), "ssim_i": mean(r.get("ssim_i") for r in recs),
                    "psnr_i": mean(r.get("psnr_i") for r in recs), "images": len(recs),
                    "bits": sum(int(r.get("bits", 0)) for r in recs)}
    # merge seeds: median over runs
    merged: dict[str, dict[str, Any]] = {}
    for key, v in per.items():
        stem, _, last = key.rpartition("/")
        if last.startswith("seed"):
            merged.setdefault(stem, {"runs": []})["runs"].append({"seed": int(last[4:]), **v})
        else:
            merged[key] = v
    for key, v in merged.items():
        if "runs" in v:
            runs = v["runs"]
            for f in ("ssim_f", "psnr_f", "ssim_i", "psnr_i"):
                v[f] = statistics.median([r[f] for r in runs])
            v["ap"] = {k: statistics.median([r["ap"][k] for r in runs]) for k in AP_KEYS}
            v["images"] = runs[0]["images"]
    tables, plots = [], []
    cols = ["domain", "strength", "SSIM [F]", "PSNR [F] (dB)", "SSIM [I]", "PSNR [I] (dB)", "AP", "ΔAP", "runs (seed: AP)"]
    for d in study.settings.get("distortions", []):
        rows, series = [], {}
        keys = [k for k in merged if k.split("/")[1:2] == [d["name"]]]
        keys.sort(key=lambda k: (float(k.split("/")[2]), k.split("/")[0] != "feature", k))
        for k in keys:
            v = merged[k]
            domain = k.split("/")[0] + (f" (window {k.split('/')[3][1:]})" if len(k.split("/")) > 3 else "")
            runs = "; ".join(f"{r['seed']}: {r['ap']['AP']:.4f}" for r in v.get("runs", []))
            rows.append([domain, float(k.split("/")[2]), v["ssim_f"], v["psnr_f"],
                         v["ssim_i"] if k.startswith("image") else None, v["psnr_i"] if k.startswith("image") else None,
                         v["ap"]["AP"], v["ap"]["AP"] - base["AP"], runs])
            series.setdefault(domain, []).append((float(k.split("/")[2]), v["ap"]["AP"]))
        tables.append({"name": f"S2 {d['name']}", "columns": cols, "rows": rows,
                       "note": f"clean AP {base['AP']:.4f}; random distortions: median over runs"})
        plots.append({"name": f"S2 {d['name']}: AP against strength", "kind": "lines", "x_label": "strength",
                      "y_label": "AP", "series": [{"label": k, "points": sorted(v)} for k, v in series.items()],
                      "baseline": base["AP"]})
    return {"tables": tables, "plots": plots, "clean": {k: base[k] for k in AP_KEYS}, "variants": merged}
