"""Every documented command runs: the fenced sh/bash and Python blocks of README.md and docs/**/*.md.

One test per page: its blocks run in order in a fresh copy of the repository with EGLB_SMOKE=1 (the
convention: docs/development/docs.md). The tests below the page test check the checker itself.
"""

from __future__ import annotations

import pytest
from docs_blocks import ROOT, MarkerError, PageRun, missing_data, pages, parse

PAGES = [page for page in pages() if any(block.runs for block in parse(page))]


@pytest.fixture(scope="session")
def parsed_cache(tmp_path_factory):
    """One parsed-file cache for the history pages of this session (the first page parses, the rest read)."""
    return tmp_path_factory.mktemp("eglb-cache")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_documented_commands_run(page, tmp_path, parsed_cache):
    blocks = parse(page)
    missing = missing_data(blocks)
    if missing:
        pytest.skip(f"{page.relative_to(ROOT)} runs on {', '.join(missing)}, which is not here")
    run = PageRun.prepare(tmp_path, parsed_cache)
    for block in blocks:
        if block.runs and block.skip is None:
            try:
                run.run(block)
            except AssertionError as failure:  # the block's line and output say it all: no traceback of the harness
                pytest.fail(str(failure), pytrace=False)


def test_every_page_parses():
    """Every marker is known and sits above a fence that runs; every fence language is known."""
    counted = sum(sum(block.runs for block in parse(page)) for page in pages())
    assert counted >= 20  # the README's recipes and the guides' commands: the test must not quietly run nothing


def test_skips_give_reasons():
    for page in pages():
        for block in parse(page):
            assert block.skip is None or len(block.skip.strip()) >= 10, f"{block.where}: say why the block does not run"


# ----------------------------------------------------------------------------------- the checker itself
PAGE = """# A page

<!-- docs-test: expect="hello" files="out/x.txt" -->
```sh
mkdir -p out && echo hello > out/x.txt && cat out/x.txt
```

```console
$ not run
```

<!-- docs-test: exit=3 -->
```bash
exit 3
```

```python
value = 41
```

<!-- docs-test: continue expect="42" -->
```python
print(value + 1, open("out/x.txt").read().strip())
```
"""


def test_blocks_run_in_order_in_one_copy(tmp_path):
    blocks = parse(tmp_path / "page.md", PAGE)
    assert [(b.line, b.language, b.runs) for b in blocks] == [
        (4, "sh", True),
        (8, "console", False),
        (13, "bash", True),
        (17, "python", True),
        (22, "python", True),
    ]
    run = PageRun.prepare(tmp_path)
    outputs = [run.run(b) for b in blocks if b.runs]
    assert outputs[0] == "hello\n"
    assert outputs[3] == "42 hello\n"  # the continued snippet sees the variable and the first block's file
    assert (run.workdir / "train.py").exists() and not (run.workdir / "runs").exists()
    assert run.env["EGLB_SMOKE"] == "1"
    venv = run.workdir / ".venv"
    if venv.exists():  # make's targets use the project's environment and never reinstall it from the copy
        assert not venv.is_symlink() and (venv / "bin" / "python").exists()
        assert (venv / ".installed").stat().st_mtime >= (run.workdir / "pyproject.toml").stat().st_mtime


@pytest.mark.parametrize(
    "block, message",
    [
        ("```sh\nfalse\n```\n", "exit status 1, expected 0"),
        ('<!-- docs-test: expect="bye" -->\n```sh\necho hi\n```\n', "no 'bye' in its output"),
        ('<!-- docs-test: files="nothing.txt" -->\n```sh\ntrue\n```\n', "no file nothing.txt"),
        ("```python\nraise SystemExit(0) if False else print(1 / 0)\n```\n", "a traceback"),
        (
            "```python\nprint('Traceback (most recent call last):')  # a traceback caught and printed, exit 0\n```\n",
            "a traceback",
        ),
        ("<!-- docs-test: timeout=1 -->\n```sh\nsleep 5\n```\n", "still running after 1 s"),
    ],
)
def test_a_failing_block_fails_naming_its_line(tmp_path, block, message):
    (found,) = [b for b in parse(tmp_path / "page.md", block) if b.runs]
    run = PageRun.prepare(tmp_path)
    with pytest.raises(AssertionError, match=message) as error:
        run.run(found)
    assert f"page.md:{found.line}" in str(error.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ('<!-- docs-test: expcet="x" -->\n```sh\ntrue\n```\n', "unknown docs-test directive 'expcet=x'"),
        ("<!-- docs-test: exit=two -->\n```sh\ntrue\n```\n", "unknown docs-test directive 'exit=two'"),
        ('<!-- docs-test: expect="x" -->\nsome text\n```sh\ntrue\n```\n', "must sit right above a fence"),
        ('<!-- docs-test: expect="x" -->\n```text\nshown\n```\n', "above a text fence, which does not run"),
        ("```pyhton\nprint(1)\n```\n", "fence language 'pyhton'"),
        ('<!-- docs-test: expect="unclosed -->\n```sh\ntrue\n```\n', "No closing quotation"),
    ],
)
def test_malformed_markers_are_errors(tmp_path, text, message):
    with pytest.raises(MarkerError, match=message):
        parse(tmp_path / "page.md", text)


def test_pages_naming_missing_data_are_known(tmp_path):
    blocks = parse(tmp_path / "page.md", "```sh\nls ../shared/data/no-such-set\n```\n")
    assert missing_data(blocks) == ["../shared/data/no-such-set"]


def test_readme_links_resolve():
    """The README is read on GitHub and PyPI, outside the site's --strict build: its relative links are checked here."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)\s]+)\)", readme) if "://" not in t]
    assert len(targets) >= 20
    for target in targets:
        path = target.split("#", 1)[0]
        assert (ROOT / path).exists(), f"README.md links to {target}, which does not exist"
