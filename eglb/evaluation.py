"""Evaluation as a function: run algorithms on scenarios, return the result rows, optionally write tables and plots.

``evaluate(config)`` is what ``evaluate.py`` runs; ``sweep(config)`` is ``evaluate.py --sweep``. Both
compute everything before they write anything, hold a lock on the output folder while writing, and
write every file atomically, so an interrupted or failed run never leaves a half-written folder, and
two runs never interleave their files.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock, output_folder
from eglb.envs.scenario import Scenario
from eglb.envs.shifts import SHIFTS, ShiftedScenario, parse_shift
from eglb.registry import CLASSICAL, CONTROLLERS, AlgorithmOptions, build, default_ml, split_specs
from eglb.scenarios import ScenarioConfig, build_scenarios

#: Maps a function over items in order (the plain map locally; Ray tasks with sweeps.ray_map).
Mapper = Callable[[Callable, Sequence], list]

#: RHC and AFHC with the information an operator has in practice (forecasts/market.py): every price its
#: market has published, exactly, and seasonal-naive forecasts for the rest; window and tail chosen on the
#: history's 2023 (benchmarks/figures.py, section information-select; docs/guide/information.md).
FORECAST_CONTROLLERS = (
    "rhc:w=48,forecaster=market,base=seasonal,tail=prorate",
    "afhc:w=2,forecaster=market,base=seasonal,tail=seasonal",
)
#: The same controllers where the scenario's regions have no market rule: seasonal-naive forecasts alone.
SEASONAL_CONTROLLERS = tuple(
    spec.replace("forecaster=market,base=seasonal", "forecaster=seasonal") for spec in FORECAST_CONTROLLERS
)


def default_algos(scenarios: Sequence[Scenario]) -> tuple[str, ...]:
    """The default algorithm set: every classical algorithm, then RHC and AFHC with the published prices
    where every region of every scenario has a market rule (history, published set, generators), else
    with seasonal-naive forecasts alone (a scenario of one's own whose regions no table describes)."""
    from eglb.forecasts.market import market_rules

    try:
        for scenario in scenarios:
            market_rules(scenario)
    except InputError:
        return (*CLASSICAL, *SEASONAL_CONTROLLERS)
    return (*CLASSICAL, *FORECAST_CONTROLLERS)


def local_map(function: Callable, items: Sequence) -> list:
    return [function(item) for item in items]


@dataclass(frozen=True)
class EvaluationConfig:
    """One evaluation: algorithms on the scenarios of ``scenario``.

    Attributes:
        algos: algorithm specs (eglb/registry.py), or one comma-separated string of them; None for the
            default set (:func:`default_algos`: the classical algorithms, RHC and AFHC). scenario: which
            scenarios. options: shared algorithm settings.
        out: folder for results.json/.csv and PNG plots (None: return the rows only); never a training
            run folder. overwrite: replace results already in ``out`` (else such a folder is refused).
        progress: show progress bars. report: print the tables in the terminal.
        command: the command line, for reports.
    """

    algos: tuple[str, ...] | None = None
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    options: AlgorithmOptions = field(default_factory=AlgorithmOptions)
    out: str | None = None
    overwrite: bool = False
    progress: bool = False
    report: bool = False
    command: str = ""

    def __post_init__(self):
        if isinstance(self.algos, str):  # "eglb,glb-cost" as on the command line
            object.__setattr__(self, "algos", tuple(split_specs(self.algos)))
        if self.algos is None:
            return
        if not self.algos:
            raise InputError("give at least one algorithm (--algos)")
        if len(set(self.algos)) != len(self.algos):
            raise InputError(f"--algos lists an algorithm twice: {','.join(self.algos)!r}")


@dataclass
class EvaluationResult:
    """rows: one per (scenario, algorithm); summary: the mean per algorithm over scenarios (the rows
    themselves for one scenario); files: what was written."""

    rows: list[dict]
    summary: list[dict]
    files: list[Path] = field(default_factory=list)


#: What evaluate() and sweep() write into their ``out`` folder.
EVALUATION_FILES = ("results.json", "results.csv", "summary.json", "summary.csv", "regions.png", "cumulative.png", "ratios.png")
SWEEP_FILES = ("sweep.json", "sweep.csv", "tradeoff.json", "tradeoff.csv", "sweep.png", "tradeoff.png", "report.md")


def _check_out(config, names: tuple[str, ...], out: str | None = None) -> Path | None:
    """The ``out`` folder (``config.out`` unless given) of a config with ``out`` and ``overwrite``, checked
    to lose nothing (envs.files.output_folder): call it before computing and again under the lock."""
    out = config.out if out is None else out
    return None if out is None else output_folder(out, names, config.overwrite)


def run_case(specs: Sequence[str], options: AlgorithmOptions, case: ShiftedScenario, progress: bool = False):
    """Build and run every algorithm on one (shifted) scenario: (results, J of eGLB-Off)."""
    from eglb.report.run import run_algorithms

    if case.forecast_noise is not None:
        options = replace(options, forecast_noise=case.forecast_noise)
    algorithms = [(spec, build(spec, options)) for spec in specs]
    return run_algorithms(algorithms, case.scenario, progress=progress, reference=options.offline())


def case_rows(specs: Sequence[str], options: AlgorithmOptions, case: ShiftedScenario) -> list[dict]:
    """The result rows of one case (see report/tables.py result_rows)."""
    from eglb.report.tables import result_rows

    results, offline = run_case(specs, options, case)
    return result_rows(results, case.scenario, offline, case.unserved)


def evaluate(config: EvaluationConfig, mapper: Mapper | None = None) -> EvaluationResult:
    """Run every algorithm on every scenario; write tables and plots when ``config.out`` is set.

    ``mapper`` maps the per-scenario work (default: one after the other in this process;
    ``eglb.mapper_for(address)``: Ray tasks). The rows are the same, number for number, either way."""
    from eglb.report.plots import plot_cumulative, plot_ratios, plot_regions
    from eglb.report.tables import format_table, mean_rows, result_rows, write_rows

    out = _check_out(config, EVALUATION_FILES)
    for spec in config.algos or ():  # a bad name fails now, before any scenario is built
        build(spec, config.options)
    cases = build_scenarios(config.scenario)
    algos = config.algos or default_algos([c.scenario for c in cases])
    if len(cases) == 1:
        case = cases[0]
        results, offline = run_case(algos, config.options, case, config.progress)
        rows = result_rows(results, case.scenario, offline, case.unserved)
        summary = rows
    else:
        per_case = (mapper or local_map)(lambda c: case_rows(algos, config.options, c), cases)
        rows = [{"scenario": case.scenario.name, **row} for case, case_rows_ in zip(cases, per_case) for row in case_rows_]
        summary = mean_rows(rows)
    result = EvaluationResult(rows, summary)
    if config.report:
        for line in cases[0].scenario.metadata.get("summary", []) if cases[0].scenario.metadata else []:
            print(line)
        if len(cases) == 1:
            scenario = cases[0].scenario
            print(f"{scenario!r}, hours {scenario.timestamps[0]} .. {scenario.timestamps[-1]}")
            print(format_table(rows, extra_columns=EXTRA_COLUMNS))
        else:
            print(
                f"mean over {len(cases)} scenarios ({cases[0].scenario.n_hours} hours each: {', '.join(c.scenario.name for c in cases)})"
            )
            print(format_table(summary, extra_columns=("ratio_std", "ratio_worst", "unserved_mwh", *INFORMATION_COLUMNS)))
    if out is not None:
        with exclusive_lock(out, "an evaluation"):
            _check_out(config, EVALUATION_FILES)  # again: another process may have written there meanwhile
            files = write_rows(rows, out)
            if len(cases) == 1:
                files.append(plot_regions(results, cases[0].scenario, out / "regions.png"))
                files.append(plot_cumulative(results, cases[0].scenario, out / "cumulative.png"))
            else:
                files += write_rows(summary, out, "summary")
            files.append(plot_ratios(summary, out / "ratios.png"))
        result.files = files
        if config.report:
            print("wrote " + ", ".join(str(p) for p in files))
    return result


#: Every table ends with each algorithm's decision time per hour and what it knew when it acted.
INFORMATION_COLUMNS = ("ms_per_hour", "information")
EXTRA_COLUMNS = ("bound", "followed_share", "mean_theta", "unserved_mwh", *INFORMATION_COLUMNS)


# ----------------------------------------------------------------------------------- the sweep
SEVERITIES = (0.0, 0.5, 1.0, 2.0)
LAMBDAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class SweepConfig:
    """The distribution-shift sweep: every algorithm on every shift and severity, then the lambda
    trade-off of robust(ml, lambda).

    Attributes:
        evaluation: algorithms, the (one) scenario, options and the output folder.
        shifts: shift names (default all). severities: 0 is always included.
        ml: the ML policy of the trade-off (None: the first learned or robust-wrapped algorithm, else glb-cost).
        lambdas: the trade-off's lambdas.
    """

    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    shifts: tuple[str, ...] = tuple(SHIFTS)
    severities: tuple[float, ...] = SEVERITIES
    ml: str | None = None
    lambdas: tuple[float, ...] = LAMBDAS

    def __post_init__(self):
        for name in self.shifts:
            parse_shift(name)
        if any(not (s >= 0) for s in self.severities) or any(not (lam >= 0) for lam in self.lambdas):
            raise InputError("severities and lambdas must be numbers >= 0")


@dataclass
class SweepResult:
    """rows: one per (shift, severity, algorithm); tradeoff: one per lambda (plus the ML alone and the
    expert), with J / J(eGLB-Off) in distribution and over the shifts at severity 1."""

    rows: list[dict]
    tradeoff: list[dict]
    ml: str
    files: list[Path] = field(default_factory=list)


def sweep(config: SweepConfig, mapper: Mapper | None = None) -> SweepResult:
    """Run the sweep (each case an independent task for ``mapper``) and write its tables, plots and report."""
    import numpy as np

    from eglb.envs.shifts import ShiftSpec, apply_shift
    from eglb.report.markdown import write_report
    from eglb.report.plots import plot_sweep, plot_tradeoff
    from eglb.report.tables import format_table, write_rows

    evaluation = config.evaluation
    out = _check_out(evaluation, SWEEP_FILES, evaluation.out or "results/sweep")
    scenarios = build_scenarios(evaluation.scenario)
    if len(scenarios) > 1:
        raise InputError("--sweep runs on one scenario: give one --synthetic seed")
    base = scenarios[0]
    algos = evaluation.algos or default_algos([base.scenario])
    ml = config.ml or default_ml([a for a in algos if a.split(":")[0].split("(")[0].strip() not in CONTROLLERS])
    build(ml, evaluation.options)  # a bad ML policy fails now, not after the sweep
    for spec in algos:
        build(spec, evaluation.options)
    severities = sorted(set(config.severities) | {0.0})

    def shifted(name: str, severity: float) -> ShiftedScenario:
        step = apply_shift(base.scenario, ShiftSpec(name, {"severity": severity}), evaluation.scenario.seed)
        noise = step.forecast_noise if step.forecast_noise is not None else base.forecast_noise
        return ShiftedScenario(step.scenario, noise, base.unserved + step.unserved)

    # Every shift at severity 0 is the unshifted scenario: run it once.
    grid = [(name, severity) for name in config.shifts for severity in severities if severity > 0]
    tradeoff_specs = [ml, "eglb"] + [f"robust({ml},lambda={lam:g})" for lam in config.lambdas]
    tasks = [("grid", "none", 0.0, base)] + [("grid", n, s, shifted(n, s)) for n, s in grid]
    tasks += [("tradeoff", "in distribution", 0.0, base)] + [("tradeoff", n, 1.0, shifted(n, 1.0)) for n in config.shifts]
    outputs = (mapper or local_map)(
        lambda task: case_rows(algos if task[0] == "grid" else tradeoff_specs, evaluation.options, task[3]), tasks
    )
    rows = []
    for (kind, name, severity, _), task_rows in zip(tasks, outputs):
        if kind != "grid":
            continue
        if name == "none":
            rows += [dict(r, shift=shift, severity=0.0) for shift in config.shifts for r in task_rows]
        else:
            rows += [dict(r, shift=name, severity=severity) for r in task_rows]
    rows.sort(key=lambda r: (config.shifts.index(r["shift"]), r["severity"]))
    ratios: dict[str, dict[str, float]] = {spec: {} for spec in tradeoff_specs}
    information: dict[str, str] = {}
    for (kind, name, _, _), task_rows in zip(tasks, outputs):
        if kind == "tradeoff":
            for r in task_rows:
                ratios[r["algo"]][name] = r["ratio_to_offline"]
                information[r["algo"]] = r["information"]
    tradeoff = []
    for spec in tradeoff_specs:
        shifted_ratios = [v for k, v in ratios[spec].items() if k != "in distribution"]
        tradeoff.append(
            {
                "algo": spec,
                "information": information[spec],
                "lambda": next((lam for lam in config.lambdas if spec == f"robust({ml},lambda={lam:g})"), None),
                "in_distribution": ratios[spec]["in distribution"],
                "shifted_mean": float(np.mean(shifted_ratios)) if shifted_ratios else None,
                "shifted_worst": float(np.max(shifted_ratios)) if shifted_ratios else None,
                **{f"shift_{k}": v for k, v in ratios[spec].items() if k != "in distribution"},
            }
        )
    result = SweepResult(rows, tradeoff, ml)
    with exclusive_lock(out, "a sweep"):
        _check_out(evaluation, SWEEP_FILES, str(out))
        files = write_rows(rows, out, "sweep") + write_rows(tradeoff, out, "tradeoff")
        files.append(plot_sweep(rows, out / "sweep.png"))
        files.append(plot_tradeoff(tradeoff, ml, out / "tradeoff.png"))
        command = evaluation.command or "python evaluate.py --sweep"
        files.append(write_report(out / "report.md", base.scenario, rows, tradeoff, ml, command))
    result.files = files
    if evaluation.report:
        for shift in config.shifts:
            print(f"\n{shift} (severity 1)")
            print(
                format_table(
                    [r for r in rows if r["shift"] == shift and r["severity"] == 1.0],
                    extra_columns=("followed_share", *INFORMATION_COLUMNS),
                )
            )
        print(f"\nlambda trade-off of robust({ml})")
        for row in tradeoff:
            print(
                f"  {row['algo']:<40} in distribution {row['in_distribution']:.4f}  shifted mean {row['shifted_mean']:.4f}  "
                f"worst {row['shifted_worst']:.4f}"
            )
        print("wrote " + ", ".join(str(p) for p in files))
    return result


def command_line(program: str, argv: Sequence[str]) -> str:
    return f"python {program} " + " ".join(shlex.quote(a) for a in argv)
