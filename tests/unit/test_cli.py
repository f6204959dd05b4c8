"""CLI shell: every command has --help text with an example; env works; errors map to exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import click
from click.testing import CliRunner

from vcmbench.cli import COMMANDS, cli


def _walk(cmd: click.Command, path: list[str]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _walk(cmd.get_command(ctx, name), [*path, name])


def test_every_command_has_help_with_an_example():
    seen = []
    for path, _ in _walk(cli, []):
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Example:" in result.output, f"`vcmbench {' '.join(path)} --help` has no example"
        example = result.output.split("Example:", 1)[1]
        assert "vcmbench" in example, path
        seen.append(" ".join(path))
    assert set(COMMANDS) <= {p.split(" ")[0] for p in seen if p}


def test_help_is_fast_and_imports_no_heavy_backend():
    code = ("import sys, time; t=time.time(); from vcmbench.cli import cli; "
            "from click.testing import CliRunner; r=CliRunner().invoke(cli, ['--help']); "
            "heavy=[m for m in ('torch','cv2','av','pandas','openpyxl','scipy','pycocotools') if m in sys.modules]; "
            "print(r.exit_code, heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    assert out[0] == "0" and out[1:] == ["[]"], out


def test_env_json_lists_packages_and_codecs():
    r = CliRunner().invoke(cli, ["env", "--json"])
    assert r.exit_code == 0, r.output
    env = json.loads(r.output)
    assert env["packages"]["numpy"] and env["python"].startswith("3.")
    assert env["ffmpeg"]["libvvenc"] is True
    assert env["codecs"]["vvenc"]["available"] is True
    assert "#" in env["codecs"]["vvenc"]["signature"]
    assert env["codecs"]["vtm"]["available"] in (True, False)


def test_unknown_command_is_a_usage_error():
    r = CliRunner().invoke(cli, ["frobnicate"])
    assert r.exit_code == 2 and "No such command" in r.output
