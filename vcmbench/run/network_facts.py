"""The facts planning needs about a task network, without building it: a small cache.

Planning a run needs the network's signature (it goes into every job id), its split points and feature
shapes (feature conditions: checked against the tiling), its task type and classes (Cityscapes
conditions), its complexity and device (provenance).  Building the network for that costs the parent
process the network's imports and weights (seconds, and hundreds of MB that stay resident while the run
goes on).  So the parent reads these facts from a cache keyed by what the network depends on:

* the network name and its options (thresholds, weights path, device, ...);
* the **content** (sha256) of each file the backend's ``identity()`` names (weights, graph files):
  a changed weights file misses the cache whatever its name, size or time stamp;
* the versions of the distributions the backend names (torch, OpenCV), of vcmbench and
  ``FACTS_VERSION`` (the layout of an entry).

A backend whose ``identity()`` is None (plug-ins, ``detectron2:`` models) is built, as before.  On a miss
the network is built once in this process (the facts are then stored); in-process jobs reuse that build.

Where: ``$VCMBENCH_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/vcmbench``, else ``~/.cache/vcmbench``;
entries are ``network-facts/<key sha256>.json``, written atomically.  An entry is data: JSON only,
checked field by field against its key and the expected types; anything else (unreadable, truncated,
another key, a wrong type) is ignored and recomputed.  A cache folder that cannot be written only
costs the next plan a build.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.hashing import file_digest

FACTS_VERSION = 1
CACHE_ENV = "VCMBENCH_CACHE_DIR"
SUBDIR = "network-facts"
MAX_ENTRY_BYTES = 1 << 20  # a facts entry is a few kB; anything larger is not ours


def cache_dir() -> Path:
    """``$VCMBENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/vcmbench``, else ``~/.cache/vcmbench``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "vcmbench"


@dataclass(frozen=True)
class NetworkFacts:
    """What planning reads from a task network, with the same attribute and method names as a built
    ``TaskNetwork`` (``signature()``, ``split_points``, ``feature_layers``, ``feature_info()``,
    ``complexity()``, ``task_type``, ``classes``, ``device``), so the planner's checks take either."""

    name: str
    signature_text: str
    task_type: str
    classes: tuple[str, ...]
    split_points: tuple[str, ...]
    feature_layers: tuple[str, ...]
    feature_info_data: dict[str, Any]
    complexity_data: dict[str, Any] | None
    device: str | None
    cached: bool = False  # True when read from the cache (the network was not built)

    def signature(self) -> str:
        return self.signature_text

    def feature_info(self) -> dict[str, Any]:
        return copy.deepcopy(self.feature_info_data)

    def complexity(self) -> dict[str, Any] | None:
        return copy.deepcopy(self.complexity_data)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "signature": self.signature_text, "task_type": self.task_type,
                "classes": list(self.classes), "split_points": list(self.split_points),
                "feature_layers": list(self.feature_layers), "feature_info": self.feature_info_data,
                "complexity": self.complexity_data, "device": self.device}


def facts_of(task: Any, name: str, options: dict[str, Any]) -> NetworkFacts:
    """The facts of a built network.  ``device`` only when the options name one (a default device
    depends on the machine that builds it, and the cache may be shared by several)."""
    info_fn = getattr(task, "feature_info", None)
    info = info_fn() if callable(info_fn) else {}
    cx_fn = getattr(task, "complexity", None)
    try:
        cx = cx_fn() if callable(cx_fn) else None
    except NotImplementedError:
        cx = None
    device = getattr(task, "device", None) if options.get("device") else None
    return NetworkFacts(name=name, signature_text=str(task.signature()),
                        task_type=str(getattr(task, "task_type", "detection")),
                        classes=tuple(str(c) for c in getattr(task, "classes", ()) or ()),
                        split_points=tuple(str(p) for p in getattr(task, "split_points", ()) or ()),
                        feature_layers=tuple(str(x) for x in getattr(task, "feature_layers", ()) or ()),
                        feature_info_data=json.loads(json.dumps(info or {})),
                        complexity_data=json.loads(json.dumps(cx)) if cx else None,
                        device=None if device is None else str(device))


def _versions(packages: list[str]) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for p in sorted(set(packages)):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def cache_key(name: str, options: dict[str, Any]) -> dict[str, Any] | None:
    """The key material of network ``name`` built with ``options``, or None when only building it tells
    (its backend names no identity).  Hashes the content of every file the backend names."""
    from .. import __version__
    from ..tasks import split_network_name, task_registry

    backend, model = split_network_name(name)
    if backend not in task_registry:
        return None
    factory = task_registry.get(backend)
    ident_fn = getattr(factory, "identity", None)
    if not callable(ident_fn):
        return None
    opts = {"model": model, **options} if model is not None else dict(options)
    ident = ident_fn(**opts)
    if not ident:
        return None
    files = [str(f) for f in ident.get("files", ())]
    return {"facts_version": FACTS_VERSION, "vcmbench": __version__, "network": name,
            "options": json.loads(json.dumps(options, sort_keys=True, default=str)),
            "files": [{"name": Path(f).name, "sha256": file_digest(f, "sha256")} for f in files],
            "packages": _versions(list(ident.get("packages", ())))}


def _key_id(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def entry_path(key: dict[str, Any]) -> Path:
    return cache_dir() / SUBDIR / f"{_key_id(key)}.json"


def _str_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(v, str) for v in x)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _valid_feature_info(info: Any) -> bool:
    if not isinstance(info, dict):
        return False
    for layer, v in info.items():
        if not isinstance(layer, str) or not isinstance(v, dict):
            return False
        shape, rng = v.get("shape"), v.get("range")
        if shape is not None and not (isinstance(shape, list) and all(isinstance(s, int) and not isinstance(s, bool)
                                                                        and s > 0 for s in shape)):
            return False
        if rng is not None and not (isinstance(rng, list) and len(rng) == 2 and all(_number(r) for r in rng)):
            return False
    return True


def _valid_complexity(cx: Any) -> bool:
    if cx is None:
        return True
    if not isinstance(cx, dict) or not cx:
        return False
    for part in ("front", "back"):
        p = cx.get(part)
        if p is not None and not (isinstance(p, dict) and all(v is None or _number(v) for v in p.values())):
            return False
    return cx.get("input_pixels") is None or _number(cx["input_pixels"])


def parse_entry(data: Any, key: dict[str, Any]) -> NetworkFacts | None:
    """The facts of a cache entry, or None when it is not a valid entry for ``key``."""
    if not isinstance(data, dict) or data.get("facts_version") != FACTS_VERSION or data.get("key") != key:
        return None
    f = data.get("facts")
    if not isinstance(f, dict):
        return None
    ok = (isinstance(f.get("name"), str) and f["name"] == key["network"]
          and isinstance(f.get("signature"), str) and f["signature"].strip() != ""
          and isinstance(f.get("task_type"), str) and _str_list(f.get("classes"))
          and _str_list(f.get("split_points")) and _str_list(f.get("feature_layers"))
          and _valid_feature_info(f.get("feature_info")) and _valid_complexity(f.get("complexity"))
          and (f.get("device") is None or isinstance(f.get("device"), str)))
    if not ok:
        return None
    return NetworkFacts(name=f["name"], signature_text=f["signature"], task_type=f["task_type"],
                        classes=tuple(f["classes"]), split_points=tuple(f["split_points"]),
                        feature_layers=tuple(f["feature_layers"]), feature_info_data=f["feature_info"],
                        complexity_data=f["complexity"], device=f.get("device"), cached=True)


def read_entry(key: dict[str, Any]) -> NetworkFacts | None:
    path = entry_path(key)
    try:
        if path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return parse_entry(data, key)


def write_entry(key: dict[str, Any], facts: NetworkFacts) -> bool:
    """Store ``facts`` under ``key`` (atomically); False when the cache folder cannot be written."""
    from ..core.jsonio import write_json

    path = entry_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {"facts_version": FACTS_VERSION, "key": key, "facts": facts.to_json()})
    except OSError:
        return False
    return True


def network_facts(name: str, options: tuple[tuple[str, Any], ...]) -> NetworkFacts:
    """The planning facts of network ``name`` built with ``options`` (the sorted option tuple the jobs
    use): from the cache when its key matches, else by building the network in this process (kept in
    the per-process network cache for in-process jobs) and storing the facts."""
    from .jobs import get_cached_task

    opts = dict(options)
    key = cache_key(name, opts)
    if key is not None:
        got = read_entry(key)
        if got is not None:
            return got
    facts = facts_of(get_cached_task(name, options), name, opts)
    if key is not None:
        write_entry(key, facts)
    return facts
