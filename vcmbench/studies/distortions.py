"""S2 — features and images against distortions (seed-tables.md S2).

Each distortion (Gaussian blur, Gaussian noise, bicubic resize down+up, uniform quantisation,
VVenC coding noise) is applied at each strength in the image domain (to the RGB image before the
network) and in the feature domain (to the split network's features rearranged into 8-bit
one-channel pictures, ``features.distortions.feature_pictures``: ``settings.feature_pictures:
per_layer`` is the paper's one picture per layer, 16x16 tiles of the 256 channels of each FPN layer
P2..P6, each quantised with its own min/max; ``stacked`` puts every layer in one picture;
quantisation in the feature domain quantises the float features to the given bits, per layer in
``per_layer`` mode).  Random distortions run once per seed (``settings.seeds``) and the median over
the runs is reported, with the seeds.  ``settings.image_noise_scale`` multiplies the image-domain
noise sigma (grey levels per unit of sigma; the feature domain keeps sigma on the 0..255 scale).

Per image: SSIM/PSNR [F] of the features against the clean ones, measured on each feature picture
(0..255 scale of the picture's range; PSNR over the layers' samples, SSIM area-weighted over the
layers' blocks of at least 11x11) and averaged over the pictures, and for image distortions
SSIM/PSNR [I] of the distorted image (8-bit RGB, mean over channels).  Per variant: COCO AP of the
detections over all images — segmentation mAP when the network is a Mask R-CNN (records carry
``metric: segm``), box AP otherwise — and the quality figures averaged over images.  Every table
carries the study-table contract (``images``, 95 % bootstrap ``ci`` over images with
``settings.bootstrap_resamples`` resamples, AP recomputed on each resample; ``compare`` with the
paper's table: rows paired by domain and strength, SSIM/PSNR [F], [I] and mAP in the paper's
column order, ``column_units`` per pair, reproduced AP a fraction to show in percent).
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from ..core.errors import ConditionError
from ..features.distortions import (
    PICTURE_MODES,
    RANDOM_DISTORTIONS,
    FeaturePicture,
    apply_pixel,
    feature_pictures,
    quantise_features,
)
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
from .stats import bootstrap_interval

DEFAULT_WINDOW = 21


def _variants(settings: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = [("clean", {"domain": "clean"})]
    seeds = [int(s) for s in settings.get("seeds", [1, 2, 3])]
    domains = settings.get("domains", ["image", "feature"])
    if str(settings.get("feature_pictures", "stacked")) not in PICTURE_MODES:
        raise ConditionError(f"settings.feature_pictures is {settings.get('feature_pictures')!r}; use one of "
                             f"{', '.join(PICTURE_MODES)} (per_layer: the paper's one picture per layer).")
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
                        p["feature_pictures"] = str(settings.get("feature_pictures", "stacked"))
                        if name == "noise" and domain == "image" and settings.get("image_noise_scale") is not None:
                            p["noise_scale"] = float(settings["image_noise_scale"])
                        out.append((key, p))
    for i, m in enumerate(settings.get("mixtures") or []):
        steps = _mixture_steps(m, i)
        for domain in domains:
            random = any(st["distortion"] in RANDOM_DISTORTIONS for st in steps)
            for seed in seeds if random else [None]:
                p = {"domain": domain, "distortion": "mixed", "strength": i, "mixture": str(m["name"]),
                     "steps": steps, "feature_bits": int(settings.get("feature_bits", 8)),
                     "feature_pictures": str(settings.get("feature_pictures", "stacked"))}
                key = f"{domain}/mixed/{i}"
                if seed is not None:
                    p["seed"] = seed
                    key += f"/seed{seed}"
                if domain == "image" and settings.get("image_noise_scale") is not None:
                    p["noise_scale"] = float(settings["image_noise_scale"])
                out.append((key, p))
    return out


def _mixture_steps(m: Any, i: int) -> list[dict[str, Any]]:
    """The checked steps of ``settings.mixtures[i]``: ``{name, steps: [{distortion, strength[, window]}]}``,
    pixel-domain distortions applied in their order."""
    from ..features.distortions import PIXEL_DISTORTIONS

    if not isinstance(m, dict) or not str(m.get("name") or "").strip() or not isinstance(m.get("steps"), list) \
            or len(m["steps"]) < 2:
        raise ConditionError(f"settings.mixtures[{i}] needs a name and a list of at least two steps "
                             "({distortion, strength[, window]}); fix the study file.")
    out = []
    for j, st in enumerate(m["steps"]):
        if not isinstance(st, dict) or st.get("distortion") not in PIXEL_DISTORTIONS \
                or not isinstance(st.get("strength"), (int, float)) or isinstance(st.get("strength"), bool):
            raise ConditionError(f"settings.mixtures[{i}].steps[{j}] is {st!r:.80}; give {{distortion: one of "
                                 f"{', '.join(PIXEL_DISTORTIONS)}, strength: a number[, window: odd]}}.")
        out.append({"distortion": st["distortion"], "strength": st["strength"],
                    **({"window": int(st["window"])} if "window" in st else {})})
    return out


def _apply_steps(p: dict[str, Any], pic: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """A mixture's pixel-domain steps in order; noise sigma times ``scale``, each noise step seeded by
    the run's seed plus its step index."""
    for j, st in enumerate(p["steps"]):
        s = st["strength"] * scale if st["distortion"] == "noise" else st["strength"]
        pic = apply_pixel(st["distortion"], s, pic, int(p.get("seed", 0)) + j, st.get("window", DEFAULT_WINDOW))
    return pic


def plan(study, images, ctx):
    vs = _variants(study.settings)
    return [(key, im, p) for im in images for key, p in vs]  # image-major: the clean features are reused


def _distort_picture(job, p: dict[str, Any], pic: np.ndarray, rec: dict[str, Any], tag: str) -> np.ndarray:
    """One feature picture through the variant's pixel-domain distortion (VVenC coding included)."""
    name, s = p["distortion"], p["strength"]
    if name == "mixed":
        return _apply_steps(p, pic)
    if name == "coding":
        coding = p.get("coding") or {}
        out, bits = code_picture(job, pic, int(s), preset=coding.get("preset", "medium"),
                                 loop_filter=coding.get("loop_filter", True),
                                 chroma=int(coding.get("feature_chroma", 400)), tag=tag)
        rec["bits"] = rec.get("bits", 0) + bits
        return out
    return apply_pixel(name, s, pic, p.get("seed", 0), p.get("window", DEFAULT_WINDOW))


def _feature_quality(pics: list[FeaturePicture], f1: dict[str, np.ndarray]) -> tuple[float, float, list]:
    """(SSIM, PSNR) [F] of ``f1`` against the clean features: per picture (the paper's tiled pictures),
    then the mean over the pictures (one per layer in ``per_layer`` mode)."""
    per = [picture_quality(fp.float_picture, fp.picture_of(f1), fp.mask(), fp_blocks(fp)) for fp in pics]
    ssims = [q[0] for q in per if np.isfinite(q[0])]
    return (float(np.mean(ssims)) if ssims else float("nan")), float(np.mean([q[1] for q in per])), \
        [[fp.layout.layers[0] if len(pics) > 1 else "all", q[0], q[1]] for fp, q in zip(pics, per)]


def job(job) -> dict[str, Any]:
    p = job.p
    task = split_task(job)
    rgb, f0 = clean(job)
    layers = layers_of(task, f0)
    mode = p.get("feature_pictures", "stacked")
    pics = feature_pictures(f0, layers, p.get("feature_bits", 8), mode)
    rec: dict[str, Any] = {"metric": "segm" if getattr(task, "task_type", "") == "instance-segmentation" else "bbox"}
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
        elif name == "mixed":
            rgb1 = _apply_steps(p, rgb, float(p.get("noise_scale", 1.0)))
        else:
            strength = s * float(p.get("noise_scale", 1.0)) if name == "noise" else s
            rgb1 = apply_pixel(name, strength, rgb, p.get("seed", 0), p.get("window", DEFAULT_WINDOW))
        rec["ssim_i"] = quality.ssim(rgb, rgb1, bit_depth=8)
        rec["psnr_i"] = quality.psnr(rgb, rgb1, bit_depth=8)
        f1 = task.features(rgb1)
    elif name == "quantise":
        f1 = quantise_features(f0, layers, int(s), per_layer=mode == "per_layer")
    else:
        f1 = dict(f0)
        for i, fp in enumerate(pics):
            f1.update(fp.to_features(_distort_picture(job, p, fp.picture, rec, f"-pic{i}" if len(pics) > 1 else "")))
    if p["domain"] != "clean":
        rec["ssim_f"], rec["psnr_f"], rec["quality_f_pictures"] = _feature_quality(pics, f1)
    rec["detections"] = head(job, f1)
    return rec


AP_BOOTSTRAP_RESAMPLES = 100
QUALITY = ("ssim_f", "psnr_f", "ssim_i", "psnr_i")


class _APResampler:
    """COCO AP of a variant's detections on a bootstrap resample of the images.

    pycocotools' ``evaluate()`` runs once per variant (per-image, per-category matches in
    ``evalImgs``); a resample re-runs only ``accumulate()`` over the drawn images' records (a
    twice-drawn image counts twice), so the AP of the full set equals ``coco_evaluate``'s."""

    def __init__(self, gt_file, iou_type: str) -> None:
        self.gt_file, self.iou_type = gt_file, iou_type
        self._ev: dict[str, Any] = {}

    def evaluated(self, key: str, records: list[dict[str, Any]]):
        if key not in self._ev:
            from ..metrics.coco import coco_category_map, coco_evaluated, detections_to_coco, load_coco_gt
            from ..tasks.base import Detections
            from ..tasks.coco_names import COCO_NAMES

            gt = load_coco_gt(self.gt_file)
            cmap = coco_category_map(gt, list(COCO_NAMES))
            preds: list[dict] = []
            for r in records:
                preds += detections_to_coco(int(r["eval_id"]), Detections.from_json(r["detections"]), cmap,
                                            self.iou_type)
            ids = sorted({int(r["eval_id"]) for r in records})
            self._ev[key] = (coco_evaluated(gt, preds, self.iou_type, image_ids=ids), ids)
        return self._ev[key]

    def ap(self, key: str, records: list[dict[str, Any]], image_ids: list[int]) -> float:
        """AP (area all, 100 detections, IoU .50:.95) over ``image_ids`` (repeats allowed)."""
        import contextlib
        import copy
        import io

        ev, ids = self.evaluated(key, records)
        pos = {i: n for n, i in enumerate(ids)}
        n_img, n_area = len(ids), len(ev.params.areaRng)
        cats = ev.params.catIds if ev.params.useCats else [-1]
        r = copy.copy(ev)
        r.params = copy.copy(ev.params)
        r._paramsEval = copy.copy(ev._paramsEval)
        draw = [pos[i] for i in image_ids]
        r.evalImgs = [ev.evalImgs[k * n_area * n_img + j] for k in range(len(cats)) for j in draw]  # area "all"
        for q in (r.params, r._paramsEval):
            q.imgIds, q.areaRng, q.areaRngLbl, q.maxDets = list(range(len(draw))), q.areaRng[:1], q.areaRngLbl[:1], [100]
        with contextlib.redirect_stdout(io.StringIO()):
            r.accumulate()
        prec = r.eval["precision"][:, :, :, 0, 0]
        prec = prec[prec > -1]
        return float(prec.mean()) if prec.size else -1.0


def _row_order(d: dict[str, Any], merged: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, key) of a distortion's rows in the paper's order: per strength the feature-domain row,
    then the image-domain row; then the feature-domain rows of the other blur windows (window 5)."""
    name, window = d["name"], int(d.get("window", DEFAULT_WINDOW))
    out, extra = [], []
    for s in d["strengths"]:
        for domain in ("feature", "image"):
            key = f"{domain}/{name}/{s:g}" + (f"/w{window}" if name == "blur" else "")
            if key in merged:
                out.append((domain, key))
        for w in d.get("feature_windows") or []:
            if name == "blur" and int(w) != window and f"feature/{name}/{s:g}/w{int(w)}" in merged:
                extra.append((f"feature (window {int(w)})", f"feature/{name}/{s:g}/w{int(w)}"))
    return out + extra


def _published(study, name: str) -> dict[str, Any] | None:
    return next((t for t in (study.data.get("published") or {}).get("tables", []) if t.get("name") == name), None)


PUBLISHED_OF = {"blur": "Gaussian blur", "noise": "Gaussian noise", "resize": "Resize (bicubic down then up)",
                "quantise": "Uniform quantisation (bits)", "coding": "Coding noise (VVenC QP)"}


def _compare(study, published: str, labels: list[tuple[str, float]], ap_col: int) -> dict[str, Any] | None:
    """The table contract's ``compare``: reproduced rows paired with the published rows of the same
    domain and strength; SSIM/PSNR [F], [I] and mAP paired in the paper's column order."""
    t = _published(study, published)
    if t is None:
        return None
    prow = {(str(r[0]), float(r[1])): i for i, r in enumerate(t["rows"])} if len(t["columns"]) > 1 else {}
    rows = [[i, prow[k]] for i, k in enumerate(labels) if k in prow] if prow else [[0, 0]]
    cols = [[c, c] for c in range(2, 6)] + [[ap_col, 6]] if prow else [[ap_col, 0]]
    return {"published": published, "rows": rows, "columns": cols, "units": "percent",
            "column_units": ["", "dB", "", "dB", "percent"] if prow else ["percent"],
            "higher_is_better": True, "order_by": None}


PAPER_NETWORK = "rcnn:COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"


def run_deviations(study, iou: str, n_images: int) -> list[dict[str, str]]:
    """What this run changed against the paper's setting (network, metric, tiling, data), as
    ``{what, paper, here, why}`` items, next to the study file's ``deviations``."""
    net = str(study.task.get("network", ""))
    mode = str(study.settings.get("feature_pictures", "stacked"))
    out = []
    if net != PAPER_NETWORK:
        out.append({"what": "network", "paper": f"{PAPER_NETWORK} (P2-P6)", "here": net,
                    "why": "the network this run was given (study file or --task)"})
    if iou != "segm":
        out.append({"what": "metric", "paper": "segmentation mAP @[.5:.95]", "here": "COCO box AP @[.5:.95]",
                    "why": "the network gives no masks"})
    if mode != "per_layer":
        out.append({"what": "feature_pictures", "paper": "one picture per layer (16x16 tiles of 256 channels)",
                    "here": mode, "why": "settings.feature_pictures"})
    out.append({"what": "data", "paper": "COCO2017 val, 5000 images",
                "here": f"{n_images} image(s) of {study.condition.name}", "why": "the condition and --limit of this run"})
    return out


def summarise(study, records, ctx) -> dict[str, Any]:
    gt = gt_path(ctx, study.condition)
    by = group(records)
    if "clean" not in by:
        raise ConditionError("The distortion study has no clean run; it is part of every plan — re-run the study.")
    metrics = {r.get("metric", "bbox") for r in records}
    iou = "segm" if metrics == {"segm"} else "bbox"
    ap_name = "mAP (segm)" if iou == "segm" else "AP (bbox)"
    base = coco_ap(gt, by["clean"], iou)
    per: dict[str, dict[str, Any]] = {}
    for key, recs in by.items():
        ap = base if key == "clean" else coco_ap(gt, recs, iou)
        per[key] = {"ap": {k: ap[k] for k in AP_KEYS}, "images": len(recs),
                    "bits": sum(int(r.get("bits", 0)) for r in recs),
                    **{f: mean(r.get(f) for r in recs) for f in QUALITY}}
    # merge seeds: median over runs
    merged: dict[str, dict[str, Any]] = {}
    runs_of: dict[str, list[str]] = {}
    for key, v in per.items():
        stem, _, last = key.rpartition("/")
        if last.startswith("seed"):
            merged.setdefault(stem, {"runs": []})["runs"].append({"seed": int(last[4:]), **v})
            runs_of.setdefault(stem, []).append(key)
        else:
            merged[key] = v
            runs_of[key] = [key]
    for key, v in merged.items():
        if "runs" in v:
            runs = v["runs"]
            for f in QUALITY:
                v[f] = statistics.median([r[f] for r in runs])
            v["ap"] = {k: statistics.median([r["ap"][k] for r in runs]) for k in AP_KEYS}
            v["images"] = runs[0]["images"]
    # bootstrap intervals over images (studies.stats): quality figures as per-image means (median over
    # the seeds' runs per image), AP recomputed on the resampled images (median over the runs)
    resamples = int(study.settings.get("bootstrap_resamples", AP_BOOTSTRAP_RESAMPLES))
    sampler = _APResampler(gt, iou)
    ids = sorted({int(r["eval_id"]) for r in by["clean"]})
    base_cache: dict[bytes, float] = {}

    def base_ap(idx) -> float:
        b = np.asarray(idx).tobytes()
        if b not in base_cache:
            base_cache[b] = sampler.ap("clean", by["clean"], [ids[i] for i in idx])
        return base_cache[b]

    def intervals(key: str) -> dict[str, Any]:
        keys = runs_of[key]
        out: dict[str, Any] = {}
        for f in QUALITY:
            vals = []
            for i in ids:
                xs = [float(r[f]) for k in keys for r in by[k] if int(r["eval_id"]) == i and r.get(f) is not None]
                if xs:
                    vals.append(statistics.median(xs))
            vals = [v for v in vals if np.isfinite(v)]
            out[f] = list(bootstrap_interval(values=vals)) if len(vals) >= 2 and resamples else None
        if resamples and len(ids) >= 2:
            ap = lambda idx: statistics.median(sampler.ap(k, by[k], [ids[i] for i in idx]) for k in keys)  # noqa: E731
            ci = bootstrap_interval(statistic=ap, n=len(ids), resamples=resamples)
            out["ap"] = list(ci) if ci else None
            if key != "clean":
                ci = bootstrap_interval(statistic=lambda idx: ap(idx) - base_ap(idx), n=len(ids), resamples=resamples)
                out["dap"] = list(ci) if ci else None
        return out

    tables, plots = [], []
    n_images = len(ids)
    ci_clean = intervals("clean")
    t = {"name": "S2 baseline", "columns": [ap_name], "rows": [[base["AP"]]], "ci": [[ci_clean.get("ap")]],
         "images": n_images, "note": f"no distortion; {ap_name} as a fraction (the paper: percent)"}
    cmp = _compare(study, "Baseline (no distortion)", [], 0)
    if cmp:
        t["compare"] = {**cmp, "order_by": ap_name}
    tables.append(t)
    cols = ["domain", "strength", "SSIM [F]", "PSNR [F] (dB)", "SSIM [I]", "PSNR [I] (dB)", ap_name, f"Δ{ap_name}",
            f"runs (seed: {ap_name})"]
    for d in study.settings.get("distortions", []):
        rows, cis, labels, series = [], [], [], {}
        for label, k in _row_order(d, merged):
            v, strength = merged[k], float(k.split("/")[2])
            img = k.startswith("image")
            ci = intervals(k)
            runs = "; ".join(f"{r['seed']}: {r['ap']['AP']:.4f}" for r in v.get("runs", []))
            rows.append([label, strength, v["ssim_f"], v["psnr_f"], v["ssim_i"] if img else None,
                         v["psnr_i"] if img else None, v["ap"]["AP"], v["ap"]["AP"] - base["AP"], runs])
            cis.append([None, None, ci.get("ssim_f"), ci.get("psnr_f"), ci.get("ssim_i") if img else None,
                        ci.get("psnr_i") if img else None, ci.get("ap"), ci.get("dap"), None])
            labels.append((label, strength))
            series.setdefault(label, []).append((strength, v["ap"]["AP"]))
        t = {"name": f"S2 {d['name']}", "columns": cols, "rows": rows, "ci": cis, "images": n_images,
             "note": f"clean {ap_name} {base['AP']:.4f} (fractions; the paper: percent); random distortions: "
                     "median over runs; [F] on the feature pictures "
                     f"({study.settings.get('feature_pictures', 'stacked')}), mean over the pictures"}
        cmp = _compare(study, PUBLISHED_OF.get(d["name"], ""), labels, 6)
        if cmp:
            t["compare"] = {**cmp, "order_by": ap_name}
        tables.append(t)
        plots.append({"name": f"S2 {d['name']}: {ap_name} against strength", "kind": "lines", "x_label": "strength",
                      "y_label": ap_name, "series": [{"label": k, "points": sorted(v)} for k, v in series.items()],
                      "baseline": base["AP"]})
    mixtures = study.settings.get("mixtures") or []
    if mixtures:
        rows, cis = [], []
        for i, m in enumerate(mixtures):
            for domain in ("feature", "image"):
                k = f"{domain}/mixed/{i}"
                if k not in merged:
                    continue
                v, img, ci = merged[k], domain == "image", intervals(k)
                steps = " + ".join(f"{st['distortion']} {st['strength']:g}" for st in m["steps"])
                runs = "; ".join(f"{r['seed']}: {r['ap']['AP']:.4f}" for r in v.get("runs", []))
                rows.append([domain, f"{m['name']} ({steps})", v["ssim_f"], v["psnr_f"], v["ssim_i"] if img else None,
                             v["psnr_i"] if img else None, v["ap"]["AP"], v["ap"]["AP"] - base["AP"], runs])
                cis.append([None, None, ci.get("ssim_f"), ci.get("psnr_f"), ci.get("ssim_i") if img else None,
                            ci.get("psnr_i") if img else None, ci.get("ap"), ci.get("dap"), None])
        tables.append({"name": "S2 mixed", "columns": ["domain", "mixture", *cols[2:]], "rows": rows, "ci": cis,
                       "images": n_images, "note": "the steps of each mixture applied in order (settings.mixtures); "
                                                   "no published figures to compare with"})
    return {"tables": tables, "plots": plots, "clean": {k: base[k] for k in AP_KEYS}, "metric": iou,
            "variants": merged, "run_deviations": run_deviations(study, iou, n_images)}
