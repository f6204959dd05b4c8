"""The video aggregation steps (vcmbench.metrics.video): numbers worked by hand, refusals, the pooling ids
and the final CSV reader/writer.  The equality with the reference framework is in
tests/golden/test_video_aggregation_golden.py."""

from __future__ import annotations

import pytest

from vcmbench.core.errors import DataError, EvaluationError
from vcmbench.metrics import video


def _r(name, qp, bits, frames=10, fps=50, w=416, h=240):
    return video.sequence_result(name, qp, bits, frames, fps, w, h)


def test_sequence_rate_by_hand():
    # 1,000,000 bits over 97 frames at 50 fps: 1e6 * 50 / (1000 * 97) = 515.4639... kbps
    k, bpp = video.sequence_rate(1_000_000, 50, 97, 416, 240)
    assert k == pytest.approx(50_000 / 97, rel=1e-15)
    assert bpp == pytest.approx(1_000_000 / (97 * 416 * 240), rel=1e-15)
    with pytest.raises(EvaluationError, match="over 0 frames"):
        video.sequence_rate(1000, 50, 0, 416, 240)
    with pytest.raises(DataError, match="fps"):
        video.sequence_rate(1000, 0, 10, 416, 240)
    with pytest.raises(DataError, match="width"):
        video.sequence_rate(1000, 50, 10, 0, 240)


def test_class_rate_weights_by_duration():
    # A: 33 frames at 24 fps (1.375 s, 2,000 kbps); B: 129 frames at 60 fps (2.15 s, 500 kbps)
    a = _r("A", 22, 2_750_000, frames=33, fps=24)
    b = _r("B", 22, 1_075_000, frames=129, fps=60)
    assert a.kbps == pytest.approx(2000) and b.kbps == pytest.approx(500)
    k, bpp = video.class_rate([a, b])
    assert k == pytest.approx((2000 * 1.375 + 500 * 2.15) / (1.375 + 2.15))
    assert k == pytest.approx((2_750_000 + 1_075_000) / (1.375 + 2.15) / 1000)  # = total bits / total seconds
    assert bpp == pytest.approx((2_750_000 + 1_075_000) / ((33 + 129) * 416 * 240))


def test_class_points_pair_the_ith_qp_of_every_sequence():
    res = {"A": [_r("A", 37, 100), _r("A", 32, 200)], "B": [_r("B", 27, 300), _r("B", 22, 400)]}
    points = video.class_points(res)
    assert [[r.qp for r in p] for p in points] == [[32, 22], [37, 27]]
    with pytest.raises(EvaluationError, match="different numbers of rate points"):
        video.class_points({"A": res["A"], "B": res["B"][:1]})
    with pytest.raises(EvaluationError, match="two results at the same QP"):
        video.class_points({"A": [_r("A", 22, 1), _r("A", 22, 2)]})


def test_pool_class_offsets_ids_and_takes_the_first_categories():
    gt1 = {"images": [{"id": 0.0}, {"id": 1.0}], "categories": [{"id": 0, "name": "Person"}],
           "annotations": [{"id": 7, "image_id": 1.0, "category_id": 0, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}]}
    gt2 = {"images": [{"id": 0}], "categories": [{"id": 0, "name": "other"}],
           "annotations": [{"id": 7, "image_id": 0, "category_id": 0, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}]}
    gt, preds = video.pool_class([(gt1, [{"image_id": 1, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1}]),
                                  (gt2, [])])
    assert [im["id"] for im in gt["images"]] == [10000, 10001, 20000]
    assert [(a["id"], a["image_id"]) for a in gt["annotations"]] == [(1, 10001), (2, 20000)]
    assert gt["categories"] == [{"id": 0, "name": "Person"}] and preds[0]["image_id"] == 10001
    with pytest.raises(DataError, match="renumber the frames from 0"):
        video.pool_class([({"images": [{"id": 10000}], "annotations": [], "categories": []}, [])])


def test_frame_results_and_overall():
    out = video.frame_results(3, [{"category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}])
    assert out == [{"image_id": 3, "category_id": 1, "bbox": [1.0, 2.0, 3.0, 4.0], "score": 0.5}]
    with pytest.raises(DataError, match="lacks score"):
        video.frame_results(3, [{"category_id": 1, "bbox": [1, 2, 3, 4]}])
    assert video.overall({"AB": -10.0, "C": -20.0, "D": -30.0}) == pytest.approx(-20.0)
    with pytest.raises(EvaluationError, match="Class C has no value"):
        video.overall({"AB": -10.0, "C": None})


def test_final_csv_reads_the_reference_layout_with_extra_columns():
    text = (",Dataset,qp,bitrate (kbps),end_accuracy,encode,decode\n"
            "0,BQMall_832x480_60,27,2011.5,41.25,10.0,1.0\n"
            "1,CLASS-C,0,1500.25,38.5,9.0,1.0\n")
    rows = video.read_final_csv(text)
    assert [(r.dataset, r.qp, r.kbps, r.is_class) for r in rows] == [("BQMall_832x480_60", 27, 2011.5, False),
                                                                      ("CLASS-C", 0, 1500.25, True)]
    assert rows[0].accuracy == pytest.approx(0.4125)
    with pytest.raises(DataError, match="lacks one of"):
        video.read_final_csv("a,b\n1,2\n")
    with pytest.raises(DataError, match="line 2"):
        video.read_final_csv(",Dataset,qp,bitrate (kbps),end_accuracy\n0,X,22,abc,1\n")
    with pytest.raises(EvaluationError, match="no row is written"):
        video.write_final_csv([video.CsvRow("X", 22, float("nan"), 0.5, False)])
