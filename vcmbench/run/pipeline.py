"""The end-to-end pipeline: condition + dataset -> jobs -> run directory -> result set.

This is the only module that strings the stages together (DESIGN.md §2).  ``run_condition``
plans every (image, scale, QP) job plus one ``reference`` job per image (the task network on the
uncompressed image: the reference-output ground truth, and the "uncompressed" accuracy recorded in
the provenance), skips the jobs already in the run's store, executes the rest on an
``Executor`` and stores each result as it arrives, then builds ``RUNDIR/resultset.json``.

Job ids are content hashes of (image bytes, scale, QP, codec signature, encode settings, colour
mode, task signature and thresholds, condition signature, results version): a re-run with the
same inputs finds its jobs done; any change that can move a number gives new ids.

Scoring rules (documented verdicts, never silent):
* bpp of a point = Σ bits / Σ original pixels over its **verified** jobs (metrics.rate.dataset_bpp);
  accuracy is evaluated over the same images (the ground truth restricted to them).
* A job whose bitstream fails verification is stored with its verdict, counted in
  ``RatePoint.failed`` and excluded from both bpp and accuracy; the point carries a note.
* A job that raised (tool failure) is reported in ``errors.json``; a point missing any job is
  left out of the result set with a note saying why.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import RESULTS_VERSION
from ..conditions import Condition, load_condition
from ..conditions.datasets import ImageRef, list_images
from ..core.errors import ConditionError, UsageError, VcmbenchError
from .execute import execute_job
from .executor import TASK_PRELOAD, Executor, make_executor
from .feature_jobs import check_tiling, feature_settings  # noqa: F401 - shared with the video plan; importable here
from .jobs import KIND_CODE, KIND_FEATURE, KIND_REFERENCE, JobSpec, get_cached_codec
from .network_facts import network_facts
from .progress import ProgressCallback, ProgressEvent
from .run_common import (  # noqa: F401 - shared with the video pipeline; importable from here as before
    DECODER_POLICY,
    RunSummary,
    _check_same_run,
    _codec_options,
    _collect_env,
    _dumps_value,
    _encode_settings,
    _hash,
    _KeyHash,
    _write_errors,
    default_decoders,
    default_label,
    resolve_cfg,
    task_options_for,
    template_options,
)
from .store import RunStore

SUPPORTED_METRICS = ("coco-ap", "oid-challenge", "cityscapes-ap")
PHASES = ("all", "encode", "score")


@dataclass
class RunPlan:
    condition: Condition
    images: list[ImageRef]
    specs: list[JobSpec]
    codec_signature: str
    task_signature: str
    options: dict[str, Any] = field(default_factory=dict)


def check_supported(cond: Condition, task: Any = None) -> None:
    """Refuse conditions the pipeline cannot run, with the reason and the fix.  With ``task`` (the built
    network) a feature condition also needs the network to split at the condition's split point."""
    if cond.kind == "feature" and task is not None:  # (checked again once the network is built)
        split = cond.task.get("split_point")
        points = tuple(getattr(task, "split_points", ()))
        if split not in points:
            raise ConditionError(f"Condition {cond.name} is a feature condition: it needs a task network that can be "
                                 f"split at {split!r}; {cond.task['network']!r} cannot"
                                 f"{' (split points: ' + ', '.join(points) + ')' if points else ''}. "
                                 "Use a split-capable network such as detectron2.")
    if cond.metric["name"] not in SUPPORTED_METRICS:
        raise ConditionError(f"`vcmbench run` scores {', '.join(SUPPORTED_METRICS)}; {cond.metric['name']!r} is not "
                             "wired into the pipeline yet — evaluate the stored predictions with `vcmbench evaluate`.")
    if cond.ground_truth_mode == "reference-output" and cond.metric["name"] != "coco-ap":
        raise ConditionError("reference-output ground truth is scored with coco-ap; set metric.name: coco-ap.")
    if cond.metric["name"] == "cityscapes-ap" and task is not None:
        from .cityscapes_scoring import check_network

        check_network(cond, task)


def make_plan(cond: Condition, data_dir: str | Path | None, run_dir: str | Path, *, limit: int | None = None,
              codec_options: dict[str, Any] | None = None, task_options: dict[str, Any] | None = None,
              decoders: Sequence[str] | None = None) -> RunPlan:
    """Every job of the run, with content-hash ids (no work done besides hashing the images).

    A feature job's id depends on its own image and the condition's data only (the quantisation
    range is condition data): the same image gives the same job and bitstream whatever else the
    run holds."""
    from ..coding.codecs import EncodeSettings
    from ..coding.yuv import YuvFormat

    check_supported(cond)
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}.")
    images = list_images(cond, data_dir, limit)
    if not images:
        raise UsageError(f"Condition {cond.name} lists no images in {data_dir}.")
    copts = _codec_options(cond, codec_options, data_dir)
    codec_name = "template" if cond.codec.get("encode") else cond.codec["name"]
    codec = get_cached_codec(codec_name, tuple(sorted(copts.items())))  # reused by in-process jobs
    enc = _encode_settings(cond)
    chroma = 400 if cond.kind == "feature" else 420
    probe = EncodeSettings(qp=cond.qps[0], fmt=YuvFormat(16, 16, chroma, int(cond.codec.get("input_bit_depth", 8))), **enc)
    try:
        codec_sig = codec.signature(probe)
    except TypeError:
        codec_sig = codec.signature()
    topts = task_options_for(cond, task_options)
    # the network's facts (signature, split shapes, complexity) from the cache keyed by its weights' content:
    # the parent builds the network only on a miss (run.network_facts)
    task = network_facts(cond.task["network"], tuple(sorted(topts.items())))
    check_supported(cond, task)
    task_sig = task.signature()
    cond_sig = str(cond.signature())
    decs = tuple(decoders) if decoders else default_decoders(codec_name, copts)
    from ..coding.color import color_signature

    color_sig = color_signature(cond.color_mode, cond.scales) if cond.kind == "image" else cond.color_mode
    run_dir = str(Path(run_dir).resolve())
    thresholds = {k: topts[k] for k in ("score_threshold", "max_detections")}
    specs: list[JobSpec] = []
    feature = feature_settings(cond, task) if cond.kind == "feature" else None
    split = {"split_point": feature["split"]} if feature else {}  # feature runs: the reference job fills the cache
    # one tuple of each kind of options, shared by every spec (a CTC anchor plans 120,000 jobs)
    topts_t, copts_t, enc_t = tuple(sorted(topts.items())), tuple(sorted(copts.items())), tuple(sorted(enc.items()))
    split_t, feature_t = tuple(sorted(split.items())), (_freeze(feature) if feature is not None else None)
    ibd = int(cond.codec.get("input_bit_depth", 8))
    network, color_mode = cond.task["network"], cond.color_mode
    ref_key = _KeyHash({"kind": KIND_REFERENCE, "task": task_sig, "t": thresholds, "v": RESULTS_VERSION}, ("image",))
    code_key = _KeyHash({"kind": KIND_CODE, "codec": codec_sig, "encode": enc, "color": color_sig,
                         "ibd": cond.codec.get("input_bit_depth", 8), "task": task_sig, "t": thresholds, "cond": cond_sig,
                         "decoders": decs, "v": RESULTS_VERSION}, ("image", "scale", "qp"))
    for im in images:
        key = ref_key(image=im.digest)
        specs.append(JobSpec(job_id="r" + key, kind=KIND_REFERENCE, image=im, run_dir=run_dir, task=network,
                             task_options=topts_t, signature=task_sig, extra=split_t))
    for scale in cond.scales:
        for qp in cond.qps:
            for im in images:
                if feature is not None:
                    key = _hash({"kind": KIND_FEATURE, "image": im.digest, "qp": qp, "codec": codec_sig, "encode": enc,
                                 "feature": feature, "task": task_sig, "t": thresholds, "cond": cond_sig,
                                 "decoders": decs, "v": RESULTS_VERSION})
                    specs.append(JobSpec(
                        job_id="c" + key, kind=KIND_FEATURE, image=im, run_dir=run_dir, task=cond.task["network"],
                        task_options=topts_t, scale=1.0, qp=int(qp), codec=codec_name, codec_options=copts_t,
                        encode=enc_t, input_bit_depth=10, decoders=decs, signature=codec_sig, extra=feature_t))
                    continue
                key = code_key(image=im.digest, scale=scale, qp=qp)
                specs.append(JobSpec(
                    job_id="c" + key, kind=KIND_CODE, image=im, run_dir=run_dir, task=network,
                    task_options=topts_t, scale=float(scale), qp=int(qp), codec=codec_name, codec_options=copts_t,
                    encode=enc_t, color=color_mode, input_bit_depth=ibd, decoders=decs, signature=codec_sig))
    # the QPs of one (image, scale) one after another (stable sort): a worker converts each source picture once
    rank = {im.image_id: i for i, im in enumerate(images)}
    specs.sort(key=lambda s: (0, 0) if s.kind == KIND_REFERENCE else (1, rank[s.image.image_id]))
    options = {"limit": limit, "codec_options": copts, "task_options": topts, "decoders": list(decs),
               "decoder_policy": DECODER_POLICY, "color_signature": color_sig,
               "data_dir": None if data_dir is None else str(Path(data_dir).resolve())}
    if feature is not None:
        options["feature"] = feature
    if getattr(task, "device", None):
        options["task_device"] = str(task.device)  # provenance only: never in a signature or job key
    cx = task_complexity(task)
    if cx:
        options["complexity"] = cx
    return RunPlan(cond, images, specs, codec_sig, task_sig, options)


def task_complexity(task: Any) -> dict[str, Any] | None:
    """``task.complexity()`` (front/back parameters and MACs per image) plus kMAC per input pixel, or None."""
    fn = getattr(task, "complexity", None)
    if not callable(fn):
        return None
    try:
        cx = fn()
    except NotImplementedError:
        return None
    if not cx:
        return None
    cx = json.loads(json.dumps(cx))
    px = cx.get("input_pixels")
    if px:
        cx["kmac_per_pixel"] = {part: (cx[part]["macs"] / px / 1000.0 if cx.get(part) and cx[part].get("macs") is not None
                                       else None) for part in ("front", "back")}
    return cx


def _freeze(d: dict[str, Any]) -> tuple:
    return (("json", json.dumps(d, sort_keys=True)),)


def run_condition(condition: str | Path | Condition, data_dir: str | Path | None, out_dir: str | Path, *,
                  codec: str | None = None, qps: Sequence[int] | None = None, scales: Sequence[float] | None = None,
                  limit: int | None = None, jobs: int | None = None, label: str | None = None,
                  codec_options: dict[str, Any] | None = None, task_options: dict[str, Any] | None = None,
                  decoders: Sequence[str] | None = None, executor: Executor | None = None,
                  progress: ProgressCallback | None = None, command_line: Sequence[str] | None = None,
                  env: dict[str, Any] | None = None, phase: str = "all", timeout: float | None = None) -> RunSummary:
    """Run (or resume) a condition into ``out_dir`` and build its result set (see module docstring); a video
    condition is handed to ``run.video_pipeline`` (``scales`` and ``phase`` do not apply to it).

    ``phase`` (split runs for mixed clusters): ``encode`` runs preprocessing, encoding and verification
    and keeps each verified picture's task-network input losslessly (``RUNDIR/decoded/<job_id>.png``);
    ``score`` runs the task network on those (and the reference jobs) and scores; ``all`` (default)
    does both in each job.  Job ids do not depend on the phase, and the task network sees the same
    array either way, so encode-then-score gives the same records and result set as one run.
    ``timeout``: seconds per job for the executor this function makes (``executor=None``)."""
    from .jobs import KIND_SCORE
    from .resultset import build_result_set

    if phase not in PHASES:
        raise UsageError(f"--phase must be one of {', '.join(PHASES)}; got {phase!r}.")
    cond = condition if isinstance(condition, Condition) else load_condition(condition)
    if cond.is_sequences:  # video: one job per (sequence, QP) (run.video_pipeline)
        from .video_pipeline import run_condition_video

        return run_condition_video(cond, data_dir, out_dir, codec=codec, qps=qps, scales=scales, limit=limit, jobs=jobs,
                                   label=label, codec_options=codec_options, task_options=task_options,
                                   decoders=decoders, executor=executor, progress=progress, command_line=command_line,
                                   env=env, phase=phase, timeout=timeout)
    if phase != "all" and cond.kind == "feature":
        raise UsageError(f"Condition {cond.name} is a feature condition: split phases apply to image conditions; "
                         "run it without --phase.")
    if codec:
        cond = cond.with_overrides(codec=codec)
    if qps or scales:
        cond = cond.with_overrides(qps=list(qps) if qps else None, scales=list(scales) if scales else None)
    t_start = time.monotonic()
    # planned before the run directory exists: a refused run (missing cfg, wrong VTM...) leaves nothing behind
    plan = make_plan(cond, data_dir, out_dir, limit=limit, codec_options=codec_options,
                     task_options=task_options, decoders=decoders)
    with RunStore(out_dir) as store:
        _check_same_run(store, cond)
        store.write_meta_json("condition.json", cond.to_dict())
        if env is None:
            env = _collect_env(plan.options["codec_options"].get("vtm_dir"))
        store.write_meta_json("env.json", env)
        jobs_text = _jobs_text(plan)  # the plan's job list as JSON, made once (most of run.json at CTC scale)
        store.write_meta_text("run.json", _run_json_text(plan, label, command_line, jobs_text))
        errors: list[dict[str, Any]] = []
        counters = {"done": 0, "skipped": 0, "failed": 0, "total": 0}

        def emit(msg: str = "") -> None:
            if progress is not None:
                progress(ProgressEvent(counters["done"], counters["total"], counters["skipped"], counters["failed"],
                                       len(errors), time.monotonic() - t_start, msg, phase=label or default_label(cond)))

        own = executor is None
        ex = make_executor(jobs, timeout=timeout, preload=TASK_PRELOAD) if own else executor
        try:
            ex.check_shared_dir(store.dir)
            store.write_meta_text("run.json", _run_json_text(plan, label, command_line, jobs_text, executor=ex.describe()))
            done = store.done_ids() - store.stale_bitstreams()  # a deleted or altered bitstream is re-made
            todo = _phase_jobs(store, [s for s in plan.specs if s.job_id not in done], plan.specs, phase, errors)
            counters["total"] = len(plan.specs)
            counters["done"] = len(plan.specs) - len(todo)
            counters["skipped"] = counters["done"] - len(errors)
            emit()
            # feature runs: the reference jobs compute (and cache) each image's features first, so that the
            # coded jobs of all its QPs load them (features computed once per image)
            groups = ([[s for s in todo if s.kind == KIND_REFERENCE], [s for s in todo if s.kind != KIND_REFERENCE]]
                      if cond.kind == "feature" else [todo])
            for group in groups:
                for spec, result, err in ex.run(execute_job, group):
                    counters["done"] += 1
                    if err is not None:
                        errors.append({"job_id": spec.job_id, "job": spec.describe, "error": err})
                    elif spec.kind == KIND_SCORE:
                        _store_score(store, spec, result)
                    else:
                        rec = result["record"]
                        coded = spec.kind in (KIND_CODE, KIND_FEATURE)
                        if coded:  # the exact command lines, stored with the job (commands.log is a convenience copy)
                            rec.setdefault("extra", {})["commands"] = result.get("commands") or []
                            if not rec["extra"].get("bitstream_sha256") and rec.get("bitstream"):
                                from ..core.hashing import file_digest

                                rec["extra"]["bitstream_sha256"] = file_digest(store.path(rec["bitstream"]), "sha256")
                        store.put(spec.job_id, KIND_CODE if coded else spec.kind, spec.image.image_id,
                                  spec.scale if coded else None, spec.qp if coded else None, rec, result["predictions"])
                        store.append_commands(spec.job_id, result.get("commands") or [])
                        if coded and not rec["verified"]:
                            counters["failed"] += 1
                    emit(spec.describe)
            retries, ex_info = ex.retries, ex.describe()
            store.write_meta_text("run.json", _run_json_text(plan, label, command_line, jobs_text, executor=ex_info))
        finally:
            if own:
                ex.close()
            _write_errors(store, errors)
        total, skipped = counters["total"], counters["skipped"]
        # bitstreams of this plan that did not verify, this session or an earlier one
        unverified = store.unverified_ids()  # (one pass over the records, predictions unread)
        failed = sum(1 for s in plan.specs if s.kind in (KIND_CODE, KIND_FEATURE) and s.job_id in unverified)
        del unverified
        summary = RunSummary(store.dir, total, skipped, total - skipped - len(errors), failed, errors,
                             time.monotonic() - t_start, phase=phase, retries=retries, executor=ex_info)
        if phase == "encode":
            summary.result_error = ("encode phase done: the verified pictures await `--phase score` "
                                    f"(kept under {store.path('decoded')})")
            return summary
        # the plan's 125,000 job specs and their ids (a CTC run) are let go before the result set reads the plan again
        del plan, todo, groups, done, jobs_text
        try:
            summary.result_set = build_result_set(store.dir, store=store)
        except VcmbenchError as exc:  # e.g. no point could be scored: reported by the caller
            summary.result_error = str(exc)
        return summary


def _phase_jobs(store: RunStore, todo: list[JobSpec], new: list[JobSpec], phase: str,
                errors: list[dict[str, Any]]) -> list[JobSpec]:
    """The jobs this phase runs: ``encode`` leaves the task network out (reference jobs wait for the
    score phase); ``score`` and ``all`` score the encode-phase pictures (``KIND_SCORE`` jobs);
    ``score`` cannot encode, so a picture not encoded yet is reported."""
    import dataclasses

    from .image_jobs import AWAITING_SCORE, PHASE_ENCODE
    from .jobs import KIND_SCORE

    if phase == "encode":
        return [dataclasses.replace(s, extra=(*s.extra, ("phase", PHASE_ENCODE))) for s in todo if s.kind == KIND_CODE]
    ids = {s.job_id for s in new if s.kind == KIND_CODE}
    awaiting = sorted(store.code_ids_flagged(AWAITING_SCORE) & ids)  # (the flagged rows only: not every row read)
    specs = {s.job_id: s for s in new}
    out = [dataclasses.replace(specs[jid], kind=KIND_SCORE) for jid in awaiting]
    if phase == "score":
        for s in todo:
            if s.kind == KIND_CODE:
                errors.append({"job_id": s.job_id, "job": s.describe,
                               "error": "not encoded yet: run `--phase encode` (same command) first"})
        todo = [s for s in todo if s.kind != KIND_CODE]
    return out + todo


def _store_score(store: RunStore, spec: JobSpec, result: dict[str, Any]) -> None:
    """Complete an encode-phase record with the task network's output; its kept picture is no longer needed."""
    from .image_jobs import AWAITING_SCORE, decoded_path

    rec = store.get(spec.job_id)[0]
    rec["task_seconds"] = float(result["task_seconds"])
    rec["extra"].pop(AWAITING_SCORE, None)
    store.put(spec.job_id, KIND_CODE, spec.image.image_id, spec.scale, spec.qp, rec, result["predictions"])
    decoded_path(store.dir, spec.job_id).unlink(missing_ok=True)


_JOBS_MARK = "\x00vcmbench:jobs\x00"  # where _run_json_text splices the job list in


def _jobs_text(plan: RunPlan) -> str:
    """The ``jobs`` list of run.json as JSON text, one job a line."""
    return "[\n" + ",\n".join(json.dumps({"job_id": s.job_id, "kind": KIND_CODE if s.kind == KIND_FEATURE else s.kind,
                                             "image_id": s.image.image_id, "scale": s.scale, "qp": s.qp})
                                 for s in plan.specs) + "\n]"


def _run_json_text(plan: RunPlan, label: str | None, command_line: Sequence[str] | None, jobs_text: str,
                   **more: Any) -> str:
    """run.json (``_run_json`` plus ``more``) with the job list given as text: a 120,000-job run writes run.json three
    times, and building its 120,000 job objects for each write would cost time and memory."""
    from ..core.jsonio import dumps

    text = dumps({**_run_json(plan, label, command_line, jobs=_JOBS_MARK), **more})
    return text.replace(json.dumps(_JOBS_MARK), jobs_text, 1)


def _run_json(plan: RunPlan, label: str | None, command_line: Sequence[str] | None, jobs: Any = None) -> dict[str, Any]:
    """run.json; ``jobs`` (default: the plan's job list) stands in for the list (see ``_run_json_text``)."""
    cond = plan.condition
    c = cond.codec
    return {
        "condition": cond.name, "condition_version": cond.version, "overrides": list(cond.overrides),
        "label": label or default_label(cond), "codec": c["name"], "codec_signature": plan.codec_signature,
        "task": cond.task["network"], "task_signature": plan.task_signature, "qps": cond.qps,
        "scales": cond.scales, "images": [im.__dict__ for im in plan.images],
        "jobs": [{"job_id": s.job_id, "kind": KIND_CODE if s.kind == KIND_FEATURE else s.kind,
                  "image_id": s.image.image_id, "scale": s.scale, "qp": s.qp}
                 for s in plan.specs] if jobs is None else jobs,
        "command_line": list(command_line) if command_line else None,
        "results_version": RESULTS_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **plan.options,
    }
