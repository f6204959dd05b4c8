"""Results of a tracking run (run.video_mot): a hand-made video run directory (run storage contract) whose rows
hold Tracks JSON per frame, scored per sequence x QP, per class and Overall; the MOT files written into the run
re-scored by `vcmbench evaluate mot` give the same numbers; reference-output ground truth; notes and refusals.

Expected values are hand-derived from the CLEAR-MOT definition (Bernardin & Stiefelhagen 2008: MOTA = 1 - (FN +
FP + IDSW) / GT boxes) where a case is small enough, and otherwise equal to `metrics.mot.evaluate_sequences`
(py-motmetrics 1.4.0 with the reference's settings, checked against CompressAI-Vision in
tests/golden/test_mot_golden.py) on the same tracks: the run path must not compute anything of its own.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.core.jsonio import read_json, write_json
from vcmbench.run.store import RunStore

FRAMES, FPS, W, H = 6, 25, 320, 240
QPS = (32, 37, 42)


def _boxes(seq: int, frame: int) -> dict[int, tuple[float, float, float, float]]:
    """Ground-truth objects of constructed sequence ``seq`` at frame ``frame`` (1-based): 0-based tlwh."""
    out = {1: (10.0 + 7 * frame, 20.0, 40.0, 90.0), 2: (200.0 - 9 * frame, 30.0 + seq, 36.0, 80.0)}
    if frame >= 3:
        out[3] = (120.0, 100.0 + 2 * frame, 30.0, 70.0)  # enters at frame 3
    return out


def _tracks(seq: int, qp: int) -> list[dict]:
    """Tracks JSON per frame: QP 32 every object with its own id (ids 5, 6, 7); QP 37 object 2 missed in frame 4;
    QP 42 that miss, a false positive in frame 5, object 1 takes another id from frame 5 (one switch)."""
    frames = []
    for f in range(1, FRAMES + 1):
        ids, tlwh = [], []
        for oid, box in _boxes(seq, f).items():
            if qp >= 37 and oid == 2 and f == 4:
                continue
            ids.append((9 if (qp == 42 and oid == 1 and f >= 5) else oid + 4))
            tlwh.append(list(box))
        if qp == 42 and f == 5:
            ids.append(8)
            tlwh.append([280.0, 200.0, 20.0, 30.0])
        frames.append({"image_size": [W, H], "ids": ids, "tlwh": tlwh, "scores": [0.9] * len(ids)})
    return frames


def _cond(mode: str = "annotations", mot: str = "hieve") -> dict:
    from vcmbench.conditions import load_condition

    cond = copy.deepcopy(load_condition("fcm-hieve-tracking").to_dict())
    cond["metric"]["mot"] = mot
    cond["ground_truth"] = {"mode": mode, "source": "test"}
    return cond


def _make_run(root: Path, cond: dict, *, bits_scale: float = 1.0, unverified=None, label="anchor",
              side_info_bits: int = 0) -> Path:
    """Two sequences (class T) with MOT ground truth in the MOTChallenge layout, two QPs each."""
    d = root / label
    d.mkdir(parents=True)
    data = root / "data"
    refs, jobs = [], []
    for i, name in enumerate(("SeqA", "SeqB")):
        folder = data / name
        if not (folder / "gt" / "gt.txt").exists():
            (folder / "gt").mkdir(parents=True)
            lines = [f"{f},{oid},{x + 1!r},{y + 1!r},{w!r},{h!r},1,1,1" for f in range(1, FRAMES + 1)
                     for oid, (x, y, w, h) in _boxes(i, f).items()]
            (folder / "gt" / "gt.txt").write_text("\n".join(lines) + "\n")
            (folder / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nframeRate={FPS}\nseqLength={FRAMES}\n"
                                                f"imWidth={W}\nimHeight={H}\n")
        refs.append({"name": name, "cls": "T", "width": W, "height": H, "fps": float(FPS), "bit_depth": 8,
                     "first_frame": 0, "frames": FRAMES, "intra_period": 32, "digest": "x", "yuv": None,
                     "frame_files": [], "annotations": str(folder / "gt" / "gt.txt"), "annotation_format": "mot-gt",
                     "eval_ids": list(range(1, FRAMES + 1))})
        jobs.append({"job_id": f"ref-{name}", "kind": "reference", "image_id": name, "scale": 1.0, "qp": 0})
        jobs += [{"job_id": f"{name}-{qp}", "kind": "code", "image_id": name, "scale": 1.0, "qp": qp} for qp in QPS]
    run = {"label": label, "codec_signature": "vvenc-1.15#ab12", "task_signature": "trk#1", "qps": list(QPS),
           "scales": [1.0], "images": [], "jobs": jobs, "data_dir": str(data), "video": True, "sequences": refs,
           "classes": {"T": ["SeqA", "SeqB"]}, "qps_by_sequence": {r["name"]: list(QPS) for r in refs},
           "structure": "low-delay", "sets": []}
    with RunStore(d) as st:
        write_json(d / "condition.json", cond)
        write_json(d / "run.json", run)
        for i, r in enumerate(refs):
            name = r["name"]
            st.put(f"ref-{name}", "reference", name, None, None, {}, {"frames": _tracks(i, 32)})
            for q, qp in enumerate(QPS):
                bits = int((80_000 // (q + 1) + 1000 * i) * bits_scale)
                ok = unverified != (name, qp)
                rec = {"job_id": f"{name}-{qp}", "image_id": name, "scale": 1.0, "qp": qp, "width": W, "height": H,
                       "coded_width": W, "coded_height": H, "bits": bits, "verified": ok,
                       "verdict": "ok" if ok else "picture 2: MD5 mismatch", "encode_seconds": 1.0,
                       "decode_seconds": 0.5, "task_seconds": 0.1, "bitstream": f"bitstreams/{name}_qp{qp}.266",
                       "side_info_bits": side_info_bits, "extra": {"frames": FRAMES, "fps": FPS}, "signature": "s",
                       "schema_version": 1}
                st.put(f"{name}-{qp}", "code", name, 1.0, qp, rec, {"frames": _tracks(i, qp)} if ok else None)
    return d


def _evaluate_mot(gt: Path, pred: Path, dataset: str) -> dict:
    r = CliRunner().invoke(cli, ["evaluate", "mot", "--gt", str(gt), "--pred", str(pred), "--dataset", dataset,
                                 "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for row in [*out["sequences"].values(), out["overall"]]:
        assert row.pop("mota_pct") == pytest.approx(100 * row["mota"])  # the display copy the CLI adds
    return out


@pytest.mark.parametrize("mot", ["hieve", "tvd"])
def test_sequence_class_and_overall_rows_equal_evaluate_mot_on_the_written_files(tmp_path, mot):
    from vcmbench.run.video_results import build_video_results

    run_dir = _make_run(tmp_path, _cond(mot=mot))
    vr = build_video_results(run_dir)
    by = {(r["sequence"], r["qp"]): r for r in vr.sequences}
    # QP 32: perfect tracks -> MOTA 1; QP 42 per sequence: 16 GT boxes, 1 miss, 1 FP, 1 switch -> 1 - 3/16
    gt_boxes = sum(len(_boxes(0, f)) for f in range(1, FRAMES + 1))
    assert gt_boxes == 16
    for name in ("SeqA", "SeqB"):
        assert by[(name, 32)]["accuracy"]["MOTA"] == 1.0 and by[(name, 32)]["counts"] == {"IDs": 0, "FP": 0, "FN": 0}
        assert by[(name, 42)]["accuracy"]["MOTA"] == pytest.approx(1 - 3 / 16, abs=1e-12)
        assert by[(name, 42)]["counts"] == {"IDs": 1, "FP": 1, "FN": 1}
        assert by[(name, 42)]["kbps"] == pytest.approx(by[(name, 42)]["bits"] * FPS / (1000 * FRAMES))
        assert by[(name, 37)]["accuracy"]["MOTA"] == pytest.approx(1 - 1 / 16, abs=1e-12)
    cls = {r["rank"]: r for r in vr.classes}
    assert cls[2]["accuracy"]["MOTA"] == pytest.approx(1 - 6 / 32, abs=1e-12) and cls[2]["qps"] == [42, 42]
    assert [o["accuracy"]["MOTA"] for o in vr.overall] == [cls[k]["accuracy"]["MOTA"] for k in range(3)]
    assert vr.metric.startswith("MOTA/IDF1 (py-motmetrics 1.4.0, " + mot.upper())
    # the MOT files in the run, re-scored by `vcmbench evaluate mot`, give every number
    for qp in QPS:
        got = _evaluate_mot(tmp_path / "data", run_dir / "tracks" / f"qp{qp}", mot)
        for name in ("SeqA", "SeqB"):
            assert got["sequences"][name] == by[(name, qp)]["mot"]
        assert got["overall"] == cls[QPS.index(qp)]["mot"]
    ref = _evaluate_mot(tmp_path / "data", run_dir / "tracks" / "reference", mot)
    assert {r["sequence"]: r["mot"] for r in vr.reference} == ref["sequences"]
    # written result files: the tracking final CSV (sequences by name with MOTA, then the class rows)
    csv = (run_dir / vr.final_csv_name).read_text().splitlines()
    assert vr.final_csv_name == "final_HIEVE.csv" and len(csv) == 1 + 6 + 3
    assert csv[-1].split(",")[1:3] == ["CLASS-T", "2"]
    assert float(csv[-1].split(",")[-1]) == pytest.approx(100 * (1 - 6 / 32))
    stored = read_json(run_dir / "video-results.json")
    assert stored["sequences"][2]["counts"] == {"IDs": 1, "FP": 1, "FN": 1} and stored["sequences"][2]["qp"] == 42


def test_reference_output_ground_truth_is_the_reference_tracks_one_based(tmp_path):
    from vcmbench.run.video_results import build_video_results

    run_dir = _make_run(tmp_path, _cond(mode="reference-output", mot="tvd"))
    vr = build_video_results(run_dir)
    gt = run_dir / "tracks" / "gt" / "SeqA" / "gt" / "gt.txt"
    first = gt.read_text().splitlines()[0].split(",")
    # frame 1, id 5 (the reference tracker's id), x, y + 1, w, h, conf 1, class 1, visibility 1
    assert first == ["1", "5", "18", "21", "40", "90", "1", "1", "1"]
    assert all(r["accuracy"]["MOTA"] == 1.0 for r in vr.reference)  # the reference against itself
    assert any("reference-output" in n and "conf 1, class 1, visibility 1" in n for n in vr.notes)
    got = _evaluate_mot(run_dir / "tracks" / "gt", run_dir / "tracks" / "qp42", "tvd")
    assert got["overall"]["mota"] == pytest.approx(1 - 6 / 32, abs=1e-12)


def test_an_unverified_job_leaves_its_class_point_out_with_a_note(tmp_path):
    from vcmbench.run.video_results import build_video_results

    run_dir = _make_run(tmp_path, _cond(), unverified=("SeqB", 42))
    vr = build_video_results(run_dir)
    assert [r["rank"] for r in vr.classes] == [0, 1]
    assert any("SeqB QP 42: left out — the bitstream did not verify" in n for n in vr.notes)
    assert any("class T rate point 2: left out" in n for n in vr.notes)
    row = next(r for r in vr.sequences if (r["sequence"], r["qp"]) == ("SeqA", 42))
    assert row["accuracy"]["MOTA"] == pytest.approx(1 - 3 / 16, abs=1e-12)  # scored alone


def test_results_and_bdrate_cli_on_two_tracking_runs(tmp_path):
    """`vcmbench results` shows MOTA rows in percent with kbps; `vcmbench bdrate` gives a per-class and Overall
    BD-rate on MOTA (the test run spends half the bits for the same tracks: BD-rate -50 %)."""
    cond = _cond()
    anchor = _make_run(tmp_path, cond)
    test = _make_run(tmp_path, cond, bits_scale=0.5, label="test")
    r = CliRunner().invoke(cli, ["results", str(anchor)])
    assert r.exit_code == 0, r.output
    assert "MOTA" in r.output and "kbps" in r.output and "81.250" in r.output
    assert CliRunner().invoke(cli, ["results", str(test)]).exit_code == 0
    r = CliRunner().invoke(cli, ["results", str(anchor), "--csv"])
    assert r.exit_code == 0, r.output
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    seq42 = next(x for x in rows if x["Dataset"] == "SeqA" and x["qp"] == "42")
    assert float(seq42["MOTA"]) == pytest.approx(1 - 3 / 16) and (seq42["IDs"], seq42["FP"], seq42["FN"]) == ("1", "1", "1")
    assert float(seq42["kbps"]) > 0 and seq42["quality_key"] == "MOTA"
    assert next(x for x in rows if x["Dataset"] == "CLASS-T" and x["rank"] == "2")["FN"] == "2"
    r = CliRunner().invoke(cli, ["results", str(anchor), "--json"])
    assert json.loads(r.stdout)["sequences"][2]["counts"] == {"IDs": 1, "FP": 1, "FN": 1}
    r = CliRunner().invoke(cli, ["bdrate", "--anchor", str(anchor), "--test", str(test), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    got = [s for s in out["summary"] if s["group"] == "CLASS-T"]
    assert len(got) == 1 and got[0]["bd_rate_pct"] == pytest.approx(-50.0, abs=1e-9)
    assert out["overall"][0]["bd_rate_pct"] == pytest.approx(-50.0, abs=1e-9)
    x, h = tmp_path / "r.xlsx", tmp_path / "r.html"
    r = CliRunner().invoke(cli, ["report", "--anchor", str(anchor), "--test", str(test), "-o", str(x), "-o", str(h)])
    assert r.exit_code == 0, r.output
    import openpyxl

    sheet = [row for row in openpyxl.load_workbook(x, data_only=True)["CLASS-T"].iter_rows(values_only=True)]
    head = next(i for i, row in enumerate(sheet) if row[0] == "Dataset")
    assert "MOTA (%)" in sheet[head] and "kbps" in sheet[head]
    assert sheet[head + 3][sheet[head].index("MOTA (%)")] == pytest.approx(81.25, abs=1e-9)
    assert "MOTA" in h.read_text()


def test_a_mota_condition_without_mot_settings_is_refused(tmp_path):
    from vcmbench.core.errors import ConditionError
    from vcmbench.run.video_results import build_video_results

    cond = _cond()
    del cond["metric"]["mot"]
    run_dir = _make_run(tmp_path, cond)
    with pytest.raises(ConditionError, match="names no MOT settings"):
        build_video_results(run_dir)


def test_the_mot_setting_field_is_validated_and_names_metrics_mot_datasets():
    from vcmbench.conditions.schema import MOT_SETTINGS
    from vcmbench.conditions.validate import validate_data
    from vcmbench.metrics.mot import DATASETS

    assert MOT_SETTINGS == tuple(DATASETS)
    cond = _cond()
    assert cond["metric"]["mot"] == "hieve"
    data = copy.deepcopy(cond)
    del data["metric"]["mot"]
    assert any("metric.mot" in str(i) and "mot: tvd" in str(i) for i in validate_data(data, "x"))
    data["metric"]["mot"] = "mot17"
    assert any("metric.mot" in str(i) for i in validate_data(data, "x"))
    from vcmbench.conditions import load_condition

    sfu = copy.deepcopy(load_condition("fcm-sfu-hw-obj").data)
    sfu["metric"]["mot"] = "tvd"
    assert any("only a MOTA condition has MOT settings" in str(i) for i in validate_data(sfu, "x"))
    assert load_condition("fcm-tvd-tracking").metric["mot"] == "tvd"


def test_side_information_bits_count_in_the_rate(tmp_path):
    """A feature sequence's side information (``side_info_bits`` of its record, set when the condition counts it)
    is part of its bits, as for the detection path and for images."""
    from vcmbench.run.video_results import build_video_results

    vr = build_video_results(_make_run(tmp_path, _cond(), side_info_bits=168))
    row = next(r for r in vr.sequences if (r["sequence"], r["qp"]) == ("SeqA", 32))
    assert row["bits"] == 80_000 + 168 and row["kbps"] == pytest.approx((80_000 + 168) * FPS / (1000 * FRAMES))


def test_report_pairs_a_video_run_with_its_bd_twin_class_by_class(tmp_path):
    """A feature condition names its image-domain twin (``bd.twin``, recorded as the result set's ``provenance.twin``):
    `report`'s per-class sets (``condition`` = the class) are paired by their run's condition, as `bdrate` pairs the
    runs (before: refused, the class name is no condition's twin)."""
    from vcmbench.core.records import ResultSet

    anchor = _make_run(tmp_path, _cond())
    cond_t = _cond()
    cond_t["name"] = "fcm-hieve-tracking-features"
    test = _make_run(tmp_path, cond_t, bits_scale=0.5, label="test")
    for d in (anchor, test):
        assert CliRunner().invoke(cli, ["results", str(d)]).exit_code == 0
    rs = ResultSet.load(test / "resultset.json")
    rs.provenance["twin"] = "fcm-hieve-tracking"  # what a feature run records from its condition's bd.twin
    rs.save(test / "resultset.json")
    r = CliRunner().invoke(cli, ["report", "--anchor", str(anchor), "--test", str(test), "-o", str(tmp_path / "r.html"),
                                 "--json"])
    assert r.exit_code == 0, r.output
    by = {s["condition"] or s["scope"]: s for s in json.loads(r.stdout)["summary"]}
    assert by["CLASS-T"]["bd_rate_pct"] == pytest.approx(-50.0, abs=1e-9)
