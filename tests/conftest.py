"""Shared test fixtures.  Test data is read from ../shared (never copied into the repository);
tests that need it skip with a clear reason when it is absent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VCMBENCH_SHARED", REPO.parent / "shared"))


@pytest.fixture(autouse=True)
def _vtm_dir_env_restored():
    """``--vtm-dir`` reaches the codecs through VCMBENCH_VTM_DIR, which the CLI sets in its own process; under
    CliRunner that process is the test session, so each test gets the variable back as it found it (a test
    that passed an empty folder must not leave every later test with a broken VTM setting)."""
    old = os.environ.get("VCMBENCH_VTM_DIR")
    yield
    if old is None:
        os.environ.pop("VCMBENCH_VTM_DIR", None)
    else:
        os.environ["VCMBENCH_VTM_DIR"] = old


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_cache(tmp_path_factory):
    """The tests never read or write the user's cache (``~/.cache/vcmbench``: the planner's network facts):
    one fresh cache folder per test session (VCMBENCH_CACHE_DIR, inherited by worker processes)."""
    old = os.environ.get("VCMBENCH_CACHE_DIR")
    os.environ["VCMBENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("vcmbench-user-cache"))
    yield
    if old is None:
        os.environ.pop("VCMBENCH_CACHE_DIR", None)
    else:
        os.environ["VCMBENCH_CACHE_DIR"] = old


def shared_path(*parts: str) -> Path:
    """Path under ../shared, skipping the calling test when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"test data {p} is absent (../shared beside the checkout, or set VCMBENCH_SHARED)")
    return p


@pytest.fixture
def shared() -> Path:
    return shared_path()


@pytest.fixture
def oid_dir() -> Path:
    return shared_path("data", "openimages-vcm")


@pytest.fixture
def coco_tiny() -> Path:
    return shared_path("data", "coco-tiny-cc")


@pytest.fixture
def opencv_dnn() -> None:
    """Skips the calling test, with the reason, where the OpenCV DNN SSD reference cannot run here
    (no SSD weights, no cv2, or an OpenCV without cv2.dnn.readNetFromTensorflow: 5.1 and later)."""
    from vcmbench.tasks.ssd import opencv_dnn_available

    ok, why = opencv_dnn_available()
    if not ok:
        pytest.skip(why)


@pytest.fixture
def vtm_fixtures() -> Path:
    return shared_path("fixtures", "vtm12")


@pytest.fixture
def golden_bd() -> Path:
    return shared_path("golden", "bdrate_public.json")


def have_libreoffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def pytest_addoption(parser):
    parser.addoption("--vtm-dir", default=None,
                     help="Folder of the VTM 12.0 EncoderApp/DecoderApp (else VCMBENCH_VTM_DIR) for the needs_vtm tests.")


@pytest.fixture
def vtm_dir(request) -> Path:
    """The configured VTM 12.0 binaries (``--vtm-dir`` or VCMBENCH_VTM_DIR); skips with the reason otherwise."""
    d = request.config.getoption("--vtm-dir") or os.environ.get("VCMBENCH_VTM_DIR")
    names = ("EncoderApp", "EncoderAppStatic", "bin/EncoderApp", "bin/EncoderAppStatic")
    if not d or not any((Path(d) / n).is_file() for n in names):
        pytest.skip("no VTM 12.0 EncoderApp configured (pass --vtm-dir or set VCMBENCH_VTM_DIR to the folder holding it)")
    return Path(d)


SLURM_PARTITION = "debug"  # the partition tools/slurm-local makes


def slurm_unready() -> str | None:
    """Why the ``needs_slurm`` tests cannot run here (``None`` when they can): SLURM's commands on PATH and a
    node of partition ``debug`` idle (``sudo tools/slurm-local`` makes this machine such a one-node cluster)."""
    import subprocess

    if not hasattr(slurm_unready, "cached"):
        fix = "run `sudo tools/slurm-local` to make this machine a one-node SLURM cluster"
        missing = [c for c in ("sbatch", "sinfo", "squeue", "scancel") if shutil.which(c) is None]
        why = None
        if missing:
            why = f"SLURM is absent ({', '.join(missing)} not on PATH): {fix}"
        else:
            try:
                res = subprocess.run(["sinfo", "-h", "-p", SLURM_PARTITION, "-o", "%T"], capture_output=True,
                                     text=True, timeout=20)
                states = res.stdout.split() if res.returncode == 0 else []
                if "idle" not in states:
                    why = (f"no idle SLURM node in partition {SLURM_PARTITION!r} (sinfo: "
                           f"{(res.stdout or res.stderr).strip() or 'nothing'}): {fix}")
            except (OSError, subprocess.TimeoutExpired) as exc:
                why = f"sinfo does not answer ({exc}): {fix}"
        slurm_unready.cached = why
    return slurm_unready.cached


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_slurm") is not None:
        why = slurm_unready()
        if why:
            pytest.skip(why)
