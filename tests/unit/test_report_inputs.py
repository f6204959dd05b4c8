"""Curve inputs for ``vcmbench bdrate``: CSV parsing, scales, result sets."""

from __future__ import annotations

import pytest

from tests.unit._resultsets import make_anchor
from vcmbench.core.errors import DataError
from vcmbench.report.inputs import common_scales, curves_from_result_set, load_curves


def test_csv_with_scale_column(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("scale,QP,BPP,map\n1.0,22,0.5,0.7\n1.0,27,0.3,0.6\n0.5,22,0.2,0.65\n")
    cs = load_curves(p)
    assert cs.rate_name == "BPP" and cs.quality_name == "map"
    assert cs.curves == {(None, 1.0): [(0.5, 0.7), (0.3, 0.6)], (None, 0.5): [(0.2, 0.65)]}


def test_csv_bad_number_names_line(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("bpp,mAP\n0.5,0.7\n0.3,n/a\n")
    with pytest.raises(DataError, match="line 3: mAP value 'n/a' is not a number"):
        load_curves(p)


def test_missing_file():
    with pytest.raises(DataError, match="does not exist"):
        load_curves("/nonexistent/x.csv")


def test_result_set_curves_and_quality_key():
    cs = curves_from_result_set(make_anchor(), "a.json")
    assert sorted(cs.curves) == [(None, 0.5), (None, 1.0)] and len(cs.curves[(None, 1.0)]) == 6
    assert cs.quality_name == "map50_oid"
    with pytest.raises(DataError, match="has no accuracy 'AP'"):
        curves_from_result_set(make_anchor(), "a.json", quality_col="AP")
    with pytest.raises(DataError, match="rate column 'kbps' unknown"):
        curves_from_result_set(make_anchor(), "a.json", rate_col="kbps")


def test_scaleless_csv_pairs_with_single_scale_set(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("bpp,mAP\n0.5,0.7\n0.3,0.6\n0.1,0.4\n")
    a = load_curves(p)
    rs = make_anchor()
    rs.points = [q for q in rs.points if q.scale == 1.0]
    b = curves_from_result_set(rs, "b.json")
    assert common_scales(a, b) == [1.0]
    two = curves_from_result_set(make_anchor(), "c.json")
    with pytest.raises(DataError, match="no scale in common"):
        common_scales(load_curves(p), two)


# CompressAI-Vision layouts (scripts/metrics/gen_mpeg_cttc_csv.py and run/eval_split_inference.py of
# InterDigitalInc/CompressAI-Vision): per-run summary.csv and the final template CSV (pandas to_csv with
# its unnamed index column, accuracy x100, detection and segmentation rows in one file).
_DET = [(22, 0.91, 71.2), (27, 0.52, 70.5), (32, 0.29, 68.9), (37, 0.15, 65.1), (42, 0.075, 58.3), (47, 0.037, 47.0)]
_SEG = [(22, 0.93, 60.1), (27, 0.53, 59.4), (32, 0.30, 57.6), (37, 0.16, 53.9), (42, 0.078, 47.2), (47, 0.039, 37.3)]


def _final_csv(path, det_rate=1.0, seg_rate=1.0):
    lines = [",Dataset,qp,avg_bpp,end_accuracy,nn_part_1,encode,decode,nn_part_2"]
    i = 0
    for name, rows, f in (("mpeg-oiv6-detection", _DET, det_rate), ("mpeg-oiv6-segmentation", _SEG, seg_rate)):
        for qp, bpp, acc in rows:
            lines.append(f"{i},{name},{qp},{bpp * f},{acc},1.0,2.0,0.5,1.5")
            i += 1
    path.write_text("\n".join(lines) + "\n")
    return path


def test_peer_final_csv_gives_one_bd_per_dataset(tmp_path):
    from vcmbench.report.inputs import compare_inputs

    a = load_curves(_final_csv(tmp_path / "anchor.csv"))
    t = load_curves(_final_csv(tmp_path / "test.csv", det_rate=0.9, seg_rate=0.8))
    assert a.rate_name == "avg_bpp" and a.quality_name == "end_accuracy"
    assert a.groups() == ["mpeg-oiv6-detection", "mpeg-oiv6-segmentation"]
    rows = compare_inputs(a, t, ["pchip-jvet"])
    assert [r["group"] for r in rows] == ["mpeg-oiv6-detection", "mpeg-oiv6-segmentation"]
    assert [round(r["result"].bd_rate_pct, 6) for r in rows] == [-10.0, -20.0]


def test_peer_summary_csv_with_kbps(tmp_path):
    p = tmp_path / "summary.csv"
    p.write_text("Dataset,fps,num_of_coded_frame,qp,bitrate (kbps),end_accuracy\n"
                 "Traffic,30,33,22,500.0,0.71\nTraffic,30,33,27,250.0,0.65\n")
    cs = load_curves(p)
    assert cs.rate_name == "bitrate (kbps)" and cs.curves == {("Traffic", None): [(500.0, 0.71), (250.0, 0.65)]}


def test_compressai_json(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"name": "bmshj2018", "results": {"bpp": [0.1, 0.2, 0.4], "psnr-rgb": [28.0, 30.0, 32.0]}}')
    cs = load_curves(p)
    assert cs.label == "bmshj2018" and cs.quality_name == "psnr-rgb" and cs.curves[(None, None)][2] == (0.4, 32.0)


def test_percent_scales_and_group_mismatch(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("dataset,scale,bpp,AP\nx,100,0.5,0.7\nx,75,0.3,0.6\n")
    q = tmp_path / "b.csv"
    q.write_text("dataset,scale,bpp,AP\ny,100,0.5,0.7\n")
    assert sorted(load_curves(p).curves) == [("x", 0.75), ("x", 1.0)]
    with pytest.raises(DataError, match="no group in common"):
        common_scales(load_curves(p), load_curves(q))
