"""Malformed condition YAML: every file gets issues (exit 2), never a traceback or a hang (issue 13)."""

from __future__ import annotations

import pytest
import yaml

from vcmbench.conditions import conditions_dir, load_condition, validate_file
from vcmbench.core.errors import ConditionError

from ._hostile import invoke, time_limit

BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
               for p, c in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh"))

CASES = {
    "non-string key": ("1: x\nname: a\n", "key 1 is not a string"),
    "non-string nested key": ("codec:\n  22: x\n", "key 22 under codec is not a string"),
    "alias bomb": (BOMB, "alias bomb"),
    "self-referencing alias": ("a: &a [*a]\n", "recursive"),
    "self-referencing mapping": ("a: &x\n  b: *x\n", "recursive"),
    "deep nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested|not valid YAML"),
    "moderately deep nesting": ("a: " + "[" * 200 + "]" * 200 + "\n", "nested more than"),
    "a date": ("version: 2024-01-01\n", "holds a date"),
    "non-finite number": ("codec:\n  scales: [.nan]\n", "must be finite"),
    "a set": ("a: !!set {x: null}\n", "holds a set"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_yaml_gives_an_issue(name, tmp_path):
    text, expected = CASES[name]
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with time_limit(20):
        issues = validate_file(p)
    assert issues and any(__import__("re").search(expected, i.message) for i in issues), issues
    with time_limit(20), pytest.raises(ConditionError):
        load_condition(p)
    r = invoke(["cttc", "validate", p])
    assert r.exit_code == 2


def test_non_utf8_condition(tmp_path):
    p = tmp_path / "latin.yaml"
    p.write_bytes(b"name: caf\xe9\n")
    r = invoke(["cttc", "show", p])
    assert r.exit_code == 2 and "not UTF-8" in r.output and "save it as UTF-8" in r.output


def test_100000_qps_validate_at_once(tmp_path):
    """The duplicate-QP check was quadratic (``list.count`` per QP: a minute for 100,000 QPs)."""
    data = yaml.safe_load((conditions_dir() / "demo.yaml").read_text())
    data["name"] = "many"
    data["codec"]["qps"] = [q % 64 for q in range(100_000)]
    p = tmp_path / "many.yaml"
    p.write_text(yaml.safe_dump(data))
    with time_limit(15):
        issues = validate_file(p)
    assert [i.key for i in issues] == ["codec.qps"] and "duplicate QP" in issues[0].message
