"""Data never names code (issue 26): study files and ``restoration.json`` name a restoration network,
never an importable callable; a plug-in class comes from the command line (``--restoration-module``)
or an installed entry point and is checked to be a ``torch.nn.Module`` subclass before anything of it
is called.  Each hostile case proves that nothing ran (a marker file the code would create is absent)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.unit._hostile import invoke
from vcmbench.core.errors import ConditionError, UsageError
from vcmbench.features.restoration import (
    ESPCN_IMPORT_PATH,
    FeatureRestorer,
    import_plugin,
    network_class,
    plain_options,
    resolve_spec,
)
from vcmbench.studies.model import load_study, resolve_study_path
from vcmbench.studies.train import restoration_spec

MODULE = '''
import pathlib
pathlib.Path({marker!r}).touch()  # importing this module at all leaves the marker
'''

PLUGINS = '''
import pathlib
import torch

MARK = pathlib.Path({marker!r})


class NotNet:
    def __init__(self, **kw):
        MARK.touch()


def make(**kw):
    MARK.touch()


class TinyNet(torch.nn.Module):
    def __init__(self, scale=2):
        super().__init__()
        self.scale = int(scale)
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, x, size=None):
        return torch.nn.functional.interpolate(x, size=size, mode="nearest") * self.w
'''


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """Two importable modules in tmp: ``c26_import_marker`` (marks on import) and ``c26_plugins``."""
    d = tmp_path / "mods"
    d.mkdir()
    (d / "c26_import_marker.py").write_text(MODULE.format(marker=str(tmp_path / "imported")))
    (d / "c26_plugins.py").write_text(PLUGINS.format(marker=str(tmp_path / "called")))
    monkeypatch.syspath_prepend(str(d))
    yield tmp_path
    for m in ("c26_import_marker", "c26_plugins"):
        sys.modules.pop(m, None)


def _study(tmp_path: Path, name: str, restorations) -> Path:
    data = yaml.safe_load(resolve_study_path(name).read_text(encoding="utf-8"))
    data["settings"]["restorations"] = restorations
    p = tmp_path / f"{name}-hostile.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


@pytest.mark.parametrize("name", ["s1-downscaled-ssd", "s4-occlusion-fgnet"])
@pytest.mark.parametrize("entry", [{"module": "subprocess:run", "weights": "w.pt"}, "subprocess:run",
                                   {"module": "c26_import_marker:Net", "weights": "w.pt"}])
def test_study_naming_code_is_refused(plugin_dir, name, entry):
    p = _study(plugin_dir, name, ["bicubic" if name.startswith("s1") else "inpaint-telea", entry])
    with pytest.raises(ConditionError, match=r"settings\.restorations\[1\].* names code to import.*--restoration-module"):
        load_study(p)
    r = invoke(["study", "show", p])
    assert r.exit_code == 2 and "--restoration-module" in r.output
    assert not (plugin_dir / "imported").exists()


def test_restoration_json_naming_code_is_refused(plugin_dir):
    d = plugin_dir / "restore"
    d.mkdir()
    for module in ("subprocess:run", "c26_import_marker:Net"):
        (d / "restoration.json").write_text(json.dumps({"module": module, "weights": str(d / "w.pt")}))
        with pytest.raises(UsageError, match=r"names code to import .*--restoration-module package\.module:Class"):
            restoration_spec(d)
        r = invoke(["study", "run", "s1-downscaled-ssd", "--out", plugin_dir / "out", "--restoration", d])
        assert r.exit_code == 2 and "--restoration-module" in r.output, r.output
    assert not (plugin_dir / "imported").exists()
    (d / "restoration.json").write_text(json.dumps({"network": "Net", "weights": str(d / "w.pt")}))
    with pytest.raises(UsageError, match=r"Unknown restoration network 'Net'.*--restoration-module"):
        restoration_spec(d)


def test_restoration_json_names_a_network(tmp_path):
    d = tmp_path / "restore"
    d.mkdir()
    w = str(d / "restoration.pt")
    (d / "restoration.json").write_text(json.dumps({"network": "espcn", "weights": w, "options": {"scale": 2}}))
    spec = restoration_spec(d)
    assert spec == {"method": "module", "module": ESPCN_IMPORT_PATH, "weights": w, "options": {"scale": 2}}
    # a restoration.json of earlier versions names the built-in ESPCN by its import path: read as the same spec
    (d / "restoration.json").write_text(json.dumps({"module": ESPCN_IMPORT_PATH, "weights": w, "options": {"scale": 2}}))
    assert restoration_spec(d) == spec
    (d / "restoration.json").write_text(json.dumps({"network": "espcn", "weights": ["x"]}))
    with pytest.raises(UsageError, match="weights: FILE"):
        restoration_spec(d)


def test_plugins_are_module_subclasses_checked_before_a_call(plugin_dir):
    pytest.importorskip("torch")
    for path in ("c26_plugins:NotNet", "c26_plugins:make"):
        with pytest.raises(UsageError, match="not a torch.nn.Module subclass.*nothing of it was called"):
            import_plugin(path)
    assert not (plugin_dir / "called").exists()
    with pytest.raises(UsageError, match="package.module:Class"):
        import_plugin("c26_plugins")
    assert import_plugin("c26_plugins:TinyNet").__name__ == "TinyNet"


def test_plugin_named_by_class_name_runs(plugin_dir):
    torch = pytest.importorskip("torch")
    w = plugin_dir / "tiny.pt"
    torch.save({"w": torch.full((1,), 2.0)}, str(w))
    spec = resolve_spec({"network": "TinyNet", "weights": str(w), "options": {"scale": 2}}, ["c26_plugins:TinyNet"])
    assert spec["module"] == "c26_plugins:TinyNet"
    r = FeatureRestorer(spec)
    assert r.signature().startswith("TinyNet#")
    f = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    out = r(f, 6, 6)
    assert out.shape == (2, 6, 6)
    # nearest up-sampling times 2 in the [0, 1]-normalised domain, mapped back to the layer's range
    lo, span = f.min(), f.max() - f.min()
    assert np.allclose(out[:, ::2, ::2], (f - lo) / span * 2 * span + lo)
    with pytest.raises(UsageError, match="Unknown restoration network 'TinyNet'"):
        resolve_spec({"network": "TinyNet", "weights": str(w)})


def test_entry_point_networks(plugin_dir, monkeypatch):
    pytest.importorskip("torch")
    import importlib.metadata as md

    eps = [md.EntryPoint("tiny", "c26_plugins:TinyNet", "vcmbench.restorations"),
           md.EntryPoint("notnet", "c26_plugins:NotNet", "vcmbench.restorations")]
    monkeypatch.setattr(md, "entry_points", lambda group=None: [e for e in eps if e.group == group])
    assert network_class("tiny").__name__ == "TinyNet"
    assert resolve_spec({"network": "tiny", "weights": "w.pt"})["network"] == "tiny"
    with pytest.raises(UsageError, match="Entry point 'notnet'.*not a torch.nn.Module subclass"):
        network_class("notnet")
    assert not (plugin_dir / "called").exists()


@pytest.mark.parametrize("options", [[1, 2], {"a": {1, 2}}, {1: "x"}, {"a": object()}])
def test_options_are_plain_data(options):
    with pytest.raises(UsageError, match="plain data"):
        plain_options(options, "here")
    assert plain_options({"scale": 2, "x": [1.5, "a", None, {"b": True}]}, "here")["scale"] == 2


def test_restoration_module_option_is_checked_at_once(plugin_dir):
    pytest.importorskip("torch")
    r = invoke(["study", "run", "s1-downscaled-ssd", "--out", plugin_dir / "out",
                "--restoration-module", "c26_plugins:NotNet"])
    assert r.exit_code == 2 and "not a torch.nn.Module subclass" in r.output
    assert not (plugin_dir / "called").exists() and not (plugin_dir / "out").exists()
