"""Results of a video run: per sequence and QP, per class and rate point, Overall (issue 22).

``build_video_results(run_dir)`` reads a video run (``run.json`` with ``"video": true``, the store rows
of the run storage contract: one ``code`` row per sequence x QP, one ``reference`` row per sequence,
predictions ``{"frames": [Detections JSON per evaluated frame]}``) and computes, with the named steps of
``metrics.video`` (never re-implemented here):

* **per sequence and QP** — kbps = bits x fps / (1000 x frames), bpp = bits / (frames x W x H), COCO
  AP@[.5:.95] and AP50 by ONE pycocotools evaluation over the sequence's evaluated frames
  (``metrics.video.sequence_result``).  Ground truth: ``annotations`` mode: the sequence's COCO JSON,
  frame k <-> ``eval_ids[k]`` (restricted to the evaluated frames); ``reference-output`` mode: the
  sequence's reference row, frames' detections with score >= ``ground_truth.score_threshold``, built by
  ``tasks.reference.reference_ground_truth`` exactly as the image path's ``Scorer`` builds it;
* **per class and rate point** (``run.json`` ``classes``; point *i* = the *i*-th lowest QP of every
  sequence of the class, ``metrics.video.class_points``) — the duration-weighted class kbps and the class
  bpp (``class_rate``) and ONE pooled evaluation over all frames of the class (``pool_class`` /
  ``class_accuracy``); the class row's ``qp`` is the rank of the point, as in the reference's CSV;
* **Overall** at rank *i* — the mean over the classes (``metrics.video.overall``) of AP and AP50, given
  only where every class has its point; the BD-rate Overall (mean of the class BD-rates) is
  ``vcmbench bdrate``'s.

A sequence job that is missing or whose bitstream did not verify gives no number: its sequence row is
marked, and every class point that needs it is left out with a note naming the sequence and QP.

Written atomically into the run directory: ``video-results.json`` (every row), ``final_<DATASET>.csv``
(the reference's ``final_SFU.csv`` layout, ``metrics.video.write_final_csv``; ``DATASET`` = SFU, TVD or
HIEVE as CompressAI-Vision's ``gen_mpeg_cttc_csv.py`` names them) and ``resultset.json`` (a
``records.ResultSet`` whose points carry ``extra = {"level": "sequence" | "class", "group": name,
"kbps": ...}``, ``provenance["video"] = true``).

Category ids: a ground truth whose categories are exactly ids 0..79 (the SFU-HW-Objects-v1 files: COCO's
80 classes in their contiguous order, under names that are not COCO's — ``Football`` for sports ball,
``Coffee cup`` for cup, ``Man`` for bench) is matched by the detector class's contiguous COCO index, as
CompressAI-Vision writes detectron2's ``pred_classes`` as ``category_id``; any other ground truth by name
(``metrics.coco.coco_category_map``), as the image path does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..core.errors import ConditionError, DataError, EvaluationError
from ..core.jsonio import read_json
from ..metrics import video as V
from .store import RunStore
from .video_common import (  # noqa: F401  (re-exported: the names callers import from here)
    OVERALL_RULE,
    RESULTSET_FILE,
    TIME_KEYS,
    VIDEO_RESULTS_FILE,
    VideoResults,
    _eval_ids,
    _finish,
    _frames_of,
    _layout,
    _overall_rows,
    coded_bits,
    csv_class_name,
    dataset_tag,
)

CATEGORY_RULE_INDEX = ("category ids: the ground truth numbers COCO's 80 classes 0..79 in their contiguous order (the "
                       "SFU-HW-Objects-v1 files, whose names are not COCO's); detections matched by their class's "
                       "contiguous COCO index, as CompressAI-Vision writes detectron2's pred_classes")


def is_video_run(run_dir: str | Path) -> bool:
    """True when ``RUNDIR/run.json`` records a video run (``"video": true``)."""
    p = Path(run_dir) / "run.json"
    if not p.is_file():
        return False
    run = read_json(p)
    return bool(isinstance(run, dict) and run.get("video"))


# ---- ground truth and predictions of one sequence ------------------------------------------------------
class _Frame:
    """What ``tasks.reference.reference_ground_truth`` needs of a picture: one evaluated frame."""

    def __init__(self, k: int, eval_id: int, width: int, height: int) -> None:
        self.image_id, self.eval_id, self.width, self.height = str(k), int(eval_id), int(width), int(height)


class _Truth:
    """The ground truth of every sequence of a run (loaded once) and the category map of each."""

    def __init__(self, cond: dict[str, Any], refs: Mapping[str, dict[str, Any]], ref_preds: Mapping[str, Any]) -> None:
        self.gt_mode = (cond.get("ground_truth") or {}).get("mode", "annotations")
        self.refs = refs
        self.ref_preds = ref_preds
        self.threshold = float((cond.get("ground_truth") or {}).get("score_threshold", 0.5))
        self.notes: list[str] = []
        self._gt: dict[str, dict[str, Any]] = {}
        self._maps: dict[str, tuple[dict[str, int], bool]] = {}
        if self.gt_mode == "reference-output":
            from ..tasks.reference import NOTE

            self.notes.append(NOTE.format(thr=self.threshold))

    def gt(self, name: str) -> dict[str, Any]:
        if name not in self._gt:
            self._gt[name] = self._load(name)
        return self._gt[name]

    def _load(self, name: str) -> dict[str, Any]:
        ref = self.refs[name]
        ids = _eval_ids(ref)
        if self.gt_mode == "reference-output":
            from ..tasks.reference import reference_ground_truth

            if name not in self.ref_preds:
                raise EvaluationError(f"reference-output ground truth of sequence {name} is missing: its reference job "
                                      "did not finish; re-run `vcmbench run` to complete it.")
            frames = _frames_of(name, self.ref_preds[name], int(ref["frames"]), "reference")
            pics = [_Frame(k, ids[k], ref["width"], ref["height"]) for k in range(len(frames))]
            return reference_ground_truth(pics, {p.image_id: f for p, f in zip(pics, frames)}, self.threshold)
        from ..metrics.coco import load_coco_gt

        if not ref.get("annotations"):
            raise DataError(f"Sequence {name} has no annotation file but the condition scores against annotations; "
                            "check the data with `vcmbench cttc verify-data`.")
        if (ref.get("annotation_format") or "coco-json") != "coco-json":
            raise ConditionError(f"Sequence {name}: {ref.get('annotation_format')} ground truth is scored by MOTA, "
                                 "which video results do not compute yet (issue 22: COCO AP conditions only).")
        full = load_coco_gt(Path(ref["annotations"]))
        keep = set(ids)
        images = [im for im in full["images"] if int(im["id"]) in keep]
        if len(images) != len(keep):
            raise DataError(f"Sequence {name}: {len(keep) - len(images)} evaluated frame id(s) are not in "
                            f"{ref['annotations']}; check the data with `vcmbench cttc verify-data`.")
        anns = [a for a in full["annotations"] if int(a["image_id"]) in keep]
        return {**{k: v for k, v in full.items() if k not in ("images", "annotations")},
                "images": images, "annotations": anns}

    def category_map(self, name: str) -> dict[str, int]:
        from ..metrics.coco import coco_category_map
        from ..tasks.coco_names import COCO_NAMES

        gt = self.gt(name)
        ids = sorted(int(c["id"]) for c in gt["categories"])
        if self.gt_mode != "reference-output" and ids == list(range(len(COCO_NAMES))):
            if CATEGORY_RULE_INDEX not in self.notes:
                self.notes.append(CATEGORY_RULE_INDEX)
            return {n: i for i, n in enumerate(COCO_NAMES)}
        names = {c["name"] for c in gt["categories"]}
        return coco_category_map(gt, [n for n in COCO_NAMES if n in names or n.replace(" ", "_") in names
                                      or n.lower() in {x.lower() for x in names}])

    def predictions(self, name: str, pred: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        """COCO result dicts of one code row's frames, frame k stamped with ``eval_ids[k]``
        (``metrics.video.frame_results`` over ``run.scoring.detections_to_coco``)."""
        from .scoring import detections_to_coco

        ref = self.refs[name]
        ids = _eval_ids(ref)
        frames = _frames_of(name, pred, int(ref["frames"]), "code")
        cmap = self.category_map(name)
        out: list[dict[str, Any]] = []
        for k, dets in enumerate(frames):
            out += V.frame_results(ids[k], detections_to_coco(dets, ids[k], cmap, "bbox"))
        return out


# ---- the build ---------------------------------------------------------------------------------------
def _keys(cond: dict[str, Any]) -> list[str]:
    m = cond["metric"]
    return list(dict.fromkeys([m["quality_key"], "AP", "AP50", *(m.get("report") or [])]))


def _accuracy(stats: Mapping[str, float], keys: Sequence[str]) -> tuple[dict[str, float], list[str]]:
    acc = {k: float(stats[k]) for k in keys if k in stats and stats[k] >= 0}
    return acc, [k for k in keys if k not in acc]


def build_video_results(run_dir: str | Path, store: RunStore | None = None, write: bool = True) -> VideoResults:
    """Score a video run from its store (see the module docstring); write its result files when ``write``."""
    run_dir = Path(run_dir)
    own = store is None
    st = store or RunStore(run_dir, create=False)
    try:
        run = read_json(run_dir / "run.json")
        cond = read_json(run_dir / "condition.json")
        if not run.get("video"):
            raise DataError(f"{run_dir} is not a video run (run.json has no \"video\": true); use `vcmbench results`.")
        metric = (cond.get("metric") or {}).get("name")
        if metric == "mota":
            from .video_mot import build_mot_results

            return build_mot_results(run_dir, run, cond, st, write)
        if metric != "coco-ap":
            raise ConditionError(f"Video results score COCO AP and MOTA conditions; {cond['name']} uses "
                                 f"{metric!r}.")
        return _build(run_dir, run, cond, st, write)
    finally:
        if own:
            st.close()


def _build(run_dir: Path, run: dict[str, Any], cond: dict[str, Any], st: RunStore, write: bool) -> VideoResults:
    lay = _layout(run)
    refs, classes, run_classes, class_of = lay.refs, lay.classes, lay.run_classes, lay.class_of
    qps_by, code_jobs, ref_jobs, notes = lay.qps_by, lay.code_jobs, lay.ref_jobs, lay.notes
    ref_preds = {ref_jobs[jid]: pred for jid, _, pred in st.records(ref_jobs, predictions=True)}
    truth = _Truth(cond, refs, ref_preds)
    keys = _keys(cond)
    qkey = cond["metric"]["quality_key"]

    # per sequence x QP, loaded one class rate point at a time (memory: one point's predictions, not the run's)
    rows_by: dict[tuple[str, int], dict[str, Any]] = {}
    ok: dict[tuple[str, int], V.SequenceResult] = {}

    def score(need: list[tuple[str, int]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
        """Score the sequence x QP results ``need`` not scored yet; the COCO predictions of those verified."""
        ids = [code_jobs[k] for k in need if k in code_jobs]
        got = {jid: (rec, pred) for jid, rec, pred in st.records(ids, predictions=True)}
        preds_of: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for name, qp in need:
            jid = code_jobs.get((name, qp))
            row, res, preds = _sequence_row(name, qp, refs[name], class_of.get(name, refs[name]["cls"]), jid,
                                            got.get(jid) if jid else None, truth, keys, notes,
                                            scored=(name, qp) in rows_by)
            rows_by.setdefault((name, qp), row)
            if res is not None:
                ok.setdefault((name, qp), res)  # (a re-load for a second class carries no accuracy: keep the first)
                preds_of[(name, qp)] = preds
        return preds_of

    # per class x rate point (the i-th lowest QP of every sequence)
    class_rows: list[dict[str, Any]] = []
    for cls, names in classes.items():
        counts = {n: len(qps_by.get(n, [])) for n in names}
        if len(set(counts.values())) != 1:
            notes.append(f"class {cls}: left out — its sequences have different numbers of QPs {counts}; run every "
                         "sequence at the same number of QPs")
            continue
        for rank in range(next(iter(counts.values()))):
            need = [(n, qps_by[n][rank]) for n in names]
            preds = score(need)
            lacking = [f"{n} QP {q}" for n, q in need if (n, q) not in ok]
            if lacking:
                notes.append(f"class {cls} rate point {rank}: left out — no verified result for {', '.join(lacking)}")
                continue
            pts = [ok[k] for k in need]
            kb, bpp = V.class_rate(pts)
            stats = V.class_accuracy([(truth.gt(n), preds[(n, q)]) for n, q in need])
            del preds
            acc, undefined = _accuracy(stats, keys)
            if qkey in undefined:
                notes.append(f"class {cls} rate point {rank}: left out — {qkey} undefined (no object in the ground truth)")
                continue
            class_rows.append({"class": cls, "csv_name": csv_class_name(cls), "rank": rank, "qps": [q for _, q in need],
                               "sequences": list(names), "frames": sum(p.frames for p in pts),
                               "seconds": sum(p.seconds for p in pts), "bits": sum(p.bits for p in pts),
                               "kbps": kb, "bpp": bpp, "accuracy": acc,
                               **{k: sum(rows_by[x].get(k, 0.0) for x in need) for k in TIME_KEYS}})
    order = lay.order()
    for name in order:  # the sequences outside every scored class, and QPs no class point needed
        score([(name, qp) for qp in qps_by.get(name, []) if (name, qp) not in rows_by])
    rows = [rows_by[(n, q)] for n in order for q in qps_by.get(n, [])]

    overall_rows = _overall_rows(class_rows, run_classes, keys, notes)

    return _finish(run_dir, run, cond, lay, _metric_name(truth.gt_mode), [*truth.notes, *notes], rows, class_rows,
                   overall_rows, ok, write)


def _sequence_row(name: str, qp: int, ref: Mapping[str, Any], cls: str, jid: str | None, got: Any, truth: _Truth,
                  keys: Sequence[str], notes: list[str], scored: bool
                  ) -> tuple[dict[str, Any], V.SequenceResult | None, list[dict[str, Any]] | None]:
    """One sequence x QP: its row, its ``SequenceResult`` and COCO predictions (None when missing or unverified).
    ``scored``: the row was made before (another class needs its predictions again): no note, no evaluation."""
    row = {"sequence": name, "class": cls, "qp": qp, "frames": int(ref["frames"]), "fps": float(ref["fps"]),
           "width": int(ref["width"]), "height": int(ref["height"]), "verified": False, "bits": None,
           "kbps": None, "bpp": None, "accuracy": {}, "job_id": jid}
    if got is None:
        row["status"] = "missing"
        if not scored:
            notes.append(f"{name} QP {qp}: left out — the job did not finish (see errors.json); re-run to complete it")
        return row, None, None
    rec, pred = got
    if not rec.get("verified"):
        row.update(status="not verified", verdict=rec.get("verdict"))
        if not scored:
            notes.append(f"{name} QP {qp}: left out — the bitstream did not verify ({rec.get('verdict')})")
        return row, None, None
    frames = int((rec.get("extra") or {}).get("frames") or ref["frames"])
    if frames != int(ref["frames"]):
        raise DataError(f"{name} QP {qp}: the job coded {frames} frames but the run evaluates {ref['frames']}; "
                        "re-run `vcmbench run` in a fresh directory.")
    preds = truth.predictions(name, pred)
    gt = None if scored else truth.gt(name)
    bits = coded_bits(rec)
    res = V.sequence_result(name, qp, bits, frames, float(ref["fps"]), int(ref["width"]), int(ref["height"]), gt, preds)
    if not scored:
        acc, undefined = _accuracy(res.accuracy, keys)
        if undefined:
            notes.append(f"{name} QP {qp}: {', '.join(undefined)} undefined (pycocotools -1: no object of that "
                         "kind in the ground truth)")
        row.update(verified=True, status="ok", bits=res.bits, kbps=res.kbps, bpp=res.bpp, accuracy=acc,
                   **{k: float(rec.get(k) or 0.0) for k in TIME_KEYS})
    return row, res, preds


def _metric_name(gt_mode: str) -> str:
    from ..metrics.coco import metric_name

    return metric_name("bbox") + (" vs reference-output pseudo ground truth" if gt_mode == "reference-output" else "")

