"""The wheel ships every package and the cttc/, anchors/, templates/ data folders."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[2]


def test_pyproject_lists_every_package():
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(conf["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "vcmbench").rglob("__init__.py")}
    assert on_disk <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(on_disk - listed)}"
    mapped = conf["tool"]["setuptools"]["package-dir"]
    assert mapped == {"vcmbench._data.cttc": "cttc", "vcmbench._data.anchors": "anchors",
                      "vcmbench._data.templates": "templates"}


def test_torch_requirement_admits_only_releases_that_2_13_satisfies():
    """An unpinned torch would pull the CUDA build on a fresh machine (DESIGN.md 5.6)."""
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = conf["project"]["dependencies"] + sum(conf["project"]["optional-dependencies"].values(), [])
    torch = [r for r in reqs if re.match(r"torch\b", r)]
    assert torch and all("<2.14" in r for r in torch), torch


def test_readme_quickstart_is_two_commands_and_ci_runs_the_second():
    text = (REPO / "README.md").read_text()
    quick = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    cmds = [ln for ln in quick.splitlines() if ln.startswith("python3 -m venv")]
    assert len(cmds) == 2
    assert "vcmbench demo" in cmds[0] and "pytest" in cmds[1]
    for cmd in cmds:  # torch comes from the lock, pinned to the CPU wheel with its hash (tests/unit/test_lock.py)
        lock = re.search(r"-r (lock/\S+\.txt)", cmd).group(1)
        assert re.search(r"^torch==2\.13\.0\+cpu \\\n    --hash=sha256:", (REPO / lock).read_text(), re.M), lock
    ci = (REPO / ".ci" / "run").read_text()
    assert "README.md" in ci and "pytest collected no tests" in ci


def test_installed_wheel_finds_conditions_anchors_templates(tmp_path):
    """Build the wheel, install it (non-editable) into a folder, and load data from there."""
    import subprocess
    import sys

    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheel_dir), str(REPO)], check=True, timeout=300, capture_output=True)
    wheel = next(wheel_dir.glob("vcmbench-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300, capture_output=True)
    code = ("import vcmbench, vcmbench.core.resources as r; from vcmbench.conditions import load_condition; "
            "assert vcmbench.__file__.startswith(sys.argv[1]), vcmbench.__file__; "
            "print(load_condition('vcm-oiv6-det').qps, "
            "sorted(p.name for p in r.resource_dir('templates').iterdir() if not p.name.startswith('_')) != [], "
            "sorted(p.name for p in r.resource_dir('anchors').iterdir() if not p.name.startswith('_')) != [])")
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); " + code, str(target)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[22,", "27,", "32,", "37,", "42,", "47]", "True", "True"]
    # the build must not leave a build/ folder in the checkout
    import shutil

    shutil.rmtree(REPO / "build", ignore_errors=True)
