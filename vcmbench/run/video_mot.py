"""Results of a tracking run (a MOTA video condition: TVD, HiEve, the synthetic tracking sequence; issue 23).

``run.video_results.build_video_results`` hands a run whose condition is scored by ``mota`` to
:func:`build_mot_results`.  The store rows are the video storage contract's, with the task's per-frame JSON a
``tasks.base.Tracks`` (``run.frame_outputs``): ``{"frames": [Tracks JSON per evaluated frame]}``.  Every number
comes from ``metrics.mot.evaluate_sequences`` (py-motmetrics 1.4.0 with the reference framework's settings:
``metric.mot`` of the condition, ``metrics.mot.DATASETS``), never re-computed here:

* **ground truth** -- ``annotations`` mode: the sequence's ``gt/gt.txt`` read as the reference reads it
  (``metrics.mot.read_gt``: x, y - 1, the dataset's confidence filter) and its ``seqinfo.ini`` beside
  ``gt/`` (TVD's distractor step reads seqLength); rows of frames the run does not evaluate are dropped (a
  note says how many).  ``reference-output`` mode: the reference job's tracks on the uncompressed frames,
  written as ground-truth rows ``frame, id, x + 1, y + 1, w, h, 1, 1, 1`` (conf 1, class 1 pedestrian,
  visibility 1; x and y + 1 because a MOT gt file is 1-based and its reader subtracts 1: the loaded boxes
  are the tracker's own) into ``RUNDIR/tracks/gt/<sequence>/gt/gt.txt`` with a ``seqinfo.ini``, and read back;
* **per sequence and QP** -- MOTA, MOTP (motmetrics' mean IoU distance of the matches, lower is better),
  IDF1 as fractions in ``accuracy``; ID switches, false positives and misses in ``counts`` (``IDs``, ``FP``,
  ``FN``); every motchallenge column in ``mot``; kbps = bits x fps / (1000 x frames) as for detection;
* **per class and rate point** (point *i* = the *i*-th lowest QP of every sequence of the class) -- the
  OVERALL row of ONE ``compute_many`` over the class's sequences (the reference's
  ``compute_per_class_mota``), the duration-weighted class kbps;
* **Overall** at rank *i* -- the mean of the class figures (as the detection path);
* **the uncompressed reference** -- each sequence's reference tracks scored the same way (``reference``
  rows; in ``reference-output`` mode MOTA 1 by construction, a check of the written ground truth).

The MOT files are written into the run, so ``vcmbench evaluate mot`` re-scores them with the same numbers:
``RUNDIR/tracks/qp<QP>/<SEQ>.txt`` (each coded sequence's tracks), ``RUNDIR/tracks/reference/<SEQ>.txt``
(the uncompressed frames' tracks); ``SEQ`` = the folder holding ``gt/gt.txt`` (the sequence's data folder in
``annotations`` mode, ``RUNDIR/tracks/gt/<sequence>`` in ``reference-output`` mode), which is how
``evaluate mot`` pairs a result file with its ground truth.  ``final_<DATASET>.csv`` has the tracking
layout (``metrics.video.final_csv_rows`` with MOTA).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..core.errors import ConditionError, DataError, EvaluationError
from ..metrics import mot as M
from ..metrics import video as V
from .store import RunStore
from .video_common import TIME_KEYS, VideoResults, _eval_ids, _finish, _frames_of, _layout, _overall_rows, coded_bits

TRACKS_DIR = "tracks"
REFERENCE_NOTE = ("ground truth: reference-output — the tracker's own tracks on the uncompressed frames, written as MOT "
                  "ground truth (conf 1, class 1, visibility 1; x, y + 1 as MOT gt files are 1-based) in "
                  "tracks/gt/<sequence>/gt/gt.txt")
# accuracy keys (fractions) and counts of a MOTA row, from motmetrics' motchallenge columns
ACCURACY_KEYS = {"MOTA": "mota", "IDF1": "idf1", "MOTP": "motp"}
COUNT_KEYS = {"IDs": "num_switches", "FP": "num_false_positives", "FN": "num_misses"}


def mot_dataset(cond: Mapping[str, Any]) -> str:
    """The condition's MOT settings (``metric.mot``: tvd or hieve)."""
    name = (cond.get("metric") or {}).get("mot")
    if name not in M.DATASETS:
        raise ConditionError(f"Condition {cond.get('name')} is scored by MOTA but names no MOT settings "
                             f"(metric.mot: {' or '.join(M.DATASETS)}); see `vcmbench cttc validate`.")
    return str(name)


def tracks_of(frames: Sequence[Mapping[str, Any]], ids: Sequence[int]) -> dict[int, list]:
    """Per-frame Tracks JSON -> ``{frame number: [((x, y, w, h), id, score), ...]}`` (frame k <-> ``ids[k]``)."""
    from ..tasks.base import Tracks

    return {int(ids[k]): Tracks.from_json(f).mot_rows(int(ids[k])) for k, f in enumerate(frames)}


def _unit_conf(tracks: Mapping[int, list]) -> dict[int, list]:
    """The tracks as the reference scores them: confidence 1.0 (``_format_pd_in_motchallenge``; a MOT result file
    is read the same way by ``metrics.mot.read_tracks``)."""
    return {f: [(box, oid, 1.0) for box, oid, _ in objs] for f, objs in tracks.items()}


class _Truth:
    """Each sequence's ground truth (a motmetrics DataFrame), its seqinfo.ini, and the name of its MOT folder."""

    def __init__(self, run_dir: Path, cond: Mapping[str, Any], refs: Mapping[str, Mapping[str, Any]],
                 ref_preds: Mapping[str, Any], dataset: str) -> None:
        self.run_dir, self.refs, self.ref_preds, self.dataset = run_dir, refs, ref_preds, dataset
        self.mode = (cond.get("ground_truth") or {}).get("mode", "annotations")
        self.notes: list[str] = [REFERENCE_NOTE] if self.mode == "reference-output" else []
        self._cache: dict[str, tuple[Any, Path | None, str]] = {}

    def get(self, name: str) -> tuple[Any, Path | None, str]:
        """(gt DataFrame, seqinfo.ini or None, folder name) of sequence ``name``."""
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def _load(self, name: str) -> tuple[Any, Path | None, str]:
        ref = self.refs[name]
        ids = _eval_ids(ref)
        if self.mode == "reference-output":
            if name not in self.ref_preds:
                raise EvaluationError(f"reference-output ground truth of sequence {name} is missing: its reference job "
                                      "did not finish; re-run `vcmbench run` to complete it.")
            frames = _frames_of(name, self.ref_preds[name], int(ref["frames"]), "reference")
            folder = self.run_dir / TRACKS_DIR / "gt" / name
            rows = [(f, oid, x + 1, y + 1, w, h, 1, 1, 1)
                    for f, objs in tracks_of(frames, ids).items() for (x, y, w, h), oid, _ in objs]
            M.write_gt(folder / "gt" / "gt.txt", rows)
            seqinfo = folder / "seqinfo.ini"
            seqinfo.write_text(f"[Sequence]\nname={name}\nframeRate={float(ref['fps']):g}\nseqLength={int(ref['frames'])}"
                               f"\nimWidth={int(ref['width'])}\nimHeight={int(ref['height'])}\n", encoding="utf-8")
            return M.read_gt(folder / "gt" / "gt.txt", self.dataset), seqinfo, name
        ann = ref.get("annotations")
        if not ann:
            raise DataError(f"Sequence {name} has no ground-truth file but the condition scores against annotations; "
                            "check the data with `vcmbench cttc verify-data`.")
        if ref.get("annotation_format") != "mot-gt":
            raise ConditionError(f"Sequence {name}: MOTA reads MOT ground truth (gt/gt.txt, annotation format mot-gt), "
                                 f"not {ref.get('annotation_format')}.")
        gt_path = Path(ann)
        gt = M.read_gt(gt_path, self.dataset)
        keep = set(ids)
        frames_col = gt.index.get_level_values(0)
        outside = ~frames_col.isin(list(keep))
        if outside.any():
            self.notes.append(f"{name}: {int(outside.sum())} ground-truth row(s) of frames the run does not evaluate "
                              "were left out")
            gt = gt[~outside]
        folder = gt_path.parent.parent  # SEQ/gt/gt.txt
        seqinfo = folder / "seqinfo.ini"
        return gt, (seqinfo if seqinfo.is_file() else None), folder.name


def _figures(row: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, int]]:
    acc = {k: float(row[m]) for k, m in ACCURACY_KEYS.items() if row.get(m) is not None}
    return acc, {k: int(row[m]) for k, m in COUNT_KEYS.items()}


def build_mot_results(run_dir: Path, run: dict[str, Any], cond: dict[str, Any], st: RunStore,
                      write: bool) -> VideoResults:
    """Score a tracking run (see the module docstring); write its result and MOT files when ``write``
    (the MOT files are needed to score, so they are written either way)."""
    dataset = mot_dataset(cond)
    lay = _layout(run)
    notes = lay.notes
    ref_preds = {lay.ref_jobs[jid]: pred for jid, _, pred in st.records(lay.ref_jobs, predictions=True)}
    truth = _Truth(run_dir, cond, lay.refs, ref_preds, dataset)
    tracks_dir = run_dir / TRACKS_DIR

    loaded: dict[tuple[str, int], tuple[dict[str, Any], Any] | None] = {}
    rows_by: dict[tuple[str, int], dict[str, Any]] = {}
    ok: dict[tuple[str, int], V.SequenceResult] = {}

    def load(need: list[tuple[str, int]]) -> None:
        """Read the code rows of ``need`` not read yet; write each verified one's MOT result file."""
        todo = [k for k in need if k not in loaded]
        ids = {lay.code_jobs[k]: k for k in todo if k in lay.code_jobs}
        got = {ids[jid]: (rec, pred) for jid, rec, pred in st.records(ids, predictions=True)}
        for key in todo:
            name, qp = key
            ref = lay.refs[name]
            row = {"sequence": name, "class": lay.class_of.get(name, ref["cls"]), "qp": qp, "frames": int(ref["frames"]),
                   "fps": float(ref["fps"]), "width": int(ref["width"]), "height": int(ref["height"]),
                   "verified": False, "bits": None, "kbps": None, "bpp": None, "accuracy": {}, "counts": {},
                   "job_id": lay.code_jobs.get(key)}
            rows_by[key] = row
            loaded[key] = None
            if key not in got:
                row["status"] = "missing"
                notes.append(f"{name} QP {qp}: left out — the job did not finish (see errors.json); re-run to complete it")
                continue
            rec, pred = got[key]
            if not rec.get("verified"):
                row.update(status="not verified", verdict=rec.get("verdict"))
                notes.append(f"{name} QP {qp}: left out — the bitstream did not verify ({rec.get('verdict')})")
                continue
            frames = int((rec.get("extra") or {}).get("frames") or ref["frames"])
            if frames != int(ref["frames"]):
                raise DataError(f"{name} QP {qp}: the job coded {frames} frames but the run evaluates {ref['frames']}; "
                                "re-run `vcmbench run` in a fresh directory.")
            tracks = tracks_of(_frames_of(name, pred, frames, "code"), _eval_ids(ref))
            _, _, folder = truth.get(name)
            M.write_tracks(tracks_dir / f"qp{qp}" / f"{folder}.txt", tracks)
            rate = V.sequence_result(name, qp, coded_bits(rec), frames, float(ref["fps"]), int(ref["width"]),
                                     int(ref["height"]))
            row.update(bits=rate.bits, kbps=rate.kbps, bpp=rate.bpp, **{k: float(rec.get(k) or 0.0) for k in TIME_KEYS})
            loaded[key] = (row, tracks)

    def evaluate(keys: list[tuple[str, int]]) -> M.MotResult:
        seqs = []
        for name, qp in keys:
            gt, seqinfo, _ = truth.get(name)
            seqs.append(M.MotSequence(name, gt, M.tracks_frame(_unit_conf(loaded[(name, qp)][1])), seqinfo))
        return M.evaluate_sequences(seqs, dataset)

    def record(key: tuple[str, int], mrow: Mapping[str, Any]) -> None:
        row = rows_by[key]
        if row["verified"] or loaded.get(key) is None:
            return
        acc, counts = _figures(mrow)
        if "MOTA" not in acc:
            notes.append(f"{key[0]} QP {key[1]}: MOTA undefined (no ground-truth object in its evaluated frames)")
            row["status"] = "no ground truth"
            return
        row.update(verified=True, status="ok", accuracy=acc, counts=counts, mot=dict(mrow))
        ok[key] = V.SequenceResult(key[0], key[1], row["bits"], row["frames"], row["fps"], row["width"],
                                   row["height"], {"MOTA": acc["MOTA"]})

    class_rows: list[dict[str, Any]] = []
    for cls, names in lay.classes.items():
        counts_n = {n: len(lay.qps_by.get(n, [])) for n in names}
        if len(set(counts_n.values())) != 1:
            notes.append(f"class {cls}: left out — its sequences have different numbers of QPs {counts_n}; run every "
                         "sequence at the same number of QPs")
            continue
        for rank in range(next(iter(counts_n.values()))):
            need = [(n, lay.qps_by[n][rank]) for n in names]
            load(need)
            lacking = [f"{n} QP {q}" for n, q in need if loaded.get((n, q)) is None]
            if lacking:
                notes.append(f"class {cls} rate point {rank}: left out — no verified result for {', '.join(lacking)}")
                continue
            res = evaluate(need)
            for key in need:
                record(key, res.sequences[key[0]])
            if any(k not in ok for k in need) or res.overall.get("mota") is None:
                notes.append(f"class {cls} rate point {rank}: left out — MOTA undefined (no ground-truth object)")
                continue
            pts = [ok[k] for k in need]
            kb, bpp = V.class_rate(pts)
            acc, counts = _figures(res.overall)
            class_rows.append({"class": cls, "csv_name": V.class_row_name(cls), "rank": rank,
                               "qps": [q for _, q in need], "sequences": list(names),
                               "frames": sum(p.frames for p in pts), "seconds": sum(p.seconds for p in pts),
                               "bits": sum(p.bits for p in pts), "kbps": kb, "bpp": bpp, "accuracy": acc,
                               "counts": counts, "mot": dict(res.overall),
                               **{k: sum(rows_by[x].get(k, 0.0) for x in need) for k in TIME_KEYS}})
    order = lay.order()
    for name in order:  # sequences outside every scored class, QPs of class points left out
        keys_n = [(name, qp) for qp in lay.qps_by.get(name, [])]
        load(keys_n)
        for key in keys_n:
            if loaded.get(key) is not None and not rows_by[key]["verified"] and "status" not in rows_by[key]:
                record(key, evaluate([key]).sequences[name])
    rows = [rows_by[(n, q)] for n in order for q in lay.qps_by.get(n, [])]
    keys = list(ACCURACY_KEYS)
    overall_rows = _overall_rows(class_rows, lay.run_classes, keys, notes)
    reference = _reference_rows(lay, ref_preds, truth, tracks_dir, dataset, notes)
    metric = M.metric_name(dataset) + (" vs reference-output tracks" if truth.mode == "reference-output" else "")
    return _finish(run_dir, run, cond, lay, metric, [*truth.notes, *notes], rows, class_rows, overall_rows, ok, write,
                   reference=reference)


def _reference_rows(lay: Any, ref_preds: Mapping[str, Any], truth: _Truth, tracks_dir: Path, dataset: str,
                    notes: list[str]) -> list[dict[str, Any]]:
    """Each sequence's uncompressed tracks (the reference job), written as a MOT result file and scored."""
    out = []
    for name in lay.order():
        ref = lay.refs[name]
        if name not in ref_preds:
            notes.append(f"{name}: the uncompressed reference is not scored — its reference job did not finish")
            continue
        tracks = tracks_of(_frames_of(name, ref_preds[name], int(ref["frames"]), "reference"), _eval_ids(ref))
        gt, seqinfo, folder = truth.get(name)
        M.write_tracks(tracks_dir / "reference" / f"{folder}.txt", tracks)
        res = M.evaluate_sequences([M.MotSequence(name, gt, M.tracks_frame(_unit_conf(tracks)), seqinfo)], dataset)
        acc, counts = _figures(res.sequences[name])
        out.append({"sequence": name, "class": lay.class_of.get(name, ref["cls"]), "accuracy": acc, "counts": counts,
                    "mot": res.sequences[name]})
    return out
