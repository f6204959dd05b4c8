"""A hand-made video run directory per the run storage contract (plan s4 common.md): run.json with
``"video": true``, ``sequences``, ``classes``, ``qps_by_sequence``; a real RunStore with one ``code`` row per
sequence x QP and one ``reference`` row per sequence, predictions ``{"frames": [Detections JSON ...]}``.

Class D holds the three class-D-named sequences of ``tests.golden.video_constructed`` (the inputs on which
CompressAI-Vision's own code was run for ``test_video_aggregation_golden.py``); class C two more sequences
made from the same generator under other names (other frames, QP indices shifted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.golden import video_constructed as vc
from vcmbench.core.jsonio import write_json
from vcmbench.run.store import RunStore

NAMES = {c["id"]: c["name"].lower() for c in vc.CATEGORIES}  # detector class names (COCO spelling)
# (name, generator index, frames, fps, qp-index shift, bits per QP)
C_SEQS = (("ConstructedC1_416x240_50", 0, 5, 50, 1, (900_008, 450_000, 220_000)),
          ("ConstructedC2_416x240_60", 2, 3, 60, 2, (700_000, 333_336, 160_000)))
QPS_C = (27, 32, 37)


def detections(preds: list[dict[str, Any]], frames: int, size=(416, 240)) -> list[dict[str, Any]]:
    """COCO result dicts (category ids of vc.CATEGORIES) -> one Detections JSON per frame, boxes x1y1x2y2."""
    out = [{"image_size": list(size), "boxes": [], "scores": [], "labels": []} for _ in range(frames)]
    for p in preds:
        x, y, w, h = p["bbox"]
        d = out[int(p["image_id"])]
        d["boxes"].append([x, y, x + w, y + h])
        d["scores"].append(p["score"])
        d["labels"].append(NAMES[p["category_id"]])
    return out


def _rec(job_id: str, name: str, qp: int, bits: int, frames: int, fps: float, verified: bool = True) -> dict:
    return {"job_id": job_id, "image_id": name, "scale": 1.0, "qp": qp, "width": 416, "height": 240,
            "coded_width": 416, "coded_height": 240, "bits": bits, "verified": verified,
            "verdict": "ok" if verified else "picture 3: MD5 mismatch", "encode_seconds": 1.0,
            "decode_seconds": 0.5, "task_seconds": 0.1, "bitstream": f"bitstreams/{name}_qp{qp}.266",
            "side_info_bits": 0, "extra": {"frames": frames, "fps": fps, "kbps": bits * fps / 1000 / frames},
            "signature": "s", "schema_version": 1}


def sequences() -> list[dict[str, Any]]:
    """(name, class, gt index, frames, fps, qp shift, bits, qps) of every sequence of the run."""
    out = []
    for i, (name, frames, fps) in enumerate(vc.SEQUENCES):
        out.append({"name": name, "cls": "D", "gen": i, "frames": frames, "fps": fps, "shift": 0,
                    "bits": vc.BITS[name], "qps": vc.QPS})
    for name, gen, frames, fps, shift, bits in C_SEQS:
        out.append({"name": name, "cls": "C", "gen": gen, "frames": frames, "fps": fps, "shift": shift, "bits": bits,
                    "qps": QPS_C})
    return out


def gt_of(s: dict[str, Any]) -> dict[str, Any]:
    gt = vc.ground_truth(s["gen"])
    keep = {float(f) for f in range(s["frames"])}
    return {**gt, "images": [im for im in gt["images"] if im["id"] in keep],
            "annotations": [a for a in gt["annotations"] if a["image_id"] in keep]}


def preds_of(s: dict[str, Any], q: int) -> list[dict[str, Any]]:
    return [p for p in vc.predictions(s["gen"], q + s["shift"]) if p["image_id"] < s["frames"]]


def make_run(root: Path, cond: dict[str, Any], *, label: str = "anchor", bits_scale: float = 1.0,
             unverified: tuple[str, int] | None = None, missing: tuple[str, int] | None = None,
             mode: str = "annotations", drop_class: str | None = None,
             class_scale: dict[str, float] | None = None, absent_member: str | None = None,
             extra_class: dict[str, list[str]] | None = None) -> Path:
    """Write the run directory ``root``; ``bits_scale`` scales every bit count (a cheaper 'test' codec),
    ``class_scale`` the bit counts of a class instead; ``absent_member`` names a class-D sequence the run did not
    code (a ``--sequence`` run: the condition's class is listed whole); ``extra_class`` adds classes of sequences
    that are in another class too (an optional set such as AB*)."""
    seqs = [s for s in sequences() if s["cls"] != drop_class]
    d = root
    d.mkdir(parents=True)
    ann_dir = d.parent / f"{d.name}-annotations"
    ann_dir.mkdir()
    refs, jobs = [], []
    for s in seqs:
        ann = ann_dir / f"{s['name']}.json"
        write_json(ann, gt_of(s))
        refs.append({"name": s["name"], "cls": s["cls"], "width": 416, "height": 240, "fps": float(s["fps"]),
                     "bit_depth": 8, "first_frame": 0, "frames": s["frames"], "intra_period": 32, "digest": "x",
                     "yuv": None, "frame_files": [], "annotations": str(ann) if mode == "annotations" else None,
                     "annotation_format": "coco-json", "eval_ids": list(range(s["frames"]))})
        jobs.append({"job_id": f"ref-{s['name']}", "kind": "reference", "image_id": s["name"], "scale": 1.0, "qp": 0})
        for qp in s["qps"]:
            jobs.append({"job_id": f"{s['name']}-{qp}", "kind": "code", "image_id": s["name"], "scale": 1.0, "qp": qp})
    classes: dict[str, list[str]] = {}
    for s in seqs:
        classes.setdefault(s["cls"], []).append(s["name"])
    if absent_member:
        classes["D"].append(absent_member)
    classes.update(extra_class or {})
    run = {"label": label, "codec_signature": "vvenc-1.15#ab12", "task_signature": "ssd#1", "qps": [22, 27, 32, 37],
           "scales": [1.0], "images": [], "jobs": jobs, "data_dir": None, "video": True, "sequences": refs,
           "classes": {c: classes[c] for c in sorted(classes, key=lambda c: (c[0] != "D", c))},  # D first: the run's order
           "qps_by_sequence": {s["name"]: list(s["qps"]) for s in seqs}, "structure": "low-delay", "sets": []}
    with RunStore(d) as st:
        write_json(d / "condition.json", cond)
        write_json(d / "run.json", run)
        for s in seqs:
            # reference row: the ground truth's boxes as detections (reference-output mode scores against them)
            gt = gt_of(s)
            ref_preds = [{"image_id": int(a["image_id"]), "category_id": a["category_id"], "bbox": a["bbox"],
                          "score": 0.9} for a in gt["annotations"]]
            st.put(f"ref-{s['name']}", "reference", s["name"], None, None, {},
                   {"frames": detections(ref_preds, s["frames"])})
            for q, qp in enumerate(s["qps"]):
                jid = f"{s['name']}-{qp}"
                if missing == (s["name"], qp):
                    continue
                ok = unverified != (s["name"], qp)
                bits = int(round(s["bits"][q] * (class_scale or {}).get(s["cls"], bits_scale)))
                st.put(jid, "code", s["name"], 1.0, qp, _rec(jid, s["name"], qp, bits, s["frames"], s["fps"], ok),
                       {"frames": detections(preds_of(s, q), s["frames"])} if ok else None)
    return d
