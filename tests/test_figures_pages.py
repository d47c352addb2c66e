"""make figures writes the results pages: every section has its block in docs/results/, and placing
a measured table (``figures.py --place``) fills every block of that section, with its plots on the site."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import figures  # noqa: E402


def test_every_section_has_one_block_in_the_documentation():
    """One page of the site holds each section's measured block (a results page, or the page that
    documents what it measures); the README may repeat the headline one."""
    found = figures.blocks_named()
    for name in figures.SECTIONS:
        pages = [p for p in found.get(name, []) if p != ROOT / "README.md"]
        assert len(pages) == 1, f"section {name!r} has {len(pages)} blocks in docs/: {pages}"
    unknown = sorted(set(found) - set(figures.SECTIONS))
    assert not unknown, f"blocks no section writes: {unknown}"


def test_the_readme_shows_the_headline_table_and_its_figure():
    found = figures.blocks_named()
    in_readme = [name for name, pages in found.items() if ROOT / "README.md" in pages]
    assert in_readme == ["information-benchmark", "reference-tails"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    figure = "docs/results/figures/published/full-regions.png"
    assert f"]({figure})" in readme and (ROOT / figure).is_file()
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A README and a docs tree of their own for figures.py to write into."""
    docs = tmp_path / "docs"
    (docs / "results").mkdir(parents=True)
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    monkeypatch.setattr(figures, "README", tmp_path / "README.md")
    monkeypatch.setattr(figures, "DOCS", docs)
    monkeypatch.setattr(figures, "PLOTS", docs / "results" / "figures")
    monkeypatch.setattr(figures, "OUT", tmp_path / "results" / "figures")
    block = "<!-- figures:published -->\nold\n<!-- /figures:published -->\n"
    (tmp_path / "README.md").write_text(f"# readme\n\n{block}\nafter\n", encoding="utf-8")
    (docs / "results" / "published.md").write_text(f"# page\n\nbefore\n\n{block}", encoding="utf-8")
    (docs / "other.md").write_text("# no block\n", encoding="utf-8")  # a page without blocks
    return tmp_path


def test_place_fills_every_block_with_plots_on_the_site_only(site):
    source = site / "results" / "published" / "full"
    source.mkdir(parents=True)
    (source / "regions.png").write_bytes(b"\x89PNG fake")
    (source / "regions.pdf").write_bytes(b"%PDF- fake")
    figures.copy_plots("published")
    assert (site / "docs/results/figures/published/full-regions.pdf").read_bytes() == b"%PDF- fake"
    written = figures.place("published", "## Title\n\n| a |\n|---|\n| 1 |\n")
    assert written == [site / "README.md", site / "docs/results/published.md"]
    page = (site / "docs/results/published.md").read_text(encoding="utf-8")
    assert "**Title**" in page and "| 1 |" in page and "old" not in page and page.startswith("# page\n\nbefore")
    assert "](figures/published/full-regions.png)" in page and "([PDF](figures/published/full-regions.pdf))" in page
    readme = (site / "README.md").read_text(encoding="utf-8")
    assert "| 1 |" in readme and "full-regions" not in readme and readme.endswith("after\n")
    assert (site / "docs" / "other.md").read_text(encoding="utf-8") == "# no block\n"


def test_place_option_puts_measured_tables(site, capsys):
    (site / "results" / "figures").mkdir(parents=True)
    (site / "results" / "figures" / "published.md").write_text("measured table\n", encoding="utf-8")
    assert figures.main(["--place"]) == 0
    assert "measured table" in (site / "docs/results/published.md").read_text(encoding="utf-8")
    assert "placed in README.md, docs/results/published.md" in capsys.readouterr().err
