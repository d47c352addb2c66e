"""The API reference pages, generated at build time from the docstrings (mkdocs-gen-files; nothing is committed).

Installed, the project is one package ``eglb`` whose subpackages are the repository's top-level folders
(pyproject's ``package-dir``: ``envs/`` is ``eglb.envs``). griffe, which reads the sources for
mkdocstrings, looks for ``eglb.envs`` in ``eglb/envs/``, so this script first lays out that tree in
``build/api/eglb`` as links to the real folders (mkdocs.yml's ``paths: [build/api]``), then writes one
page per module under ``reference/`` and the section's navigation (``reference/SUMMARY.md``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import mkdocs_gen_files

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "api"
#: The API first, then the layers bottom to top (ARCHITECTURE.md), the command-line programs last.
ORDER = ("eglb", "envs", "importers", "forecasts", "agents", "robust", "training", "report", "sweeps", "cli")


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


def modules() -> list[tuple[str, ...]]:
    """Every public module of the laid-out tree as name parts (a package as its own parts)."""
    found = []
    for folder, dirs, files in os.walk(TREE, followlinks=True):
        dirs[:] = [d for d in dirs if (Path(folder) / d / "__init__.py").exists()]
        base = Path(folder).relative_to(TREE).parts
        for file in files:
            if file.endswith(".py") and (file == "__init__.py" or not file.startswith("_")):
                found.append(base if file == "__init__.py" else base + (file[:-3],))
    return sorted(found, key=lambda parts: (ORDER.index(parts[1]) if len(parts) > 1 and parts[1] in ORDER else 0, parts))


def main() -> None:
    lay_out_tree()
    nav = mkdocs_gen_files.Nav()
    for parts in modules():
        is_package = (TREE.joinpath(*parts) / "__init__.py").exists()
        page = Path(*parts[1:], "index.md") if is_package else Path(*parts[1:-1], f"{parts[-1]}.md")
        nav[parts] = page.as_posix()
        with mkdocs_gen_files.open(Path("reference") / page, "w") as out:
            out.write(f"# `{'.'.join(parts)}`\n\n::: {'.'.join(parts)}\n")
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as out:
        out.writelines(nav.build_literate_nav())


main()
