"""Scoring a Cityscapes run from its store: the result layout per rate point, AP / AP50 / per class, the
cached point scores (resume, rebuild), the refusals, and ``vcmbench results`` on it (the default-run check
of the path whose slow end-to-end run is tests/integration/test_pipeline_cityscapes.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.cityscapes_fixture import handmade_run, write_cityscapes_layout
from vcmbench.core.errors import DataError

pytest.importorskip("cityscapesscripts")
NAMES = {24: "person", 25: "rider", 26: "car", 27: "truck", 28: "bus", 33: "bicycle"}


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    d = tmp_path_factory.mktemp("cs") / "data"
    return d, write_cityscapes_layout(d, 3)


def _gt(data, iid):
    with Image.open(next(data.glob(f"gtFine/val/*/{iid}_gtFine_instanceIds.png"))) as im:
        return np.asarray(im).astype(np.int64)


def _perfect(data, iid, drop=(), extra_label=None):
    """Detections JSON predicting each GT instance exactly (score falling with its rank), less ``drop``."""
    from vcmbench.tasks.base import Detections

    inst = _gt(data, iid)
    vals = [v for v in np.unique(inst) if v >= 1000 and v not in drop]
    masks = [inst == v for v in vals]
    labels = [NAMES[v // 1000] for v in vals]
    if extra_label:
        masks.append(inst == vals[0])
        labels.append(extra_label)
    boxes = np.asarray([[0, 0, 1, 1]] * len(masks), float)
    scores = np.linspace(0.9, 0.5, len(masks))
    return Detections(boxes, scores, labels, np.stack(masks), (inst.shape[1], inst.shape[0])).to_json()


def _data(run_dir):
    return Path(json.loads((run_dir / "run.json").read_text())["data_dir"])


@pytest.fixture
def run(layout, tmp_path):
    data, ids = layout
    a, b = ids[:2]
    car_b = [v for v in np.unique(_gt(data, b)) if v // 1000 == 26][0]
    preds = {37: {a: _perfect(data, a), b: _perfect(data, b, extra_label="traffic light")},
             47: {a: _perfect(data, a), b: _perfect(data, b, drop=(car_b,))},
             42: {a: _perfect(data, a)}}  # image b's job of QP 42 did not finish
    return handmade_run(tmp_path / "run", data, preds, reference=preds[37], limit=2), ids


def test_points_score_the_result_layout(run):
    from vcmbench.run.resultset import build_result_set

    d, ids = run
    rs = build_result_set(d)
    pts = {p.qp: p for p in rs.points}
    assert sorted(pts) == [37, 47] and any("QP 42: left out" in n for n in rs.notes)
    assert pts[37].accuracy == {"AP": 1.0, "AP50": 1.0}
    assert pts[37].extra["labels_left_out"] == {"traffic light": 1}
    assert set(pts[37].extra["per_class"]) == {"person", "rider", "car", "truck", "bicycle"}
    assert pts[47].accuracy["AP"] < 1.0 and pts[47].extra["per_class"]["car"]["ap"] < 1.0
    assert pts[47].extra["per_class"]["person"] == {"ap": 1.0, "ap50": 1.0}
    assert rs.provenance["uncompressed_accuracy"] == {"AP": 1.0, "AP50": 1.0}
    # the layout as written: one list per scored image, lines '<mask png> <labelId> <score>', masks non-zero on it
    folder = d / "cityscapes-results" / "100pct-qp37"
    assert sorted(p.name for p in folder.glob("*.txt")) == [f"{i}_pred.txt" for i in ids[:2]]
    first = (folder / f"{ids[0]}_pred.txt").read_text().splitlines()[0].split(" ")
    assert first[1] in {str(k) for k in NAMES} and float(first[2]) == 0.9
    with Image.open(folder / first[0]) as im:
        m = np.asarray(im.convert("L")) != 0
    inst = _gt(_data(d), ids[0])
    assert any((inst == v).sum() == m.sum() and np.array_equal(inst == v, m) for v in np.unique(inst) if v >= 1000)
    assert json.loads((folder / "score.json").read_text())["images"] == ids[:2]


def test_rebuild_reuses_unchanged_points_and_rescoring_follows_the_predictions(run, monkeypatch):
    import vcmbench.metrics.cityscapes as m
    from vcmbench.run.resultset import build_result_set
    from vcmbench.run.store import RunStore

    d, ids = run
    first = build_result_set(d)
    stamp = {p: p.stat().st_mtime_ns for p in (d / "cityscapes-results").glob("*/score.json")}
    assert len(stamp) == 3  # two points and the uncompressed images

    def refuse(*a, **k):
        raise AssertionError("an unchanged point was scored again")

    monkeypatch.setattr(m, "cityscapes_instance_ap", refuse)
    again = build_result_set(d)
    assert [p.accuracy for p in again.points] == [p.accuracy for p in first.points]
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp
    monkeypatch.undo()
    # a job's stored predictions change (e.g. re-run after a repair): its point alone is scored again
    with RunStore(d) as st:
        jid = f"c37-{ids[1]}"
        rec, _ = st.get(jid)
        st.put(jid, "code", ids[1], 1.0, 37, rec, _perfect(_data(d), ids[1], drop=(24000,)))
    third = build_result_set(d)
    assert {p.qp: p.accuracy["AP"] for p in third.points}[37] < 1.0
    assert (d / "cityscapes-results/100pct-qp47/score.json").stat().st_mtime_ns == \
        stamp[d / "cityscapes-results/100pct-qp47/score.json"]
    assert not list((d / "cityscapes-results").glob(".tmp-*"))


def test_orphaned_temporary_folders_are_removed(run):
    from vcmbench.run.resultset import build_result_set

    d, _ = run
    (d / "cityscapes-results").mkdir()
    dead = d / "cityscapes-results" / ".tmp-999999999-100pct-qp37-x"
    live = d / "cityscapes-results" / f".tmp-{os.getppid()}-100pct-qp37-y"
    dead.mkdir()
    live.mkdir()
    build_result_set(d)
    assert not dead.exists() and live.exists()


def test_refusals_name_the_fix(run, layout):
    from vcmbench.run.resultset import build_result_set
    from vcmbench.run.store import RunStore

    d, ids = run
    with RunStore(d) as st:
        rec, det = st.get(f"c37-{ids[0]}")
        st.put(f"c37-{ids[0]}", "code", ids[0], 1.0, 37, rec, {**det, "masks": None})
    with pytest.raises(DataError, match="boxes but no masks.*instance-segmentation network"):
        build_result_set(d)
    with RunStore(d) as st:
        small = dict(det, masks=[{"size": [128, 256], "counts": r["counts"]} for r in det["masks"]])
        st.put(f"c37-{ids[0]}", "code", ids[0], 1.0, 37, rec, small)
    with pytest.raises(DataError, match="mask is 256x128, the image 512x256"):
        build_result_set(d)
    data, _ = layout
    gt = next(data.glob(f"gtFine/val/*/{ids[1]}_gtFine_instanceIds.png"))
    moved = gt.with_suffix(".moved")
    gt.rename(moved)
    try:
        with pytest.raises(DataError, match=f"{ids[1]} has no ground truth"):
            build_result_set(d)
        with Image.open(moved) as im:
            im.crop((0, 0, 256, 256)).save(gt)
        with pytest.raises(DataError, match=f"is 256x256, image {ids[1]} 512x256.*verify-data"):
            build_result_set(d)
    finally:
        moved.replace(gt)


def test_results_cli_shows_ap_and_ap50(run):
    from vcmbench.cli import cli

    d, _ = run
    res = CliRunner().invoke(cli, ["results", str(d)])
    assert res.exit_code == 0, res.output
    assert "metric:    Cityscapes instance AP@[.5:.95] (cityscapesscripts) (quality axis: AP)" in res.output
    assert "AP50" in res.output and "uncompressed: AP 100.000 %, AP50 100.000 %" in res.output  # percent (core.units)
    js = json.loads(CliRunner().invoke(cli, ["results", str(d), "--json"]).output)
    assert js["points"][0]["extra"]["per_class"]["car"] == {"ap": 1.0, "ap50": 1.0}
