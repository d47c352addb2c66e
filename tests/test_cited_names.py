"""What the code cites exists: repository paths named in .py and .yml files, ``eglb.x.y`` names, and
every name ``eglb.__all__`` promises after ``import eglb``."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import eglb

ROOT = Path(__file__).resolve().parents[1]
#: Folders that hold outputs, not sources (gitignored): a path into them names what a program writes.
OUTPUTS = {"runs", "results", "build", "dist", "site"}
#: Top-level folders of the repository a citation can start with.
FOLDERS = sorted(
    p.name
    for p in ROOT.iterdir()
    if p.is_dir() and not p.name.startswith(".") and "egg-info" not in p.name and p.name not in OUTPUTS
)
SKIPPED = {".venv", ".git", "build", "dist"}
#: mkdocs.yml names pages relative to docs/ (mkdocs build --strict checks them).
NOT_CITING = {"mkdocs.yml"}
FOLDER = "|".join(map(re.escape, FOLDERS))
PATH = re.compile(rf"(?<![\w./-])((?:{FOLDER})/[\w./-]*\w\.(?:py|ya?ml|json|md|csv|toml|txt))")
DOTTED = re.compile(r"(?<![\w.])(eglb(?:\.\w+)+)")


def source_files() -> list[Path]:
    files = []
    for pattern in ("*.py", "*.yml", "*.yaml"):
        files += [
            p
            for p in ROOT.rglob(pattern)
            if not SKIPPED & set(p.relative_to(ROOT).parts) and "egg-info" not in str(p) and p.name not in NOT_CITING
        ]
    return sorted(files)


def citations(pattern: re.Pattern) -> list[tuple[str, str]]:
    """(file:line, cited text) of every match of ``pattern`` in the repository's .py and .yml files."""
    found = []
    for path in source_files():
        if path == Path(__file__).resolve():  # this file cites wrong names on purpose
            continue
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{line}", match.group(1)))
    return found


def test_every_cited_repository_path_exists():
    cited = citations(PATH)
    assert len(cited) > 20  # the pattern finds the citations there are
    # A capitalised stem is a placeholder (sweeps/spaces/ALGO.yml).
    missing = [f"{where}: {path}" for where, path in cited if not Path(path).stem.isupper() and not (ROOT / path).exists()]
    assert not missing, "cited paths that do not exist:\n" + "\n".join(missing)


def resolves(dotted: str) -> bool:
    """True if the longest importable prefix of ``dotted`` is a module with the rest as attributes."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            found = importlib.util.find_spec(".".join(parts[:k])) is not None
        except ImportError:
            found = False
        if found:
            value = importlib.import_module(".".join(parts[:k]))
            for attr in parts[k:]:
                if not hasattr(value, attr):
                    return False
                value = getattr(value, attr)
            return True
    return False


def test_every_cited_eglb_name_resolves():
    cited = citations(DOTTED)
    assert len(cited) > 100
    missing = sorted({f"{where}: {name}" for where, name in cited if not resolves(name)})
    assert not missing, "cited names that do not resolve:\n" + "\n".join(missing)


def test_every_name_in_eglb_all_resolves_after_import_eglb():
    """In a fresh interpreter: ``import eglb`` alone makes every name of ``__all__`` an attribute."""
    code = (
        "import eglb, types\n"
        "for name in eglb.__all__:\n"
        "    value = getattr(eglb, name)\n"
        "    if isinstance(value, types.ModuleType):\n"
        "        assert value.__name__ == 'eglb.' + name, (name, value.__name__)\n"
        "assert callable(eglb.benchmark.benchmark)\n"
        "assert set(eglb.__all__) <= set(dir(eglb))\n"
        "print(len(eglb.__all__))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT.parent, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(eglb.__all__)


def test_every_public_module_of_eglb_is_in_all():
    modules = {m.name for m in pkgutil.iter_modules(eglb.__path__) if not m.name.startswith("_")}
    assert modules - set(eglb.__all__) == set()
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        eglb.no_such_thing  # noqa: B018
