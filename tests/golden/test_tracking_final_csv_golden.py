"""Golden: final_TVD.csv / final_HIEVE.csv as CompressAI-Vision writes them, and BD per class + Overall on them.

Source: InterDigitalInc/CompressAI-Vision at commit 31165daf, ``scripts/metrics/gen_mpeg_cttc_csv.py``
(read, not copied; re-derived below with pandas, the library it uses):

* ``eval_split_inference.py`` writes one ``summary.csv`` per sequence and QP: ``Dataset, fps,
  num_of_coded_frame, qp, bitrate (kbps), end_accuracy`` with kbps = bytes x 8 x fps / (1000 x frames)
  (``_calc_bitrate``) and end_accuracy = the sequence's motmetrics ``mota`` (a fraction,
  ``_summarize_performance``);
* ``generate_csv_classwise_video_mota``: the summaries concatenated (``read_df_rec``), sorted by
  ``["Dataset", "qp"]`` (sequence NAME, not class order), end_accuracy x 100, fps and frames dropped; per
  class (the ``__main__`` dicts: ``{"TVD": [TVD-01, TVD-02, TVD-03]}``; ``{"HIEVE-1080P": [hieve-13,
  hieve-16], "HIEVE-720P": [hieve-17, hieve-18, hieve-2]}``) ``compute_per_class_results`` (rank i,
  kbps weighted by frames / fps) with end_accuracy = the OVERALL row's MOTA x 100 (``summary.values[-1][13]
  * 100``), appended with ``df_append`` (``pd.concat(..., ignore_index=True)``);
* ``output_df.to_csv(path, sep=",", encoding="utf-8")``.

The per-sequence and class MOTA values here are constructed numbers (the MOTA computation itself is
tests/golden/test_mot_golden.py); frames and fps are the conditions' (cttc/fcm-*-tracking.yaml).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from vcmbench import bd
from vcmbench.cli import cli
from vcmbench.metrics import video

QPS = (22, 27, 32, 37)
# name -> (frames, fps) as cttc/fcm-hieve-tracking.yaml and fcm-tvd-tracking.yaml give them
HIEVE = {"hieve-2": (4819, 30), "hieve-13": (1416, 30), "hieve-16": (700, 30), "hieve-17": (966, 30),
         "hieve-18": (1614, 30)}
HIEVE_CLASSES = {"HIEVE-1080P": ["hieve-13", "hieve-16"], "HIEVE-720P": ["hieve-17", "hieve-18", "hieve-2"]}
TVD = {"TVD-01": (3000, 50), "TVD-02": (636, 50), "TVD-03": (2334, 50)}
TVD_CLASSES = {"TVD": ["TVD-01", "TVD-02", "TVD-03"]}
# the same classes listed 720P first: the reference still sorts the sequence rows by name (its class order only
# orders the class rows), so this case tells name order from class order
HIEVE_CLASSES_720_FIRST = {"HIEVE-720P": ["hieve-17", "hieve-18", "hieve-2"], "HIEVE-1080P": ["hieve-13", "hieve-16"]}


def _bits(i: int, q: int, factor: float) -> int:
    """Constructed bitstream sizes (bits, a multiple of 8), decreasing with QP."""
    return 8 * int((1_234_567 + 97_531 * i) * (0.55 ** q) * factor)


def _mota(i: int, q: int, bonus: float) -> float:
    return 0.7123456789 - 0.0617 * q - 0.0131 * i + bonus


def _class_mota(c: int, q: int, bonus: float) -> float:
    return 0.6954321987 - 0.0583 * q - 0.0217 * c + bonus


def _inputs(seqs, classes, factor=1.0, bonus=0.0):
    """(vcmbench SequenceResults per name, class MOTAs per class, the reference's summary rows)."""
    results, summaries = {}, []
    for i, (name, (frames, fps)) in enumerate(seqs.items()):
        results[name] = []
        for q, qp in enumerate(QPS):
            bits, mota = _bits(i, q, factor), _mota(i, q, bonus)
            r = video.sequence_result(name, qp, bits, frames, fps, 1920, 1080)
            results[name].append(video.SequenceResult(r.name, r.qp, r.bits, r.frames, r.fps, r.width, r.height,
                                                      {"MOTA": mota}))
            summaries.append({"Dataset": name, "fps": fps, "num_of_coded_frame": frames, "qp": qp,
                              "bitrate (kbps)": ((bits // 8 * 8) * fps) / (1000 * frames), "end_accuracy": mota})
    class_motas = {c: [_class_mota(k, q, bonus) for q in range(len(QPS))] for k, c in enumerate(classes)}
    return results, class_motas, summaries


def _reference_csv(summaries, classes, class_motas) -> str:
    """gen_mpeg_cttc_csv.py @31165daf generate_csv_classwise_video_mota + to_csv, re-derived (see the docstring)."""
    results_df = pd.concat([pd.DataFrame([s]) for s in summaries], ignore_index=True)
    results_df = results_df.sort_values(by=["Dataset", "qp"], ascending=[True, True])
    results_df["end_accuracy"] = results_df["end_accuracy"].apply(lambda x: x * 100)
    output_df = results_df.copy().drop(columns=["fps", "num_of_coded_frame"])
    for name, seqs in classes.items():
        frames = [results_df.loc[results_df["Dataset"] == s] for s in seqs]  # compute_per_class_results
        n = frames[0].shape[0]
        samples = pd.concat(frames, ignore_index=True)
        samples["length"] = samples["num_of_coded_frame"] / samples["fps"]
        out = results_df.drop(columns=["fps", "num_of_coded_frame"]).head(0).copy()
        for i in range(n):
            points = samples.iloc[range(i, samples.shape[0], n)]
            row = {out.columns[0]: [name], out.columns[1]: [i]}
            for col in out.columns[2:]:
                row[col] = -1 if col == "end_accuracy" else [(1 / points["length"].sum())
                                                             * (points[col] * points["length"]).sum()]
            out = pd.concat([out, pd.DataFrame(row)], ignore_index=True)
        out["end_accuracy"] = [m * 100.0 for m in class_motas[name]]
        output_df = pd.concat([output_df, out], ignore_index=True)
    return output_df.to_csv(sep=",", encoding="utf-8", lineterminator="\n")


@pytest.mark.parametrize("seqs, classes", [(HIEVE, HIEVE_CLASSES), (HIEVE, HIEVE_CLASSES_720_FIRST), (TVD, TVD_CLASSES)],
                         ids=["HIEVE", "HIEVE-720P-first", "TVD"])
def test_final_tracking_csv_is_byte_equal_to_the_reference_layout(seqs, classes):
    results, class_motas, summaries = _inputs(seqs, classes)
    expected = _reference_csv(summaries, classes, class_motas)
    rows = video.final_csv_rows(results, classes, class_motas, metric="MOTA")
    got = video.write_final_csv(rows)
    assert got == expected
    lines = got.splitlines()
    assert lines[0] == ",Dataset,qp,bitrate (kbps),end_accuracy"
    if seqs is HIEVE:  # sorted by name: hieve-2 last; classes keep their names (no CLASS- prefix), in class order
        assert [ln.split(",")[1] for ln in lines[1::4]][:5] == ["hieve-13", "hieve-16", "hieve-17", "hieve-18",
                                                                 "hieve-2"]
        assert [ln.split(",")[1:3] for ln in lines[21:]] == [[c, str(i)] for c in classes for i in range(4)]
    back = video.read_final_csv(expected)  # the reference's file read back: classes recognised by their names
    assert [(r.dataset, r.qp, r.is_class) for r in back] == [(r.dataset, r.qp, r.is_class) for r in rows]
    assert [r.kbps for r in back] == [r.kbps for r in rows]
    assert [r.accuracy for r in back] == pytest.approx([r.accuracy for r in rows], rel=1e-15, abs=0)


def test_detection_layout_is_unchanged_by_the_tracking_one():
    """The SFU layout (generate_csv_classwise_video_map) keeps class order and CLASS- names."""
    results, _, _ = _inputs(HIEVE, HIEVE_CLASSES)
    for rs in results.values():
        for k, r in enumerate(rs):
            rs[k] = video.SequenceResult(r.name, r.qp, r.bits, r.frames, r.fps, r.width, r.height, {"AP": 0.5})
    rows = video.final_csv_rows(results, {"CLASS-X": ["hieve-17", "hieve-2"]}, {"CLASS-X": [0.4] * 4})
    assert [r.dataset for r in rows[::4]] == ["hieve-17", "hieve-2", "CLASS-X"]
    assert video.class_row_name("AB") == "CLASS-AB" and video.class_row_name("HIEVE-720P") == "HIEVE-720P"
    assert video.class_row_name("TVD") == "TVD" and video.class_row_name("CLASS-C") == "CLASS-C"


def test_bdrate_on_two_final_hieve_csvs_gives_each_class_and_the_overall_mean(tmp_path):
    """`vcmbench bdrate` on two reference-layout final_HIEVE.csv files: one BD per class (its curve = the class rows,
    rate point = rank), Overall = the mean of the class BD-rates, each equal to bd.compare on the same points."""
    paths = {}
    for role, factor, bonus in (("a", 1.0, 0.0), ("b", 0.87, 0.004)):
        results, class_motas, summaries = _inputs(HIEVE, HIEVE_CLASSES, factor, bonus)
        paths[role] = tmp_path / f"final_HIEVE_{role}.csv"
        paths[role].write_text(_reference_csv(summaries, HIEVE_CLASSES, class_motas), encoding="utf-8")
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(paths["a"]), "--test", str(paths["b"]), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["video"] is True
    summary = {s["group"]: s["bd_rate_pct"] for s in out["summary"]}
    assert sorted(summary) == ["HIEVE-1080P", "HIEVE-720P"]
    curves = {role: video.read_final_csv(p.read_text(encoding="utf-8")) for role, p in paths.items()}
    expected = {}
    for cls in HIEVE_CLASSES:
        a, t = ([(r.kbps, r.accuracy * 100) for r in curves[role] if r.dataset == cls] for role in ("a", "b"))
        expected[cls] = bd.compare(a, t, out["summary"][0]["method"]).bd_rate_pct
        assert summary[cls] == pytest.approx(expected[cls], rel=1e-12, abs=1e-12)
    assert all(v < 0 for v in expected.values())
    (overall,) = out["overall"]
    assert overall["classes"] == ["HIEVE-1080P", "HIEVE-720P"]
    assert overall["bd_rate_pct"] == pytest.approx(sum(expected.values()) / 2, rel=1e-12, abs=1e-12)
    assert {r["group"] for r in out["results"]} == set(HIEVE) | set(HIEVE_CLASSES)  # sequences as detail
