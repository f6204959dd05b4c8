"""A detectron2 that imports while its compiled extension (or the torchvision operators it calls) does
not (issue 26): reported unusable with the reason, ``detectron2:`` names it implements run on the
native ``rcnn`` backend, the others are refused with the reason — never a traceback from ``build_model``.
Fake ``detectron2`` / ``torchvision`` packages on ``sys.path`` stand in for the broken builds."""

from __future__ import annotations

import sys

import pytest

from tests.unit._hostile import invoke
from vcmbench.core.errors import UsageError
from vcmbench.tasks import get_task, resolve_detectron2_backend
from vcmbench.tasks.detectron2 import detectron2_available

X101 = "COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x"
RETINA = "COCO-Detection/retinanet_R_50_FPN_3x"  # not implemented by the native backend


def _fake(tmp_path, monkeypatch, name: str, files: dict[str, str]) -> None:
    """Package ``name`` made of ``files`` first on ``sys.path``; the test's imports of it are undone after."""
    pkg = tmp_path / name
    pkg.mkdir(parents=True)
    for rel, text in {"__init__.py": "", **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in _modules(name):
        monkeypatch.delitem(sys.modules, mod)
    _CLEANUPS.append(name)  # _forget_fakes drops the fakes before monkeypatch puts the real modules back


_CLEANUPS: list[str] = []


def _modules(name: str) -> list[str]:
    return [m for m in sys.modules if m == name or m.startswith(name + ".")]


@pytest.fixture(autouse=True)
def _forget_fakes(monkeypatch):
    yield
    while _CLEANUPS:
        for mod in _modules(_CLEANUPS.pop()):
            del sys.modules[mod]


@pytest.fixture
def no_c_extension(tmp_path, monkeypatch):
    _fake(tmp_path, monkeypatch, "detectron2", {
        "_C.py": "raise ImportError('libc10.so: cannot open shared object file')\n",
        # what detectron2.layers does at load; build_model would end here in a traceback
        "modeling.py": "from detectron2 import _C\n"})
    for var in ("VCMBENCH_D2_WEIGHTS", "VCMBENCH_RCNN_WEIGHTS"):
        monkeypatch.delenv(var, raising=False)


def test_missing_extension_is_not_available(no_c_extension):
    import detectron2  # noqa: F401 - the fake imports

    ok, why = detectron2_available()
    assert not ok
    assert "detectron2._C" in why and "libc10.so" in why and "build detectron2 with its extension" in why


def test_missing_extension_falls_back_or_refuses(no_c_extension, tmp_path):
    assert resolve_detectron2_backend(X101) == "rcnn"
    assert resolve_detectron2_backend(RETINA) == "detectron2"
    with pytest.raises(UsageError, match=r"needs detectron2: .*detectron2\._C does not"):
        get_task(f"detectron2:{RETINA}", weights=str(tmp_path / "w.pkl"))
    # the native backend builds (and here asks for its weights), saying why it runs instead
    with pytest.raises(UsageError, match=r"detectron2\._C does not .*, so detectron2:.* runs on the native rcnn "
                                         r"backend: .*model_final_68b088\.pkl"):
        get_task(f"detectron2:{X101}")


def test_missing_extension_in_the_tasks_listing(no_c_extension):
    r = invoke(["tasks"])
    assert r.exit_code == 0
    line = next(x for x in r.output.splitlines() if x.startswith("detectron2"))
    assert "detectron2._C" in r.output, line


def test_missing_torchvision_operators_are_not_available(tmp_path, monkeypatch):
    _fake(tmp_path / "d2", monkeypatch, "detectron2", {"_C.py": ""})
    _fake(tmp_path / "tv", monkeypatch, "torchvision", {"ops.py": (
        "def nms(*a, **k):\n    raise RuntimeError('operator torchvision::nms does not exist')\n"
        "def roi_align(*a, **k):\n    raise RuntimeError('operator torchvision::roi_align does not exist')\n")})
    pytest.importorskip("torch")
    ok, why = detectron2_available()
    assert not ok
    assert "torchvision::nms does not exist" in why and "torchvision built for this torch" in why
    assert resolve_detectron2_backend(X101) == "rcnn"
