"""Scoring rules of a run directory: unverified bitstreams are reported, not scored; missing jobs leave a point out."""

from __future__ import annotations

import json

import pytest

from vcmbench import RESULTS_VERSION
from vcmbench.core.errors import EvaluationError
from vcmbench.core.jsonio import write_json
from vcmbench.run.store import RunStore


def _det(boxes, scores, labels, size):
    return {"image_size": list(size), "boxes": boxes, "scores": scores, "labels": labels}


def _rec(job_id, image, w, h, qp, bits, verified):
    return {"job_id": job_id, "image_id": image, "scale": 1.0, "qp": qp, "width": w, "height": h, "coded_width": w,
            "coded_height": h, "bits": bits, "verified": verified, "verdict": "ok" if verified else "not decodable: x",
            "encode_seconds": 1.0, "decode_seconds": 0.5, "task_seconds": 0.1, "bitstream": f"bitstreams/{job_id}.266",
            "side_info_bits": 0, "extra": {}, "signature": "s", "schema_version": 1}


@pytest.fixture
def run_dir(tmp_path):
    """A hand-made run of the demo condition (reference-output GT): 2 images x QPs 30, 40, 50."""
    from vcmbench.conditions import load_condition

    cond = load_condition("demo")
    d = tmp_path / "run"
    images = [{"image_id": "a", "eval_id": 1, "width": 100, "height": 50, "digest": "x", "path": None, "sample": "a"},
              {"image_id": "b", "eval_id": 2, "width": 60, "height": 40, "digest": "y", "path": None, "sample": "b"}]
    jobs = [{"job_id": "ra", "kind": "reference", "image_id": "a", "scale": 1.0, "qp": 0},
            {"job_id": "rb", "kind": "reference", "image_id": "b", "scale": 1.0, "qp": 0}]
    for qp in (30, 40, 50):
        jobs += [{"job_id": f"a{qp}", "kind": "code", "image_id": "a", "scale": 1.0, "qp": qp},
                 {"job_id": f"b{qp}", "kind": "code", "image_id": "b", "scale": 1.0, "qp": qp}]
    run = {"label": "t", "codec_signature": "vvenc-x#1", "task_signature": "ssd#1", "qps": [30, 40, 50], "scales": [1.0],
           "images": images, "jobs": jobs, "data_dir": None}
    with RunStore(d) as st:
        write_json(d / "condition.json", cond.to_dict())
        write_json(d / "run.json", run)
        cat = _det([[10, 10, 50, 40]], [0.9], ["cat"], (100, 50))
        dog = _det([[5, 5, 30, 30]], [0.8], ["dog"], (60, 40))
        st.put("ra", "reference", "a", None, None, {}, cat)
        st.put("rb", "reference", "b", None, None, {}, dog)
        st.put("a30", "code", "a", 1.0, 30, _rec("a30", "a", 100, 50, 30, 8000, True), cat)
        st.put("b30", "code", "b", 1.0, 30, _rec("b30", "b", 60, 40, 30, 4000, True), dog)
        st.put("a40", "code", "a", 1.0, 40, _rec("a40", "a", 100, 50, 40, 3000, True), cat)
        st.put("b40", "code", "b", 1.0, 40, _rec("b40", "b", 60, 40, 40, 1000, False), None)
        st.put("a50", "code", "a", 1.0, 50, _rec("a50", "a", 100, 50, 50, 500, True), _det([], [], [], (100, 50)))
        # b50 never finished
    return d


def test_unverified_excluded_from_rate_and_accuracy_and_missing_point_left_out(run_dir):
    from vcmbench.run.resultset import build_result_set

    rs = build_result_set(run_dir)
    pts = {p.qp: p for p in rs.points}
    assert sorted(pts) == [30, 40]  # QP 50 misses a job: left out
    assert pts[30].bits == 12000 and pts[30].pixels == 5000 + 2400 and pts[30].bpp == 12000 / 7400
    assert pts[30].accuracy["AP"] == pytest.approx(1.0) and pts[30].failed == 0
    p = pts[40]
    assert p.failed == 1 and p.images == 1 and p.bits == 3000 and p.pixels == 5000 and p.bpp == 3000 / 5000
    assert p.accuracy["AP"] == pytest.approx(1.0)  # scored on image a only (GT restricted to it)
    assert p.extra["not_verified"] == {"b": "not decodable: x"}
    notes = " | ".join(rs.notes)
    assert "QP 40: 1 of 2 bitstream(s) failed verification" in notes and "do not publish" in notes
    assert "QP 50: left out" in notes and "reference-output" in notes
    assert "gt:reference-output" in rs.signature and "qp:30,40,50" in rs.signature and rs.signature.endswith(f"v:{RESULTS_VERSION}")
    assert json.loads((run_dir / "resultset.json").read_text())["label"] == "t"


def test_points_of_many_images_are_scored_in_a_helper_process_with_the_same_numbers(run_dir, monkeypatch):
    """Issue 27: from SCORE_APART_FROM images per point, the point is scored in a spawned helper (the parent's memory
    stays flat at CTC scale); the numbers equal in-process scoring."""
    from vcmbench.run import resultset
    from vcmbench.run.scoring import Scorer

    here = resultset.build_result_set(run_dir, write=False)
    monkeypatch.setattr(resultset, "SCORE_APART_FROM", 1)

    def not_here(*a, **k):
        raise AssertionError("scored in the parent")
    monkeypatch.setattr(Scorer, "score", not_here)
    apart = resultset.build_result_set(run_dir, write=False)
    assert [(p.qp, p.accuracy, p.bpp, p.extra) for p in apart.points] == [(p.qp, p.accuracy, p.bpp, p.extra) for p in here.points]
    assert apart.notes == here.notes and apart.signature == here.signature


def test_no_scorable_point_is_an_error(run_dir):
    from vcmbench.run.resultset import build_result_set

    run = json.loads((run_dir / "run.json").read_text())
    run["qps"] = [50]
    write_json(run_dir / "run.json", run)
    with pytest.raises(EvaluationError, match="No rate point"):
        build_result_set(run_dir)


def test_oid_scoring_of_a_subset_with_perfect_predictions(oid_dir, tmp_path):
    """Source of the ground truth: the MPEG VCM OpenImages V6 5k detection CSVs (../shared/data/openimages-vcm).
    Predictions equal to the GT boxes of two images score mAP 1 on the GT restricted to those images."""
    import pandas as pd

    from vcmbench.conditions import load_condition
    from vcmbench.run.resultset import build_result_set

    boxes = pd.read_csv(oid_dir / "detection_validation_5k_bbox.csv")
    classes = set((oid_dir / "selected_classes.txt").read_text().split())
    ok = boxes[boxes.LabelName.isin(classes)].groupby("ImageID").filter(lambda g: (g.IsGroupOf == 0).all())
    ids = sorted(ok.ImageID.unique())[:2]
    d = tmp_path / "run"
    images = [{"image_id": i, "eval_id": n + 1, "width": 1000, "height": 500, "digest": i, "path": None, "sample": None}
              for n, i in enumerate(ids)]
    jobs = [{"job_id": f"c{i}", "kind": "code", "image_id": i, "scale": 1.0, "qp": 22} for i in ids]
    run = {"label": "t", "codec_signature": "vtm-12.0#1", "task_signature": "d2#1", "qps": [22], "scales": [1.0],
           "images": images, "jobs": jobs, "data_dir": str(oid_dir)}
    with RunStore(d) as st:
        write_json(d / "condition.json", load_condition("vcm-oiv6-det").to_dict())
        write_json(d / "run.json", run)
        for i in ids:
            g = ok[ok.ImageID == i]
            det = _det([[r.XMin * 1000, r.YMin * 500, r.XMax * 1000, r.YMax * 500] for r in g.itertuples()],
                       [0.9] * len(g), [n.replace("_", " ") for n in g.LabelName], (1000, 500))
            st.put(f"c{i}", "code", i, 1.0, 22, _rec(f"c{i}", i, 1000, 500, 22, 1000, True), det)
    rs = build_result_set(d)
    (p,) = rs.points
    assert p.accuracy == {"map50": pytest.approx(1.0)} and p.images == 2
    assert rs.quality_key == "map50" and "map:oid-challenge-bbox" in rs.signature and "OID" in rs.metric
