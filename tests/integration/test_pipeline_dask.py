"""Issue 17 "Done when": the Dask executor and split phases give the results of a plain ``--jobs 1`` run,
bit for bit (bitstreams, records, predictions, result set), also when a Dask worker is killed mid-run
(SIGKILL to its pid) and when the client is killed and the run is resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.integration.dask_procs import BITSTREAMS, LIMIT, QPS, TOTAL, make_serial_run, same_run
from tests.integration.dask_procs import run_args as _args
from tests.integration.test_pipeline_resume import _count, _session_members


def _same_run(a: Path, b: Path) -> None:
    same_run(a, b, TOTAL, BITSTREAMS)


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    return make_serial_run(tmp_path_factory)


@pytest.mark.integration
def test_encode_phase_then_score_phase_equals_one_run(serial_run, tmp_path):
    from vcmbench.cli import cli

    data, ref = serial_run
    out = tmp_path / "split"
    res = CliRunner().invoke(cli, _args(data, out, "--jobs", "1", "--phase", "encode"))
    assert res.exit_code == 0, res.output
    assert "await `--phase score`" in res.output and not (out / "resultset.json").exists()
    assert len(list((out / "decoded").glob("*.png"))) == LIMIT * len(QPS)
    res = CliRunner().invoke(cli, _args(data, out, "--jobs", "1", "--phase", "score", "--json"))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["cached"] == LIMIT * len(QPS) - LIMIT * len(QPS)  # nothing re-encoded
    _same_run(ref, out)
    assert list((out / "decoded").glob("*.png")) == []  # kept pictures are released once scored


@pytest.mark.integration
def test_dask_two_workers_one_killed_mid_run_gives_the_serial_results(serial_run, tmp_path):
    pytest.importorskip("distributed")
    from vcmbench.conditions import load_condition
    from vcmbench.run.executor import make_executor
    from vcmbench.run.pipeline import run_condition

    data, ref = serial_run
    out = tmp_path / "dask"
    cond = load_condition("coco-tiny-cc-ssd").with_overrides(preset="faster")
    with make_executor(2, "dask") as ex:
        pids = ex.client.run(os.getpid)
        victim = sorted(pids.values())[0]
        killed = []

        def progress(ev):  # at the first finished job the other worker is mid-job: kill one of them
            if ev.done >= 1 and not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        s = run_condition(cond, data, out, qps=QPS, limit=LIMIT, executor=ex, progress=progress)
        info = s.executor
    assert killed and not s.errors and s.result_set is not None
    assert info["executor"] == "dask" and info["workers"] >= 1
    assert json.loads((out / "run.json").read_text())["executor"]["executor"] == "dask"
    _same_run(ref, out)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to watch the killed run's processes")
def test_dask_client_killed_then_resumed_gives_the_serial_results(serial_run, tmp_path):
    pytest.importorskip("distributed")
    data, ref = serial_run
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "vcmbench", *_args(data, out, "--executor", "dask", "--jobs", "2")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and _count(out) < 2:
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        deadline = time.monotonic() + 60  # the cluster's workers leave once their scheduler is gone
        while _session_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _session_members(proc.pid)
        if left:
            os.killpg(proc.pid, signal.SIGKILL)
    at_kill = _count(out)
    assert 2 <= at_kill < TOTAL and not (out / "resultset.json").exists()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert f"{at_kill} cached" in r.stdout
    _same_run(ref, out)
    assert not left, f"processes of the killed run still alive after 60 s: {left}"


@pytest.mark.integration
@pytest.mark.slow
def test_dask_cli_two_workers_equals_jobs_one(serial_run, tmp_path):
    pytest.importorskip("distributed")
    from vcmbench.cli import cli

    data, ref = serial_run
    out = tmp_path / "dask-cli"
    res = CliRunner().invoke(cli, _args(data, out, "--executor", "dask", "--jobs", "2"))
    assert res.exit_code == 0, res.output
    _same_run(ref, out)
