"""Plots of evaluation results as PNG with a PDF beside each (matplotlib, no display needed); every file is written atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from eglb.envs.files import atomic_write  # noqa: E402
from eglb.envs.scenario import Scenario  # noqa: E402
from eglb.report.run import AlgorithmResult  # noqa: E402

FOOTPRINTS = (("water", "water footprint (m$^3$)"), ("carbon", "carbon footprint (t)"))


def save_figure(figure, path: Path) -> Path:
    """Save a figure as PNG at ``path`` and as PDF beside it (for papers), each through a temporary file, then close it."""
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight"))
    atomic_write(path.with_suffix(".pdf"), lambda tmp: figure.savefig(tmp, format="pdf", bbox_inches="tight"))
    plt.close(figure)
    return path


def footprint_bars(footprints: dict[str, dict[str, np.ndarray]], regions: tuple[str, ...], path: Path, title: str) -> Path:
    """Grouped bars of each region's water and carbon footprint, one bar per algorithm.

    Args:
        footprints: algorithm -> {"water": [N] m^3, "carbon": [N] t}.
    """
    figure, axes = plt.subplots(2, 1, figsize=(max(8, 0.9 * len(regions) * max(1, len(footprints)) / 3), 7), sharex=True)
    x = np.arange(len(regions))
    width = 0.8 / max(len(footprints), 1)
    for k, (name, label) in enumerate(FOOTPRINTS):
        for a, (algo, values) in enumerate(footprints.items()):
            axes[k].bar(x + (a - (len(footprints) - 1) / 2) * width, values[name], width, label=algo)
        axes[k].set_ylabel(label)
        axes[k].grid(axis="y", alpha=0.3)
    axes[0].set_title(title)
    axes[0].legend(ncol=min(len(footprints), 4), fontsize=8)
    axes[1].set_xticks(x, regions, rotation=30, ha="right")
    return save_figure(figure, path)


def plot_regions(results: list[AlgorithmResult], scenario: Scenario, path: Path) -> Path:
    """Each region's total water and carbon footprint, one bar per algorithm."""
    footprints = {r.name: {name: getattr(r.metrics, f"region_{name}") for name, _ in FOOTPRINTS} for r in results}
    return footprint_bars(
        footprints, scenario.regions, path, f"Regional footprints on {scenario.name} (the tallest bar is what equity penalises)"
    )


#: Line styles cycled with the colors, so that many algorithms stay distinguishable (also in grey print).
_STYLES = ("-", "--", "-.", ":")


def plot_cumulative(results: list[AlgorithmResult], scenario: Scenario, path: Path) -> Path:
    """The worst region's cumulative water and carbon footprint over time, per algorithm.

    The worst region is the one with the largest footprint at the end (what the equity penalty
    charges); the legend names it for each algorithm, and each algorithm has its own color and line style.
    """
    figure, axes = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True)
    hours = scenario.timestamps.astype("datetime64[h]")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (_, label) in enumerate(FOOTPRINTS):
        intensity = scenario.intensity[k]
        for a, result in enumerate(results):
            cumulative = np.cumsum(intensity * result.energy, axis=1)
            worst = int(np.argmax(cumulative[:, -1]))
            axes[k].plot(
                hours,
                cumulative[worst],
                color=colors[a % len(colors)],
                linestyle=_STYLES[(a // len(colors) + a) % len(_STYLES)],
                linewidth=1.4,
                label=f"{result.name} (worst: {scenario.regions[worst]})",
            )
        axes[k].set_ylabel(f"cumulative {label}")
        axes[k].grid(alpha=0.3)
        axes[k].legend(fontsize=7, ncol=2)
    axes[0].set_title("Cumulative footprint of each algorithm's worst region (the one the equity penalty charges)")
    figure.autofmt_xdate()
    return save_figure(figure, path)


def plot_ratios(rows: list[dict], path: Path) -> Path:
    """How far each algorithm's J is above the hindsight optimum: (J / J(eGLB-Off) - 1) in percent, bars from 0."""
    figure, ax = plt.subplots(figsize=(max(6, 0.8 * len(rows)), 4))
    names = [r["algo"] for r in rows]
    excess = [100 * (r["ratio_to_offline"] - 1) if r["ratio_to_offline"] is not None else np.nan for r in rows]
    bars = ax.bar(names, excess, color=["tab:green" if n == "eglb-off" else "tab:blue" for n in names])
    ax.bar_label(bars, labels=[f"{v:+.2f} %" for v in excess], fontsize=8)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("J above the hindsight optimum (%)")
    ax.set_title("J / J(eGLB-Off) - 1 (0 is eGLB-Off, the best any algorithm can do)")
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    return save_figure(figure, path)


def plot_sweep(rows: list[dict], path: Path) -> Path:
    """One panel per shift: J / J(eGLB-Off) against severity, one line per algorithm."""
    shifts = list(dict.fromkeys(r["shift"] for r in rows))
    algos = list(dict.fromkeys(r["algo"] for r in rows))
    columns = min(4, len(shifts))
    lines = int(np.ceil(len(shifts) / columns))
    figure, axes = plt.subplots(lines, columns, figsize=(4 * columns, 3.2 * lines), squeeze=False, sharey=True)
    for k, shift in enumerate(shifts):
        ax = axes[k // columns][k % columns]
        for algo in algos:
            points = sorted((r["severity"], r["ratio_to_offline"]) for r in rows if r["shift"] == shift and r["algo"] == algo)
            ax.plot(*zip(*points), marker="o", markersize=3, label=algo)
        ax.set_title(shift)
        ax.grid(alpha=0.3)
        ax.set_xlabel("severity")
        if k % columns == 0:
            ax.set_ylabel("J / J(eGLB-Off)")
    for k in range(len(shifts), lines * columns):
        axes[k // columns][k % columns].axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(algos), 4), fontsize=8, bbox_to_anchor=(0.5, -0.02))
    figure.suptitle("J / J(eGLB-Off) under distribution shift (lower is better)")
    figure.tight_layout(rect=(0, 0.06, 1, 0.97))
    return save_figure(figure, path)


def plot_tradeoff(tradeoff: list[dict], ml: str, path: Path) -> Path:
    """Consistency (in distribution) against robustness (shifted), one point per lambda."""
    figure, ax = plt.subplots(figsize=(7, 5))
    robust = [r for r in tradeoff if r["lambda"] is not None]
    for key, marker, label in (("shifted_mean", "o", "mean over shifts"), ("shifted_worst", "s", "worst shift")):
        ax.plot([r["in_distribution"] for r in robust], [r[key] for r in robust], marker=marker, label=f"robust({ml}), {label}")
        for r in robust:
            ax.annotate(
                f"λ={r['lambda']:g}", (r["in_distribution"], r[key]), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    for r in tradeoff:
        if r["lambda"] is None:
            ax.scatter(
                [r["in_distribution"]], [r["shifted_mean"]], marker="*", s=120, zorder=3, label=f"{r['algo']} (mean over shifts)"
            )
    ax.set_xlabel("J / J(eGLB-Off) in distribution (consistency)")
    ax.set_ylabel("J / J(eGLB-Off) on shifted traces (robustness)")
    ax.set_title("Consistency-robustness trade-off of the robustification layer")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(figure, path)


def plot_learning_curve(history: list[dict], path: Path, title: str) -> Path:
    """J / J(eGLB-Off) on the held-out traces against training steps, with the online expert's level."""
    figure, ax = plt.subplots(figsize=(7, 4))
    steps = [row["steps"] for row in history]
    ax.plot(steps, [row["ratio_to_offline"] for row in history], marker="o", label="learned policy")
    expert = history[-1]["eglb_ratio"]
    ax.axhline(expert, color="tab:red", linestyle="--", label=f"eGLB online ({expert:.4f})")
    ax.axhline(1.0, color="black", linewidth=0.8, label="eGLB-Off (hindsight optimum)")
    ax.set_xlabel("training steps (environment hours)")
    ax.set_ylabel("J / J(eGLB-Off) on held-out traces")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(figure, path)


def plot_windows(rows: list[dict], path: Path, title: str) -> Path:
    """J / J(eGLB-Off) of every window over the year, one line per algorithm (rows carry ``start``): all
    of them above, and below a close-up of those within 30 % of the hindsight optimum on average."""
    figure, axes = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    styles = ["-", "--", ":", "-."]
    algos = [a for a in dict.fromkeys(r["algo"] for r in rows) if a != "eglb-off"]
    means = {a: np.mean([r["ratio_to_offline"] for r in rows if r["algo"] == a]) for a in algos}
    for panel, chosen in ((axes[0], algos), (axes[1], [a for a in algos if means[a] < 1.3])):
        for k, algo in enumerate(chosen):
            points = sorted((np.datetime64(r["start"]), r["ratio_to_offline"]) for r in rows if r["algo"] == algo)
            panel.plot(
                *zip(*points),
                marker="o",
                markersize=2.5,
                linewidth=1,
                linestyle=styles[(k // 10) % len(styles)],
                label=f"{algo} ({means[algo]:.4f})",
            )
        panel.axhline(1.0, color="black", linewidth=0.8, label="eGLB-Off (hindsight optimum of each window)")
        panel.set_ylabel("J / J(eGLB-Off)")
        panel.grid(alpha=0.3)
        panel.legend(fontsize=7, ncol=2)
    axes[0].set_title(title + " (mean over the windows in brackets)")
    axes[1].set_title("close-up: the algorithms within 30 % of the hindsight optimum on average")
    figure.autofmt_xdate()
    return save_figure(figure, path)


def plot_region_totals(rows: list[dict], regions: tuple[str, ...], path: Path, title: str) -> Path:
    """Each region's water and carbon footprint summed over the rows (e.g. the windows of a year), one bar per algorithm."""
    footprints = {
        algo: {
            name: np.sum([[r[f"region_{name}"][region] for region in regions] for r in rows if r["algo"] == algo], axis=0)
            for name, _ in FOOTPRINTS
        }
        for algo in dict.fromkeys(r["algo"] for r in rows)
    }
    return footprint_bars(footprints, regions, path, title)
