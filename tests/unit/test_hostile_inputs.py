"""Hostile files given where a regular file is expected: FIFO, directory, /dev/zero, non-UTF-8,
oversized CSV fields, deep JSON, a missing bitstream.  Each ends in exit 2 with a message naming
the problem, within seconds (issue 13)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vcmbench.core.errors import DataError
from vcmbench.core.inputs import csv_rows, open_regular, read_text

from ._hostile import invoke

DEV_ZERO = Path("/dev/zero")


@pytest.fixture
def fifo(tmp_path) -> Path:
    p = tmp_path / "pipe.266"
    os.mkfifo(p)
    return p


def test_open_regular_refuses_fifo_directory_and_device(tmp_path, fifo):
    for p, word in ((fifo, "FIFO"), (tmp_path, "directory"), (DEV_ZERO, "character device")):
        if p == DEV_ZERO and not p.exists():
            continue
        with pytest.raises(DataError, match=word):
            open_regular(p, "Input")
    with pytest.raises(DataError, match="does not exist"):
        open_regular(tmp_path / "nope", "Input")


def test_size_limit_and_encoding_are_named(tmp_path):
    p = tmp_path / "big.csv"
    p.write_bytes(b"a" * 100)
    with pytest.raises(DataError, match="over the limit of 10 bytes"):
        read_text(p, "CSV file", limit=10)
    p.write_bytes(b"bpp,mAP\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="not UTF-8 text.*save it as UTF-8"):
        read_text(p, "CSV file")


def test_csv_field_over_128_kib_is_a_data_error():
    with pytest.raises(DataError, match="line 2.*131072"):
        csv_rows("bpp,mAP\n" + "1" * 200_000 + ",0.5\n", "x.csv")


@pytest.mark.parametrize("cmd", [["bitstream", "info"], ["verify"]])
def test_bitstream_commands_refuse_fifo_directory_and_missing_file(cmd, tmp_path, fifo):
    for bad in (fifo, tmp_path, tmp_path / "missing.266", Path("/dev/null")):
        r = invoke([*cmd, bad])
        assert r.exit_code == 2, (bad, r.output)


def test_cttc_validate_refuses_fifo_and_dev_zero(fifo):
    r = invoke(["cttc", "validate", fifo])
    assert r.exit_code == 2 and "not a regular file" in r.output
    # /dev/zero read whole exhausts memory: checked in a child with capped memory, so that a
    # regression fails this test instead of the machine
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    for cmd in (["cttc", "show", str(DEV_ZERO)], ["bitstream", "info", str(DEV_ZERO)]):
        p = subprocess.run([sys.executable, "-c", "from vcmbench.cli import main; main()", *cmd], capture_output=True,
                           text=True, timeout=120, preexec_fn=cap)
        assert p.returncode == 2 and "not a regular file" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_report_and_bdrate_inputs(tmp_path, fifo):
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"bpp,mAP\n0.1,0.5\n0.2,0.6\n0.3,0.7\n0.4,0.8\n\xe9,1\n")
    good = tmp_path / "good.csv"
    good.write_text("bpp,mAP\n0.1,0.5\n0.2,0.6\n0.3,0.7\n0.4,0.8\n")
    r = invoke(["bdrate", "--anchor", bad, "--test", good])
    assert r.exit_code == 2 and "not UTF-8" in r.output
    huge = tmp_path / "huge.csv"
    huge.write_text("bpp,mAP\n" + "1" * 200_000 + ",0.5\n")
    r = invoke(["bdrate", "--anchor", huge, "--test", good])
    assert r.exit_code == 2 and "131072" in r.output
    r = invoke(["bdrate", "--anchor", fifo, "--test", good])
    assert r.exit_code == 2
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    r = invoke(["report", "--anchor", deep, "--test", deep, "-o", tmp_path / "r.html"])
    assert r.exit_code == 2 and not (tmp_path / "r.html").exists()


def test_evaluate_refuses_fifo_at_parse_time(tmp_path, fifo):
    gt = tmp_path / "gt.json"
    gt.write_text('{"images": [], "annotations": [], "categories": []}')
    r = invoke(["evaluate", "coco", "--gt", fifo, "--pred", gt])
    assert r.exit_code == 2 and "not a regular file" in r.output
