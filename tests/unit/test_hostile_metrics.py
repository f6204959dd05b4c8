"""Non-finite and mistyped numbers at every metric and BD entry: refused, never scored (issue 13).

Before: all-NaN prediction boxes scored COCO AP 1.0000; ``--iou nan`` gave mAP 0 and
``--group-of-weight nan`` dropped 14 of 47 classes from the mean; BD on 1e-300 vs 1e300 raised
OverflowError; a result set with ``bpp: "abc"`` crashed."""

from __future__ import annotations

import json
import math

import pytest

from vcmbench.bd import compare
from vcmbench.core.errors import BDError, DataError
from vcmbench.core.records import ResultSet
from vcmbench.metrics.coco import coco_evaluate
from vcmbench.metrics.openimages import load_oid_ground_truth, oid_evaluate

from ._hostile import invoke, time_limit
from ._resultsets import make_anchor
from .test_metrics_cli import _oid_files

GT = {"images": [{"id": 1, "width": 100, "height": 100}],
      "categories": [{"id": 1, "name": "cat"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "area": 900, "iscrowd": 0}]}
NAN = float("nan")


def _pred(box, score=0.9):
    return [{"image_id": 1, "category_id": 1, "bbox": box, "score": score}]


@pytest.mark.parametrize("box", [[NAN, NAN, NAN, NAN], [10, 10, math.inf, 30], [10, 10], [10, 10, -5, 30],
                                 ["a", 10, 30, 30]])
def test_coco_prediction_boxes_must_be_four_finite_numbers(box):
    with pytest.raises(DataError, match="bbox"):
        coco_evaluate(GT, _pred(box))


def test_coco_nan_score_and_nan_ground_truth():
    with pytest.raises(DataError, match="score"):
        coco_evaluate(GT, _pred([10, 10, 30, 30], score=NAN))
    gt = json.loads(json.dumps(GT))
    gt["annotations"][0]["bbox"] = [NAN] * 4
    with pytest.raises(DataError, match="ground truth annotations\\[0\\] bbox"):
        coco_evaluate(gt, _pred([10, 10, 30, 30]))


def test_coco_all_nan_boxes_from_the_cli(tmp_path):
    (tmp_path / "gt.json").write_text(json.dumps(GT))
    (tmp_path / "p.json").write_text(json.dumps(_pred([NAN] * 4)))  # json writes NaN
    r = invoke(["evaluate", "coco", "--gt", tmp_path / "gt.json", "--pred", tmp_path / "p.json"])
    assert r.exit_code == 2 and "finite" in r.output, r.output
    (tmp_path / "p.json").write_text(json.dumps(_pred([10, 10])))
    r = invoke(["evaluate", "coco", "--gt", tmp_path / "gt.json", "--pred", tmp_path / "p.json"])
    assert r.exit_code == 2 and "4 numbers" in r.output


@pytest.mark.parametrize("opt", [["--iou", "nan"], ["--iou", "-1"], ["--iou", "1.5"], ["--iou", "0"],
                                 ["--group-of-weight", "nan"], ["--group-of-weight", "2"], ["--iou", "inf"]])
def test_evaluate_oid_options_refused_at_parse_time(opt, tmp_path):
    r = invoke(["evaluate", "oid", *_oid_files(tmp_path), *opt])
    assert r.exit_code == 2 and opt[0] in r.output, r.output


def test_oid_library_entry_refuses_nan_weight_and_iou(tmp_path):
    args = _oid_files(tmp_path)
    gt = load_oid_ground_truth(args[1], args[3], classes=args[7])
    for kw in ({"iou_threshold": NAN}, {"group_of_weight": NAN}, {"iou_threshold": 1.5}):
        with pytest.raises(DataError):
            oid_evaluate(gt, args[5], **kw)


def test_oid_non_finite_prediction_box(tmp_path):
    args = _oid_files(tmp_path)
    p = tmp_path / "p.csv"
    p.write_text(p.read_text().replace("0.95,0.0,0.5", "0.95,nan,0.5").replace("0.95,0,0.5", "0.95,nan,0.5"))
    assert "nan" in p.read_text()
    r = invoke(["evaluate", "oid", *args])
    assert r.exit_code == 2 and "XMin" in r.output


@pytest.mark.parametrize("field,value", [("bpp", "abc"), ("bpp", None), ("bpp", NAN), ("qp", "22"),
                                         ("accuracy", {"map50_oid": "x"}), ("accuracy", [1])])
def test_result_set_with_wrong_types_is_a_data_error(field, value, tmp_path):
    d = make_anchor().to_dict()
    d["points"][0][field] = value
    p = tmp_path / "rs.json"
    p.write_text(json.dumps(d))
    with pytest.raises(DataError, match=field):
        ResultSet.load(p)
    r = invoke(["report", "--anchor", p, "--test", p, "-o", tmp_path / "r.html"])
    assert r.exit_code == 2 and not (tmp_path / "r.html").exists()


def test_bd_on_rates_1e_minus_300_vs_1e300_is_refused():
    a = [(1e-300 * k, 0.1 * k) for k in range(1, 5)]
    b = [(1e300 * k, 0.1 * k) for k in range(1, 5)]
    with pytest.raises(BDError, match="floating-point range"):
        compare(a, b)


def test_plot_on_a_range_of_a_few_float_steps_ends():
    """``report`` on rates near 1e16 never finished (the old hand-written SVG's tick loop); the
    matplotlib figures (report/plots.py) must end on such ranges too."""
    from vcmbench.report import build_report
    from vcmbench.report.plots import figure, svg

    for lo, hi in ((0.5, math.nextafter(0.5, 1)), (1e16, 1e16 + 2), (1e16, 1e16)):
        rs = make_anchor()
        for pt in rs.points:
            pt.bpp = hi if pt.qp > 32 else lo
        sec = build_report([rs], [rs]).sections[0]
        with time_limit(30):
            assert svg(figure(sec, 1.0)).startswith("<svg")


def test_report_on_rates_near_1e16_ends(tmp_path):
    a = make_anchor().to_dict()
    for k, pt in enumerate(a["points"]):
        pt["bpp"] = 1e16 + 2 * (pt["qp"] > 32)  # two rates one float step apart: a tick step below it
    p = tmp_path / "rs.json"
    p.write_text(json.dumps(a))
    invoke(["report", "--anchor", p, "--test", p, "-o", tmp_path / "r.html"], seconds=60)
