"""Robustness suite (issue 13): generated hostile inputs across every command, in-process (Click's
CliRunner), each with a hard time limit.  Every case must end in a documented exit code (0-4) with
no traceback and no hang.  Hypothesis runs derandomized (a fixed sequence of examples, no example
database), so CI is reproducible; examples are kept small so the suite stays well under a minute.

Cases per test (``max_examples``) are listed in ``CASES``; ``test_case_count`` checks the total."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED
from tests.unit._hostile import invoke
from tests.unit._resultsets import make_anchor

CASES = {"files": 300, "json": 120, "conditions": 120, "options": 100, "bitstreams": 50}
SPECIAL = ("fifo", "directory", "/dev/null", "missing")  # /dev/zero: tests/unit (memory-capped child)
_counter = itertools.count()


def _settings(n: int):
    return settings(max_examples=n, derandomize=True, database=None, deadline=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("robust")
    e = {"dir": d}
    (d / "good.csv").write_text("bpp,mAP\n0.1,0.5\n0.2,0.6\n0.3,0.7\n0.4,0.8\n")
    e["good.csv"] = d / "good.csv"
    e["rs.json"] = make_anchor().save(d / "rs.json")
    gt = {"images": [{"id": 1, "width": 100, "height": 100}], "categories": [{"id": 1, "name": "cat"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "area": 900,
                           "iscrowd": 0}]}
    (d / "gt.json").write_text(json.dumps(gt))
    (d / "pred.json").write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30],
                                              "score": 0.9}]))
    e["gt.json"], e["pred.json"] = d / "gt.json", d / "pred.json"
    (d / "b.csv").write_text("ImageID,LabelName,XMin,XMax,YMin,YMax,IsGroupOf\ni1,cat,0,0.5,0,0.5,0\n")
    (d / "l.csv").write_text("ImageID,LabelName,Confidence\ni1,cat,1\n")
    (d / "p.csv").write_text("ImageID,LabelName,Score,XMin,XMax,YMin,YMax\ni1,cat,0.9,0,0.5,0,0.5\n")
    (d / "c.txt").write_text("cat\n")
    for k in ("b.csv", "l.csv", "p.csv", "c.txt"):
        e[k] = d / k
    os.mkfifo(d / "fifo")
    e["fifo"] = d / "fifo"
    (d / "a-directory").mkdir()
    e["directory"] = d / "a-directory"
    e["/dev/null"] = Path("/dev/null")
    e["missing"] = d / "missing.bin"
    bs = SHARED / "fixtures" / "vtm12" / "texture_256x192_420_qp22.266"
    e["bitstream"] = bs if bs.is_file() else None
    return e


def _fresh(env) -> Path:
    d = env["dir"] / f"case{next(_counter)}"
    d.mkdir()
    return d


def _commands(env, f: Path, out: Path) -> dict[str, list]:
    """Every command that reads a user file, with ``f`` in the file's place."""
    oid = ["--gt-boxes", env["b.csv"], "--gt-labels", env["l.csv"], "--pred", env["p.csv"], "--classes", env["c.txt"]]

    def oid_with(i):
        a = list(oid)
        a[i] = f
        return ["evaluate", "oid", *a]

    rundir = out / "run"
    rundir.mkdir(exist_ok=True)
    if f.exists() and f.is_file():
        shutil.copyfile(f, rundir / "resultset.json")
    return {
        "cttc validate": ["cttc", "validate", f],
        "cttc show": ["cttc", "show", f],
        "bitstream info": ["bitstream", "info", f],
        "verify": ["verify", f],
        "bdrate anchor": ["bdrate", "--anchor", f, "--test", env["good.csv"]],
        "bdrate test": ["bdrate", "--anchor", env["rs.json"], "--test", f],
        "report": ["report", "--anchor", env["rs.json"], "--test", f, "-o", out / "r.html"],
        "evaluate coco gt": ["evaluate", "coco", "--gt", f, "--pred", env["pred.json"]],
        "evaluate coco pred": ["evaluate", "coco", "--gt", env["gt.json"], "--pred", f],
        "evaluate oid boxes": oid_with(1),
        "evaluate oid labels": oid_with(3),
        "evaluate oid pred": oid_with(5),
        "evaluate oid classes": oid_with(7),
        "crosscheck": ["crosscheck", f, "--work-dir", out / "w", "-o", out / "x.html"],
        "results": ["results", rundir],
        "conformance": ["conformance", "run", f],
    }


COMMAND_NAMES = [
    "cttc validate", "cttc show", "bitstream info", "verify", "bdrate anchor", "bdrate test", "report",
    "evaluate coco gt", "evaluate coco pred", "evaluate oid boxes", "evaluate oid labels", "evaluate oid pred",
    "evaluate oid classes", "crosscheck", "results", "conformance"]

SPECIAL_PAYLOADS = [
    b"", b"\xff\xfe\x00", b"[" * 3000, b"{" * 3000, b'{"a": NaN}', b"[1e999]", b"a: &a [*a]\n",
    b"bpp,mAP\n" + b"1" * 140_000 + b",0.5\n", b"1: x\n", b"\x00" * 64, b"PK\x03\x04" + b"\x00" * 40,
    b"\x00\x00\x00\x01" + b"\xff" * 40, b"bpp,mAP\nnan,0.5\ninf,0.6\n", b"bpp,mAP\n1e-300,0.1\n1e300,0.9\n",
    b"ImageID,LabelName,Score,XMin,XMax,YMin,YMax\ni1,cat,nan,0,x,0,1\n",
    b'[{"image_id": 1, "category_id": 1, "bbox": [1, 2], "score": 1}]',
    b'{"images": 1, "annotations": [], "categories": []}',
    "名前: \u202e\U0001F600\n".encode(),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)

payloads = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=120).map(lambda s: s.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(SPECIAL_PAYLOADS),
)


@_settings(CASES["files"])
@given(payload=payloads, name=st.sampled_from(COMMAND_NAMES),
       suffix=st.sampled_from([".json", ".csv", ".yaml", ".266", ".zip", ".txt"]))
def test_hostile_file_contents(env, payload, name, suffix):
    out = _fresh(env)
    f = out / f"input{suffix}"
    f.write_bytes(payload)
    invoke(_commands(env, f, out)[name])


@pytest.mark.parametrize("special", SPECIAL)
@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_special_files(env, special, name):
    out = _fresh(env)
    r = invoke(_commands(env, env[special], out)[name])
    assert r.exit_code in (1, 2, 4), r.output  # a verdict, never "ok" on a pipe, a directory or nothing


def _mutate(obj, path: list, value):
    """``obj`` with the element at ``path`` (indices taken modulo the container sizes) replaced."""
    if not path or not isinstance(obj, (dict, list)) or not obj:
        return value
    keys = list(obj) if isinstance(obj, dict) else list(range(len(obj)))
    k = keys[path[0] % len(keys)]
    obj[k] = _mutate(obj[k], path[1:], value)
    return obj


@_settings(CASES["json"])
@given(path=st.lists(st.integers(0, 50), min_size=1, max_size=4), value=json_values,
       target=st.sampled_from(["rs", "gt", "pred"]))
def test_mutated_json_inputs(env, path, value, target):
    out = _fresh(env)
    src = {"rs": env["rs.json"], "gt": env["gt.json"], "pred": env["pred.json"]}[target]
    f = out / "m.json"
    f.write_text(json.dumps(_mutate(json.loads(src.read_text()), path, value)))
    if target == "rs":
        invoke(["report", "--anchor", env["rs.json"], "--test", f, "-o", out / "r.html"])
        invoke(["bdrate", "--anchor", f, "--test", env["rs.json"]])
    elif target == "gt":
        invoke(["evaluate", "coco", "--gt", f, "--pred", env["pred.json"]])
    else:
        invoke(["evaluate", "coco", "--gt", env["gt.json"], "--pred", f])


@_settings(CASES["conditions"])
@given(path=st.lists(st.integers(0, 50), min_size=1, max_size=3), value=json_values | st.dates(),
       key=st.one_of(st.none(), st.integers(), st.text(max_size=5)))
def test_mutated_conditions(env, path, value, key):
    from vcmbench.conditions import conditions_dir

    out = _fresh(env)
    data = yaml.safe_load((conditions_dir() / "demo.yaml").read_text())
    data = _mutate(data, path, value)
    if key is not None and isinstance(data, dict):
        data[key] = value
    f = out / "demo.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True))
    invoke(["cttc", "validate", f])
    invoke(["cttc", "show", f])


NUMERIC_OPTIONS = [
    ("verify", "--timeout"), ("verify", "--width"), ("evaluate oid", "--iou"), ("evaluate oid", "--group-of-weight"),
    ("bdrate", "--scale"), ("bdrate", "--min-overlap"), ("run", "--jobs"), ("run", "--limit"),
]
numbers_as_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "0", "-0", "1e309", "", " ", "0x10", "1_0", "½", "--"]),
    st.text(max_size=6))


@_settings(CASES["options"])
@given(opt=st.sampled_from(NUMERIC_OPTIONS), value=numbers_as_text)
def test_option_values(env, opt, value):
    out = _fresh(env)
    cmd, name = opt
    if cmd == "verify":
        if env["bitstream"] is None:
            return
        args = ["verify", env["bitstream"], name, value]
    elif cmd == "evaluate oid":
        args = ["evaluate", "oid", "--gt-boxes", env["b.csv"], "--gt-labels", env["l.csv"], "--pred", env["p.csv"],
                name, value]
    elif cmd == "bdrate":
        args = ["bdrate", "--anchor", env["good.csv"], "--test", env["good.csv"], name, value]
    else:  # stop at parse time or at the condition: never start coding (no codec needed)
        args = ["run", str(out / "nope.yaml"), "--out", out / "r", name, value]
    r = invoke(args)
    assert r.exit_code in (0, 1, 2, 4)


@_settings(CASES["bitstreams"])
@given(cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
       truncate=st.one_of(st.none(), st.integers(0, 10**6)))
def test_mutated_bitstreams(env, cuts, truncate):
    if env["bitstream"] is None:
        pytest.skip(f"test data {env['bitstream']} is absent")
    data = bytearray(env["bitstream"].read_bytes())
    for pos, val in cuts:
        data[pos % len(data)] = val
    if truncate is not None:
        data = data[: truncate % (len(data) + 1)]
    out = _fresh(env)
    f = out / "m.266"
    f.write_bytes(bytes(data))
    invoke(["bitstream", "info", f])
    invoke(["verify", f, "--timeout", "20"])


def test_case_count():
    """Several hundred generated cases in all (the special-file matrix adds len(SPECIAL) x commands)."""
    assert sum(CASES.values()) + len(SPECIAL) * len(COMMAND_NAMES) >= 500
