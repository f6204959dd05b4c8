"""A Dask scheduler and workers started as separate processes on this machine (README "Running on many cores, a
cluster", way 2), each in its own process group, killed at teardown; and the small comparisons the cluster
tests share (a run equals the ``--jobs 1`` run: result set, records, predictions, bitstreams)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.integration.test_pipeline_resume import _comparable, _rows

DASK = str(Path(sys.executable).with_name("dask"))
# the cheapest real run (as tests/integration/test_pipeline_dask.py): 2 pictures at QP 47, VVenC faster, SSD
QPS = [47]
LIMIT = 2
TOTAL = LIMIT + LIMIT * len(QPS)  # reference jobs + coded jobs
BITSTREAMS = LIMIT * len(QPS)


def run_args(data, out, *extra):
    return ["run", "coco-tiny-cc-ssd", "--data", str(data), "--preset", "faster", "--qps", ",".join(map(str, QPS)),
            "--limit", str(LIMIT), "--quiet", "--out", str(out), *extra]


def make_serial_run(tmp_path_factory):
    """The ``--jobs 1`` run every cluster run is compared with: (data folder, run directory); skips the calling
    test when the data is absent."""
    data = Path(os.environ.get("VCMBENCH_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "data" / "coco-tiny-cc"
    if not data.exists():
        pytest.skip(f"test data {data} is absent")
    from vcmbench.cli import cli

    out = tmp_path_factory.mktemp("serial") / "run"
    res = CliRunner().invoke(cli, run_args(data, out, "--jobs", "1"))
    assert res.exit_code == 0, res.output
    return data, out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalDask:
    """``dask scheduler`` and ``dask worker`` processes, as the README's way 2 starts them."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler: subprocess.Popen | None = None
        self.worker_groups: list[subprocess.Popen] = []

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        try:
            return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        finally:
            log.close()

    def start_scheduler(self, timeout: float = 60) -> None:
        self.scheduler = self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                                   "--dashboard-address", ":0"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler exited: {(self.logs / 'scheduler.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dask scheduler not listening after {timeout} s")

    def start_workers(self, n: int = 2) -> None:
        self.worker_groups.append(self._start(f"workers{len(self.worker_groups)}",
                                              [DASK, "worker", self.address, "--nworkers", str(n), "--nthreads", "1"]))

    def wait_workers(self, n: int, timeout: float = 120) -> None:
        from distributed import Client

        with Client(self.address, timeout=30) as c:
            c.wait_for_workers(n, timeout=timeout)

    def kill_scheduler(self) -> None:
        if self.scheduler is not None:
            _killpg(self.scheduler)
            self.scheduler = None

    def close(self) -> None:
        for p in self.worker_groups:
            _killpg(p)
        self.worker_groups.clear()
        self.kill_scheduler()


def _killpg(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def same_run(a: Path, b: Path, total: int, bitstreams: int) -> None:
    """``b`` holds exactly the results of ``a``: result set, records' bits and verdicts, predictions, bitstreams."""
    ra = json.loads((a / "resultset.json").read_text())
    rb = json.loads((b / "resultset.json").read_text())
    assert _comparable(ra) == _comparable(rb) and ra["signature"] == rb["signature"]
    rows_a, rows_b = _rows(a), _rows(b)
    assert sorted(rows_a) == sorted(rows_b) and len(rows_b) == total  # nothing lost, nothing duplicated
    for job_id, (rec_a, pred_a) in rows_a.items():
        rec_b, pred_b = rows_b[job_id]
        for key in ("bits", "verified", "verdict", "coded_width", "coded_height"):
            assert rec_a.get(key) == rec_b.get(key), (job_id, key)
        assert (rec_a.get("extra") or {}).get("bitstream_sha256") == (rec_b.get("extra") or {}).get("bitstream_sha256")
        assert "awaiting_score" not in (rec_b.get("extra") or {})
        assert pred_a == pred_b, job_id
    bs_a = {p.name: p.read_bytes() for p in (a / "bitstreams").iterdir()}
    bs_b = {p.name: p.read_bytes() for p in (b / "bitstreams").iterdir()}
    assert bs_a == bs_b and len(bs_b) == bitstreams
