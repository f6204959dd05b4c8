"""Tool processes die with their job (issue 26): every tool runs in its own process group, so ``kill -9`` of
the process that started it does not reach it.  A pool worker whose parent dies kills its tools' groups
before it leaves; and the groups a run's jobs record under ``RUNDIR/tmp/<job>/pgroups`` are killed when the run is
resumed (the case where the job's own process was killed with ``-9``: its folder ``RUNDIR/tmp/<job>`` is left)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait(pred, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def _tool_pid(folder: Path, seconds: float = 30.0) -> int:
    assert _wait(lambda: any(folder.glob("*.json")), seconds), f"no tool recorded in {folder}"
    import json

    return int(json.loads(next(folder.glob("*.json")).read_text())["pid"])


def _recorded(folder: Path) -> list[int]:
    import json

    return [int(json.loads(p.read_text())["pid"]) for p in folder.glob("*.json")] if folder.is_dir() else []


def _kill_groups(*pids: int) -> None:
    """Teardown: the test's own processes never outlive it, whatever failed."""
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], start_new_session=True,
                            cwd=str(Path(__file__).resolve().parents[2]))


def test_a_run_killed_with_sigkill_leaves_tools_that_the_resume_kills(tmp_path):
    from vcmbench.run.store import RunStore

    run = tmp_path / "run"
    RunStore(run).close()
    groups = run / "tmp" / "job1-123" / "pgroups"  # a job's folder (run.jobs.job_workspace)
    job = _start("""
        import sys
        from vcmbench.core.process import run_process, tracking_groups
        with tracking_groups(sys.argv[1]):
            run_process(["sleep", "120"], timeout=300)
        """, str(groups))
    try:
        tool = _tool_pid(groups)
        os.kill(job.pid, signal.SIGKILL)
        job.wait(10)
        time.sleep(0.3)
        assert _alive(tool), "precondition: the tool outlives the job's process (its own process group)"
        with RunStore(run) as st:  # the resume
            assert len(st.reaped) == 1 and f"process group {tool} (sleep 120)" in st.reaped[0]
        assert _wait(lambda: not _alive(tool), 5), "the leftover tool still runs after the resume"
        assert list((run / "tmp").iterdir()) == []
    finally:
        _kill_groups(job.pid, *_recorded(groups))


def test_a_pool_worker_whose_parent_is_killed_kills_its_tools(tmp_path):
    groups = tmp_path / "pgroups"
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import sys
        from vcmbench.core.process import run_process, tracking_groups
        from vcmbench.run.executor import LocalPoolExecutor

        def job(folder):
            with tracking_groups(folder):
                run_process(["sleep", "120"], timeout=300)

        if __name__ == "__main__":
            ex = LocalPoolExecutor(2)
            for _ in ex.run(job, [sys.argv[1]]):
                pass
        """))
    parent = subprocess.Popen([sys.executable, str(script), str(groups)], start_new_session=True,
                              cwd=str(Path(__file__).resolve().parents[2]))
    try:
        tool = _tool_pid(groups, 60)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        assert _wait(lambda: not _alive(tool), 10), "the worker left its tool running after kill -9 of the run"
    finally:
        _kill_groups(parent.pid, *_recorded(groups))


def test_a_live_tool_of_this_process_is_not_reaped(tmp_path):
    """The control: only leftovers are killed, never a tool this process still runs (its PyAV decoder)."""
    from vcmbench.core.process import reap_recorded_groups, register_group, tracking_groups, unregister_group

    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        with tracking_groups(tmp_path):
            register_group(proc.pid, ["sleep", "60"])
        assert reap_recorded_groups(tmp_path) == [] and _alive(proc.pid)
        unregister_group(proc.pid)
        assert not list(tmp_path.glob("*.json"))
    finally:
        proc.kill()
        proc.wait()


def _tool_then_done(args):
    """First try: start a long tool (recorded in ``folder``) and wait on it; a retry returns at once."""
    folder, flag = args
    from vcmbench.core.process import run_process, tracking_groups

    if Path(flag).exists():
        return "retried"
    Path(flag).write_text("1")
    with tracking_groups(folder):
        run_process(["sleep", "120"], timeout=300)
    return "first"


def test_a_pool_worker_that_dies_takes_its_tools_with_it(tmp_path):
    """A worker killed (out of memory, kill -9) while its job runs a tool: the parent kills the tool's group
    before it retries the job elsewhere."""
    import json
    import threading

    from vcmbench.run.executor import LocalPoolExecutor

    groups = tmp_path / "pgroups"
    ex = LocalPoolExecutor(1)
    out: list = []
    try:
        t = threading.Thread(target=lambda: out.extend(ex.run(_tool_then_done, [(str(groups), str(tmp_path / "f"))])),
                             daemon=True)
        t.start()
        tool = _tool_pid(groups, 60)
        worker = int(json.loads(next(groups.glob("*.json")).read_text())["owner"])
        os.kill(worker, signal.SIGKILL)
        t.join(60)
        assert out and out[0][1] == "retried", out
        assert _wait(lambda: not _alive(tool), 5), "the dead worker's tool still runs"
    finally:
        _kill_groups(*_recorded(groups))
        ex.close()
