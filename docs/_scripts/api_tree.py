"""MkDocs hook: lays out the installed package's tree for griffe before any plugin starts.

Installed, the project is one package ``eglb`` whose subpackages are the repository's top-level folders
(pyproject's ``package-dir``). mkdocstrings keeps only search paths that exist when it starts, so the tree
``build/api/eglb`` (links to the source folders) must exist before then: on a fresh clone it does not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "api"


def lay_out_tree() -> None:
    """build/api/eglb: the installed package's layout, as links to the source folders."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    if TREE.exists():
        shutil.rmtree(TREE)
    (TREE / "eglb").mkdir(parents=True)
    for entry in (ROOT / "eglb").iterdir():
        if entry.name == "__init__.py":  # a copy: griffe looks for submodules beside the resolved __init__.py
            shutil.copy2(entry, TREE / "eglb" / entry.name)
        elif entry.name != "__pycache__":
            (TREE / "eglb" / entry.name).symlink_to(entry)
    for name, folder in setuptools["package-dir"].items():
        if name != "eglb":
            (TREE / name.replace(".", "/")).symlink_to(ROOT / folder)


def on_startup(command: str, dirty: bool) -> None:
    """Lay out the tree once per MkDocs run (build or serve)."""
    lay_out_tree()
