"""The package layout follows the data flow (DESIGN.md §3): one folder per stage, no import circle,
the CLI imported by nothing in the library, and no stage importing a later one except where the
exception below says why.

Every import counts, also the lazy ones inside functions: a lazy import still ties the modules
together, it only moves the cost.  ``from pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg`` (its ``__init__``).
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "vcmbench"

# The stages in data-flow order: a module may import its own stage and earlier ones.
STAGES = ("core", "conditions", "coding", "tasks", "features", "metrics", "bd", "run", "report", "anchors",
          "studies", "crosscheck", "demo", "cli", "__main__")

# (importer, imported) pairs that go against the order, each with its reason.
ALLOWED_LATER = {
    ("vcmbench.conditions.datasets", "vcmbench.metrics.coco"):
        "a COCO-json dataset's images are listed in its annotation file, read with the metric's loader",
    ("vcmbench.conditions.sequences", "vcmbench.coding.yuv"):
        "a sequence's frames are read and written as planar YUV with the picture's colour conversion "
        "(the video contract puts write_source_yuv/frame_rgb beside SequenceRef)",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names]
            for t in targets:
                while t and t not in mods and "." in t:  # `import vcmbench.x.y` of a name inside a module
                    t = t.rsplit(".", 1)[0]
                if t in mods and t != mod:
                    graph[mod].add(t)
    return graph


def stage(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else None  # None: the top-level package (__version__)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_lazy_imports():
    g = import_graph()
    assert "vcmbench.run.resultset" in g["vcmbench.run.pipeline"]  # imported inside run_condition
    assert "vcmbench.core.errors" in g["vcmbench.cli"]


def test_no_import_circle():
    assert strongly_connected(import_graph()) == []


def test_the_cli_is_imported_by_nothing_in_the_library():
    bad = sorted((m, t) for m, ts in import_graph().items() for t in ts
                 if stage(t) == "cli" and stage(m) not in ("cli", "__main__"))
    assert bad == []


def test_every_module_belongs_to_a_stage():
    assert sorted({stage(m) for m in modules()} - set(STAGES) - {None}) == []


def test_no_stage_imports_a_later_one_without_a_reason():
    bad = []
    for mod, targets in import_graph().items():
        s = stage(mod)
        for t in targets:
            ts = stage(t)
            if s is None or ts is None:
                continue
            if STAGES.index(ts) > STAGES.index(s) and (mod, t) not in ALLOWED_LATER:
                bad.append(f"{mod} -> {t}")
    assert bad == []
    g = import_graph()
    stale = [pair for pair in ALLOWED_LATER if pair[1] not in g.get(pair[0], ())]
    assert stale == [], "an allowed exception no longer happens: remove it"


def test_ruff_finds_nothing():
    """Undefined and unused names, import order (the rules in pyproject.toml [tool.ruff])."""
    import shutil
    import subprocess
    import sys

    import pytest

    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(exe).exists():
        pytest.skip("ruff is not installed (it is in the test extra: pip install -e '.[test]')")
    root = PKG.parent
    paths = ["vcmbench", "tests", "benchmarks", "tools", "tools/lock", "tools/check-newest"]  # tools/ scripts: no .py
    res = subprocess.run([exe, "check", "--no-cache", *paths], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
