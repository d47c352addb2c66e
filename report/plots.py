"""Plots of evaluation results (matplotlib, no display needed), ready for a paper.

Every plot is written as PNG and as PDF beside it (vector, for LaTeX), each atomically. Algorithms
keep one colour and marker in every plot (report/style.py); titles name the data and its years;
means over seeds and scenarios carry their 95 % stratified-bootstrap intervals (report/statistics.py)
as error bars or bands; lines never join points that were not measured next to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from eglb.envs.files import atomic_write  # noqa: E402
from eglb.envs.scenario import Scenario  # noqa: E402
from eglb.report.run import AlgorithmResult  # noqa: E402
from eglb.report.statistics import aggregate  # noqa: E402
from eglb.report.style import ORACLE_NOTE, style  # noqa: E402

FOOTPRINTS = (("water", "water footprint (m$^3$)"), ("carbon", "carbon footprint (t)"))
#: The formats written for every plot (the first is the file name the caller gives).
FORMATS = ("png", "pdf")


def save_figure(figure, path: Path) -> list[Path]:
    """Save a figure as PNG (``path``) and PDF beside it, each through a temporary file; close it."""
    path = Path(path)
    written = []
    for kind in FORMATS:
        target = path.with_suffix(f".{kind}")
        atomic_write(target, lambda tmp, kind=kind: figure.savefig(tmp, format=kind, dpi=150, bbox_inches="tight"))
        written.append(target)
    plt.close(figure)
    return written


def years_of(scenarios: Sequence[Scenario]) -> str:
    """'2022' or '2021-2022': the UTC years the scenarios' hours fall in."""
    years = sorted({int(str(y)) for s in scenarios for y in np.unique(s.timestamps.astype("datetime64[Y]"))})
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"


def data_title(scenarios: Sequence[Scenario]) -> str:
    """What a plot is about: the scenario (or how many, and the first) and the years of its hours."""
    names = [s.name for s in scenarios]
    what = names[0] if len(names) == 1 else f"{len(names)} scenarios ({names[0]}, ...)"
    return f"{what}, {years_of(scenarios)}"


def _interval_bars(rows: list[dict], value: str, low: str, high: str, scale=lambda v: v) -> np.ndarray | None:
    """Asymmetric error bars [2, n] from the rows' interval columns (None when no row has one)."""
    if not any(r.get(low) is not None for r in rows):
        return None
    errors = np.zeros((2, len(rows)))
    for k, r in enumerate(rows):
        if r.get(low) is not None and r.get(value) is not None:
            errors[:, k] = (scale(r[value]) - scale(r[low]), scale(r[high]) - scale(r[value]))
    return np.maximum(errors, 0.0)


def _legend_below(figure, axes, columns: int = 3) -> None:
    handles, labels = [], []
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="lower center", ncol=min(columns, max(1, len(labels))), fontsize=8, frameon=False)


# ------------------------------------------------------------------------------------ per scenario
def region_shares(rows: list[dict], regions: Sequence[str], name: str) -> np.ndarray:
    """[rows, regions] each row's regional footprint ``name`` divided by its worst region's: the worst
    region (what the equity term of J charges) is 1, a perfectly level routing has every region at 1."""
    values = np.array([[r[f"region_{name}"][region] for region in regions] for r in rows], dtype=float)
    worst = values.max(axis=1, keepdims=True)
    return np.divide(values, worst, out=np.zeros_like(values), where=worst > 0)


def plot_regions(rows: list[dict], path: Path, title: str, unit: str = "scenario") -> list[Path]:
    """Each region's water and carbon footprint as a share of the worst region's (the one J penalises),
    one bar per algorithm; with several rows per algorithm (scenarios, windows, seeds) the mean share
    with its 95 % interval. Rows carry ``region_water`` and ``region_carbon`` (result rows); ``unit``
    names what the rows' ``scenario`` column counts in the title (scenarios, windows)."""
    algos = list(dict.fromkeys(r["algo"] for r in rows))
    regions = list(rows[0]["region_water"])
    figure, axes = plt.subplots(2, 1, figsize=(min(16, max(8, 0.25 * len(regions) * len(algos))), 7.5), sharex=True)
    x = np.arange(len(regions))
    width = 0.8 / max(len(algos), 1)
    for k, (name, label) in enumerate(FOOTPRINTS):
        for a, algo in enumerate(algos):
            mine = [r for r in rows if r["algo"] == algo]
            shares = region_shares(mine, regions, name)
            errors = None
            if len(mine) > 1:
                intervals = [aggregate(shares[:, [j]].T, seed=j).mean_ci for j in range(len(regions))]
                errors = np.maximum(np.abs(np.array(intervals).T - shares.mean(axis=0)), 0)
            look = style(algo)
            axes[k].bar(
                x + (a - (len(algos) - 1) / 2) * width,
                shares.mean(axis=0),
                width,
                yerr=errors,
                error_kw={"elinewidth": 0.8, "capsize": 1.5},
                label=look.label,
                **look.bar(),
            )
        axes[k].set_ylabel(f"{label}\nas a share of the worst region's")
        axes[k].set_ylim(0, 1.08)
        axes[k].grid(axis="y", alpha=0.3)
    scenarios = len({r.get("scenario") for r in rows})
    seeds = max(len({r.get("seed") for r in rows if r["algo"] == a}) for a in algos)
    over = ""
    if len(rows) > len(algos):
        runs = f"{scenarios} {unit}s" + (f" and up to {seeds} training seeds" if seeds > 1 else "")
        over = f" (mean over {runs}, 95 % intervals)"
    axes[0].set_title(f"{title}{over}\nthe worst region (1) is what the equity term of J penalises; level bars are fair")
    axes[1].set_xticks(x, regions, rotation=30, ha="right")
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    _legend_below(figure, axes, 4)
    return save_figure(figure, path)


def plot_cumulative(results: list[AlgorithmResult], scenario: Scenario, path: Path) -> list[Path]:
    """The worst region's cumulative water and carbon footprint over time, per algorithm (each seed of
    a run group a line of the group's colour).

    The worst region is the one with the largest footprint at the end (what the equity penalty
    charges); the legend names it for each algorithm."""
    figure, axes = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True)
    hours = scenario.timestamps.astype("datetime64[h]")
    for k, (_, label) in enumerate(FOOTPRINTS):
        intensity = scenario.intensity[k]
        for result in results:
            cumulative = np.cumsum(intensity * result.energy, axis=1)
            worst = int(np.argmax(cumulative[:, -1]))
            look = style(result.name)
            seed = "" if result.seed is None else f", seed {result.seed}"
            axes[k].plot(
                hours,
                cumulative[worst],
                color=look.color,
                linestyle=look.linestyle,
                linewidth=1.4,
                label=f"{look.label}{seed} (worst: {scenario.regions[worst]})",
            )
        axes[k].set_ylabel(f"cumulative {label}")
        axes[k].grid(alpha=0.3)
        axes[k].legend(fontsize=7, ncol=2)
    axes[0].set_title(
        f"Cumulative footprint of each algorithm's worst region (the one the equity penalty charges)\n{data_title([scenario])}"
    )
    figure.autofmt_xdate()
    return save_figure(figure, path)


def plot_ratios(rows: list[dict], path: Path, title: str = "J / J(eGLB-Off)") -> list[Path]:
    """How far each algorithm's J is above the hindsight optimum: (J / J(eGLB-Off) - 1) in percent,
    bars from 0, with the 95 % interval of the mean when the rows have one (summaries over seeds and scenarios)."""
    figure, ax = plt.subplots(figsize=(max(6, 0.8 * len(rows)), 4.5))
    names = [r["algo"] for r in rows]
    excess = np.array([100 * (r["ratio_to_offline"] - 1) if r["ratio_to_offline"] is not None else np.nan for r in rows])
    errors = _interval_bars(rows, "ratio_to_offline", "ratio_ci_low", "ratio_ci_high", lambda v: 100 * (v - 1))
    looks = [style(n) for n in names]
    bars = ax.bar(range(len(names)), excess, yerr=errors, capsize=3, color=[s.color for s in looks])
    for bar, look in zip(bars, looks):
        if look.hollow:
            bar.set_hatch("//")
            bar.set_edgecolor("white")
    tops = excess + (errors[1] if errors is not None else 0)
    for k, (value, top) in enumerate(zip(excess, tops)):
        ax.annotate(f"{value:+.2f} %", (k, max(top, 0)), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8)
    ax.set_xticks(range(len(names)), [s.label for s in looks], rotation=30, ha="right")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("J above the hindsight optimum (%)")
    note = "; bars: 95 % intervals over seeds and scenarios" if errors is not None else ""
    ax.set_title(f"{title}\nJ / J(eGLB-Off) - 1 (0 is eGLB-Off, the {ORACLE_NOTE}){note}", fontsize=10)
    return save_figure(figure, path)


# ------------------------------------------------------------------------------------ the sweep
def plot_sweep(summary: list[dict], path: Path, title: str) -> list[Path]:
    """One panel per shift: J / J(eGLB-Off) against severity, one line per algorithm (the mean over
    scenarios and seeds, with its 95 % interval when there are several)."""
    shifts = list(dict.fromkeys(r["shift"] for r in summary))
    algos = list(dict.fromkeys(r["algo"] for r in summary))
    columns = min(4, len(shifts))
    lines = int(np.ceil(len(shifts) / columns))
    figure, axes = plt.subplots(lines, columns, figsize=(4 * columns, 3.2 * lines + 0.8), squeeze=False, sharey=True)
    for k, shift in enumerate(shifts):
        ax = axes[k // columns][k % columns]
        for algo in algos:
            points = sorted((r for r in summary if r["shift"] == shift and r["algo"] == algo), key=lambda r: r["severity"])
            errors = _interval_bars(points, "ratio_to_offline", "ratio_ci_low", "ratio_ci_high")
            ax.errorbar(
                [r["severity"] for r in points],
                [r["ratio_to_offline"] for r in points],
                yerr=errors,
                markersize=4,
                capsize=2,
                linewidth=1.2,
                **style(algo).line(),
            )
        ax.set_title(shift)
        ax.grid(alpha=0.3)
        ax.set_xlabel("severity")
        if k % columns == 0:
            ax.set_ylabel("J / J(eGLB-Off)")
    for k in range(len(shifts), lines * columns):
        axes[k // columns][k % columns].axis("off")
    figure.suptitle(f"{title} (lower is better)")
    figure.tight_layout(rect=(0, 0.08, 1, 0.97))
    _legend_below(figure, axes, 4)
    return save_figure(figure, path)


def _point_boxes(ax, points: list[tuple[float, float]], size: float = 9.0) -> list:
    """Boxes of ``size`` pixels around points (display coordinates): obstacles for labels."""
    from matplotlib.transforms import Bbox

    boxes = []
    for x, y in points:
        cx, cy = ax.transData.transform((x, y))
        boxes.append(Bbox.from_extents(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2))
    return boxes


def place_labels(ax, points: list[tuple[float, float, str]], color: str, obstacles: list, prefix: str = "") -> list:
    """Annotate points so that no label overlaps another label or an obstacle (a marker): points
    closer than 2 % of the axes' span share one label, and each label takes the first of a few
    offsets whose box is free. Returns the obstacles, with the placed labels added."""
    x_span = np.ptp(ax.get_xlim()) or 1.0
    y_span = np.ptp(ax.get_ylim()) or 1.0
    groups: list[list] = []
    for x, y, text in points:
        for group in groups:
            if abs(group[0] - x) < 0.02 * x_span and abs(group[1] - y) < 0.02 * y_span:
                group[2].append(text)
                break
        else:
            groups.append([x, y, [text]])
    renderer = ax.figure.canvas.get_renderer()
    placed = list(obstacles)
    offsets = ((6, 4), (6, -12), (-6, 6), (-6, -14), (10, 14), (10, -22), (-10, 16), (-10, -24), (16, -4), (-16, -4))
    for x, y, texts in groups:
        label = prefix + ", ".join(texts)
        annotation = None
        for offset in offsets:
            annotation = ax.annotate(
                label,
                (x, y),
                xytext=offset,
                textcoords="offset points",
                fontsize=7,
                color=color,
                ha="left" if offset[0] > 0 else "right",
            )
            box = annotation.get_window_extent(renderer).expanded(1.04, 1.1)
            if not any(box.overlaps(other) for other in placed):
                break
            annotation.remove()
            annotation = None
        if annotation is None:  # every place is taken: the first offset, as the best of bad choices
            annotation = ax.annotate(label, (x, y), xytext=offsets[0], textcoords="offset points", fontsize=7, color=color)
            box = annotation.get_window_extent(renderer)
        placed.append(box)
    return placed


def plot_tradeoff(tradeoff: list[dict], ml: str, path: Path, title: str = "") -> list[Path]:
    """Consistency (in distribution) against robustness (shifted), one point per lambda, with 95 %
    intervals over scenarios and seeds when there are several; labels overlap neither each other nor the markers."""
    figure, ax = plt.subplots(figsize=(7.5, 5.5))
    robust = [r for r in tradeoff if r["lambda"] is not None]
    alone = [r for r in tradeoff if r["lambda"] is None]
    look = style(f"robust({ml},lambda=1)")
    xerr = _interval_bars(robust, "in_distribution", "in_distribution_ci_low", "in_distribution_ci_high")
    yerr = _interval_bars(robust, "shifted_mean", "shifted_mean_ci_low", "shifted_mean_ci_high")
    x = [r["in_distribution"] for r in robust]
    ax.errorbar(
        x,
        [r["shifted_mean"] for r in robust],
        xerr=xerr,
        yerr=yerr,
        color=look.color,
        marker="o",
        capsize=2,
        label=f"robust({ml}, λ): mean over shifts",
    )
    ax.plot(
        x,
        [r["shifted_worst"] for r in robust],
        color=look.color,
        marker="s",
        linestyle=":",
        markerfacecolor="white",
        label=f"robust({ml}, λ): worst shift",
    )
    for r in alone:
        own = style(r["algo"])
        ax.scatter(
            [r["in_distribution"]],
            [r["shifted_mean"]],
            marker=own.marker,
            s=110,
            zorder=3,
            color=own.color,
            edgecolor="black",
            linewidth=0.6,
            label=f"{own.label} alone (mean over shifts)",
        )
    ax.set_xlabel("J / J(eGLB-Off) in distribution (consistency)")
    ax.set_ylabel("J / J(eGLB-Off) on shifted traces, severity 1 (robustness)")
    ax.set_title(title or f"Consistency-robustness trade-off of robust({ml})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.canvas.draw()
    markers = [(r["in_distribution"], r[key]) for r in robust for key in ("shifted_mean", "shifted_worst")]
    obstacles = _point_boxes(ax, markers) + _point_boxes(ax, [(r["in_distribution"], r["shifted_mean"]) for r in alone], 14)
    obstacles.append(ax.get_legend().get_window_extent(figure.canvas.get_renderer()))
    for key in ("shifted_mean", "shifted_worst"):
        obstacles = place_labels(
            ax, [(r["in_distribution"], r[key], f"{r['lambda']:g}") for r in robust], look.color, obstacles, "λ="
        )
    return save_figure(figure, path)


# ------------------------------------------------------------------------------------ training
def plot_learning_curve(history: list[dict], path: Path, title: str) -> list[Path]:
    """J / J(eGLB-Off) on the held-out traces against training steps, with the online expert's level."""
    figure, ax = plt.subplots(figsize=(7, 4))
    steps = [row["steps"] for row in history]
    ax.plot(steps, [row["ratio_to_offline"] for row in history], marker="o", color=style("bc").color, label="learned policy")
    expert = history[-1]["eglb_ratio"]
    ax.axhline(expert, color=style("eglb").color, linestyle="--", label=f"eGLB online ({expert:.4f})")
    ax.axhline(1.0, color="black", linewidth=0.8, label=f"eGLB-Off ({ORACLE_NOTE})")
    ax.set_xlabel("training steps (environment hours)")
    ax.set_ylabel("J / J(eGLB-Off) on held-out traces")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(figure, path)


def plot_group_curve(curves: dict[int, list[dict]], path: Path, title: str, kind: str = "bc") -> list[Path]:
    """Learning curves of a run group: each seed thin, and the mean across seeds with its 95 %
    interval as a band, at the steps every seed was evaluated at."""
    figure, ax = plt.subplots(figsize=(7, 4))
    color = style(kind).color
    for history in curves.values():
        ax.plot([r["steps"] for r in history], [r["ratio_to_offline"] for r in history], color=color, alpha=0.3, linewidth=0.8)
    common = sorted(set.intersection(*(set(int(r["steps"]) for r in h) for h in curves.values()))) if curves else []
    if common:
        by_seed = {seed: {int(r["steps"]): r["ratio_to_offline"] for r in h} for seed, h in curves.items()}
        matrix = np.array([[by_seed[s][step] for step in common] for s in curves])
        intervals = np.array([aggregate(matrix[:, [k]], seed=k, over_tasks=False).mean_ci for k in range(len(common))])
        ax.fill_between(common, intervals[:, 0], intervals[:, 1], color=color, alpha=0.25, linewidth=0, label="95 % interval")
        ax.plot(common, matrix.mean(axis=0), marker="o", markersize=3, color=color, label=f"mean of {len(curves)} seeds")
    experts = [h[-1]["eglb_ratio"] for h in curves.values() if h]
    if experts:
        ax.axhline(
            float(np.mean(experts)), color=style("eglb").color, linestyle="--", label=f"eGLB online ({np.mean(experts):.4f})"
        )
    ax.axhline(1.0, color="black", linewidth=0.8, label=f"eGLB-Off ({ORACLE_NOTE})")
    ax.set_xlabel("training steps (environment hours)")
    ax.set_ylabel("J / J(eGLB-Off) on held-out traces")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(figure, path)


# ------------------------------------------------------------------------------------ a year
def window_series(rows: list[dict], algo: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(window starts, mean J / J(eGLB-Off) per window over seeds, its 95 % interval [2, n] or None),
    with NaN between windows that are not consecutive, so that a line breaks where weeks were skipped."""
    mine = [r for r in rows if r["algo"] == algo]
    windows = sorted({r["window"] for r in mine})
    starts, means, bands = [], [], []
    for k, window in enumerate(windows):
        if k and window != windows[k - 1] + 1:
            starts.append(np.datetime64(starts[-1]) + 1)
            means.append(np.nan)
            bands.append((np.nan, np.nan))
        values = np.array([r["ratio_to_offline"] for r in mine if r["window"] == window])
        starts.append(np.datetime64(next(r["start"] for r in mine if r["window"] == window)))
        means.append(values.mean())
        bands.append(
            aggregate(values[:, None], seed=int(window), over_tasks=False).mean_ci if len(values) > 1 else (np.nan, np.nan)
        )
    bands_array = np.array(bands).T
    return np.array(starts), np.array(means), None if np.isnan(bands_array).all() else bands_array


def plot_windows(rows: list[dict], path: Path, title: str) -> list[Path]:
    """J / J(eGLB-Off) of every window over the year, one line per algorithm (rows carry ``window`` and
    ``start``; a run group's line is the mean over its seeds with a 95 % band): all of them above, and
    below a close-up of those within 30 % of the hindsight optimum on average. Lines break at windows
    left out; every algorithm keeps its colour in both panels."""
    figure, axes = plt.subplots(2, 1, figsize=(11, 8.5), sharex=True)
    algos = [a for a in dict.fromkeys(r["algo"] for r in rows) if a != "eglb-off"]
    means = {a: np.mean([r["ratio_to_offline"] for r in rows if r["algo"] == a]) for a in algos}
    for panel, chosen in ((axes[0], algos), (axes[1], [a for a in algos if means[a] < 1.3])):
        for algo in chosen:
            starts, values, band = window_series(rows, algo)
            look = style(algo)
            line = look.line()
            line["label"] = f"{look.label} ({means[algo]:.4f})"
            panel.plot(starts, values, markersize=2.5, linewidth=1, **line)
            if band is not None:
                panel.fill_between(starts, band[0], band[1], color=look.color, alpha=0.2, linewidth=0)
        panel.axhline(1.0, color="black", linewidth=0.8, label=f"eGLB-Off ({ORACLE_NOTE} of each window)")
        panel.set_ylabel("J / J(eGLB-Off)")
        panel.grid(alpha=0.3)
    axes[0].set_title(title + " (mean over the windows in brackets)")
    axes[1].set_title("close-up: the algorithms within 30 % of the hindsight optimum on average")
    figure.autofmt_xdate()
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    _legend_below(figure, axes, 3)
    return save_figure(figure, path)


# ------------------------------------------------------------------------------------ the frontier
def plot_frontier(summary: list[dict], path: Path, title: str) -> list[Path]:
    """The equity trade-off frontier: energy cost against the worst region's water (left) and carbon
    (right) footprint as the footprint weights scale, one curve per algorithm through its points in
    order of the scale (labelled at the ends), eGLB-Off's curve the oracle's reference.

    Rows (one per algorithm and scale, means over scenarios and seeds) carry ``algo``, ``scale``,
    ``cost``, ``worst_water`` and ``worst_carbon``."""
    figure, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    algos = list(dict.fromkeys(r["algo"] for r in summary))
    algos.sort(key=lambda a: a != "eglb-off")  # the reference first, under the others
    for k, (name, label) in enumerate(FOOTPRINTS):
        ax = axes[k]
        for algo in algos:
            points = sorted((r for r in summary if r["algo"] == algo), key=lambda r: r["scale"])
            look = style(algo).line()
            if algo == "eglb-off":
                look.update(linewidth=2.2, zorder=3, label=f"eGLB-Off ({ORACLE_NOTE}): the frontier")
            ax.plot([r[f"worst_{name}"] for r in points], [r["cost"] for r in points], markersize=5, **look)
            for end in (points[0], points[-1]) if len(points) > 1 and algo == "eglb-off" else ():
                ax.annotate(
                    f"×{end['scale']:g}",
                    (end[f"worst_{name}"], end["cost"]),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize=7,
                )
        ax.set_xlabel(f"worst region's {label}")
        ax.set_ylabel("energy cost (US$)")
        ax.grid(alpha=0.3)
    figure.suptitle(f"{title}\nlower left is better; ×k: both footprint weights times k", fontsize=10)
    figure.tight_layout(rect=(0, 0.1, 1, 0.95))
    _legend_below(figure, axes, 4)
    return save_figure(figure, path)
