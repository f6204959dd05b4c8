"""Issue 27 "Done when": README way 3 — ``vcmbench run ... --executor dask --cluster slurm`` — on a real SLURM
cluster (``sudo tools/slurm-local`` makes this machine a one-node one, partition ``debug``) gives the results of a
plain ``--jobs 1`` run, bit for bit, with the SLURM job ids in ``run.json``; batch jobs that never start stop the
run after ``--worker-wait`` with what ``squeue`` says; a worker's batch job cancelled mid-run leaves the results
unchanged.  Skipped, with the reason, where SLURM is absent or has no idle node (tests/conftest.py)."""

from __future__ import annotations

import json
import shlex
import subprocess
import time

import pytest
from click.testing import CliRunner

from tests.integration.dask_procs import BITSTREAMS, LIMIT, QPS, TOTAL, make_serial_run, same_run
from tests.integration.dask_procs import run_args as _args
from tests.integration.test_pipeline_resume import _count

pytest.importorskip("dask_jobqueue")


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    return make_serial_run(tmp_path_factory)

def _readme_slurm() -> str:
    """README "Running on many cores, a cluster", way 3, word for word: the `vcmbench run ... --cluster slurm`
    command of its code block (continuation lines joined)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = text[text.index("# 3. SLURM"):]
    lines = block.split("\n")[1:]
    cmd = []
    for line in lines:
        cmd.append(line.rstrip("\\").strip())
        if not line.endswith("\\"):
            break
    return " ".join(cmd)


def _readme_args(data, tmp_path) -> list[str]:
    words = shlex.split(_readme_slurm())
    assert words[:3] == ["vcmbench", "run", "coco-tiny-cc-ssd"]
    subst = {"/shared/coco": str(data), "/shared/runs/d": str(tmp_path / "d"),
             "/shared/runs/d-slurm": str(tmp_path / "d-slurm")}
    words = [subst.get(w, w) for w in words]
    words = [w.replace("=/shared/runs/d-slurm", f"={tmp_path / 'd-slurm'}") for w in words]
    assert not any(w.startswith("/shared/") or "=/shared/" in w for w in words)
    i = words.index("--out")
    return [*_args(data, words[i + 1]), *words[i + 2:]]


def _squeue(ids: list[str]) -> str:
    return subprocess.run(["squeue", "-h", "-j", ",".join(ids), "-o", "%i %T"], capture_output=True, text=True,
                          timeout=20).stdout.strip()


def _gone(ids: list[str], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _squeue(ids):
            return True
        time.sleep(1)
    return False


@pytest.mark.integration
@pytest.mark.needs_slurm
def test_readme_slurm_example_equals_jobs_one_with_the_job_ids_in_run_json(serial_run, tmp_path, monkeypatch):
    from vcmbench.cli import cli

    monkeypatch.chdir(tmp_path)  # where sbatch would write job output without log-directory
    data, ref = serial_run
    args = _readme_args(data, tmp_path)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    out = tmp_path / "d"
    same_run(ref, out, TOTAL, BITSTREAMS)
    info = json.loads((out / "run.json").read_text())["executor"]
    assert info["executor"] == "dask" and info["cluster"] == "slurm"
    ids = info["job_ids"]
    assert len(ids) == 2 and all(i.isdigit() for i in ids), ids  # --jobs 2 workers, cores=1: two batch jobs
    for job_id in ids:  # SLURM knows them (kept MinJobAge=300 s after they end) and they ran in partition debug
        shown = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, timeout=20)
        assert shown.returncode == 0 and "Partition=debug" in shown.stdout, shown.stdout + shown.stderr
    assert sorted(p.name for p in (tmp_path / "d-slurm").iterdir()), "the batch jobs wrote no output"
    assert _gone(ids), f"batch jobs still queued after the run: {_squeue(ids)}"


@pytest.mark.integration
@pytest.mark.needs_slurm
def test_slurm_batch_jobs_that_never_start_stop_the_run_after_worker_wait(serial_run, tmp_path, monkeypatch):
    """Jobs held in the queue (``--begin=now+1hour``): the run stops after --worker-wait with squeue's word
    (PENDING, reason BeginTime), exit 1, nothing stored, and leaves no batch job behind."""
    from vcmbench.cli import cli

    monkeypatch.chdir(tmp_path)
    data, _ = serial_run
    out = tmp_path / "never"
    t0 = time.monotonic()
    res = CliRunner().invoke(cli, _args(data, out, "--executor", "dask", "--jobs", "2", "--cluster", "slurm",
                                        "--cluster-opt", "queue=debug", "--cluster-opt", "cores=1",
                                        "--cluster-opt", "memory=2GB", "--cluster-opt", "job-extra=--begin=now+1hour",
                                        "--cluster-opt", f"log-directory={tmp_path / 'logs'}", "--worker-wait", "15"))
    took = time.monotonic() - t0
    assert res.exit_code == 1, res.output
    assert "No Dask worker joined the run within --worker-wait 15 seconds" in res.output, res.output
    assert "PENDING BeginTime" in res.output and "Traceback" not in res.output
    assert 15 <= took < 120 and _count(out) == 0
    ids = [i.strip() for i in res.output.split("batch job(s) ", 1)[1].split(":", 1)[0].split(",")]
    assert ids and _gone(ids), f"held batch jobs left in the queue: {_squeue(ids)}"


@pytest.mark.integration
@pytest.mark.needs_slurm
@pytest.mark.slow  # ~60 s here
def test_a_slurm_worker_job_cancelled_mid_run_leaves_the_results_unchanged(serial_run, tmp_path, monkeypatch):
    from vcmbench.conditions import load_condition
    from vcmbench.run.executor import make_executor
    from vcmbench.run.pipeline import run_condition

    monkeypatch.chdir(tmp_path)
    data, ref = serial_run
    out = tmp_path / "scancel"
    cond = load_condition("coco-tiny-cc-ssd").with_overrides(preset="faster")
    opts = {"queue": "debug", "cores": 1, "memory": "2GB", "walltime": "00:30:00", "log_directory": str(tmp_path / "logs")}
    with make_executor(2, "dask", cluster="slurm", cluster_options=opts) as ex:
        cancelled = []

        def progress(ev):  # at the first finished job: scancel one worker's batch job (SLURM ends its processes)
            if ev.done >= 1 and not cancelled:
                job_id = ex.job_ids()[0]
                subprocess.run(["scancel", job_id], check=True, timeout=20)
                cancelled.append(job_id)

        s = run_condition(cond, data, out, qps=QPS, limit=LIMIT, executor=ex, progress=progress)
    assert cancelled and not s.errors and s.result_set is not None
    same_run(ref, out, TOTAL, BITSTREAMS)


def test_slurm_local_help_says_what_it_changes_on_the_machine():
    import sys
    from pathlib import Path

    tool = Path(__file__).resolve().parents[2] / "tools" / "slurm-local"
    r = subprocess.run([sys.executable, str(tool), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for said in ("apt-get install slurm-wlm munge", "/etc/slurm/slurm.conf", "/etc/munge/munge.key",
                 "partition ``debug``", "proctrack/linuxproc", "--stop", "--status", "Example:"):
        assert said in r.stdout, said
