"""The condition schema: allowed sections and keys, their checkers, required keys, and the named
choices (codecs, metrics, colour modes, BD methods...).  A checker returns an error message that
names the fix, or None."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .schema_sequences import STRUCTURES, _optional_sets, _qp_ladders, _references, _report_classes, _sequences

SCHEMA_VERSION = 1
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

KINDS = ("image", "feature")
TASK_TYPES = ("detection", "instance-segmentation", "tracking")
CODECS = ("vtm", "vvenc")
CHROMA = (420, 400)
TEMPLATE_PLACEHOLDERS = ("{input}", "{output}", "{recon}", "{qp}", "{width}", "{height}", "{bit_depth}",
                         "{internal_bit_depth}", "{chroma}", "{pix_fmt}", "{cfg}")
# The colour-conversion modes of vcmbench.coding.yuv (a test keeps the two lists equal; yuv is not imported
# here so that reading conditions does not need numpy).
COLOR_MODES = ("ctc", "ctc-bitexact", "scripts-literal", "bt601-full-int", "bt601-full-numpy", "bt601-limited-numpy",
               "bt709-full-numpy", "bt709-limited-numpy")
RESIZE_MODES = ("ctc",)
RATE_DEFS = ("bpp-dataset", "kbps-sequence")
SIDE_INFO = ("none", "counted", "not-counted")
METRICS = {
    # metric name -> (annotation formats it reads, quality keys it yields, iou types it supports)
    "oid-challenge": (("oid-boxes-csv", "oid-labels-csv", "oid-masks-csv"), ("map50",), ("bbox", "segm")),
    "coco-ap": (("coco-json",), ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"), ("bbox", "segm")),
    "cityscapes-ap": (("cityscapes-gtfine",), ("AP", "AP50"), ("segm",)),
    "mota": (("mot-gt",), ("MOTA", "IDF1", "MOTP"), ("bbox",)),  # video tracking (TVD, HiEve; issue 23)
}
# metric.mot of a mota condition: which of the reference framework's MOT settings score it (the keys of
# vcmbench.metrics.mot.DATASETS; a test keeps the two equal: metrics is not imported here)
MOT_SETTINGS = ("tvd", "hieve")
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


def _duplicates(values: list) -> list:
    """Values listed more than once, in linear time (a list of 100,000 QPs validates at once)."""
    from collections import Counter

    return sorted(x for x, n in Counter(values).items() if n > 1)


def _qps(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "expected a non-empty list of integer QPs"
    for q in v:
        if not isinstance(q, int) or isinstance(q, bool):
            return f"QP {q!r} is not an integer"
        if not 0 <= q <= 63:
            return f"QP {q} is outside 0-63"
    dup = _duplicates(v)
    if dup:
        return f"duplicate QP(s) {dup}"
    return None


def _scales(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "expected a non-empty list of scales in (0, 1]"
    for s in v:
        if not isinstance(s, (int, float)) or isinstance(s, bool):
            return f"scale {s!r} is not a number"
        if not 0 < s <= 1:  # also refuses NaN
            return f"scale {s} is outside (0, 1] (write 0.75, not 75)"
    dup = _duplicates(v)
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


QUANT_FORMULAS = ("seed-eq1", "ee12-scale", "cav-minmax")  # = vcmbench.features.packing.FORMULAS (a test keeps them equal)
ROUNDINGS = ("round", "floor")
RANGE_MODES = ("fixed", "per-image")


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _quant_range(v: Any) -> str | None:
    """{mode: fixed, min, max, source} or {mode: per-image, source}: the range is condition data."""
    if isinstance(v, str):
        return (f"{v!r}: the quantisation range is condition data, never measured over a run's images; write "
                "{mode: fixed, min: .., max: .., source: ..} or {mode: per-image, source: ..} (per-image ranges are "
                "transmitted: give feature.header.bits)")
    if not isinstance(v, dict):
        return "expected a mapping {mode: fixed|per-image, ...}"
    mode = v.get("mode")
    if mode not in RANGE_MODES:
        return f"mode {mode!r} is not one of {list(RANGE_MODES)}"
    allowed = {"mode", "source"} | ({"min", "max"} if mode == "fixed" else set())
    unknown = sorted(set(v) - allowed)
    if unknown:
        return f"unknown key(s) {unknown}; allowed for mode {mode}: {sorted(allowed)}"
    if not isinstance(v.get("source"), str) or not v["source"]:
        return "missing 'source' (where the range comes from)"
    if mode == "fixed":
        lo, hi = v.get("min"), v.get("max")
        if not (_num(lo) and _num(hi)):
            return "a fixed range needs numeric min and max"
        if not hi > lo:
            return f"max {hi} must exceed min {lo}"
    return None


def _header(v: Any) -> str | None:
    if not isinstance(v, dict) or set(v) - {"bits", "sequence_bits", "source"}:
        return ("expected {bits: N, source: ..} (bits per image, or per frame of a sequence, sent beside the codec "
                "bitstream; video: sequence_bits: M once per coded sequence)")
    for key in ("bits", "sequence_bits"):
        b = v.get(key, 0)
        if not isinstance(b, int) or isinstance(b, bool) or b < 0:
            return f"{key} must be a non-negative integer, got {b!r}"
    if not isinstance(v.get("source"), str):
        return "missing 'source'"
    return None


def _channels(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return None
    if isinstance(v, dict) and all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in v.values()):
        return None
    return "expected a positive integer (every layer) or layer -> channel count"


def _positive(v: Any) -> str | None:
    return None if _num(v) and v > 0 else f"expected a positive number, got {v!r}"


def _yuv_weights(v: Any) -> str | None:
    if v in ("6:1:1", "4:1:1"):
        return None
    if isinstance(v, list) and len(v) == 3 and all(_num(x) and x >= 0 for x in v) and sum(v) > 0:
        return None
    return "expected '6:1:1' (JVET), '4:1:1' or three non-negative weights [wY, wU, wV]"


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
        # a sequence dataset (video, schema_sequences): the sequences, QP ladders, reporting classes, sets
        "sequences": _sequences, "qp_ladders": _qp_ladders, "report_classes": _report_classes,
        "optional_sets": _optional_sets, "references": _references,
    },
    "task": {
        "type": _choice(TASK_TYPES), "network": _type(str), "score_threshold": _type(int, float),
        "max_detections": _type(int), "split_point": _type(str, none=True), "source": SRC,
    },
    "codec": {
        "name": _type(str), "version": _type(str), "cfg": _file_ref(None), "qps": _qps,
        "scales": _scales, "input_bit_depth": _choice((8, 10)), "internal_bit_depth": _choice((8, 10)),
        "chroma_format": _choice(CHROMA), "preset": _type(str, none=True), "loop_filter": _type(bool),
        "extra_args": _str_list, "source": SRC,
        # a codec given by command templates (coding.codecs.template): name is then the tool's name
        "encode": _type(str), "decode": _type(str, none=True), "version_command": _type(str, none=True),
        "bitstream_format": _type(str),
        # a sequence condition's coding structure (schema_sequences: required there, refused elsewhere)
        "structure": _choice(STRUCTURES),
    },
    "preprocess": {"color": _choice(COLOR_MODES), "resize": _choice(RESIZE_MODES), "source": SRC},
    "feature": {
        "coded_layers": _str_list, "derived_layers": _type(dict), "channels": _channels,
        "tiling": _tiling, "quant_bits": _type(int), "quant_range": _quant_range,
        "quant_formula": _choice(QUANT_FORMULAS), "quant_scale": _positive, "rounding": _choice(ROUNDINGS),
        "header": _header, "side_info": _choice(SIDE_INFO), "source": SRC,
    },
    "rate": {"definition": _choice(RATE_DEFS), "side_info": _choice(SIDE_INFO), "source": SRC},
    "metric": {
        "name": _choice(tuple(METRICS)), "iou_type": _choice(("bbox", "segm")), "iou": _type(int, float, none=True),
        "quality_key": _type(str), "report": _str_list, "group_of_weight": _type(int, float), "source": SRC,
        "yuv_weights": _yuv_weights, "mot": _choice(MOT_SETTINGS),
    },
    "bd": {"method": _choice(BD_METHODS), "quality": _type(str), "twin": _type(str), "source": SRC},
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
    "feature": ("coded_layers", "tiling", "quant_bits", "quant_range", "rounding", "source"),
}
