"""The house: every package imports only the layers below it, and no module imports itself back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Bottom to top (ARCHITECTURE.md). A module may import its own layer and the ones before it. The
#: source folders envs/, agents/, ... are the packages eglb.envs, eglb.agents, ... (pyproject.toml);
#: "eglb" is the API in eglb/, "cli" the command-line programs (eglb/cli/, train.py, evaluate.py).
LAYERS = ("envs", "importers", "forecasts", "agents", "robust", "training", "report", "sweeps", "eglb", "cli")
MAPPED = LAYERS[:8]


def module_name(path: Path) -> str | None:
    """The import name of a project file (eglb.envs.scenario for envs/scenario.py), None outside the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if parts[0] in MAPPED:
        return ".".join(("eglb",) + parts)
    if parts[0] == "eglb" or parts in (("train",), ("evaluate",)):
        return ".".join(parts)
    return None


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] in ("train", "evaluate") or parts[:2] == ["eglb", "cli"]:
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in MAPPED else "eglb"


def project_imports() -> dict[str, set[str]]:
    """module name -> the project modules it imports (at any depth of the file: lazy imports count)."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts or (name := module_name(path)) is None:
            continue
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target != "eglb":
                    found.add(target)
        graph[name] = found
    return graph


def test_packages_import_only_downwards():
    upward = []
    for module, targets in project_imports().items():
        own = LAYERS.index(layer(module))
        for target in targets:
            if LAYERS.index(layer(target)) > own:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that climb up the layers: " + ", ".join(sorted(upward))


def test_no_module_imports_itself_back():
    graph = project_imports()
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start and not any(p.endswith(".__init__") for p in trail):
                    circles.append(" -> ".join(trail + [start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
    # A package's __init__ re-exporting its modules is not a circle of modules.
    circles = [c for c in circles if not any(c.split(" -> ")[0] == part.rpartition(".")[0] for part in c.split(" -> ")[1:])]
    assert not circles, "import circles: " + "; ".join(sorted(set(circles))[:5])


def test_no_module_lives_under_two_names():
    """From the repository root (where the folders envs/, agents/, ... sit on sys.path), every module
    imports once, under eglb.*; the bare folder names refuse to import."""
    import subprocess
    import sys

    script = """
import importlib, pkgutil, sys
import eglb
for name in ("envs", "agents", "robust", "training", "report", "importers", "forecasts", "sweeps"):
    package = importlib.import_module("eglb." + name)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
    try:
        importlib.import_module(name)
    except ImportError as error:
        assert "import eglb." + name in str(error), error
    else:
        raise AssertionError(name + " imported under its bare folder name")
files = {}
root = sys.argv[1]
for key, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None) or ""
    if path.startswith(root) and ".venv" not in path:
        files.setdefault(path, []).append(key)
twice = {p: n for p, n in files.items() if len(n) > 1}
assert not twice, twice
print(len([n for n in sys.modules if n.startswith("eglb.")]))
"""
    done = subprocess.run([sys.executable, "-c", script, str(ROOT)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    mapped_files = [p for folder in MAPPED for p in (ROOT / folder).rglob("*.py")]
    assert int(done.stdout.split()[-1]) >= len(mapped_files)  # every module of the mapped folders was imported
