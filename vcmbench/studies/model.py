"""Studies as data: ``cttc/studies/*.yaml`` (``kind: study``), loaded, validated, content-hashed, signed.

A study file names the experiment type (``study: distortions | layers | downscaled-coding |
occlusion``), the test condition it draws its dataset, task network and metric from
(``condition:``, a name in ``cttc/``), optional ``task:`` overrides (network, split point,
thresholds), the experiment's ``settings`` (distortions, factors, QPs, restoration... as data), and
``published:`` — the figures of the design document it reproduces, copied from
``seed-tables.md`` — with ``reproduced:`` saying where the reproduced ones appear in the study
report.  The content hash (conditions.model.content_hash of the file's data) goes into every
study signature: ``study:NAME@VERSION#HASH``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..conditions import Condition
from ..conditions.load import load_condition
from ..conditions.model import content_hash
from ..core.errors import ConditionError
from ..core.resources import resource_dir
from ..core.signature import Signature

STUDY_TYPES = ("distortions", "layers", "downscaled-coding", "occlusion")
DEVIATION_KEYS = ("what", "paper", "here", "why")
REQUIRED = ("schema_version", "kind", "name", "version", "study", "title", "settings", "published", "reproduced")
SCHEMA_VERSION = 1


def studies_dir() -> Path:
    return resource_dir("cttc") / "studies"


def list_studies(directory: Path | None = None) -> list[str]:
    d = directory or studies_dir()
    return sorted(p.stem for p in d.glob("*.yaml"))


@dataclass(frozen=True)
class Study:
    data: dict[str, Any]
    path: Path
    content_hash: str
    condition: Condition | None  # None for studies whose dataset is given on the command line (occlusion)

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def version(self) -> int:
        return int(self.data["version"])

    @property
    def type(self) -> str:
        return self.data["study"]

    @property
    def settings(self) -> dict[str, Any]:
        return self.data.get("settings") or {}

    @property
    def task(self) -> dict[str, Any]:
        """The condition's task section with the study's overrides applied."""
        base = dict(self.condition.task) if self.condition is not None else {}
        base.update(self.data.get("task") or {})
        return base

    def task_options(self) -> tuple[tuple[str, Any], ...]:
        t = self.task
        opts = {k: t[k] for k in ("score_threshold", "max_detections") if k in t}
        opts.update(t.get("options") or {})
        return tuple(sorted(opts.items()))

    @property
    def overrides(self) -> dict[str, Any]:
        """What the command line changed (``study run --condition/--task``); empty for the file as shipped."""
        return dict(self.data.get("overrides") or {})

    def with_overrides(self, *, condition: str | None = None, task: str | None = None) -> "Study":
        """A copy that draws its dataset, task network and metric from another test condition and/or runs
        another task network (``study run --condition NAME --task NAME``).  The changes are written into
        the data (``overrides``, ``condition``, ``task.network``), so the content hash, and with it the
        study signature, differ from the file's; the published figures stay those of the file."""
        import copy

        if not condition and not task:
            return self
        if condition and self.type == "occlusion":
            raise ConditionError(f"Study {self.name} is an occlusion study: its faces come from settings.dataset and "
                                 "--data, not from a test condition; drop --condition.")
        data = copy.deepcopy(self.data)
        over = dict(data.get("overrides") or {})
        if condition:
            data["condition"] = over["condition"] = str(condition)
        if task:
            data["task"] = {**(data.get("task") or {}), "network": str(task)}
            over["task"] = str(task)
        data["overrides"] = over
        issues = validate_study(data, f"{self.path} with {over}")
        if issues:
            raise ConditionError("Study is invalid:\n  " + "\n  ".join(issues) + "\nFix the file or the options.")
        cond = load_condition(data["condition"]) if data.get("condition") else None
        return Study(data, self.path, content_hash(data), cond)

    def signature(self) -> Signature:
        sig = Signature.of(study=f"{self.name}@{self.version}#{self.content_hash}")
        if self.condition is not None:
            sig = sig.merged(Signature.of(cttc=self.condition.signature().get("cttc"),
                                          map=self.condition.signature().get("map")))
        net = str(self.task.get("network", "-")).replace(":", "/").replace("/", "~")
        return sig.with_part("task", net)


def _read(path: Path) -> dict[str, Any]:
    from ..conditions.load import read_yaml

    if not path.exists():
        raise ConditionError(f"Study file {path} does not exist.")
    return read_yaml(path, "study")


def validate_study(data: dict[str, Any], where: str) -> list[str]:
    """Problems with a study's data (empty: valid)."""
    issues = [f"{where}: required key {k!r} is missing" for k in REQUIRED if k not in data]
    if data.get("kind") not in (None, "study"):
        issues.append(f"{where}: kind must be 'study', got {data.get('kind')!r}")
    if "schema_version" in data and data["schema_version"] != SCHEMA_VERSION:
        issues.append(f"{where}: schema_version {data['schema_version']!r} is not supported (use {SCHEMA_VERSION})")
    if "study" in data and data["study"] not in STUDY_TYPES:
        issues.append(f"{where}: study {data['study']!r} is not one of {', '.join(STUDY_TYPES)}")
    if "version" in data and (not isinstance(data["version"], int) or data["version"] < 1):
        issues.append(f"{where}: version must be a positive integer")
    if data.get("study") != "occlusion" and not data.get("condition"):
        issues.append(f"{where}: 'condition' (a test condition in cttc/) is required for a {data.get('study')} study")
    pub = data.get("published")
    if pub is not None:
        if not isinstance(pub, dict) or not isinstance(pub.get("tables"), list) or not pub.get("source"):
            issues.append(f"{where}: published must have 'source' and a list of 'tables'")
        else:
            for i, t in enumerate(pub["tables"]):
                if not isinstance(t, dict) or not t.get("name") or not isinstance(t.get("columns"), list) \
                        or not isinstance(t.get("rows"), list):
                    issues.append(f"{where}: published.tables[{i}] needs name, columns and rows")
                    continue
                bad = [r for r in t["rows"] if not isinstance(r, list) or len(r) != len(t["columns"])]
                if bad:
                    issues.append(f"{where}: published.tables[{i}] ({t['name']}) has rows whose length differs "
                                  f"from its {len(t['columns'])} columns")
    dev = data.get("deviations")
    if dev is not None:
        if not isinstance(dev, list):
            issues.append(f"{where}: deviations must be a list of {{what, paper, here, why}}")
        else:
            for i, d in enumerate(dev):
                missing = [k for k in DEVIATION_KEYS if not (isinstance(d, dict) and str(d.get(k) or "").strip())]
                if missing:
                    issues.append(f"{where}: deviations[{i}] needs non-empty {', '.join(missing)} "
                                  "(what differs, the paper's setting, this run's setting, why)")
    if "settings" in data and not isinstance(data["settings"], dict):
        issues.append(f"{where}: settings must be a mapping")
    issues += [f"{where}: {p}" for p in _code_names(data)]
    return issues


_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def _code_names(data: Any, at: str = "", depth: int = 0) -> list[str]:
    """Places where a study names code to import (a ``module:`` key, a ``package.module:Callable`` string)."""
    from ..features.restoration import CLI_HINT

    if depth > 32:
        return []
    out: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            here = f"{at}.{k}" if at else str(k)
            if k == "module":
                out.append(f"{here} names code to import ({v!r}); {CLI_HINT}")
            else:
                out += _code_names(v, here, depth + 1)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _code_names(v, f"{at}[{i}]", depth + 1)
    elif isinstance(data, str) and at.startswith("settings.") and _IMPORT_PATH.match(data):
        out.append(f"{at} names code to import ({data!r}); {CLI_HINT}")
    return out


def resolve_study_path(name_or_path: str | Path, directory: Path | None = None) -> Path:
    from ..conditions.load import resolve_yaml

    d = directory or studies_dir()
    return resolve_yaml(name_or_path, d, "study", lambda: list_studies(d), "vcmbench study list")


def load_study(name_or_path: str | Path, directory: Path | None = None) -> Study:
    path = resolve_study_path(name_or_path, directory)
    data = _read(path)
    issues = validate_study(data, str(path))
    if issues:
        raise ConditionError("Study is invalid:\n  " + "\n  ".join(issues) + "\nFix the file.")
    cond = load_condition(data["condition"]) if data.get("condition") else None
    return Study(data, path, content_hash(data), cond)
