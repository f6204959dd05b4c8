"""Executors' fault handling: per-job timeout, a worker killed mid-job, the Dask executor (issue 17, 13)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from vcmbench.core.errors import UsageError


def _job(x):
    """``hang`` sleeps (a job stuck in a blocking call), ``spin`` loops in Python, ``die:PATH`` kills its
    worker the first time (the marker file remembers), anything else comes back."""
    if x == "hang":
        time.sleep(3600)
    if x == "spin":
        while True:
            sum(range(1000))
    if isinstance(x, str) and x.startswith("die:"):
        marker = Path(x[4:])
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return "survived"
    if x == "deaf":  # stuck where the timeout's interruption cannot reach it
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
        time.sleep(3600)
    if isinstance(x, str) and x.startswith("always-die"):
        os.kill(os.getpid(), signal.SIGKILL)
    if isinstance(x, str) and x.startswith("loaded:"):
        import sys

        return x[7:] in sys.modules
    return x


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_hanging_job_is_reported_and_the_run_goes_on(jobs):
    from vcmbench.run.executor import make_executor

    t0 = time.monotonic()
    with make_executor(jobs, timeout=1.5) as ex:
        out = {item: (res, err) for item, res, err in ex.run(_job, ["a", "hang", "b", "spin", "c"])}
    assert time.monotonic() - t0 < 30
    assert out["a"] == ("a", None) and out["c"] == ("c", None)
    for stuck in ("hang", "spin"):
        assert out[stuck][0] is None and "JobTimeout" in out[stuck][1] and "1.5 s" in out[stuck][1]


def test_pool_worker_killed_mid_job_is_retried_and_a_job_that_always_kills_is_reported(tmp_path):
    from vcmbench.run.executor import LocalPoolExecutor

    with LocalPoolExecutor(2, max_tries=2) as ex:
        out = {item: (res, err) for item, res, err in ex.run(_job, [f"die:{tmp_path / 'm'}", "x", "always-die", "y"])}
        assert ex.retries == 2  # the die-once job and the first try of always-die
    assert out[f"die:{tmp_path / 'm'}"] == ("survived", None)
    assert out["x"] == ("x", None) and out["y"] == ("y", None)
    assert out["always-die"][0] is None and "died 2 time(s)" in out["always-die"][1]


def test_pool_workers_preload_modules_and_skip_missing_ones_and_replacements_preload_too(tmp_path):
    from vcmbench.run.executor import LocalPoolExecutor

    with LocalPoolExecutor(2) as ex:  # nothing here imports the stdlib's `wave`
        assert [r for _, r, _ in ex.run(_job, ["loaded:wave"])] == [False]
    with LocalPoolExecutor(2, preload=("wave", "no_such_module_vcmbench")) as ex:
        assert [r for _, r, _ in ex.run(_job, ["loaded:wave", "loaded:wave"])] == [True, True]
        out = dict((i, e or r) for i, r, e in ex.run(_job, [f"die:{tmp_path / 'm'}", "x"]))
        assert out == {f"die:{tmp_path / 'm'}": "survived", "x": "x"}  # a replaced worker
        assert [r for _, r, _ in ex.run(_job, ["loaded:wave"] * 3)] == [True] * 3


def test_pool_ends_a_worker_whose_job_ignores_the_timeout():
    from vcmbench.run.executor import LocalPoolExecutor

    t0 = time.monotonic()
    with LocalPoolExecutor(2, timeout=1.0, hard_grace=1.0) as ex:
        out = {item: (res, err) for item, res, err in ex.run(_job, ["deaf", "a", "b"])}
    assert time.monotonic() - t0 < 30
    assert out["a"] == ("a", None) and out["b"] == ("b", None)
    assert out["deaf"][0] is None and "its worker was ended" in out["deaf"][1]


def test_executor_options_are_checked():
    from vcmbench.run.executor import make_executor

    for bad in (dict(jobs=0), dict(timeout=0), dict(timeout=float("inf")), dict(executor="ray"),
                dict(scheduler="tcp://x:1"), dict(cluster="slurm")):
        with pytest.raises(UsageError):
            make_executor(**{"jobs": 1, **bad})


def test_cluster_options_and_slurm_job_script_without_sbatch():
    pytest.importorskip("dask_jobqueue")
    from vcmbench.run.dask_executor import jobqueue_cluster, parse_cluster_options

    opts = parse_cluster_options(["queue=gpu", "walltime=02:00:00", "cores=4", "memory=16GB",
                                  "job-extra=--gres=gpu:1", "job-extra=--exclusive"])
    assert opts == {"queue": "gpu", "walltime": "02:00:00", "cores": 4, "memory": "16GB",
                    "job_extra_directives": ["--gres=gpu:1", "--exclusive"]}
    with pytest.raises(UsageError):
        parse_cluster_options(["queue"])
    cluster = jobqueue_cluster("slurm", opts)  # nothing submitted until scaled
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -p gpu", "#SBATCH -t 02:00:00", "#SBATCH --gres=gpu:1", "--nworkers 4", "--nthreads 1"):
        assert line in script, script


@pytest.mark.slow  # ~16 s (cluster start-up); the default run kills a Dask worker in tests/integration/test_pipeline_dask.py
def test_dask_local_cluster_runs_jobs_probes_the_run_dir_and_survives_a_killed_worker(tmp_path):
    pytest.importorskip("distributed")
    from vcmbench.run.executor import make_executor

    marker = tmp_path / "m"
    with make_executor(2, "dask", timeout=2.0) as ex:
        ex.check_shared_dir(tmp_path)
        assert (tmp_path / "tmp" / ".vcmbench-probe").exists()
        info = ex.describe()
        assert info["executor"] == "dask" and info["workers"] == 2 and info["cluster"] == "local-cluster"
        out = {item: (res, err) for item, res, err in ex.run(_job, ["a", f"die:{marker}", "spin", "b"])}
        assert ex.retries >= 1
    assert out["a"] == ("a", None) and out["b"] == ("b", None)
    assert out[f"die:{marker}"] == ("survived", None)
    assert out["spin"][0] is None and "JobTimeout" in out["spin"][1]
    assert not (tmp_path / "tmp" / ".vcmbench-probe").exists()
