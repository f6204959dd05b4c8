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

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _encode_str
from pathlib import Path
from typing import Any, Sequence

from .. import RESULTS_VERSION
from ..conditions import Condition, load_condition
from ..conditions.datasets import ImageRef, list_images
from ..core.errors import ConditionError, UsageError, VcmbenchError
from ..core.jsonio import write_json
from .execute import execute_job
from .executor import TASK_PRELOAD, Executor, make_executor
from .jobs import KIND_CODE, KIND_FEATURE, KIND_REFERENCE, JobSpec, get_cached_codec
from .network_facts import network_facts
from .progress import ProgressCallback, ProgressEvent
from .store import RunStore

SUPPORTED_METRICS = ("coco-ap", "oid-challenge", "cityscapes-ap")
PHASES = ("all", "encode", "score")


@dataclass
class RunSummary:
    run_dir: Path
    total: int
    skipped: int
    ran: int
    not_verified: int
    errors: list[dict[str, Any]]
    seconds: float
    result_set: Any = None  # records.ResultSet, or None when no point could be scored
    result_error: str = ""
    phase: str = "all"
    retries: int = 0  # jobs started again after their worker died
    executor: dict[str, Any] = field(default_factory=dict)  # Executor.describe()


@dataclass
class RunPlan:
    condition: Condition
    images: list[ImageRef]
    specs: list[JobSpec]
    codec_signature: str
    task_signature: str
    options: dict[str, Any] = field(default_factory=dict)


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _dumps_value(v: Any) -> str:
    """``json.dumps(v, sort_keys=True, default=str)``, without building an encoder for a plain str, int or float."""
    t = type(v)
    if t is str:
        return _encode_str(v)
    if t is int or (t is float and math.isfinite(v)):
        return repr(v)  # what json writes for them
    return json.dumps(v, sort_keys=True, default=str)


class _KeyHash:
    """``_hash({**const, **values})`` for the many jobs of a plan: the constant entries are serialised once and
    only the varying ones per job, into the same bytes as ``json.dumps(..., sort_keys=True)`` (the same job ids);
    a 120,000-job plan spent most of its time serialising the same codec, task and condition parts."""

    def __init__(self, const: dict[str, Any], varying: Sequence[str]) -> None:
        self.varying: list[str] = []
        self.fixed = [""]  # the text between the varying values
        for n, k in enumerate(sorted({*const, *varying})):
            self.fixed[-1] += (", " if n else "") + json.dumps(k) + ": "
            if k in varying:
                self.varying.append(k)
                self.fixed.append("")
            else:
                self.fixed[-1] += _dumps_value(const[k])

    def __call__(self, **values: Any) -> str:
        parts = ["{"]
        for fixed, k in zip(self.fixed, self.varying):
            parts += (fixed, _dumps_value(values[k]))
        parts += (self.fixed[-1], "}")
        return hashlib.sha256("".join(parts).encode()).hexdigest()[:20]


def _codec_options(cond: Condition, codec_options: dict[str, Any] | None, data_dir: str | Path | None) -> dict[str, Any]:
    c = cond.codec
    opts = dict(codec_options or {})
    if c["name"] == "vvenc":
        opts.setdefault("preset", c.get("preset") or "medium")
    if c["name"] == "vtm":
        opts.setdefault("expected_version", str(c.get("version") or "12.0"))
        if c.get("cfg"):
            opts["cfg"] = str(resolve_cfg(cond, opts.get("cfg"), opts.get("vtm_dir"), data_dir))
    if c.get("encode"):  # a codec given by command templates (coding.codecs.template)
        opts.update(template_options(cond, data_dir))
    return opts


def template_options(cond: Condition, data_dir: str | Path | None) -> dict[str, Any]:
    c = cond.codec
    opts = {"tool": c["name"], "encode": c["encode"], "decode": c.get("decode"),
            "version_command": c.get("version_command"), "bitstream_format": c.get("bitstream_format", "vvc")}
    if c.get("cfg"):
        from ..core.hashing import md5_file

        ref = c["cfg"]
        cands = [Path(data_dir) / ref["file"]] if data_dir else []
        if cond.path is not None:
            cands.append(Path(cond.path).parent / ref["file"])
        path = next((p for p in cands if p.is_file()), None)
        if path is None or (ref.get("md5") and md5_file(path) != ref["md5"]):
            raise ConditionError(f"Condition {cond.name} needs the codec cfg {ref['file']} (md5 {ref.get('md5')}) in the "
                                 "data directory or beside the condition file.")
        opts["cfg"] = str(path)
    return opts


def resolve_cfg(cond: Condition, given: str | None, vtm_dir: str | None, data_dir: str | Path | None) -> Path:
    """The VTM cfg file the condition names, checked against its md5 (looked up by
    ``coding.codecs.vtm_apps.find_vtm_cfg``, the one place that decides where)."""
    from ..coding.codecs.vtm_apps import find_vtm_cfg
    from ..core.errors import CodecError

    ref = cond.codec["cfg"]
    try:
        return find_vtm_cfg(ref["file"], given, vtm_dir, data_dir, md5=ref.get("md5"), what=f"Condition {cond.name}")
    except CodecError as exc:
        raise ConditionError(str(exc)) from None


def _encode_settings(cond: Condition) -> dict[str, Any]:
    c = cond.codec
    return {"internal_bit_depth": int(c["internal_bit_depth"]), "preset": c.get("preset") or "medium",
            "loop_filter": bool(c.get("loop_filter", True)), "extra_args": tuple(c.get("extra_args") or ()),
            "threads": 1}


def task_options_for(cond: Condition, task_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The options the pipeline builds the condition's task network with (cross-check uses the same)."""
    t = cond.task
    opts = {"score_threshold": float(t.get("score_threshold", 0.05)), "max_detections": int(t.get("max_detections", 100)),
            "threads": 1}  # single-threaded inference: results do not depend on --jobs
    opts.update(task_options or {})
    return opts


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


def feature_settings(cond: Condition, task: Any = None) -> dict[str, Any]:
    """The feature section as job settings (see vcmbench.features.packing for the conventions).

    With the built ``task``, each coded layer's tiling is checked against the channel count the
    network publishes (``feature_info``)."""
    f = cond.section("feature")
    if cond.codec["chroma_format"] != 400 or int(f.get("quant_bits", 10)) > int(cond.codec["internal_bit_depth"]):
        raise ConditionError(f"Condition {cond.name}: feature pictures are coded as 4:0:0 at the quantisation bit depth; "
                             "set codec.chroma_format 400 and quant_bits <= internal_bit_depth.")
    side = (cond.section("rate").get("side_info") or f.get("side_info") or "none")
    rng = f["quant_range"]
    out = {"split": cond.task.get("split_point"), "layers": list(f["coded_layers"]),
           "tiling": {k: list(v) for k, v in f["tiling"].items()}, "bits": int(f.get("quant_bits", 10)),
           "range": {"mode": rng["mode"], **({"min": float(rng["min"]), "max": float(rng["max"])}
                                              if rng["mode"] == "fixed" else {})},
           "formula": f.get("quant_formula", "seed-eq1"), "scale": f.get("quant_scale"), "rounding": f["rounding"],
           "header_bits": int((f.get("header") or {}).get("bits", 0)),
           "derived": sorted((f.get("derived_layers") or {})), "side_info": side}
    if task is not None:
        check_tiling(cond, task, out)
    return out


def check_tiling(cond: Condition, task: Any, feature: dict[str, Any]) -> None:
    """Each coded layer's tiling holds exactly the channels the network gives it (ConditionError otherwise)."""
    info_fn = getattr(task, "feature_info", None)
    info = info_fn() if callable(info_fn) else {}
    layers = tuple(getattr(task, "feature_layers", ()) or ())
    for name in feature["layers"]:
        if layers and name not in layers:
            raise ConditionError(f"Condition {cond.name} codes layer {name!r}, but {cond.task['network']!r} gives "
                                 f"{', '.join(layers)}; fix feature.coded_layers.")
        shape = ((info or {}).get(name) or {}).get("shape")
        if shape:
            w, h = feature["tiling"][name]
            if w * h != int(shape[0]):
                raise ConditionError(f"Condition {cond.name}: tiling {w}x{h} of layer {name!r} holds {w * h} tiles, but "
                                     f"{cond.task['network']!r} gives it {shape[0]} channels ({'x'.join(map(str, shape))}); "
                                     "fix feature.tiling so that tiles_wide * tiles_high equals the channel count.")


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


DECODER_POLICY = ("every installed decoder must decode the stream to identical pictures: PyAV and FFmpeg for "
                  "VVC streams, VTM DecoderApp too when VTM is configured (--vtm-dir / VCMBENCH_VTM_DIR); a "
                  "template codec's own decoder; any disagreement or rejection: not verified")


def default_decoders(codec: str, codec_options: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The decoders a run verifies with (``DECODER_POLICY``; recorded in run.json and the job ids) — and the
    default of ``vcmbench crosscheck`` (``codec=""``: any VVC stream): PyAV and FFmpeg, plus VTM's DecoderApp when
    VTM is configured.  A configured VTM folder that does not hold DecoderApp is refused (``CodecSetupError``,
    exit 2) rather than silently left out."""
    import os

    opts = codec_options or {}
    if codec == "template":
        own = (opts["decode"],) if opts.get("decode") else ()
        return (("pyav", "ffmpeg") + own) if opts.get("bitstream_format", "vvc") == "vvc" else own
    decs: tuple[str, ...] = ("pyav", "ffmpeg")
    if codec == "vtm" or opts.get("vtm_dir") or os.environ.get("VCMBENCH_VTM_DIR"):
        from ..coding.codecs.vtm_apps import find_vtm_binary

        find_vtm_binary("DecoderApp", opts.get("vtm_dir"))
        decs += ("vtm",)
    return decs


def run_condition(condition: str | Path | Condition, data_dir: str | Path | None, out_dir: str | Path, *,
                  codec: str | None = None, qps: Sequence[int] | None = None, scales: Sequence[float] | None = None,
                  limit: int | None = None, jobs: int | None = None, label: str | None = None,
                  codec_options: dict[str, Any] | None = None, task_options: dict[str, Any] | None = None,
                  decoders: Sequence[str] | None = None, executor: Executor | None = None,
                  progress: ProgressCallback | None = None, command_line: Sequence[str] | None = None,
                  env: dict[str, Any] | None = None, phase: str = "all", timeout: float | None = None) -> RunSummary:
    """Run (or resume) a condition into ``out_dir`` and build its result set (see module docstring).

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


def _write_errors(store: RunStore, errors: list[dict[str, Any]]) -> None:
    """``errors.json``; a disk fault is a :class:`StorageError` (the jobs it lists are redone on resume anyway)."""
    from ..core.storage import is_storage_fault, storage_error

    try:
        write_json(store.path("errors.json"), errors)
    except OSError as exc:
        if is_storage_fault(exc):
            raise storage_error(exc, f"writing {store.path('errors.json')}") from None
        raise


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


def _check_same_run(store: RunStore, cond: Condition) -> None:
    """Refuse to mix two different conditions / codecs in one run directory."""
    p = store.path("condition.json")
    if not p.exists() or store.count() == 0:
        return
    old = json.loads(p.read_text(encoding="utf-8"))
    for key in ("name", "version"):
        if old.get(key) != cond.data.get(key):
            raise UsageError(f"{store.dir} holds a run of condition {old.get('name')}@{old.get('version')}; "
                             f"this is {cond.name}@{cond.version}. Use another --out.")
    if old.get("_content_hash") != cond.to_dict()["_content_hash"]:
        raise UsageError(f"{store.dir} holds a run of {cond.name}@{cond.version} made when the condition's settings "
                         f"were different (content hash {old.get('_content_hash')} vs {cond.to_dict()['_content_hash']}): "
                         "use another --out, and bump the condition's version if its numbers can move.")
    if (old.get("codec") or {}).get("name") != cond.codec["name"]:
        raise UsageError(f"{store.dir} holds a run with codec {(old.get('codec') or {}).get('name')}; this run uses "
                         f"{cond.codec['name']}. Use another --out.")


def _collect_env(vtm_dir: str | None) -> dict[str, Any]:
    from .env import collect_env

    return collect_env(vtm_dir=vtm_dir)


def default_label(cond: Condition) -> str:
    """``vvenc-<preset>`` or the codec name."""
    c = cond.codec
    return c["name"] + (f"-{c.get('preset')}" if c["name"] == "vvenc" and c.get("preset") else "")


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
