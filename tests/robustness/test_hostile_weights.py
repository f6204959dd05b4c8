"""Robustness (issue 26): generated hostile weights files and restoration settings.

* Pickles naming a generated ``module.name`` (dangerous ones and random ones) or holding random
  opcode bytes: ``read_state`` ends in a ``DataError`` that says why, and no generated callable ran
  (each name resolves to a recorder installed in ``sys.modules`` that would note the call).
* ``restoration.json`` and study ``settings.restorations`` with generated content: a result or a
  ``UsageError``/``ConditionError``, never another exception, never an import of a named module.

Hypothesis runs derandomized (a fixed sequence of examples, no database)."""

from __future__ import annotations

import itertools
import json
import sys
import types

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcmbench.core.errors import ConditionError, DataError, UsageError

CASES = {"globals": 120, "bytes": 120, "restoration_json": 80, "study": 40}
CALLED: list[str] = []
_counter = itertools.count()
DANGEROUS = ["os.system", "posix.system", "subprocess.run", "subprocess.Popen", "builtins.eval", "builtins.exec",
             "builtins.open", "io.open", "builtins.__import__", "importlib.import_module", "shutil.rmtree",
             "numpy.load", "numpy.fromfile", "numpy.core.multiarray.fromfile", "torch.load", "pickle.loads",
             "webbrowser.open", "runpy.run_path", "ctypes.CDLL", "code.interact"]


def _settings(n: int):
    return settings(max_examples=n, derandomize=True, database=None, deadline=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    """A module ``c26rec`` whose every attribute records a call: pickles below name it to prove nothing ran."""
    mod = types.ModuleType("c26rec")

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)

        def record(*a, **k):
            CALLED.append(name)
        return record

    mod.__getattr__ = __getattr__
    monkeypatch.setitem(sys.modules, "c26rec", mod)
    CALLED.clear()
    yield
    assert CALLED == []


names = st.one_of(st.sampled_from(DANGEROUS),
                  st.builds(lambda a, b: f"c26rec.{a}{b}", st.sampled_from("abcxyz_"), st.text("abc_0", max_size=6)))


@given(name=names, proto=st.sampled_from([0, 2, 4]))
@_settings(CASES["globals"])
def test_pickles_naming_code_are_refused(tmp_path_factory, name, proto):
    from vcmbench.tasks.rcnn.weights import read_state

    module, attr = name.rsplit(".", 1)
    call = b"c" + f"{module}\n{attr}\n".encode() + b"(S'x'\ntR"  # GLOBAL + MARK + arg + TUPLE + REDUCE
    body = b"}S'model'\n" + call + b"s."
    data = (b"\x80" + bytes([proto]) if proto >= 2 else b"") + body
    p = tmp_path_factory.mktemp("g") / f"w{next(_counter)}.pkl"
    p.write_bytes(data)
    with pytest.raises(DataError, match=r"was not loaded: it references .*model-zoo file never holds"):
        read_state(p)


@given(data=st.binary(max_size=200))
@_settings(CASES["bytes"])
def test_random_bytes_end_in_a_data_error(tmp_path_factory, data):
    from vcmbench.tasks.rcnn.weights import read_state

    p = tmp_path_factory.mktemp("b") / f"w{next(_counter)}.pkl"
    p.write_bytes(b"\x80\x04" + data)
    try:
        read_state(p)
    except DataError:
        pass


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=12), st.sampled_from(["c26rec:Net", "subprocess:run", "espcn"])),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                           max_leaves=12)
restorations = st.dictionaries(st.sampled_from(["network", "module", "weights", "options", "method", "x"]),
                               json_values, max_size=5)


@given(entry=st.one_of(restorations, json_values))
@_settings(CASES["restoration_json"])
def test_generated_restoration_json(tmp_path_factory, entry):
    from vcmbench.studies.train import restoration_spec

    d = tmp_path_factory.mktemp("r")
    (d / "restoration.json").write_text(json.dumps(entry))
    try:
        spec = restoration_spec(d)
    except UsageError:
        return
    assert spec.get("module") in (None, "vcmbench.features.restoration:ESPCN")  # never a name from the file


@given(entries=st.lists(st.one_of(restorations, json_values), min_size=1, max_size=3))
@_settings(CASES["study"])
def test_generated_study_restorations(tmp_path_factory, entries):
    from vcmbench.studies.downscaled import restorations as resolved
    from vcmbench.studies.model import load_study, resolve_study_path

    data = yaml.safe_load(resolve_study_path("s1-downscaled-ssd").read_text(encoding="utf-8"))
    data["settings"]["restorations"] = entries
    p = tmp_path_factory.mktemp("s") / "s.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        study = load_study(p)
        specs = resolved(study, {})
    except (ConditionError, UsageError):
        return
    assert all(s.get("module") in (None, "vcmbench.features.restoration:ESPCN") for s in specs)


def test_case_count():
    assert sum(CASES.values()) >= 300
