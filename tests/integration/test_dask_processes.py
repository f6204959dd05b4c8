"""Issue 27 "Done when": README way 2 — a ``dask scheduler`` and ``dask worker`` started as separate processes on
this machine — gives the results of a plain ``--jobs 1`` run, bit for bit (result set, records, predictions,
bitstreams and their hashes); and the cluster faults of such a cluster: a worker killed mid-job (its job runs again
on a worker, same results), no worker at all (the run stops after ``--worker-wait`` with a message), a scheduler
that restarts (with its workers: the run completes identically; without them: it stops with a message naming how
to resume, and the same command then completes identically)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from click.testing import CliRunner

from tests.integration.dask_procs import BITSTREAMS, LIMIT, QPS, TOTAL, LocalDask, make_serial_run, same_run
from tests.integration.dask_procs import run_args as _args
from tests.integration.test_pipeline_resume import _count

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    return make_serial_run(tmp_path_factory)


@pytest.fixture
def local_dask(tmp_path):
    cluster = LocalDask(tmp_path / "dask-logs")
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.mark.integration
def test_readme_way2_scheduler_and_workers_as_processes_equal_jobs_one(serial_run, local_dask, tmp_path):
    """The README's way 2 commands (`dask scheduler`, `dask worker ADDR --nworkers 2 --nthreads 1`, `vcmbench run
    ... --executor dask --scheduler ADDR`) on this machine: the serial run's results, and run.json names the
    scheduler and its 2 workers."""
    from vcmbench.cli import cli

    data, ref = serial_run
    local_dask.start_scheduler()
    local_dask.start_workers(2)
    local_dask.wait_workers(2)
    out = tmp_path / "way2"
    res = CliRunner().invoke(cli, _args(data, out, "--executor", "dask", "--scheduler", local_dask.address))
    assert res.exit_code == 0, res.output
    same_run(ref, out, TOTAL, BITSTREAMS)
    info = json.loads((out / "run.json").read_text())["executor"]
    assert info["executor"] == "dask" and info["cluster"] == "scheduler" and info["workers"] == 2
    assert info["scheduler"] == local_dask.address and info["worker_wait"] == 600.0


@pytest.mark.integration
@pytest.mark.slow  # 79 s on this shared 2-core machine (way 2 itself runs in the default suite above)
def test_a_worker_process_killed_mid_job_has_its_job_rerun_with_the_same_results(serial_run, local_dask, tmp_path):
    from vcmbench.conditions import load_condition
    from vcmbench.run.executor import make_executor
    from vcmbench.run.pipeline import run_condition

    data, ref = serial_run
    local_dask.start_scheduler()
    local_dask.start_workers(2)  # each under a nanny: the killed one is replaced
    local_dask.wait_workers(2)
    out = tmp_path / "killed-worker"
    cond = load_condition("coco-tiny-cc-ssd").with_overrides(preset="faster")
    with make_executor(None, "dask", scheduler=local_dask.address) as ex:
        killed = []

        def progress(ev):  # at the first finished job: SIGKILL a worker that the scheduler says is running one
            if ev.done >= 1 and not killed:
                busy = [w for w, keys in ex.client.processing().items() if keys]
                pid = ex.client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        s = run_condition(cond, data, out, qps=QPS, limit=LIMIT, executor=ex, progress=progress)
    assert killed and not s.errors and s.result_set is not None
    assert s.retries >= 1  # the killed worker's job ran again
    same_run(ref, out, TOTAL, BITSTREAMS)


@pytest.mark.integration
def test_a_scheduler_nobody_joins_stops_the_run_after_worker_wait(serial_run, local_dask, tmp_path):
    from vcmbench.cli import cli

    data, _ = serial_run
    local_dask.start_scheduler()  # and no worker
    out = tmp_path / "no-worker"
    t0 = time.monotonic()
    res = CliRunner().invoke(cli, _args(data, out, "--executor", "dask", "--scheduler", local_dask.address,
                                        "--worker-wait", "3"))
    took = time.monotonic() - t0
    assert res.exit_code == 1, res.output
    assert f"No Dask worker is connected to the scheduler {local_dask.address} (waited --worker-wait 3 seconds)" \
        in res.output
    assert "dask worker" in res.output and "Traceback" not in res.output
    assert 3 <= took < 60 and _count(out) == 0


@pytest.mark.integration
@pytest.mark.slow  # 109 s on this shared 2-core machine (two clusters)
def test_a_scheduler_restarted_with_its_workers_mid_run_completes_identically(serial_run, local_dask, tmp_path):
    from vcmbench.conditions import load_condition
    from vcmbench.run.executor import make_executor
    from vcmbench.run.pipeline import run_condition

    data, ref = serial_run
    local_dask.start_scheduler()
    local_dask.start_workers(2)
    local_dask.wait_workers(2)
    out = tmp_path / "restarted"
    cond = load_condition("coco-tiny-cc-ssd").with_overrides(preset="faster")
    with make_executor(None, "dask", scheduler=local_dask.address, worker_wait=120) as ex:
        restarted = []

        def progress(ev):  # at the first finished job (others in flight): a new scheduler, new workers
            if ev.done >= 1 and not restarted:
                local_dask.kill_scheduler()
                local_dask.start_scheduler()
                local_dask.start_workers(2)
                restarted.append(ev.done)

        s = run_condition(cond, data, out, qps=QPS, limit=LIMIT, executor=ex, progress=progress)
    assert restarted and restarted[0] < TOTAL and not s.errors and s.result_set is not None
    assert s.retries >= 1  # the jobs in flight when the scheduler went away were submitted again
    same_run(ref, out, TOTAL, BITSTREAMS)


@pytest.mark.integration
@pytest.mark.slow  # 122 s on this shared 2-core machine
def test_a_scheduler_restarted_without_workers_stops_the_run_then_the_same_command_resumes(serial_run, local_dask,
                                                                                            tmp_path):
    """Dask workers do not reconnect to a new scheduler: with none started again, the run stops after
    --worker-wait with a message naming the resume; the same command, workers started, completes identically."""
    from vcmbench.cli import cli
    from vcmbench.conditions import load_condition
    from vcmbench.core.errors import ClusterError
    from vcmbench.run.executor import make_executor
    from vcmbench.run.pipeline import run_condition

    data, ref = serial_run
    local_dask.start_scheduler()
    local_dask.start_workers(2)
    local_dask.wait_workers(2)
    out = tmp_path / "lost"
    cond = load_condition("coco-tiny-cc-ssd").with_overrides(preset="faster")
    with make_executor(None, "dask", scheduler=local_dask.address, worker_wait=5) as ex:
        restarted = []

        def progress(ev):
            if ev.done >= 1 and not restarted:
                local_dask.kill_scheduler()
                local_dask.start_scheduler()
                restarted.append(ev.done)

        with pytest.raises(ClusterError) as err:
            run_condition(cond, data, out, qps=QPS, limit=LIMIT, executor=ex, progress=progress)
    msg = str(err.value)
    assert "Dask workers do not reconnect" in msg and "run the same command again" in msg
    stored = _count(out)
    assert 1 <= stored < TOTAL and not (out / "resultset.json").exists()
    local_dask.start_workers(2)
    local_dask.wait_workers(2)
    res = CliRunner().invoke(cli, _args(data, out, "--executor", "dask", "--scheduler", local_dask.address, "--json"))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["cached"] == stored
    same_run(ref, out, TOTAL, BITSTREAMS)


def test_worker_wait_is_checked_and_needs_dask():
    from vcmbench.core.errors import UsageError
    from vcmbench.run.executor import make_executor

    with pytest.raises(UsageError, match="need --executor dask"):
        make_executor(1, "local", worker_wait=5)
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(UsageError, match="--worker-wait must be a finite number of seconds > 0"):
            make_executor(1, "dask", worker_wait=bad)


@pytest.mark.integration
@pytest.mark.slow  # ~40 s: the client gives up reconnecting after its connect timeout (20 s)
def test_a_scheduler_gone_for_good_stops_the_run_with_a_message(local_dask, tmp_path):
    """No hang when the scheduler dies and never comes back: a ClusterError naming the resume, well within
    --worker-wait (the client stops reconnecting after 20 s)."""
    from vcmbench.core.errors import ClusterError
    from vcmbench.run.executor import make_executor

    local_dask.start_scheduler()
    local_dask.start_workers(1)
    local_dask.wait_workers(1)
    got = []
    t0 = time.monotonic()
    with make_executor(None, "dask", scheduler=local_dask.address, worker_wait=300) as ex:
        ex.check_shared_dir(tmp_path)
        with pytest.raises(ClusterError) as err:
            for item, res, e in ex.run(time.sleep, [0.5] * 20):
                got.append(e)
                if len(got) == 1:
                    local_dask.kill_scheduler()
    assert got == [None] and time.monotonic() - t0 < 120
    assert f"Lost the Dask scheduler {local_dask.address}" in str(err.value)
    assert "run the same command to resume" in str(err.value)
