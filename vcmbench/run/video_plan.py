"""The plan of a video run: one reference job per sequence and one job per (sequence, QP of its ladder).

A video condition (``Condition.is_sequences``: FCM SFU-HW-Objects-v1, TVD, HiEve) codes a sequence, not
a picture (DESIGN.md §2): a job is (sequence x QP) and the frames inside it are not separate jobs.

* ``seqref`` jobs (``KIND_SEQUENCE_REFERENCE``, stored as ``reference``): the task network on every
  uncompressed evaluated frame (the reference-output ground truth, and the "uncompressed" accuracy).
* ``sequence`` jobs (``KIND_SEQUENCE``, stored as ``code``): the evaluated frames coded as ONE inter
  bitstream at one QP, verified picture by picture, every decoded frame through the task network.

The QPs of a sequence are its class's ladder (``Condition.sequence_qps``: ``dataset.qp_ladders``), or the
``--qps`` override for every sequence.  Job ids are content hashes (as the image plan's, ``run_common._KeyHash``)
of everything that can move a number: the sequence's evaluated bytes (digest, size, bit depth, frame range,
frame rate, intra period), the QP, the codec signature, the encode settings (``SequenceSettings`` fields
except qp/fmt and the per-sequence ones), the coding structure, whether encodes are split at intra periods,
the colour mode, the task signature and its thresholds, the condition signature, the decoders and
``RESULTS_VERSION``.  A re-run with the same inputs finds its jobs done; a killed ``sequence`` job
restarts from its finished segments (``RUNDIR/partial/<job_id>``, ``coding.sequence.encode_sequence``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import RESULTS_VERSION
from ..conditions import Condition
from ..core.errors import ConditionError, UsageError
from .jobs import KIND_FEATURE_SEQUENCE, KIND_SEQUENCE, KIND_SEQUENCE_REFERENCE, JobSpec, get_cached_codec
from .network_facts import network_facts
from .run_common import _codec_options, _encode_settings, _KeyHash, default_decoders, task_options_for

VIDEO_METRICS = ("coco-ap",)  # what the video scoring (run.video_results) evaluates today
# seconds allowed to verify a sequence: a fixed part plus a part per frame per megapixel (decoders run at a few
# frames a second on 1080p; DESIGN.md 5.4 gives ~0.2 s per 1024x768 picture)
VERIFY_BASE_S, VERIFY_PER_FRAME_MPX_S = 120.0, 4.0
# a feature run caches every evaluated frame's split features (float32) when they fit this many bytes in all
FEATURE_CACHE_AUTO_BYTES = 8 * 2 ** 30


@dataclass
class VideoRunOptions:
    """Everything a video run is asked for besides the condition, the data folder and the run directory
    (``run.video_pipeline.run_video``).  ``sequences`` selects by name, ``sets`` applies the condition's
    optional sets, ``limit`` keeps the first N sequences (after both); ``split``: encodes split at intra
    periods and joined (the reference framework's parallel encoding), else one encode per sequence; None (the
    default): split only where the join gives the bitstream of one encode (a codec whose ``sequence_join`` is
    ``parcat``: VTM), since a split VVenC encode codes differently (coding.sequence)."""

    codec: str | None = None  # override the condition's codec (vvenc, vtm)
    preset: str | None = None  # override the VVenC preset
    qps: Sequence[int] | None = None  # one ladder for every sequence instead of the class ladders
    limit: int | None = None
    sequences: Sequence[str] = ()
    sets: Sequence[str] = ()
    split: bool | None = None
    jobs: int | None = None
    label: str | None = None
    codec_options: dict[str, Any] | None = None
    task_options: dict[str, Any] | None = None
    decoders: Sequence[str] | None = None
    executor: Any = None  # run.executor.Executor (None: one is made with ``jobs`` and ``timeout``)
    progress: Any = None  # run.progress.ProgressCallback
    command_line: Sequence[str] | None = None
    env: dict[str, Any] | None = None
    timeout: float | None = None  # seconds per job for the executor this run makes
    feature_cache: bool | None = None  # feature runs: cache every frame's features (None: when they fit, see below)


@dataclass
class VideoPlan:
    condition: Condition
    sequences: list[Any]  # conditions.sequences.SequenceRef, in condition order
    specs: list[JobSpec]
    codec_signature: str
    task_signature: str
    classes: dict[str, list[str]]  # reporting class -> sequence names (the optional sets applied)
    qps_by_sequence: dict[str, list[int]]
    structure: str
    sets: list[str]
    split: bool
    options: dict[str, Any] = field(default_factory=dict)


def check_video_supported(cond: Condition) -> None:
    """Refuse video conditions the pipeline cannot run yet, with the reason and the fix."""
    if cond.task.get("type") == "tracking" or cond.metric["name"] not in VIDEO_METRICS:
        raise ConditionError(f"Condition {cond.name} is scored by {cond.metric['name']} ({cond.task.get('type')}): "
                             f"video runs score {', '.join(VIDEO_METRICS)} (detection, SFU-HW-Objects-v1) so far: a "
                             "tracking run needs a tracker network (JDE), which vcmbench does not have; score a "
                             "tracker's output with `vcmbench evaluate mot`.")
    if cond.kind != "feature" and int(cond.codec.get("chroma_format", 420)) != 420:
        raise ConditionError(f"Condition {cond.name}: video pictures are coded as 4:2:0; set codec.chroma_format 420.")
    # (a feature condition's 4:0:0 at the quantisation bit depth is checked by run.feature_jobs.feature_settings)


def split_option(cond: Condition, topts: dict[str, Any]) -> dict[str, Any]:
    """``topts`` with ``split`` = the condition's split point when the network, as the options build it, does not
    split there but is built for it by its task option ``split`` (jde-1088x608: one split set per built network,
    ``tvd`` by default, ``hieve`` with ``split=hieve``), and the options name no split; else ``topts`` unchanged
    (a network that cannot split there is refused by the plan, naming its split points)."""
    from ..core.errors import VcmbenchError

    split, name = cond.task.get("split_point"), cond.task["network"]
    if not split or "split" in topts:
        return topts
    if split in tuple(getattr(network_facts(name, tuple(sorted(topts.items()))), "split_points", ()) or ()):
        return topts
    with_split = {**topts, "split": split}
    try:
        facts = network_facts(name, tuple(sorted(with_split.items())))
    except (VcmbenchError, TypeError):  # a network without that option
        return topts
    return with_split if split in tuple(getattr(facts, "split_points", ()) or ()) else topts


def _feature_settings(cond: Condition, task: Any) -> dict[str, Any]:
    """A feature condition's job settings (``run.feature_jobs.feature_settings``, the image path's), after checking that
    ``task`` splits at the condition's split point (``run.pipeline.check_supported``'s split check)."""
    from .feature_jobs import feature_settings

    split = cond.task.get("split_point")
    points = tuple(getattr(task, "split_points", ()) or ())
    if split not in points:
        raise ConditionError(f"Condition {cond.name} codes the features of a video: it needs a task network that can "
                             f"be split at {split!r}; {cond.task['network']!r} cannot"
                             f"{' (split points: ' + ', '.join(points) + ')' if points else ''}. "
                             "Name a split point the network publishes (`vcmbench tasks --json`).")
    return feature_settings(cond, task)


def feature_cache_plan(feature: dict[str, Any], task: Any, sequences: Sequence[Any], wanted: bool | None
                       ) -> dict[str, Any]:
    """Whether a feature run caches its frames' features (``features.cache``), and why: ``wanted`` (the run's
    ``feature_cache`` option) decides when given; else cached when the run's evaluated frames x the coded layers'
    float32 bytes (the network's ``feature_info`` shapes) fit ``FEATURE_CACHE_AUTO_BYTES``, or when the shapes are
    unknown.  Never part of a job id: cached or not, the features are the same float32 values."""
    info = {}
    fn = getattr(task, "feature_info", None)
    if callable(fn):
        info = fn() or {}
    shapes = [(info.get(k) or {}).get("shape") for k in feature["layers"]]
    per_frame = 4 * sum(math.prod(int(v) for v in s) for s in shapes) if shapes and all(shapes) else None
    frames = sum(int(s.frames) for s in sequences)
    total = per_frame * frames if per_frame is not None else None
    if wanted is not None:
        cache, why = bool(wanted), "the run's feature_cache option"
    elif total is None:
        cache, why = True, "the network publishes no shapes for the coded layers: cached"
    else:
        cache = total <= FEATURE_CACHE_AUTO_BYTES
        why = (f"{frames} frames x {per_frame} bytes = {total} bytes "
               f"{'<=' if cache else '>'} {FEATURE_CACHE_AUTO_BYTES} (FEATURE_CACHE_AUTO_BYTES)")
    return {"cache": cache, "bytes_per_frame": per_frame, "bytes": total, "reason": why}


def structure_of(cond: Condition) -> str:
    """The coding structure the condition names (``codec.structure``: low-delay or random-access)."""
    from ..coding.sequence import STRUCTURES

    s = cond.codec.get("structure")
    if s not in STRUCTURES:
        raise ConditionError(f"Condition {cond.name} names no coding structure (codec.structure: "
                             f"{' or '.join(STRUCTURES)}); a video condition must say which GOP it codes with.")
    return str(s)


def sequence_settings(cond: Condition, structure: str, split: bool, codec_name: str = "") -> dict[str, Any]:
    """The ``SequenceSettings`` fields every sequence of the run shares (not qp/fmt, not the per-sequence
    frames, fps, intra period and frame skip), plus ``split`` and ``verify_sei``: what ``JobSpec.extra`` carries.

    ``verify_sei`` (VVenC through FFmpeg, which writes no reconstruction): the sequence is encoded with the
    decoded-picture-hash SEI, verified picture by picture against it, and kept and rated without it
    (``coding.bitstream.strip_picture_hash_sei``: the same bytes as an encode without the SEI, tested)."""
    enc = _encode_settings(cond)
    verify_sei = codec_name == "vvenc"
    return {**enc, "structure": structure, "sei_hash": verify_sei, "split": bool(split), "verify_sei": verify_sei}


def _sequence_facts(ref: Any) -> dict[str, Any]:
    """What a sequence contributes to its reference job's id: its evaluated bytes and how they are read."""
    return {"digest": ref.digest, "size": [ref.width, ref.height], "bit_depth": ref.bit_depth,
            "first": ref.first_frame, "frames": ref.frames}


def verify_timeout(ref: Any) -> float:
    """Seconds to decode and check a whole sequence with one decoder."""
    return VERIFY_BASE_S + VERIFY_PER_FRAME_MPX_S * ref.frames * max(1.0, ref.width * ref.height / 1e6)


def sequence_qps(cond: Condition, ref: Any) -> list[int]:
    qps = cond.sequence_qps({"name": ref.name, "class": ref.cls})
    if not qps:
        raise ConditionError(f"Condition {cond.name} publishes no QP ladder for class {ref.cls!r} (sequence "
                             f"{ref.name}); give one with --qps (e.g. --qps 22,27,32,37,42,47).")
    return [int(q) for q in qps]


def make_video_plan(cond: Condition, data_dir: str | Path | None, run_dir: str | Path,
                    options: VideoRunOptions | None = None) -> VideoPlan:
    """Every job of the video run, with content-hash ids (no work done besides listing and hashing the
    sequences' evaluated frames).  ``cond`` already carries the codec / QP overrides."""
    from ..coding.codecs import EncodeSettings
    from ..coding.color import color_signature
    from ..coding.yuv import YuvFormat
    from ..conditions.sequences import list_sequences

    opts = options or VideoRunOptions()
    check_video_supported(cond)
    if opts.limit is not None and (isinstance(opts.limit, bool) or not isinstance(opts.limit, int) or opts.limit < 1):
        raise UsageError(f"--limit must be at least 1 sequence, got {opts.limit!r}.")
    sets = list(dict.fromkeys(opts.sets))
    classes = cond.sequence_classes(sets)  # (refuses an unknown set, naming the available ones)
    names = list(dict.fromkeys(opts.sequences))
    # (refuses unknown names and data that disagree with the condition, naming `vcmbench cttc verify-data`)
    sequences = list_sequences(cond, data_dir, limit=opts.limit, names=names, sets=sets)
    structure = structure_of(cond)
    if not sequences:
        raise UsageError(f"Condition {cond.name} lists no sequences to run in {data_dir}"
                         + (f" (--sequence {', '.join(names)}; --set {', '.join(sets)})" if names or sets else "")
                         + f"; see `vcmbench cttc show {cond.name}`.")
    qps_by_sequence = {s.name: sequence_qps(cond, s) for s in sequences}

    copts = _codec_options(cond, opts.codec_options, data_dir)
    codec_name = "template" if cond.codec.get("encode") else cond.codec["name"]
    codec = get_cached_codec(codec_name, tuple(sorted(copts.items())))
    split = opts.split if opts.split is not None else getattr(codec, "sequence_join", "") == "parcat"
    settings = sequence_settings(cond, structure, split, codec_name)
    ibd = int(cond.codec.get("input_bit_depth", 8))
    is_feature = cond.kind == "feature"
    probe_qp = next(iter(qps_by_sequence.values()))[0]
    probe_enc = {k: settings[k] for k in ("internal_bit_depth", "preset", "loop_filter", "extra_args", "threads")}
    probe = EncodeSettings(qp=probe_qp, fmt=YuvFormat(16, 16, 400 if is_feature else 420, ibd), **probe_enc)
    try:
        codec_sig = codec.signature(probe)
    except TypeError:
        codec_sig = codec.signature()
    topts = task_options_for(cond, opts.task_options)
    if is_feature:
        topts = split_option(cond, topts)
    topts_t = tuple(sorted(topts.items()))
    task = network_facts(cond.task["network"], topts_t)
    task_sig = task.signature()
    feature = _feature_settings(cond, task) if is_feature else None
    cond_sig = str(cond.signature())
    decs = tuple(opts.decoders) if opts.decoders else default_decoders(codec_name, copts)
    color_sig = color_signature(cond.color_mode, (1.0,))
    thresholds = {k: topts[k] for k in ("score_threshold", "max_detections")}
    run_dir_s = str(Path(run_dir).resolve())
    network, color = cond.task["network"], cond.color_mode
    settings_t, copts_t = tuple(sorted(settings.items())), tuple(sorted(copts.items()))

    # a feature run: the reference job computes (and caches) every frame's split features; the code jobs code the
    # packed features (run.feature_sequence_jobs) and their ids key on the feature settings too
    split_extra = {"split_point": feature["split"]} if feature else {}
    ref_key = _KeyHash({"kind": KIND_SEQUENCE_REFERENCE, "task": task_sig, "t": thresholds, "color": color_sig,
                        "v": RESULTS_VERSION, **split_extra}, ("sequence",))
    code_kind = KIND_FEATURE_SEQUENCE if feature else KIND_SEQUENCE
    code_key = _KeyHash({"kind": code_kind, "codec": codec_sig, "settings": settings, "color": color_sig,
                         "ibd": ibd, "task": task_sig, "t": thresholds, "cond": cond_sig, "decoders": decs,
                         "v": RESULTS_VERSION, **({"feature": feature} if feature else {})}, ("sequence", "qp"))
    fcache = feature_cache_plan(feature, task, sequences, opts.feature_cache) if feature else None
    ref_extra = tuple(split_extra.items())
    if feature:
        import json

        # (the cache decision travels with the jobs but is no part of their ids: the features are the same)
        settings_t = tuple(sorted({**settings, "feature": json.dumps(feature, sort_keys=True),
                                   "feature_cache": fcache["cache"]}.items()))
        ref_extra = (*ref_extra, ("feature_cache", fcache["cache"]))
    specs: list[JobSpec] = []
    for ref in sequences:
        facts = _sequence_facts(ref)
        specs.append(JobSpec(job_id="r" + ref_key(sequence=facts), kind=KIND_SEQUENCE_REFERENCE, image=ref,
                             run_dir=run_dir_s, task=network, task_options=topts_t, color=color, input_bit_depth=ibd,
                             signature=task_sig, extra=ref_extra))
    for ref in sequences:  # the QPs of a sequence one after another
        facts = {**_sequence_facts(ref), "fps": ref.fps, "intra_period": ref.intra_period}
        for qp in qps_by_sequence[ref.name]:
            specs.append(JobSpec(
                job_id="c" + code_key(sequence=facts, qp=int(qp)), kind=code_kind, image=ref, run_dir=run_dir_s,
                task=network, task_options=topts_t, scale=1.0, qp=int(qp), codec=codec_name, codec_options=copts_t,
                color=color, input_bit_depth=ibd, decoders=decs, verify_timeout=verify_timeout(ref),
                signature=codec_sig, extra=settings_t))
    run_options = {"limit": opts.limit, "codec_options": copts, "task_options": topts, "decoders": list(decs),
                   "color_signature": color_sig, "sequence_settings": settings,
                   "data_dir": None if data_dir is None else str(Path(data_dir).resolve())}
    run_options["condition_kind"] = cond.kind  # image or feature coding (the result set's provenance.kind)
    if (cond.data.get("bd") or {}).get("twin"):
        run_options["twin"] = cond.data["bd"]["twin"]
    if feature is not None:
        run_options["feature"] = feature
        run_options["feature_cache"] = fcache
    if getattr(task, "device", None):
        run_options["task_device"] = str(task.device)  # provenance only: never in a signature or job key
    return VideoPlan(cond, sequences, specs, codec_sig, task_sig, classes, qps_by_sequence, structure, sets,
                     bool(split), run_options)
