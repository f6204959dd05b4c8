"""Study files go through the same hardened YAML reader as conditions (issue 13): an alias bomb, a
non-UTF-8 file or a FIFO is refused with a ConditionError, quickly, instead of a hang or a traceback."""

from __future__ import annotations

import os

import pytest

from vcmbench.core.errors import ConditionError
from vcmbench.studies.model import load_study

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("content", [BOMB.encode(), b"name: \xff\xfe study\n", b"1: x\n"])
def test_hostile_study_yaml_is_refused(tmp_path, content):
    p = tmp_path / "s.yaml"
    p.write_bytes(content)
    with pytest.raises(ConditionError):
        load_study(p)


def test_a_fifo_study_file_is_refused_without_blocking(tmp_path):
    p = tmp_path / "s.yaml"
    os.mkfifo(p)
    with pytest.raises(ConditionError):
        load_study(p)
