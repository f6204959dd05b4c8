"""Validation of resolved condition data: schema (keys, types, ranges), then fields that contradict
each other.  Returns every ``Issue`` (file, dotted key, message with the fix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .schema import _NAME, CODECS, METRICS, REQUIRED, SCHEMA, SCHEMA_VERSION, Issue


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
            if key == "qps" and section == "codec" and _is_sequences(data):
                continue  # a sequence condition's QP ladders are per class (dataset.qp_ladders)
            if key not in obj:
                issues.append(Issue(file, prefix + key, "required key is missing"))
    if issues:
        return issues
    return issues + _consistency(data, file)


def _is_sequences(data: dict[str, Any]) -> bool:
    ds = data.get("dataset")
    return isinstance(ds, dict) and "sequences" in ds


def _consistency(d: dict[str, Any], file: str) -> list[Issue]:
    """Fields that contradict each other."""
    out: list[Issue] = []
    add = lambda key, msg: out.append(Issue(file, key, msg))  # noqa: E731
    if _is_sequences(d):
        from .schema_sequences import consistency

        for key, msg in consistency(d):
            add(key, msg)
    else:
        if d["rate"]["definition"] == "kbps-sequence":
            add("rate.definition", "kbps-sequence rates sequences; a picture dataset uses bpp-dataset")
        if d["codec"].get("structure") is not None:
            add("codec.structure", "a picture condition codes each picture intra; structure (low-delay, random-access) "
                                   "is for sequence conditions: remove it")
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
        out += _feature_consistency(feature, file)
    ibd, idepth = codec.get("input_bit_depth"), codec["internal_bit_depth"]
    if ibd is not None and ibd > idepth:
        add("codec.input_bit_depth", f"input bit depth {ibd} exceeds the internal bit depth {idepth}")
    if codec.get("encode"):
        for key in ("encode", "decode"):
            t = codec.get(key) or ""
            for ph in ("{input}", "{output}") + (("{qp}",) if key == "encode" else ()):
                if t and ph not in t:
                    add(f"codec.{key}", f"the {key} template needs the placeholder {ph}")
        if codec.get("bitstream_format", "vvc") != "vvc" and not codec.get("decode"):
            add("codec.decode", "a non-VVC template codec needs a decode template (its bitstreams must be verified)")
        if codec["name"] in CODECS:
            add("codec.name", f"{codec['name']!r} is a built-in codec; name a template codec after its tool (e.g. x265)")
    elif codec["name"] not in CODECS:
        add("codec.name", f"{codec['name']!r} is not a codec: use one of {', '.join(CODECS)}, or give encode/decode "
                          "command templates (README 'Codecs')")
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
    if (task["type"] == "tracking") != (metric["name"] == "mota"):
        add("task.type", "a tracking task is scored by MOTA and MOTA scores a tracking task: set task.type tracking "
                         "with metric mota, or another metric")
    if metric["name"] == "mota" and not metric.get("mot"):
        add("metric.mot", "a MOTA condition names the reference framework's MOT settings it is scored with: "
                          "mot: tvd (all ground-truth rows, distractor step, class 1) or mot: hieve (rows with "
                          "confidence 1, no class filter); see `vcmbench evaluate mot --help`")
    if metric.get("mot") and metric["name"] != "mota":
        add("metric.mot", "only a MOTA condition has MOT settings; remove mot")
    if task["type"] == "detection" and iou_type == "segm":
        add("metric.iou_type", "a detection task produces boxes only; segm needs task.type instance-segmentation")
    if task["type"] == "instance-segmentation" and iou_type == "bbox" and metric["name"] == "oid-challenge":
        add("metric.iou_type", "the OID instance-segmentation challenge metric evaluates masks; set segm")
    gt_mode = d.get("ground_truth", {}).get("mode", "annotations")
    ann = d["dataset"].get("annotations") or {}
    if _is_sequences(d):
        fmts_seq = {s["annotations"]["format"] for s in d["dataset"]["sequences"] if s.get("annotations")}
        for f in sorted(fmts_seq - set(fmts)):
            add("dataset.sequences", f"annotation format {f!r} cannot feed {metric['name']} (reads {list(fmts)})")
    elif gt_mode == "annotations":
        if not ann:
            add("dataset.annotations", "ground_truth mode 'annotations' needs annotation files (or mode reference-output)")
        for role, ref in ann.items():
            if ref["format"] not in fmts:
                add(f"dataset.annotations.{role}.format",
                    f"{ref['format']!r} cannot feed {metric['name']} (reads {list(fmts)})")
    ds = d["dataset"]
    coco_json = any(ref["format"] == "coco-json" for ref in ann.values())
    if not _is_sequences(d) and not (ds.get("image_list") or ds.get("image_ids") or ds.get("sample_images") or (coco_json and ds.get("images"))
            or (ds.get("images") and ann)):
        add("dataset", "name the images: image_list (file, md5, count), image_ids, sample_images, "
                       "or an images folder with annotations that list them")
    n_qps = len(codec["qps"]) if codec.get("qps") else min(
        (len(lad["qps"]) for lad in (ds.get("qp_ladders") or {}).values() if lad.get("qps")), default=4)
    if d["bd"]["method"] == "cubic" and n_qps < 4:
        add("bd.method", f"cubic needs at least 4 rate points per curve; the QP ladder has {n_qps}")
    return out


def _feature_consistency(feature: dict[str, Any], file: str) -> list[Issue]:
    """Tiling against each layer's channel count; the range, formula and header agree."""
    out: list[Issue] = []
    add = lambda key, msg: out.append(Issue(file, key, msg))  # noqa: E731
    tiling = feature.get("tiling", {})
    layers = feature.get("coded_layers", [])
    ch = feature.get("channels")
    for layer in layers:
        if layer not in tiling:
            add(f"feature.tiling.{layer}", "coded layer has no tiling")
    for layer, (w, h) in tiling.items():
        n = ch.get(layer) if isinstance(ch, dict) else ch
        if layer not in layers:
            add(f"feature.tiling.{layer}", f"tiling given for {layer}, which is not in coded_layers")
        elif n is not None and w * h != n:
            add(f"feature.tiling.{layer}", f"{w} x {h} = {w * h} tiles, but the layer has {n} channels")
    if isinstance(ch, dict):
        for layer in sorted(set(ch) - set(layers)):
            add(f"feature.channels.{layer}", f"channel count given for {layer}, which is not in coded_layers")
    rng = feature["quant_range"]
    header_bits = (feature.get("header") or {}).get("bits", 0)
    if rng["mode"] == "per-image" and header_bits < 64:
        add("feature.header", "a per-image range is transmitted: give header: {bits: N >= 64 (two float32), source: ..}")
    if "quant_scale" in feature and feature.get("quant_formula") != "ee12-scale":
        add("feature.quant_scale", "quant_scale belongs to quant_formula ee12-scale; remove it or set the formula")
    if rng["mode"] == "per-image" and "quant_scale" in feature:
        add("feature.quant_scale", "a literal scale needs a fixed range; remove quant_scale")
    if not 1 <= feature["quant_bits"] <= 16:
        add("feature.quant_bits", f"{feature['quant_bits']} is outside 1..16")
    return out
