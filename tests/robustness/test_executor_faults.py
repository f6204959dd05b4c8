"""Dask connections and cluster starts end in a message and an exit code, never a hang (issue 26): a job
queue whose submit command is not on PATH is refused at once; a scheduler address with an unknown scheme, a
port nobody listens on, a server that says nothing and one that speaks another protocol are refused within
the connect timeout."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.unit._hostile import invoke
from vcmbench.core.errors import UsageError
from vcmbench.run import dask_executor
from vcmbench.run.dask_executor import DaskExecutor, check_scheduler

pytest.importorskip("distributed")


@pytest.fixture
def server():
    """``server(greeting)``: a TCP server on localhost that accepts and sends ``greeting`` (b"": nothing);
    its ``tcp://`` address."""
    socks: list[socket.socket] = []
    stop = threading.Event()

    def make(greeting: bytes) -> str:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        s.settimeout(0.2)
        socks.append(s)

        def serve():
            while not stop.is_set():
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                socks.append(c)
                if greeting:
                    c.sendall(greeting)

        threading.Thread(target=serve, daemon=True).start()
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"

    yield make
    stop.set()
    for s in socks:
        s.close()


@pytest.mark.parametrize("kind,cmd", [("slurm", "sbatch"), ("pbs", "qsub"), ("lsf", "bsub")])
def test_a_cluster_without_its_submit_command_is_refused_at_once(kind, cmd, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no batch system here
    t0 = time.monotonic()
    with pytest.raises(UsageError, match=f"`{cmd}`, which is not on PATH"):
        DaskExecutor(1, cluster=kind)
    assert time.monotonic() - t0 < 5
    r = invoke(["run", "coco-tiny-cc-ssd", "--out", tmp_path / "out", "--executor", "dask", "--cluster", kind])
    assert r.exit_code == 2 and cmd in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()  # refused before anything was made


@pytest.mark.parametrize("greeting,said", [(b"", "sent no Dask handshake within 1 s"),
                                           (b"SSH-2.0-OpenSSH_9.6\r\n", "does not speak the Dask protocol"),
                                           (b"\x05\x00\x00\x00\x00\x00\x00\x00ab", "sent no Dask handshake within 1 s")])
def test_a_silent_or_foreign_server_on_the_scheduler_port_is_refused_within_the_timeout(greeting, said, server):
    addr = server(greeting)
    t0 = time.monotonic()
    with pytest.raises(UsageError, match=said):
        DaskExecutor(1, scheduler=addr, connect_timeout=1.0)
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("address,said", [("junk://x:1", "unknown address scheme 'junk'"),
                                          ("tcp://127.0.0.1", "is not tcp://HOST:PORT"),
                                          ("tcp://localhost:99999", "is not tcp://HOST:PORT")])
def test_a_junk_scheduler_address_is_refused(address, said):
    with pytest.raises(UsageError, match=said):
        check_scheduler(address, 1.0)


def test_cli_scheduler_faults_end_in_exit_2_without_a_traceback(server, tmp_path, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 1.0)
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    refused = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    free.close()  # nobody listens there now
    for addr, said in [(server(b""), "sent no Dask handshake"), ("junk://scheduler:8786", "unknown address scheme"),
                       (refused, "Cannot reach the Dask scheduler")]:
        t0 = time.monotonic()
        r = invoke(["run", "coco-tiny-cc-ssd", "--out", tmp_path / "out", "--executor", "dask", "--scheduler", addr])
        assert r.exit_code == 2 and said in r.output, r.output
        assert time.monotonic() - t0 < 10
    assert not (tmp_path / "out").exists()


def test_a_real_scheduler_passes_the_check():
    """The control: a Dask scheduler answers the probe with its handshake."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster:
        check_scheduler(cluster.scheduler_address, 5.0)
