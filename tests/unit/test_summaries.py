"""Summary figures (bdrate/report first figure), Pareto agreement with `results --pareto`, what is compared.

The expected Pareto-front BD figures are computed here from hand-picked point lists through ``bd.compare``
(not through ``run.resultset.pareto_points``), so the selection itself is under test.
"""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from tests.unit._resultsets import make_anchor, make_test
from vcmbench.bd import compare
from vcmbench.cli import cli
from vcmbench.core.errors import DataError
from vcmbench.core.records import RatePoint, ResultSet
from vcmbench.report import build_report
from vcmbench.report.document import build_document
from vcmbench.report.summaries import NO_OVERALL, PARETO_NAME
from vcmbench.run.resultset import pareto_front

SIG = "cttc:c@1|codec:x|task:t|map:m|rate:bpp|gt:g|v:0.1.0"
# (scale, qp, bpp, mAP): at 50 % the test saves much more than at 100 %, so the Pareto figure differs
# from each per-scale figure and from their mean.
ANCHOR = [(1.0, 22, 1.00, 0.700), (1.0, 27, 0.60, 0.690), (1.0, 32, 0.35, 0.660), (1.0, 37, 0.20, 0.600),
          (0.5, 22, 0.40, 0.650), (0.5, 27, 0.22, 0.630), (0.5, 32, 0.12, 0.580), (0.5, 37, 0.06, 0.480)]
TEST = [(s, q, b * (0.95 if s == 1.0 else 0.6), m) for s, q, b, m in ANCHOR]


def _set(rows, label, codec, images=100, dataset="D", kind=None, condition="c@1", sig=SIG) -> ResultSet:
    prov = {"kind": kind} if kind else {}
    return ResultSet(condition, codec, label, "map50",
                     [RatePoint(s, q, int(b * 1e6), 1000000, b, {"map50": m}, images) for s, q, b, m in rows],
                     sig, metric="mAP@0.5", dataset=dataset, provenance=prov)


def _front(rows, qps_scales):
    pts = {(s, q): (b, m) for s, q, b, m in rows}
    return [pts[k] for k in qps_scales]


# Worked out by hand (a point stays unless another has bpp <= and mAP >=): the anchor loses 50 % QP 22
# (0.40 bpp, 0.650) to 100 % QP 32 (0.35, 0.660); the test loses 100 % QP 37 (0.19, 0.600) to 50 % QP 27
# (0.132, 0.630).
ANCHOR_FRONT = [(0.5, 37), (0.5, 32), (1.0, 37), (0.5, 27), (1.0, 32), (1.0, 27), (1.0, 22)]
TEST_FRONT = [(0.5, 37), (0.5, 32), (0.5, 27), (0.5, 22), (1.0, 32), (1.0, 27), (1.0, 22)]


def test_pareto_figure_is_the_bd_of_the_hand_picked_fronts():
    a, t = _set(ANCHOR, "A", "vtm"), _set(TEST, "T", "vvenc")
    assert [(p.scale, p.qp) for p in pareto_front(a).points] == ANCHOR_FRONT
    assert [(p.scale, p.qp) for p in pareto_front(t).points] == TEST_FRONT
    want = compare(_front(ANCHOR, ANCHOR_FRONT), _front(TEST, TEST_FRONT), "pchip-jvet").bd_rate_pct
    model = build_report([a], [t])
    (s,) = model.summaries
    assert s.scope == "dataset" and s.name == PARETO_NAME and s.selection == "pareto"
    assert s.result.bd_rate_pct == pytest.approx(want, abs=1e-12)
    per_scale = [e.result.bd_rate_pct for e in model.entries]
    assert per_scale[0] == pytest.approx(-5.0, abs=1e-9) and per_scale[1] == pytest.approx(-40.0, abs=1e-9)
    assert all(abs(s.result.bd_rate_pct - v) > 1.0 for v in [*per_scale, sum(per_scale) / 2])
    assert "selection:pareto" in s.signature and "scale:" not in s.signature
    assert any("scale 50 % QP 37" in n for n in s.result.notes)  # kept points named by scale and QP


def test_bdrate_summary_first_and_equal_to_bdrate_on_the_pareto_files(tmp_path):
    a, t = _set(ANCHOR, "A", "vtm"), _set(TEST, "T", "vvenc")
    a.save(tmp_path / "a.json")
    t.save(tmp_path / "t.json")
    pareto_front(a).save(tmp_path / "a-pareto.json")
    pareto_front(t).save(tmp_path / "t-pareto.json")
    full = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.json"), "--test", str(tmp_path / "t.json"),
                                    "--json"])
    assert full.exit_code == 0, full.output
    data = json.loads(full.stdout)
    assert list(data).index("summary") < list(data).index("results")
    (summ,) = data["summary"]
    assert summ["selection"] == "pareto" and summ["name"] == PARETO_NAME and "no public text" in summ["source"]
    assert [r["scale_pct"] for r in data["results"]] == [100, 50]
    front = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a-pareto.json"), "--test",
                                     str(tmp_path / "t-pareto.json"), "--json"])
    assert front.exit_code == 0, front.output
    fdata = json.loads(front.stdout)
    (row,) = fdata["results"]
    assert row["scale_pct"] is None and row["bd_rate_pct"] == summ["bd_rate_pct"]
    assert row["bd_quality"] == summ["bd_quality"] and row["signature"] == summ["signature"]
    assert fdata["summary"][0]["bd_rate_pct"] == summ["bd_rate_pct"]
    assert summ["bd_quality_pp"] == pytest.approx(summ["bd_quality"] * 100) and data["bd_quality_unit"] == "fraction"
    text = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.json"), "--test", str(tmp_path / "t.json")])
    out = text.stdout
    assert out.index("summary") < out.index("detail per scale") < out.index("-40.00 %")
    assert f"{summ['bd_rate_pct']:+.2f} %" in out.split("detail per scale")[0]
    assert "pp" in out and "quality overlap" in out and "100.0 %" in out
    assert "anchor: A (c@1, vtm)" in out and "test: T (c@1, vvenc)" in out


def test_one_scale_summary_is_the_per_scale_figure():
    a = _set([r for r in ANCHOR if r[0] == 1.0], "A", "vtm")
    t = _set([r for r in TEST if r[0] == 1.0], "T", "vvenc")
    model = build_report([a], [t])
    (s,) = model.summaries
    (e,) = model.entries
    assert s.selection == "" and s.result is e.result and s.signature == e.signature


def test_document_summary_table_names_rule_and_source_and_no_overall_mean():
    model = build_report([_set(ANCHOR, "A", "vtm")], [_set(TEST, "T", "vvenc")])
    doc = build_document(model)
    sec = next(s for s in doc.sections if s.heading.startswith("4 "))
    tables = [b[1] for b in sec.blocks if b[0] == "table"]
    (row,) = tables[0].rows
    assert row[0] == "T" and row[2] == PARETO_NAME and row[3].endswith(" %") and row[4].endswith(" pp")
    notes = " ".join(tables[0].notes)  # rule and source are numbered notes under the table
    assert "not dominated" in notes and "no public text" in notes
    assert ("p", NO_OVERALL) in sec.blocks
    assert not any(r[0] == "Overall" for t in tables for r in t.rows)
    assert not any("mean of" in c for t in tables for r in t.rows for c in r)


@pytest.mark.parametrize("change, what", [
    ({"dataset": "E"}, "dataset"),
    ({"images": 50}, "images"),
    ({"kind": "feature"}, "kind"),
])
def test_mixed_comparisons_refused_unless_allowed(change, what):
    a = _set(ANCHOR, "A", "vtm", kind="image")
    kw = {"kind": "image", **change}
    t = _set(TEST, "T", "vvenc", **kw)
    with pytest.raises(DataError, match="--allow-mixed"):
        build_report([a], [t])
    model = build_report([a], [t], allow_mixed=True)
    assert f"mixed:{what}" in model.entries[0].signature and f"mixed:{what}" in model.summaries[0].signature
    assert model.provenance["mixed"] == [f"T: {what}"]
    assert any(w.startswith("c@1: MIXED") for w in model.warnings)


def test_twin_feature_and_image_runs_warn_and_are_labelled():
    from vcmbench.report.plots import figure

    a = _set(ANCHOR, "A", "vtm", kind="image", condition="img@1")
    t = _set(TEST, "T", "vtm-features", kind="feature", condition="feat@1")
    t.provenance["twin"] = "img"
    model = build_report([a], [t])
    assert any("image coding" in w and "feature coding" in w and "twin" in w for w in model.warnings)
    assert not model.provenance["mixed"] and "mixed:" not in model.entries[0].signature
    fig = figure(model.sections[0], 1.0)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "Anchor: A (img@1, image coding, vtm)" in labels and "Test: T (feat@1, feature coding, vtm-features)" in labels


def test_bdrate_allow_mixed_is_recorded(tmp_path):
    _set(ANCHOR, "A", "vtm").save(tmp_path / "a.json")
    _set(TEST, "T", "vvenc", images=50).save(tmp_path / "t.json")
    args = ["bdrate", "--anchor", str(tmp_path / "a.json"), "--test", str(tmp_path / "t.json"), "--json"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "100 images, test on 50" in res.output and "--allow-mixed" in res.output
    res = CliRunner().invoke(cli, args + ["--allow-mixed"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert all("mixed:images" in r["signature"] for r in [*data["summary"], *data["results"]])
    assert data["results"][0]["mixed"] == ["images"] and "MIXED" in res.stderr


def test_report_refuses_a_pareto_selection():
    with pytest.raises(DataError, match="resultset.json"):
        build_report([pareto_front(make_anchor())], [make_test()])


def test_fixture_sets_summary_equals_bdrate_summary(tmp_path):
    """The report and bdrate give the same summary figure for the same result sets."""
    a, t = make_anchor(), make_test(rate_factor=0.8, q_shift=0.004)
    a.save(tmp_path / "a.json")
    t.save(tmp_path / "t.json")
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.json"), "--test", str(tmp_path / "t.json"),
                                   "--json"])
    assert res.exit_code == 0, res.output
    (summ,) = json.loads(res.stdout)["summary"]
    model = build_report([copy.deepcopy(a)], [copy.deepcopy(t)])
    assert model.summaries[0].result.bd_rate_pct == summ["bd_rate_pct"]


def test_messages_name_points_by_scale_and_qp(tmp_path):
    rows = [(1.0, 22, 1.00, 0.700), (1.0, 27, 0.60, 0.710), (1.0, 32, 0.35, 0.660), (1.0, 37, 0.20, 0.600)]
    _set(rows, "A", "vtm").save(tmp_path / "a.json")
    _set(rows, "T", "vvenc").save(tmp_path / "t.json")
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.json"), "--test", str(tmp_path / "t.json")])
    assert res.exit_code == 2
    assert "point scale 100 % QP 22 has lower quality than scale 100 % QP 27" in res.output
    assert "rate=" not in res.output
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.json"), "--test", str(tmp_path / "t.json"),
                                   "--remedy", "drop-nonmono"])
    assert res.exit_code == 0, res.output
    assert "drop-nonmono dropped scale 100 % QP 22" in res.stderr and "rate=" not in res.stderr


def test_report_cli_summary_first_and_allow_mixed_recorded(tmp_path):
    _set(ANCHOR, "A", "vtm").save(tmp_path / "a.json")
    _set(TEST, "T", "vvenc", dataset="E").save(tmp_path / "t.json")
    args = ["report", "--anchor", str(tmp_path / "a.json"), "--test", str(tmp_path / "t.json"),
            "-o", str(tmp_path / "r.html")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "--allow-mixed" in res.output and not (tmp_path / "r.html").exists()
    res = CliRunner().invoke(cli, args + ["--allow-mixed", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data).index("summary") < list(data).index("results") and data["mixed"] == ["T: dataset"]
    (summ,) = data["summary"]
    assert summ["name"] == PARETO_NAME and "mixed:dataset" in summ["signature"] and summ["bd_quality_unit"] == "fraction"
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "--allow-mixed" in html and "MIXED" in html
    res = CliRunner().invoke(cli, args + ["--allow-mixed"])
    out = res.stdout
    assert out.index("summary") < out.index("detail per scale") and f"{summ['bd_rate_pct']:+.2f} %" in out


def test_csv_with_scale_and_qp_columns_gives_the_same_summary(tmp_path):
    for name, rows in (("a", ANCHOR), ("t", TEST)):
        text = "scale,qp,bpp,map50\n" + "".join(f"{s * 100:g},{q},{b!r},{m!r}\n" for s, q, b, m in rows)
        (tmp_path / f"{name}.csv").write_text(text)
    res = CliRunner().invoke(cli, ["bdrate", "--anchor", str(tmp_path / "a.csv"), "--test", str(tmp_path / "t.csv"),
                                   "--json"])
    assert res.exit_code == 0, res.output
    (summ,) = json.loads(res.stdout)["summary"]
    want = compare(_front(ANCHOR, ANCHOR_FRONT), _front(TEST, TEST_FRONT), "pchip-jvet").bd_rate_pct
    assert summ["selection"] == "pareto" and summ["bd_rate_pct"] == pytest.approx(want, abs=1e-12)
    assert "scale 50 % QP 37" in summ["bd"]["notes"][0]
