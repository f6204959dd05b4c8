"""Kill a run with SIGKILL mid-way, resume it, and get exactly the results of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TOTAL = 3 + 3 * 2  # 3 reference jobs + 3 images x 2 QPs


def _cmd(data, out, jobs):
    return [sys.executable, "-m", "vcmbench", "run", "coco-tiny-cc-ssd", "--data", str(data), "--preset", "faster",
            "--qps", "37,47", "--limit", "3", "--jobs", str(jobs), "--quiet", "--out", str(out)]


def _session_members(sid):
    """Processes still alive in session ``sid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            out.append(int(stat.parent.name))
    return out


def _rows(run):
    db = sqlite3.connect(f"file:{run / 'results.sqlite'}?mode=ro", uri=True)
    try:
        return {j: (json.loads(r), p) for j, r, p in db.execute("SELECT job_id, record, predictions FROM jobs")}
    finally:
        db.close()


def _count(run):
    try:
        db = sqlite3.connect(f"file:{run / 'results.sqlite'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _comparable(rs):
    return [(p["scale"], p["qp"], p["bits"], p["pixels"], p["bpp"], p["accuracy"], p["images"], p["failed"])
            for p in rs["points"]]


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to watch the killed run's processes")
def test_sigkill_then_resume_gives_identical_results(coco_tiny, tmp_path):
    """Uninterrupted with --jobs 1; killed (SIGKILL to the main process) and resumed with --jobs 2: the
    same jobs, bits, verdicts, predictions and result set — so results do not depend on --jobs either."""
    env = dict(os.environ)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    r = subprocess.run(_cmd(coco_tiny, straight, 1), capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr

    proc = subprocess.Popen(_cmd(coco_tiny, killed, 2), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    deadline = time.monotonic() + 300
    n = 0
    while time.monotonic() < deadline and proc.poll() is None:
        n = _count(killed)
        if n >= 4:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    at_kill = _count(killed)
    assert 4 <= at_kill < TOTAL
    # the pool's workers notice the parent is gone and leave (an encoder in flight may finish first)
    deadline = time.monotonic() + 60
    while _session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _session_members(proc.pid)
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not left, f"processes of the killed run still alive: {left}"
    assert not (killed / "resultset.json").exists()

    r = subprocess.run(_cmd(coco_tiny, killed, 2), capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert f"{at_kill} cached" in r.stdout

    a = json.loads((straight / "resultset.json").read_text())
    b = json.loads((killed / "resultset.json").read_text())
    assert _comparable(a) == _comparable(b)
    assert a["signature"] == b["signature"]
    ra, rb = _rows(straight), _rows(killed)
    assert sorted(ra) == sorted(rb) and len(rb) == TOTAL  # nothing lost, nothing duplicated
    assert len({r["image_id"] for r, _ in rb.values()}) == 3
    for job_id, (rec_a, pred_a) in ra.items():
        rec_b, pred_b = rb[job_id]
        for key in ("bits", "verified", "verdict", "coded_width", "coded_height"):
            assert rec_a.get(key) == rec_b.get(key), (job_id, key)
        assert pred_a == pred_b, job_id
    bs_a = {p.name: p.read_bytes() for p in (straight / "bitstreams").iterdir()}
    bs_b = {p.name: p.read_bytes() for p in (killed / "bitstreams").iterdir()}
    assert bs_a == bs_b and len(bs_b) == TOTAL - 3
    assert list((killed / "tmp").iterdir()) == []
