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
    assert cs.curves == {1.0: [(0.5, 0.7), (0.3, 0.6)], 0.5: [(0.2, 0.65)]}


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
    assert sorted(cs.curves) == [0.5, 1.0] and len(cs.curves[1.0]) == 6
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
    assert common_scales(a, b) == [1.0] and 1.0 in a.curves
    two = curves_from_result_set(make_anchor(), "c.json")
    with pytest.raises(DataError, match="no scale in common"):
        common_scales(load_curves(p), two)
