"""Scale benchmark: plan, run, kill, resume and summarise 1,000 / 10,000 / 120,000 jobs, measuring only the toolkit.

Usage:  python benchmarks/bench_scale.py [--sizes 1000,10000,120000] [--jobs 2] [--work DIR] [--keep]
                                         [--verify own|vvc] [--no-kill]

The workload (issue 27): a synthetic image set (N/24 distinct 32x32 PNG pictures) x 6 QPs (22..47) x 4 scales
(100/75/50/25 %) + one reference job per image, colour mode ``bt601-full-int``.  Its codec is an *instant*
template codec: a two-line POSIX shell script that copies a fixture "bitstream" prepared for the coded size and
QP (the first 3·W·H bytes are a 10-bit 4:2:0 picture, the rest padding whose length falls with the QP), decoded
by ``dd`` (``--verify own``, the default: one decoder process) — or, with ``--verify vvc``, real VVC bitstreams
made once by the bundled FFmpeg (libvvenc) and verified as every VVC run is (structure/SEI parse, PyAV and
FFmpeg).  Its network, ``bench-scale-stub``, returns stored predictions (five boxes, moved by how far the
decoded picture's mean is from the original's), so accuracy falls with QP and BD can be computed.  It is
registered in the tasks registry when this file is imported, which is also how the ``spawn``ed workers get it
(they import the parent's main module), exactly as a plug-in network registers itself.

For each size the benchmark runs, each time as a fresh ``vcmbench run`` process in its own process group
(this file's ``--vcmbench`` mode: the real CLI, with timers wrapped around ``make_plan``, ``RunStore.put``,
the executor and ``build_result_set``):

1. from scratch, SIGKILLed (the whole process group) once half of the jobs are stored;
2. the resume, which completes the run and builds the result set;
3. a resume of the finished run (every job done): the time until it reaches its job loop is the
   "first new job" time of the target (< 60 s at 120,000 jobs);
4. the result set rebuilt from the store and BD (pchip-jvet) of the run against itself.

Printed per size: plan seconds, per-job wall and parent CPU, per-job store time, resume times, result-set and BD
seconds, peak RSS of the parent and of its largest worker; then the ratios against the targets: per-job
toolkit time flat (+-20 %) from the smallest to the largest size; parent peak RSS grows < 200 MB; a resume of
the finished largest run reaches its first new job in < 60 s.  On this shared 2-core machine wall times drift
(DESIGN.md 5.8): the parent's CPU seconds per job is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vcmbench.tasks.base import TASKS, Detections, TaskNetwork  # noqa: E402

STUB = "bench-scale-stub"
QPS = (22, 27, 32, 37, 42, 47)
SCALES = (1.0, 0.75, 0.5, 0.25)
SIDE = 32  # every synthetic picture is SIDE x SIDE
# the stored predictions: (x0, y0, x1, y1) as fractions of the picture, score, label
STORED = ((0.10, 0.10, 0.50, 0.60, 0.95, "person"), (0.55, 0.20, 0.90, 0.70, 0.90, "car"),
          (0.20, 0.60, 0.45, 0.95, 0.80, "dog"), (0.60, 0.65, 0.95, 0.95, 0.70, "person"),
          (0.05, 0.70, 0.25, 0.90, 0.50, "cat"))
ORIGINAL_MEAN = 128.0


class ScaleStub(TaskNetwork):
    """Stored predictions, moved by |mean - 128| / 37.5 pixels: deterministic, accuracy falls with QP."""

    name = STUB
    task_type = "detection"
    classes = ("person", "car", "dog", "cat")

    def __init__(self, score_threshold: float = 0.05, max_detections: int = 100, threads: int = 1, **_: object):
        super().__init__(score_threshold, max_detections)

    def signature(self) -> str:
        return f"{STUB}#1"

    def run(self, rgb: np.ndarray) -> Detections:
        h, w = rgb.shape[:2]
        d = abs(float(rgb.mean()) - ORIGINAL_MEAN) / 37.5  # 0 .. 2 pixels from QP 22 to 47
        boxes, scores, labels = [], [], []
        for x0, y0, x1, y1, s, lab in STORED:
            boxes.append([x0 * w + d, y0 * h + d, x1 * w + d, y1 * h + d])
            scores.append(s)
            labels.append(lab)
        return Detections(boxes, scores, labels, None, (w, h))


if STUB not in TASKS.names():
    TASKS.register(STUB)(ScaleStub)


# ---------------------------------------------------------------------------------------------- the data
def coded_size(scale: float) -> tuple[int, int]:
    """The CTC coded size of a SIDE x SIDE picture (DESIGN.md 5.1 formulas)."""
    import math

    if scale == 1.0:
        return SIDE, SIDE
    k = {0.75: 3 / 8, 0.5: 1 / 4, 0.25: 1 / 8}[scale]
    return math.ceil(SIDE * k) * 2, math.ceil(SIDE * k) * 2


def make_data(root: Path, images: int) -> Path:
    """``images`` distinct 32x32 PNGs (mean 128, each with its own pattern) and the list naming them."""
    from PIL import Image

    d = root / f"data-{images}"
    if (d / "list.txt").is_file():
        return d
    (d / "images").mkdir(parents=True, exist_ok=True)
    names = []
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    for i in range(images):
        rng = np.random.default_rng(i)
        base = 128 + 40 * np.sin((xx + i % 7) / (2 + i % 5)) * np.cos((yy + i % 11) / (3 + i % 3))
        rgb = np.clip(base[..., None] + rng.integers(-8, 9, (SIDE, SIDE, 3)), 0, 255).astype(np.uint8)
        name = f"img{i:06d}.png"
        Image.fromarray(rgb).save(d / "images" / name)
        names.append(name)
    (d / "list.txt").write_text("\n".join(names) + "\n")
    return d


def make_codec(root: Path, verify: str) -> dict:
    """The instant codec's fixtures and templates (see the module docstring)."""
    fx = root / f"codec-{verify}"
    fx.mkdir(parents=True, exist_ok=True)
    for scale in SCALES:
        w, h = coded_size(scale)
        for qp in QPS:
            level = 512 + 12 * (qp - 22)  # 10-bit grey level of the "decoded" picture: further from 512 as QP grows
            pic = np.full(w * h * 3 // 2, level, dtype="<u2").tobytes()
            if verify == "own":
                pad = bytes(w * h * (52 - qp) // 4)
                (fx / f"q{qp}_{w}x{h}.bin").write_bytes(pic + pad)
            else:
                yuv = fx / f"q{qp}_{w}x{h}.yuv"
                yuv.write_bytes(pic)
                _vvc_fixture(yuv, fx / f"q{qp}_{w}x{h}.bin", w, h, qp)
    script = fx / "instant-codec.sh"
    script.write_text('#!/bin/sh\n# instant codec for bench_scale.py: $1 input (unused), $2 output, $3 QP, $4 width, $5 height\n'
                      f'exec cp "{fx}/q$3_$4x$5.bin" "$2"\n')
    script.chmod(0o755)
    out = {"name": f"instant-{verify}", "encode": f"/bin/sh {script} {{input}} {{output}} {{qp}} {{width}} {{height}}",
           "version_command": "/bin/sh -c 'echo instant-codec 1'",
           "source": "bench_scale.py instant codec (fixture copy)"}
    if verify == "own":
        out.update(bitstream_format="bench-raw",
                   decode="dd if={input} of={output} bs=3x{width} count={height} status=none")
    return out


def _vvc_fixture(yuv: Path, out: Path, w: int, h: int, qp: int) -> None:
    from vcmbench.coding.ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p10le",
                    "-s", f"{w}x{h}", "-i", str(yuv), "-frames:v", "1", "-c:v", "libvvenc", "-preset", "faster", "-qp",
                    str(qp), "-qpa", "0", "-vvenc-params", "IntraPeriod=1:IntraQPOffset=0", "-f", "vvc", "-y", str(out)],
                   check=True, timeout=120)


def make_condition(root: Path, codec: dict, images: int) -> Path:
    import yaml

    data = yaml.safe_load((ROOT / "cttc" / "demo.yaml").read_text())
    data["name"] = f"bench-scale-{codec['name']}-{images}"
    data["title"] = "bench_scale.py: synthetic pictures, instant codec, stub network"
    data["dataset"] = {"name": "bench-scale-synthetic", "source": "bench_scale.py", "image_list": {"file": "list.txt", "count": images},
                       "images": "images"}
    data["task"] = {**data["task"], "network": STUB, "source": "bench_scale.py stub (stored predictions)"}
    data["codec"] = {**{k: data["codec"][k] for k in ("input_bit_depth", "internal_bit_depth", "chroma_format")},
                     "qps": list(QPS), "scales": list(SCALES), **codec}
    data["preprocess"] = {**data["preprocess"], "color": "bt601-full-int"}
    p = root / f"{data['name']}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


# ------------------------------------------------------------------------------------- the measured process
def _child(argv: list[str]) -> None:
    """``--vcmbench STATS ARGS...``: ``vcmbench ARGS`` in this process with timers; STATS (JSON) written at exit."""
    import atexit
    import resource

    stats_path, args = argv[0], argv[1:]
    t0 = time.monotonic()
    st = {"put_seconds": 0.0, "puts": 0, "first_put": None, "plan_seconds": None, "resultset_seconds": None}

    from vcmbench.run import executor as ex_mod
    from vcmbench.run import pipeline, resultset, store

    def snapshot(event: str) -> None:
        """When ``event`` first happened (seconds since start, CPU, peak RSS so far); STATS written at once."""
        if event not in st:
            st[event], st[event + "_cpu"] = time.monotonic() - t0, time.process_time()
            st[event + "_rss_mb"] = _hwm_mb("self")
            _write(Path(stats_path), st)

    def timed(owner, name, key):
        fn = getattr(owner, name)

        def wrapper(*a, **k):
            t, c = time.monotonic(), time.process_time()
            st.setdefault(key + "_cpu_start", c)
            snapshot(key + "_start")
            try:
                return fn(*a, **k)
            finally:
                st[key] = (st[key] or 0.0) + time.monotonic() - t
                st[key + "_cpu"] = st.get(key + "_cpu", 0.0) + time.process_time() - c
        setattr(owner, name, wrapper)

    timed(pipeline, "make_plan", "plan_seconds")
    timed(resultset, "build_result_set", "resultset_seconds")  # (the pipeline imports it when it needs it)
    put = store.RunStore.put

    def put_timed(self, *a, **k):
        t = time.monotonic()
        if st["first_put"] is None:
            st["first_put"] = t - t0
        put(self, *a, **k)
        st["last_put"], st["last_put_cpu"] = time.monotonic() - t0, time.process_time()
        st["put_seconds"] += st["last_put"] - (t - t0)
        st["puts"] += 1
    store.RunStore.put = put_timed
    for cls in (ex_mod.LocalPoolExecutor, ex_mod.SerialExecutor):
        run = cls.run

        def run_timed(self, fn, items, _run=run):
            snapshot("dispatch")
            yield from _run(self, fn, items)
        cls.run = run_timed

    def dump():
        ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        st.update(wall=time.monotonic() - t0, cpu=ru.ru_utime + ru.ru_stime, rss_mb=_hwm_mb("self"),
                  child_cpu=rc.ru_utime + rc.ru_stime)
        _write(Path(stats_path), st)
    atexit.register(dump)
    from vcmbench.cli import main

    try:
        main(args)
    except SystemExit as exc:
        st["exit"] = exc.code
        raise


def _count(run_dir: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{run_dir / 'results.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def vcmbench(args: list[str], stats: Path, kill_at: int | None = None, run_dir: Path | None = None,
             log: Path | None = None, kill_after: str | None = None) -> dict:
    """Run ``vcmbench ARGS`` as this file's child in its own process group; with ``kill_at``, SIGKILL the group
    once that many jobs are stored; with ``kill_after``, once the child has recorded that event (its STATS so far
    are returned)."""
    stats.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--vcmbench", str(stats), *args]
    with open(log or os.devnull, "ab") as lf:
        proc = subprocess.Popen(cmd, stdout=lf, stderr=lf, start_new_session=True, cwd=str(ROOT))
        t = time.monotonic()
        killed = False
        workers: dict[int, float] = {}
        while proc.poll() is None:
            time.sleep(0.5)
            _worker_hwm(proc.pid, workers)
            if kill_at is not None and _count(run_dir) >= kill_at:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            if kill_after is not None and stats.is_file() and kill_after in _read(stats):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return {**_read(stats), "killed": True, "worker_rss_mb": max(workers.values(), default=None)}
        proc.wait()
        wall = time.monotonic() - t
    if killed:
        for _ in range(40):  # the workers leave when they see their parent gone (executor._watch_parent)
            if not _group_alive(proc.pid):
                break
            time.sleep(0.25)
        return {"killed": True, "wall": wall, "stored": _count(run_dir)}
    if proc.returncode != 0:
        raise SystemExit(f"vcmbench {' '.join(args)} failed ({proc.returncode}); see {log}")
    out = json.loads(stats.read_text())
    out["process_wall"] = wall
    out["worker_rss_mb"] = max(workers.values(), default=None)  # (polled every 0.5 s)
    return out


def _hwm_mb(pid: str | int) -> float | None:
    """Peak resident memory (VmHWM) of a live process in MB.  (Not ``ru_maxrss``: Linux carries the forking
    process's peak across ``exec`` into it, so a child started by a big parent would report the parent's.)"""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _worker_hwm(pgid: int, seen: dict[int, float]) -> None:
    """Update ``seen`` with the peak RSS of each live ``spawn``ed worker of the process group ``pgid``."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.getpgid(int(d.name)) != pgid or b"spawn_main" not in (d / "cmdline").read_bytes():
                continue
        except OSError:
            continue
        hwm = _hwm_mb(d.name)
        if hwm is not None:
            seen[int(d.name)] = max(hwm, seen.get(int(d.name), 0.0))


def _write(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)


def _read(stats: Path) -> dict:
    try:
        return json.loads(stats.read_text())
    except ValueError:  # being written
        return {}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def bd_seconds(run_dir: Path) -> tuple[float, float]:
    """Seconds to rebuild the result set from the store, and for BD (pchip-jvet) of the run against itself."""
    from vcmbench.bd import compare
    from vcmbench.core.errors import BDError
    from vcmbench.run.resultset import build_result_set

    t = time.monotonic()
    rs = build_result_set(run_dir, write=False)
    t_rs = time.monotonic() - t
    t = time.monotonic()
    for scale in SCALES:  # each scale's curve against itself (BD 0): the cost of BD, not a finding
        curve = [(p.bpp, p.accuracy[rs.quality_key]) for p in rs.points if p.scale == scale]
        try:  # (the stub's accuracy can be equal at the two highest QPs: the recorded remedy drops such points)
            compare(curve, curve, "pchip-jvet", remedies=("drop-nonmono",))
        except BDError as exc:
            print(f"BD at scale {scale:g}: {exc}", flush=True)
    return t_rs, time.monotonic() - t


def fill(out: Path, cond_path: Path, data: Path, template: Path) -> float:
    """The run directory of a *finished* run of the condition's plan, made without running its jobs: each job's
    row, record copy, predictions file, logs and bitstream (a hard link) are those of the job of the same kind,
    scale and QP in ``template`` (a finished run of the same workload), with the job's own id, image and file
    names.  Rows go in one transaction, files without fsync (setting up, not measured).  Returns seconds."""
    import shutil

    from vcmbench.conditions import load_condition
    from vcmbench.run.jobs import KIND_REFERENCE, bitstream_name
    from vcmbench.run.pipeline import make_plan
    from vcmbench.run.store import RunStore

    t = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    cond = load_condition(cond_path)
    plan = make_plan(cond, data, out)
    tdb = sqlite3.connect(str(template / "results.sqlite"))
    tmpl = {}
    for job_id, kind, scale, qp, rec, pred in tdb.execute("SELECT job_id, kind, scale, qp, record, predictions FROM jobs"):
        tmpl.setdefault((kind, scale, qp), (job_id, json.loads(rec), pred))
    tdb.close()
    with RunStore(out) as st:
        st.write_meta_json("condition.json", cond.to_dict())
        try:
            from vcmbench.run.pipeline import _jobs_text, _run_json_text

            st.write_meta_text("run.json", _run_json_text(plan, None, None, _jobs_text(plan)))
        except ImportError:  # (the code before issue 27, for a baseline)
            from vcmbench.run.pipeline import _run_json

            st.write_meta_json("run.json", _run_json(plan, None, None))
        rows = []
        with open(out / "commands.log", "a", encoding="utf-8") as log:
            for spec in plan.specs:
                ref = spec.kind == KIND_REFERENCE
                tid, rec, pred = tmpl[(spec.kind, None, None) if ref else ("code", spec.scale, spec.qp)]
                rec = dict(rec, job_id=spec.job_id, image_id=spec.image.image_id)
                if not ref:
                    name = bitstream_name(spec)
                    os.link(template / rec["bitstream"], out / "bitstreams" / name)
                    rec["bitstream"] = f"bitstreams/{name}"
                    logs = out / "logs" / spec.job_id
                    logs.mkdir()
                    for f in (template / "logs" / tid).iterdir():
                        os.link(f, logs / f.name)
                    for cmd in (rec.get("extra") or {}).get("commands") or []:
                        log.write(f"{spec.job_id}\t{' '.join(map(str, cmd))}\n")
                text = json.dumps(rec, sort_keys=True)
                if pred is not None:
                    (out / "predictions" / f"{spec.job_id}.json").write_text(pred)
                now = time.time()
                row = (spec.job_id, "reference" if ref else "code", spec.image.image_id, None if ref else spec.scale,
                       None if ref else spec.qp, text, pred, now)
                (out / "records" / f"{spec.job_id}.json").write_text(json.dumps(dict(zip(
                    ("job_id", "kind", "image_id", "scale", "qp", "record", "predictions", "finished"), row))))
                rows.append(row)
        st._db.execute("BEGIN IMMEDIATE")
        st._db.executemany("INSERT OR REPLACE INTO jobs (job_id, kind, image_id, scale, qp, record, predictions, finished) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        st._db.execute("COMMIT")
    return time.monotonic() - t


def one_filled(n: int, work: Path, codec: dict, template: Path) -> dict:
    """A finished run of ``n`` jobs made by ``fill``, then resumed: the time until its job loop (no job is left)
    and the parent's peak RSS up to there and up to the result set (the run is stopped when that starts: scoring
    ``n`` jobs with pycocotools takes about as long per job as at the sizes actually run)."""
    images = max(1, round(n / (len(QPS) * len(SCALES))))
    data = make_data(work, images)
    cond = make_condition(work, codec, images)
    out = work / f"run-{n}"
    total = images * (len(QPS) * len(SCALES) + 1)
    fill_s = fill(out, cond, data, template)
    args = ["run", str(cond), "--data", str(data), "--out", str(out), "--jobs", "2", "--quiet", "--json"]
    c = vcmbench(args, work / "stats-c.json", log=work / f"run-{n}.log", kill_after="resultset_seconds_start")
    return {"images": images, "jobs": total, "filled": True, "fill_s": fill_s, "plan_s": c.get("plan_seconds"),
            "done_dispatch_s": c.get("dispatch"), "done_rss_mb": c.get("dispatch_rss_mb"),
            "to_resultset_s": c.get("resultset_seconds_start"), "loop_rss_mb": c.get("resultset_seconds_start_rss_mb"),
            "dir_mb": _du(out)}


def one_size(n: int, work: Path, codec: dict, jobs: int, kill: bool) -> dict:
    images = max(1, round(n / (len(QPS) * len(SCALES))))
    data = make_data(work, images)
    cond = make_condition(work, codec, images)
    out = work / f"run-{n}"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    total = images * (len(QPS) * len(SCALES) + 1)
    args = ["run", str(cond), "--data", str(data), "--out", str(out), "--jobs", str(jobs), "--quiet", "--json"]
    log = work / f"run-{n}.log"
    res: dict = {"images": images, "jobs": total}
    if kill:
        a = vcmbench(args, work / "stats-a.json", kill_at=total // 2, run_dir=out, log=log)
        res["killed_at"] = a["stored"]
        res["first_wall"] = a["wall"]
    b = vcmbench(args, work / "stats-b.json", log=log)
    c = vcmbench(args, work / "stats-c.json", log=log)
    t_rs, t_bd = bd_seconds(out)
    ran_b = b["puts"]
    loop_cpu = b["last_put_cpu"] - b["dispatch_cpu"]  # the parent's CPU in the job loop
    res.update(
        plan_s=b["plan_seconds"], resume_dispatch_s=b["dispatch"], resume_first_put_s=b["first_put"],
        resume_jobs=ran_b, resume_wall_s=b["wall"], parent_cpu_per_job_ms=1000 * loop_cpu / max(ran_b, 1),
        wall_per_job_ms=1000 * (b["last_put"] - b["first_put"]) / max(ran_b - 1, 1),  # steady state: first to last job
        store_per_job_ms=1000 * b["put_seconds"] / max(ran_b, 1), parent_rss_mb=b["rss_mb"],
        loop_rss_mb=b["resultset_seconds_start_rss_mb"], to_resultset_s=c.get("resultset_seconds_start"),
        worker_rss_mb=b["worker_rss_mb"], worker_cpu_per_job_ms=1000 * b["child_cpu"] / max(ran_b, 1),
        resultset_in_run_s=b["resultset_seconds"],
        done_dispatch_s=c["dispatch"], done_wall_s=c["wall"], done_rss_mb=c["rss_mb"], done_plan_s=c["plan_seconds"],
        resultset_s=t_rs, bd_s=t_bd, dir_mb=_du(out))
    return res


def _du(p: Path) -> float:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20


COLUMNS = (("jobs", "jobs", "{:d}"), ("plan_s", "plan s", "{:.2f}"), ("wall_per_job_ms", "wall/job ms", "{:.2f}"),
           ("parent_cpu_per_job_ms", "parent CPU/job ms", "{:.2f}"), ("store_per_job_ms", "store/job ms", "{:.2f}"),
           ("worker_cpu_per_job_ms", "workers CPU/job ms", "{:.2f}"),
           ("resume_dispatch_s", "resume: 1st job s", "{:.2f}"), ("done_dispatch_s", "all done: job loop s", "{:.2f}"),
           ("to_resultset_s", "all done: result set starts s", "{:.2f}"),
           ("resultset_s", "result set s", "{:.2f}"), ("bd_s", "BD s", "{:.3f}"),
           ("loop_rss_mb", "parent RSS to result set MB", "{:.0f}"), ("parent_rss_mb", "parent peak RSS MB", "{:.0f}"),
           ("worker_rss_mb", "worker RSS MB", "{:.0f}"), ("dir_mb", "run dir MB", "{:.0f}"))


def report(results: list[dict]) -> str:
    lines = ["| " + " | ".join(c[1] for c in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in results:
        lines.append("| " + " | ".join(fmt.format(r[k]) if r.get(k) is not None else "-" for k, _, fmt in COLUMNS)
                     + " |" + (" (filled)" if r.get("filled") else ""))
    real = [r for r in results if not r.get("filled")]
    a, z = results[0], results[-1]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"
    lines.append("")
    if len(real) >= 2:
        ra, rz = real[0], real[-1]
        for key, what in (("wall_per_job_ms", "wall"), ("parent_cpu_per_job_ms", "parent CPU"),
                          ("store_per_job_ms", "store")):
            q = rz[key] / ra[key]
            lines.append(f"per-job {what} {rz['jobs']} / {ra['jobs']} jobs: {q:.2f} (target 0.80-1.20: {verdict(0.8 <= q <= 1.2)})")
        g = rz["parent_rss_mb"] - ra["parent_rss_mb"]
        lines.append(f"parent peak RSS (whole run, result set included) {ra['jobs']} -> {rz['jobs']} jobs: {g:+.0f} MB "
                     f"(target < 200 MB: {verdict(g < 200)})")
    if len(results) >= 2 and a.get("loop_rss_mb") and z.get("loop_rss_mb"):
        g = z["loop_rss_mb"] - a["loop_rss_mb"]
        lines.append(f"parent peak RSS up to the result set {a['jobs']} -> {z['jobs']} jobs: {g:+.0f} MB "
                     f"(target < 200 MB: {verdict(g < 200)})")
    if z.get("done_dispatch_s") is not None:
        lines.append(f"resume of the finished {z['jobs']}-job run reaches its job loop after {z['done_dispatch_s']:.2f} s "
                     f"(target < 60 s: {verdict(z['done_dispatch_s'] < 60)})")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--vcmbench":
        _child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,120000",
                    help="Job counts, comma-separated; 'fill:N' makes a finished N-job run without running it (see fill) "
                         "and measures its resume (the first size must be a real run: its jobs are the templates).")
    ap.add_argument("--template", default=None, help="A finished run of this workload whose jobs 'fill:N' copies "
                    "(default: the first size's run).")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", default=None, help="Working folder (default: a temporary one, removed unless --keep).")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--verify", choices=("own", "vvc"), default="own")
    ap.add_argument("--no-kill", action="store_true", help="Do not kill the first run half-way.")
    ap.add_argument("--json", dest="json_out", default=None, help="Also write the results to this JSON file.")
    a = ap.parse_args()
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="vcmbench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    codec = make_codec(work, a.verify)
    results = []
    for size in a.sizes.split(","):
        filled = size.startswith("fill:")
        n = int(size.removeprefix("fill:"))
        print(f"[{time.strftime('%H:%M:%S')}] {n} jobs{' (filled)' if filled else ''} (load {os.getloadavg()[0]:.2f}) ...",
              flush=True)
        if filled:
            r = one_filled(n, work, codec, Path(a.template) if a.template else work / f"run-{results[0]['requested']}")
        else:
            r = one_size(n, work, codec, a.jobs, not a.no_kill)
        r["requested"] = n
        print(json.dumps(r), flush=True)
        results.append(r)
        if a.json_out:
            Path(a.json_out).write_text(json.dumps(results, indent=1))
    print(report(results))
    if not a.work and not a.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
