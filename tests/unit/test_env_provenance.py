"""env.json records the versions of every package that can move a number (DESIGN.md §4
"Dependencies"), and two environments can be compared item by item."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.run import env as envmod
from vcmbench.run.env import (
    KEY_PACKAGES,
    OPENCV_DISTRIBUTIONS,
    RESULTS_AFFECTING_PACKAGES,
    collect_env,
    opencv_info,
    results_affecting_changes,
    results_affecting_view,
)

FAKE_FFMPEG = {"path": "/opt/ffmpeg", "version": "9.0.2", "sha256_6": "0d709a", "libvvenc": True,
               "vvc_decoder": True}


def new_env(opencv: str | None = "5.0.0.93", dist: str = "opencv-python-headless", scipy: str | None = "1.17.1",
            numpy: str | None = "2.4.6", ffmpeg: tuple[str, str] | None = ("9.0.2", "0d709a"),
            cv2: str | None = None) -> dict:
    """An env.json as collect_env writes it now (only the parts the comparison reads)."""
    pk = {"numpy": numpy, "scipy": scipy, "pycocotools": "2.0.11", "av": "18.1.0", "imageio-ffmpeg": "0.8.1",
          "torch": "2.13.0+cpu", **{d: None for d in OPENCV_DISTRIBUTIONS}}
    if opencv:
        pk[dist] = opencv
    sec = {"packages": pk, "opencv": {"distribution": dist if opencv else None, "version": opencv,
                                      "cv2": cv2 or opencv, "cv2_from": "cv2/version.py"}}
    sec["ffmpeg"] = ({"version": ffmpeg[0], "sha256_6": ffmpeg[1]} if ffmpeg else
                     {"available": False, "reason": "x"})
    return {"python": "3.11.7", "packages": {k: v for k, v in pk.items() if k in KEY_PACKAGES},
            "ffmpeg": {**FAKE_FFMPEG, "version": ffmpeg[0], "sha256_6": ffmpeg[1]} if ffmpeg else
            {"available": False, "reason": "x"}, "results_affecting": sec}


def old_env() -> dict:
    """A real env.json written before the results_affecting section existed: the one the demo anchor carried
    until its regeneration in issue 27 (kept as tests/unit/data/env-json-before-results-affecting.json)."""
    env = json.loads((Path(__file__).parent / "data" / "env-json-before-results-affecting.json").read_text())
    assert "results_affecting" not in env and env["packages"]["opencv-python-headless"] == "5.0.0.93"
    return env


# ---------------------------------------------------------------------------------------------- env.json
def test_results_affecting_names_every_package_the_design_lists():
    design = {"numpy", "scipy", "pycocotools", "av", "imageio-ffmpeg", "torch"}
    mot = {"motmetrics", "lap", "munkres"}  # MOT scores (metrics.mot): the engine and its two solvers, which decide ties
    assert design | mot | set(OPENCV_DISTRIBUTIONS) == set(RESULTS_AFFECTING_PACKAGES)
    assert len(set(RESULTS_AFFECTING_PACKAGES)) == len(RESULTS_AFFECTING_PACKAGES)
    assert {"opencv-python-headless", "opencv-python", "opencv-contrib-python",
            "opencv-contrib-python-headless"} == set(OPENCV_DISTRIBUTIONS)
    assert design <= set(KEY_PACKAGES) and "protobuf" in KEY_PACKAGES


def test_env_json_has_the_results_affecting_section(monkeypatch):
    monkeypatch.setattr(envmod, "ffmpeg_info", lambda: dict(FAKE_FFMPEG))
    monkeypatch.setattr(envmod, "codec_info", lambda vtm_dir=None: {})
    env = collect_env()
    sec = env["results_affecting"]
    assert set(sec) == {"packages", "opencv", "ffmpeg"}
    assert list(sec["packages"]) == list(RESULTS_AFFECTING_PACKAGES)
    assert sec["packages"]["numpy"] == envmod.package_versions(("numpy",))["numpy"] is not None
    assert set(sec["opencv"]) >= {"distribution", "version", "cv2", "cv2_from"}
    installed = [d for d in OPENCV_DISTRIBUTIONS if sec["packages"][d]]
    if installed:
        assert sec["opencv"]["distribution"] in installed
        assert sec["opencv"]["version"] == sec["packages"][sec["opencv"]["distribution"]]
    assert sec["ffmpeg"] == {"version": "9.0.2", "sha256_6": "0d709a"}
    json.dumps(env)  # what env.json stores


def test_env_json_without_codecs_does_not_claim_an_ffmpeg(monkeypatch):
    def boom():
        raise AssertionError("codecs were not to be probed")

    monkeypatch.setattr(envmod, "ffmpeg_info", boom)
    sec = collect_env(with_codecs=False)["results_affecting"]
    assert "ffmpeg" not in sec and "packages" in sec and "opencv" in sec


def test_unavailable_ffmpeg_is_recorded_with_its_reason(monkeypatch):
    monkeypatch.setattr(envmod, "ffmpeg_info", lambda: {"available": False, "reason": "VCMBENCH_FFMPEG=/x does not exist"})
    monkeypatch.setattr(envmod, "codec_info", lambda vtm_dir=None: {})
    assert collect_env()["results_affecting"]["ffmpeg"] == {"available": False,
                                                          "reason": "VCMBENCH_FFMPEG=/x does not exist"}


def test_cv2_version_is_read_without_importing_and_never_raises(monkeypatch, tmp_path):
    pkg = tmp_path / "cv2"
    pkg.mkdir()
    (pkg / "version.py").write_text('opencv_version = "4.13.0.90"\ncontrib = False\nheadless = True\n')
    (pkg / "__init__.py").write_text("raise RuntimeError('cv2 must not be imported')\n")
    spec = importlib.util.spec_from_file_location("cv2", pkg / "__init__.py", submodule_search_locations=[str(pkg)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: spec if name == "cv2" else None)
    monkeypatch.delitem(__import__("sys").modules, "cv2", raising=False)
    assert envmod._cv2_version() == ("4.13.0.90", "cv2/version.py")

    def broken(*a):
        raise ValueError("cv2.__spec__ is None")

    monkeypatch.setattr(importlib.util, "find_spec", broken)
    assert envmod._cv2_version() == (None, None)
    info = opencv_info({"opencv-python-headless": "5.1.0.95"})
    assert info["distribution"] == "opencv-python-headless" and info["cv2"] is None


def test_two_opencv_distributions_are_flagged_and_the_one_in_cv2_is_named(monkeypatch):
    monkeypatch.setattr(envmod, "_cv2_version", lambda: ("4.13.0.90", "cv2/version.py"))
    info = opencv_info({"opencv-python-headless": "5.1.0.95", "opencv-python": "4.13.0.90"})
    assert info["distribution"] == "opencv-python" and info["version"] == "4.13.0.90"
    assert "several OpenCV distributions" in info["note"] and "opencv-python-headless 5.1.0.95" in info["note"]
    assert "note" not in opencv_info({"opencv-python-headless": "5.1.0.95", "opencv-python": None})


def test_cli_env_shows_the_results_affecting_packages(monkeypatch):
    monkeypatch.setattr(envmod, "ffmpeg_info", lambda: dict(FAKE_FFMPEG))
    monkeypatch.setattr(envmod, "codec_info", lambda vtm_dir=None: {})
    r = CliRunner().invoke(cli, ["env"])
    assert r.exit_code == 0, r.output
    part = r.output.split("results-affecting", 1)[1]
    for name in ("OpenCV", "numpy", "scipy", "pycocotools", "av", "imageio-ffmpeg", "torch"):
        assert f"\n{name} " in part, name
    assert "FFmpeg           9.0.2 #0d709a" in part
    r = CliRunner().invoke(cli, ["env", "--json"])
    assert r.exit_code == 0
    assert list(json.loads(r.output)["results_affecting"]["packages"]) == list(RESULTS_AFFECTING_PACKAGES)


# ---------------------------------------------------------------------------------------------- changes
def test_identical_environments_have_no_change():
    assert results_affecting_changes(new_env(), new_env()) == []
    assert results_affecting_changes(old_env(), old_env()) == []


def test_changes_are_named_with_both_versions():
    run = new_env(opencv="5.1.0.95", scipy="1.16.3", numpy=None, ffmpeg=("10.1", "abc123"))
    assert results_affecting_changes(new_env(), run) == [
        "opencv-python-headless 5.0.0.93 → 5.1.0.95",
        "numpy recorded 2.4.6, run: not installed",
        "scipy 1.17.1 → 1.16.3",
        "FFmpeg 9.0.2#0d709a → 10.1#abc123",
    ]


def test_opencv_distribution_switch_and_cv2_module_mismatch():
    ch = results_affecting_changes(new_env(), new_env(opencv="5.1.0.95", dist="opencv-contrib-python"))
    assert ch == ["OpenCV opencv-python-headless 5.0.0.93 → opencv-contrib-python 5.1.0.95"]
    ch = results_affecting_changes(new_env(), new_env(cv2="4.13.0.90"))
    assert len(ch) == 1 and "cv2 module 5.0.0.93 → 4.13.0.90" in ch[0]
    assert results_affecting_changes(new_env(), new_env(opencv=None)) == [
        "OpenCV recorded opencv-python-headless 5.0.0.93, run: not installed"]


def test_an_old_env_json_with_only_packages_is_compared():
    old = old_env()
    view = results_affecting_view(old)
    assert view["OpenCV"] == ("opencv-python-headless", "5.0.0.93", None) and view["FFmpeg"] == "9.0.2#0d709a"
    run = new_env(opencv="5.1.0.95", scipy="1.17.1")
    run["results_affecting"]["packages"]["torch"] = old["packages"]["torch"]
    assert results_affecting_changes(old, run) == ["opencv-python-headless 5.0.0.93 → 5.1.0.95"]
    # an item only one side records is not compared (here: FFmpeg of a run without codecs)
    del run["results_affecting"]["ffmpeg"]
    run["results_affecting"]["packages"]["opencv-python-headless"] = "5.0.0.93"
    run["results_affecting"]["opencv"].update(version="5.0.0.93", cv2="5.0.0.93")
    assert results_affecting_changes(old, run) == []


def test_an_unavailable_ffmpeg_is_a_change():
    run = new_env(ffmpeg=None)
    assert results_affecting_changes(new_env(), run) == ["FFmpeg recorded 9.0.2#0d709a, run: not available"]


@pytest.mark.parametrize("missing", [None, {}, {"codec": "VTM 12.0", "python": "3.11"}, "not a dict"])
def test_no_recorded_environment_gives_none(missing):
    assert results_affecting_view(missing) is None
    assert results_affecting_changes(missing, new_env()) is None
    assert results_affecting_changes(new_env(), copy.deepcopy(missing)) is None
