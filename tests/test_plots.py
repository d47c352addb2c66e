"""Figures a paper can use: one colour and marker per algorithm in every plot, a PDF beside every PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
from eglb.report import plots
from eglb.report import style as style_module
from eglb.report.style import KINDS, style
from matplotlib.colors import to_hex

import eglb


def drawn(figure) -> list[tuple[str, str, str | None]]:
    """(legend label, colour, marker) of every labelled line, bar set and scatter of a figure."""
    found = []
    for ax in figure.axes:
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                marker = line.get_marker()
                found.append((line.get_label(), to_hex(line.get_color()), None if marker in ("None", "", " ") else marker))
        for container in ax.containers:
            label = container.get_label()
            if label and not label.startswith("_") and hasattr(container, "patches"):
                found += [(label, to_hex(patch.get_facecolor()), None) for patch in container.patches]
        for collection in ax.collections:
            if not collection.get_label().startswith("_") and len(collection.get_facecolor()):
                found.append((collection.get_label(), to_hex(collection.get_facecolor()[0]), None))
    return found


@pytest.fixture
def figures(monkeypatch):
    monkeypatch.setattr(style_module, "_ASSIGNED", {})  # the looks drawn by other tests of this process
    seen: dict[str, list] = {}
    save = plots.save_figure

    def keep(figure, path):
        seen[str(path)] = drawn(figure)
        return save(figure, path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return seen


def test_an_algorithm_keeps_its_colour_and_marker_in_every_plot(figures, tmp_path):
    scenario = eglb.ScenarioConfig(synthetic=(100, 101), synthetic_hours=24)
    algos = "eglb,glb-cost,eglb-off,robust(glb-cost,lambda=0.1)"
    files = eglb.evaluate(eglb.EvaluationConfig(algos=algos, scenario=scenario, out=str(tmp_path / "two"))).files
    one = eglb.ScenarioConfig(synthetic=(100,), synthetic_hours=24)
    files += eglb.evaluate(eglb.EvaluationConfig(algos=algos, scenario=one, out=str(tmp_path / "one"))).files
    frontier = eglb.FrontierConfig(eglb.EvaluationConfig(algos="eglb,glb-cost", scenario=one, out=str(tmp_path / "f")), (0, 1))
    files += eglb.frontier(frontier).files
    assert {"regions.png", "ratios.png", "cumulative.png", "frontier.png"} <= {Path(p).name for p in figures}
    looks: dict[str, set] = {}
    for artists in figures.values():
        for label, colour, marker in artists:
            looks.setdefault(label.split(" (")[0].split(":")[0], set()).add((colour, marker) if marker else (colour,))
    for label, kind in (("eGLB", "eglb"), ("GLB-Cost", "glb-cost"), ("eGLB-Off", "eglb-off")):
        colour, marker, _ = KINDS[kind]
        colour = to_hex(colour)
        assert {look[0] for look in looks[label]} == {colour}, (label, looks[label])
        assert {look[1] for look in looks[label] if len(look) > 1} <= {marker}
    # The robust variant keeps its proposer's colour (hatched bars, dashed lines, hollow markers).
    assert {look[0] for look in looks["robust(glb-cost,lambda=0.1)"]} == {to_hex(KINDS["glb-cost"][0])}
    pngs = [f for f in files if f.suffix == ".png"]
    assert sorted(map(str, pngs)) == sorted(figures) and all(f.with_suffix(".pdf") in files for f in pngs)
    assert all(f.with_suffix(".pdf").read_bytes().startswith(b"%PDF") for f in pngs)


def test_a_windows_line_breaks_where_weeks_were_skipped_and_seeds_give_a_band():
    import numpy as np

    starts = {0: "2024-01-01T00", 1: "2024-01-08T00", 3: "2024-01-22T00"}
    rows = [
        {"algo": "bc:g", "window": w, "start": starts[w], "seed": s, "ratio_to_offline": 1.0 + 0.01 * w + 0.002 * s}
        for w in (0, 1, 3)
        for s in (0, 1, 2)
    ]
    when, means, band = plots.window_series(rows, "bc:g")
    assert len(when) == 4 and np.isnan(means[2]) and not np.isnan(means[[0, 1, 3]]).any()
    assert means[3] == pytest.approx(1.03 + 0.002)  # the mean over the three seeds of week 3
    assert (
        band.shape == (2, 4) and (band[0, [0, 1, 3]] <= means[[0, 1, 3]]).all() and (band[1, [0, 1, 3]] >= means[[0, 1, 3]]).all()
    )
    single = [r for r in rows if r["seed"] == 0]
    assert plots.window_series(single, "bc:g")[2] is None  # one seed: no band


def test_the_regions_plot_shows_shares_of_the_worst_region():
    rows = [{"region_water": {"a": 2.0, "b": 8.0, "c": 4.0}}, {"region_water": {"a": 0.0, "b": 0.0, "c": 0.0}}]
    shares = plots.region_shares(rows, ("a", "b", "c"), "water")
    assert shares.tolist() == [[0.25, 1.0, 0.5], [0.0, 0.0, 0.0]]


def test_specs_of_one_kind_get_shades_and_a_classical_name_its_own_colour(monkeypatch):
    monkeypatch.setattr(style_module, "_ASSIGNED", {})
    first, second = style("rhc:w=24"), style("rhc:w=48")
    assert first.color == KINDS["rhc"][0] != second.color and first.marker == second.marker == KINDS["rhc"][1]
    assert first.linestyle != second.linestyle and style("rhc:w=24") is first  # the same look every time
    assert style("rhc").color == KINDS["rhc"][0]  # drawn after the others, still the kind's own colour
    robust = style("robust(rhc:w=24,lambda=0.1)")
    assert robust.color == KINDS["rhc"][0] and robust.hollow and robust.linestyle != "-"
