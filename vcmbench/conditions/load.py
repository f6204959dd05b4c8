"""Loading conditions: by name from ``cttc/`` or by path, one level of ``base:`` inheritance, validation."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Callable

import yaml

from ..core.errors import ConditionError, DataError
from ..core.inputs import MAX_CONDITION, read_text
from ..core.resources import resource_dir
from .model import Condition, content_hash
from .schema import Issue
from .validate import validate_data


def conditions_dir() -> Path:
    return resource_dir("cttc")


def list_conditions(directory: Path | None = None) -> list[str]:
    d = directory or conditions_dir()
    return sorted(p.stem for p in d.glob("*.yaml"))


# Bounds on a condition document: real conditions have depth < 6 and a few hundred nodes; 100,000 QPs
# (a stress test) are ~100k nodes.  Aliases are counted expanded, so an alias bomb is refused, not built.
MAX_DEPTH = 32
MAX_NODES = 500_000


def _check_nodes(root: yaml.Node, path: Path) -> None:
    """Refuse recursive aliases, deep nesting and alias bombs before anything is constructed."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ConditionError(f"{path}: an alias refers to a node that contains it (a recursive structure); "
                                 "write the values out instead of the self-reference.")
        if depth > MAX_DEPTH:
            raise ConditionError(f"{path}: nested more than {MAX_DEPTH} levels deep; a condition is a few "
                                 "levels of mappings — check the file.")
        active.add(key)
        n = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                n += size(k, depth + 1) + size(v, depth + 1)
                if n > MAX_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                n += size(v, depth + 1)
                if n > MAX_NODES:
                    break
        active.discard(key)
        if n > MAX_NODES:
            raise ConditionError(f"{path}: expands to more than {MAX_NODES} values (aliases counted expanded, "
                                 "e.g. an alias bomb); write the condition out plainly.")
        sizes[key] = n
        return n

    size(root, 0)


_PLAIN = (str, int, float, bool, type(None))


def _check_values(obj: Any, path: Path, where: str = "") -> None:
    """Keys must be strings and values plain YAML scalars, lists or mappings, numbers finite."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise ConditionError(f"{path}: key {k!r}{' under ' + where if where else ''} is not a string; "
                                     f"quote it (\"{k}\": ...) or use a named key.")
            _check_values(v, path, f"{where}.{k}" if where else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_values(v, path, f"{where}[{i}]")
    elif not isinstance(obj, _PLAIN):
        raise ConditionError(f"{path}: {where or 'the document'} holds a {type(obj).__name__} ({obj!r:.60}); "
                             "conditions hold strings, numbers, booleans, lists and mappings — quote the value.")
    elif isinstance(obj, float) and not math.isfinite(obj):
        raise ConditionError(f"{path}: {where} is {obj!r}; condition numbers must be finite — write a number.")


def read_yaml(path: Path, what: str = "condition") -> dict[str, Any]:
    """A condition-like YAML file (conditions, studies) read safely: a regular file within a size limit,
    UTF-8, aliases and depth bounded, string keys, plain finite values; else ConditionError."""
    try:
        text = read_text(path, f"{what.capitalize()} file", MAX_CONDITION)
    except DataError as exc:
        raise ConditionError(str(exc)) from None
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            node = loader.get_single_node()
            if node is None:
                data = None
            else:
                _check_nodes(node, path)
                data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ConditionError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ConditionError(f"{path}: nested too deeply to read; a {what} is a few levels of mappings — "
                             "check the file.") from None
    if not isinstance(data, dict):
        raise ConditionError(f"{path}: a {what} must be a YAML mapping, got {type(data).__name__}.")
    _check_values(data, path)
    return data


def resolve_yaml(name_or_path: str | Path, directory: Path, what: str, available: Callable[[], list[str]],
                 hint: str) -> Path:
    """A YAML file given by path, or by name in ``directory`` (``<name>.yaml``); an unknown name is a
    ``ConditionError`` listing ``available()`` and the command ``hint``."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    cand = directory / f"{name_or_path}.yaml"
    if cand.exists():
        return cand
    raise ConditionError(f"Unknown {what} {str(name_or_path)!r}. Available: {', '.join(available())} — see `{hint}`.")


def resolve_path(name_or_path: str | Path, directory: Path | None = None) -> Path:
    d = directory or conditions_dir()
    return resolve_yaml(name_or_path, d, "condition", lambda: list_conditions(d), "vcmbench cttc list")


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in child.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


# A contained condition (a cross-check package's): ``check(data, path)`` vets each document read (raising
# to refuse it) and ``base_file(name)`` gives the base's path (raising when it is outside the container),
# so nothing outside the container is ever opened.
CheckDoc = Callable[[dict[str, Any], Path], None]
BaseFile = Callable[[str], Path]


def resolve_inheritance(path: Path, *, check: CheckDoc | None = None, base_file: BaseFile | None = None
                        ) -> tuple[dict[str, Any], list[Issue]]:
    """Read ``path`` and apply its ``base:`` (one level).  Returns the merged data and issues."""
    data = read_yaml(path)
    if check is not None:
        check(data, path)
    issues: list[Issue] = []
    base_name = data.get("base")
    if not base_name:
        return data, issues
    if base_name == data.get("name") or base_name == path.stem:
        return data, [Issue(str(path), "base", f"inheritance cycle: {path.stem} names itself as base")]
    base_path = base_file(base_name) if base_file is not None else path.parent / f"{base_name}.yaml"
    if not base_path.exists():
        return data, [Issue(str(path), "base", f"base condition {base_name!r} not found beside it ({base_path})")]
    base = read_yaml(base_path)
    if check is not None:
        check(base, base_path)
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


def load_condition(name_or_path: str | Path, directory: Path | None = None, *, check: CheckDoc | None = None,
                   base_file: BaseFile | None = None) -> Condition:
    """Load, resolve and validate a condition by name (``cttc/NAME.yaml``) or path.  ``check`` and
    ``base_file``: a contained condition (see ``CheckDoc``)."""
    path = resolve_path(name_or_path, directory)
    data, issues = resolve_inheritance(path, check=check, base_file=base_file)
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
