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

QPs (the paper's): ``settings.qps`` (proposal, Table 2: 35-45) and ``settings.anchor.qps`` (41-49),
paired for Table 2 by ``settings.table2_pairs`` ([anchor QP, our QP]); ``settings.table3_qps`` (Table 3:
the same QP for anchor and proposal); ``settings.table4_qp`` (Table 4: 27).  Every job of the union runs.

Rate: bits of all bitstreams + side information / pixels of the original images (bpp over the
dataset).  Time: every job's end-to-end time is image read + feature extraction (the split network's
front, measured for the image: ``common.clean_timed``) + down-scaling, coding, decoding + restoration
+ task head; the extraction alone is reported in its own column.

Reported (``summarise``): the RD points, BD-rates against the anchor (pchip-jvet), the paper's
Tables 1 (loss x model: one row per trained restoration, labelled by its ``info`` from
``study train-restore``), 2 (RD pairs and BD-rate), 3 (single- vs multi-channel input), 4 (QP 27) and
the complexity table (Table 5's measures).  The tables that pair with published ones carry the
study-table contract (``images``, ``ci``: 95 % bootstrap intervals over images, the same resamples for
every cell — ``settings.bootstrap_resamples``, default 200 — and ``compare``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..core.errors import ConditionError
from ..features.distortions import FeaturePicture, resize_map
from ..features.restoration import FeatureRestorer, gmacs, resolve_spec
from .common import AP_KEYS, clean_timed, code_picture, group, gt_path, layers_of, split_task
from .stats import resample_weights

SIDE_BITS = 64
RESAMPLES = 200
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


def qp_sets(settings: dict[str, Any]) -> tuple[list[int], list[int]]:
    """(proposal QPs, anchor QPs) that run: Table 2's, Table 3's and Table 4's, each QP once."""
    extra = [int(q) for q in settings.get("table3_qps") or []]
    if settings.get("table4_qp") is not None:
        extra.append(int(settings["table4_qp"]))
    prop = sorted({int(q) for q in settings["qps"]} | set(extra))
    anchor_qps = (settings.get("anchor") or {}).get("qps") or []
    anchor = sorted({int(q) for q in anchor_qps} | set(extra)) if anchor_qps else []
    return prop, anchor


def plan(study, images, ctx):
    s = study.settings
    if not s.get("qps") or not s.get("factors"):
        raise ConditionError(f"Study {study.name}: settings.qps and settings.factors are required.")
    rest = restorations(study, ctx)
    names = [_restorer(r).signature() for r in rest]
    common = {"bits": int(s.get("bits", 8)), "chroma": int(s.get("chroma", 420)),
              "loop_filter": bool(s.get("loop_filter", False)), "preset": s.get("preset", "medium"),
              # what a record holds (extraction counted in every job's end-to-end time): part of the job id, so
              # records of the older timing are not reused
              "timing": "extraction-in-every-job"}
    prop, anchor = qp_sets(s)
    out = []
    for im in images:  # image-major: the clean features are reused
        for q in anchor:
            out.append((f"anchor/qp{q}", im, {**common, "qp": int(q), "factors": {}, "restorations": []}))
        for q in prop:
            out.append((f"down/qp{q}", im, {**common, "qp": int(q), "factors": s["factors"], "restorations": rest,
                                            "restoration_names": names}))
    return out


def job(job) -> dict[str, Any]:
    p = job.p
    task = split_task(job)
    _, f0, t_front = clean_timed(job)
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
                           "detections": {}, "restore_seconds": {}, "e2e_seconds": {}, "extract_seconds": t_front}
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
                    f1[k] = rst(dec[k], h, w, k)
        t_rest = time.perf_counter() - t2
        t3 = time.perf_counter()
        det = task.head(f1, (job.image.width, job.image.height)).to_json()
        t_head = time.perf_counter() - t3
        rec["detections"][name] = det
        rec["restore_seconds"][name] = t_rest
        rec["e2e_seconds"][name] = t_front + t_code + t_rest + t_head
    return rec


def _interval(draws) -> list[float] | None:
    """``stats.percentile_interval`` as a JSON list; None with fewer than two finite draws."""
    from .stats import percentile_interval

    d = np.asarray(draws, np.float64)
    iv = percentile_interval(d) if np.isfinite(d).sum() >= 2 else None
    return None if iv is None else [iv[0], iv[1]]


class _Point:
    """One (curve, QP) point: bpp and COCO AP over the images, with the bootstrap draws of both."""

    def __init__(self, data, cmap, recs: list[dict[str, Any]], name: str, eval_ids: list[int], w: np.ndarray | None):
        import contextlib
        import io

        from ..metrics.coco import STAT_KEYS, coco_evaluated, detections_to_coco
        from ..metrics.item_records import coco_item_records
        from ..tasks.base import Detections

        by = {int(r["eval_id"]): r for r in recs}
        bits = np.array([by[i]["bits"] + by[i]["side_bits"] for i in eval_ids], np.float64)
        pixels = np.array([by[i]["pixels"] for i in eval_ids], np.float64)
        self.bpp = float(bits.sum() / pixels.sum())
        preds: list[dict] = []
        for i in eval_ids:
            preds += detections_to_coco(i, Detections.from_json(by[i]["detections"][name]), cmap, "bbox")
        ev = coco_evaluated(data, preds, "bbox", image_ids=list(eval_ids))
        items = {k: coco_item_records(ev, list(eval_ids), k) for k in AP_KEYS} if w is not None else {}
        with contextlib.redirect_stdout(io.StringIO()):
            ev.accumulate()
            ev.summarize()
        self.ap = dict(zip(STAT_KEYS, (float(x) for x in ev.stats)))
        self.draws: dict[str, np.ndarray] = {}
        if w is not None:
            self.draws["bpp"] = (w @ bits) / (w @ pixels)
            for k, it in items.items():
                self.draws[k] = it.accuracy(w)
        self.e2e = [float(by[i]["e2e_seconds"][name]) for i in eval_ids]
        self.restore = [float(by[i]["restore_seconds"][name]) for i in eval_ids]
        self.extract = [float(by[i].get("extract_seconds", float("nan"))) for i in eval_ids]

    def ci(self, key: str, scale: float = 1.0) -> list[float] | None:
        iv = _interval(self.draws[key]) if key in self.draws else None
        return None if iv is None else [iv[0] * scale, iv[1] * scale]


def _gt_subset(gt, eval_ids: list[int]):
    """The ground truth of the evaluated images only (the same COCO AP; each point's evaluation copies it)
    and the detector's category map."""
    from ..metrics.coco import coco_category_map, load_coco_gt
    from ..tasks.coco_names import COCO_NAMES

    data = load_coco_gt(gt)
    keep = set(eval_ids)
    sub = {**data, "images": [im for im in data["images"] if int(im["id"]) in keep],
           "annotations": [a for a in data.get("annotations", []) if int(a["image_id"]) in keep]}
    return sub, coco_category_map(sub, list(COCO_NAMES))


def _bd(anchor: list[_Point], test: list[_Point], draws: int | None = None):
    """BD-rate (%) of ``test`` against ``anchor`` on (bpp, AP): (value, notes) and, with ``draws``, the
    value on each bootstrap resample (NaN where not computable)."""
    from ..bd import compare
    from ..core.errors import BDError

    def one(a, t):
        return compare(a, t, "pchip-jvet", remedies=("drop-nonmono",))

    try:
        res = one([(p.bpp, p.ap["AP"]) for p in anchor], [(p.bpp, p.ap["AP"]) for p in test])
        value, notes = res.bd_rate_pct, "; ".join(res.warnings + res.notes)
    except BDError as exc:
        value, notes = None, f"not computable: {exc}"
    out = []
    for r in range(draws or 0):
        try:
            out.append(one([(p.draws["bpp"][r], p.draws["AP"][r]) for p in anchor],
                           [(p.draws["bpp"][r], p.draws["AP"][r]) for p in test]).bd_rate_pct)
        except (BDError, ValueError, FloatingPointError):
            out.append(float("nan"))
    return value, notes, (np.array(out, np.float64) if draws else None)


def _published(study, prefix: str) -> str | None:
    for t in (study.data.get("published") or {}).get("tables") or []:
        if str(t.get("name", "")).startswith(prefix):
            return t["name"]
    return None


def _pct(v):
    return None if v is None else 100.0 * v


def summarise(study, records, ctx) -> dict[str, Any]:
    s = study.settings
    gt = gt_path(ctx, study.condition)
    by = group(records)
    eval_ids = sorted({int(r["eval_id"]) for r in records})
    n = len(eval_ids)
    resamples = int(s.get("bootstrap_resamples", RESAMPLES))
    w = resample_weights(n, resamples=resamples) if n >= 2 and resamples > 0 else None
    data, cmap = _gt_subset(gt, eval_ids)
    pts: dict[tuple[str, int], _Point] = {}
    for key in sorted(by, key=lambda k: (k.split("/")[0], int(k.split("qp")[1]))):
        recs = by[key]
        qp = int(key.split("qp")[1])
        for name in recs[0]["detections"]:
            label = "anchor" if key.startswith("anchor") else name
            pts[(label, qp)] = _Point(data, cmap, recs, name, eval_ids, w)
    labels = list(dict.fromkeys(lab for lab, _ in pts))
    specs = {_restorer(sp).signature(): sp for sp in restorations(study, ctx)}
    info = {lab: dict((specs.get(lab) or {}).get("info") or {}) for lab in labels}
    trained = [lab for lab in labels if lab not in ("anchor", "bicubic")]
    prop_qps = [int(q) for q in s["qps"]]
    anchor_qps = [int(q) for q in (s.get("anchor") or {}).get("qps") or []]

    def curve(label, qps):
        return [pts[(label, q)] for q in qps if (label, q) in pts]

    def cell(p: _Point | None, key: str, scale: float = 1.0):
        return (None, None) if p is None else (p.ap[key] * scale, p.ci(key, scale))

    tables = []
    # all points
    rows, ci = [], []
    for (label, qp), p in pts.items():
        rows.append([label, qp, p.bpp, p.ap["AP"], p.ap["APs"], p.ap["APm"], p.ap["APl"]])
        ci.append([None, None, p.ci("bpp"), p.ci("AP"), p.ci("APs"), p.ci("APm"), p.ci("APl")])
    tables.append({"name": "S1 rate and accuracy", "columns": ["curve", "QP", "bpp", "AP", "APs", "APm", "APl"],
                   "rows": rows, "ci": ci, "images": n,
                   "note": "every coded point (the union of the Table 2, 3 and 4 QPs); AP as fractions; bpp = "
                           "(bitstream bits + 64 side bits per image) / original pixels, over the dataset"})
    # BD-rate of every restoration, Table 2 QPs
    bd_rows, bd_ci, bd_of = [], [], {}
    for label in labels:
        if label == "anchor" or not anchor_qps:
            continue
        v, notes, d = _bd(curve("anchor", anchor_qps), curve(label, prop_qps), resamples if w is not None else None)
        bd_of[label] = v
        bd_rows.append([label, v, notes])
        bd_ci.append([None, None if d is None else _interval(d), None])
    tables.append({"name": "S1 BD-rate against the anchor", "columns": ["restoration", "BD-rate (%)", "notes"],
                   "rows": bd_rows, "ci": bd_ci, "images": n,
                   "note": f"pchip-jvet on (bpp, AP); anchor QPs {anchor_qps}, proposal QPs {prop_qps} (Table 2's); "
                           "anchor = the same pipeline without down-scaling (VVenC)"})
    # Table 1: loss x model
    t1_rows, t1_ci = [], []
    for label in trained:
        i = info[label]
        aps = [pts[(label, q)].ap["AP"] for q in prop_qps if (label, q) in pts]
        bd_ci_l = next((c[1] for r, c in zip(bd_rows, bd_ci) if r[0] == label), None)
        t1_rows.append([i.get("model", label), i.get("loss"), i.get("input"), i.get("trained_on"), bd_of.get(label),
                        _pct(float(np.mean(aps))) if aps else None, label])
        t1_ci.append([None, None, None, None, bd_ci_l, None, None])
    tables.append({"name": "S1 Table 1 — loss x model", "columns": ["model", "loss", "input", "trained on",
                                                                     "BD-rate (%)", "mean AP (%)", "restoration"],
                   "rows": t1_rows, "ci": t1_ci, "images": n,
                   "note": "one row per trained restoration (vcmbench study train-restore --loss/--channels; run "
                           "with --restoration DIR); BD-rate against the anchor on the Table 2 QPs, mean AP over the "
                           "proposal QPs. The paper's Table 1 is not in seed-tables.md: no published figures to "
                           "compare." + ("" if trained else " No trained restoration was given: the table is empty.")})
    # Table 2: RD pairs
    multi = [lab for lab in trained if info[lab].get("input") == "multi-channel"]
    single = [lab for lab in trained if info[lab].get("input") == "single-channel"]
    main = (multi or trained or [None])[0]
    pairs = [[int(a), int(b)] for a, b in s.get("table2_pairs") or []]
    t2_rows, t2_ci = [], []
    for aq, oq in pairs:
        pa, pp = pts.get(("anchor", aq)), pts.get(("bicubic", oq))
        pr = pts.get((main, oq)) if main else None
        a_ap, a_ci = cell(pa, "AP")
        r_ap, r_ci = cell(pr, "AP")
        b_ap, b_ci = cell(pp, "AP")
        t2_rows.append([aq, oq, None if pa is None else pa.bpp, a_ap, None if pp is None else pp.bpp, r_ap, b_ap])
        t2_ci.append([None, None, None if pa is None else pa.ci("bpp"), a_ci, None if pp is None else pp.ci("bpp"),
                      r_ci, b_ci])
    t2 = {"name": "S1 Table 2 — RD comparison", "columns": ["anchor QP", "our QP", "anchor bpp", "anchor mAP",
                                                            "proposed bpp", "mAP (restoration)", "mAP (bicubic)"],
          "rows": t2_rows, "ci": t2_ci, "images": n,
          "note": f"mAP as fractions (as the paper's Table 2); restoration = {main or 'none given'} "
                  "(the first multi-channel trained restoration, else the first trained one)"}
    pub = _published(study, "Table 2 — RD")
    if pub and t2_rows:
        order = "mAP (restoration)" if main else "mAP (bicubic)"
        t2["compare"] = {"published": pub, "rows": [[i, i] for i in range(len(t2_rows))],
                         "columns": [["anchor bpp", "anchor bpp"], ["anchor mAP", "anchor mAP"],
                                     ["proposed bpp", "proposed bpp"], ["mAP (restoration)", "mAP (RCAN)"],
                                     ["mAP (bicubic)", "mAP (bicubic)"]],
                         "units": "fraction", "higher_is_better": True, "order_by": order}
    tables.append(t2)
    main_bd = main or "bicubic"
    v2 = bd_of.get(main_bd)
    c2 = next((c[1] for r, c in zip(bd_rows, bd_ci) if r[0] == main_bd), None)
    t2b = {"name": "S1 Table 2 — BD-rate", "columns": ["restoration", "BD-rate (%)"], "rows": [[main_bd, v2]],
           "ci": [[None, c2]], "images": n,
           "note": "BD-rate of the Table 2 restoration (bicubic where none was trained) against the anchor; "
                   "negative: fewer bits at equal mAP"}
    pub = _published(study, "Table 2 — BD-rate")
    if pub:
        t2b["compare"] = {"published": pub, "rows": [[0, 0]], "columns": [["BD-rate (%)", "BD-rate (%)"]],
                          "units": "percent", "higher_is_better": False, "order_by": "BD-rate (%)"}
    tables.append(t2b)
    # Table 3: single vs multi-channel input, same QP for anchor and proposal
    t3_qps = [int(q) for q in s.get("table3_qps") or []]
    if t3_qps:
        sl, ml = (single or [None])[0], (multi or [None])[0]
        t3_rows, t3_ci = [], []
        for q in t3_qps:
            pa, pp = pts.get(("anchor", q)), pts.get(("bicubic", q))
            a_ap, a_ci = cell(pa, "AP", 100.0)
            s_ap, s_ci = cell(pts.get((sl, q)) if sl else None, "AP", 100.0)
            m_ap, m_ci = cell(pts.get((ml, q)) if ml else None, "AP", 100.0)
            t3_rows.append([q, None if pa is None else pa.bpp, a_ap, None if pp is None else pp.bpp, s_ap, m_ap])
            t3_ci.append([None, None if pa is None else pa.ci("bpp"), a_ci, None if pp is None else pp.ci("bpp"),
                          s_ci, m_ci])
        missing = [w_ for w_, lab in (("single-channel", sl), ("multi-channel", ml)) if lab is None]
        t3 = {"name": "S1 Table 3 — single- vs multi-channel input", "rows": t3_rows, "ci": t3_ci, "images": n,
              "columns": ["QP", "anchor bpp", "anchor mAP", "bpp", "mAP single", "mAP multi"],
              "note": f"mAP in percent (as the paper's Table 3); single = {sl or 'none given'}, multi = "
                      f"{ml or 'none given'}" + (f". No {' or '.join(missing)} restoration was given: train one with "
                                                 "`vcmbench study train-restore --channels "
                                                 f"{'single' if sl is None else 'multi'}` and pass --restoration DIR"
                                                 if missing else "")}
        pub = _published(study, "Table 3 — single")
        if pub:
            t3["compare"] = {"published": pub, "rows": [[i, i] for i in range(len(t3_rows))],
                             "columns": [[c, c] for c in t3["columns"][1:]], "units": "percent",
                             "higher_is_better": True, "order_by": "mAP multi" if ml else "anchor mAP"}
        tables.append(t3)
        b_a = b_s = None
        ci_a = ci_s = None
        if ml:
            b_a, _, d = _bd(curve("anchor", t3_qps), curve(ml, t3_qps), resamples if w is not None else None)
            ci_a = None if d is None else _interval(d)
            if sl:
                b_s, _, d = _bd(curve(sl, t3_qps), curve(ml, t3_qps), resamples if w is not None else None)
                ci_s = None if d is None else _interval(d)
        t3b = {"name": "S1 Table 3 — BD-rate of the multi-channel input",
               "columns": ["BD-rate against the anchor (%)", "BD-rate against single-channel (%)"],
               "rows": [[b_a, b_s]], "ci": [[ci_a, ci_s]], "images": n,
               "note": f"pchip-jvet on (bpp, AP) over the Table 3 QPs {t3_qps}"}
        pub = _published(study, "Table 3 — BD-rate")
        if pub:
            t3b["compare"] = {"published": pub, "rows": [[0, 0]], "columns": [[c, c] for c in t3b["columns"]],
                              "units": "percent", "higher_is_better": False,
                              "order_by": "BD-rate against the anchor (%)"}
        tables.append(t3b)
    # Table 4: QP 27
    if s.get("table4_qp") is not None:
        q = int(s["table4_qp"])
        t4_rows, t4_ci = [], []
        for label in labels:
            p = pts.get((label, q))
            if p is None:
                continue
            t4_rows.append([label, q, p.bpp, *(100.0 * p.ap[k] for k in AP_KEYS)])
            t4_ci.append([None, None, p.ci("bpp"), *(p.ci(k, 100.0) for k in AP_KEYS)])
        tables.append({"name": f"S1 Table 4 — QP {q}", "columns": ["curve", "QP", "bpp", "AP (%)", "APs (%)",
                                                                   "APm (%)", "APl (%)"],
                       "rows": t4_rows, "ci": t4_ci, "images": n,
                       "note": f"every curve at QP {q} (anchor: without down-scaling). The paper's Table 4 is not in "
                               "seed-tables.md: no published figures to compare."})
    tables.append({"name": "S1 complexity", "columns": ["restoration", "params front (M)", "params back (M)",
                                                        "network GMACs / image", "restoration params (M)",
                                                        "restoration GMACs / image", "restoration time / image (s)",
                                                        "feature extraction / image (s)",
                                                        "end-to-end time / image (s)"],
                   "rows": _complexity(study, ctx, pts, labels), "images": n,
                   "note": "times are means over every job of the curve; end-to-end = image read + feature extraction "
                           "+ down-scaling, coding, decoding + restoration + task head, the extraction counted in every "
                           "job (and shown alone in its column)"})
    plots = [{"name": "S1 AP against bpp", "kind": "lines", "x_label": "bpp", "y_label": "AP",
              "series": [{"label": lab, "points": sorted((p.bpp, p.ap["AP"]) for (l2, _), p in pts.items() if l2 == lab)}
                         for lab in labels]}]
    return {"tables": tables, "plots": plots, "bootstrap_resamples": resamples if w is not None else 0}


def _complexity(study, ctx, pts, labels) -> list[list[Any]]:
    from ..run.jobs import get_cached_task

    # the task as the jobs ran it: the study's options and the command line's (--task-weights)
    opts = tuple(sorted({**dict(study.task_options()), **(ctx.get("task_options") or {})}.items()))
    task = get_cached_task(str(study.task.get("network")), opts)
    cx = task.complexity() if hasattr(task, "complexity") else {}
    front, back = cx.get("front") or {}, cx.get("back") or {}
    net_params = [front.get("params"), back.get("params")]
    net_gmacs = (front.get("macs", 0) + back.get("macs", 0)) / 1e9 if front and back else None
    rows = []
    for label in labels:
        mine = [p for (lab, _), p in pts.items() if lab == label]
        params = g = None
        if label not in ("anchor", "bicubic"):
            spec = next((s for s in restorations(study, ctx) if _restorer(s).signature() == label), None)
            if spec is not None:
                rst = _restorer(spec)
                params = rst.params() / 1e6
                g = _gmacs_per_image(study, rst)
        rest_s = None if label == "anchor" else float(np.mean([x for p in mine for x in p.restore]))
        rows.append([label, *(None if p is None else p / 1e6 for p in net_params), net_gmacs, params, g,
                     rest_s, _finite_mean([x for p in mine for x in p.extract]),
                     float(np.mean([x for p in mine for x in p.e2e]))])
    return rows


def _finite_mean(values) -> float | None:
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else None


def _gmacs_per_image(study, rst) -> float | None:
    ms = study.settings.get("map_shapes") or {}
    if not ms or rst.net is None:
        return None
    total = 0.0
    for k, (c, h, w) in ms.items():
        s = int(study.settings["factors"].get(k, 1))
        if s != 1:
            hw = (-(-int(h) // s), -(-int(w) // s))
            if getattr(rst.net, "multi_channel", False):
                total += gmacs(rst.net, (1, int(c), *hw), layer=k)
            else:
                total += gmacs(rst.net, (int(c), 1, *hw))
    return total


__all__ = ["plan", "job", "summarise", "AP_KEYS"]
