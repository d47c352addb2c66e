"""The fenced blocks of the documentation and how they are run (tests/test_docs.py).

The convention is in docs/development/docs.md: ``sh``/``bash`` and ``python`` fences run, each page in
its own copy of the repository, its blocks in order, with ``EGLB_SMOKE=1``; an HTML comment
``<!-- docs-test: ... -->`` right above a fence declares what the block must print or write.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Fences that run, and the command that runs a block's file.
RUNNERS = {"sh": ("bash", "-e", "-o", "pipefail"), "bash": ("bash", "-e", "-o", "pipefail"), "python": ("python",)}
#: Fences shown only. Any other language is an error, so that a misspelt ``pyhton`` cannot hide a block from the test.
SHOWN = {"", "console", "text", "yaml", "json", "markdown", "csv", "toml", "ini", "diff"}
MARKER = re.compile(r"^\s*<!--\s*docs-test:(.*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
SHARED_DATA = re.compile(r"\.\./shared/data/([\w.-]+)")
TRACEBACK = "Traceback (most recent call last)"
#: What a page's copy leaves out: the repository's own state and outputs (as .gitignore), built docs.
TOP_LEVEL_NOT_COPIED = {".git", ".venv", "runs", "results", "build", "site"}
NOT_COPIED_ANYWHERE = ("__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis", ".ruff_cache")


class MarkerError(ValueError):
    """A malformed ``docs-test`` marker: the page, line and what is wrong."""


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text, and its marker's directives."""

    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    expect: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    exit: int = 0
    env: tuple[tuple[str, str], ...] = ()
    cont: bool = False
    timeout: float = 600.0
    skip: str | None = None
    needs: tuple[str, ...] = ()

    @property
    def runs(self) -> bool:
        return self.language in RUNNERS

    @property
    def where(self) -> str:
        try:
            return f"{self.page.relative_to(ROOT)}:{self.line}"
        except ValueError:
            return f"{self.page}:{self.line}"


def _directives(text: str, where: str) -> dict:
    """The directives of one marker's text (``expect="..." files="a b" exit=2 env:K=V continue``)."""
    out: dict = {"expect": [], "env": [], "files": [], "needs": []}
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise MarkerError(f"{where}: docs-test marker: {exc}") from None
    for token in tokens:
        key, sep, value = token.partition("=")
        if key.startswith("env:") and sep:
            out["env"].append((key[4:], value))
        elif key == "expect" and sep:
            out["expect"].append(value)
        elif key in ("files", "needs") and sep:
            out[key].extend(value.split())
        elif key == "exit" and sep and value.isdigit():
            out["exit"] = int(value)
        elif key == "timeout" and sep and re.fullmatch(r"\d+(\.\d+)?", value):
            out["timeout"] = float(value)
        elif key == "skip" and sep and value.strip():
            out["skip"] = value
        elif key == "continue" and not sep:
            out["cont"] = True
        else:
            raise MarkerError(
                f"{where}: unknown docs-test directive {token!r} "
                "(known: expect=TEXT, files=PATHS, exit=N, env:NAME=VALUE, continue, timeout=SECONDS, skip=REASON, needs=PATHS)"
            )
    return out


def parse(path: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of a Markdown page, with the directives of the markers right above it."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    pending: dict = {}
    marker_line = 0
    k = 0
    while k < len(lines):
        marker = MARKER.match(lines[k])
        if marker:
            where = f"{path}:{k + 1}"
            found = _directives(marker.group(1), where)
            for key, value in found.items():
                pending[key] = pending.get(key, []) + value if isinstance(value, list) else value
            marker_line = k + 1
            k += 1
            continue
        fence = FENCE.match(lines[k])
        if not fence:
            if pending and lines[k].strip():
                raise MarkerError(f"{path}:{marker_line}: a docs-test marker must sit right above a fence")
            k += 1
            continue
        indent, ticks, language = fence.group(1), fence.group(2), fence.group(3).lower()
        if language not in RUNNERS and language not in SHOWN:
            raise MarkerError(
                f"{path}:{k + 1}: fence language {language!r}: use sh, bash or python (run) or one of "
                f"{', '.join(sorted(s for s in SHOWN if s))} (shown only)"
            )
        end = k + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(ticks[0] * len(ticks)) and not lines[end].strip().strip(ticks[0])
        ):
            end += 1
        body = [line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[k + 1 : end]]
        if pending and language not in RUNNERS:
            raise MarkerError(f"{path}:{marker_line}: a docs-test marker above a {language or 'plain'} fence, which does not run")
        blocks.append(
            Block(
                page=path,
                line=k + 1,
                language=language,
                code="\n".join(body) + "\n",
                expect=tuple(pending.get("expect", ())),
                files=tuple(pending.get("files", ())),
                exit=pending.get("exit", 0),
                env=tuple(pending.get("env", ())),
                cont=pending.get("cont", False),
                timeout=pending.get("timeout", 600.0),
                skip=pending.get("skip"),
                needs=tuple(pending.get("needs", ())),
            )
        )
        pending = {}
        k = end + 1
    if pending:
        raise MarkerError(f"{path}:{marker_line}: a docs-test marker must sit right above a fence")
    return blocks


def pages() -> list[Path]:
    """README.md and every Markdown page of the site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def missing_data(blocks: list[Block]) -> list[str]:
    """The ``../shared/data/NAME`` folders (and ``needs``) the running blocks name that do not exist here."""
    wanted = set()
    for block in blocks:
        if block.runs and block.skip is None:
            wanted.update(f"../shared/data/{name}" for name in SHARED_DATA.findall(block.code))
            wanted.update(block.needs)
    return sorted(p for p in wanted if not (ROOT / p).exists())


@dataclass
class PageRun:
    """A page's blocks run in order in one copy of the repository."""

    workdir: Path
    env: dict = field(default_factory=dict)
    python_so_far: list[str] = field(default_factory=list)

    @classmethod
    def prepare(cls, tmp: Path, cache: Path | None = None) -> PageRun:
        """A fresh copy of the repository in ``tmp``/repo (``../shared`` linked beside it), the test environment."""
        workdir = tmp / "repo"
        anywhere = shutil.ignore_patterns(*NOT_COPIED_ANYWHERE)

        def ignore(folder: str, names: list[str]) -> set[str]:
            top = TOP_LEVEL_NOT_COPIED.intersection(names) if Path(folder) == ROOT else set()
            return top | anywhere(folder, names)

        shutil.copytree(ROOT, workdir, ignore=ignore, symlinks=True)
        if sys.prefix != sys.base_prefix:
            # The Makefile's targets find the project's .venv: its entries linked, and a stamp of the copy's own,
            # newer than the copied pyproject.toml, so that make never reinstalls the project from a copy.
            venv = workdir / ".venv"
            venv.mkdir()
            for entry in Path(sys.prefix).iterdir():
                if entry.name != ".installed":
                    (venv / entry.name).symlink_to(entry)
            (venv / ".installed").touch()
        shared = ROOT.parent / "shared"
        if shared.exists():
            (tmp / "shared").symlink_to(shared)
        env = dict(os.environ)
        for name in [n for n in env if n.startswith(("PYTEST_", "COV_"))]:
            del env[name]
        # The project's environment first: `python`, `eglb-train`, `mkdocs` are the ones installed with it.
        # sys.executable is not resolved: the venv's python is a link whose folder is the venv's bin.
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        env.update(EGLB_SMOKE="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        if cache is not None:
            env["EGLB_CACHE"] = str(cache)
        return cls(workdir, env)

    def run(self, block: Block) -> str:
        """Run one block; return its output, or raise AssertionError naming the block and what failed."""
        code = block.code
        if block.language == "python":
            if block.cont:
                code = "".join(self.python_so_far) + code
            self.python_so_far = [code]
        script = self.workdir.parent / f"block-{block.line}.{'py' if block.language == 'python' else 'sh'}"
        script.write_text(code, encoding="utf-8")
        env = {**self.env, **dict(block.env)}
        # A session of its own, so that the block and everything it started end with it (a timeout, a stray child).
        process = subprocess.Popen(
            [*RUNNERS[block.language], str(script)],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=block.timeout)
        except subprocess.TimeoutExpired:
            _end_group(process)
            output, _ = process.communicate()
            raise AssertionError(f"{block.where}: still running after {block.timeout:g} s\n{_tail(output)}") from None
        _end_group(process)
        problems = []
        if process.returncode != block.exit:
            problems.append(f"exit status {process.returncode}, expected {block.exit}")
        if TRACEBACK in output:
            problems.append("a traceback")
        problems += [f"no {text!r} in its output" for text in block.expect if text not in output]
        problems += [f"no file {name}" for name in block.files if not (self.workdir / name).exists()]
        if problems:
            raise AssertionError(f"{block.where} ({block.language} block): {'; '.join(problems)}\n{_tail(output)}")
        return output


def _end_group(process: subprocess.Popen) -> None:
    """Kill what is left of the block's process group (nothing, normally)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _tail(output, limit: int = 4000) -> str:
    text = output.decode(errors="replace") if isinstance(output, bytes) else (output or "")
    return text if len(text) <= limit else "...\n" + text[-limit:]
