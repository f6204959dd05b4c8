"""Golden: per-class pooled COCO AP and the class rate equal CompressAI-Vision's own computation.

Source: InterDigitalInc/CompressAI-Vision at commit 31165daf, run outside this repository
(2026-12-06) on the constructed inputs of ``video_constructed.py`` (three class-D-named sequences of
5, 4 and 3 frames, three QPs each):

* class AP / AP50 (percent): ``scripts/metrics/compute_per_class_map.py`` ``compute_per_class_mAP`` (its
  ``coco_evaluation``: one pycocotools COCOeval over the pooled frames, image ids offset per sequence by
  its ``SEQUENCE_TO_OFFSET``), the JSON files written from ``ground_truth(i)`` / ``predictions(i, q)``;
* per-sequence AP (percent): the same ``coco_evaluation`` on each sequence alone;
* class kbps: ``scripts/metrics/gen_mpeg_cttc_csv.py`` ``compute_per_class_results`` (taken from the file
  by its AST: importing the module needs the compressai_vision package) on a DataFrame of
  ``Dataset, fps, num_of_coded_frame, qp, bitrate (kbps)`` with the bitrate of
  ``eval_split_inference.py`` ``_calc_bitrate``: bytes x 8 x fps / (1000 x frames).

pycocotools 2.0.11, numpy 2.4.6, pandas 3.1.1 in that throwaway environment (Python 3.11).  Nothing of that code is in
this repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.golden import video_constructed as vc
from vcmbench.metrics import video

# recorded from the reference run described above
CLASS_AP = [35.91990655109467, 9.304887631620302, 4.440044004400439]
CLASS_AP50 = [58.093787400718085, 31.276377637763776, 17.949080622347946]
SEQ_AP = {"BasketballPass_416x240_50": [26.55390539053905, 8.993399339933994, 3.7788778877887785],
          "BQSquare_416x240_60": [55.06050605060506, 15.748074807480746, 6.831683168316832],
          "BlowingBubbles_416x240_50": [33.14631463146314, 10.858085808580858, 5.192519251925192]}
CLASS_KBPS = [5984.576470588234, 2885.4705882352937, 1407.9882352941174]


def _results() -> dict[str, list[video.SequenceResult]]:
    return {name: [video.sequence_result(name, qp, vc.BITS[name][q], frames, fps, 416, 240, vc.ground_truth(i),
                                         vc.predictions(i, q)) for q, qp in enumerate(vc.QPS)]
            for i, (name, frames, fps) in enumerate(vc.SEQUENCES)}


def test_class_ap_is_one_pooled_evaluation_as_the_reference():
    """compute_per_class_mAP @31165daf: pooled AP and AP50 per rate point, and per-sequence AP."""
    res = _results()
    for name, aps in SEQ_AP.items():
        assert [r.accuracy["AP"] * 100 for r in res[name]] == pytest.approx(aps, rel=1e-12, abs=0)
    for q in range(len(vc.QPS)):
        acc = video.class_accuracy([(vc.ground_truth(i), vc.predictions(i, q)) for i in range(len(vc.SEQUENCES))])
        assert acc["AP"] * 100 == pytest.approx(CLASS_AP[q], rel=1e-12, abs=0)
        assert acc["AP50"] * 100 == pytest.approx(CLASS_AP50[q], rel=1e-12, abs=0)
        mean_of_sequences = sum(SEQ_AP[n][q] for n in SEQ_AP) / len(SEQ_AP)
        assert abs(mean_of_sequences - CLASS_AP[q]) > 0.1  # the inputs tell a pooled AP from a mean


def test_class_rate_is_duration_weighted_as_the_reference():
    """compute_per_class_results @31165daf: sum(kbps x frames/fps) / sum(frames/fps) per rank."""
    points = video.class_points(_results())
    assert [[r.qp for r in p] for p in points] == [[22] * 3, [27] * 3, [32] * 3]
    kbps = [video.class_rate(p)[0] for p in points]
    assert kbps == pytest.approx(CLASS_KBPS, rel=1e-12, abs=0)
    plain_mean = sum(r.kbps for r in points[0]) / 3
    assert abs(plain_mean - CLASS_KBPS[0]) > 1  # not a plain mean


def test_final_csv_class_rows_hold_the_rank_and_percent():
    """The final_SFU.csv layout of gen_mpeg_cttc_csv.py @31165daf: index, Dataset, qp, bitrate (kbps),
    end_accuracy (percent); class rows after the sequence rows with qp = the rank."""
    res = _results()
    rows = video.final_csv_rows(res, {"CLASS-D": [n for n, _, _ in vc.SEQUENCES]},
                                {"CLASS-D": [a / 100 for a in CLASS_AP]})
    text = video.write_final_csv(rows)
    lines = text.splitlines()
    assert lines[0] == ",Dataset,qp,bitrate (kbps),end_accuracy"
    assert lines[10].startswith("9,CLASS-D,0,5984.576470588234,35.9199065510946")
    back = video.read_final_csv(text)
    assert [r.is_class for r in back] == [False] * 9 + [True] * 3
    assert [r.qp for r in back if r.is_class] == [0, 1, 2]
    assert back[9].kbps == CLASS_KBPS[0] and back[0].accuracy == pytest.approx(SEQ_AP["BasketballPass_416x240_50"][0] / 100)


SHARED_SFU = Path(__file__).resolve().parents[3] / "shared" / "data" / "fcm-video" / "sfu-hw-annotations"
CLASS_D = ("BasketballPass_416x240_50", "BQSquare_416x240_60", "BlowingBubbles_416x240_50", "RaceHorses_416x240_30")
# compute_per_class_mAP @31165daf on the real class-D annotation files with predictions_from_gt(gt, q), q = 0, 1
REAL_D_AP = [43.58752871159428, 18.047806390839074]
REAL_D_AP50 = [64.10764844035336, 34.4017596727475]


@pytest.mark.skipif(not SHARED_SFU.is_dir(), reason="../shared/data/fcm-video (SFU-HW annotations) is absent")
def test_class_ap_on_the_real_sfu_annotations():
    """The same reference (CompressAI-Vision @31165daf compute_per_class_mAP, run outside the repository) on
    the SFU-HW-Objects-v1 class-D annotation files themselves (float image ids, 80 categories from id 0,
    4,762 boxes over 388 frames) with ``video_constructed.predictions_from_gt``."""
    gts = [json.loads((SHARED_SFU / f"{n}_val.json").read_text()) for n in CLASS_D]
    for q in range(2):
        acc = video.class_accuracy([(gt, vc.predictions_from_gt(gt, q)) for gt in gts])
        assert acc["AP"] * 100 == pytest.approx(REAL_D_AP[q], rel=1e-12, abs=0)
        assert acc["AP50"] * 100 == pytest.approx(REAL_D_AP50[q], rel=1e-12, abs=0)
