"""The equity trade-off frontier: energy cost against the worst region's footprints as the weights scale.

J = energy cost + mu_w * (worst region's water footprint) + mu_c * (worst region's carbon footprint)
(SPEC section 2). Multiplying both weights by a common factor k sweeps the operator's choice between
cost and equity: k = 0 asks for the cheapest routing (GLB-Cost), a large k for the most level
footprints whatever they cost. At every k each algorithm gives a point (energy cost, worst water,
worst carbon); eGLB-Off, the hindsight optimum of J at that k, gives the frontier. Its point at any
k > 0 minimizes a sum of the three with positive weights, so it is Pareto-optimal: no routing at
all is cheaper and no worse in both worst footprints (in one panel a point can still sit below the
curve by paying in the other footprint). The online algorithms' curves show how much of the
frontier each reaches without hindsight; J / J(eGLB-Off) at each k measures the gap.

    result = eglb.frontier(eglb.FrontierConfig(eglb.EvaluationConfig(algos=("eglb", "eglb-off", "glb-cost"))))

``evaluate.py --frontier [--scales 0,0.1,...]`` is the command line; it writes frontier.json/.csv
(one row per algorithm, scale, scenario and training seed), frontier_summary.json/.csv (means per
algorithm and scale, with 95 % intervals of J / J(eGLB-Off) over scenarios and seeds) and
frontier.png/.pdf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock
from eglb.envs.shifts import ShiftedScenario
from eglb.evaluation import EvaluationConfig, Mapper, _check_out, case_rows, check_specs, default_algos, local_map
from eglb.registry import label
from eglb.scenarios import build_scenarios

#: Common factors of both footprint weights: 0 (cost only), then a log grid around the published weights (1).
SCALES = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
#: What frontier() writes into its ``out`` folder.
FRONTIER_FILES = (
    "frontier.json",
    "frontier.csv",
    "frontier_summary.json",
    "frontier_summary.csv",
    "frontier.png",
    "frontier.pdf",
)
#: Largest factor accepted (the weights are checked again by the scenario).
MAX_SCALE = 1e6


@dataclass(frozen=True)
class FrontierConfig:
    """The frontier.

    Attributes:
        evaluation: algorithms (eGLB-Off, the reference, is added if missing), scenarios (their
            mu_w and mu_c are the weights scaled), options and the output folder.
        scales: factors k >= 0 of both footprint weights (mu_w -> k mu_w, mu_c -> k mu_c).
    """

    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    scales: tuple[float, ...] = SCALES

    def __post_init__(self):
        scales = tuple(self.scales)
        if not scales or any(isinstance(k, bool) or not isinstance(k, int | float) or not 0 <= k <= MAX_SCALE for k in scales):
            raise InputError(f"--scales must be numbers in 0..{MAX_SCALE:g}, got {list(scales)}")
        if len(set(scales)) != len(scales):
            raise InputError(f"--scales lists a factor twice: {list(scales)}")
        object.__setattr__(self, "scales", tuple(sorted(float(k) for k in scales)))


@dataclass(repr=False)
class FrontierResult:
    """rows: one per (scale, scenario, algorithm, training seed) with ``cost`` (USD), ``worst_water``
    (m^3), ``worst_carbon`` (t), J and J / J(eGLB-Off) at that scale; summary: per (algorithm, scale)
    the means over scenarios and seeds, with the interval of the ratio; files: what was written."""

    rows: list[dict]
    summary: list[dict]
    files: list[Path] = field(default_factory=list)

    def __repr__(self) -> str:
        from eglb.evaluation import describe_rows

        scales = len({r["scale"] for r in self.rows})
        return f"FrontierResult({describe_rows(self.rows)} at {scales} scales; files: {len(self.files)})"

    def __str__(self) -> str:
        return frontier_table(self.summary)


def frontier_table(summary: list[dict]) -> str:
    """J / J(eGLB-Off) of each algorithm (rows) at each scale (columns): 1 is on the frontier."""
    from eglb.report.tables import format_table

    scales = sorted({r["scale"] for r in summary})
    columns = tuple(f"x{k:g}" for k in scales)
    matrix = [
        {"algo": algo, **{f"x{r['scale']:g}": r["ratio_to_offline"] for r in summary if r["algo"] == algo}}
        for algo in dict.fromkeys(r["algo"] for r in summary)
    ]
    head = "J / J(eGLB-Off) with both footprint weights times k (columns xk; 1: on eGLB-Off's frontier)"
    return head + "\n" + format_table(matrix, columns=("algo",), extra_columns=columns, formats=dict.fromkeys(columns, "{:.4f}"))


def frontier(config: FrontierConfig, mapper: Mapper | None = None) -> FrontierResult:
    """Run every algorithm at every scale of the weights on every scenario (one mapped task per scale
    and scenario); write the tables and the plot when ``out`` is set."""
    from eglb.report.plots import data_title, plot_frontier
    from eglb.report.tables import mean_rows, write_rows

    evaluation = config.evaluation
    out = _check_out(evaluation, FRONTIER_FILES)
    check_specs(evaluation.algos or (), evaluation.options)  # a bad name fails now, before any scenario is built
    bases = build_scenarios(evaluation.scenario)
    given = evaluation.algos or default_algos([b.scenario for b in bases])
    algos = given + (() if "eglb-off" in map(label, given) else ("eglb-off",))
    tasks = []
    for base in bases:
        scenario = base.scenario
        for scale in config.scales:
            weights = {"mu_water": scale * scenario.mu_water, "mu_carbon": scale * scenario.mu_carbon}
            tasks.append(
                (scale, scenario.name, ShiftedScenario(scenario.with_changes(**weights), base.forecast_noise, base.unserved))
            )
    outputs = (mapper or local_map)(lambda task: case_rows(algos, evaluation.options, task[2]), tasks)
    rows = []
    for (scale, name, case), task_rows in zip(tasks, outputs):
        for row in task_rows:
            rows.append(
                {
                    **row,
                    "scenario": name,
                    "scale": scale,
                    "mu_water": case.scenario.mu_water,
                    "mu_carbon": case.scenario.mu_carbon,
                    "worst_water": max(row["region_water"].values()),
                    "worst_carbon": max(row["region_carbon"].values()),
                }
            )
    summary = []
    for algo in map(label, algos):
        for scale in config.scales:
            mine = [r for r in rows if r["algo"] == algo and r["scale"] == scale]
            means = mean_rows(mine)[0]
            summary.append(
                {
                    **means,
                    "scale": scale,
                    "mu_water": float(np.mean([r["mu_water"] for r in mine])),
                    "mu_carbon": float(np.mean([r["mu_carbon"] for r in mine])),
                    "worst_water": float(np.mean([r["worst_water"] for r in mine])),
                    "worst_carbon": float(np.mean([r["worst_carbon"] for r in mine])),
                }
            )
    result = FrontierResult(rows, summary)
    if evaluation.report:
        print(frontier_table(summary))
    if out is not None:
        title = f"Equity trade-off frontier on {data_title([b.scenario for b in bases])}"
        with exclusive_lock(out, "a frontier"):
            _check_out(evaluation, FRONTIER_FILES)  # again: another process may have written there meanwhile
            files = write_rows(rows, out, "frontier") + write_rows(summary, out, "frontier_summary")
            files += plot_frontier(summary, out / "frontier.png", title)
        result.files = files
        if evaluation.report:
            print("wrote " + ", ".join(str(p) for p in files))
    return result
