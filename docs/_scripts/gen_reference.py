"""The API reference pages, generated at build time from the docstrings (mkdocs-gen-files; nothing is committed).

Installed, the project is one package ``eglb`` whose subpackages are the repository's top-level folders
(pyproject's ``package-dir``: ``envs/`` is ``eglb.envs``). griffe, which reads the sources for
mkdocstrings, looks for ``eglb.envs`` in ``eglb/envs/``, so the hook ``api_tree.py`` lays out that tree
in ``build/api/eglb`` when MkDocs starts (mkdocs.yml's ``paths: [build/api]``); this script writes one
page per module under ``reference/`` and the section's navigation (``reference/SUMMARY.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "api"
#: The API first, then the layers bottom to top (ARCHITECTURE.md), the command-line programs last.
ORDER = ("eglb", "envs", "importers", "forecasts", "agents", "robust", "training", "report", "sweeps", "cli")


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
