"""Common test conditions as data: load, resolve ``base:`` inheritance, validate, verify user data.

A condition is a YAML file in ``cttc/`` (``schema_version: 1``).  Its sections name the dataset,
task network, codec and settings, colour conversion, rate definition, accuracy metric and BD
method, each with the ``source`` document the facts come from.  The schema is in ``SCHEMA``
below; unknown keys are errors.  At most one level of ``base:`` inheritance: a condition may
name a base, and that base may not itself have one.  Sections merge key by key (a child's
value replaces the base's; lists are replaced, not appended).

The library raises ``ConditionError`` for a single fatal problem and returns ``Issue`` lists from
``validate_*`` so that ``vcmbench cttc validate`` can report every problem with file and key.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from .errors import ConditionError, DataError
from .resources import resource_dir
from .signature import Signature

SCHEMA_VERSION = 1
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

KINDS = ("image", "feature")
TASK_TYPES = ("detection", "instance-segmentation")
CODECS = ("vtm", "vvenc")
CHROMA = (420, 400)
# The colour-conversion modes of vcmbench.yuv (a test keeps the two lists equal; yuv is not imported
# here so that reading conditions does not need numpy).
COLOR_MODES = ("ctc", "ctc-bitexact", "bt601-full-numpy", "bt601-limited-numpy", "bt709-full-numpy",
               "bt709-limited-numpy")
RESIZE_MODES = ("ctc",)
RATE_DEFS = ("bpp-dataset",)
SIDE_INFO = ("none", "counted", "not-counted")
METRICS = {
    # metric name -> (annotation formats it reads, quality keys it yields, iou types it supports)
    "oid-challenge": (("oid-boxes-csv", "oid-labels-csv", "oid-masks-csv"), ("map50",), ("bbox", "segm")),
    "coco-ap": (("coco-json",), ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"), ("bbox", "segm")),
    "cityscapes-ap": (("cityscapes-gtfine",), ("AP", "AP50"), ("segm",)),
}
BD_METHODS = ("pchip-jvet", "cubic", "pchip", "akima", "pchip-trapz")
GROUND_TRUTH = ("annotations", "reference-output")


@dataclass
class Issue:
    """One validation problem: the file, the dotted key, and what is wrong (with the fix)."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


# ---------------------------------------------------------------------------------------------
# Schema: section -> {key: checker}.  A checker returns an error message or None.

Checker = Callable[[Any], "str | None"]


def _type(*types: type, none: bool = False) -> Checker:
    def check(v: Any) -> str | None:
        if v is None and none:
            return None
        if isinstance(v, bool) and bool not in types:
            return f"expected {'/'.join(t.__name__ for t in types)}, got bool"
        return None if isinstance(v, types) else f"expected {'/'.join(t.__name__ for t in types)}, got {type(v).__name__}"

    return check


def _choice(options: tuple, none: bool = False) -> Checker:
    def check(v: Any) -> str | None:
        if v is None and none:
            return None
        return None if v in options else f"{v!r} is not one of {list(options)}"

    return check


def _file_ref(with_count: str | None) -> Checker:
    """{file[, md5][, count|rows][, format]} — a user-supplied file with its recorded checksum.

    ``md5`` may be left out only where no published checksum exists (the count is still checked)."""

    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return "expected a mapping with file (and md5 where one is known)"
        allowed = {"file", "md5", "format", "source"} | ({with_count} if with_count else set())
        unknown = sorted(set(v) - allowed)
        if unknown:
            return f"unknown key(s) {unknown}; allowed: {sorted(allowed)}"
        if not isinstance(v.get("file"), str) or not v.get("file"):
            return "missing 'file' (the file name)"
        md5 = v.get("md5")
        if md5 is not None and (not isinstance(md5, str) or not _MD5.match(md5)):
            return f"malformed checksum {md5!r}: md5 must be 32 lowercase hex digits"
        if with_count:
            n = v.get(with_count)
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                return f"'{with_count}' must be a non-negative integer, got {n!r}"
        return None

    return check


def _str_list(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        return "expected a list of strings"
    return None


def _qps(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "expected a non-empty list of integer QPs"
    for q in v:
        if not isinstance(q, int) or isinstance(q, bool):
            return f"QP {q!r} is not an integer"
        if not 0 <= q <= 63:
            return f"QP {q} is outside 0-63"
    dup = sorted({q for q in v if v.count(q) > 1})
    if dup:
        return f"duplicate QP(s) {dup}"
    return None


def _scales(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "expected a non-empty list of scales in (0, 1]"
    for s in v:
        if not isinstance(s, (int, float)) or isinstance(s, bool):
            return f"scale {s!r} is not a number"
        if not 0 < s <= 1:
            return f"scale {s} is outside (0, 1] (write 0.75, not 75)"
    dup = sorted({s for s in v if v.count(s) > 1})
    if dup:
        return f"duplicate scale(s) {dup}"
    return None


def _annotations(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "expected a mapping role -> {file, md5, rows, format}"
    for role, ref in v.items():
        msg = _file_ref("rows")(ref)
        if msg:
            return f"{role}: {msg}"
        if not isinstance(ref.get("format"), str):
            return f"{role}: missing 'format' (e.g. oid-boxes-csv, coco-json)"
    return None


def _tiling(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "expected layer -> [tiles_wide, tiles_high]"
    for layer, wh in v.items():
        if not (isinstance(wh, list) and len(wh) == 2 and all(isinstance(x, int) and x > 0 for x in wh)):
            return f"{layer}: expected [tiles_wide, tiles_high] positive integers"
    return None


SRC = _type(str)
SCHEMA: dict[str, dict[str, Checker]] = {
    "": {
        "schema_version": _type(int), "name": _type(str), "version": _type(int), "title": _type(str),
        "description": _type(str), "kind": _choice(KINDS), "base": _type(str, none=True),
        "abstract": _type(bool), "dataset": _type(dict), "task": _type(dict), "codec": _type(dict),
        "preprocess": _type(dict), "feature": _type(dict), "rate": _type(dict), "metric": _type(dict),
        "bd": _type(dict), "ground_truth": _type(dict),
    },
    "dataset": {
        "name": _type(str), "source": SRC, "image_list": _file_ref("count"), "image_ids": _type(list),
        "image_ids_source": SRC, "images": _type(str), "annotations": _annotations,
        "classes": _file_ref("count"), "sample_images": _str_list,
    },
    "task": {
        "type": _choice(TASK_TYPES), "network": _type(str), "score_threshold": _type(int, float),
        "max_detections": _type(int), "split_point": _type(str, none=True), "source": SRC,
    },
    "codec": {
        "name": _choice(CODECS), "version": _type(str), "cfg": _file_ref(None), "qps": _qps,
        "scales": _scales, "input_bit_depth": _choice((8, 10)), "internal_bit_depth": _choice((8, 10)),
        "chroma_format": _choice(CHROMA), "preset": _type(str, none=True), "loop_filter": _type(bool),
        "extra_args": _str_list, "source": SRC,
    },
    "preprocess": {"color": _choice(COLOR_MODES), "resize": _choice(RESIZE_MODES), "source": SRC},
    "feature": {
        "coded_layers": _str_list, "derived_layers": _type(dict), "channels": _type(int),
        "tiling": _tiling, "quant_bits": _type(int), "quant_range": _choice(("global-minmax", "per-image-minmax")),
        "side_info": _choice(SIDE_INFO), "source": SRC,
    },
    "rate": {"definition": _choice(RATE_DEFS), "side_info": _choice(SIDE_INFO), "source": SRC},
    "metric": {
        "name": _choice(tuple(METRICS)), "iou_type": _choice(("bbox", "segm")), "iou": _type(int, float, none=True),
        "quality_key": _type(str), "report": _str_list, "group_of_weight": _type(int, float), "source": SRC,
    },
    "bd": {"method": _choice(BD_METHODS), "quality": _type(str), "source": SRC},
    "ground_truth": {"mode": _choice(GROUND_TRUTH), "score_threshold": _type(int, float), "source": SRC},
}
REQUIRED = {
    "": ("schema_version", "name", "version", "title", "kind", "dataset", "task", "codec", "rate", "metric", "bd"),
    "dataset": ("name", "source"),
    "task": ("type", "network", "source"),
    "codec": ("name", "qps", "scales", "internal_bit_depth", "chroma_format", "source"),
    "rate": ("definition", "source"),
    "metric": ("name", "quality_key", "source"),
    "bd": ("method", "source"),
}


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """A resolved (inheritance applied) and validated test condition."""

    data: dict[str, Any]
    path: Path | None = None
    overrides: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("qps=22,37",) from the CLI
    content_hash: str = ""  # of the condition as loaded, before overrides (see ``content_hash``)

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def version(self) -> int:
        return self.data["version"]

    @property
    def title(self) -> str:
        return self.data["title"]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    def section(self, name: str) -> dict[str, Any]:
        return self.data.get(name) or {}

    @property
    def dataset(self) -> dict[str, Any]:
        return self.section("dataset")

    @property
    def task(self) -> dict[str, Any]:
        return self.section("task")

    @property
    def codec(self) -> dict[str, Any]:
        return self.section("codec")

    @property
    def metric(self) -> dict[str, Any]:
        return self.section("metric")

    @property
    def qps(self) -> list[int]:
        return list(self.codec["qps"])

    @property
    def scales(self) -> list[float]:
        return [float(s) for s in self.codec["scales"]]

    @property
    def color_mode(self) -> str:
        return self.section("preprocess").get("color", "ctc")

    @property
    def ground_truth_mode(self) -> str:
        return self.section("ground_truth").get("mode", "annotations")

    @property
    def bd_method(self) -> str:
        return self.section("bd")["method"]

    def signature(self) -> Signature:
        """The condition's own parts: cttc, cfg, task, map, rate, color, gt."""
        codec = self.codec
        cfg = codec.get("cfg")
        cfg_part = f"{Path(cfg['file']).stem}#{cfg['md5'][:6]}" if cfg else f"{codec['name']}-{codec.get('preset') or 'default'}"
        metric = self.metric
        m = metric["name"] + (f"-{metric['iou_type']}" if metric.get("iou_type") else "")
        if metric.get("iou") not in (None, 0.5):
            m += f"-iou{metric['iou']:g}"
        if metric.get("group_of_weight") not in (None, 1, 1.0):
            m += f"-gow{metric['group_of_weight']:g}"
        rate = self.section("rate")
        digest = self.content_hash or content_hash(self.data)
        return Signature.of(
            cttc=f"{self.name}@{self.version}#{digest}",
            cfg=cfg_part,
            task=self.task["network"].replace(":", "/").replace("/", "~"),
            map=m,
            rate=rate["definition"] + (f"+side-{rate['side_info']}" if rate.get("side_info") else ""),
            color=self.color_mode,
            gt=self.ground_truth_mode,
        )

    def to_dict(self) -> dict[str, Any]:
        d = copy.deepcopy(self.data)
        if self.overrides:
            d["_overrides"] = list(self.overrides)
        d["_content_hash"] = self.content_hash or content_hash(self.data)
        return d

    def with_overrides(self, *, qps: list[int] | None = None, scales: list[float] | None = None,
                       codec: str | None = None, preset: str | None = None) -> "Condition":
        """A copy with CLI overrides applied, recorded in ``overrides`` and validated again.

        Switching codec drops the other codec's settings: VTM -> VVenC removes ``cfg``,
        ``extra_args`` (VTM options) and ``version`` and uses ``preset`` (default medium);
        VVenC -> VTM removes ``preset`` and needs a condition that names a VTM cfg.  Results stay
        labelled with the codec that made them (the signature's codec and cfg parts).
        """
        data = copy.deepcopy(self.data)
        notes = list(self.overrides)
        c = data["codec"]
        if qps is not None:
            c["qps"] = list(qps)
            notes.append("qps=" + ",".join(map(str, qps)))
        if scales is not None:
            c["scales"] = list(scales)
            notes.append("scales=" + ",".join(f"{s:g}" for s in scales))
        if codec is not None and codec != c["name"]:
            if codec == "vvenc":
                for k in ("cfg", "extra_args", "version"):
                    c.pop(k, None)
                c["preset"] = preset or c.get("preset") or "medium"
            elif codec == "vtm":
                c.pop("preset", None)
                if not c.get("cfg"):
                    raise ConditionError(f"Condition {self.name} names no VTM cfg file; it cannot run with --codec vtm.")
            c["name"] = codec
            notes.append(f"codec={codec}")
        if preset is not None:
            if c["name"] != "vvenc":
                raise ConditionError(f"--preset applies to vvenc; condition {self.name} uses {c['name']}.")
            if preset != self.codec.get("preset"):
                c["preset"] = preset
                notes.append(f"preset={preset}")
        if data == self.data:
            return self
        issues = validate_data(data, str(self.path or self.name))
        if issues:
            raise ConditionError("; ".join(map(str, issues)))
        return Condition(data=data, path=self.path, overrides=tuple(notes),
                         content_hash=self.content_hash or content_hash(self.data))


_DOC_KEYS = {"title", "description", "source", "abstract", "base", "image_ids_source", "_overrides", "_content_hash"}


def content_hash(data: dict[str, Any]) -> str:
    """6 hex digits of SHA-256 over the condition's settings, without its prose (title, description,
    ``source`` texts).  It is part of the ``cttc`` signature part (``demo@1#3fa2c1``), so an edit that
    can move a number but forgot to bump ``version`` still makes results incomparable."""
    import hashlib
    import json

    def strip(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k not in _DOC_KEYS}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    text = json.dumps(strip(data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:6]


# ---------------------------------------------------------------------------------------------
def conditions_dir() -> Path:
    return resource_dir("cttc")


def list_conditions(directory: Path | None = None) -> list[str]:
    d = directory or conditions_dir()
    return sorted(p.stem for p in d.glob("*.yaml"))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConditionError(f"Condition file {path} does not exist.") from None
    except yaml.YAMLError as exc:
        raise ConditionError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConditionError(f"{path}: a condition must be a YAML mapping, got {type(data).__name__}.")
    return data


def resolve_path(name_or_path: str | Path, directory: Path | None = None) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    d = directory or conditions_dir()
    cand = d / f"{name_or_path}.yaml"
    if cand.exists():
        return cand
    avail = ", ".join(list_conditions(d))
    raise ConditionError(f"Unknown condition {str(name_or_path)!r}. Available: {avail} — see `vcmbench cttc list`.")


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in child.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def resolve_inheritance(path: Path) -> tuple[dict[str, Any], list[Issue]]:
    """Read ``path`` and apply its ``base:`` (one level).  Returns the merged data and issues."""
    data = _read_yaml(path)
    issues: list[Issue] = []
    base_name = data.get("base")
    if not base_name:
        return data, issues
    if base_name == data.get("name") or base_name == path.stem:
        return data, [Issue(str(path), "base", f"inheritance cycle: {path.stem} names itself as base")]
    base_path = path.parent / f"{base_name}.yaml"
    if not base_path.exists():
        return data, [Issue(str(path), "base", f"base condition {base_name!r} not found beside it ({base_path})")]
    base = _read_yaml(base_path)
    grand = base.get("base")
    if grand:
        if grand in (data.get("name"), path.stem):
            issues.append(Issue(str(path), "base", f"inheritance cycle: {path.stem} -> {base_name} -> {grand}"))
        else:
            issues.append(Issue(str(path), "base", f"inheritance depth > 1: {path.stem} -> {base_name} -> {grand}; "
                                "at most one level of base: is allowed — inherit from a condition without a base"))
        return data, issues
    merged = _merge(base, {k: v for k, v in data.items() if k not in ("base", "abstract")})
    merged["base"] = base_name
    merged.pop("abstract", None)
    return merged, issues


def validate_data(data: dict[str, Any], file: str) -> list[Issue]:
    """Schema, ranges and cross-field consistency of resolved condition data."""
    issues: list[Issue] = []
    for section, spec in SCHEMA.items():
        obj = data if section == "" else data.get(section)
        if obj is None:
            continue
        if not isinstance(obj, dict):
            issues.append(Issue(file, section, f"expected a mapping, got {type(obj).__name__}"))
            continue
        prefix = f"{section}." if section else ""
        for key in obj:
            if key not in spec and not (section == "" and key in ("_overrides", "_content_hash")):
                issues.append(Issue(file, prefix + key, f"unknown key; allowed: {sorted(spec)}"))
        for key, check in spec.items():
            if key in obj:
                msg = check(obj[key])
                if msg:
                    issues.append(Issue(file, prefix + key, msg))
        for key in REQUIRED.get(section, ()):
            if key not in obj:
                issues.append(Issue(file, prefix + key, "required key is missing"))
    if issues:
        return issues
    return issues + _consistency(data, file)


def _consistency(d: dict[str, Any], file: str) -> list[Issue]:
    """Fields that contradict each other."""
    out: list[Issue] = []
    add = lambda key, msg: out.append(Issue(file, key, msg))  # noqa: E731
    if d["schema_version"] != SCHEMA_VERSION:
        add("schema_version", f"{d['schema_version']} is not supported; this vcmbench reads {SCHEMA_VERSION}")
    if not _NAME.match(d["name"]):
        add("name", f"{d['name']!r} must be lowercase letters, digits, '.', '_' or '-'")
    elif Path(file).suffix in (".yaml", ".yml") and Path(file).stem != d["name"]:
        add("name", f"{d['name']!r} differs from the file name {Path(file).stem!r}; make them equal")
    codec, task, metric, kind = d["codec"], d["task"], d["metric"], d["kind"]
    feature = d.get("feature")
    if kind == "feature":
        if not feature:
            add("feature", "kind: feature needs a feature section (coded layers, tiling, quantisation)")
        if not task.get("split_point"):
            add("task.split_point", "kind: feature needs the split point of the task network (e.g. fpn)")
    else:
        if feature:
            add("feature", "only kind: feature conditions may have a feature section")
        if task.get("split_point"):
            add("task.split_point", "image conditions run the whole network; remove split_point or set kind: feature")
        if codec["chroma_format"] != 420:
            add("codec.chroma_format", "image conditions code RGB pictures as 4:2:0; set 420")
    if feature:
        tiling = feature.get("tiling", {})
        layers = feature.get("coded_layers", [])
        ch = feature.get("channels", 256)
        for layer in layers:
            if layer not in tiling:
                add(f"feature.tiling.{layer}", "coded layer has no tiling")
        for layer, (w, h) in tiling.items():
            if layer not in layers:
                add(f"feature.tiling.{layer}", f"tiling given for {layer}, which is not in coded_layers")
            elif w * h != ch:
                add(f"feature.tiling.{layer}", f"{w} x {h} = {w * h} tiles, but the layer has {ch} channels")
    ibd, idepth = codec.get("input_bit_depth"), codec["internal_bit_depth"]
    if ibd is not None and ibd > idepth:
        add("codec.input_bit_depth", f"input bit depth {ibd} exceeds the internal bit depth {idepth}")
    if codec["name"] == "vtm" and not codec.get("cfg"):
        add("codec.cfg", "codec vtm needs its cfg file name and md5 (e.g. encoder_intra_vtm.cfg)")
    if codec["name"] == "vvenc" and codec.get("cfg"):
        add("codec.cfg", "codec vvenc takes a preset, not a VTM cfg file; remove cfg or use codec vtm")
    if codec["name"] == "vtm" and codec.get("preset"):
        add("codec.preset", "codec vtm has no presets; remove preset (presets are for vvenc)")
    if kind == "image" and any(abs(s - 1.0) > 1e-12 for s in codec["scales"]) and d.get("preprocess", {}).get("resize") is None:
        add("preprocess.resize", "scales below 1.0 need a resize rule (resize: ctc)")
    fmts, keys, iou_types = METRICS[metric["name"]]
    if metric["quality_key"] not in keys:
        add("metric.quality_key", f"{metric['quality_key']!r} is not produced by {metric['name']} (gives {list(keys)})")
    if "group_of_weight" in metric and metric["name"] != "oid-challenge":
        add("metric.group_of_weight", "only the OID challenge metric has group-of boxes; remove it")
    elif not 0 <= metric.get("group_of_weight", 1.0) <= 1:
        add("metric.group_of_weight", f"{metric['group_of_weight']} is outside [0, 1]")
    iou_type = metric.get("iou_type", "bbox")
    if iou_type not in iou_types:
        add("metric.iou_type", f"{metric['name']} does not evaluate {iou_type}")
    if task["type"] == "detection" and iou_type == "segm":
        add("metric.iou_type", "a detection task produces boxes only; segm needs task.type instance-segmentation")
    if task["type"] == "instance-segmentation" and iou_type == "bbox" and metric["name"] == "oid-challenge":
        add("metric.iou_type", "the OID instance-segmentation challenge metric evaluates masks; set segm")
    gt_mode = d.get("ground_truth", {}).get("mode", "annotations")
    ann = d["dataset"].get("annotations") or {}
    if gt_mode == "annotations":
        if not ann:
            add("dataset.annotations", "ground_truth mode 'annotations' needs annotation files (or mode reference-output)")
        for role, ref in ann.items():
            if ref["format"] not in fmts:
                add(f"dataset.annotations.{role}.format",
                    f"{ref['format']!r} cannot feed {metric['name']} (reads {list(fmts)})")
    ds = d["dataset"]
    coco_json = any(ref["format"] == "coco-json" for ref in ann.values())
    if not (ds.get("image_list") or ds.get("image_ids") or ds.get("sample_images") or (coco_json and ds.get("images"))
            or (ds.get("images") and ann)):
        add("dataset", "name the images: image_list (file, md5, count), image_ids, sample_images, "
                       "or an images folder with annotations that list them")
    n_qps = len(codec["qps"])
    if d["bd"]["method"] == "cubic" and n_qps < 4:
        add("bd.method", f"cubic needs at least 4 rate points per curve; the QP ladder has {n_qps}")
    return out


def validate_file(path: str | Path) -> list[Issue]:
    path = Path(path)
    try:
        data, issues = resolve_inheritance(path)
    except ConditionError as exc:
        return [Issue(str(path), "(file)", str(exc))]
    if issues:
        return issues
    if data.get("abstract"):
        # An abstract base is only checked for its keys and values, not for completeness.
        return [i for i in validate_data(data, str(path)) if "required key is missing" not in i.message]
    return validate_data(data, str(path))


def load_condition(name_or_path: str | Path, directory: Path | None = None) -> Condition:
    """Load, resolve and validate a condition by name (``cttc/NAME.yaml``) or path."""
    path = resolve_path(name_or_path, directory)
    data, issues = resolve_inheritance(path)
    if not issues:
        if data.get("abstract"):
            raise ConditionError(f"{path.stem} is an abstract base condition; run one of the conditions built on it.")
        issues = validate_data(data, str(path))
    if issues:
        raise ConditionError(
            f"Condition {path} is invalid:\n  " + "\n  ".join(map(str, issues))
            + "\nFix the file (see `vcmbench cttc validate`)."
        )
    return Condition(data=data, path=path, content_hash=content_hash(data))


# ---------------------------------------------------------------------------------------------
@dataclass
class FileCheck:
    role: str
    file: str
    ok: bool
    message: str
    expected_md5: str = ""
    actual_md5: str = ""
    expected_count: int | None = None
    actual_count: int | None = None


def _md5_and_lines(path: Path) -> tuple[str, int]:
    h = hashlib.md5()
    data = path.read_bytes()
    h.update(data)
    lines = [ln for ln in data.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return h.hexdigest(), len(lines)


def data_files(cond: Condition) -> list[tuple[str, dict[str, Any], str | None]]:
    """(role, file ref, count key) of every user-supplied file the condition records."""
    ds = cond.dataset
    out: list[tuple[str, dict[str, Any], str | None]] = []
    if ds.get("image_list"):
        out.append(("image_list", ds["image_list"], "count"))
    for role, ref in (ds.get("annotations") or {}).items():
        out.append((f"annotations.{role}", ref, "rows"))
    if ds.get("classes"):
        out.append(("classes", ds["classes"], "count"))
    return out


def verify_data(cond: Condition, data_dir: str | Path) -> list[FileCheck]:
    """Check the user's list/annotation files against the recorded checksums and counts.

    Counts: an image list or class list counts its non-empty lines; a CSV counts rows after the
    header; a JSON annotation file records the number of ``annotations`` entries.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"Data directory {data_dir} does not exist. Give the folder holding the condition's files.")
    checks = []
    for role, ref, count_key in data_files(cond):
        path = data_dir / ref["file"]
        exp_n = ref.get(count_key) if count_key else None
        if not path.exists():
            checks.append(FileCheck(role, ref["file"], False, f"missing: {path} does not exist",
                                    ref.get("md5", ""), "", exp_n, None))
            continue
        fmt = ref.get("format", "")
        if path.is_dir():
            n = sum(1 for _ in path.rglob("*_instanceIds.png")) if fmt == "cityscapes-gtfine" else \
                sum(1 for f in path.rglob("*") if f.is_file())
            ok = exp_n is None or n == exp_n
            checks.append(FileCheck(role, ref["file"], ok, "ok (directory; no checksum)" if ok else
                                    f"{count_key} {n} differs from the recorded {exp_n}", "", "", exp_n, n))
            continue
        md5, lines = _md5_and_lines(path)
        if fmt == "coco-json":
            import json

            try:
                n = len(json.loads(path.read_text(encoding="utf-8")).get("annotations", []))
            except (json.JSONDecodeError, AttributeError):
                n = -1
        elif fmt.endswith("-csv"):
            n = max(lines - 1, 0)
        else:
            n = lines
        problems = []
        if ref.get("md5") and md5 != ref["md5"]:
            problems.append(f"md5 {md5} differs from the recorded {ref['md5']}")
        if exp_n is not None and n != exp_n:
            problems.append(f"{count_key} {n} differs from the recorded {exp_n}")
        ok_msg = "ok" if ref.get("md5") else "ok (no checksum recorded; count checked)"
        checks.append(FileCheck(role, ref["file"], not problems, "; ".join(problems) or ok_msg,
                                ref.get("md5", ""), md5, exp_n, n))
    return checks
