"""``Condition``: a resolved, validated test condition, its signature parts, content hash and CLI overrides."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConditionError
from ..core.signature import Signature
from .validate import validate_data


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
    def is_sequences(self) -> bool:
        """A video condition: its dataset is a list of sequences (``dataset.sequences``), coded one
        bitstream per sequence and QP (DESIGN.md §2)."""
        return "sequences" in self.dataset

    @property
    def qps(self) -> list[int]:
        if "qps" not in self.codec and self.is_sequences:
            raise ConditionError(f"Condition {self.name} is a sequence condition: its QP ladders are per class "
                                 "(dataset.qp_ladders; see `vcmbench cttc show`), or give --qps.")
        return list(self.codec["qps"])

    def sequence_classes(self, sets: tuple[str, ...] | list[str] = ()) -> dict[str, list[str]]:
        """The reporting classes (class -> sequence names, in order) with the optional ``sets`` applied:
        a set with ``remove`` drops those sequences (from its ``class``, else from every class); a set
        with ``sequences`` adds a class of its own (named by its ``class``, else the set's name)."""
        ds = self.dataset
        classes = {k: list(v["sequences"]) for k, v in (ds.get("report_classes") or {}).items()}
        if not classes:
            classes = {}
            for s in ds.get("sequences") or []:
                classes.setdefault(s["class"], []).append(s["name"])
        available = ds.get("optional_sets") or {}
        for name in sets:
            st = available.get(name)
            if st is None:
                raise ConditionError(f"Condition {self.name} has no optional set {name!r}; available: "
                                     f"{', '.join(available) or 'none'} (see `vcmbench cttc show {self.name}`).")
            if "remove" in st:
                for cls in ([st["class"]] if st.get("class") else list(classes)):
                    classes[cls] = [n for n in classes.get(cls, []) if n not in st["remove"]]
            else:
                classes[st.get("class") or name] = list(st["sequences"])
        return classes

    def sequence_qps(self, sequence: dict[str, Any]) -> list[int] | None:
        """The QP ladder of one sequence: ``codec.qps`` when given (an override), else its class's
        ladder from ``dataset.qp_ladders`` (None where no ladder is published)."""
        if "qps" in self.codec:
            return list(self.codec["qps"])
        qps = (self.dataset.get("qp_ladders") or {}).get(sequence["class"], {}).get("qps")
        return list(qps) if qps else None

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
            for key in ("encode", "decode", "version_command", "bitstream_format"):  # a template codec's own
                c.pop(key, None)
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


def settings_of(obj: Any) -> Any:
    """A condition's data without its prose (title, description, ``source`` texts, ...), at every level."""
    if isinstance(obj, dict):
        return {k: settings_of(v) for k, v in obj.items() if k not in _DOC_KEYS}
    if isinstance(obj, list):
        return [settings_of(v) for v in obj]
    return obj


def content_hash(data: dict[str, Any]) -> str:
    """6 hex digits of SHA-256 over the condition's settings (:func:`settings_of`).  It is part of the
    ``cttc`` signature part (``demo@1#3fa2c1``), so an edit that can move a number but forgot to bump
    ``version`` still makes results incomparable."""
    import hashlib
    import json

    text = json.dumps(settings_of(data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:6]
