"""Deep nesting in JSON/YAML inputs, huge CSV fields and extreme values in ``report`` (issue 26): each
ends in a documented exit code with a message, never a RecursionError, a ``csv.Error`` or another
traceback."""

from __future__ import annotations

import copy
import json
import re

import pandas as pd
import pytest

from tests.unit._hostile import invoke
from tests.unit._resultsets import make_anchor
from tests.unit.test_metrics_cli import _oid_files
from vcmbench.core.errors import DataError

DEEP_YAML = "a: " + "[" * 100000 + "]" * 100000 + "\n"
DEEP_JSON = "[" * 200000 + "]" * 200000
HUGE = "x" * (1 << 20)  # a 1 MiB field: over Python's csv limit of 128 KiB


@pytest.fixture
def rs(tmp_path):
    p = tmp_path / "rs.json"
    p.write_text(json.dumps(make_anchor().to_dict()))
    return p


def test_deep_yaml_meta_of_report(tmp_path, rs):
    (tmp_path / "meta.yaml").write_text(DEEP_YAML)
    r = invoke(["report", "--anchor", rs, "--test", rs, "--meta", tmp_path / "meta.yaml", "-o", tmp_path / "r.html"],
               seconds=60)
    assert r.exit_code == 2 and "nested too deeply" in r.output, r.output


@pytest.mark.parametrize("ext", ["yaml", "json"])
def test_deep_conformance_suite(tmp_path, ext):
    (tmp_path / f"suite.{ext}").write_text(DEEP_YAML if ext == "yaml" else DEEP_JSON)
    r = invoke(["conformance", "run", tmp_path / f"suite.{ext}", "--decoder", "true {input} {output}",
                "-o", tmp_path / "r.html"])
    assert r.exit_code == 2 and "nested too deeply" in r.output, r.output


def test_conformance_suite_yaml_that_is_not_a_file_or_yaml(tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    r = invoke(["conformance", "run", tmp_path / "dir.yaml", "--decoder", "true {input} {output}"])
    assert r.exit_code == 2 and "directory" in r.output, r.output
    (tmp_path / "bad.yaml").write_bytes(b"cases: [\n\xff")
    r = invoke(["conformance", "run", tmp_path / "bad.yaml", "--decoder", "true {input} {output}"])
    assert r.exit_code == 2 and "UTF-8" in r.output, r.output
    (tmp_path / "bad.yaml").write_text("cases: [a, {b: }\n")
    r = invoke(["conformance", "run", tmp_path / "bad.yaml", "--decoder", "true {input} {output}"])
    assert r.exit_code == 2 and "not valid YAML" in r.output, r.output


@pytest.mark.parametrize("cmd", [["report", "--anchor", "{deep}", "--test", "{rs}", "-o", "{out}"],
                                 ["bdrate", "--anchor", "{deep}", "--test", "{rs}"],
                                 ["evaluate", "coco", "--gt", "{deep}", "--pred", "{deep}"]])
def test_deep_json_inputs(cmd, tmp_path, rs):
    (tmp_path / "deep.json").write_text(DEEP_JSON)
    args = [a.format(deep=tmp_path / "deep.json", rs=rs, out=tmp_path / "r.html") for a in cmd]
    r = invoke(args, seconds=60)
    assert r.exit_code == 2 and "nested too deeply" in r.output, r.output


def test_huge_csv_field_in_report_and_bdrate(tmp_path):
    (tmp_path / "a.csv").write_text(f"bpp,mAP\n0.1,0.5\n0.2,0.6\n0.3,0.7\n0.4,\"{HUGE}\"\n")
    for args in (["report", "--anchor", tmp_path / "a.csv", "--test", tmp_path / "a.csv", "-o", tmp_path / "r.html"],
                 ["bdrate", "--anchor", tmp_path / "a.csv", "--test", tmp_path / "a.csv"]):
        r = invoke(args, seconds=60)
        assert r.exit_code == 2 and "131072" in r.output, r.output


def test_huge_csv_field_in_evaluate_oid(tmp_path):
    args = _oid_files(tmp_path)
    p = pd.read_csv(tmp_path / "p.csv")
    p.loc[0, "LabelName"] = HUGE
    p.to_csv(tmp_path / "p.csv", index=False)
    r = invoke(["evaluate", "oid", *args], seconds=60)
    assert r.exit_code in (0, 2), r.output  # pandas reads any field size: an unknown class is a verdict
    b = pd.read_csv(tmp_path / "b.csv")
    b["ImageID"] = b["ImageID"].astype(object)
    b.loc[0, "ImageID"] = HUGE
    b.to_csv(tmp_path / "b.csv", index=False)
    r = invoke(["evaluate", "oid", *args], seconds=60)
    assert r.exit_code in (0, 2), r.output


def test_occlusion_labels_csv(tmp_path):
    from types import SimpleNamespace

    from vcmbench.studies.occlusion import faces

    study = SimpleNamespace(name="occlusion", settings={"dataset": {"format": "csv", "file": "labels.csv"}})
    (tmp_path / "labels.csv").write_text(f"image,age\n\"{HUGE}\",30\n")
    with pytest.raises(DataError, match="131072"):
        faces(study, tmp_path, None)
    for text, says in (("image,age\na.png\n", "row 2"), ("image,age\na.png,old\n", "finite age"),
                       ("image,age\na.png,nan\n", "finite age"), ("image,age\n", "columns image,age"),
                       ("name,years\na.png,3\n", "columns image,age")):
        (tmp_path / "labels.csv").write_text(text)
        with pytest.raises(DataError, match=says):
            faces(study, tmp_path, None)


def _scaled(a, bpp=1.0, acc=None):
    b = copy.deepcopy(a)
    for pt in b["points"]:
        pt["bpp"] = pt["bpp"] * bpp
        if acc is not None:
            pt["accuracy"] = {k: acc(v) for k, v in pt["accuracy"].items()}
    return b


EXTREMES = {"rates 1e300": dict(bpp=1e300), "rates 1e307": dict(bpp=1e307), "rates 1e-300": dict(bpp=1e-300),
            "rates 1e-320 (subnormal)": dict(bpp=1e-320), "accuracy 1e308": dict(acc=lambda v: v * 1e308),
            "accuracy 1e-308": dict(acc=lambda v: v * 1e-308), "accuracy -0.0": dict(acc=lambda v: -0.0),
            "accuracy negative": dict(acc=lambda v: -v), "accuracy one ulp up": dict(acc=lambda v: v * (1 + 1e-15)),
            "rates one ulp up": dict(bpp=1 + 1e-15), "accuracy 1e300 + tiny": dict(acc=lambda v: 1e300 + v * 1e285)}


@pytest.mark.parametrize("kind", list(EXTREMES))
@pytest.mark.parametrize("fmt", ["html", "xlsx", "docx"])
def test_report_on_extreme_values_ends(kind, fmt, tmp_path, rs):
    a = json.loads(rs.read_text())
    (tmp_path / "x.json").write_text(json.dumps(_scaled(a, **EXTREMES[kind])))
    for anchor, test in ((rs, tmp_path / "x.json"), (tmp_path / "x.json", rs), (tmp_path / "x.json",) * 2):
        out = tmp_path / f"r.{fmt}"
        r = invoke(["report", "--anchor", anchor, "--test", test, "-o", out], seconds=120)
        assert r.exit_code in (0, 2), r.output
        assert r.exit_code == 2 or out.is_file(), r.output  # exit 2: a BD value not computed, said why
        if r.exit_code == 2:
            assert r.output.startswith("error: ") or "\nerror: " in r.output, r.output
        # every figure a short field: a BD-rate of 1e302 % is not printed as 300 digits
        assert not re.search(r"\d{30}", r.output), r.output
        out.unlink(missing_ok=True)


def test_fixed_switches_to_scientific_only_for_huge_figures():
    from vcmbench.core.templating import fixed, fmt_num, fmt_pct

    assert fixed(12.5, 2, signed=True) == "+12.50" and fixed(-0.25, 4) == "-0.2500"
    assert fixed(999_999_999.0, 2) == "999999999.00"
    assert fixed(1e302, 2, signed=True) == "+1.00e+302" and fixed(-3e9, 1) == "-3.0e+09"
    assert fmt_num(1e308) == "1.0000e+308" and fmt_pct(1e300) == "1.00e+300 %" and fmt_num(7) == "7"
