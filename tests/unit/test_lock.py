"""The dependency lock (``lock/``, written by ``tools/lock``): consistent with pyproject.toml, installed as it says,
and the one the README's two Quickstart commands install."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYVER = "%d.%d" % sys.version_info[:2]
needs_tomllib = pytest.mark.skipif(sys.version_info < (3, 11), reason="tools/lock needs Python >= 3.11 (tomllib)")


def _check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(root / "tools" / "lock"), "--check"], capture_output=True, text=True,
                          timeout=120)


def _copy_tree(tmp_path: Path) -> Path:
    for part in ("tools", "lock"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@needs_tomllib
def test_lock_files_are_consistent_with_pyproject():
    res = _check(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


@needs_tomllib
def test_lock_check_names_a_pin_outside_pyproject_range_and_a_missing_pin(tmp_path):
    root = _copy_tree(tmp_path)
    lock = root / "lock" / "py3.11-test.txt"
    text = lock.read_text()
    text = re.sub(r"^opencv-python-headless==\S+", "opencv-python-headless==5.1.0.95", text, flags=re.M)
    text = re.sub(r"^pycocotools==\S+ \\\n(    --hash=\S+( \\)?\n)+", "", text, flags=re.M)
    lock.write_text(text)
    res = _check(root)
    assert res.returncode == 1
    assert "opencv-python-headless==5.1.0.95 is outside pyproject's opencv-python-headless<5.1,>=4.8" in res.stdout
    assert "pycocotools (pyproject: pycocotools>=2.0.7) is not pinned" in res.stdout
    # the untouched demo lock now disagrees with the test lock, and says so
    assert "py3.11-demo.txt: opencv-python-headless==5.0.0.93 is not the test lock's pin (5.1.0.95)" in res.stdout


@needs_tomllib
def test_lock_check_refuses_an_unhashed_pin_and_a_demo_pin_that_differs(tmp_path):
    root = _copy_tree(tmp_path)
    demo = root / "lock" / "py3.11-demo.txt"
    demo.write_text(re.sub(r"^numpy==\S+", "numpy==2.0.0", demo.read_text(), flags=re.M)
                    + "six==1.16.0\n")
    res = _check(root)
    assert res.returncode == 1
    assert "py3.11-demo.txt: numpy==2.0.0 is not the test lock's pin" in res.stdout
    assert "py3.11-demo.txt: six has no hash" in res.stdout


def test_readme_quickstart_installs_from_the_lock():
    """Both Quickstart commands install the hashed lock of this Python, then the project without its dependencies."""
    lines = [ln for ln in (ROOT / "README.md").read_text().splitlines() if ln.startswith("python3 -m venv .venv")]
    assert len(lines) == 2, lines
    for ln, which in zip(lines, ("demo", "test")):
        m = re.search(r"pip install -q -r (lock/py(\d+\.\d+)-(\w+)\.txt) ", ln)
        assert m and m.group(3) == which, ln
        assert (ROOT / m.group(1)).is_file(), m.group(1)
        assert "pip install -q --no-deps --no-build-isolation -e ." in ln
        assert "torch" not in ln.split("&&")[1]  # torch comes from the lock, hash-pinned


def test_installed_packages_equal_the_lock():
    """The environment the tests run in is the tested set: every package the lock names is installed at its pin.

    Fails in an environment not installed from the lock (e.g. `tools/check-newest`, which deselects it)."""
    lock_file = ROOT / "lock" / f"py{PYVER}-test.txt"
    if not lock_file.is_file():
        pytest.skip(f"no lock for Python {PYVER} ({lock_file.name}); `tools/lock --python python{PYVER}` writes one")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from lockfile import read_lock
    finally:
        sys.path.remove(str(ROOT / "tools"))
    wrong = []
    for name, version, _ in read_lock(lock_file).values():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "not installed"
        if have != version:
            wrong.append(f"{name}: lock {version}, installed {have}")
    assert not wrong, ("this environment is not the locked one; reinstall with the README's test command, or refresh "
                       "the lock with tools/lock and run tools/check-newest: " + "; ".join(wrong))
