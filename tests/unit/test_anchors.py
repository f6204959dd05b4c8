"""Anchor store: file format and validation, row-by-row comparison, signatures, updates, CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcmbench.anchors import (
    DEFAULT_TOLERANCES,
    anchor_from_dict,
    compare,
    half_unit_of,
    list_anchors,
    load_anchor,
    update_anchor,
    validate_anchor_data,
)
from vcmbench.cli import cli
from vcmbench.core.errors import DataError, SignatureMismatch, UsageError
from vcmbench.core.records import RatePoint, ResultSet, load_result_set
from vcmbench.core.resources import resource_dir

SIG = ("cttc:demo@1|cfg:vvenc-faster|task:ssd-mobilenet-v2-coco#310fbd|map:coco-ap-bbox|rate:bpp-dataset+side-none|"
       "color:ctc|gt:reference-output|codec:vvenc-1.15-faster-ffmpeg9.0.2#0d709a|qp:27,37,47|scale:100|bd:pchip-jvet|v:0.1.0")


def make_run(label: str = "vvenc-faster", signature: str = SIG, bpp_scale: float = 1.0,
             ap_shift: float = 0.0, env: dict | None = None) -> ResultSet:
    pts = []
    for qp, bits, ap in ((27, 249208, 0.9666666666666666), (37, 79776, 0.8), (47, 23736, 0.4666666666666667)):
        pixels = 512 * 512 + 452 * 300
        b = int(bits * bpp_scale)
        pts.append(RatePoint(scale=1.0, qp=qp, bits=b, pixels=pixels, bpp=b / pixels,
                             accuracy={"AP": ap + ap_shift, "AP50": 1.0}, images=2))
    return ResultSet(condition="demo@1", codec="vvenc-1.15-faster-ffmpeg9.0.2#0d709a", label=label,
                     quality_key="AP50", points=pts, signature=signature, metric="COCO AP", dataset="skimage-samples",
                     provenance={"run_dir": "/runs/x", "env": env} if env is not None else {})


@pytest.fixture
def store(tmp_path: Path) -> Path:
    d = tmp_path / "anchors"
    d.mkdir()
    return d


@pytest.fixture
def demo_like(store: Path, tmp_path: Path) -> tuple[Path, Path]:
    """An anchor store holding a regression anchor made from a run, and that run as a result-set file."""
    rs = make_run()
    run = tmp_path / "run.json"
    rs.save(run)
    update_anchor("demo", rs, "initial", str(run), directory=store, create=True, rerun="demo")
    return store, run


# ---------------------------------------------------------------------------------------------- format
def test_shipped_anchors_load_and_validate():
    names = list_anchors()
    assert {"seed-s1-table2", "seed-s1-table3", "cav-vtm12-oiv6-det-smoke"} <= set(names)
    for n in names:
        a = load_anchor(n)
        assert a.rows and a.source and a.history and all(h["reason"] for h in a.history)


def test_published_tolerance_is_half_a_unit_of_the_printed_digit():
    for name in ("seed-s1-table2", "seed-s1-table3"):
        a = load_anchor(name)
        assert a.kind == "published-reference"
        for r in a.rows:
            assert r.printed is not None and float(r.printed) == r.expected
            assert r.tolerance == pytest.approx(half_unit_of(r.printed), rel=1e-12), r
    assert half_unit_of("0.44") == pytest.approx(0.005) and half_unit_of("0.7475") == pytest.approx(5e-5)
    assert half_unit_of("38.4") == pytest.approx(0.05) and half_unit_of("18.335") == pytest.approx(5e-4)


def test_seed_table_units_and_labels_are_as_printed():
    t2, t3 = load_anchor("seed-s1-table2"), load_anchor("seed-s1-table3")
    assert t2.labels == ["anchor", "proposal-rcan", "proposal-bicubic"]
    assert {r.unit for r in t3.rows if r.metric == "mAP"} == {"percent"}
    assert t3.metric_keys["mAP"] == {"key": "AP", "factor": 100.0}
    row = next(r for r in t2.rows if r.label == "anchor" and r.qp == 41 and r.metric == "mAP")
    assert row.printed == "0.7475"
    # QP 49 is printed twice with the same figures: stored once
    assert len([r for r in t2.rows if r.label == "anchor" and r.qp == 49]) == 2


def test_smoke_reference_is_marked_as_such():
    a = load_anchor("cav-vtm12-oiv6-det-smoke")
    assert a.kind == "smoke-reference" and a.condition == "vcm-oiv6-det"
    assert any("not final" in n for n in a.notes) and any("FiftyOne" in n for n in a.notes)
    qp22 = {r.metric: r.expected for r in a.rows if r.qp == 22}
    assert qp22 == {"bpp": 0.860137, "map50": 0.786748}


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d.update(kind="golden"), "kind"),
    (lambda d: d["rows"][0].update(expected=float("nan")), "expected"),
    (lambda d: d["rows"][0].pop("tolerance"), "tolerance"),
    (lambda d: d["rows"].append(dict(d["rows"][0])), "duplicate"),
    (lambda d: d.update(colour="x"), "unknown key"),
    (lambda d: d["rows"][0].update(printed="0.45"), "printed"),
    (lambda d: d["history"].append({"date": "x", "reason": " "}), "reason"),
])
def test_validation_names_the_problem(mutate, fragment):
    d = json.loads((resource_dir("anchors") / "seed-s1-table2.json").read_text())
    mutate(d)
    issues = validate_anchor_data(d, "x.json")
    assert any(fragment in i for i in issues), issues
    with pytest.raises(DataError, match=fragment):
        anchor_from_dict(d)


def test_unknown_anchor_lists_the_available_ones(store):
    with pytest.raises(UsageError, match="Available"):
        load_anchor("nope", store)


# ---------------------------------------------------------------------------------------------- compare
def test_compare_identical_run_passes(demo_like):
    store, run = demo_like
    a = load_anchor("demo", store)
    c = compare(a, make_run())
    assert c.passed and c.compared == len(a.rows) == 3 * 4
    assert {r.row.metric for r in c.rows} == {"bits", "bpp", "AP", "AP50"}
    assert all(r.diff == 0 for r in c.rows)


def test_compare_flags_a_changed_number_with_its_difference(demo_like):
    store, _ = demo_like
    c = compare(load_anchor("demo", store), make_run(ap_shift=1e-6))
    bad = c.failures
    assert {(r.row.metric, r.row.qp) for r in bad} == {("AP", 27), ("AP", 37), ("AP", 47)}
    assert bad[0].diff == pytest.approx(1e-6) and bad[0].row.tolerance == DEFAULT_TOLERANCES["accuracy"]


def test_regression_missing_point_fails(demo_like):
    store, _ = demo_like
    rs = make_run()
    rs.points = rs.points[:2]
    c = compare(load_anchor("demo", store), rs)
    assert not c.passed and {r.row.qp for r in c.failures} == {47}
    assert all(r.status == "missing" for r in c.failures)


def test_signature_part_that_matters_is_named(demo_like):
    store, _ = demo_like
    other = SIG.replace("ffmpeg9.0.2#0d709a", "ffmpeg9.0.2#ffffff")
    with pytest.raises(SignatureMismatch, match="codec"):
        compare(load_anchor("demo", store), make_run(signature=other))
    # a part that does not matter (qp list) does not block, but is reported
    c = compare(load_anchor("demo", store), make_run(signature=SIG.replace("qp:27,37,47", "qp:27,37,47,52")))
    assert c.passed and any("'qp'" in i for i in c.info)


def test_published_anchor_matches_any_binary_hash_and_lists_unchecked_parts():
    a = load_anchor("cav-vtm12-oiv6-det-smoke")
    sig = ("cttc:vcm-oiv6-det@1|cfg:encoder_intra_vtm#1a36d5|task:d2~faster_rcnn_X_101_32x8d_FPN_3x#abc123|"
           "map:oid-challenge-bbox|rate:bpp-dataset+side-none|color:ctc|gt:annotations|codec:vtm-12.0#3f2a11")
    pts = [RatePoint(1.0, r.qp, 1, 1, 0.0, {}, 1) for r in a.rows if r.metric == "bpp"]
    for p, r in zip(pts, [r for r in a.rows if r.metric == "bpp"]):
        p.bpp = r.expected * 1.04  # within the 5 % smoke tolerance
        p.accuracy = {"map50": next(x.expected for x in a.rows if x.qp == r.qp and x.metric == "map50") - 0.019}
    rs = ResultSet("vcm-oiv6-det@1", "vtm-12.0#3f2a11", "VTM", "map50", pts, sig)
    c = compare(a, rs)
    assert c.passed and set(c.unchecked_parts) == {"cfg", "map", "color"}
    rs.signature = sig.replace("codec:vtm-12.0#", "codec:vtm-11.0#")
    with pytest.raises(SignatureMismatch, match="codec"):
        compare(a, rs)


def test_metric_keys_map_printed_names_and_units():
    a = anchor_from_dict({
        "schema_version": 1, "name": "t3", "kind": "published-reference", "title": "t", "condition": "c",
        "signature": "cttc:c@1", "source": "paper", "metric_keys": {"mAP": {"key": "AP", "factor": 100.0}},
        "rows": [{"label": "anchor", "condition": "c", "scale": 1.0, "qp": 32, "metric": "mAP", "expected": 38.4,
                  "tolerance": 0.05, "printed": "38.4"}], "history": []})
    rs = ResultSet("c@1", "x", "anchor", "AP", [RatePoint(1.0, 32, 1, 1, 1.0, {"AP": 0.3844}, 1)], "cttc:c@1")
    c = compare(a, rs)
    assert c.passed and c.rows[0].actual == pytest.approx(38.44)
    rs.points[0].accuracy["AP"] = 0.3846
    assert not compare(a, rs).passed


def test_multi_label_anchor_needs_a_label():
    a = load_anchor("seed-s1-table2")
    rs = ResultSet("fcm-oiv6-det-player@1", "x", "mine", "map50", [RatePoint(1.0, 41, 1, 1, 0.44, {"map50": 0.7475}, 1)],
                   "cttc:fcm-oiv6-det-player@1|task:d2~faster_rcnn_X_101_32x8d_FPN_3x#aa|gt:annotations")
    with pytest.raises(UsageError, match="--label"):
        compare(a, rs)
    c = compare(a, rs, label="anchor")
    assert c.passed and c.compared == 2 and sum(r.status == "missing" for r in c.rows) == 8


# ---------------------------------------------------------------------------------------------- update
def test_update_needs_a_reason_and_records_history(demo_like):
    store, run = demo_like
    with pytest.raises(UsageError, match="reason"):
        update_anchor("demo", make_run(), "  ", str(run), directory=store)
    a, changes = update_anchor("demo", make_run(bpp_scale=1.01), "VVenC update", str(run), directory=store)
    assert len(changes) == 6 and "->" in changes[0]
    b = load_anchor("demo", store)
    assert [h["reason"] for h in b.history] == ["initial", "VVenC update"]
    assert b.history[-1]["changed_rows"] == 6 and b.rerun == "demo"
    assert compare(b, make_run(bpp_scale=1.01)).passed


def test_update_keeps_other_labels_and_their_signatures(demo_like):
    store, run = demo_like
    sig2 = SIG.replace("vvenc-1.15-faster", "vvenc-1.15-fast").replace("cfg:vvenc-faster", "cfg:vvenc-fast")
    update_anchor("demo", make_run("vvenc-fast", sig2, 0.9), "add the test curve", str(run), directory=store)
    a = load_anchor("demo", store)
    assert a.labels == ["vvenc-faster", "vvenc-fast"] and a.signature_of("vvenc-fast") == sig2
    assert compare(a, make_run()).passed and compare(a, make_run("vvenc-fast", sig2, 0.9)).passed
    with pytest.raises(SignatureMismatch):
        compare(a, make_run("vvenc-fast", SIG, 0.9))


def test_update_refuses_references_and_missing_anchor(store):
    with pytest.raises(UsageError, match="--create"):
        update_anchor("demo", make_run(), "x", "r", directory=store)
    shutil.copy(resource_dir("anchors") / "seed-s1-table2.json", store)
    with pytest.raises(UsageError, match="published-reference"):
        update_anchor("seed-s1-table2", make_run(), "x", "r", directory=store)
    assert json.loads((store / "seed-s1-table2.json").read_text()) == json.loads(
        (resource_dir("anchors") / "seed-s1-table2.json").read_text())


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write a read-only directory")
def test_update_refuses_a_readonly_anchor_dir(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="not writable"):
            update_anchor("demo", make_run(), "x", "r", directory=ro, create=True)
    finally:
        ro.chmod(0o755)


# ---------------------------------------------------------------------------------------------- CLI
def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_list_and_show():
    r = _invoke("anchors", "list")
    assert r.exit_code == 0 and "seed-s1-table2" in r.output and "smoke-reference" in r.output
    r = _invoke("anchors", "show", "seed-s1-table3")
    assert r.exit_code == 0 and "18.335" in r.output and "history:" in r.output


def test_cli_verify_passes_then_fails_with_regression_code_and_diff(demo_like):
    store, run = demo_like
    r = _invoke("anchors", "--anchors-dir", str(store), "verify", "demo", "--run", str(run))
    assert r.exit_code == 0, r.output
    assert "PASS: 12 of 12" in r.output
    # change one stored number
    p = store / "demo.json"
    d = json.loads(p.read_text())
    row = next(x for x in d["rows"] if x["metric"] == "bits" and x["qp"] == 37)
    row["expected"] += 8
    p.write_text(json.dumps(d))
    r = _invoke("anchors", "--anchors-dir", str(store), "verify", "demo", "--run", str(run))
    assert r.exit_code == 3, r.output
    line = next(ln for ln in r.output.splitlines() if "DIFFERS" in ln)
    assert "79784" in line and "79776" in line and "-8" in line
    assert "REGRESSION: 1 of 12" in r.output
    r = _invoke("anchors", "--anchors-dir", str(store), "verify", "demo", "--run", str(run), "--json")
    assert r.exit_code == 3 and json.loads(r.output)["failures"] == 1


def test_cli_verify_refuses_a_different_codec_build(demo_like, tmp_path):
    store, _ = demo_like
    other = tmp_path / "other.json"
    make_run(signature=SIG.replace("#0d709a", "#123456")).save(other)
    r = _invoke("anchors", "--anchors-dir", str(store), "verify", "demo", "--run", str(other))
    assert r.exit_code == 2 and "codec" in r.output and "#123456" in r.output


def test_cli_verify_published_reference_needs_a_run():
    r = _invoke("anchors", "verify", "seed-s1-table2")
    assert r.exit_code == 2 and "--run" in r.output


def test_cli_smoke_failure_exits_3_and_says_smoke(tmp_path):
    a = load_anchor("cav-vtm12-oiv6-det-smoke")
    sig = "cttc:vcm-oiv6-det@1|task:d2~faster_rcnn_X_101_32x8d_FPN_3x#a|rate:bpp-dataset+side-none|gt:annotations|codec:vtm-12.0#b"
    pts = [RatePoint(1.0, r.qp, 1, 1, r.expected * 1.5, {"map50": 0.5}, 1) for r in a.rows if r.metric == "bpp"]
    f = tmp_path / "rs.json"
    ResultSet("vcm-oiv6-det@1", "vtm", "VTM", "map50", pts, sig).save(f)
    r = _invoke("anchors", "verify", "cav-vtm12-oiv6-det-smoke", "--run", str(f))
    assert r.exit_code == 3 and "SMOKE CHECK FAILED" in r.output


def test_cli_update_requires_reason_and_writes_history(store, tmp_path):
    run = tmp_path / "run.json"
    make_run().save(run)
    r = _invoke("anchors", "--anchors-dir", str(store), "update", "demo", "--from", str(run))
    assert r.exit_code == 2 and "--reason" in r.output
    r = _invoke("anchors", "--anchors-dir", str(store), "update", "demo", "--from", str(run), "--reason", "first",
                "--create", "--rerun", "demo")
    assert r.exit_code == 0, r.output
    assert load_anchor("demo", store).history[-1]["reason"] == "first"


def test_update_refuses_an_unwritable_anchor_dir(store, monkeypatch):
    """The check itself (root can write anything, so os.access is made to say no)."""
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(UsageError, match="not writable.*--anchors-dir"):
        update_anchor("demo", make_run(), "x", "r", directory=store, create=True)
    assert not (store / "demo.json").exists()


def test_cli_verify_without_run_reruns_the_demo(demo_like, monkeypatch, tmp_path):
    """The re-run path (the real demo takes minutes: it is replaced by two prepared runs)."""
    import types

    import vcmbench.demo

    store, _ = demo_like
    sig2 = SIG.replace("vvenc-1.15-faster", "vvenc-1.15-fast").replace("cfg:vvenc-faster", "cfg:vvenc-fast")
    for role, rs in (("anchor", make_run()), ("test", make_run("vvenc-fast", sig2, 0.9))):
        (tmp_path / "demo" / role).mkdir(parents=True)
        rs.save(tmp_path / "demo" / role / "resultset.json")
    update_anchor("demo", [make_run("vvenc-fast", sig2, 0.9)], "test curve", "x", directory=store)
    calls = []

    def fake_run_demo(out, **kw):
        calls.append(out)
        return types.SimpleNamespace(anchor_dir=tmp_path / "demo" / "anchor", test_dir=tmp_path / "demo" / "test")

    monkeypatch.setattr(vcmbench.demo, "run_demo", fake_run_demo)
    r = _invoke("anchors", "--anchors-dir", str(store), "verify", "demo", "--work-dir", str(tmp_path / "w"))
    assert r.exit_code == 0 and calls and r.output.count("PASS: 12 of 12") == 2, r.output
    r = _invoke("anchors", "--anchors-dir", str(store), "verify", "demo", "--run", str(tmp_path / "demo"))
    assert r.exit_code == 0 and r.output.count("PASS") == 2, r.output


def test_cli_list_reports_an_invalid_file_and_exits_2(demo_like):
    store, _ = demo_like
    (store / "broken.json").write_text('{"schema_version": 1, "name": "broken"}')
    r = _invoke("anchors", "--anchors-dir", str(store), "list")
    assert r.exit_code == 2 and "INVALID" in r.output and "demo" in r.output


def test_update_refuses_a_run_with_unverified_bitstreams(store):
    rs = make_run()
    rs.points[1].failed = 1
    with pytest.raises(UsageError, match="failed verification.*QP 37"):
        update_anchor("demo", rs, "x", "run-x", directory=store, create=True)


def test_anchors_dir_from_the_environment(demo_like):
    store, _ = demo_like
    r = CliRunner().invoke(cli, ["anchors", "list", "--json"], env={"VCMBENCH_ANCHORS_DIR": str(store)})
    assert r.exit_code == 0 and [a["name"] for a in json.loads(r.output)] == ["demo"]


# ---------------------------------------------------------------------------------------------- environment
def _env(opencv: str = "5.0.0.93", scipy: str = "1.17.1", old: bool = False) -> dict:
    """An env.json: as written now (``results_affecting``) or, ``old``, before that section existed."""
    from vcmbench.run.env import OPENCV_DISTRIBUTIONS

    pk = {"numpy": "2.4.6", "scipy": scipy, "pycocotools": "2.0.11", "av": "18.1.0", "imageio-ffmpeg": "0.8.1",
          "torch": "2.13.0+cpu", "opencv-python-headless": opencv}
    ff = {"path": "/x/ffmpeg", "version": "9.0.2", "sha256_6": "0d709a", "libvvenc": True, "vvc_decoder": True}
    env = {"python": "3.11.7", "packages": {**pk, "pandas": "3.1.1"}, "ffmpeg": ff}
    if not old:
        env["results_affecting"] = {
            "packages": {**{d: None for d in OPENCV_DISTRIBUTIONS}, **pk},
            "opencv": {"distribution": "opencv-python-headless", "version": opencv, "cv2": opencv,
                       "cv2_from": "cv2/version.py"},
            "ffmpeg": {"version": "9.0.2", "sha256_6": "0d709a"}}
    return env


def _anchor_with_env(store: Path, tmp_path: Path, env: dict | None, bits_shift: int = 0) -> None:
    """A regression anchor made from a run recorded in ``env``; ``bits_shift`` moves one stored row."""
    rs = make_run(env=env)
    update_anchor("demo", rs, "initial", str(tmp_path / "anchor-run"), directory=store, create=True)
    if bits_shift:
        p = store / "demo.json"
        d = json.loads(p.read_text())
        next(x for x in d["rows"] if x["metric"] == "bits" and x["qp"] == 37)["expected"] += bits_shift
        p.write_text(json.dumps(d))


def _verify(store: Path, run: Path, *extra: str):
    return _invoke("anchors", "--anchors-dir", str(store), "verify", "demo", "--run", str(run), *extra)


def test_anchor_stores_the_env_of_each_label(store, tmp_path):
    _anchor_with_env(store, tmp_path, _env())
    a = load_anchor("demo", store)
    from vcmbench.anchors.compare import anchor_env

    assert anchor_env(a, "vvenc-faster")["results_affecting"]["opencv"]["version"] == "5.0.0.93"
    assert anchor_env(a, "other") is None


def test_verify_names_the_package_that_moved_next_to_a_regression(store, tmp_path):
    _anchor_with_env(store, tmp_path, _env(), bits_shift=8)
    run = tmp_path / "run.json"
    make_run(env=_env(opencv="5.1.0.95")).save(run)
    r = _verify(store, run)
    assert r.exit_code == 3, r.output
    out = r.output.split("REGRESSION: 1 of 12", 1)[1]
    assert "These results-affecting packages differ from the anchor's run:" in out
    assert "opencv-python-headless 5.0.0.93 → 5.1.0.95" in out and "scipy" not in out
    r = _verify(store, run, "--json")
    d = json.loads(r.output)
    assert r.exit_code == 3 and d["environment_changes"] == ["opencv-python-headless 5.0.0.93 → 5.1.0.95"]
    assert d["environment_note"] == ""


def test_verify_with_identical_envs_names_no_change(store, tmp_path):
    _anchor_with_env(store, tmp_path, _env(), bits_shift=8)
    run = tmp_path / "run.json"
    make_run(env=_env()).save(run)
    r = _verify(store, run)
    assert r.exit_code == 3 and "→" not in r.output and "differ from the anchor's run:" not in r.output
    assert "No results-affecting package (nor the FFmpeg build) differs" in r.output
    assert json.loads(_verify(store, run, "--json").output)["environment_changes"] == []


def test_verify_pass_still_notes_a_package_change(store, tmp_path):
    _anchor_with_env(store, tmp_path, _env())
    run = tmp_path / "run.json"
    make_run(env=_env(scipy="1.16.3")).save(run)
    r = _verify(store, run)
    assert r.exit_code == 0 and "PASS: 12 of 12" in r.output
    assert "note: these results-affecting packages differ from the anchor's run (the rows still agree):" in r.output
    assert "scipy 1.17.1 → 1.16.3" in r.output


def test_old_anchor_with_only_packages_is_compared(store, tmp_path):
    _anchor_with_env(store, tmp_path, _env(old=True), bits_shift=8)
    assert "results_affecting" not in json.loads((store / "demo.json").read_text())[
        "provenance"]["runs"]["vvenc-faster"]["run_provenance"]["env"]
    run = tmp_path / "run.json"
    make_run(env=_env(opencv="5.1.0.95", scipy="1.16.3")).save(run)
    c = compare(load_anchor("demo", store), load_result_set(run))
    assert c.environment_changes == ["opencv-python-headless 5.0.0.93 → 5.1.0.95", "scipy 1.17.1 → 1.16.3"]
    r = _verify(store, run)
    assert r.exit_code == 3 and "opencv-python-headless 5.0.0.93 → 5.1.0.95" in r.output


@pytest.mark.parametrize("anchor_env, run_env, said", [
    (None, _env(), "the anchor records no environment for label 'vvenc-faster': package changes cannot be named"),
    (_env(), None, "the run records no environment (no env.json in its run directory): package changes cannot"),
    (None, None, "neither the anchor (label 'vvenc-faster') nor the run records an environment"),
])
def test_a_missing_environment_is_said_once(store, tmp_path, anchor_env, run_env, said):
    _anchor_with_env(store, tmp_path, anchor_env, bits_shift=8)
    run = tmp_path / "run.json"
    make_run(env=run_env).save(run)
    r = _verify(store, run)
    assert r.exit_code == 3 and r.output.count(said) == 1, r.output
    assert r.output.count("cannot be named") == 1 and "No results-affecting package" not in r.output
    d = json.loads(_verify(store, run, "--json").output)
    assert d["environment_changes"] == [] and said in d["environment_note"]


def test_published_reference_records_no_environment():
    a = load_anchor("seed-s1-table2")
    rs = ResultSet("fcm-oiv6-det-player@1", "x", "mine", "map50", [RatePoint(1.0, 41, 1, 1, 0.44, {"map50": 0.7475}, 1)],
                   "cttc:fcm-oiv6-det-player@1|task:d2~faster_rcnn_X_101_32x8d_FPN_3x#aa|gt:annotations",
                   provenance={"env": _env()})
    c = compare(a, rs, label="anchor")
    assert c.environment_changes == [] and "the anchor records no environment for label 'anchor'" in c.environment_note
