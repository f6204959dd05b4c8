"""Build a ``records.ResultSet`` from a run directory's store (scored by ``run.scoring``); Pareto and
per-scale selections.

``build_result_set(run_dir)`` scores every (scale, QP) point of the run's plan (``run.json``) from
the stored job records and predictions (see ``vcmbench.run.pipeline`` for the scoring rules) and
writes ``RUNDIR/resultset.json``.  It needs the ground truth: the annotation files in the run's
data directory, or the stored reference jobs (reference-output mode).  Cityscapes points keep their
result layout and scores in ``RUNDIR/cityscapes-results/<point>/`` (``run.cityscapes_scoring``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..core.errors import EvaluationError
from ..core.jsonio import read_json
from ..core.records import RatePoint, ResultSet
from ..core.signature import Signature
from .cityscapes_scoring import RESULTS_DIR, point_name
from .scoring import Scorer
from .store import RunStore

RESULTSET_FILE = "resultset.json"
PARETO_FILE = "resultset-pareto.json"


def _fmt_list(values: list[Any], pct: bool = False) -> str:
    return ",".join(f"{round(v * 100):d}" if pct else str(v) for v in values)


def build_result_set(run_dir: str | Path, store: RunStore | None = None, write: bool = True) -> ResultSet:
    """Score the run's plan from its store (see the module docstring)."""
    from ..metrics.rate import dataset_bpp

    run_dir = Path(run_dir)
    own = store is None
    st = store or RunStore(run_dir, create=False)
    point_scorer: PointScorer | None = None
    try:
        run = read_json(run_dir / "run.json")
        cond = read_json(run_dir / "condition.json")
        refs = run["images"]
        # one rate point at a time: its records and predictions are looked up by job id (memory flat in the
        # number of points, time linear in the number of jobs)
        by_point: dict[tuple[Any, Any], list[tuple[str, str]]] = {}  # (job id, image id) per point
        ref_image: dict[str, str] = {}
        for j in run.pop("jobs"):  # (the plan's job objects are let go as they are grouped: 125,000 of them at CTC scale)
            if j["kind"] == "reference":
                ref_image[j["job_id"]] = j["image_id"]
            elif j["kind"] == "code":
                by_point.setdefault((j["scale"], j["qp"]), []).append((j["job_id"], j["image_id"]))
        got_refs = {jid: pred for jid, _, pred in st.records(ref_image, predictions=True)}
        ref_preds = {ref_image[jid]: got_refs[jid] for jid in ref_image if jid in got_refs}  # in plan order
        del got_refs
        scorer = Scorer(cond, run, refs, ref_preds, results_dir=run_dir / RESULTS_DIR)
        point_scorer = PointScorer(scorer, (cond, {k: v for k, v in run.items() if k != "jobs"}, refs, ref_preds,
                                            run_dir / RESULTS_DIR))
        notes = list(scorer.notes)
        points: list[RatePoint] = []
        for scale in run["scales"]:
            for qp in run["qps"]:
                jobs = by_point.get((scale, qp), [])
                rows = {jid: (rec, pred) for jid, rec, pred in st.records((jid for jid, _ in jobs), predictions=True)}
                missing = [image for jid, image in jobs if jid not in rows]
                if missing:
                    notes.append(f"scale {scale:g} QP {qp}: left out — {len(missing)} job(s) did not finish "
                                 f"(e.g. image {missing[0]}; see errors.json); re-run to complete it")
                    continue
                unscored = [image for jid, image in jobs if (rows[jid][0].get("extra") or {}).get("awaiting_score")]
                if unscored:  # split phases: encoded and verified, task network not run yet
                    notes.append(f"scale {scale:g} QP {qp}: left out — {len(unscored)} picture(s) await "
                                 "`vcmbench run --phase score`")
                    continue
                recs = [rows[jid][0] for jid, _ in jobs]
                ok = [r for r in recs if r["verified"]]
                bad = [r for r in recs if not r["verified"]]
                if not ok:
                    notes.append(f"scale {scale:g} QP {qp}: left out — no bitstream verified "
                                 f"({bad[0]['verdict']})")
                    continue
                preds = {r["image_id"]: rows[r["job_id"]][1] for r in ok}
                acc, extra = point_scorer.score(preds, point_name(scale, qp))
                qual, layer_q, qnote = aggregate_quality(ok, (cond["metric"].get("yuv_weights") or "6:1:1"))
                acc.update(qual)
                if layer_q:
                    extra["feature_layers"] = layer_q
                if qnote:
                    notes.append(f"scale {scale:g} QP {qp}: {qnote}")
                if bad:
                    extra["not_verified"] = {r["image_id"]: r["verdict"] for r in bad}
                    notes.append(f"scale {scale:g} QP {qp}: {len(bad)} of {len(recs)} bitstream(s) failed verification; "
                                 "they are excluded from bpp and accuracy — do not publish this point")
                bits = [r["bits"] + r.get("side_info_bits", 0) for r in ok]
                pixels = [r["width"] * r["height"] for r in ok]
                points.append(RatePoint(
                    scale=float(scale), qp=int(qp), bits=int(sum(bits)), pixels=int(sum(pixels)),
                    bpp=dataset_bpp(bits, pixels), accuracy=acc, images=len(ok),
                    encode_seconds=sum(r["encode_seconds"] for r in ok), decode_seconds=sum(r["decode_seconds"] for r in ok),
                    task_seconds=sum(r["task_seconds"] for r in ok), failed=len(bad), extra=extra))
        if not points:
            raise EvaluationError(f"No rate point of {run_dir} could be scored: " + "; ".join(notes[-3:]))
        sig = _signature(cond, run)
        provenance: dict[str, Any] = {"run_dir": str(run_dir.resolve()), "command_line": run.get("command_line"),
                                      "overrides": run.get("overrides"), "data_dir": run.get("data_dir"),
                                      "limit": run.get("limit"), "codec_options": run.get("codec_options"),
                                      "decoders": run.get("decoders"), "decoder_policy": run.get("decoder_policy"),
                                      "results_version": run.get("results_version")}
        provenance["kind"] = cond.get("kind") or "image"  # image or feature coding (report: say what is compared)
        if cond["bd"].get("twin"):  # the condition on the same images that BD may pair it with (report.model.twins)
            provenance["twin"] = cond["bd"]["twin"]
        if run.get("complexity"):
            provenance["complexity"] = _complexity(run["complexity"], refs)
        if len(ref_preds) == len(refs) and scorer.gt_mode != "reference-output":
            acc, _ = point_scorer.score(ref_preds, "uncompressed")
            provenance["uncompressed_accuracy"] = acc
        env_p = run_dir / "env.json"
        if env_p.exists():
            provenance["env"] = read_json(env_p)
        rs = ResultSet(condition=f"{cond['name']}@{cond['version']}", codec=run["codec_signature"], label=run["label"],
                       quality_key=cond["metric"]["quality_key"], points=points, signature=str(sig),
                       metric=scorer.metric_name(), dataset=cond["dataset"]["name"], provenance=provenance, notes=notes)
        if write:
            rs.save(run_dir / RESULTSET_FILE)
        return rs
    finally:
        if point_scorer is not None:
            point_scorer.close()
        if own:
            st.close()


SCORE_APART_FROM = 500  # images per rate point from which a point is scored in a helper process


class PointScorer:
    """Scores rate points with ``scorer`` in this process, or, from ``SCORE_APART_FROM`` images per point, in one
    ``spawn``ed helper process holding its own ``Scorer(*args)`` (the same code and inputs: the same numbers).
    One pycocotools evaluation of a CTC point (5,000 images) holds about half a gigabyte until it ends; in a
    helper that memory goes back to the system, so the ``vcmbench`` process stays flat as runs grow."""

    def __init__(self, scorer: Scorer, args: tuple) -> None:
        self.scorer, self.args, self.pool = scorer, args, None

    def score(self, preds: dict[str, dict], point: str | None = None) -> tuple[dict[str, float], dict[str, Any]]:
        if len(preds) < SCORE_APART_FROM:
            return self.scorer.score(preds, point)
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init_scorer, initargs=self.args)
        try:
            return self.pool.submit(_score_point, preds, point).result()
        except BrokenProcessPool:
            raise EvaluationError(f"The helper process scoring rate point {point} died (out of memory?); free memory "
                                  "and rebuild the result set with `vcmbench results RUNDIR --rebuild`.") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


_HELPER_SCORER: list[Scorer] = []


def _init_scorer(*args: Any) -> None:
    _HELPER_SCORER[:] = [Scorer(*args[:4], results_dir=args[4])]


def _score_point(preds: dict[str, dict], point: str | None) -> tuple[dict[str, float], dict[str, Any]]:
    return _HELPER_SCORER[0].score(preds, point)


QUALITY_KEYS = ("psnr_rgb", "psnr_y", "psnr_u", "psnr_v", "ms_ssim", "feature_psnr", "feature_mse")


def aggregate_quality(recs: list[dict[str, Any]], yuv_weights: Any) -> tuple[dict[str, float], dict[str, Any], str]:
    """Per-point quality: the mean over the point's verified jobs of each per-image figure (PSNR in dB,
    MS-SSIM, feature MSE), ``psnr_yuv`` = the weighted YUV PSNR of each image (``metric.yuv_weights``,
    default JVET 6:1:1) averaged; per-layer feature figures likewise.  A figure some image lacks (e.g.
    PSNR of identical pictures, MS-SSIM of a picture under 176 samples) is left out, with a note."""
    from ..metrics.quality import weighted_yuv

    quals = [(r.get("extra") or {}).get("quality") or {} for r in recs]
    if not any(quals):
        return {}, {}, ""
    out: dict[str, float] = {}
    lacking: list[str] = []
    per_image = {k: [q.get(k) for q in quals] for k in QUALITY_KEYS if any(k in q for q in quals)}
    if "psnr_y" in per_image:
        per_image["psnr_yuv"] = [weighted_yuv(q, yuv_weights) for q in quals]
    for k, vals in per_image.items():
        if all(v is not None for v in vals):
            out[k] = float(sum(vals) / len(vals))
        else:
            lacking.append(k)
    layers: dict[str, Any] = {}
    names = [n for q in quals for n in (q.get("layers") or {})]
    for name in dict.fromkeys(names):
        rows = [(q.get("layers") or {}).get(name) or {} for q in quals]
        layers[name] = {m: (float(sum(r[m] for r in rows) / len(rows)) if all(r.get(m) is not None for r in rows) else None)
                        for m in ("mse", "psnr")}
    note = (f"quality {', '.join(lacking)} not averaged: undefined for some image (identical pictures, or MS-SSIM of a "
            "picture under 176 samples a side)") if lacking else ""
    return out, layers, note


def _complexity(cx: dict[str, Any], refs: list[dict[str, Any]]) -> dict[str, Any]:
    """The network's complexity as the run recorded it, plus kMAC per original image pixel over the run."""
    out = dict(cx)
    pixels = sum(int(r["width"]) * int(r["height"]) for r in refs)
    if pixels:
        out["kmac_per_original_pixel"] = {
            part: (cx[part]["macs"] * len(refs) / pixels / 1000.0 if (cx.get(part) or {}).get("macs") is not None
                   else None) for part in ("front", "back")}
    return out


def _signature(cond: dict[str, Any], run: dict[str, Any]) -> Signature:
    from ..conditions import Condition

    c = Condition(data={k: v for k, v in cond.items() if k not in ("_overrides", "_content_hash")},
                  content_hash=cond.get("_content_hash", ""))
    sig = c.signature().with_part("codec", run["codec_signature"].replace(":", "~").replace("|", "~").replace(" ", ""))
    sig = sig.with_part("task", run["task_signature"].replace(":", "~").replace("/", "~"))
    if run.get("color_signature"):  # the colour mode with the converter's identity (coding.color)
        sig = sig.with_part("color", run["color_signature"])
    sig = sig.with_part("qp", _fmt_list(run["qps"])).with_part("scale", _fmt_list(run["scales"], pct=True))
    return sig.with_part("bd", cond["bd"]["method"]).with_version()


# ------------------------------------------------------------------------------------------------------
PARETO_RULE = ("the points not dominated in (lower bpp, higher accuracy) among all scale x QP points, "
               "ascending bpp (points with a failed bitstream left out)")


def is_pareto_selection(rs: ResultSet) -> bool:
    """True for a result set written by ``pareto_front`` (signature part ``selection:pareto``): its points
    mix scales and form one curve."""
    try:
        return Signature.parse(rs.signature).get("selection") == "pareto" if rs.signature else False
    except Exception:  # a malformed signature is reported where it is parsed for BD
        return False


def pareto_points(points: list[RatePoint], key: str, rate: str = "bpp") -> list[RatePoint]:
    """The one Pareto selection of vcmbench (``results --pareto``, the ``bdrate``/``report`` summary figure):
    the points not dominated in (lower ``rate``, higher ``accuracy[key]``), by ascending rate.  A point is
    dropped when another has rate <= and quality >= with one strictly better; points with a failed bitstream
    (``failed > 0``) are left out."""
    pts = [p for p in points if p.failed == 0]
    for p in pts:
        if key not in p.accuracy:
            raise EvaluationError(f"Point scale {p.scale * 100:g} % QP {p.qp} has no {key!r}; cannot select a Pareto "
                                  "front. Choose a quality key every point has.")

    return [pts[i] for i in pareto_indices([(float(getattr(p, rate)), p.accuracy[key]) for p in pts])]


def pareto_indices(pairs: list[tuple[float, float]]) -> list[int]:
    """Indices of the (rate, quality) pairs no other pair dominates (rate <= and quality >= with one strictly
    better), ordered by ascending rate then descending quality."""
    front = [i for i, (r, q) in enumerate(pairs)
             if not any(r2 <= r and q2 >= q and (r2 < r or q2 > q) for r2, q2 in pairs)]
    return sorted(front, key=lambda i: (pairs[i][0], -pairs[i][1]))


def pareto_front(rs: ResultSet, quality_key: str | None = None) -> ResultSet:
    """The Pareto front (``pareto_points``) across all scales as a result set.

    Recorded in the signature (``selection:pareto``), the label (``+pareto``) and a note naming the
    kept points by scale and QP.  ``quality_key`` defaults to the set's own.
    """
    key = quality_key or rs.quality_key
    front = pareto_points(rs.points, key)
    out = copy.deepcopy(rs)
    out.points = copy.deepcopy(front)
    out.quality_key = key
    out.label = rs.label + "+pareto"
    out.signature = str(Signature.parse(rs.signature).with_part("selection", "pareto"))
    kept = ", ".join(f"{p.scale * 100:g} %/QP{p.qp}" for p in front)
    out.notes = list(rs.notes) + [f"selection: Pareto front over (bpp, {key}) across scales "
                                  f"({len(front)} of {len(rs.points)} points kept: {kept})"]
    return out


def split_by_scale(rs: ResultSet) -> dict[float, ResultSet]:
    """One result set per scale (label ``<label>-<pct>%``, signature ``scale:<pct>``)."""
    out: dict[float, ResultSet] = {}
    for scale in sorted({p.scale for p in rs.points}, reverse=True):
        sub = copy.deepcopy(rs)
        sub.points = [copy.deepcopy(p) for p in rs.points if p.scale == scale]
        sub.label = f"{rs.label}-{round(scale * 100)}%"
        sub.signature = str(Signature.parse(rs.signature).with_part("scale", str(round(scale * 100))))
        out[scale] = sub
    return out
