"""Bad input named in the issue-24 audit is refused with exit 2 and the fix, never exit 1 or a traceback:
``--limit 0`` / negative wherever a count is taken (``study run``, ``study train-restore``, ``run``, ``demo``), and
a ``--vtm-dir`` that does not exist or lacks the VTM apps on every command that accepts it."""

from __future__ import annotations

import pytest

from tests.unit._hostile import invoke


@pytest.mark.parametrize("value", ["0", "-1", "-5"])
@pytest.mark.parametrize("cmd", [["study", "run", "s2-distortions-ssd"], ["run", "demo"], ["demo"]])
def test_limit_zero_or_negative_is_refused(cmd, value, tmp_path):
    r = invoke([*cmd, "--out", tmp_path / "out", "--limit", value])
    assert r.exit_code == 2, r.output
    assert "--limit" in r.output and "positive whole number" in r.output and "leave the option out" in r.output
    assert not (tmp_path / "out").exists()


def test_train_restore_counts_are_refused(tmp_path):
    for opt in (["--limit", "0"], ["--steps", "0"], ["--batch", "-1"], ["--holdout", "-1"], ["--lr", "0"]):
        r = invoke(["study", "train-restore", "--data", tmp_path, "--out", tmp_path / "w", *opt])
        assert r.exit_code == 2 and opt[0] in r.output, (opt, r.output)


def test_list_images_refuses_a_non_positive_limit():
    """The library too: ``[: 0 or None]`` meant "all images", ``[: -1]`` "all but the last"."""
    from vcmbench.conditions import load_condition
    from vcmbench.conditions.datasets import list_images
    from vcmbench.core.errors import UsageError

    cond = load_condition("demo")
    assert len(list_images(cond, None, 2)) == 2
    for bad in (0, -1, True, 1.5):
        with pytest.raises(UsageError, match="positive number of images"):
            list_images(cond, None, bad)


@pytest.fixture
def no_vtm_env(monkeypatch):
    monkeypatch.delenv("VCMBENCH_VTM_DIR", raising=False)


def _commands(tmp_path, vtm_fixtures):
    good = vtm_fixtures / "texture_256x192_420_qp22.266"
    return [["run", "demo", "--limit", "1", "--quiet", "--out", tmp_path / "r"],
            ["codecs"], ["env"], ["verify", good, "--decoder", "vtm"],
            ["conformance", "run", vtm_fixtures / "manifest.json", "--decoder", "vtm"],
            ["crosscheck", tmp_path]]


def test_missing_vtm_dir_is_bad_input_everywhere(tmp_path, vtm_fixtures, no_vtm_env):
    for cmd in _commands(tmp_path, vtm_fixtures):
        r = invoke([*cmd, "--vtm-dir", tmp_path / "no-such-vtm"])
        assert r.exit_code == 2, (cmd, r.output)
        assert "--vtm-dir" in r.output and "does not exist" in r.output, (cmd, r.output)
    assert not (tmp_path / "r").exists()


def test_vtm_dir_without_the_apps_is_bad_input(tmp_path, vtm_fixtures, no_vtm_env):
    empty = tmp_path / "empty-vtm"
    empty.mkdir()
    for cmd in (["run", "demo", "--limit", "1", "--quiet", "--out", tmp_path / "r"],
                ["verify", vtm_fixtures / "texture_256x192_420_qp22.266", "--decoder", "vtm"]):
        r = invoke([*cmd, "--vtm-dir", empty])
        assert r.exit_code == 2, (cmd, r.output)
        assert f"No VTM DecoderApp in {empty}" in r.output and "--vtm-dir" in r.output, (cmd, r.output)
    assert not (tmp_path / "r").exists()


def test_find_vtm_binary_errors_are_usage_errors(tmp_path, no_vtm_env):
    from vcmbench.coding.codecs.vtm_apps import find_vtm_binary
    from vcmbench.core.errors import EXIT_USAGE, CodecError, CodecSetupError

    (tmp_path / "file").write_text("")
    app = tmp_path / "bin" / "EncoderApp"
    app.parent.mkdir()
    app.write_text("#!/bin/sh\n")
    app.chmod(0o644)
    for where, msg in ((None, "not configured"), (tmp_path / "missing", "no such folder"),
                       (tmp_path / "file", "not a folder"), (tmp_path, "is not executable")):
        with pytest.raises(CodecSetupError, match=msg) as exc:
            find_vtm_binary("EncoderApp", where)
        assert exc.value.exit_code == EXIT_USAGE and isinstance(exc.value, CodecError)
