"""What the results of every video run share, COCO AP (``run.video_results``) or MOTA (``run.video_mot``): the
``VideoResults`` rows object, the run's layout read from ``run.json`` (sequences, the classes that can be scored,
jobs by sequence and QP), the Overall rows (mean of the class figures), and the result files -- the final CSV
(``metrics.video``'s layouts) and the result set (sequence points with ``qp`` = the QP, class points with ``qp`` =
the rank).  Split out of ``run.video_results`` so that both scorers import it and neither imports the other."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..core.errors import DataError, EvaluationError
from ..core.jsonio import atomic_write_text, read_json, write_json
from ..core.records import RatePoint, ResultSet
from ..metrics import video as V

VIDEO_RESULTS_FILE = "video-results.json"
TIME_KEYS = ("encode_seconds", "decode_seconds", "task_seconds")
RESULTSET_FILE = "resultset.json"


OVERALL_RULE = ("Overall = the mean over the classes (issue 22 and DESIGN.md 5.7; no public source computes it: "
                "CompressAI-Vision @31165daf stops at the class rows)")


@dataclass
class VideoResults:
    """Every number of a video run, as rows (fractions for accuracies, kbps, bpp), and where it was written."""

    condition: str
    dataset: str
    label: str
    codec: str
    signature: str
    metric: str
    quality_key: str
    final_csv_name: str
    sequences: list[dict[str, Any]]  # one per sequence x QP (class order, then QP)
    classes: list[dict[str, Any]]  # one per class x rate point that could be computed
    overall: list[dict[str, Any]]  # one per rank every class has
    notes: list[str] = field(default_factory=list)
    result_set: ResultSet | None = None
    csv_text: str = ""
    reference: list[dict[str, Any]] = field(default_factory=list)  # tracking: each sequence's uncompressed tracks scored

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("result_set")
        d.pop("csv_text")
        d["overall_rule"] = OVERALL_RULE
        return d


def _eval_ids(ref: Mapping[str, Any]) -> list[int]:
    """The ground-truth image id of each evaluated frame.  1..frames only for a sequence without an annotation
    file (reference-output): guessing ids for an annotation file could score frame k against another frame."""
    ids = [int(i) for i in (ref.get("eval_ids") or ())]
    if not ids and not ref.get("annotations"):
        return list(range(1, int(ref["frames"]) + 1))
    if len(ids) != int(ref["frames"]):
        raise DataError(f"Sequence {ref.get('name')}: the run records {len(ids)} ground-truth frame ids for "
                        f"{ref['frames']} evaluated frames; the run.json is damaged or from another vcmbench: run the "
                        "condition again into a new --out.")
    return ids


def coded_bits(rec: Mapping[str, Any]) -> int:
    """The bits a sequence job's rate counts: the bitstream's, plus the side information a feature sequence's
    condition counts (``side_info_bits``, as for images)."""
    return int(rec["bits"]) + int(rec.get("side_info_bits") or 0)

def dataset_tag(dataset_name: str) -> str:
    """The ``DATASET`` of ``final_<DATASET>.csv`` as CompressAI-Vision's ``gen_mpeg_cttc_csv.py`` spells it
    (its DATASETS: TVD, SFU, OIV6, HIEVE); another dataset: its name upper-cased, letters and digits only."""
    low = dataset_name.lower()
    for key, tag in (("sfu", "SFU"), ("tvd", "TVD"), ("hieve", "HIEVE")):
        if key in low:
            return tag
    tag = re.sub(r"[^A-Z0-9]+", "", dataset_name.upper())
    return tag or "VIDEO"


def csv_class_name(cls: str) -> str:
    """A class's ``Dataset`` in the final CSV: ``CLASS-<class>`` (the reference's CLASS-AB, CLASS-C…); the tracking
    classes as the reference names them (``TVD``, ``HIEVE-1080P``, ``HIEVE-720P``): ``metrics.video.class_row_name``."""
    return V.class_row_name(cls)


def _frames_of(name: str, pred: Mapping[str, Any] | None, frames: int, what: str) -> list[dict[str, Any]]:
    got = (pred or {}).get("frames")
    if not isinstance(got, list) or len(got) != frames:
        n = len(got) if isinstance(got, list) else "no"
        raise DataError(f"Sequence {name}: the {what} row holds {n} frame predictions for {frames} evaluated frames; "
                        "re-run `vcmbench run` to redo the job (delete its row with `vcmbench results --rebuild-store` "
                        "if it persists).")
    return got


@dataclass
class _Layout:
    """What a video run holds, read from ``run.json``: sequences, the classes scored (whole), jobs by key."""

    refs: dict[str, dict[str, Any]]
    classes: dict[str, list[str]]  # the classes that can be scored (every sequence in the run)
    run_classes: list[str]  # every class of the run (Overall needs each)
    class_of: dict[str, str]
    qps_by: dict[str, list[int]]
    code_jobs: dict[tuple[str, int], str]
    ref_jobs: dict[str, str]  # job id -> sequence name
    notes: list[str]

    def order(self) -> list[str]:
        """Sequences in class order, then those outside every scored class."""
        out = [n for ns in self.classes.values() for n in ns] + [n for n in self.refs if n not in self.class_of]
        return list(dict.fromkeys(out))


def _layout(run: dict[str, Any]) -> _Layout:
    refs = {r["name"]: r for r in run["sequences"]}
    classes: dict[str, list[str]] = {c: list(ns) for c, ns in (run.get("classes") or {}).items()}
    if not classes:
        by: dict[str, list[str]] = {}
        for r in run["sequences"]:
            by.setdefault(r["cls"], []).append(r["name"])
        classes = by
    notes: list[str] = []
    run_classes = list(classes)  # Overall needs every one of them
    for cls in list(classes):  # a class is scored over all its sequences or not at all
        absent = [n for n in classes[cls] if n not in refs]
        if absent or not classes[cls]:
            notes.append(f"class {cls}: left out — " + (f"{len(absent)} of its {len(classes[cls])} sequences are not "
                         f"in this run ({', '.join(absent[:3])}{', …' if len(absent) > 3 else ''}); a class is "
                         "scored over all its sequences" if absent else "it has no sequence"))
            del classes[cls]
    class_of = {n: c for c, ns in reversed(list(classes.items())) for n in ns}
    qps_by = {n: sorted(int(q) for q in qs) for n, qs in (run.get("qps_by_sequence") or {}).items()}
    code_jobs: dict[tuple[str, int], str] = {}
    ref_jobs: dict[str, str] = {}
    for j in run["jobs"]:
        if j["kind"] == "code":
            code_jobs[(j["image_id"], int(j["qp"]))] = j["job_id"]
            qps_by.setdefault(j["image_id"], [])
            if int(j["qp"]) not in qps_by[j["image_id"]]:
                qps_by[j["image_id"]] = sorted([*qps_by[j["image_id"]], int(j["qp"])])
        elif j["kind"] == "reference":
            ref_jobs[j["job_id"]] = j["image_id"]
    return _Layout(refs, classes, run_classes, class_of, qps_by, code_jobs, ref_jobs, notes)


def _overall_rows(class_rows: list[dict[str, Any]], run_classes: list[str], keys: Sequence[str],
                  notes: list[str]) -> list[dict[str, Any]]:
    """Overall per rank: the mean over the classes (only where every class of the run has the point)."""
    overall_rows: list[dict[str, Any]] = []
    for rank in sorted({r["rank"] for r in class_rows}):
        at = {r["class"]: r for r in class_rows if r["rank"] == rank}
        if set(at) != set(run_classes):
            notes.append(f"Overall rate point {rank}: not given — class(es) {sorted(set(run_classes) - set(at))} "
                         "lack it")
            continue
        acc = {k: V.overall({c: r["accuracy"].get(k) for c, r in at.items()})
               for k in keys if all(k in r["accuracy"] for r in at.values())}
        overall_rows.append({"rank": rank, "classes": run_classes, "accuracy": acc})
    return overall_rows


def _finish(run_dir: Path, run: dict[str, Any], cond: dict[str, Any], lay: _Layout, metric: str, all_notes: list[str],
            rows: list[dict[str, Any]], class_rows: list[dict[str, Any]], overall_rows: list[dict[str, Any]],
            ok: Mapping[tuple[str, int], V.SequenceResult], write: bool,
            reference: list[dict[str, Any]] | None = None) -> VideoResults:
    """The results object of scored rows (COCO AP or MOTA alike), its final CSV and result set, written when
    ``write``."""
    qps_by, classes, run_classes = lay.qps_by, lay.classes, lay.run_classes
    if not any(r["verified"] for r in rows):
        raise EvaluationError(f"No sequence of {run_dir} has a verified result: " + "; ".join(all_notes[:3]))

    from .resultset import _signature

    sig_run = dict(run)
    sig_run.setdefault("scales", [1.0])
    sig_run["qps"] = sorted({q for qs in qps_by.values() for q in qs})
    sig = str(_signature(cond, sig_run))
    qkey = cond["metric"]["quality_key"]
    tag = dataset_tag(cond["dataset"]["name"])
    vr = VideoResults(condition=f"{cond['name']}@{cond['version']}", dataset=cond["dataset"]["name"], label=run["label"],
                      codec=run["codec_signature"], signature=sig, metric=metric, quality_key=qkey,
                      final_csv_name=f"final_{tag}.csv", sequences=rows, classes=class_rows, overall=overall_rows,
                      notes=all_notes, reference=list(reference or []))
    vr.csv_text = _final_csv(vr, classes, qps_by, ok)
    vr.result_set = _result_set(vr, run, run_dir, run_classes)
    if write:
        write_json(run_dir / VIDEO_RESULTS_FILE, vr.to_dict())
        if vr.csv_text:
            atomic_write_text(run_dir / vr.final_csv_name, vr.csv_text)
        vr.result_set.save(run_dir / RESULTSET_FILE)
    return vr


def _result_set(vr: VideoResults, run: dict[str, Any], run_dir: Path, run_classes: list[str]) -> ResultSet:
    """Sequence points (``qp`` = the QP) then class points (``qp`` = the rank); ``extra`` names level and group."""
    points = []
    for r in vr.sequences:
        if not r["verified"]:
            continue
        points.append(RatePoint(scale=1.0, qp=int(r["qp"]), bits=int(r["bits"]),
                                pixels=r["frames"] * r["width"] * r["height"], bpp=float(r["bpp"]),
                                accuracy=dict(r["accuracy"]), images=r["frames"],
                                **{k: r.get(k, 0.0) for k in TIME_KEYS},
                                extra={"level": "sequence", "group": r["sequence"], "class": r["class"],
                                       "kbps": float(r["kbps"]), "fps": r["fps"], "frames": r["frames"],
                                       **({"counts": dict(r["counts"])} if r.get("counts") else {})}))
    for r in vr.classes:
        points.append(RatePoint(scale=1.0, qp=int(r["rank"]), bits=int(r["bits"]),
                                pixels=int(round(r["bits"] / r["bpp"])), bpp=float(r["bpp"]),
                                accuracy=dict(r["accuracy"]), images=r["frames"],
                                **{k: r.get(k, 0.0) for k in TIME_KEYS},
                                extra={"level": "class", "group": r["class"], "kbps": float(r["kbps"]),
                                       "rank": r["rank"], "qps": list(r["qps"]), "sequences": list(r["sequences"]),
                                       "seconds": r["seconds"],
                                       **({"counts": dict(r["counts"])} if r.get("counts") else {})}))
    provenance: dict[str, Any] = {"run_dir": str(run_dir.resolve()), "command_line": run.get("command_line"),
                                  "data_dir": run.get("data_dir"), "codec_options": run.get("codec_options"),
                                  "decoders": run.get("decoders"), "video": True, "kind": "video",
                                  "structure": run.get("structure"), "sets": run.get("sets"),
                                  "classes": {c["class"]: c["sequences"] for c in vr.classes} or None,
                                  "run_classes": [csv_class_name(c) for c in run_classes],
                                  "final_csv": vr.final_csv_name, "overall_rule": OVERALL_RULE}
    if run.get("condition_kind"):  # image or feature coding (report.summaries.kind_of: BD pairs a feature run with
        provenance["kind"] = run["condition_kind"]  # its bd.twin image run, warned; older runs: "video")
    if run.get("twin"):  # the condition on the same sequences BD may pair it with (report.summaries.twins)
        provenance["twin"] = run["twin"]
    env_p = run_dir / "env.json"
    if env_p.exists():
        provenance["env"] = read_json(env_p)
    return ResultSet(condition=vr.condition, codec=vr.codec, label=vr.label, quality_key=vr.quality_key, points=points,
                     signature=vr.signature, metric=vr.metric, dataset=vr.dataset, provenance=provenance,
                     notes=list(vr.notes))


def _final_csv(vr: VideoResults, classes: Mapping[str, Sequence[str]], qps_by: Mapping[str, Sequence[int]],
               ok: Mapping[tuple[str, int], V.SequenceResult]) -> str:
    """``final_<DATASET>.csv`` of the classes whose every sequence x QP was computed (``metrics.video``'s rows);
    a class with a left-out point is not written (a note says so): the reference's file has no gaps."""
    full = {}
    for cls, names in classes.items():
        ranks = {r["rank"] for r in vr.classes if r["class"] == cls}
        if ranks and all((n, q) in ok for n in names for q in qps_by.get(n, [])) \
                and ranks == set(range(len(qps_by.get(names[0], [])))):
            full[cls] = names
        else:
            vr.notes.append(f"final CSV: class {cls} not written — some of its rate points are left out")
    if not full:
        return ""
    seqs = {n: [ok[(n, q)] for q in qps_by[n]] for ns in full.values() for n in ns}
    accs = {csv_class_name(c): [r["accuracy"][vr.quality_key] for r in sorted(vr.classes, key=lambda r: r["rank"])
                                if r["class"] == c] for c in full}
    rows = V.final_csv_rows(seqs, {csv_class_name(c): ns for c, ns in full.items()}, accs, metric=vr.quality_key)
    return V.write_final_csv(rows)
