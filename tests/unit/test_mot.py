"""vcmbench.metrics.mot: the NumPy-2 shim of motmetrics 1.4.0, MOT files in and out, settings, CLI.

The numbers themselves are checked against the reference framework in tests/golden/test_mot_golden.py.
Hand-derived values here follow the CLEAR-MOT definitions (Bernardin & Stiefelhagen 2008:
MOTA = 1 - (FN + FP + IDSW) / GT boxes) and motmetrics' conventions (MOTP = mean 1 - IoU).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import vcmbench.metrics.mot as mot
from vcmbench.cli import cli
from vcmbench.core.errors import DataError, UsageError

SEQINFO = "[Sequence]\nname={name}\nseqLength={n}\n"


def _seq(root: Path, name: str, gt_lines: list[str], pred_lines: list[str] | None, frames: int = 4) -> None:
    d = root / "gt" / name
    (d / "gt").mkdir(parents=True)
    (d / "gt" / "gt.txt").write_text("".join(s + "\n" for s in gt_lines))
    (d / "seqinfo.ini").write_text(SEQINFO.format(name=name, n=frames))
    (root / "pred").mkdir(exist_ok=True)
    if pred_lines is not None:
        (root / "pred" / f"{name}.txt").write_text("".join(s + "\n" for s in pred_lines))


# --- the shim -------------------------------------------------------------------------------------

def _numpy_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "np":
            names.add(node.attr)
    return names


def test_motmetrics_needs_no_other_removed_numpy_name_than_asfarray():
    """The shim is narrow: of every ``np.<name>`` motmetrics 1.4.0's library modules use, only
    ``asfarray`` is missing from this numpy (and only distances.py uses it)."""
    import motmetrics

    pkg = Path(motmetrics.__file__).parent
    missing = {}
    for f in pkg.glob("*.py"):
        gone = {n for n in _numpy_names(f) if not hasattr(np, n)}
        if gone:
            missing[f.name] = gone
    if hasattr(np, "asfarray"):
        assert missing == {}
    else:
        assert missing == {"distances.py": {"asfarray"}}


def test_asfarray_proxy_is_numpy1_definition_and_numpy_itself_is_untouched():
    compat = mot._NumpyCompat(np)
    a = compat.asfarray(np.array([1, 2], dtype=np.int32))
    assert a.dtype == np.float64 and a.tolist() == [1.0, 2.0]
    assert compat.asfarray([[1, 2]]).dtype == np.float64
    assert compat.asfarray(np.array([1.5], dtype=np.float32)).dtype == np.float64  # default dtype float64
    assert compat.asfarray(np.array([1.5], dtype=np.float32), dtype=np.float32).dtype == np.float32
    assert compat.asfarray([1], dtype=np.int64).dtype == np.float64               # non-inexact -> float64
    assert compat.sqrt is np.sqrt
    mm = mot._mm()
    d = mm.distances.iou_matrix([[0, 0, 10, 10]], [[2, 0, 10, 10]], max_iou=0.5)
    assert d[0, 0] == pytest.approx(1 - 80 / 120)
    assert mot._mm().distances.np is mm.distances.np  # applied once
    if not hasattr(np, "asfarray"):
        assert isinstance(mm.distances.np, mot._NumpyCompat)
        assert not hasattr(np, "asfarray")


def test_metric_columns_are_motmetrics_motchallenge_metrics():
    assert list(mot.METRICS) == list(mot._mm().metrics.motchallenge_metrics)
    assert mot.METRICS[13] == "mota"  # the reference reads the class MOTA as summary.values[-1][13]


def test_solver_is_restored_and_an_unknown_one_refused():
    mm = mot._mm()
    before = mm.lap.default_solver
    with mot._solver(mm, "munkres"):
        assert mm.lap.default_solver == "munkres"
    assert mm.lap.default_solver == before
    with pytest.raises(UsageError, match="not installed"):
        with mot._solver(mm, "lapsolver-that-is-not-there"):
            pass


# --- files ----------------------------------------------------------------------------------------

def test_read_gt_shifts_by_one_and_filters_confidence_per_dataset(tmp_path):
    p = tmp_path / "gt.txt"
    p.write_text("1,1,11,21,10,20,1,1,1\n1,2,50,50,10,10,0,1,1\n")
    tvd = mot.read_gt(p, "tvd")
    assert tvd.loc[(1, 1), "X"] == 10 and tvd.loc[(1, 1), "Y"] == 20 and len(tvd) == 2
    assert len(mot.read_gt(p, "hieve")) == 1   # min_confidence=1 drops the confidence-0 row


def test_read_tracks_keeps_boxes_unshifted_and_round_trips_write_tracks(tmp_path):
    tracks = {2: [((10.25, 20.5, 30.0, 40.125), 7, 0.9)], 1: [((0.1, 0.2, 5.0, 6.0), 3, 1.0),
                                                              ((1.0, 2.0, 3.0, 4.0), 4, 1.0)]}
    p = tmp_path / "t" / "SEQ.txt"
    mot.write_tracks(p, tracks)
    assert p.read_text().splitlines()[0] == "1,3,0.1,0.2,5.0,6.0,1.0,-1,-1,-1"
    df = mot.read_tracks(p)
    assert list(df.index) == [(1, 3), (1, 4), (2, 7)]
    assert df.loc[(2, 7), ["X", "Y", "Width", "Height"]].tolist() == [10.25, 20.5, 30.0, 40.125]
    assert (df["Confidence"] == 1.0).all() and (df["ClassId"] == -1).all()  # as the reference formats them
    assert df.equals(mot.tracks_frame({f: [(b, i, 1.0) for b, i, _ in v] for f, v in sorted(tracks.items())}))


def test_pred_offset_shifts_tracker_x_y_by_one(tmp_path):
    """The reference's apply_pred_offset (x1 -= 1; y1 -= 1 in MOT_JDE_Eval.digest)."""
    p = tmp_path / "SEQ.txt"
    p.write_text("3,5,10.5,20.25,30,40,0.7\n")
    assert mot.read_tracks(p, pred_offset=True).loc[(3, 5), ["X", "Y", "Width", "Height"]].tolist() == \
        [9.5, 19.25, 30.0, 40.0]


def test_write_gt_round_trips_through_read_gt(tmp_path):
    p = tmp_path / "SEQ" / "gt" / "gt.txt"
    mot.write_gt(p, [(2, 1, 5, 6, 7, 8, 1, 1, 0.5), (1, 1, 1, 2, 3, 4, 1, 7, -1)])
    assert p.read_text() == "1,1,1,2,3,4,1,7,-1\n2,1,5,6,7,8,1,1,0.5\n"
    df = mot.read_gt(p)
    assert df.loc[(2, 1)].tolist() == [4, 5, 7, 8, 1, 1, 0.5]
    with pytest.raises(DataError, match="9 fields"):
        mot.write_gt(p, [(1, 1, 1, 2)])


@pytest.mark.parametrize("text,match", [
    ("1,1,a,2,3,4,1,1,1\n", "Cannot read"),
    ("1.5,1,1,2,3,4,1,1,1\n", "integer frame and id"),
    ("", "is empty"),
    ("0,1,1,2,3,4,1,1,1\n", "start at 1"),
    ("1,1,1,2,3,4,1,1,1\n1,1,5,5,3,4,1,1,1\n", "appears twice"),
])
def test_bad_ground_truth_is_a_data_error(tmp_path, text, match):
    p = tmp_path / "gt.txt"
    p.write_text(text)
    with pytest.raises(DataError, match=match):
        mot.read_gt(p)


@pytest.mark.parametrize("text,match", [("1,1,2\n", "line 1"), ("1.5,1,1,2,3,4\n", "line 1"),
                                        ("1,1,1,2,3,4\n1,1,1,2,3,4\n", "appears twice")])
def test_bad_tracks_are_a_data_error(tmp_path, text, match):
    p = tmp_path / "SEQ.txt"
    p.write_text(text)
    with pytest.raises(DataError, match=match):
        mot.read_tracks(p)


# --- scoring: hand-checked cases ------------------------------------------------------------------

def test_perfect_tracks_score_mota_one(tmp_path):
    gt = [f"{f},1,{10 + f},11,20,40,1,1,1" for f in range(1, 5)]
    # the tracker's boxes equal the GT boxes after motmetrics' -1 shift
    pred = [f"{f},9,{9 + f},10,20,40,1,-1,-1,-1" for f in range(1, 5)]
    _seq(tmp_path, "A", gt, pred)
    r = mot.evaluate_dirs(tmp_path / "gt", tmp_path / "pred", "hieve")
    row = r.sequences["A"]
    assert row["mota"] == 1.0 and row["motp"] == 0.0 and row["idf1"] == 1.0
    assert (row["num_false_positives"], row["num_misses"], row["num_switches"]) == (0, 0, 0)
    assert r.overall["mota"] == 1.0


def test_switch_miss_and_false_positive_by_hand(tmp_path):
    """4 GT boxes of one object; tracker: frame 1 id 1, frame 2 missed, frames 3-4 id 2 (a switch),
    plus one far false positive in frame 4: FN 1, FP 1, IDSW 1 -> MOTA = 1 - 3/4."""
    gt = [f"{f},1,101,101,20,40,1,1,1" for f in range(1, 5)]
    pred = ["1,1,100,100,20,40", "3,2,100,100,20,40", "4,2,100,100,20,40", "4,3,400,400,20,40"]
    _seq(tmp_path, "A", gt, pred)
    for dataset in ("tvd", "hieve"):
        row = mot.evaluate_dirs(tmp_path / "gt", tmp_path / "pred", dataset).sequences["A"]
        assert (row["num_misses"], row["num_false_positives"], row["num_switches"]) == (1, 1, 1)
        assert row["mota"] == pytest.approx(0.25)


def test_tvd_drops_tracks_on_distractors_and_scores_class_one_only(tmp_path):
    """A tracker box on a distractor (class 7) is dropped (no FP), one on class 3 (not a distractor,
    not scored) is an FP; HiEve scores both GT objects."""
    gt = ["1,1,101,101,20,40,1,1,1", "1,2,301,101,20,40,1,7,1", "1,3,501,101,20,40,1,3,1"]
    pred = ["1,1,100,100,20,40", "1,2,300,100,20,40", "1,3,500,100,20,40"]
    _seq(tmp_path, "A", gt, pred, frames=1)
    tvd = mot.evaluate_dirs(tmp_path / "gt", tmp_path / "pred", "tvd").sequences["A"]
    assert (tvd["num_unique_objects"], tvd["num_false_positives"], tvd["num_misses"]) == (1, 1, 0)
    hieve = mot.evaluate_dirs(tmp_path / "gt", tmp_path / "pred", "hieve").sequences["A"]
    assert (hieve["num_unique_objects"], hieve["num_false_positives"], hieve["mota"]) == (3, 0, 1.0)


def test_iou_threshold_is_half(tmp_path):
    # IoU of a 20x40 box shifted by dx: (20-dx)/(20+dx); dx=6 -> 14/26 < 0.5 ... dx=6 fails, dx=5 -> 15/25 = 0.6 ok
    gt = ["1,1,101,101,20,40,1,1,1", "2,1,101,101,20,40,1,1,1"]
    pred = ["1,1,105,100,20,40", "2,1,107,100,20,40"]
    _seq(tmp_path, "A", gt, pred, frames=2)
    row = mot.evaluate_dirs(tmp_path / "gt", tmp_path / "pred", "hieve").sequences["A"]
    assert (row["num_misses"], row["num_false_positives"]) == (1, 1)


def test_evaluate_sequences_takes_in_memory_tracks(tmp_path):
    gt_p = tmp_path / "gt.txt"
    mot.write_gt(gt_p, [(1, 1, 11, 11, 10, 10, 1, 1, 1)])
    seq = mot.MotSequence("S", mot.read_gt(gt_p, "hieve"), mot.tracks_frame({1: [((10, 10, 10, 10), 5, 1.0)]}))
    assert mot.evaluate_sequences([seq], "hieve").overall["mota"] == 1.0
    with pytest.raises(DataError, match="seqinfo"):
        mot.evaluate_sequences([seq], "tvd")
    with pytest.raises(UsageError, match="Unknown tracking dataset"):
        mot.evaluate_sequences([seq], "mot17")


# --- CLI ------------------------------------------------------------------------------------------

def test_cli_json_and_text(tmp_path):
    gt = [f"{f},1,101,101,20,40,1,1,1" for f in range(1, 5)]
    _seq(tmp_path, "A", gt, ["1,1,100,100,20,40", "3,2,100,100,20,40", "4,2,100,100,20,40"])
    _seq(tmp_path, "B", gt, [f"{f},1,100,100,20,40" for f in range(1, 5)])
    args = ["evaluate", "mot", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"), "--dataset", "hieve"]
    res = CliRunner().invoke(cli, args + ["--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["sequences"]["A"]["mota"] == pytest.approx(0.5) and out["sequences"]["A"]["mota_pct"] == 50.0
    assert out["overall"]["mota"] == pytest.approx(0.75) and out["overall"]["num_switches"] == 1
    assert out["signature"].startswith("map:motmetrics-hieve|gt:annotations|gthash:")
    text = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert text.exit_code == 0
    assert "MOTA 75.000 %" in text.output and "OVERALL" in text.output and "50.000" in text.output


@pytest.mark.parametrize("setup,match", [
    ("missing-pred", "No tracking result"),
    ("extra-pred", "without ground truth"),
    ("no-seqinfo", "seqinfo.ini is missing"),
    ("bad-class", "outside MOT16"),
    ("bad-line", "line 1"),
    ("empty-gt-dir", "No SEQ/gt/gt.txt"),
])
def test_cli_bad_input_exits_2_without_traceback(tmp_path, setup, match):
    gt = ["1,1,101,101,20,40,1,1,1"]
    if setup != "empty-gt-dir":
        _seq(tmp_path, "A", gt if setup != "bad-class" else ["1,1,101,101,20,40,1,42,1"],
             None if setup == "missing-pred" else (["1,1,2"] if setup == "bad-line" else ["1,1,100,100,20,40"]))
    (tmp_path / "gt").mkdir(exist_ok=True)
    (tmp_path / "pred").mkdir(exist_ok=True)
    if setup == "extra-pred":
        (tmp_path / "pred" / "B.txt").write_text("")
    if setup == "no-seqinfo":
        (tmp_path / "gt" / "A" / "seqinfo.ini").unlink()
    res = CliRunner().invoke(cli, ["evaluate", "mot", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred")], catch_exceptions=False)
    assert res.exit_code == 2, res.output
    assert match in res.output and "Traceback" not in res.output


def test_cli_csv_writes_one_rate_point_in_the_reference_tracking_layout(tmp_path):
    """--csv: sequence rows by name (kbps = bits x frameRate / (1000 x seqLength), MOTA in percent), then the class
    row at rank 0 (duration-weighted kbps, OVERALL MOTA): metrics.video.final_csv_rows' tracking layout."""
    from vcmbench.metrics import video

    gt = [f"{f},1,101,101,20,40,1,1,1" for f in range(1, 5)]
    _seq(tmp_path, "hieve-2", gt, ["1,1,100,100,20,40", "3,2,100,100,20,40", "4,2,100,100,20,40"])
    _seq(tmp_path, "hieve-17", gt, [f"{f},1,100,100,20,40" for f in range(1, 5)])
    (tmp_path / "gt" / "hieve-2" / "seqinfo.ini").write_text(
        "[Sequence]\nname=2\nseqLength=4\nframeRate=30\nimWidth=1280\nimHeight=720\n")
    (tmp_path / "gt" / "hieve-17" / "seqinfo.ini").write_text(
        "[Sequence]\nname=17\nseqLength=4\nframeRate=25\nimWidth=1280\nimHeight=720\n")
    bs = tmp_path / "bs"
    bs.mkdir()
    (bs / "hieve-2.266").write_bytes(b"\0" * 1000)
    (bs / "hieve-17.266").write_bytes(b"\0" * 3000)
    out = tmp_path / "final_HIEVE.csv"
    args = ["evaluate", "mot", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"), "--dataset", "hieve",
            "--csv", str(out), "--bitstreams", str(bs), "--qp", "37", "--class-name", "HIEVE-720P"]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    # hieve-17: 24,000 bits x 25 / (1000 x 4) = 150 kbps, MOTA 100 %; hieve-2: 8,000 x 30 / 4,000 = 60 kbps, 50 %
    # class: (150 x 0.16 + 60 x 0.1333...) / (0.16 + 0.1333...) kbps, OVERALL MOTA 75 %
    w17, w2 = 4 / 25, 4 / 30
    assert out.read_text().splitlines() == [
        ",Dataset,qp,bitrate (kbps),end_accuracy", "0,hieve-17,37,150.0,100.0", "1,hieve-2,37,60.0,50.0",
        f"2,HIEVE-720P,0,{(1 / (w17 + w2)) * (150.0 * w17 + 60.0 * w2)!r},75.0"]
    back = video.read_final_csv(out.read_text())
    assert [r.is_class for r in back] == [False, False, True]
    bad = CliRunner().invoke(cli, args[:-8] + ["--qp", "37"], catch_exceptions=False)
    assert bad.exit_code == 2 and "add --csv PATH" in bad.output
    bad = CliRunner().invoke(cli, args[:-2], catch_exceptions=False)  # hieve without --class-name
    assert bad.exit_code == 2 and "--class-name" in bad.output
    (bs / "hieve-2.bin").write_bytes(b"\0")
    bad = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert bad.exit_code == 2 and "More than one bitstream" in bad.output and "Traceback" not in bad.output
