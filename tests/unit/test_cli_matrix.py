"""One CLI grammar and the README's exit codes, checked across every command.

Exit codes (README "Exit codes"): 0 ok, 1 failure, 2 usage error or bad input, 3 regression,
4 not verified.  Each command gets bad inputs here; every one must end in its documented code
with a message and no traceback.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from vcmbench.cli import cli
from vcmbench.cli.common import REMEDY_NAMES


def _commands():
    ctx = click.Context(cli)
    out = {}

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for n in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, n), (*path, n))
        else:
            out[" ".join(path)] = cmd
    walk(cli, ())
    return out


COMMANDS = _commands()
NO_RESULTS = {"anchors update"}  # prints what it changed, no results table


def _opts(cmd):
    return {name: o for o in cmd.params if isinstance(o, click.Option) for name in o.opts}


def test_one_spelling_per_concept():
    for path, cmd in COMMANDS.items():
        opts = _opts(cmd)
        for banned in ("--data-dir", "--decoders", "--bd-remedy", "--output-dir", "--outdir", "--scales-pct"):
            assert banned not in opts, f"{path}: {banned}"
        if "-o" in opts:
            o = opts["-o"]
            assert "--output" in o.opts and isinstance(o.type, click.Path) and not o.type.dir_okay or path == "package"
        if "--out" in opts:
            assert isinstance(opts["--out"].type, click.Path) and not opts["--out"].type.file_okay, path
        if "--decoder" in opts:
            assert opts["--decoder"].multiple, f"{path}: --decoder must be repeatable"
        if "--remedy" in opts:
            assert opts["--remedy"].multiple and tuple(opts["--remedy"].type.choices) == REMEDY_NAMES, path
        if "--data" in opts:
            assert isinstance(opts["--data"].type, click.Path) and not opts["--data"].type.file_okay, path
        if path not in NO_RESULTS:
            assert "--json" in opts, f"{path} prints results but has no --json"


def test_every_command_has_help_with_an_example():
    for path in COMMANDS:
        r = CliRunner().invoke(cli, [*path.split(), "--help"])
        assert r.exit_code == 0 and "Example:" in r.output, path


@pytest.fixture
def files(tmp_path):
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("bpp,mAP\n0.5,0.7\n0.3,0.8\n0.1,0.4\n")  # non-monotonic
    junk = tmp_path / "junk.266"
    junk.write_bytes(b"\x00\x00\x01not a bitstream")
    empty = tmp_path / "empty"
    empty.mkdir()
    return {"bad_csv": str(bad_csv), "junk": str(junk), "empty": str(empty), "missing": str(tmp_path / "missing"),
            "out": str(tmp_path / "out")}


BAD = [
    ("cttc show no-such-condition", 2),
    ("cttc validate {missing}", 2),
    ("cttc verify-data no-such-condition --data {empty}", 2),
    ("cttc verify-data coco-tiny-cc-ssd --data {empty}", 4),
    ("env --no-such-option", 2),
    ("codecs --no-such-option", 2),
    ("bitstream info {missing}", 2),
    ("bitstream info {junk}", 2),
    ("verify {missing}", 2),
    ("verify {junk} --width 8", 2),
    ("conformance run {missing}", 2),
    ("evaluate coco --gt {missing} --pred {missing}", 2),
    ("evaluate oid --gt-boxes {missing} --gt-labels {missing} --pred {missing}", 2),
    ("tasks --no-such-option", 2),
    ("run no-such-condition --out {out}", 2),
    ("run demo --scales 80 --out {out}", 2),
    ("run demo --scales 0.75 --out {out}", 2),
    ("results {missing}", 2),
    ("results {empty}", 2),
    ("bdrate --anchor {missing} --test {bad_csv}", 2),
    ("bdrate --anchor {bad_csv} --test {bad_csv}", 2),
    ("bdrate --anchor {bad_csv} --test {bad_csv} --scale 80x", 2),
    ("report --anchor {bad_csv} --test {bad_csv} -o {out}/r.pdf", 2),
    ("report --anchor {bad_csv} --test {bad_csv} -o {out}/r.xlsx", 2),
    ("anchors show no-such-anchor", 2),
    ("anchors list --anchors-dir {junk}", 2),
    ("package {missing} -o {out}/p.zip", 2),
    ("package {empty} -o {out}/p.zip", 2),
    ("crosscheck {missing}", 2),
    ("crosscheck {empty}", 2),
    ("demo --jobs many", 2),
]


@pytest.mark.parametrize("line,code", BAD, ids=[b[0].split(" {")[0] for b in BAD])
def test_bad_input_exit_codes(files, line, code):
    r = CliRunner().invoke(cli, line.format(**files).split())
    assert r.exit_code == code, (line, r.exit_code, r.output)
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit)), r.exception
    assert r.output.strip(), "a refusal must say why"


def test_run_refuses_scale_before_any_job(files):
    from pathlib import Path

    r = CliRunner().invoke(cli, ["run", "demo", "--scales", "100,80", "--out", files["out"]])
    assert r.exit_code == 2 and "100, 75, 50, 25" in r.output
    assert not Path(files["out"]).exists()
