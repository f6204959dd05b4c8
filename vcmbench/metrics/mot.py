"""Tracking metrics (MOTA, MOTP, IDF1, ID switches, FP, FN ...) exactly as the committee computes them.

The committee's TVD and HiEve numbers come from CompressAI-Vision (InterDigitalInc/CompressAI-Vision
at commit 31165daf, read, not copied) evaluating with py-motmetrics (``motmetrics`` 1.4.0, the newest
release on PyPI).  Public MOT metric libraries disagree with each other (py-motmetrics issue 115,
TrackEval issue 75), so this module does not re-implement the CLEAR-MOT/IDF1 computation: it calls
motmetrics 1.4.0 itself, with the reference's settings per dataset, and makes it run on NumPy 2.

Why a shim and not an own implementation: the committee's numbers are motmetrics' numbers, including
its undocumented behaviour (which frames count when ground-truth rows are filtered out -- the
filtered index keeps its levels --, which solver decides an exact tie, the distractor step's own
assignment, the OVERALL row's pooling).  A re-implementation could only be shown equal on the cases
one thought of; the library is equal by construction.  motmetrics 1.4.0 fails on NumPy 2 in one
place only: ``motmetrics.distances.iou_matrix`` calls ``np.asfarray`` (removed in NumPy 2.0).  The
shim (:func:`_numpy_compat`) gives that one module a numpy proxy whose ``asfarray(a)`` is
``np.asarray(a, dtype=float64)`` -- NumPy 1's definition for the default dtype -- and leaves numpy
itself untouched; on a numpy that still has ``asfarray`` nothing is replaced.  tests/unit/test_mot.py
checks that nothing else in motmetrics 1.4.0 calls a removed numpy name, and the golden test
(tests/golden/test_mot_golden.py) shows every summary column equal to the reference framework's own
code run with motmetrics 1.4.0 on NumPy 1 (tests/golden/record_mot_golden.py).

The reference's settings (``compressai_vision/evaluators/evaluators.py`` ``MOT_TVD_Eval`` /
``MOT_HiEve_Eval`` / ``MOT_JDE_Eval``; ``scripts/metrics/compute_per_class_mota.py``;
``scripts/metrics/gen_mpeg_cttc_csv.py`` ``generate_csv_classwise_video_mota``):

* ground truth ``gt/gt.txt`` is read by ``motmetrics.io.loadtxt(fmt="mot15-2D")``: comma/space
  separated ``frame, id, x, y, w, h, conf, class, visibility``; x and y shifted by -1 (MATLAB
  convention); rows with ``conf < min_confidence`` dropped.  TVD: ``min_confidence=-1`` (every row);
  HiEve: ``min_confidence=1``.
* tracker boxes are taken as the tracker gives them (``_format_pd_in_motchallenge``: no -1 shift,
  confidence 1, class -1, visibility -1); a MOT result file is read the same way (:func:`read_tracks`).
  The evaluator's ``apply_pred_offset`` (x, y - 1) is off in every FCM script and on only in the
  VCM-mode TVD script ``scripts/evaluation/tvd/eval_on_tvdvcm_vcmrs.sh``: ``pred_offset=True`` here.
* frame numbers: the dataset's ``image_id`` is the image file's number (``img1/000001.png`` -> 1),
  the ground truth's frame column is matched against it.
* TVD: ``motmetrics.utils.CLEAR_MOT_M(gt, tracks, seqinfo.ini)``: first ``preprocessResult`` drops,
  for every frame 1..seqLength, the tracker boxes that an IoU >= 0.5 assignment matches to a
  ground-truth box of a distractor class (2 person_on_vhcl, 7 static_person, 8 distractor,
  12 reflection) or of visibility < 0; then only ground truth with ``conf >= 0.99`` and class 1
  (pedestrian) is scored.  The accumulator's analysis (frames per id) goes to ``compute``.
* HiEve: ``motmetrics.utils.compare_to_groundtruth(gt, tracks)``: no class filter, no distractors.
* both: IoU distance, a pair is allowed when IoU >= 0.5 (``distth=0.5``, ``max_iou=0.5``).
* assignment solver (decides exact ties only): the per-sequence evaluators set motmetrics' global
  ``default_solver`` -- ``lap`` for TVD, ``munkres`` for HiEve --; the class script sets none, so the
  class rows use motmetrics' default, the first installed of lapsolver, lap, scipy, munkres (the
  reference installs lap and munkres, not lapsolver: ``lap``).  Here each computation selects its
  solver explicitly and restores the global afterwards.
* per sequence: ``MetricsHost.compute`` with ``motchallenge_metrics``; the class figure:
  ``compute_many(accs, anas, names, generate_overall=True)`` and the OVERALL row (the reference
  takes ``summary.values[-1][13]``, column 13 being ``mota``), x 100 in its final CSV.

Stored values are fractions (MOTA 0.5123) and counts; MOTP is motmetrics' mean IoU *distance*
(1 - IoU) of the matches, lower is better.  HOTA is not reported: motmetrics 1.4.0 does not compute
it, and the libraries that do (TrackEval) match differently (the issues above).
"""

from __future__ import annotations

import configparser
import contextlib
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..core.errors import DataError, UsageError

__all__ = [
    "DATASETS", "METRICS", "COUNT_METRICS", "MotSettings", "MotSequence", "MotResult",
    "read_gt", "read_tracks", "tracks_frame", "write_tracks", "write_gt", "read_seq_length",
    "evaluate_sequences", "evaluate_dirs", "metric_name", "summary_row", "read_seqinfo", "final_csv_point",
]

# motmetrics.metrics.motchallenge_metrics (1.4.0), in its order: the columns of the reference's summary.
METRICS = ("idf1", "idp", "idr", "recall", "precision", "num_unique_objects", "mostly_tracked",
           "partially_tracked", "mostly_lost", "num_false_positives", "num_misses", "num_switches",
           "num_fragmentations", "mota", "motp", "num_transfer", "num_ascend", "num_migrate")
COUNT_METRICS = frozenset({"num_unique_objects", "mostly_tracked", "partially_tracked", "mostly_lost",
                           "num_false_positives", "num_misses", "num_switches", "num_fragmentations",
                           "num_transfer", "num_ascend", "num_migrate"})
OVERALL = "OVERALL"
IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class MotSettings:
    """How the reference framework scores one dataset (see the module docstring for the sources)."""

    name: str
    gt_min_confidence: float      # motmetrics.io.loadtxt(min_confidence=...)
    distractors: bool             # CLEAR_MOT_M (distractor step, conf >= 0.99 and class 1) vs compare_to_groundtruth
    sequence_solver: str          # the per-sequence evaluator's motmetrics.lap.default_solver
    class_solver: str = "lap"     # compute_per_class_mota: motmetrics' default with lap installed


DATASETS: dict[str, MotSettings] = {
    "tvd": MotSettings("tvd", gt_min_confidence=-1, distractors=True, sequence_solver="lap"),
    "hieve": MotSettings("hieve", gt_min_confidence=1, distractors=False, sequence_solver="munkres"),
}


def metric_name(dataset: str) -> str:
    return f"MOTA/IDF1 (py-motmetrics 1.4.0, {dataset.upper()} settings of CompressAI-Vision)"


@dataclass
class MotSequence:
    """One sequence to score: its ground truth and tracks as motmetrics DataFrames (see read_gt/read_tracks)."""

    name: str
    gt: object                    # pandas.DataFrame indexed by (FrameId, Id)
    tracks: object                # pandas.DataFrame indexed by (FrameId, Id)
    seqinfo: Path | None = None   # seqinfo.ini (TVD: its seqLength bounds the distractor step)


@dataclass
class MotResult:
    dataset: str
    sequences: dict[str, dict] = field(default_factory=dict)   # name -> {metric: value}
    overall: dict = field(default_factory=dict)                # compute_many's OVERALL row

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "metric": metric_name(self.dataset), "iou_threshold": IOU_THRESHOLD,
                "sequences": self.sequences, "overall": self.overall}


# --- motmetrics on NumPy 2 -------------------------------------------------------------------------

class _NumpyCompat:
    """numpy for motmetrics 1.4.0's distances module, which calls ``np.asfarray`` (removed in NumPy 2.0)."""

    def __init__(self, np_module):
        self._np = np_module

    def __getattr__(self, name):
        return getattr(self._np, name)

    def asfarray(self, a, dtype=np.float64):
        # NumPy 1.26 numpy/lib/type_check.py: a non-inexact dtype becomes float64, then asarray.
        if not issubclass(np.dtype(dtype).type, np.inexact):
            dtype = np.float64
        return self._np.asarray(a, dtype=dtype)


_LOCK = threading.RLock()


def _mm():
    """motmetrics, with the one NumPy-2 name it needs supplied to its distances module."""
    try:
        import motmetrics as mm
    except ImportError as exc:  # pragma: no cover - a dependency of vcmbench
        raise UsageError(f"motmetrics is not importable ({exc}); reinstall vcmbench from its lock "
                         "(pip install -r lock/py3.11-test.txt).") from None
    _numpy_compat(mm)
    return mm


def _numpy_compat(mm) -> None:
    dist = mm.distances
    if not hasattr(dist.np, "asfarray"):
        dist.np = _NumpyCompat(dist.np)


@contextlib.contextmanager
def _solver(mm, name: str):
    """Select motmetrics' global assignment solver for the block (the reference sets it globally)."""
    if name not in (mm.lap.available_solvers or []):
        raise UsageError(f"The assignment solver {name!r} the reference uses is not installed; "
                         f"reinstall vcmbench from its lock (it pins lap and munkres).")
    with _LOCK:
        saved = mm.lap.default_solver
        mm.lap.default_solver = name
        try:
            yield
        finally:
            mm.lap.default_solver = saved


# --- MOT-format files ------------------------------------------------------------------------------

_COLUMNS = ["X", "Y", "Width", "Height", "Confidence", "ClassId", "Visibility"]


def _check_file(path: Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; give a MOT-format text file "
                        "(one box a line: frame,id,x,y,w,h,conf,class,visibility).")
    return path


def read_gt(path: Path, dataset: str = "tvd"):
    """Ground truth ``gt/gt.txt`` as the reference reads it (motmetrics ``loadtxt``, mot15-2D: x,y - 1,
    rows below the dataset's ``min_confidence`` dropped)."""
    settings = _settings(dataset)
    path = _check_file(path, "Ground-truth file")
    mm = _mm()
    try:
        df = mm.io.loadtxt(str(path), fmt="mot15-2D", min_confidence=settings.gt_min_confidence)
    except (ValueError, TypeError, IndexError) as exc:
        raise DataError(f"Cannot read the ground truth {path} as MOT text ({exc}); each line must be "
                        "frame,id,x,y,w,h,conf,class,visibility.") from None
    if not len(df) and not path.read_text(encoding="utf-8", errors="replace").strip():
        raise DataError(f"Ground-truth file {path} is empty; a MOT gt.txt holds one box a line "
                        "(frame,id,x,y,w,h,conf,class,visibility).")
    _check_frame(df, path)
    return df


def _check_frame(df, path) -> None:
    vals = df[["X", "Y", "Width", "Height", "Confidence"]].to_numpy(dtype=float, na_value=np.nan) if len(df) else None
    frames = df.index.get_level_values(0)
    if len(df) and (np.isnan(vals[:, :4]).any() or not np.issubdtype(frames.dtype, np.integer)
                    or not np.issubdtype(df.index.get_level_values(1).dtype, np.integer)):
        raise DataError(f"{path}: every line needs integer frame and id and numeric x,y,w,h "
                        "(frame,id,x,y,w,h,conf,class,visibility).")
    if len(df) and frames.min() < 1:
        raise DataError(f"{path}: frame numbers start at 1 in MOT files (found {int(frames.min())}).")
    if df.index.duplicated().any():
        f, i = df.index[df.index.duplicated()][0]
        raise DataError(f"{path}: id {i} appears twice in frame {f}; an id names one box per frame.")


def tracks_frame(tracks: Mapping[int, Iterable]):
    """Tracker output ``{frame: [((x, y, w, h), id, score), ...]}`` as the reference's DataFrame
    (``_format_pd_in_motchallenge``: boxes unshifted, confidence from the tuple -- the reference passes
    1.0 --, class and visibility -1; frames without boxes are absent)."""
    import pandas as pd

    index, rows = [], []
    for frame, objs in tracks.items():
        for tlwh, oid, conf in objs:
            index.append((int(frame), int(oid)))
            rows.append(tuple(float(v) for v in tlwh) + (float(conf), -1, -1))
    idx = pd.MultiIndex.from_tuples(index, names=["FrameId", "Id"]) if index else \
        pd.MultiIndex.from_arrays([np.array([], dtype=np.int64)] * 2, names=["FrameId", "Id"])
    return pd.DataFrame(rows, idx, _COLUMNS)


def read_tracks(path: Path, pred_offset: bool = False):
    """A MOT result file (``frame,id,x,y,w,h,score,...`` one box a line) as the tracker's boxes: NOT
    shifted (the committee's FCM evaluation scores the tracker's boxes as given), confidence 1.0 as the
    reference sets it (the score column is not used by the metrics).  ``pred_offset``: x and y - 1, as
    the reference's ``apply_pred_offset=True`` (set only by its VCM-mode TVD script
    ``scripts/evaluation/tvd/eval_on_tvdvcm_vcmrs.sh``, replicating the old VCM framework's loading)."""
    path = _check_file(path, "Tracking result file")
    tracks: dict[int, list] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            s = line.strip()
            if not s:
                continue
            parts = [p for p in s.replace(",", " ").split() if p]
            try:
                frame, oid = float(parts[0]), float(parts[1])
                box = tuple(float(v) for v in parts[2:6])
                if pred_offset and len(box) == 4:
                    box = (box[0] - 1, box[1] - 1, box[2], box[3])
                if len(box) != 4 or frame != int(frame) or oid != int(oid) or not all(map(math.isfinite, box)):
                    raise ValueError
            except (ValueError, IndexError):
                raise DataError(f"{path} line {n}: expected frame,id,x,y,w,h[,score,...] with integer frame "
                                f"and id, got {s[:80]!r}.") from None
            tracks.setdefault(int(frame), []).append((box, int(oid), 1.0))
    df = tracks_frame(tracks)
    _check_frame(df, path)
    return df


def _atomic_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_tracks(path: Path, tracks: Mapping[int, Iterable]) -> None:
    """Write tracker output ``{frame: [((x, y, w, h), id, score), ...]}`` as a MOT result file
    (``frame,id,x,y,w,h,score,-1,-1,-1``, frames ascending, boxes with full float precision)."""
    lines = []
    for frame in sorted(tracks):
        for tlwh, oid, conf in tracks[frame]:
            x, y, w, h = (repr(float(v)) for v in tlwh)
            lines.append(f"{int(frame)},{int(oid)},{x},{y},{w},{h},{float(conf)!r},-1,-1,-1")
    _atomic_text(path, "".join(s + "\n" for s in lines))


def write_gt(path: Path, rows: Iterable[Sequence]) -> None:
    """Write ground truth ``gt/gt.txt`` rows ``(frame, id, x, y, w, h, conf, class, visibility)``, MOT
    convention (x, y as the file holds them; readers subtract 1)."""
    lines = []
    for r in sorted(rows, key=lambda r: (int(r[0]), int(r[1]))):
        if len(r) != 9:
            raise DataError(f"A ground-truth row needs 9 fields (frame,id,x,y,w,h,conf,class,visibility), got {r!r}.")
        f, i, *box, conf, cls, vis = r
        lines.append(",".join([str(int(f)), str(int(i))] + [_num(v) for v in box]
                              + [_num(conf), str(int(cls)), _num(vis)]))
    _atomic_text(path, "".join(s + "\n" for s in lines))


def _num(v) -> str:
    v = float(v)
    return str(int(v)) if v == int(v) else repr(v)


def read_seq_length(seqinfo: Path) -> int:
    """``seqLength`` of a MOT ``seqinfo.ini`` (the bound of TVD's distractor step)."""
    seqinfo = Path(seqinfo)
    cp = configparser.ConfigParser()
    try:
        cp.read(seqinfo, encoding="utf8")
        return int(cp["Sequence"]["seqLength"])
    except (KeyError, ValueError, configparser.Error):
        raise DataError(f"{seqinfo} has no [Sequence] seqLength; TVD scoring needs the sequence's "
                        "seqinfo.ini (MOTChallenge layout: SEQ/seqinfo.ini beside SEQ/gt/gt.txt).") from None


def read_seqinfo(seqinfo: Path) -> dict:
    """``seqLength``, ``frameRate``, ``imWidth``, ``imHeight`` of a MOT ``seqinfo.ini`` as ``frames``, ``fps``,
    ``width``, ``height`` (the reference's ``get_seq_info`` and ``_calc_bitrate`` read the first two)."""
    seqinfo = Path(seqinfo)
    cp = configparser.ConfigParser()
    try:
        cp.read(seqinfo, encoding="utf8")
        sec = cp["Sequence"]
        out = {"frames": int(sec["seqLength"]), "fps": float(sec["frameRate"]),
               "width": int(sec["imWidth"]), "height": int(sec["imHeight"])}
    except (KeyError, ValueError, configparser.Error):
        raise DataError(f"{seqinfo} lacks one of seqLength, frameRate, imWidth, imHeight in [Sequence]; the rate "
                        "needs the sequence's seqinfo.ini (MOTChallenge layout: SEQ/seqinfo.ini).") from None
    if out["frames"] <= 0 or out["fps"] <= 0 or out["width"] <= 0 or out["height"] <= 0:
        raise DataError(f"{seqinfo}: seqLength, frameRate, imWidth and imHeight must be positive.")
    return out


def final_csv_point(result: MotResult, seqinfos: Mapping[str, Mapping], bits: Mapping[str, int], qp: int,
                    class_name: str) -> list:
    """The rows of ``final_TVD.csv`` / ``final_HIEVE.csv`` for ONE rate point: every sequence of ``result`` at
    ``qp`` (kbps from its bitstream's ``bits`` and its ``seqinfos`` frames and fps, MOTA), then the class row
    ``class_name`` at rank 0 (duration-weighted kbps, the OVERALL MOTA), via ``metrics.video.final_csv_rows``
    (the tracking layout of ``generate_csv_classwise_video_mota``)."""
    from . import video

    seqs = {}
    for name, row in result.sequences.items():
        if name not in bits:
            raise DataError(f"No bitstream size for sequence {name}; give one bitstream per sequence.")
        if name not in seqinfos:
            raise DataError(f"No seqinfo.ini for sequence {name}; the rate needs its frames and frame rate.")
        if row["mota"] is None or result.overall.get("mota") is None:
            raise DataError(f"Sequence {name} has no MOTA (no ground-truth object); no final CSV row without it.")
        si = seqinfos[name]
        r = video.sequence_result(name, int(qp), int(bits[name]), si["frames"], si["fps"], si["width"], si["height"])
        seqs[name] = [video.SequenceResult(r.name, r.qp, r.bits, r.frames, r.fps, r.width, r.height,
                                           {"MOTA": float(row["mota"])})]
    return video.final_csv_rows(seqs, {class_name: list(seqs)}, {class_name: [float(result.overall["mota"])]},
                                metric="MOTA")


# --- scoring ---------------------------------------------------------------------------------------

def _settings(dataset: str) -> MotSettings:
    try:
        return DATASETS[str(dataset).lower()]
    except KeyError:
        raise UsageError(f"Unknown tracking dataset {dataset!r}; use one of {', '.join(DATASETS)}.") from None


_MOT16_CLASSES = range(1, 14)


def _accumulate(mm, seq: MotSequence, settings: MotSettings):
    if not settings.distractors:
        return mm.utils.compare_to_groundtruth(seq.gt, seq.tracks), None
    if seq.seqinfo is None:
        raise DataError(f"Sequence {seq.name}: TVD scoring needs its seqinfo.ini (seqLength).")
    read_seq_length(seq.seqinfo)
    classes = set(int(c) for c in seq.gt["ClassId"].dropna().unique()) if len(seq.gt) else set()
    if not classes <= set(_MOT16_CLASSES) or seq.gt["ClassId"].isna().any():
        raise DataError(f"Sequence {seq.name}: TVD ground truth has classes {sorted(classes - set(_MOT16_CLASSES))} "
                        "outside MOT16's 1-13 (or none); the distractor step needs the class column.")
    return mm.utils.CLEAR_MOT_M(seq.gt, seq.tracks, str(seq.seqinfo))


def summary_row(row: Mapping) -> dict:
    """One summary row as plain JSON values: counts as int, fractions as float (NaN -> None)."""
    out = {}
    for k in METRICS:
        v = row[k]
        if k in COUNT_METRICS:
            out[k] = int(v)
        else:
            v = float(v)
            out[k] = None if math.isnan(v) else v
    return out


def evaluate_sequences(sequences: Sequence[MotSequence], dataset: str) -> MotResult:
    """Per-sequence rows as the reference's evaluator computes them, and the OVERALL (class) row as its
    ``compute_per_class_mota`` does, for the given sequences taken as one class."""
    settings = _settings(dataset)
    if not sequences:
        raise DataError("No sequence to score; give at least one ground-truth sequence.")
    names = [s.name for s in sequences]
    if len(set(names)) != len(names):
        raise DataError(f"Sequence names repeat: {names}; give each sequence once.")
    mm = _mm()
    result = MotResult(settings.name)
    mh = mm.metrics.create()
    with _solver(mm, settings.sequence_solver):
        for seq in sequences:
            acc, ana = _accumulate(mm, seq, settings)
            row = mh.compute(acc, ana=ana, metrics=list(METRICS), name=seq.name,
                             return_dataframe=False, return_cached=True)
            result.sequences[seq.name] = summary_row(row)
    with _solver(mm, settings.class_solver):
        accs, anas = [], []
        for seq in sequences:
            acc, ana = _accumulate(mm, seq, settings)
            accs.append(acc)
            anas.append(ana)
        summary = mm.metrics.create().compute_many(accs, anas=anas, names=names, metrics=list(METRICS),
                                                   generate_overall=True)
    result.overall = summary_row(summary.loc[OVERALL])
    return result


def evaluate_dirs(gt_dir: Path, pred_dir: Path, dataset: str = "tvd", pred_offset: bool = False) -> MotResult:
    """Score a MOTChallenge layout: ``GT_DIR/SEQ/gt/gt.txt`` (+ ``GT_DIR/SEQ/seqinfo.ini``) against
    ``PRED_DIR/SEQ.txt``; ``GT_DIR`` may also be one sequence folder (holding ``gt/gt.txt``).
    ``pred_offset``: see :func:`read_tracks`."""
    settings = _settings(dataset)
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    if not gt_dir.is_dir():
        raise DataError(f"Ground-truth folder {gt_dir} does not exist; give the folder holding SEQ/gt/gt.txt.")
    if not pred_dir.is_dir():
        raise DataError(f"Prediction folder {pred_dir} does not exist; give the folder holding SEQ.txt files.")
    if (gt_dir / "gt" / "gt.txt").is_file():
        seq_dirs = [gt_dir]
    else:
        seq_dirs = sorted(p for p in gt_dir.iterdir() if (p / "gt" / "gt.txt").is_file())
    if not seq_dirs:
        raise DataError(f"No SEQ/gt/gt.txt under {gt_dir}; the ground truth must use the MOTChallenge layout "
                        "(GT_DIR/SEQ/gt/gt.txt with GT_DIR/SEQ/seqinfo.ini).")
    names = {p.name for p in seq_dirs}
    extra = sorted(p.stem for p in pred_dir.glob("*.txt") if p.stem not in names)
    if extra:
        raise DataError(f"Prediction files without ground truth: {', '.join(extra)}.txt; name each result file "
                        f"after a sequence folder of {gt_dir} ({', '.join(sorted(names))}).")
    seqs = []
    for d in seq_dirs:
        pred = pred_dir / f"{d.name}.txt"
        if not pred.is_file():
            raise DataError(f"No tracking result {pred} for sequence {d.name}; write one MOT result file per "
                            "sequence, named SEQ.txt (an empty file for a sequence without tracks).")
        seqinfo = d / "seqinfo.ini"
        if settings.distractors and not seqinfo.is_file():
            raise DataError(f"{seqinfo} is missing; TVD scoring needs it (seqLength bounds the distractor step).")
        seqs.append(MotSequence(d.name, read_gt(d / "gt" / "gt.txt", settings.name), read_tracks(pred, pred_offset),
                                seqinfo if seqinfo.is_file() else None))
    return evaluate_sequences(seqs, settings.name)
