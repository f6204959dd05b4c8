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

The final CSV of the reference (``final_SFU.csv``, :func:`write_final_csv` / :func:`read_final_csv`):
a pandas ``to_csv`` with the index as first, unnamed column, then ``Dataset, qp, bitrate (kbps),
end_accuracy`` (the reference appends its timing columns, duration-weighted too); the sequence rows
(sorted by class order and QP) then the class rows (``Dataset`` = ``CLASS-AB``…, ``qp`` = the rank of
the rate point, not a QP); accuracy in percent (x 100) "for the MPEG template".

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


def final_csv_rows(sequences: Mapping[str, Sequence[SequenceResult]], classes: Mapping[str, Sequence[str]],
                   class_accuracies: Mapping[str, Sequence[float]], metric: str = "AP") -> list[CsvRow]:
    """The rows of ``final_SFU.csv``: every sequence of ``classes`` once (class order, then QP), then per class
    and rate point the duration-weighted kbps and the pooled accuracy (``class_accuracies[cls][i]``,
    a fraction).  ``metric`` (AP or AP50) picks the class rows' figure; the sequence rows hold AP, as the
    reference's per-sequence rows always do."""
    rows = []
    for name in dict.fromkeys(n for names in classes.values() for n in names):  # a sequence of two classes: once
        for r in sorted(sequences[name], key=lambda r: r.qp):
            rows.append(CsvRow(name, r.qp, r.kbps, r.accuracy.get("AP", float("nan")), False))
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
    its ``Dataset`` is in ``class_names`` (default: names starting with ``CLASS-``); accuracy back to a
    fraction."""
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
        is_class = name in class_names if class_names is not None else name.startswith("CLASS-")
        out.append(CsvRow(name, qp, k, acc, is_class))
    return out
