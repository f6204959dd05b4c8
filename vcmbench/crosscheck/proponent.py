"""The condition a package is checked under: the checker's, or "the proponent's condition" shipped inside it.

A manifest names its condition by a shipped name (the checker's own file) or as a ``.yaml`` file
inside the package — the proponent's condition.  That file is untrusted data and is read contained:

* it is a plain member of the package (``package.resolve_member``: no absolute path, no ``..``, no link);
* its ``base:`` is a plain name, and the base file is read beside it *in the package* (one level), never
  from ``cttc/`` or anywhere else on this machine;
* no string anywhere in it (or its base) is an absolute or escaping path (``/...``, ``~...``, ``C:\\``,
  ``\\\\server``, ``file:``, a ``..`` part) — such a condition is refused before anything it names is opened.

It is then compared with the shipped condition of the same name (its ``name:`` or file stem): identical
settings -> checked under the shipped condition; different settings -> a look-alike, reported as
``differs`` with its differences (so never VERIFIED, whatever else verifies); no shipped condition of
that name -> checked under it as given, reported ``unchecked`` (``--strict`` refuses it).  The report
shows its content hash (``#xxxxxx``, as in a signature), the SHA-256 of its file and the differences.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..conditions.model import settings_of
from ..core.errors import VcmbenchError
from .package import PackageRefused, check_member_name, resolve_member

SHIPPED, PROPONENT, COMMAND_LINE = "shipped", "proponent", "command line"
_BASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
PROSE = ("title", "description", "source", "image_ids_source")


@dataclass
class CheckedCondition:
    """The condition the package was checked under, and where it came from."""

    condition: Any  # conditions.Condition
    source: str  # SHIPPED | PROPONENT | COMMAND_LINE
    file: str | None = None  # the proponent's file, package-relative
    sha256: str | None = None  # of the proponent's file
    shipped: str | None = None  # the shipped condition of the same name, when there is one
    differences: list[str] = field(default_factory=list)  # settings that differ from the shipped condition
    prose: list[str] = field(default_factory=list)  # prose keys that differ (no number depends on them)

    def describe(self) -> str:
        c = self.condition
        if self.source == PROPONENT:
            text = (f"the proponent's condition {c.name!r} ({self.file}, content hash #{c.content_hash}, "
                    f"sha256 {self.sha256})")
            if self.differences:
                text += f", which differs from the shipped condition {self.shipped!r}"
            elif self.shipped is None:
                text += ", not a shipped condition"
            return text
        if self.source == COMMAND_LINE:
            return f"the checker's condition {c.name!r} (--condition, content hash #{c.content_hash})"
        return f"the shipped condition {c.name!r} (content hash #{c.content_hash})"


def _refuse_paths(obj: Any, file: str, where: str = "") -> None:
    """Refuse any string that is an absolute or escaping path (keys and values, at any depth)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _refuse_paths(k, file, where)
            _refuse_paths(v, file, f"{where}.{k}" if where else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _refuse_paths(v, file, f"{where}[{i}]")
    elif isinstance(obj, str):
        s = obj.strip()
        parts = re.split(r"[\\/]", s)
        if (s.startswith(("/", "~", "\\")) or _DRIVE.match(s) or s.lower().startswith("file:") or "\x00" in s
                or ".." in parts):
            raise PackageRefused(f"Refusing the proponent's condition {file}: {where or 'a key'} = {s[:80]!r} is an "
                                 "absolute or escaping path; a package's condition may name only files relative to "
                                 "the checker's --data (nothing of the checking machine is read). Ask the proponent "
                                 "to use the shipped condition's file names.")


def _sample_pictures() -> set[str]:
    """Sample names a package's condition may use: pictures bundled with scikit-image, and the samples of
    the shipped conditions (``skimage.data`` also holds functions such as ``download_all``)."""
    from ..conditions.load import list_conditions, read_yaml, resolve_path

    names: set[str] = set()
    for n in list_conditions():
        names.update(str(x) for x in (read_yaml(resolve_path(n)).get("dataset") or {}).get("sample_images") or [])
    try:
        import skimage.data as skd

        names.update(p.stem for p in Path(skd.__file__).parent.iterdir()
                     if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif"))
    except ImportError:
        pass
    return names


def _checker(rel: str):
    def check(data: dict[str, Any], path: Path) -> None:
        _refuse_paths(data, rel)
        ds = data.get("dataset")
        samples = ds.get("sample_images") if isinstance(ds, dict) else None
        if isinstance(samples, list) and samples:
            allowed = _sample_pictures()
            bad = [x for x in samples if not isinstance(x, str) or x not in allowed]
            if bad:
                raise PackageRefused(f"Refusing the proponent's condition {rel}: sample_images {bad[:3]!r} are not "
                                     "sample pictures bundled here (a package's condition may name only those: "
                                     f"{', '.join(sorted(allowed)[:12])}, ...).")
        base = data.get("base")
        if base is not None and not (isinstance(base, str) and _BASE_NAME.match(base)):
            raise PackageRefused(f"Refusing the proponent's condition {rel}: base {str(base)[:80]!r} is not a plain "
                                 "condition name; its base must be a condition file beside it in the package.")
    return check


def _base_file(root: Path, rel: str):
    parent = PurePosixPath(rel).parent

    def base_file(name: str) -> Path:
        member = str(parent / f"{name}.yaml")
        try:
            return resolve_member(root, member)
        except PackageRefused:
            raise
        except VcmbenchError:
            raise PackageRefused(f"Refusing the proponent's condition {rel}: its base {name!r} is not in the package "
                                 f"({member}); a package's condition inherits only from a condition file beside it "
                                 "in the package, never from this machine's conditions.") from None
    return base_file



def _flat(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict) and obj:
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def differences(shipped: dict[str, Any], theirs: dict[str, Any], limit: int = 40) -> list[str]:
    """``key: shipped X, proponent's Y`` for every leaf that differs (values shown as JSON, shortened)."""
    a, b = _flat(shipped), _flat(theirs)

    def show(d: dict[str, Any], k: str) -> str:
        if k not in d:
            return "(absent)"
        t = json.dumps(d[k], sort_keys=True, default=str)
        return t if len(t) <= 80 else t[:80] + "..."
    keys = sorted(k for k in set(a) | set(b) if a.get(k, ...) != b.get(k, ...))
    out = [f"{k}: shipped {show(a, k)}, proponent's {show(b, k)}" for k in keys[:limit]]
    if len(keys) > limit:
        out.append(f"... and {len(keys) - limit} more")
    return out


def load_package_condition(rel: str, root: Path) -> CheckedCondition:
    """The proponent's condition ``rel`` (a .yaml member of the package), read contained (module docstring),
    compared with the shipped condition of the same name."""
    from ..conditions import load_condition
    from ..conditions.load import list_conditions

    check_member_name(rel)
    path = resolve_member(root, rel)
    theirs = load_condition(path, check=_checker(rel), base_file=_base_file(root, rel))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    shipped_names = list_conditions()
    name = next((n for n in (theirs.name, path.stem) if n in shipped_names), None)
    out = CheckedCondition(theirs, PROPONENT, file=rel, sha256=digest, shipped=name)
    if name is None:
        return out
    ours = load_condition(name)
    a, b = dict(ours.data), dict(theirs.data)
    out.differences = differences(settings_of(a), settings_of(b))
    out.prose = sorted(k for k in set(_flat(a)) | set(_flat(b))
                       if k.split(".")[-1] in PROSE and _flat(a).get(k) != _flat(b).get(k))
    if not out.differences:
        out.condition, out.source = ours, SHIPPED  # same settings: the checker's own file is used
    return out


def look_alike_of(rel: str, root: Path) -> str | None:
    """The shipped condition a package's condition file is named like (its file stem or its ``name:``), or None;
    for a file that could not be loaded (it is read again only as a plain YAML member of the package)."""
    from ..conditions.load import list_conditions, read_yaml

    shipped = list_conditions()
    stem = PurePosixPath(rel).stem
    if stem in shipped:
        return stem
    try:
        name = read_yaml(resolve_member(root, rel)).get("name")
    except VcmbenchError:
        return None
    return name if isinstance(name, str) and name in shipped else None


def checked_condition(name: str, root: Path, trusted: bool) -> CheckedCondition:
    """The condition a package is checked under.  ``trusted``: named by the checker (``--condition``: any
    name or path of this machine).  From the untrusted manifest only a shipped condition name or a
    ``.yaml`` file inside the package is accepted (never a path on this machine: ``/dev/zero`` or
    ``/etc/passwd`` are refused without being opened)."""
    from ..conditions import load_condition
    from ..conditions.load import list_conditions

    if trusted:
        cond = load_condition(name)
        return CheckedCondition(cond, SHIPPED if name in list_conditions() else COMMAND_LINE)
    if name in list_conditions():
        return CheckedCondition(load_condition(name), SHIPPED)
    if not name.lower().endswith((".yaml", ".yml")):
        raise PackageRefused(f"the manifest names condition {name[:80]!r}, which is neither a shipped condition "
                             f"({', '.join(list_conditions())}) nor a .yaml file inside the package; give --condition")
    return load_package_condition(name, root)
