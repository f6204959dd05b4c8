"""Video results (issue 22): per sequence, per class, Overall; final CSV; `results` and `bdrate` on video runs.

The run directories are made by hand per the run storage contract (``tests/unit/_video_run.py``): class D holds
the constructed sequences on which CompressAI-Vision's own code was run (``tests/golden/
test_video_aggregation_golden.py``, source InterDigitalInc/CompressAI-Vision @31165daf), so the class-D
numbers are checked against that reference's recorded values; everything else against ``metrics.video``'s
named steps and ``bd.compare`` computed here independently.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.golden import test_video_aggregation_golden as golden
from tests.unit import _video_run as R
from vcmbench.cli import cli as main
from vcmbench.core.jsonio import read_json
from vcmbench.metrics import video as V


@pytest.fixture(scope="module")
def cond():
    from vcmbench.conditions import load_condition

    return load_condition("fcm-sfu-hw-obj").to_dict()


@pytest.fixture
def run_dir(tmp_path, cond):
    return R.make_run(tmp_path / "anchor", cond)


def _by(rows, **kw):
    return [r for r in rows if all(r[k] == v for k, v in kw.items())]


def test_sequence_and_class_numbers_equal_metrics_video_and_the_reference(run_dir):
    """Class D: pooled AP/AP50 and duration-weighted kbps equal CompressAI-Vision @31165daf's recorded values
    (compute_per_class_mAP, compute_per_class_results); per-sequence AP its coco_evaluation's.  Class C: equal
    to metrics.video's named steps on the constructed inputs."""
    from vcmbench.run.video_results import build_video_results

    vr = build_video_results(run_dir)
    for name, aps in golden.SEQ_AP.items():
        rows = _by(vr.sequences, sequence=name)
        assert [r["qp"] for r in rows] == list(R.vc.QPS)
        assert [r["accuracy"]["AP"] * 100 for r in rows] == pytest.approx(aps, rel=1e-12, abs=0)
    d = sorted(_by(vr.classes, **{"class": "D"}), key=lambda r: r["rank"])
    assert [r["accuracy"]["AP"] * 100 for r in d] == pytest.approx(golden.CLASS_AP, rel=1e-12, abs=0)
    assert [r["accuracy"]["AP50"] * 100 for r in d] == pytest.approx(golden.CLASS_AP50, rel=1e-12, abs=0)
    assert [r["kbps"] for r in d] == pytest.approx(golden.CLASS_KBPS, rel=1e-12, abs=0)
    # class C independently through metrics.video
    seqs = [s for s in R.sequences() if s["cls"] == "C"]
    res = {s["name"]: [V.sequence_result(s["name"], qp, s["bits"][q], s["frames"], s["fps"], 416, 240, R.gt_of(s),
                                         R.preds_of(s, q)) for q, qp in enumerate(s["qps"])] for s in seqs}
    for i, point in enumerate(V.class_points(res)):
        row = _by(vr.classes, **{"class": "C", "rank": i})[0]
        kb, bpp = V.class_rate(point)
        acc = V.class_accuracy([(R.gt_of(s), R.preds_of(s, i)) for s in seqs])
        assert (row["kbps"], row["bpp"]) == (kb, bpp)
        assert row["accuracy"]["AP"] == acc["AP"] and row["accuracy"]["AP50"] == acc["AP50"]
        assert row["qps"] == [r.qp for r in point]
        seq_mean = sum(r.accuracy["AP"] for r in point) / len(point)
        assert row["accuracy"]["AP"] != pytest.approx(seq_mean)  # pooled, not a mean
    for name, rs in res.items():
        for r in rs:
            row = _by(vr.sequences, sequence=name, qp=r.qp)[0]
            assert (row["kbps"], row["bpp"], row["accuracy"]["AP"]) == (r.kbps, r.bpp, r.accuracy["AP"])
    # Overall per rank: the mean over the classes
    for o in vr.overall:
        at = {r["class"]: r["accuracy"]["AP"] for r in vr.classes if r["rank"] == o["rank"]}
        assert o["accuracy"]["AP"] == pytest.approx(sum(at.values()) / 2, rel=1e-15)


def test_result_files_are_written_and_the_final_csv_round_trips(run_dir):
    """final_SFU.csv (the reference's layout) read back by metrics.video.read_final_csv gives the same rows;
    resultset.json carries level/group/kbps per point and provenance video: true."""
    from vcmbench.core.records import ResultSet
    from vcmbench.run.video_results import build_video_results

    vr = build_video_results(run_dir)
    text = (run_dir / "final_SFU.csv").read_text()
    assert text == vr.csv_text
    back = V.read_final_csv(text)
    seq = [r for r in back if not r.is_class]
    cls = [r for r in back if r.is_class]
    assert len(seq) == 15 and [r.dataset for r in cls] == ["CLASS-D"] * 3 + ["CLASS-C"] * 3
    for r in seq:
        row = _by(vr.sequences, sequence=r.dataset, qp=r.qp)[0]
        assert r.kbps == row["kbps"] and r.accuracy == pytest.approx(row["accuracy"]["AP"], rel=1e-14, abs=1e-17)
    for r in cls:
        row = _by(vr.classes, csv_name=r.dataset, rank=r.qp)[0]
        assert r.kbps == row["kbps"] and r.accuracy == pytest.approx(row["accuracy"]["AP"], rel=1e-14)
    rs = ResultSet.load(run_dir / "resultset.json")
    assert rs.provenance["video"] is True
    levels = [(p.extra["level"], p.extra["group"]) for p in rs.points]
    assert levels.count(("class", "D")) == 3 and levels.count(("sequence", "BQSquare_416x240_60")) == 3
    p = next(p for p in rs.points if p.extra["level"] == "class" and p.extra["group"] == "C" and p.qp == 1)
    assert p.extra["kbps"] == _by(vr.classes, **{"class": "C", "rank": 1})[0]["kbps"]
    data = read_json(run_dir / "video-results.json")
    assert data["final_csv_name"] == "final_SFU.csv" and len(data["sequences"]) == 15


def test_unverified_and_missing_jobs_leave_points_out_with_a_note(tmp_path, cond):
    """An unverified sequence job gives no number and its class point is left out, named; a missing job too."""
    from vcmbench.run.video_results import build_video_results

    d = R.make_run(tmp_path / "r", cond, unverified=("BQSquare_416x240_60", 27),
                   missing=("ConstructedC1_416x240_50", 37))
    vr = build_video_results(d)
    bad = _by(vr.sequences, sequence="BQSquare_416x240_60", qp=27)[0]
    assert bad["verified"] is False and bad["kbps"] is None and bad["accuracy"] == {}
    assert not _by(vr.classes, **{"class": "D", "rank": 1})
    assert not _by(vr.classes, **{"class": "C", "rank": 2})
    assert len(_by(vr.classes, **{"class": "D"})) == 2
    assert any("BQSquare_416x240_60 QP 27: left out" in n and "did not verify" in n for n in vr.notes)
    assert any("class D rate point 1: left out" in n and "BQSquare_416x240_60 QP 27" in n for n in vr.notes)
    assert any("ConstructedC1_416x240_50 QP 37: left out" in n for n in vr.notes)
    assert [o["rank"] for o in vr.overall] == [0]
    # a class with a gap is not written to the final CSV (the reference's file has none)
    assert vr.csv_text == "" and not (d / "final_SFU.csv").exists()
    assert any("final CSV: class D not written" in n for n in vr.notes)


def test_reference_output_mode_scores_against_the_reference_rows(tmp_path, cond):
    """reference-output: ground truth = the reference row's frames with score >= the threshold, built as the
    image path builds it (tasks.reference.reference_ground_truth); equal to metrics.video on that ground truth."""
    from vcmbench.run.video_results import build_video_results
    from vcmbench.tasks.coco_names import COCO_NAME_TO_ID

    c = dict(cond, ground_truth={"mode": "reference-output", "score_threshold": 0.5})
    d = R.make_run(tmp_path / "r", c, mode="reference-output")
    vr = build_video_results(d)
    s = R.sequences()[1]  # BQSquare
    gt = R.gt_of(s)
    ref_gt = {"images": [{"id": k + 1, "width": 416, "height": 240} for k in range(s["frames"])],
              "annotations": [{"id": n + 1, "image_id": int(a["image_id"]) + 1, "iscrowd": 0,
                               "category_id": COCO_NAME_TO_ID[R.NAMES[a["category_id"]]], "bbox": a["bbox"],
                               "area": a["bbox"][2] * a["bbox"][3]} for n, a in enumerate(gt["annotations"])],
              "categories": [{"id": i, "name": n} for n, i in COCO_NAME_TO_ID.items()]}
    preds = [{**p, "image_id": p["image_id"] + 1, "category_id": COCO_NAME_TO_ID[R.NAMES[p["category_id"]]]}
             for p in R.preds_of(s, 0)]
    want = V.sequence_accuracy(ref_gt, preds)
    row = _by(vr.sequences, sequence=s["name"], qp=22)[0]
    assert row["accuracy"]["AP"] == pytest.approx(want["AP"], rel=1e-12, abs=0)
    assert any("reference-output" in n for n in vr.notes)


def test_results_cli_prints_sequence_and_class_rows_in_display_units(run_dir):
    r = CliRunner().invoke(main, ["results", str(run_dir)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "sequences (" in r.output and "classes (" in r.output and "Overall" in r.output
    assert "5984.58" in r.output  # class D kbps, 2 decimals
    assert "35.920" in r.output  # class D AP in percent, 3 decimals
    assert "4123.44" in r.output and "0.8260" in r.output  # a sequence's kbps and bpp (4 decimals)
    r = CliRunner().invoke(main, ["results", str(run_dir), "--json"])
    data = json.loads(r.stdout)
    assert {"sequences", "classes", "overall", "notes"} <= set(data)
    r = CliRunner().invoke(main, ["results", str(run_dir), "--csv"])
    lines = r.output.splitlines()
    assert lines[0].startswith("cttc,label,level,Dataset,sequence_class,qp,rank,frames,bits,kbps,bpp,AP,AP50")
    assert len(lines) == 1 + 15 + 6
    r = CliRunner().invoke(main, ["results", str(run_dir), "--pareto"])
    assert r.exit_code == 2 and "--pareto" in r.output


def _bd_json(anchor, test, *extra):
    r = CliRunner().invoke(main, ["bdrate", "--anchor", str(anchor), "--test", str(test), "--json", *extra])
    return r, (json.loads(r.stdout) if r.exit_code == 0 else None)


def test_bdrate_per_class_and_overall_is_the_mean_of_the_class_bd_rates(tmp_path, cond):
    """One BD per class (kbps by default) and Overall = the mean of the class BD-rates, each recomputed here
    with bd.compare on the class rows; per-sequence rows as detail; --rate-col bpp on request."""
    from vcmbench.bd import compare
    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond)
    # every bit count stays an integer: class D at 0.75 x the anchor's rate, class C at 0.5 x
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.75, class_scale={"C": 0.5})
    va, vt = build_video_results(a), build_video_results(t)
    r, out = _bd_json(a, t)
    assert r.exit_code == 0, r.output
    mine = {}
    for cls in ("D", "C"):
        ca = [(x["kbps"], x["accuracy"]["AP"]) for x in sorted(_by(va.classes, **{"class": cls}), key=lambda x: x["rank"])]
        ct = [(x["kbps"], x["accuracy"]["AP"]) for x in sorted(_by(vt.classes, **{"class": cls}), key=lambda x: x["rank"])]
        mine[cls] = compare(ca, ct, "pchip-jvet").bd_rate_pct
        got = [s for s in out["summary"] if s["group"] == f"CLASS-{cls}"]
        assert len(got) == 1 and got[0]["bd_rate_pct"] == pytest.approx(mine[cls], rel=1e-12)
    assert mine["D"] == pytest.approx(-25.0, abs=1e-9)  # the same accuracies at 0.75 x the rate
    assert mine["C"] == pytest.approx(-50.0, abs=1e-9)
    ov = out["overall"]
    assert len(ov) == 1 and ov[0]["group"] == "Overall" and ov[0]["classes"] == ["CLASS-D", "CLASS-C"]
    assert ov[0]["bd_rate_pct"] == pytest.approx((mine["D"] + mine["C"]) / 2, rel=1e-12)
    assert ov[0]["bd_rate_pct"] == pytest.approx(-37.5, abs=1e-9)
    assert "issue 22" in ov[0]["source"] and "no public source" in ov[0]["source"]
    assert out["rate"] == "kbps" and out["video"] is True
    assert {x["group"] for x in out["results"]} >= {"BQSquare_416x240_60", "CLASS-D"}
    r, out_bpp = _bd_json(a, t, "--rate-col", "bpp")
    assert r.exit_code == 0 and out_bpp["rate"] == "bpp"
    r = CliRunner().invoke(main, ["bdrate", "--anchor", str(a), "--test", str(t)], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "Overall" in r.output and "detail per sequence" in r.output


def test_bdrate_on_two_final_csv_files_gives_the_same_class_and_overall(tmp_path, cond):
    """final_SFU.csv of both runs (one BD per Dataset row) gives the run directories' class BDs and Overall."""
    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond)
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.7)
    build_video_results(a), build_video_results(t)
    _, runs = _bd_json(a, t)
    r, csvs = _bd_json(a / "final_SFU.csv", t / "final_SFU.csv")
    assert r.exit_code == 0, r.output
    assert csvs["overall"][0]["bd_rate_pct"] == pytest.approx(runs["overall"][0]["bd_rate_pct"], rel=1e-9)
    for s in runs["summary"]:
        c = [x for x in csvs["summary"] if x["group"] == s["group"]][0]
        assert c["bd_rate_pct"] == pytest.approx(s["bd_rate_pct"], rel=1e-9)


def test_bdrate_refuses_a_class_missing_on_one_side(tmp_path, cond):
    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond)
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.8, drop_class="C")
    build_video_results(a), build_video_results(t)
    r = CliRunner().invoke(main, ["bdrate", "--anchor", str(a), "--test", str(t)])
    assert r.exit_code == 2, r.output
    assert "CLASS-C only in the anchor" in r.output


def test_report_workbook_has_rows_per_class_and_rank_and_the_overall_row(tmp_path, cond):
    """`vcmbench report` on two video runs: one section per class (rows per rate point: rank, kbps, AP %), the
    class BD-rates as summary figures and Overall = their mean (scope overall) in the workbook, HTML and JSON."""
    import openpyxl

    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond)
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.75, class_scale={"C": 0.5})
    va, _ = build_video_results(a), build_video_results(t)
    x, h = tmp_path / "r.xlsx", tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", "--anchor", str(a), "--test", str(t), "-o", str(x), "-o", str(h), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    by = {s["condition"] or s["scope"]: s for s in out["summary"]}
    assert by["CLASS-D"]["bd_rate_pct"] == pytest.approx(-25.0, abs=1e-9)
    assert by["CLASS-C"]["bd_rate_pct"] == pytest.approx(-50.0, abs=1e-9)
    assert by["overall"]["bd_rate_pct"] == pytest.approx(-37.5, abs=1e-9) and "issue 22" in by["overall"]["source"]
    wb = openpyxl.load_workbook(x, data_only=True)
    assert wb.sheetnames == ["Summary", "CLASS-D", "CLASS-C", "Provenance"]
    summary = [row for row in wb["Summary"].iter_rows(values_only=True)]
    overall_row = next(row for row in summary if row[0] == "Overall: mean of the class BD-rates")
    assert overall_row[1] == "overall" and overall_row[6] == pytest.approx(-37.5, abs=1e-9)
    sheet = [row for row in wb["CLASS-C"].iter_rows(values_only=True)]
    head = next(i for i, row in enumerate(sheet) if row[0] == "Dataset")
    assert sheet[head][2:7] == ("Rank", "Bits", "Pixels", "kbps", "AP (%)")
    for rank in range(3):
        row = sheet[head + 1 + rank]
        want = _by(va.classes, **{"class": "C", "rank": rank})[0]
        assert row[2] == rank and row[5] == pytest.approx(want["kbps"], rel=1e-15)
        assert row[6] == pytest.approx(want["accuracy"]["AP"] * 100, rel=1e-15)
    html = h.read_text()
    assert "Overall: mean of the class BD-rates" in html
    assert "<th>Rank</th>" in html and "per rate point (the i-th QP of every sequence of the class)" in html


def test_bdrate_prints_each_overlap_warning_once_per_curve_naming_the_curve(tmp_path, cond):
    """Class C1 holds one sequence: its class curve and that sequence's curve are the same numbers, so the same
    overlap warning; each curve's warning is printed once, named by its curve (class or sequence)."""
    from vcmbench.run.video_results import build_video_results

    one = {"C1": ["ConstructedC1_416x240_50"]}
    a = R.make_run(tmp_path / "a", cond, drop_class="D", extra_class=one)
    t = R.make_run(tmp_path / "t", cond, label="test", drop_class="D", bits_scale=0.5, extra_class=one)
    build_video_results(a), build_video_results(t)
    r = CliRunner().invoke(main, ["bdrate", "--anchor", str(a), "--test", str(t)])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stderr.splitlines() if "rate ranges overlap only" in ln]
    assert len(lines) == len(set(lines)) == 4, r.stderr
    curves = [ln.split(": ")[1] for ln in lines]
    assert curves == ["pchip-jvet, class curve CLASS-C", "pchip-jvet, class curve CLASS-C1",
                      "pchip-jvet, sequence curve ConstructedC1_416x240_50",
                      "pchip-jvet, sequence curve ConstructedC2_416x240_60"]
    # the one-sequence class and its sequence: the same warning text after the curve's name
    assert lines[1].split(": ", 2)[2] == lines[2].split(": ", 2)[2]


def test_report_overall_bd_accuracy_is_the_one_bdrate_gives_in_every_output(tmp_path, cond):
    """The Overall row of `vcmbench report` on video runs carries the BD-accuracy `bdrate --json` gives (the mean of
    the class BD-accuracies, each recomputed here with bd.compare): workbook cell in pp, JSON as a fraction plus
    ``bd_quality_pp``, the text summary in pp (core.units, 2 decimals)."""
    import openpyxl

    from vcmbench.bd import compare
    from vcmbench.core import units
    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond)
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.75, class_scale={"C": 0.5})
    va, vt = build_video_results(a), build_video_results(t)
    mine = []
    for cls in ("D", "C"):
        ca = [(x["kbps"], x["accuracy"]["AP"]) for x in sorted(_by(va.classes, **{"class": cls}), key=lambda x: x["rank"])]
        ct = [(x["kbps"], x["accuracy"]["AP"]) for x in sorted(_by(vt.classes, **{"class": cls}), key=lambda x: x["rank"])]
        mine.append(compare(ca, ct, "pchip-jvet").bd_quality)
    want = sum(mine) / 2
    assert abs(want) > 1e-4  # the test codec's cheaper rate moves the accuracy at equal rate: a real figure
    _, bd = _bd_json(a, t)
    assert bd["overall"][0]["bd_quality"] == pytest.approx(want, rel=1e-12)
    x = tmp_path / "r.xlsx"
    r = CliRunner().invoke(main, ["report", "--anchor", str(a), "--test", str(t), "-o", str(x), "--json"])
    assert r.exit_code == 0, r.output
    ov = [s for s in json.loads(r.stdout)["summary"] if s["scope"] == "overall"]
    assert len(ov) == 1 and ov[0]["bd_quality"] == pytest.approx(want, rel=1e-12)
    assert ov[0]["bd_quality_unit"] == "fraction" and ov[0]["bd_quality_pp"] == pytest.approx(want * 100, rel=1e-12)
    rows = list(openpyxl.load_workbook(x, data_only=True)["Summary"].iter_rows(values_only=True))
    head = next(row for row in rows if row[0] == "Figure")
    col = next(j for j, h in enumerate(head) if h and str(h).startswith("BD-accuracy"))
    overall_row = next(row for row in rows if row[0] == "Overall: mean of the class BD-rates")
    assert head[col] == "BD-accuracy (pp)" and overall_row[col] == pytest.approx(want * 100, rel=1e-12)
    r = CliRunner().invoke(main, ["report", "--anchor", str(a), "--test", str(t), "-o", str(tmp_path / "s.xlsx")],
                           env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.output.splitlines() if ln.startswith("Overall"))
    assert units.bd_accuracy("AP").text(want, unit=True) in line


def test_bdrate_reads_the_video_results_csv_and_refuses_what_it_cannot_compare(tmp_path, cond):
    """`results --csv` of two video runs gives the run directories' class BDs and Overall (rate_key kbps);
    --ci is refused for video inputs; a different ground-truth mode is a signature mismatch (exit 2)."""
    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond)
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.75, class_scale={"C": 0.5})
    build_video_results(a), build_video_results(t)
    for d in (a, t):
        res = CliRunner().invoke(main, ["results", str(d), "--csv"])
        (tmp_path / f"{d.name}.csv").write_text(res.stdout)
    r, out = _bd_json(tmp_path / "a.csv", tmp_path / "t.csv")
    assert r.exit_code == 0, r.output
    assert out["rate"] == "kbps" and out["overall"][0]["bd_rate_pct"] == pytest.approx(-37.5, abs=1e-9)
    r = CliRunner().invoke(main, ["bdrate", "--anchor", str(a), "--test", str(t), "--ci", "95"])
    assert r.exit_code == 2 and "video" in r.output
    g = R.make_run(tmp_path / "g", dict(cond, ground_truth={"mode": "reference-output", "score_threshold": 0.5}),
                   label="test", mode="reference-output")
    build_video_results(g)
    r = CliRunner().invoke(main, ["bdrate", "--anchor", str(a), "--test", str(g)])
    assert r.exit_code == 2 and "signature parts differ" in r.output and "gt:" in r.output


def test_a_class_with_a_sequence_outside_the_run_is_not_scored_and_overall_is_not_given(tmp_path, cond):
    """A run of some sequences only (the condition lists its classes whole): the incomplete class gets no row,
    Overall none; bdrate gives the other class's BD and refuses Overall, naming the class."""
    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond, absent_member="RaceHorses_416x240_30")
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.75, absent_member="RaceHorses_416x240_30")
    va, _ = build_video_results(a), build_video_results(t)
    assert not _by(va.classes, **{"class": "D"}) and len(_by(va.classes, **{"class": "C"})) == 3
    assert va.overall == []
    assert any("class D: left out — 1 of its 4 sequences are not in this run (RaceHorses_416x240_30)" in n
               for n in va.notes)
    assert len(_by(va.sequences, sequence="BQSquare_416x240_60")) == 3  # its sequences still have their rows
    r = CliRunner().invoke(main, ["bdrate", "--anchor", str(a), "--test", str(t), "--json"])
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    assert [s["group"] for s in out["summary"]] == ["CLASS-C"]
    assert out["overall"][0]["bd_rate_pct"] is None and "CLASS-D" in out["overall"][0]["error"]


def test_video_curves_name_class_points_by_rank_and_qps(run_dir):
    """A class curve's points are rate points (qp = rank): messages name the rank and the sequences' QPs."""
    from vcmbench.report.inputs import load_curves
    from vcmbench.run.video_results import build_video_results

    build_video_results(run_dir)
    cs = load_curves(run_dir)
    assert cs.video and cs.rate_name == "kbps" and cs.class_groups() == ["CLASS-D", "CLASS-C"]
    assert cs.point_names(("CLASS-D", None)) == ["rate point 0 (QP 22,22,22)", "rate point 1 (QP 27,27,27)",
                                                 "rate point 2 (QP 32,32,32)"]
    assert cs.point_names(("BQSquare_416x240_60", None)) == ["QP 22", "QP 27", "QP 32"]
    assert load_curves(run_dir, rate_col="bpp").curves[("CLASS-C", None)][0][0] == pytest.approx(
        _by(build_video_results(run_dir, write=False).classes, **{"class": "C", "rank": 0})[0]["bpp"], rel=1e-15)


def test_a_sequence_in_two_classes_is_scored_once_and_pooled_in_both(tmp_path, cond):
    """An optional set's class (like AB*) shares sequences with another: one row per sequence x QP, each class
    pooled over its own sequences (metrics.video), the final CSV lists each sequence once."""
    from vcmbench.run.video_results import build_video_results

    two = ["BasketballPass_416x240_50", "BlowingBubbles_416x240_50"]
    d = R.make_run(tmp_path / "r", cond, extra_class={"D*": two})
    vr = build_video_results(d)
    assert len(vr.sequences) == 15 and len(_by(vr.classes, **{"class": "D*"})) == 3
    seqs = [s for s in R.sequences() if s["name"] in two]
    for q in range(3):
        want = V.class_accuracy([(R.gt_of(s), R.preds_of(s, q)) for s in seqs])
        got = _by(vr.classes, **{"class": "D*", "rank": q})[0]
        assert got["accuracy"]["AP"] == want["AP"] and got["sequences"] == two
    d_rows = sorted(_by(vr.classes, **{"class": "D"}), key=lambda r: r["rank"])
    assert [r["accuracy"]["AP"] * 100 for r in d_rows] == pytest.approx(golden.CLASS_AP, rel=1e-12, abs=0)
    back = V.read_final_csv(vr.csv_text)
    assert len([r for r in back if not r.is_class]) == 15
    assert [r.dataset for r in back if r.is_class] == ["CLASS-D"] * 3 + ["CLASS-D*"] * 3 + ["CLASS-C"] * 3


def test_report_on_two_final_csv_files_gives_the_class_rows_and_overall(tmp_path, cond):
    """final_SFU.csv inputs in `report`: the classes only (the sequences are bdrate's detail) and their Overall,
    equal to the run directories'; --ci is refused for video inputs."""
    from vcmbench.run.video_results import build_video_results

    a = R.make_run(tmp_path / "a", cond)
    t = R.make_run(tmp_path / "t", cond, label="test", bits_scale=0.75, class_scale={"C": 0.5})
    build_video_results(a), build_video_results(t)
    r = CliRunner().invoke(main, ["report", "--anchor", str(a / "final_SFU.csv"), "--test", str(t / "final_SFU.csv"),
                                  "-o", str(tmp_path / "r.xlsx"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [s["condition"] for s in out["summary"]] == ["CLASS-D", "CLASS-C", ""]
    assert out["summary"][2]["scope"] == "overall" and out["summary"][2]["bd_rate_pct"] == pytest.approx(-37.5, abs=1e-9)
    r = CliRunner().invoke(main, ["report", "--anchor", str(a), "--test", str(t), "-o", str(tmp_path / "c.xlsx"),
                                  "--ci", "95"])
    assert r.exit_code == 2 and "video inputs" in r.output


def test_times_add_up_from_the_jobs_to_the_class_points(run_dir):
    """Encode/decode/task seconds of a sequence point are its job's; a class point's the sum over its sequences."""
    from vcmbench.run.video_results import build_video_results

    vr = build_video_results(run_dir)
    rs = vr.result_set
    seq = next(p for p in rs.points if p.extra["level"] == "sequence")
    assert (seq.encode_seconds, seq.decode_seconds, seq.task_seconds) == (1.0, 0.5, 0.1)
    cls = next(p for p in rs.points if p.extra["level"] == "class" and p.extra["group"] == "D")
    assert cls.encode_seconds == 3.0 and cls.decode_seconds == 1.5


def test_frames_are_never_matched_to_guessed_ground_truth_ids():
    """An annotated sequence whose run records no ground-truth ids for its frames is refused: numbering the frames
    1..N would score frame k against another annotated frame when the range does not start at the file's first."""
    from vcmbench.core.errors import DataError
    from vcmbench.run.video_results import _eval_ids

    assert _eval_ids({"name": "s", "frames": 3, "annotations": None}) == [1, 2, 3]  # reference-output: no file
    assert _eval_ids({"name": "s", "frames": 2, "annotations": "a.json", "eval_ids": [7, 8]}) == [7, 8]
    for bad in ([], [7]):
        with pytest.raises(DataError, match="ground-truth frame ids"):
            _eval_ids({"name": "s", "frames": 2, "annotations": "a.json", "eval_ids": bad})
