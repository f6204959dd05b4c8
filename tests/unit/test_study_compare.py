"""The study report's published-vs-reproduced comparison (studies.report.comparison) and its xlsx, HTML and
docx renderings, on constructed results dicts of the study table contract (issue 25: S3's own tables and
tables shaped like the other studies': MAE in years, PSNR in dB, a multi-row percent table).

The published figures are those of seed-tables.md (S3 baseline AP 43.047 …; S3 reconstruction a = 0.5:
AP 41.62, ΔAP -1.4); the reproduced figures are made up for the test."""

from __future__ import annotations

import copy
import zipfile

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.core.errors import DataError
from vcmbench.core.jsonio import write_json
from vcmbench.studies.model import load_study
from vcmbench.studies.report import comparison, document_sections, factor_of, write_docx, write_html, write_xlsx


def _s3_result():
    s = load_study("s3-layers-frcnn")
    clean = {"name": "S3 clean", "columns": ["AP", "AP50", "APs", "APm", "APl"],
             "rows": [[0.41, 0.62, None, 0.45, 0.55]], "images": 22,
             "ci": [[[0.38, 0.44], [0.58, 0.66], None, [0.40, 0.50], [0.50, 0.60]]],
             "compare": {"published": "Baseline", "rows": [[0, 0]],
                         "columns": [["AP", "AP"], ["AP50", "AP50"], ["APs", "APs"]],
                         "units": "percent", "higher_is_better": True, "order_by": "AP"}}
    rb = {"name": "S3 reconstruction of unsent maps", "images": 22,
          "columns": ["scenario", "sent maps", "a", "data reduction (x)", "AP", "APs", "APm", "APl", "ΔAP", "ΔAPs",
                      "ΔAPm", "ΔAPl"],
          "rows": [["C-O-C-O-C, P4 mix a=0.5", "p3+p5", 0.5, 5.0153, 0.40, 0.2, 0.4, 0.5, -0.012, -0.02, 0.0, 0.001]],
          "ci": [[None, None, None, None, [0.37, 0.43], None, None, None, [-0.02, -0.004], None, None, None]],
          "compare": {"published": s.data["published"]["tables"][2]["name"], "rows": [[0, 0]],
                      "columns": [["data reduction (x)", "data reduction (x)"], ["AP", "AP"], ["ΔAP", "ΔAP"]],
                      "units": "percent", "higher_is_better": True, "order_by": "AP"}}
    plain = {"name": "S3 one map degraded", "columns": ["map", "factor", "AP"], "rows": [["p2", 2, 0.4]]}
    return {"study": s.name, "title": s.data["title"], "type": "layers", "signature": "study:s3|v:1", "images": 22,
            "tables": [clean, rb, plain], "published": s.data["published"], "deviations": s.data["deviations"],
            "bootstrap": {"resamples": 1000, "level": 0.95, "seed": 0},
            "run": {"study": {**s.data, "overrides": {"task": "rcnn:X"}}, "data_dir": "/secret/home/coco-tiny-cc",
                    "limit": 5, "options": {"task_options": {"weights": "/secret/w/model_final_68b088.pkl"}}}}


def test_percent_conversion_intervals_and_differences():
    res = _s3_result()
    c = comparison(res, res["tables"][0])
    ap = next(r for r in c["rows"] if r["quantity"] == "AP")
    assert ap["published"] == 43.047 and ap["reproduced"] == pytest.approx(41.0)
    assert ap["interval"] == pytest.approx([38.0, 44.0]) and ap["difference"] == pytest.approx(41.0 - 43.047)
    assert ap["text"] == ["row 1", "AP", "43.047", "41.000", "38.000 … 44.000", "-2.047"]
    aps = next(r for r in c["rows"] if r["quantity"] == "APs")
    assert aps["reproduced"] is None and aps["text"][3:] == ["–", "–", "–"]  # no object of that size
    assert c["images"] == 22 and c["verdict"]["verdict"] is None and "no published ordering" in c["verdict"]["text"]
    rb = comparison(res, res["tables"][1])
    by = {r["quantity"]: r for r in rb["rows"]}
    assert by["data reduction (x)"]["reproduced"] == pytest.approx(5.0153)  # not a fraction: as stored
    assert by["ΔAP"]["reproduced"] == pytest.approx(-1.2) and by["ΔAP"]["published"] == -1.4
    assert by["ΔAP"]["text"][3] == "-1.200" and by["ΔAP"]["text"][0] == "C-O-C-O-C, P4 mix a=0.5 · p3+p5"
    assert comparison(res, res["tables"][2]) is None


def test_factor_rule():
    assert factor_of({"units": "percent"}, "ΔAPm") == 100 and factor_of({"units": "percent"}, "mAP") == 100
    assert factor_of({"units": "percent"}, "PSNR [F]") == 1 and factor_of({"units": "years"}, "MAE") == 1
    assert factor_of({"units": "percent", "factors": {"AP": 1}}, "AP") == 1  # already stored in percent


def _multi(pub_rows, rep_rows, cis, units="percent", col="mAP"):
    pub = {"name": "Table 2", "columns": ["σ", col], "rows": pub_rows}
    t = {"name": "S2 noise", "columns": ["σ", col], "rows": rep_rows, "ci": cis, "images": 40,
         "compare": {"published": "Table 2", "rows": [[i, i] for i in range(len(rep_rows))],
                     "columns": [["σ", "σ"], [col, col]], "units": units, "higher_is_better": True, "order_by": col}}
    return {"study": "s2", "title": "S2", "signature": "study:s2", "published": {"source": "paper",
                                                                              "tables": [pub]}, "tables": [t]}, t


def test_verdicts_of_multi_row_tables():
    res, t = _multi([[1, 40.0], [2, 30.0], [4, 10.0]], [[1, 0.35], [2, 0.25], [4, 0.05]],
                    [[None, [0.33, 0.37]], [None, [0.23, 0.27]], [None, [0.03, 0.07]]])
    c = comparison(res, t)
    assert c["verdict"]["verdict"] == "yes" and "3 of 3" in c["verdict"]["text"]
    res, t = _multi([[1, 40.0], [2, 30.0], [4, 10.0]], [[1, 0.25], [2, 0.35], [4, 0.05]],
                    [[None, [0.23, 0.27]], [None, [0.33, 0.37]], [None, [0.03, 0.07]]])
    assert comparison(res, t)["verdict"]["verdict"] == "no"
    # S4-like: MAE in years, lower is better; compared as stored
    res, t = _multi([[0, 5.2], [1, 7.68]], [[0, 6.1], [1, 6.3]], [[None, [5.5, 6.7]], [None, [5.8, 6.9]]],
                    units="years", col="MAE")
    c = comparison(res, t)
    assert c["verdict"]["verdict"] == "not significant" and c["rows"][-1]["text"][3] == "6.300"


def test_a_compare_naming_what_is_not_there_is_refused():
    res = _s3_result()
    t = copy.deepcopy(res["tables"][0])
    t["compare"]["published"] = "Nope"
    with pytest.raises(DataError, match="'Nope'"):
        comparison(res, t)
    t = copy.deepcopy(res["tables"][0])
    t["compare"]["columns"] = [["AP", "AP99"]]
    with pytest.raises(DataError, match="AP99"):
        comparison(res, t)


def _docx_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml").decode("utf-8")


def test_renderers_show_side_by_side_verdict_and_deviations(tmp_path):
    from openpyxl import load_workbook

    res = _s3_result()
    html = write_html([res], tmp_path / "s.html").read_text(encoding="utf-8")
    assert "S3 clean beside the published Baseline" in html and "43.047" in html and "38.000 … 44.000" in html
    assert "Trend verdict: none" in html and "figure_11_rows" in html
    assert "model_final_68b088.pkl" in html and "/secret" not in html  # the run's own, no local path
    assert "Deviations from the paper (s3-layers-frcnn)" in html
    wb = load_workbook(write_xlsx([res], tmp_path / "s.xlsx"))
    name = next(n for n in wb.sheetnames if n.startswith("vs S3 clean"))
    rows = list(wb[name].iter_rows(values_only=True))
    ap = next(r for r in rows if r[1] == "AP")
    assert ap[2:7] == (43.047, pytest.approx(41.0), pytest.approx(38.0), pytest.approx(44.0), pytest.approx(-2.047))
    assert any(r[0] == "verdict" and r[1] == "none" for r in rows)
    assert any(n.startswith("run ") for n in wb.sheetnames)
    sections, _ = document_sections([res])
    blocks = sections[0].blocks
    caps = [b.caption for k, b in blocks if k == "table"]
    assert "S3 clean beside the published Baseline" in caps
    i = caps.index("S3 clean beside the published Baseline")
    side = [b for k, b in blocks if k == "table"][i]
    assert side.rows[0] == ["row 1", "AP", "43.047", "41.000", "38.000 … 44.000", "-2.047"]
    paras = [b for k, b in blocks if k == "p"]
    assert any(p.startswith("Trend verdict") for p in paras) and any("figure_11_rows" in p for p in paras)
    doc = _docx_text(write_docx([res], tmp_path / "s.docx"))
    assert "beside the published Baseline" in doc and "43.047" in doc and "Trend verdict" in doc
    assert "model_final_68b088.pkl" in doc and "/secret" not in doc


def test_study_report_cli_reads_the_run(tmp_path):
    res = _s3_result()
    run = res.pop("run")
    out = tmp_path / "s3"
    write_json(out / "study-results.json", res)
    write_json(out / "study.json", run)
    r = CliRunner().invoke(cli, ["study", "report", str(out), "-o", str(tmp_path / "x.docx"),
                                 "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert "rcnn:X" in html and "(--limit 5)" in html and "This run: network" in html
    assert "Trend verdict" in _docx_text(tmp_path / "x.docx")


def test_s2_and_s4_shaped_tables_columns_by_index_units_per_column_and_an_ordering_across_columns(tmp_path):
    """The shapes the S2 and S4 summaries write: S2 names compared columns by index with one unit per column
    (``column_units``: AP a fraction shown x 100, SSIM as is, PSNR in dB); S4's claim is an ordering across the
    columns of its one row (``order_across: columns``: original < restored < masked, MAE published 4.22 / 10.55 /
    7.86, seed-tables S4).  An infinite figure (PSNR of equal pictures) renders as "inf" in every format."""
    s2 = load_study("s2-distortions-ssd")
    blur = next(t for t in s2.data["published"]["tables"] if t["name"] == "Gaussian blur")
    t2 = {"name": "S2 blur", "columns": ["domain", "strength", "SSIM [F]", "PSNR [F] (dB)", "AP (bbox)"],
          "rows": [["feature", 1.0, 0.7, 31.0, 0.30], ["feature", 3.0, 0.5, float("inf"), 0.20]], "images": 2,
          "ci": [[None, None, None, None, [0.25, 0.35]], [None, None, None, None, [0.15, 0.22]]],
          "compare": {"published": "Gaussian blur", "rows": [[0, 0], [1, 1]],
                      "columns": [[2, blur["columns"].index("SSIM [F]")], [4, len(blur["columns"]) - 1]],
                      "column_units": ["", "percent"], "units": "percent", "higher_is_better": True,
                      "order_by": "AP (bbox)"}}
    res2 = {"study": s2.name, "title": "S2", "type": "distortions", "signature": "study:s2", "images": 2,
            "tables": [t2], "published": s2.data["published"], "deviations": s2.data["deviations"]}
    c = comparison(res2, t2)
    ssim = [r["reproduced"] for r in c["rows"] if r["quantity"] == "SSIM [F]"]
    assert ssim == pytest.approx([0.7, 0.5])  # as stored
    ap = [r for r in c["rows"] if r["quantity"] == blur["columns"][-1]]
    assert [r["reproduced"] for r in ap] == pytest.approx([30.0, 20.0])  # a fraction shown in percent
    assert c["verdict"]["verdict"] is not None
    s4 = load_study("s4-occlusion-fgnet")
    pub = s4.data["published"]["tables"][0]
    t4 = {"name": "S4 MAE", "columns": ["occlusion", "MAE original", "MAE occluded", "MAE restored"],
          "rows": [["mask", 4.0, 11.0, 8.0]], "images": 30, "ci": [[None, [3.5, 4.5], [10.0, 12.0], [7.0, 9.0]]],
          "compare": {"published": pub["name"], "rows": [[0, 0]],
                      "columns": [["MAE original", pub["columns"][0]], ["MAE occluded", pub["columns"][1]],
                                  ["MAE restored", pub["columns"][2]]],
                      "units": "years", "higher_is_better": False, "order_by": None, "order_across": "columns"}}
    res4 = {"study": s4.name, "title": "S4", "type": "occlusion", "signature": "study:s4", "images": 30,
            "tables": [t4], "published": s4.data["published"], "deviations": s4.data["deviations"]}
    v = comparison(res4, t4)["verdict"]
    assert v["verdict"] == "yes" and v["claims"] == 3, v  # every ordering agrees, every interval apart
    t4["rows"] = [["mask", 4.0, 8.0, 11.0]]  # restored worse than occluded, beyond the intervals
    t4["ci"] = [[None, [3.5, 4.5], [7.0, 9.0], [10.0, 12.0]]]
    assert comparison(res4, t4)["verdict"]["verdict"] == "no"
    write_docx([res2, res4], tmp_path / "r.docx")
    write_html([res2, res4], tmp_path / "r.html")
    write_xlsx([res2, res4], tmp_path / "r.xlsx")
    assert "inf" in (tmp_path / "r.html").read_text()
    # every reproduced figure shows its interval and the table its number of images, compared or not
    page = (tmp_path / "r.html").read_text()
    assert "[0.2500 … 0.3500]" in page and "2 images; 95 % bootstrap intervals" in page
    doc = zipfile.ZipFile(tmp_path / "r.docx").read("word/document.xml").decode()
    assert "[0.2500 … 0.3500]" in doc
