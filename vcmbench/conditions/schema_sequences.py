"""The schema of a sequence dataset (video conditions: FCM SFU-HW-Objects-v1, TVD, HiEve).

A condition whose ``dataset`` has ``sequences`` codes sequences, not pictures (DESIGN.md §2: a job is
sequence x QP).  Every fact of a sequence carries its source, so that ``vcmbench cttc show`` can print
each fact beside the document it comes from::

    dataset:
      references: {seqinfo: "CompressAI-Vision .../seqinfo.ini @31165daf", ...}   # short source names
      sequences:
        - name: BQTerrace_1920x1080_60        # the sequence's name in reports
          class: B                            # the class whose QP ladder applies
          dir: BQTerrace_1920x1080_60_val      # its folder: seqinfo.ini, annotations/, PNG frames (MOT layout)
          yuv: BQTerrace_1920x1080_60Hz_8bit_P420.yuv   # or the raw 4:2:0 file (JCT-VC naming)
          width: 1920, height: 1080, fps: 60, bit_depth: 8
          total_frames: 600                   # frames in the raw file (null: no raw file named)
          first_frame: 471, frames: 129        # the evaluated range (FrameSkip, FramesToBeEncoded)
          intra_period: 64
          annotations: {file: BQTerrace_1920x1080_60_val/annotations/BQTerrace_1920x1080_60_val.json,
                        md5: .., rows: 3683, images: 129, format: coco-json}
          sources: {width: seqinfo, ..., first_frame: sfu_dicts}   # a reference name or a text
      qp_ladders: {B: {qps: [32, 37, 42, 47, 52, 57], source: ..}}
      report_classes: {AB: {sequences: [...], source: ..}}           # the classes results are pooled over
      optional_sets: {no-cactus: {remove: [Cactus_1920x1080_50], source: ..}}

A PNG frame folder holds the evaluated frames only (``first_frame`` applies to the raw file), as the
reference framework prepares them.  Checkers return a message that names the fix, or None.
"""

from __future__ import annotations

import re
from typing import Any

STRUCTURES = ("low-delay", "random-access")  # codec.structure of a sequence condition (coding.sequence too)
# the VTM cfg file names of each structure (VTM-12.0 cfg/: encoder_lowdelay_vtm.cfg, encoder_randomaccess_vtm.cfg,
# and the _P_/_main10 variants of the same families)
CFG_STRUCTURE = {"lowdelay": "low-delay", "randomaccess": "random-access", "intra": "all-intra"}
SEQUENCE_FACTS = ("width", "height", "fps", "bit_depth", "total_frames", "first_frame", "frames", "intra_period")
_REQUIRED = ("name", "class", "dir", "width", "height", "fps", "bit_depth", "first_frame", "frames",
             "intra_period", "sources")  # + annotations, unless the ground truth is the reference output
_ALLOWED = set(_REQUIRED) | {"annotations", "yuv", "yuv_md5", "total_frames", "note", "source"}
ANNOTATION_FORMATS = ("coco-json", "mot-gt")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
# JCT-VC test-set naming: <Name>_<W>x<H>_<fps>[Hz][_...].yuv
JCTVC_NAME = re.compile(r"_(\d+)x(\d+)_(\d+)(?:Hz)?(?:_|\.yuv$)")


def _int(v: Any, low: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _names(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) and x for x in v)


def _annotation(a: Any) -> str | None:
    if not isinstance(a, dict):
        return "annotations: expected {file, md5, rows, images, format}"
    unknown = sorted(set(a) - {"file", "md5", "rows", "images", "format", "source"})
    if unknown:
        return f"annotations: unknown key(s) {unknown}; allowed: file, md5, rows, images, format, source"
    if not isinstance(a.get("file"), str) or not a["file"]:
        return "annotations: missing 'file' (path relative to the data folder)"
    if a.get("md5") is not None and (not isinstance(a["md5"], str) or not _MD5.match(a["md5"])):
        return f"annotations: malformed checksum {a['md5']!r}: md5 must be 32 lowercase hex digits"
    if a.get("format") not in ANNOTATION_FORMATS:
        return f"annotations: format {a.get('format')!r} is not one of {list(ANNOTATION_FORMATS)}"
    for k in ("rows", "images"):
        if k in a and not _int(a[k]):
            return f"annotations: '{k}' must be a non-negative integer, got {a[k]!r}"
    return None


def _sequence(s: Any) -> str | None:
    if not isinstance(s, dict):
        return "expected a mapping (name, class, dir, size, fps, bit_depth, frame range, intra_period, sources)"
    name = s.get("name", "?")
    unknown = sorted(set(s) - _ALLOWED)
    if unknown:
        return f"{name}: unknown key(s) {unknown}; allowed: {sorted(_ALLOWED)}"
    missing = [k for k in _REQUIRED if k not in s]
    if missing:
        return f"{name}: missing {', '.join(missing)}"
    for k in ("name", "class", "dir"):
        if not isinstance(s[k], str) or not s[k]:
            return f"{name}: '{k}' must be a non-empty string"
    for k, low in (("width", 2), ("height", 2), ("first_frame", 0), ("frames", 1), ("intra_period", 1)):
        if not _int(s[k], low):
            return f"{name}: '{k}' must be an integer >= {low}, got {s[k]!r}"
    if s["width"] % 2 or s["height"] % 2:
        return f"{name}: {s['width']}x{s['height']} is not a 4:2:0 size (width and height even)"
    if isinstance(s["fps"], bool) or not isinstance(s["fps"], (int, float)) or not 0 < s["fps"] <= 1000:
        return f"{name}: fps must be a positive frame rate, got {s['fps']!r}"
    if s["bit_depth"] not in (8, 10):
        return f"{name}: bit_depth must be 8 or 10, got {s['bit_depth']!r}"
    if s.get("total_frames") is not None and not _int(s["total_frames"], 1):
        return f"{name}: total_frames must be a positive integer or null, got {s['total_frames']!r}"
    if s.get("yuv") is not None and not (isinstance(s["yuv"], str) and s["yuv"].endswith(".yuv")):
        return f"{name}: yuv must name a .yuv file, got {s['yuv']!r}"
    if s.get("yuv_md5") is not None and (not s.get("yuv") or not isinstance(s["yuv_md5"], str)
                                          or not _MD5.match(s["yuv_md5"])):
        return f"{name}: yuv_md5 must be 32 lowercase hex digits, beside a yuv file name"
    msg = _annotation(s["annotations"]) if "annotations" in s else None
    if msg:
        return f"{name}: {msg}"
    src = s["sources"]
    if not isinstance(src, dict) or not all(isinstance(v, str) and v for v in src.values()):
        return f"{name}: sources must map each fact to its source (a reference name or a text)"
    return None


def _sequences(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "expected a non-empty list of sequences"
    for s in v:
        msg = _sequence(s)
        if msg:
            return msg
    return None


def _qp_ladders(v: Any) -> str | None:
    if not isinstance(v, dict) or not v:
        return "expected class -> {qps: [..] or null, source: ..}"
    for cls, lad in v.items():
        if not isinstance(lad, dict) or set(lad) - {"qps", "source"} or not isinstance(lad.get("source"), str):
            return f"{cls}: expected {{qps: [..] or null, source: ..}} (a ladder names where it comes from)"
        qps = lad.get("qps")
        if qps is None:
            continue
        if not isinstance(qps, list) or not qps or not all(_int(q) and q <= 63 for q in qps):
            return f"{cls}: qps must be a non-empty list of integer QPs in 0-63 (or null: none published)"
        if len(set(qps)) != len(qps):
            return f"{cls}: duplicate QP(s) in {qps}"
    return None


def _report_classes(v: Any) -> str | None:
    if not isinstance(v, dict) or not v:
        return "expected class name -> {sequences: [..], source: ..}"
    for cls, rc in v.items():
        if not isinstance(rc, dict) or set(rc) - {"sequences", "source"} or not _names(rc.get("sequences")) \
                or not isinstance(rc.get("source"), str):
            return f"{cls}: expected {{sequences: [names], source: ..}}"
    return None


def _optional_sets(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "expected set name -> {sequences: [..] | remove: [..], source: ..}"
    for name, st in v.items():
        if not isinstance(st, dict) or set(st) - {"sequences", "remove", "class", "note", "source"} \
                or not isinstance(st.get("source"), str):
            return f"{name}: expected {{sequences: [..] or remove: [..], class: .., note: .., source: ..}}"
        if ("sequences" in st) == ("remove" in st):
            return f"{name}: give either sequences (a class of its own) or remove (sequences dropped), not both"
        if not _names(st.get("sequences", st.get("remove"))):
            return f"{name}: the sequence list must be non-empty names"
    return None


def _references(v: Any) -> str | None:
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(t, str) and t for k, t in v.items()):
        return "expected short name -> source text"
    return None


def consistency(d: dict[str, Any]) -> list[tuple[str, str]]:
    """(dotted key, message) for fields of a sequence condition that contradict each other."""
    out: list[tuple[str, str]] = []
    ds = d["dataset"]
    seqs = ds["sequences"]
    names = [s["name"] for s in seqs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        out.append(("dataset.sequences", f"sequence name(s) {dup} appear more than once"))
    ladders = ds.get("qp_ladders") or {}
    gt_mode = (d.get("ground_truth") or {}).get("mode", "annotations")
    out += _structure(d["codec"])
    for s in seqs:
        key = f"dataset.sequences.{s['name']}"
        if not (d["codec"].get("qps") or s["class"] in ladders):
            out.append((key + ".class", f"class {s['class']!r} has no QP ladder: add it to dataset.qp_ladders"))
        total = s.get("total_frames")
        if total is not None and s["first_frame"] + s["frames"] > total:
            out.append((key, f"frames {s['first_frame']}..{s['first_frame'] + s['frames'] - 1} run past the "
                             f"{total} frames of the sequence; fix first_frame/frames"))
        if s.get("yuv"):
            m = JCTVC_NAME.search(s["yuv"])
            if not m:
                out.append((key + ".yuv", f"{s['yuv']!r} does not follow the JCT-VC naming <Name>_<W>x<H>_<fps>.yuv"))
            elif (int(m[1]), int(m[2]), int(m[3])) != (s["width"], s["height"], round(s["fps"])):
                out.append((key + ".yuv", f"{s['yuv']!r} names {m[1]}x{m[2]} at {m[3]} fps; the sequence is "
                                          f"{s['width']}x{s['height']} at {s['fps']:g} fps"))
        ann = s.get("annotations")
        if ann is None:
            if gt_mode != "reference-output":
                out.append((key + ".annotations", "no annotation file: name it (file, format), or set ground_truth "
                                                  "mode reference-output"))
        elif ann["format"] == "coco-json" and ann.get("images") not in (None, s["frames"]):
            out.append((key + ".annotations.images",
                        f"{ann['images']} annotated frames but {s['frames']} evaluated frames: the range must be the "
                        "annotated frames"))
        missing = [f for f in SEQUENCE_FACTS if s.get(f) is not None and f not in s["sources"]]
        if missing:
            out.append((key + ".sources", f"no source for {', '.join(missing)}: every fact names where it comes from"))
        if s.get("yuv_md5") and "yuv_md5" not in s["sources"]:
            out.append((key + ".sources", "no source for yuv_md5: every fact names where it comes from"))
        unknown = sorted(f for f in s["sources"]
                         if f not in SEQUENCE_FACTS + ("yuv", "yuv_md5", "dir", "class", "annotations"))
        if unknown:
            out.append((key + ".sources", f"source given for unknown fact(s) {unknown}"))
    known = set(names)
    for cls, rc in (ds.get("report_classes") or {}).items():
        bad = [n for n in rc["sequences"] if n not in known]
        if bad:
            out.append((f"dataset.report_classes.{cls}", f"unknown sequence(s) {bad}; known: {sorted(known)}"))
    for name, st in (ds.get("optional_sets") or {}).items():
        bad = [n for n in st.get("sequences", st.get("remove", [])) if n not in known]
        if bad:
            out.append((f"dataset.optional_sets.{name}", f"unknown sequence(s) {bad}; known: {sorted(known)}"))
    if any(abs(float(x) - 1.0) > 1e-12 for x in d["codec"]["scales"]):
        out.append(("codec.scales", "sequences are coded at their own size: set scales: [1.0]"))
    if d["rate"]["definition"] != "kbps-sequence":
        out.append(("rate.definition", "a sequence condition is rated in kbps: set kbps-sequence"))
    for key in ("image_list", "image_ids", "images", "annotations", "sample_images"):
        if ds.get(key):
            out.append((f"dataset.{key}", "a sequence dataset names its frames per sequence; remove this key"))
    return out


def cfg_structure(cfg_file: str) -> str | None:
    """The coding structure a VTM cfg file name says (``encoder_lowdelay_vtm.cfg`` -> ``low-delay``;
    ``all-intra`` for an intra cfg), or None when the name says none."""
    name = cfg_file.replace("\\", "/").rsplit("/", 1)[-1].lower().replace("_", "").replace("-", "")
    found = {v for k, v in CFG_STRUCTURE.items() if k in name}
    return found.pop() if len(found) == 1 else None


def _structure(codec: dict[str, Any]) -> list[tuple[str, str]]:
    st = codec.get("structure")
    if st is None:
        return [("codec.structure", f"a sequence condition names its coding structure: structure: "
                                    f"{' | '.join(STRUCTURES)} (the cfg the conditions name)")]
    cfg = codec.get("cfg") or {}
    said = cfg_structure(cfg.get("file") or "") if cfg.get("file") else None
    if said is not None and said != st:
        return [("codec.structure", f"structure {st} but the VTM cfg {cfg['file']} is {said}; name the cfg of the "
                                    f"structure (encoder_{st.replace('-', '')}_vtm.cfg) or fix structure")]
    return []


def source_text(ds: dict[str, Any], source: str) -> str:
    """A fact's source with a reference name expanded (``seqinfo`` -> the full reference)."""
    refs = ds.get("references") or {}
    return "; ".join(refs.get(part.strip(), part.strip()) for part in source.split(";"))
