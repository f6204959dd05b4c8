"""Constructed tracking sequences for the MOT golden test (standard library only).

Used both by tests/golden/record_mot_golden.py (in a scratch NumPy-1 environment outside the
repository) and by tests/golden/test_mot_golden.py, so the generator must give the same text in
both: it uses ``random.Random`` (whose stream CPython keeps stable) and formats every number itself.

Each sequence: objects entering and leaving, moving linearly with integer ground-truth boxes; a
tracker that misses boxes (fragmentations), jitters them, switches ids (new id, two objects swapping
ids), emits false positives and duplicates, skips whole frames; ground truth with distractor classes
(2, 7, 8, 12), other non-pedestrian classes (3-6, 9-11, 13), visibility < 0, confidence-0 rows,
frames without ground truth, and (``seq_length`` < frames) tracks beyond seqinfo's seqLength.
``crowd`` sequences put several objects and hypotheses on identical boxes so that the assignment
has exact ties (the solver decides them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DISTRACTORS = (2, 7, 8, 12)
OTHER = (3, 4, 5, 6, 9, 10, 11, 13)


@dataclass
class ConstructedSequence:
    name: str
    gt_text: str                       # gt/gt.txt
    seqinfo_text: str                  # seqinfo.ini
    tracks: dict                       # {frame: [((x, y, w, h), id, 1.0), ...]} every frame 1..frames
    frames: int

    @property
    def pred_text(self) -> str:
        """The tracks as a MOT result file (what a tracker writes; boxes as repr of the floats)."""
        out = []
        for f in sorted(self.tracks):
            for (x, y, w, h), i, _ in self.tracks[f]:
                out.append(f"{f},{i},{x!r},{y!r},{w!r},{h!r},1,-1,-1,-1\n")
        return "".join(out)


def _sequence(name: str, seed: int, dataset: str, crowd: bool = False) -> ConstructedSequence:
    rng = random.Random(seed)
    frames = rng.randint(18, 36)
    seq_length = frames if rng.random() < 0.7 else frames - rng.randint(2, 5)
    n = rng.randint(5, 9)
    gt_rows, tracks = [], {f: [] for f in range(1, frames + 1)}
    gt_missing = {f for f in range(2, frames + 1) if rng.random() < 0.06}
    track_skip = {f for f in range(1, frames + 1) if rng.random() < 0.06}
    next_id = 1000
    for k in range(n):
        oid = k + 1
        start = rng.randint(1, max(1, frames // 3))
        end = rng.randint(min(frames, start + 5), frames)
        x, y = rng.randint(10, 500), rng.randint(10, 300)
        w, h = rng.randint(20, 90), rng.randint(40, 160)
        vx, vy = rng.uniform(-6, 6), rng.uniform(-4, 4)
        if crowd and k < 3:
            x, y, w, h, vx, vy = 200, 100, 50, 120, 0.0, 0.0
        r = rng.random()
        if dataset == "tvd":
            cls = 1 if r < 0.6 else (rng.choice(DISTRACTORS) if r < 0.85 else rng.choice(OTHER))
        else:
            cls = 1 if r < 0.8 else rng.choice((-1, 2, 7))
        vis_mode = rng.random()
        hyp = k + 1 if rng.random() < 0.8 else 50 + k
        switch_at = rng.randint(start, end) if rng.random() < 0.3 else None
        p_detect = rng.uniform(0.6, 0.98)
        jitter = rng.uniform(0.5, 6.0)
        for f in range(start, end + 1):
            bx, by = round(x + vx * (f - start)), round(y + vy * (f - start))
            conf = 0 if rng.random() < 0.05 else 1
            vis = round(rng.uniform(0.0, 1.0), 2) if vis_mode < 0.9 else -1.0
            if f not in gt_missing:
                gt_rows.append((f, oid, bx, by, w, h, conf, cls, vis))
            if switch_at is not None and f == switch_at:
                hyp, next_id = next_id, next_id + 1
            if f in track_skip or rng.random() > p_detect:
                continue
            if crowd and k < 3:
                box = (float(bx), float(by), float(w), float(h))
            else:
                box = tuple(round(v + rng.gauss(0.0, jitter), 3) for v in (bx, by, w, h))
                box = (box[0], box[1], max(box[2], 2.0), max(box[3], 2.0))
            tracks[f].append((box, hyp, 1.0))
            if rng.random() < 0.04:  # a duplicate box near the object
                dup = tuple(round(v + rng.gauss(0.0, 3.0), 3) for v in box)
                tracks[f].append(((dup[0], dup[1], max(dup[2], 2.0), max(dup[3], 2.0)), 900 + k, 1.0))
    # two objects swap their tracker ids in the middle (one id switch each)
    if n >= 2 and rng.random() < 0.5:
        mid = frames // 2
        for f in range(mid, frames + 1):
            tracks[f] = [(b, {1: 2, 2: 1}.get(i, i), c) for b, i, c in tracks[f]]
    for f in range(1, frames + 1):  # false positives
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            box = (round(rng.uniform(0, 600), 3), round(rng.uniform(0, 400), 3),
                   round(rng.uniform(10, 80), 3), round(rng.uniform(20, 150), 3))
            tracks[f].append((box, 700 + rng.randint(0, 5), 1.0))
    for f in tracks:  # one box per id and frame (the tracker's output holds each id once)
        seen, kept = set(), []
        for b, i, c in tracks[f]:
            if i not in seen:
                seen.add(i)
                kept.append((b, i, c))
        tracks[f] = kept
    gt_text = "".join(f"{f},{i},{x},{y},{w},{h},{c},{cl},{v}\n" for f, i, x, y, w, h, c, cl, v in
                      sorted(gt_rows, key=lambda r: (r[0], r[1])))
    seqinfo = (f"[Sequence]\nname={name}\nimDir=img1\nframeRate=30\nseqLength={seq_length}\n"
               "imWidth=640\nimHeight=480\nimExt=.png\n")
    return ConstructedSequence(name, gt_text, seqinfo, tracks, frames)


def cases() -> list[dict]:
    """The golden cases: per dataset, classes of 1-3 sequences (the class row pools them)."""
    out = []
    seed = 2026
    for dataset in ("tvd", "hieve"):
        for c in range(8):
            nseq = 1 + c % 3
            seqs = []
            for s in range(nseq):
                seed += 1
                seqs.append(_sequence(f"{dataset.upper()}-{c:02d}-{s + 1}", seed, dataset, crowd=(c % 4 == 3)))
            out.append({"dataset": dataset, "class": f"{dataset.upper()}-C{c:02d}", "sequences": seqs})
    # the same sequences scored with both datasets' settings (where TVD and HiEve differ)
    for c in range(3):
        seed += 1
        seqs = [_sequence(f"BOTH-{c:02d}-{s + 1}", seed * 10 + s, "tvd", crowd=(c == 2)) for s in range(2)]
        for dataset in ("tvd", "hieve"):
            out.append({"dataset": dataset, "class": f"BOTH-C{c:02d}-{dataset.upper()}", "sequences": seqs})
    # the VCM-mode TVD evaluation: tracker boxes shifted by -1 too (apply_pred_offset=True)
    out.append({**out[1], "class": "TVD-C01-PREDOFFSET", "pred_offset": True})
    return out
