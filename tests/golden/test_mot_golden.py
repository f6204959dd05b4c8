"""vcmbench's tracking metrics equal the reference framework's own evaluation, number for number.

Golden values: tests/golden/mot_reference.json, recorded by tests/golden/record_mot_golden.py, which
executes CompressAI-Vision @31165daf's own ``MOT_TVD_Eval`` / ``MOT_HiEve_Eval`` (``digest`` +
``mot_eval``: the per-sequence figures) and ``scripts/metrics/compute_per_class_mota.py`` (the class
OVERALL row, and ``summary.values[-1][13] * 100`` = the class MOTA of its final CSV) with motmetrics
1.4.0 on NumPy 1.24 / pandas 2.0 (the reference's lock), outside the repository.  Here the same
constructed sequences (tests/golden/mot_constructed.py: id switches, fragmentations, misses, false
positives, duplicates, distractor classes, visibility < 0, confidence-0 rows, frames without ground
truth, tracks past seqLength, exact ties) go through vcmbench's MOT-file path (``evaluate_dirs``, the
``vcmbench evaluate mot`` code) on this environment's NumPy 2 / pandas.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from tests.golden.mot_constructed import cases
from vcmbench.metrics.mot import COUNT_METRICS, METRICS, evaluate_dirs

GOLDEN = json.loads(Path(__file__).with_name("mot_reference.json").read_text())
CASES = cases()


def _layout(tmp: Path, case: dict) -> tuple[Path, Path]:
    gt_dir, pred_dir = tmp / "gt", tmp / "pred"
    pred_dir.mkdir(parents=True)
    for seq in case["sequences"]:
        d = gt_dir / seq.name
        (d / "gt").mkdir(parents=True)
        (d / "gt" / "gt.txt").write_text(seq.gt_text)
        (d / "seqinfo.ini").write_text(seq.seqinfo_text)
        (pred_dir / f"{seq.name}.txt").write_text(seq.pred_text)
    return gt_dir, pred_dir


def _equal(ours: dict, ref: dict, where: str) -> None:
    for k in METRICS:
        a, b = ours[k], ref[k]
        if k in COUNT_METRICS:
            assert a == b, f"{where} {k}: {a} != {b}"
        elif b is None:
            assert a is None, f"{where} {k}: {a} != NaN"
        else:
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), f"{where} {k}: {a!r} != {b!r}"


def test_golden_covers_every_case_and_the_inputs_are_the_recorded_ones():
    assert [(c["dataset"], c["class"]) for c in CASES] == [(c["dataset"], c["class"]) for c in GOLDEN["cases"]]
    for case, rec in zip(CASES, GOLDEN["cases"]):
        for seq, inp in zip(case["sequences"], rec["inputs"], strict=True):
            assert inp["name"] == seq.name
            assert hashlib.sha256(seq.gt_text.encode()).hexdigest() == inp["gt_sha256"]
            assert hashlib.sha256(seq.pred_text.encode()).hexdigest() == inp["pred_sha256"]
    assert GOLDEN["versions"]["numpy"].startswith("1."), "the reference must have run on NumPy 1"
    assert GOLDEN["versions"]["motmetrics"] == "1.4.0"


@pytest.mark.parametrize("idx", range(len(CASES)), ids=[c["class"] for c in CASES])
def test_sequences_and_class_row_equal_the_reference(tmp_path, idx):
    case, rec = CASES[idx], GOLDEN["cases"][idx]
    assert rec["columns"] == list(METRICS) and rec["columns"][13] == "mota"
    gt_dir, pred_dir = _layout(tmp_path, case)
    assert rec["pred_offset"] == case.get("pred_offset", False)
    res = evaluate_dirs(gt_dir, pred_dir, case["dataset"], pred_offset=case.get("pred_offset", False))
    assert sorted(res.sequences) == sorted(rec["sequences"])
    for name, ref in rec["sequences"].items():
        _equal(res.sequences[name], ref, name)
    _equal(res.overall, rec["overall"], "OVERALL")
    assert math.isclose(res.overall["mota"] * 100.0, rec["class_mota_pct"], rel_tol=1e-12)


def test_the_two_datasets_settings_give_different_numbers_on_the_same_tracks():
    """The BOTH-* cases score identical files with TVD's and HiEve's settings: the reference's
    numbers differ (distractor step + class-1 filter vs min_confidence=1), and so do ours."""
    recs = {c["class"]: c for c in GOLDEN["cases"]}
    for c in range(3):
        tvd, hieve = recs[f"BOTH-C{c:02d}-TVD"], recs[f"BOTH-C{c:02d}-HIEVE"]
        assert tvd["overall"]["mota"] != hieve["overall"]["mota"]
        assert tvd["overall"]["num_unique_objects"] != hieve["overall"]["num_unique_objects"] or \
            tvd["overall"]["num_false_positives"] != hieve["overall"]["num_false_positives"]
