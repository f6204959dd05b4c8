"""A damaged results.sqlite is detected and rebuilt exactly; run directories are created and locked
race-free; killed runs leave nothing behind (issue 13)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sqlite3
import time

import pytest

from vcmbench.core.errors import UsageError
from vcmbench.run.store import DB_FILE, RunStore, StoreCorrupt, repair_store

from ._hostile import invoke
from ._resultsets import make_anchor

N = 120


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """Durability is not under test here; fsync per file makes building a 120-job store slow."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def _make_run(run_dir):
    with RunStore(run_dir) as st:
        st._db.execute("PRAGMA synchronous=OFF")
        for k in range(N):
            job = f"job{k:04d}"
            (run_dir / "bitstreams" / f"{job}.266").write_bytes(b"\x00\x00\x01" + bytes([k % 256]) * 50)
            st.put(job, "code", f"img{k}", 1.0, 22, {"bits": 424, "bitstream": f"bitstreams/{job}.266",
                                                      "pad": "x" * 200}, {"labels": ["cat"], "k": k})
    db = sqlite3.connect(str(run_dir / DB_FILE))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _truncate(p):
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _garbage(p):
    p.write_bytes(os.urandom(64) * 100)


def _flip_page(p):
    data = bytearray(p.read_bytes())
    page = 4096
    off = 3 * page  # an interior/leaf page of the jobs table, not the header
    data[off: off + 16] = b"\xff" * 16
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _garbage, _flip_page])
def test_damaged_store_is_detected_and_says_how_to_rebuild(damage, tmp_path):
    run = tmp_path / "run"
    _make_run(run)
    damage(run / DB_FILE)
    with pytest.raises(StoreCorrupt, match="--rebuild-store"):
        RunStore(run)
    r = invoke(["results", run, "--rebuild"])
    assert r.exit_code == 2 and "damaged" in r.output and "--rebuild-store" in r.output


@pytest.mark.parametrize("damage", [_truncate, _flip_page])
def test_rebuild_keeps_exactly_the_intact_rows(damage, tmp_path):
    run = tmp_path / "run"
    _make_run(run)
    with RunStore(run) as st:
        before = {j: (rec, pred) for j, rec, pred in st.rows()}
    (run / "predictions" / "job0001.json").write_text(json.dumps({"labels": ["dog"], "k": 1}))  # disagrees
    (run / "bitstreams" / "job0002.266").unlink()  # gone
    damage(run / DB_FILE)
    fixed = repair_store(run)
    assert fixed["damaged_copy"] and os.path.exists(fixed["damaged_copy"])
    with RunStore(run) as st:
        after = {j: (rec, pred) for j, rec, pred in st.rows()}
    assert after and "job0001" not in after and "job0002" not in after
    assert all(before[j] == v for j, v in after.items())  # every kept row is exactly what was stored
    assert fixed["kept"] == len(after) and fixed["kept"] + fixed["dropped"] <= N


def _contender(run_dir, barrier, q):
    barrier.wait()
    try:
        with RunStore(run_dir):
            time.sleep(0.4)
        q.put("ran")
    except UsageError as exc:
        q.put("refused" if "Another vcmbench run" in str(exc) else f"other: {exc}")
    except Exception as exc:  # noqa: BLE001 - the test reports it
        q.put(f"crash: {type(exc).__name__}: {exc}")


def test_two_runs_started_at_the_same_instant(tmp_path):
    ctx = mp.get_context("fork")
    for k in range(5):
        run_dir = tmp_path / f"r{k}" / "deep"
        barrier, q = ctx.Barrier(2), ctx.Queue()
        ps = [ctx.Process(target=_contender, args=(run_dir, barrier, q)) for _ in range(2)]
        for p in ps:
            p.start()
        for p in ps:
            p.join(30)
        got = sorted(q.get(timeout=5) for _ in ps)
        assert got == ["ran", "refused"], got


def test_a_killed_run_leaves_no_half_written_logs(tmp_path):
    st = RunStore(tmp_path / "run")
    logs = tmp_path / "run" / "logs" / "job1"
    logs.mkdir(parents=True)
    (logs / ".encoder.log.ab12.tmp").write_text("half")
    (tmp_path / "run" / ".resultset.json.x1.tmp").write_text("half")
    (logs / "encoder.log").write_text("whole")
    with st:
        pass
    assert not (logs / ".encoder.log.ab12.tmp").exists() and not (tmp_path / "run" / ".resultset.json.x1.tmp").exists()
    assert (logs / "encoder.log").exists()


def test_verify_sweeps_folders_of_killed_processes_and_uses_the_given_tmp(tmp_path, vtm_fixtures, monkeypatch):
    from vcmbench.coding.verify import verify_bitstream

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    dead = ctx_dead_pid()
    stale = tmp_path / f"vcmbench-verify-{dead}-abc"
    stale.mkdir()
    (stale / "dec0.yuv").write_bytes(b"x")
    live = tmp_path / f"vcmbench-verify-{os.getpid()}-live"
    live.mkdir()
    v = verify_bitstream(vtm_fixtures / "texture_256x192_420_qp22.266")
    assert v.ok and not stale.exists() and live.exists()
    run_tmp = tmp_path / "runtmp"
    run_tmp.mkdir()
    seen = []
    real = tempfile.TemporaryDirectory

    def spy(*a, **kw):
        seen.append(kw.get("dir"))
        return real(*a, **kw)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", spy)
    assert verify_bitstream(vtm_fixtures / "texture_256x192_420_qp22.266", tmp_dir=run_tmp).ok
    assert seen == [run_tmp] and list(run_tmp.iterdir()) == []


def ctx_dead_pid() -> int:
    p = mp.get_context("fork").Process(target=int)
    p.start()
    p.join()
    return p.pid


@pytest.mark.parametrize("damage", [_truncate, _garbage, _flip_page])
def test_results_checks_the_store_as_run_does(damage, tmp_path):
    """Issue 26: `vcmbench results` on a damaged store (its resultset.json still there) exits 2 naming the
    rebuild, instead of showing the old result set with exit 0."""
    run = tmp_path / "run"
    _make_run(run)
    make_anchor().save(run / "resultset.json")
    assert invoke(["results", run]).exit_code == 0  # intact: the result set is shown
    damage(run / DB_FILE)
    r = invoke(["results", run])
    assert r.exit_code == 2, r.output
    assert "damaged" in r.output and "--rebuild-store" in r.output and "Traceback" not in r.output
