"""Video aggregation as named steps: per frame -> per sequence -> per class -> Overall.

One function per step, so a reader sees where every number is pooled and how (TrackEval's
``eval_sequence`` / ``combine_sequences`` / ``combine_classes`` is the model).  The reference is
CompressAI-Vision at commit 31165daf (InterDigitalInc/CompressAI-Vision), read, not copied:

1. **Per frame** (:func:`frame_results`): the task network's detections of one frame, as COCO result
   dicts stamped with the frame's image id in the sequence's ground truth.
2. **Per sequence** (:func:`sequence_rate`, :func:`sequence_accuracy`, :func:`sequence_result`):
   kbps = bits x fps / (1000 x frames) over the evaluated frames (``compressai_vision/run/
   eval_split_inference.py`` ``_calc_bitrate``: bytes x 8 x frameRate / (1000 x seqLength)), bpp = bits /
   (frames x W x H) beside it; COCO AP@[.5:.95] by pycocotools over the sequence's frames.
3. **Per class** at rate point *i* (:func:`class_points` picks the *i*-th lowest QP of every sequence,
   as ``scripts/metrics/utils.py`` ``get_eval_info_path_by_seq_name`` sorts the ``qp*`` folders):

   * rate (:func:`class_rate`): ``scripts/metrics/gen_mpeg_cttc_csv.py`` ``compute_per_class_results``
     weights every column by the sequence's duration len = frames / fps: sum(kbps x len) / sum(len).
     That equals the class's total bits / total seconds / 1000 (kbps x len = bits / 1000).  The class bpp
     beside it is sum(bits) / sum(frames x W x H) (vcmbench's; the reference reports no video bpp);
   * accuracy (:func:`pool_class` + :func:`class_accuracy`): ``scripts/metrics/compute_per_class_map.py``
     ``compute_per_class_mAP`` renumbers every sequence's image ids with an offset per sequence (in
     the class's sequence order), numbers the annotations 1..N over the class, takes the categories
     of the FIRST sequence, and runs ONE pycocotools bbox evaluation over all frames of the class: a
     pooled AP, not a mean of the sequences' APs.  AP50 comes from the same evaluation.
4. **Overall** (:func:`overall`): the arithmetic mean over the classes.  No public source computes it
   (the reference framework stops at the class rows; the MPEG reporting template is not public): this
   is the rule issue 22 and DESIGN.md state, applied to whatever per-class figure is given (e.g. the
   classes' BD-rates).

The final CSV of the reference (``final_SFU.csv``, ``final_TVD.csv``, ``final_HIEVE.csv``,
:func:`write_final_csv` / :func:`read_final_csv`): a pandas ``to_csv`` with the index as first, unnamed
column, then ``Dataset, qp, bitrate (kbps), end_accuracy`` (the reference appends its timing columns,
duration-weighted too); the sequence rows then the class rows (``qp`` = the rank of the rate point, not a
QP); accuracy in percent (x 100) "for the MPEG template".  Two layouts, by the reference's function:

* detection (``generate_csv_classwise_video_map``, SFU): sequence rows in class order (its ``ds_rank``),
  then QP; class rows named ``CLASS-AB``, ``CLASS-C``…; the class figure the pooled AP (or AP50);
* tracking (``generate_csv_classwise_video_mota``, TVD and HiEve): sequence rows sorted by sequence NAME
  (``sort_values(by=["Dataset", "qp"])``: ``hieve-13, hieve-16, hieve-17, hieve-18, hieve-2``), then QP;
  class rows named as its ``__main__`` names them, without a prefix: ``TVD``; ``HIEVE-1080P``,
  ``HIEVE-720P``; a sequence row holds the sequence's MOTA, a class row the OVERALL row's MOTA
  (``metrics.mot``).  The class rate is the same duration-weighted kbps (``compute_per_class_results``).

Stored values here are fractions (AP 0.4123); the CSV functions convert to and from percent.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..core.errors import DataError, EvaluationError
from .coco import coco_evaluate
from .rate import kbps as _kbps

OFFSET_STEP = 10_000  # image-id offset between pooled sequences (the reference: 10000 x position)
CSV_COLUMNS = ("Dataset", "qp", "bitrate (kbps)", "end_accuracy")
# The class rows' names in gen_mpeg_cttc_csv.py @31165daf ``__main__`` without the CLASS- prefix: the tracking
# classes (dataset TVD, mode FCM: tvd_all; dataset HIEVE: hieve).  Every other class row starts with CLASS-.
TRACKING_CLASSES = {"TVD": ("TVD",), "HIEVE": ("HIEVE-1080P", "HIEVE-720P")}
TRACKING_METRICS = frozenset({"mota"})  # a final CSV of these has the tracking layout (generate_csv_classwise_video_mota)


# ---- 1. per frame -----------------------------------------------------------------------------------
def frame_results(image_id: int, detections: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One frame's detections as COCO result dicts (``category_id``, ``bbox`` [x, y, w, h], ``score``)
    stamped with the frame's ``image_id`` in its sequence's ground truth."""
    if isinstance(image_id, bool) or not isinstance(image_id, int):
        raise DataError(f"frame image id {image_id!r} is not an integer; use the id of the frame in the sequence's "
                        "ground truth.")
    out = []
    for i, d in enumerate(detections):
        miss = [k for k in ("category_id", "bbox", "score") if k not in d]
        if miss:
            raise DataError(f"frame {image_id}: detection {i} lacks {', '.join(miss)}; give COCO result dicts.")
        out.append({"image_id": image_id, "category_id": d["category_id"], "bbox": [float(x) for x in d["bbox"]],
                    "score": float(d["score"])})
    return out


# ---- 2. per sequence --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SequenceResult:
    """One sequence at one QP: its rate and accuracy over its evaluated frames."""

    name: str
    qp: int
    bits: int
    frames: int
    fps: float
    width: int
    height: int
    accuracy: dict[str, float] = field(default_factory=dict)  # COCO stats as fractions (AP, AP50, …)

    @property
    def kbps(self) -> float:
        return sequence_rate(self.bits, self.fps, self.frames, self.width, self.height)[0]

    @property
    def bpp(self) -> float:
        return sequence_rate(self.bits, self.fps, self.frames, self.width, self.height)[1]

    @property
    def seconds(self) -> float:
        """The sequence's duration, frames / fps: its weight in the class rate."""
        return self.frames / float(self.fps)


def sequence_rate(bits: int, fps: float, frames: int, width: int, height: int) -> tuple[float, float]:
    """(kbps, bpp) of one sequence's bitstream: kbps = bits x fps / (1000 x frames); bpp = bits /
    (frames x width x height), frames = the evaluated (coded) frames."""
    k = _kbps(bits, fps, frames)
    for what, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise DataError(f"{what} = {v!r} must be a positive number of pixels.")
    return k, bits / (frames * width * height)


def sequence_accuracy(gt: Mapping[str, Any] | str, predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """COCO AP@[.5:.95], AP50… (fractions) of one sequence: one pycocotools bbox evaluation over its frames."""
    return coco_evaluate(gt, [dict(p) for p in predictions], "bbox")


def sequence_result(name: str, qp: int, bits: int, frames: int, fps: float, width: int, height: int,
                    gt: Mapping[str, Any] | None = None,
                    predictions: Sequence[Mapping[str, Any]] | None = None) -> SequenceResult:
    """A sequence's result at one QP (accuracy computed when ``gt`` and ``predictions`` are given)."""
    acc = sequence_accuracy(gt, predictions or []) if gt is not None else {}
    sequence_rate(bits, fps, frames, width, height)  # checks the numbers
    return SequenceResult(name, int(qp), int(bits), int(frames), float(fps), int(width), int(height), acc)


# ---- 3. per class -----------------------------------------------------------------------------------
def class_points(per_sequence: Mapping[str, Sequence[SequenceResult]]) -> list[list[SequenceResult]]:
    """Rate point *i* of a class = the *i*-th lowest QP of every sequence (in the class's sequence order).
    Every sequence must have the same number of QPs (the reference asserts it)."""
    if not per_sequence:
        raise EvaluationError("A class needs at least one sequence.")
    counts = {name: len(rs) for name, rs in per_sequence.items()}
    if len(set(counts.values())) != 1:
        raise EvaluationError(f"The sequences of a class have different numbers of rate points {counts}; "
                              "run every sequence at the same number of QPs.")
    ordered = [sorted(rs, key=lambda r: r.qp) for rs in per_sequence.values()]
    for name, rs in zip(per_sequence, ordered):
        if len({r.qp for r in rs}) != len(rs):
            raise EvaluationError(f"Sequence {name} has two results at the same QP; keep one per QP.")
    return [[rs[i] for rs in ordered] for i in range(len(ordered[0]))]


def class_rate(point: Sequence[SequenceResult]) -> tuple[float, float]:
    """(kbps, bpp) of a class at one rate point: kbps duration-weighted, sum(kbps x len) / sum(len) with
    len = frames / fps (= total bits / total seconds / 1000); bpp = sum(bits) / sum(frames x W x H)."""
    if not point:
        raise EvaluationError("A class rate point needs at least one sequence.")
    total_len = sum(r.seconds for r in point)
    k = (1.0 / total_len) * sum(r.kbps * r.seconds for r in point)  # the reference's order of operations
    bpp = sum(r.bits for r in point) / sum(r.frames * r.width * r.height for r in point)
    return k, bpp


def pool_class(sequences: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
               offset_step: int = OFFSET_STEP) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(ground truth, predictions) of a class pooled over its sequences (``(gt, predictions)`` each, in the
    class's order): image ids + offset x (position + 1), annotations numbered 1..N over the class,
    categories of the first sequence."""
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    preds: list[dict[str, Any]] = []
    categories = None
    for pos, (gt, seq_preds) in enumerate(sequences):
        off = offset_step * (pos + 1)
        ids = [int(im["id"]) for im in gt["images"]]
        if ids and (min(ids) < 0 or max(ids) >= offset_step):
            raise DataError(f"Sequence {pos + 1} of the class has image ids outside 0..{offset_step - 1}; pooling "
                            "offsets them by a multiple of that step — renumber the frames from 0.")
        for im in gt["images"]:
            images.append({**im, "id": int(im["id"]) + off})
        for a in gt["annotations"]:
            anns.append({**a, "id": len(anns) + 1, "image_id": int(a["image_id"]) + off})
        for p in seq_preds:
            preds.append({**p, "image_id": int(p["image_id"]) + off})
        if categories is None:
            categories = [dict(c) for c in gt["categories"]]
    if categories is None:
        raise EvaluationError("A class needs at least one sequence.")
    return {"images": images, "annotations": anns, "categories": categories}, preds


def class_accuracy(sequences: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]) -> dict[str, float]:
    """COCO AP@[.5:.95], AP50… (fractions) of a class at one rate point: ONE pycocotools evaluation over
    all frames of its sequences (:func:`pool_class`), not a mean of the sequences' APs."""
    gt, preds = pool_class(sequences)
    return coco_evaluate(gt, preds, "bbox")


# ---- 4. Overall -------------------------------------------------------------------------------------
def overall(per_class: Mapping[str, float]) -> float:
    """The mean over the classes of a per-class figure (e.g. BD-rate).  No public source computes it
    (see the module doc); a class without a value is an error, never skipped."""
    if not per_class:
        raise EvaluationError("Overall needs at least one class.")
    vals = []
    for cls, v in per_class.items():
        if v is None or not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise EvaluationError(f"Class {cls} has no value ({v!r}); Overall is the mean over all classes — "
                                  "compute every class first.")
        vals.append(float(v))
    return sum(vals) / len(vals)


# ---- the reference's final CSV (final_SFU.csv) -------------------------------------------------------
@dataclass(frozen=True)
class CsvRow:
    """One row of a final CSV: a sequence at a QP, or a class at a rate point (``qp`` = the rank)."""

    dataset: str
    qp: int
    kbps: float
    accuracy: float  # a fraction (the CSV holds percent)
    is_class: bool


def is_tracking_metric(metric: str) -> bool:
    """Whether a final CSV of ``metric`` has the tracking layout (MOTA: ``final_TVD.csv``, ``final_HIEVE.csv``)."""
    return str(metric).strip().lower() in TRACKING_METRICS


def class_row_name(cls: str) -> str:
    """A class's ``Dataset`` in the final CSV as the reference names it: the tracking classes as they are (``TVD``,
    ``HIEVE-1080P``, ``HIEVE-720P``), every other class ``CLASS-<class>`` (``CLASS-AB``, ``CLASS-C``…)."""
    if cls.upper().startswith("CLASS-") or is_class_name(cls):
        return cls
    return f"CLASS-{cls}"


def is_class_name(name: str) -> bool:
    """Whether a final CSV's ``Dataset`` names a class: ``CLASS-…`` or one of :data:`TRACKING_CLASSES`."""
    return str(name).upper().startswith("CLASS-") or str(name) in {c for cs in TRACKING_CLASSES.values() for c in cs}


def final_csv_rows(sequences: Mapping[str, Sequence[SequenceResult]], classes: Mapping[str, Sequence[str]],
                   class_accuracies: Mapping[str, Sequence[float]], metric: str = "AP") -> list[CsvRow]:
    """The rows of a final CSV: every sequence of ``classes`` once, then per class and rate point the
    duration-weighted kbps and the class accuracy (``class_accuracies[cls][i]``, a fraction).  Detection
    (``metric`` AP or AP50, which picks the class rows' figure): sequences in class order, each holding AP, as
    the reference's per-sequence rows always do.  Tracking (``metric`` MOTA): sequences sorted by name, each
    holding its MOTA (``accuracy["MOTA"]``), as ``generate_csv_classwise_video_mota`` sorts and fills them."""
    rows = []
    names = list(dict.fromkeys(n for ns in classes.values() for n in ns))  # a sequence of two classes: once
    seq_key = "AP"
    if is_tracking_metric(metric):
        names, seq_key = sorted(names), metric
    for name in names:
        for r in sorted(sequences[name], key=lambda r: r.qp):
            rows.append(CsvRow(name, r.qp, r.kbps, r.accuracy.get(seq_key, float("nan")), False))
    for cls, names in classes.items():
        points = class_points({n: sequences[n] for n in names})
        accs = list(class_accuracies[cls])
        if len(accs) != len(points):
            raise EvaluationError(f"Class {cls}: {len(accs)} {metric} values for {len(points)} rate points.")
        for i, (pt, acc) in enumerate(zip(points, accs)):
            rows.append(CsvRow(cls, i, class_rate(pt)[0], acc, True))
    return rows


def write_final_csv(rows: Sequence[CsvRow]) -> str:
    """The CSV text as the reference writes it (pandas ``to_csv``: index first, floats as ``repr``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["", *CSV_COLUMNS])
    for i, r in enumerate(rows):
        for what, v in (("kbps", r.kbps), ("accuracy", r.accuracy)):
            if not math.isfinite(v):
                raise EvaluationError(f"{r.dataset} qp {r.qp}: {what} is {v}; no row is written without its number.")
        w.writerow([i, r.dataset, r.qp, repr(float(r.kbps)), repr(float(r.accuracy) * 100.0)])
    return buf.getvalue()


def read_final_csv(text: str, class_names: Sequence[str] | None = None) -> list[CsvRow]:
    """Rows of a final CSV (ours or the reference's, extra columns ignored).  A row is a class row when
    its ``Dataset`` is in ``class_names`` (default: :func:`is_class_name`, ``CLASS-…`` or the reference's
    tracking classes ``TVD``, ``HIEVE-1080P``, ``HIEVE-720P``); accuracy back to a fraction."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("The final CSV is empty; give a final_*.csv file.") from None
    try:
        col = {name: header.index(name) for name in CSV_COLUMNS}
    except ValueError:
        raise DataError(f"The final CSV header {header[:6]} lacks one of {list(CSV_COLUMNS)}; give a final_*.csv "
                        "written by CompressAI-Vision's gen_mpeg_cttc_csv.py or vcmbench.") from None
    out = []
    for n, row in enumerate(reader, 2):
        if not row:
            continue
        try:
            name = row[col["Dataset"]]
            qp = int(float(row[col["qp"]]))
            k = float(row[col["bitrate (kbps)"]])
            acc = float(row[col["end_accuracy"]]) / 100.0
        except (IndexError, ValueError):
            raise DataError(f"Final CSV line {n}: {row[:6]} is not Dataset, qp, kbps, accuracy; fix the file.") from None
        if not (math.isfinite(k) and math.isfinite(acc)):
            raise DataError(f"Final CSV line {n}: a number is not finite; fix the file.")
        is_class = name in class_names if class_names is not None else is_class_name(name)
        out.append(CsvRow(name, qp, k, acc, is_class))
    return out
