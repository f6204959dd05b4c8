"""Build a ``records.ResultSet`` from a run directory's store; Pareto and per-scale selections.

``build_result_set(run_dir)`` scores every (scale, QP) point of the run's plan (``run.json``) from
the stored job records and predictions (see ``vcmbench.pipeline`` for the scoring rules) and
writes ``RUNDIR/resultset.json``.  It needs the ground truth: the annotation files in the run's
data directory, or the stored reference jobs (reference-output mode).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from .errors import ConditionError, DataError, EvaluationError
from .records import RatePoint, ResultSet
from .signature import Signature
from .store import RunStore
from .jsonio import read_json

RESULTSET_FILE = "resultset.json"
PARETO_FILE = "resultset-pareto.json"


class Scorer:
    """Accuracy of a set of images' predictions under the condition's metric and ground truth."""

    def __init__(self, cond: dict[str, Any], run: dict[str, Any], refs: list[Any], reference_preds: dict[str, dict]) -> None:
        from .datasets import ImageRef

        self.cond = cond
        self.metric = cond["metric"]
        self.iou_type = self.metric.get("iou_type", "bbox")
        self.refs = {r["image_id"]: ImageRef(**r) for r in refs}
        self.gt_mode = (cond.get("ground_truth") or {}).get("mode", "annotations")
        self.notes: list[str] = []
        name = self.metric["name"]
        if self.gt_mode == "reference-output":
            from .tasks.reference import NOTE, reference_ground_truth

            thr = float(cond["ground_truth"].get("score_threshold", 0.5))
            missing = [i for i in self.refs if i not in reference_preds]
            if missing:
                raise EvaluationError(f"reference-output ground truth is missing for images {missing[:5]}: the reference "
                                      "jobs did not finish; re-run `vcmbench run` to complete them.")
            self.gt = reference_ground_truth(list(self.refs.values()), reference_preds, thr)
            self.notes.append(NOTE.format(thr=thr))
            self.kind = "coco"
        elif name == "coco-ap":
            from .metrics.coco import load_coco_gt

            ref = coco_json_ref_dict(cond)
            self.gt = load_coco_gt(Path(_data_dir(run)) / ref["file"])
            self.kind = "coco"
        elif name == "oid-challenge":
            self._load_oid(run)
            self.kind = "oid"
        else:
            raise ConditionError(f"metric {name!r} is not scored by the pipeline.")
        if self.kind == "coco":
            from .metrics.coco import coco_category_map
            from .tasks.coco_names import COCO_NAMES

            names = {c["name"] for c in self.gt["categories"]}
            self.cat_map = coco_category_map(self.gt, [n for n in COCO_NAMES if n in names or n.replace(" ", "_") in names])

    def _load_oid(self, run: dict[str, Any]) -> None:
        from .metrics.openimages import load_oid_ground_truth

        ds = self.cond["dataset"]
        d = Path(_data_dir(run))
        ann = ds.get("annotations") or {}
        by_fmt = {ref["format"]: d / ref["file"] for ref in ann.values()}
        classes = d / ds["classes"]["file"] if ds.get("classes") else None
        seg = self.iou_type == "segm"
        self.gt = load_oid_ground_truth(by_fmt.get("oid-boxes-csv"), by_fmt["oid-labels-csv"], classes,
                                        masks_csv=by_fmt.get("oid-masks-csv") if seg else None)
        self.classes = set(self.gt.classes)

    def score(self, preds: dict[str, dict]) -> tuple[dict[str, float], dict[str, Any]]:
        """(accuracy dict, extra) over the images in ``preds`` (image_id -> Detections JSON)."""
        refs = [self.refs[i] for i in preds]
        if self.kind == "coco":
            from .datasets import detections_to_coco
            from .metrics.coco import coco_evaluate

            rows = []
            for r in refs:
                rows += detections_to_coco(preds[r.image_id], r.eval_id, self.cat_map, self.iou_type)
            stats = coco_evaluate(self.gt, rows, self.iou_type, image_ids=[r.eval_id for r in refs])
            keys = list(dict.fromkeys([self.metric["quality_key"], *(self.metric.get("report") or [])]))
            acc = {k: stats[k] for k in keys if stats[k] >= 0}
            undefined = [k for k in keys if stats[k] < 0]
            if self.metric["quality_key"] in undefined:
                raise EvaluationError(f"{self.metric['quality_key']} is undefined (pycocotools -1): the ground truth "
                                      "of these images has no object to score.")
            return acc, ({"undefined": undefined} if undefined else {})
        from .datasets import detections_to_oid
        from .metrics.openimages import oid_evaluate

        rows = []
        for r in refs:
            rows += detections_to_oid(preds[r.image_id], r, self.classes, self.iou_type == "segm")
        gt = self.gt if len(refs) == len(self.refs) and set(self.refs) >= set(self.gt.image_ids) else _oid_subset(self.gt, [r.image_id for r in refs])
        res = oid_evaluate(gt, rows, segmentation=self.iou_type == "segm",
                           iou_threshold=float(self.metric.get("iou") or 0.5),
                           group_of_weight=self.metric.get("group_of_weight"))
        return {self.metric["quality_key"]: float(res.map)}, {"classes_evaluated": len(res.per_class)}

    def metric_name(self) -> str:
        if self.kind == "coco":
            from .metrics.coco import metric_name

            base = metric_name(self.iou_type)
            return base + (" vs reference-output pseudo ground truth" if self.gt_mode == "reference-output" else "")
        from .metrics.openimages import metric_name

        return metric_name(self.iou_type == "segm", float(self.metric.get("iou") or 0.5))


def coco_json_ref_dict(cond: dict[str, Any]) -> dict[str, Any]:
    for ref in ((cond.get("dataset") or {}).get("annotations") or {}).values():
        if ref.get("format") == "coco-json":
            return ref
    raise ConditionError("coco-ap with annotations needs a coco-json annotation file in dataset.annotations.")


def _data_dir(run: dict[str, Any]) -> str:
    d = run.get("data_dir")
    if not d or not Path(d).is_dir():
        raise DataError(f"The run's data directory {d!r} is not available; the ground truth is read from there.")
    return d


def _oid_subset(gt: Any, image_ids: list[str]) -> Any:
    """The OID ground truth restricted to some images (for --limit runs and unverified jobs)."""
    import numpy as np

    keep = sorted(set(image_ids) & set(gt.image_ids))
    old_index = {name: i for i, name in enumerate(gt.image_ids)}
    remap = np.full(len(gt.image_ids), -1, np.int64)
    for new, name in enumerate(keep):
        remap[old_index[name]] = new
    b = remap[gt.box_image] >= 0
    lab = remap[gt.label_image] >= 0
    sub = copy.copy(gt)
    sub.image_ids = keep
    sub.box_image, sub.box_class, sub.boxes, sub.group_of = remap[gt.box_image][b], gt.box_class[b], gt.boxes[b], gt.group_of[b]
    sub.label_image, sub.label_class, sub.label_confidence = remap[gt.label_image][lab], gt.label_class[lab], gt.label_confidence[lab]
    if gt.masks is not None:
        sub.masks = [m for m, k in zip(gt.masks, b) if k]
        sub.mask_size = {int(remap[i]): s for i, s in gt.mask_size.items() if remap[i] >= 0}
    return sub


def _fmt_list(values: list[Any], pct: bool = False) -> str:
    return ",".join(f"{round(v * 100):d}" if pct else str(v) for v in values)


def build_result_set(run_dir: str | Path, store: RunStore | None = None, write: bool = True) -> ResultSet:
    """Score the run's plan from its store (see the module docstring)."""
    from .metrics.rate import dataset_bpp

    run_dir = Path(run_dir)
    own = store is None
    st = store or RunStore(run_dir, create=False)
    try:
        run = read_json(run_dir / "run.json")
        cond = read_json(run_dir / "condition.json")
        refs = run["images"]
        rows = {jid: (rec, pred) for jid, rec, pred in st.rows()}
        ref_preds = {j["image_id"]: rows[j["job_id"]][1] for j in run["jobs"] if j["kind"] == "reference" and j["job_id"] in rows}
        scorer = Scorer(cond, run, refs, ref_preds)
        notes = list(scorer.notes)
        points: list[RatePoint] = []
        for scale in run["scales"]:
            for qp in run["qps"]:
                jobs = [j for j in run["jobs"] if j["kind"] == "code" and j["scale"] == scale and j["qp"] == qp]
                missing = [j["image_id"] for j in jobs if j["job_id"] not in rows]
                if missing:
                    notes.append(f"scale {scale:g} QP {qp}: left out — {len(missing)} job(s) did not finish "
                                 f"(e.g. image {missing[0]}; see errors.json); re-run to complete it")
                    continue
                recs = [rows[j["job_id"]][0] for j in jobs]
                ok = [r for r in recs if r["verified"]]
                bad = [r for r in recs if not r["verified"]]
                if not ok:
                    notes.append(f"scale {scale:g} QP {qp}: left out — no bitstream verified "
                                 f"({bad[0]['verdict']})")
                    continue
                preds = {r["image_id"]: rows[r["job_id"]][1] for r in ok}
                acc, extra = scorer.score(preds)
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
                                      "decoders": run.get("decoders"), "results_version": run.get("results_version")}
        if len(ref_preds) == len(refs) and scorer.gt_mode != "reference-output":
            acc, _ = scorer.score(ref_preds)
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
        if own:
            st.close()


def _signature(cond: dict[str, Any], run: dict[str, Any]) -> Signature:
    from .conditions import Condition

    c = Condition(data={k: v for k, v in cond.items() if k not in ("_overrides", "_content_hash")},
                  content_hash=cond.get("_content_hash", ""))
    sig = c.signature().with_part("codec", run["codec_signature"].replace(":", "~").replace("|", "~").replace(" ", ""))
    sig = sig.with_part("task", run["task_signature"].replace(":", "~").replace("/", "~"))
    sig = sig.with_part("qp", _fmt_list(run["qps"])).with_part("scale", _fmt_list(run["scales"], pct=True))
    return sig.with_part("bd", cond["bd"]["method"]).with_version()


# ------------------------------------------------------------------------------------------------------
def pareto_front(rs: ResultSet) -> ResultSet:
    """The points not dominated in (lower bpp, higher quality) across all scales, by ascending bpp.

    A point is dropped when another has bpp <= and quality >= with one strictly better.  Recorded
    in the signature (``selection:pareto``), the label (``+pareto``) and a note.
    """
    key = rs.quality_key
    pts = [p for p in rs.points if p.failed == 0]
    for p in pts:
        if key not in p.accuracy:
            raise EvaluationError(f"Point scale {p.scale} QP {p.qp} has no {key!r}; cannot select a Pareto front.")
    front = []
    for p in pts:
        dominated = any((q.bpp <= p.bpp and q.accuracy[key] >= p.accuracy[key])
                        and (q.bpp < p.bpp or q.accuracy[key] > p.accuracy[key]) for q in pts)
        if not dominated:
            front.append(p)
    front.sort(key=lambda p: (p.bpp, -p.accuracy[key]))
    out = copy.deepcopy(rs)
    out.points = copy.deepcopy(front)
    out.label = rs.label + "+pareto"
    out.signature = str(Signature.parse(rs.signature).with_part("selection", "pareto"))
    kept = ", ".join(f"{p.scale:g}/QP{p.qp}" for p in front)
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
