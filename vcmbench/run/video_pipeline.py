"""The video pipeline: a sequence condition + its data -> (sequence x QP) jobs -> run directory -> video results.

``run_video`` is ``run.pipeline.run_condition`` for a video condition (``Condition.is_sequences``; that
function hands over to it): it plans one reference job per sequence and one job per (sequence, QP)
(``run.video_plan``), skips the jobs already in the run's store (a stored job whose bitstream is gone or altered
is redone, as for pictures), runs the rest on an ``Executor`` (serial, local processes or Dask: one job = one
whole sequence at one QP), stores each result as it arrives, writes ``errors.json`` and ``run.json``, then
builds the video results (``run.video_results.build_video_results``: per sequence, per class, Overall).

A sequence job keeps its finished encoder segments under ``RUNDIR/partial/<job_id>`` while it runs
(``coding.sequence.encode_sequence``): a run killed in the middle of a long VTM job restarts that job from its
finished segments; the folder goes once the job is stored.  A run removes the folders of jobs it does not plan
(QPs, settings or data changed: no run of these options can resume them) and says so in ``RunSummary.notes``;
a run of part of the condition's sequences (``--sequence``, ``--limit``) removes only those of the sequences it
runs (by the previous ``run.json``), keeping the other sequences' resume state.

Storage (what ``run.video_results`` reads): ``run.json`` holds the image run's keys plus ``video: true``,
``sequences`` (each ``SequenceRef``'s fields; ``images`` stays empty), ``classes`` (class -> sequence names, the
optional sets applied: the condition's classes, so a class missing a sequence of this run is reported as
incomplete rather than scored over part of it), ``qps_by_sequence``, ``structure``, ``sets``, ``split``; store
rows are ``code`` (sequence name, scale 1.0, QP) and ``reference`` (sequence name), the record and the
predictions as ``run.sequence_jobs`` describes.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Sequence

from .. import RESULTS_VERSION
from ..conditions import Condition, load_condition
from ..core.errors import UsageError, VcmbenchError
from ..core.jsonio import read_json
from .execute import execute_job
from .executor import TASK_PRELOAD, make_executor
from .jobs import KIND_FEATURE_SEQUENCE, KIND_SEQUENCE, KIND_SEQUENCE_REFERENCE, JobSpec
from .progress import ProgressEvent
from .run_common import DECODER_POLICY, RunSummary, _check_same_run, _collect_env, _write_errors, default_label
from .sequence_jobs import PARTIAL_DIR, remove_partial, remove_stale_partials
from .store import RunStore
from .video_plan import VideoPlan, VideoRunOptions, make_video_plan
from .video_results import build_video_results

CODE_KINDS = (KIND_SEQUENCE, KIND_FEATURE_SEQUENCE)  # stored as "code" rows

__all__ = ["VideoRunOptions", "run_video", "run_condition_video", "video_run_json"]


def run_condition_video(cond: Condition, data_dir: str | Path | None, out_dir: str | Path, *,
                        scales: Sequence[float] | None = None, phase: str = "all", **options: Any) -> RunSummary:
    """``run_condition``'s arguments for a video condition: ``scales`` and split ``phase`` do not apply
    (a sequence is coded at its own size, in one job) and are refused; the rest become ``VideoRunOptions``."""
    if scales:
        raise UsageError(f"Condition {cond.name} is a video condition: sequences are coded at their own size; "
                         "leave out --scales.")
    if phase != "all":
        raise UsageError(f"Condition {cond.name} is a video condition: split phases (--phase) apply to image "
                         "conditions; run it without --phase.")
    return run_video(cond, data_dir, out_dir, VideoRunOptions(**options))


def run_video(condition: str | Path | Condition, data_dir: str | Path | None, out_dir: str | Path,
              options: VideoRunOptions | None = None) -> RunSummary:
    """Run (or resume) a video condition into ``out_dir`` and build its results (see the module docstring)."""
    opts = options or VideoRunOptions()
    cond = condition if isinstance(condition, Condition) else load_condition(condition)
    if not cond.is_sequences:
        raise UsageError(f"Condition {cond.name} is not a video condition (no dataset.sequences): use run_condition.")
    if opts.codec or opts.preset:
        cond = cond.with_overrides(codec=opts.codec, preset=opts.preset)
    if opts.qps:
        cond = cond.with_overrides(qps=[int(q) for q in opts.qps])
    t_start = time.monotonic()
    label = opts.label or default_label(cond)
    # planned before the run directory exists: a refused run (missing data, cfg, VTM...) leaves nothing behind
    plan = make_video_plan(cond, data_dir, out_dir, opts)
    with RunStore(out_dir) as store:
        _check_same_run(store, cond)
        removed = _remove_stale_partials(store, plan)  # before run.json is rewritten: it names their sequences
        store.write_meta_json("condition.json", cond.to_dict())
        env = opts.env if opts.env is not None else _collect_env(plan.options["codec_options"].get("vtm_dir"))
        store.write_meta_json("env.json", env)
        store.write_meta_json("run.json", video_run_json(plan, label, opts.command_line))
        errors: list[dict[str, Any]] = []
        counters = {"done": 0, "skipped": 0, "failed": 0, "total": len(plan.specs)}

        def emit(msg: str = "") -> None:
            if opts.progress is not None:
                opts.progress(ProgressEvent(counters["done"], counters["total"], counters["skipped"],
                                            counters["failed"], len(errors), time.monotonic() - t_start, msg,
                                            phase=label))

        own = opts.executor is None
        ex = make_executor(opts.jobs, timeout=opts.timeout, preload=TASK_PRELOAD) if own else opts.executor
        try:
            ex.check_shared_dir(store.dir)
            store.write_meta_json("run.json", video_run_json(plan, label, opts.command_line, executor=ex.describe()))
            done = store.done_ids() - store.stale_bitstreams()  # a deleted or altered bitstream is re-made
            todo = [s for s in plan.specs if s.job_id not in done]
            counters["done"] = counters["skipped"] = len(plan.specs) - len(todo)
            emit(removed)
            # feature runs: the reference jobs compute (and cache) every frame's features first, so that the code
            # jobs of all the QPs load them (features computed once per frame)
            batches = ([[s for s in todo if s.kind == KIND_SEQUENCE_REFERENCE],
                        [s for s in todo if s.kind != KIND_SEQUENCE_REFERENCE]] if cond.kind == "feature" else [todo])
            for batch in batches:
                for spec, result, err in ex.run(execute_job, batch):
                    counters["done"] += 1
                    if err is not None:
                        errors.append({"job_id": spec.job_id, "job": spec.describe, "error": err})
                    elif _store(store, spec, result):
                        counters["failed"] += 1
                    emit(spec.describe)
            retries, ex_info = ex.retries, ex.describe()
            store.write_meta_json("run.json", video_run_json(plan, label, opts.command_line, executor=ex_info))
        finally:
            if own:
                ex.close()
            _write_errors(store, errors)
        unverified = store.unverified_ids()
        failed = sum(1 for s in plan.specs if s.kind in CODE_KINDS and s.job_id in unverified)
        total, skipped = counters["total"], counters["skipped"]
        summary = RunSummary(store.dir, total, skipped, total - skipped - len(errors), failed, errors,
                             time.monotonic() - t_start, retries=retries, executor=ex_info,
                             notes=[removed] if removed else [])
        try:
            summary.result_set = build_video_results(store.dir, store=store).result_set
        except VcmbenchError as exc:  # e.g. no point could be scored: reported by the caller
            summary.result_error = str(exc)
        return summary


def _remove_stale_partials(store: RunStore, plan: VideoPlan) -> str:
    """Remove ``partial/<job_id>`` folders of jobs the plan does not hold (see the module docstring); a note naming
    them, or "" when none went."""
    names = {s.name for s in plan.sequences}
    whole = all(n in names for members in plan.classes.values() for n in members)
    keep = None
    if not whole:  # another selection of this directory may resume its own jobs: keep what is not ours
        try:
            jobs = (read_json(store.path("run.json")).get("jobs") or []) if store.path("run.json").exists() else []
            prev = {str(j.get("job_id")): j.get("image_id") for j in jobs if isinstance(j, dict)}
        except (OSError, ValueError, AttributeError, VcmbenchError):
            prev = {}
        keep = lambda job_id: prev.get(job_id) not in names  # noqa: E731
    gone = remove_stale_partials(store.dir, {s.job_id for s in plan.specs}, keep)
    if not gone:
        return ""
    return (f"removed {len(gone)} unfinished job folder(s) under {PARTIAL_DIR}/ that this run does not plan (QPs, "
            f"settings or data changed since they were started): {', '.join(gone)}")


def _store(store: RunStore, spec: JobSpec, result: dict[str, Any]) -> bool:
    """Store one finished job (the storage contract in the module docstring); True when its bitstream did not
    verify.  A stored sequence job's finished segments are removed."""
    rec = result["record"]
    if spec.kind == KIND_SEQUENCE_REFERENCE:
        store.put(spec.job_id, "reference", spec.image.name, None, None, rec, result["predictions"])
        return False
    rec.setdefault("extra", {})["commands"] = result.get("commands") or []
    store.put(spec.job_id, "code", spec.image.name, 1.0, spec.qp, rec, result["predictions"])
    store.append_commands(spec.job_id, result.get("commands") or [])
    remove_partial(store.dir, spec.job_id)
    return not rec["verified"]


def video_run_json(plan: VideoPlan, label: str, command_line: Sequence[str] | None, **more: Any) -> dict[str, Any]:
    """``run.json`` of a video run (the image run's keys, ``images`` empty, plus the video keys)."""
    cond = plan.condition
    qps = sorted({q for v in plan.qps_by_sequence.values() for q in v})
    jobs = [{"job_id": s.job_id, "kind": "reference" if s.kind == KIND_SEQUENCE_REFERENCE else "code",
             "image_id": s.image.name, "scale": None if s.kind == KIND_SEQUENCE_REFERENCE else 1.0,
             "qp": None if s.kind == KIND_SEQUENCE_REFERENCE else s.qp} for s in plan.specs]
    return {
        "condition": cond.name, "condition_version": cond.version, "overrides": list(cond.overrides),
        "label": label, "codec": cond.codec["name"], "codec_signature": plan.codec_signature,
        "task": cond.task["network"], "task_signature": plan.task_signature, "qps": qps, "scales": [1.0],
        "images": [], "video": True, "sequences": [dataclasses.asdict(s) for s in plan.sequences],
        "classes": plan.classes, "qps_by_sequence": plan.qps_by_sequence, "structure": plan.structure,
        "sets": plan.sets, "split": plan.split, "jobs": jobs,
        "command_line": list(command_line) if command_line else None, "decoder_policy": DECODER_POLICY,
        "results_version": RESULTS_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **plan.options, **more,
    }
