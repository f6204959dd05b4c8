"""Every study declares where it deviates from its paper (issue 25: nothing deviates silently).

The known deviations are those listed in issue 25's "Why" paragraph, checked against the papers'
settings in /work/shared/data/seed-tables.md (S1: anchor QP 41-49 / proposed 35-45, restoration
trained on coded multi-channel features; S2: Mask R-CNN P2-P6 with 16x16 tiling; S3: pairs at the
maximum factors; S4: face alignment, leave-one-person-out)."""

from __future__ import annotations

import copy

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.studies.model import DEVIATION_KEYS, list_studies, load_study, validate_study

KNOWN = {
    "s1-downscaled-ssd": {"qp_ranges", "restoration_training", "end_to_end_time", "network"},
    "s2-distortions-ssd": {"image_quantisation", "image_noise_scale", "network"},
    "s3-layers-ssd": {"network", "max_factors", "figure_10_combinations", "figure_11_rows"},
    "s3-layers-frcnn": {"data", "figure_10_combinations", "figure_11_rows"},
    "s4-occlusion-coco-people": {"face_alignment", "leave_one_person_out"},
    "s4-occlusion-fgnet": {"face_alignment", "leave_one_person_out"},
}


def test_every_study_is_covered():
    assert set(list_studies()) == set(KNOWN)


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_deviations_declared_with_four_fields(name):
    devs = load_study(name).data.get("deviations")
    assert isinstance(devs, list) and devs
    for d in devs:
        assert all(str(d.get(k) or "").strip() for k in DEVIATION_KEYS), d
    assert KNOWN[name] <= {d["what"] for d in devs}


def test_incomplete_deviation_is_rejected():
    data = copy.deepcopy(load_study("s1-downscaled-ssd").data)
    data["deviations"] = [{"what": "qp_ranges", "paper": "41-49", "here": "27-47"}]
    issues = validate_study(data, "x")
    assert any("deviations[0]" in i and "why" in i for i in issues)
    data["deviations"] = "none"
    assert any("deviations must be a list" in i for i in validate_study(data, "x"))


def test_show_prints_deviations():
    r = CliRunner().invoke(cli, ["study", "show", "s1-downscaled-ssd"])
    assert r.exit_code == 0, r.output
    assert "Deviations from the paper" in r.output and "anchor QP 41-49" in r.output


def test_report_lists_deviations_under_the_study():
    from vcmbench.studies.report import document_sections

    devs = load_study("s3-layers-ssd").data["deviations"]
    res = {"title": "S3", "study": "s3-layers-ssd", "type": "layers", "signature": "study:x", "deviations": devs}
    sections, _ = document_sections([res])
    tables = [item for kind, item in sections[0].blocks if kind == "table"]
    dev = [t for t in tables if "Deviations from the paper" in t.caption]
    assert dev, [vars(t) for t in tables]
    assert [r[0] for r in dev[0].rows] == [d["what"] for d in devs]


def test_xlsx_has_a_deviations_sheet(tmp_path):
    from openpyxl import load_workbook

    from vcmbench.studies.report import write_xlsx

    devs = load_study("s1-downscaled-ssd").data["deviations"]
    res = {"title": "S1", "study": "s1-downscaled-ssd", "signature": "study:x", "tables": [], "deviations": devs}
    wb = load_workbook(write_xlsx([res], tmp_path / "s.xlsx"))
    ws = [wb[n] for n in wb.sheetnames if n.startswith("dev ")]
    assert ws
    assert [r[0] for r in ws[0].iter_rows(min_row=3, values_only=True)] == [d["what"] for d in devs]
