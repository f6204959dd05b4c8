"""What the image pipeline (``run.pipeline``) and the video pipeline (``run.video_pipeline``) share: the run
summary, content-hash job keys, the codec / task / decoder options a run uses, the run-directory checks and
``errors.json``.  Both pipelines import this module; neither imports the other's planning code."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _encode_str
from pathlib import Path
from typing import Any, Sequence

from ..conditions import Condition
from ..core.errors import ConditionError, UsageError
from ..core.jsonio import write_json
from .store import RunStore


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
    notes: list[str] = field(default_factory=list)  # what the run did besides its jobs (e.g. stale folders removed)


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
    return split_option(cond, opts) if cond.kind == "feature" else opts


def split_option(cond: Condition, topts: dict[str, Any]) -> dict[str, Any]:
    """``topts`` with ``split`` = the condition's split point when the network offers several (e.g. jde-1088x608:
    ``tvd`` and ``hieve``, built for one of them by its task option ``split``) and the options name none: the
    network is built for the layers the condition codes.  Networks with one split point get nothing new."""
    split = cond.task.get("split_point")
    if not split or "split" in topts:
        return topts
    from .network_facts import network_facts

    points = tuple(getattr(network_facts(cond.task["network"], tuple(sorted(topts.items()))), "split_points", ()) or ())
    return {**topts, "split": split} if len(points) > 1 and split in points else topts


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


def _write_errors(store: RunStore, errors: list[dict[str, Any]]) -> None:
    """``errors.json``; a disk fault is a :class:`StorageError` (the jobs it lists are redone on resume anyway)."""
    from ..core.storage import is_storage_fault, storage_error

    try:
        write_json(store.path("errors.json"), errors)
    except OSError as exc:
        if is_storage_fault(exc):
            raise storage_error(exc, f"writing {store.path('errors.json')}") from None
        raise


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
