"""Pipeline benchmark: the toolkit's own overhead, the --jobs 2 speed-up, Dask vs the local pool.

Usage:  python benchmarks/bench_pipeline.py [--images N] [--qps 32,42] [--preset faster] [--out DIR] [--no-dask]

Runs the `demo` condition (scikit-image photographs, SSD-MobileNetV2, VVenC, 100 % scale) from
scratch with --jobs 1, --jobs 2 (local pool) and --executor dask --jobs 2 (a LocalCluster of 2
single-threaded workers, its start-up included), and prints:

* overhead fraction (jobs 1) = (wall - codec time - network time) / wall, where codec time is the
  encoder processes plus verification/decoding, and network time the task network's inference
  (compressed and reference jobs); everything else — image loading, CTC pad/scale and colour
  conversion, scheduling, storing, scoring — is the toolkit's overhead;
* speed-up = wall(jobs 1) / wall(jobs 2) (ideal 2.0 on 2 free cores);
* Dask throughput relative to the pool = wall(pool, 2) / wall(dask, 2) (target >= 0.9).

Timings on a shared machine are noisy: the load average is printed before each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def _stage_seconds(run_dir: Path) -> dict[str, float]:
    db = sqlite3.connect(str(run_dir / "results.sqlite"))
    out = {"encode": 0.0, "verify_decode": 0.0, "network": 0.0, "pre_post": 0.0}
    for kind, rec in db.execute("SELECT kind, record FROM jobs"):
        r = json.loads(rec)
        out["network"] += r.get("task_seconds", 0.0)
        if kind == "code":
            out["encode"] += r["encode_seconds"]
            out["verify_decode"] += r["decode_seconds"]
            out["pre_post"] += r["extra"].get("preprocess_seconds", 0.0) + r["extra"].get("postprocess_seconds", 0.0)
    db.close()
    return out


def run_once(out: Path, jobs: int, images: int, qps: list[int], preset: str,
             executor: str = "local") -> tuple[float, dict[str, float], float]:
    from vcmbench.conditions import load_condition
    from vcmbench.demo import with_preset
    from vcmbench.run.executor import make_executor
    from vcmbench.run.pipeline import run_condition

    shutil.rmtree(out, ignore_errors=True)
    cond = with_preset(load_condition("demo"), preset)
    print(f"  [{executor} jobs {jobs}: load average {os.getloadavg()[0]:.2f}]", flush=True)
    t0 = time.perf_counter()
    with make_executor(jobs, executor) as ex:
        started = time.perf_counter() - t0
        s = run_condition(cond, None, out, qps=qps, scales=[1.0], limit=images, executor=ex)
        wall = time.perf_counter() - t0
    print(f"  [{executor} jobs {jobs}: executor start-up {started:.2f} s of wall {wall:.2f} s]", flush=True)
    if s.errors or s.result_set is None:
        raise SystemExit(f"benchmark run failed: {s.errors[:1] or s.result_error}")
    return wall, _stage_seconds(out), started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--qps", default="22,32,42")
    ap.add_argument("--preset", default="faster")
    ap.add_argument("--out", default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    args = ap.parse_args(argv)
    qps = [int(q) for q in args.qps.split(",")]
    base = Path(args.out or tempfile.mkdtemp(prefix="vcmbench-bench-"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n_jobs = args.images * (len(qps) + 1)
    print(f"workload: demo condition, {args.images} images x QPs {qps} at 100 % + {args.images} reference jobs "
          f"= {n_jobs} jobs, VVenC {args.preset}; {cores} cores visible; load average {os.getloadavg()[0]:.2f}")
    w1, st1, _ = run_once(base / "jobs1", 1, args.images, qps, args.preset)
    w2, st2, _ = run_once(base / "jobs2", 2, args.images, qps, args.preset)
    codec = st1["encode"] + st1["verify_decode"]
    net = st1["network"]
    overhead = w1 - codec - net
    print(f"jobs 1: wall {w1:.2f} s = encode {st1['encode']:.2f} + verify/decode {st1['verify_decode']:.2f} "
          f"+ network {net:.2f} + toolkit {overhead:.2f} (of which CTC pad/scale + colour conversion {st1['pre_post']:.2f})")
    print(f"overhead fraction (wall - codec - network) / wall = {overhead / w1:.3f}")
    print(f"jobs 2: wall {w2:.2f} s   speed-up jobs 2 vs jobs 1 = {w1 / w2:.2f}x")
    if not args.no_dask:
        wd, _, sd = run_once(base / "dask2", 2, args.images, qps, args.preset, "dask")
        print(f"dask 2 workers: wall {wd:.2f} s   throughput relative to the pool = {w2 / wd:.2f} "
              f"({w2 / (wd - sd):.2f} without the LocalCluster's start-up of {sd:.2f} s)")
    if not args.out:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
