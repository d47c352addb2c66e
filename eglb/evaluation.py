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

from eglb.agents.base import OfflineSolver, Policy
from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock, output_folder
from eglb.envs.scenario import Scenario
from eglb.envs.shifts import SHIFTS, ShiftedScenario, parse_shift
from eglb.envs.validation import MAX_MAGNITUDE, check_fields, check_range, check_unique, typed_arguments
from eglb.registry import CLASSICAL, CONTROLLERS, AlgorithmOptions, build, default_ml, in_memory, label, seed_members, split_specs
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
#: RHC that also reads the observed hours before the episode, where the scenarios carry them (the
#: history's weeks and tasks: the 336 before each week, eglb.scenarios.with_observed_past), chosen on
#: 2023 (benchmarks/figures.py, section information-past; docs/guide/information.md). Name it in
#: ``--algos``: it is not in the default sets, which must run on scenarios without a past too.
PAST_CONTROLLERS = ("rhc:w=48,forecaster=market,base=seasonal,tail=seasonal,tail_days=14,past=336",)
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


def _in_memory(entry, index: int):
    try:
        return in_memory(entry)
    except InputError as exc:
        raise InputError(f"EvaluationConfig.algos[{index}]: {exc}") from None


@dataclass(frozen=True)
class EvaluationConfig:
    """One evaluation: algorithms on the scenarios of ``scenario``.

    Attributes:
        algos: algorithm specs (eglb/registry.py), or one comma-separated string of them (the only
            field where one string stands for several); None for the default set (:func:`default_algos`:
            the classical algorithms, RHC and AFHC). Entries may also be objects in memory: a Policy or
            OfflineSolver (labelled by its ``name``) or a stable-baselines3 model trained on a registered
            id (eglb.registry.sb3_policy), evaluated with its current weights. scenario: which scenarios.
            options: shared algorithm settings.
        out: folder for results.json/.csv and PNG and PDF plots, text or a Path kept as text (None:
            return the rows only); never a training run folder. overwrite: replace results already in
            ``out`` (else such a folder is refused).
        progress: show progress bars. report: print the tables in the terminal. verbose: with
            ``report``, also print the data's fill report (history data: one line per zone and
            signal), which is otherwise written to ``out``/fill_report.txt only.
        command: the command line, for reports.
    """

    algos: tuple[str | Policy | OfflineSolver, ...] | None = None
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    options: AlgorithmOptions = field(default_factory=AlgorithmOptions)
    out: str | Path | None = None
    overwrite: bool = False
    progress: bool = False
    report: bool = False
    verbose: bool = False
    command: str = ""

    def __post_init__(self):
        if isinstance(self.algos, str):  # "eglb,glb-cost" as on the command line
            object.__setattr__(self, "algos", tuple(split_specs(self.algos)))
        elif isinstance(self.algos, (list, tuple)):
            # Objects in memory: an SB3 model becomes its Policy once, acting with its current weights.
            object.__setattr__(
                self, "algos", tuple(a if isinstance(a, str) else _in_memory(a, k) for k, a in enumerate(self.algos))
            )
        check_fields(self)
        if self.algos is None:
            return
        if not self.algos:
            raise InputError("give at least one algorithm (--algos)")
        names = [label(a) for a in self.algos]
        if len(set(names)) != len(names):
            raise InputError(f"--algos lists an algorithm twice: {','.join(names)!r}")


@dataclass(repr=False)
class EvaluationResult:
    """rows: one per (scenario, algorithm, training seed), with ``scenario`` and ``seed`` columns;
    summary: per algorithm over scenarios and seeds, the means and the mean and IQM of J / J(eGLB-Off)
    with 95 % intervals (the rows themselves when each algorithm has one row); files: what was written.
    ``print(result)`` shows the summary table; its repr is one line."""

    rows: list[dict]
    summary: list[dict]
    files: list[Path] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"EvaluationResult({describe_rows(self.rows)}; files: {len(self.files)})"

    def __str__(self) -> str:
        return summary_text(self.rows, self.summary)


def describe_rows(rows: list[dict], task: str = "scenario") -> str:
    """'12 rows: 4 algorithms x 3 scenarios (2 seeds of bc:runs/g)': what a list of result rows holds."""
    algos = list(dict.fromkeys(r["algo"] for r in rows))
    seeds = {a: len({r.get("seed") for r in rows if r["algo"] == a}) for a in algos}
    trained = [f"{n} seeds of {a}" for a, n in seeds.items() if n > 1]
    tasks = len({r.get(task) for r in rows})
    plural = {True: "s", False: ""}
    what = f"{len(rows)} rows: {len(algos)} algorithm{plural[len(algos) != 1]} x {tasks} {task}{plural[tasks != 1]}"
    return what + (f" ({', '.join(trained)})" if trained else "")


def summary_text(rows: list[dict], summary: list[dict], extra_columns: tuple[str, ...] = (), task: str = "scenario") -> str:
    """The terminal table of a summary (one line per algorithm), headed by what it is a mean over."""
    from eglb.report.tables import INTERVAL_COLUMNS, format_table, with_intervals

    if summary is rows:
        return format_table(rows, extra_columns=extra_columns)
    tasks = len({r.get(task) for r in rows})
    trained = {a: len({r.get("seed") for r in rows if r["algo"] == a}) for a in dict.fromkeys(r["algo"] for r in rows)}
    seeds = "".join(f", {n} seeds of {a}" for a, n in trained.items() if n > 1)
    head = (
        f"mean over {tasks} {task}{'s' if tasks > 1 else ''}{seeds}; 95 % stratified-bootstrap intervals, IQM: interquartile mean"
    )
    columns = INTERVAL_COLUMNS if seeds else tuple(c for c in INTERVAL_COLUMNS if c != "seeds")
    return head + "\n" + format_table(with_intervals(summary), extra_columns=(*columns, *extra_columns))


def check_specs(specs: Sequence[str], options: AlgorithmOptions) -> list:
    """Build every algorithm (every seed of a run group) once, so that a bad name fails before any
    scenario is built; returns the built policies and solvers."""
    return [build(member, options) for spec in specs for _, member in seed_members(spec)]


#: What evaluate() and sweep() write into their ``out`` folder.
#: Every plot is a PNG with a PDF beside it (report.plots.save_figure).
EVALUATION_FILES = (
    *("results.json", "results.csv", "summary.json", "summary.csv", "fill_report.txt"),
    *(f"{stem}.{ext}" for stem in ("regions", "cumulative", "ratios") for ext in ("png", "pdf")),
)
SWEEP_FILES = (
    *("sweep.json", "sweep.csv", "sweep_summary.json", "sweep_summary.csv", "tradeoff.json", "tradeoff.csv", "report.md"),
    *(f"{stem}.{ext}" for stem in ("sweep", "tradeoff") for ext in ("png", "pdf")),
)


def _check_out(config, names: tuple[str, ...], out: str | None = None) -> Path | None:
    """The ``out`` folder (``config.out`` unless given) of a config with ``out`` and ``overwrite``, checked
    to lose nothing (envs.files.output_folder): call it before computing and again under the lock."""
    out = config.out if out is None else out
    return None if out is None else output_folder(out, names, config.overwrite)


def run_case(specs: Sequence[str], options: AlgorithmOptions, case: ShiftedScenario, progress: bool = False):
    """Build and run every algorithm on one (shifted) scenario: (results, J of eGLB-Off). A run group
    runs each of its seeds (one result per seed, named after the group, its ``seed`` set)."""
    from eglb.report.run import run_algorithms

    if case.forecast_noise is not None:
        options = replace(options, forecast_noise=case.forecast_noise)
    members = [(label(spec), seed, member) for spec in specs for seed, member in seed_members(spec)]
    algorithms = [(spec, build(member, options)) for spec, _, member in members]
    results, offline = run_algorithms(algorithms, case.scenario, progress=progress, reference=options.offline())
    for result, (_, seed, _) in zip(results, members):
        result.seed = seed
    return results, offline


def case_rows(specs: Sequence[str], options: AlgorithmOptions, case: ShiftedScenario) -> list[dict]:
    """The result rows of one case (see report/tables.py result_rows)."""
    from eglb.report.tables import result_rows

    results, offline = run_case(specs, options, case)
    return result_rows(results, case.scenario, offline, case.unserved)


@typed_arguments
def evaluate(config: EvaluationConfig, mapper: Mapper | None = None) -> EvaluationResult:
    """Run every algorithm on every scenario; write tables and plots when ``config.out`` is set.

    ``mapper`` maps the per-scenario work (default: one after the other in this process;
    ``eglb.mapper_for(address)``: Ray tasks). The rows are the same, number for number, either way."""
    from eglb.report.plots import data_title, plot_cumulative, plot_ratios, plot_regions
    from eglb.report.tables import mean_rows, result_rows, write_rows

    check_specs(config.algos or (), config.options)  # a bad name fails now, before any scenario is built or folder made
    out = _check_out(config, EVALUATION_FILES)
    cases = build_scenarios(config.scenario)
    algos = config.algos or default_algos([c.scenario for c in cases])
    if len(cases) == 1:
        case = cases[0]
        results, offline = run_case(algos, config.options, case, config.progress)
        rows = result_rows(results, case.scenario, offline, case.unserved)
    else:
        per_case = (mapper or local_map)(lambda c: case_rows(algos, config.options, c), cases)
        rows = [row for case_rows_ in per_case for row in case_rows_]
    # One row per algorithm is its own summary; several (scenarios, or the seeds of a run group) are aggregated.
    single = len(rows) == len({r["algo"] for r in rows})
    summary = rows if single else mean_rows(rows)
    result = EvaluationResult(rows, summary)
    fill = fill_report(cases[0].scenario)
    if config.report:
        print_fill_report(fill, config, out)
        if len(cases) == 1:
            scenario = cases[0].scenario
            print(f"{scenario!r}, hours {scenario.timestamps[0]} .. {scenario.timestamps[-1]}")
        else:
            print(f"{len(cases)} scenarios of {cases[0].scenario.n_hours} hours: {', '.join(c.scenario.name for c in cases)}")
        many = ("ratio_std", "ratio_worst", "unserved_mwh", *INFORMATION_COLUMNS)
        print(summary_text(rows, summary, EXTRA_COLUMNS if single else many))
    if out is not None:
        with exclusive_lock(out, "an evaluation"):
            _check_out(config, EVALUATION_FILES)  # again: another process may have written there meanwhile
            files = write_rows(rows, out) + write_fill_report(fill, out)
            if not single:
                files += write_rows(summary, out, "summary")
            title = data_title([c.scenario for c in cases])
            files += plot_regions(rows, out / "regions.png", f"Regional footprints on {title}")
            if len(cases) == 1:
                files += plot_cumulative(results, cases[0].scenario, out / "cumulative.png")
            files += plot_ratios(summary, out / "ratios.png", f"J / J(eGLB-Off) on {title}")
        result.files = files
        if config.report:
            print("wrote " + ", ".join(str(p) for p in files))
    return result


#: Where evaluate() and benchmark() write the data's fill report in their ``out`` folder.
FILL_REPORT = "fill_report.txt"


def fill_report(scenario: Scenario) -> list[str]:
    """The lines of how a scenario's data was completed (history data: one per zone and signal, what
    was missing and how it was filled; eglb.importers.grid); none for other data."""
    return list((scenario.metadata or {}).get("summary", []))


def print_fill_report(lines: list[str], config: EvaluationConfig, out: Path | None) -> None:
    """The fill report in full with ``config.verbose``, else one line saying where it is."""
    if config.verbose:
        print("\n".join(lines))
    elif lines:
        where = f"in {out / FILL_REPORT}" if out is not None else "printed with --verbose"
        print(f"the data's fill report ({len(lines)} lines: what was missing and how it was filled) is {where}")


def write_fill_report(lines: list[str], out: Path) -> list[Path]:
    from eglb.envs.files import atomic_write_text

    return [atomic_write_text(out / FILL_REPORT, "\n".join(lines) + "\n")] if lines else []


#: Every table ends with each algorithm's decision time per hour and what it knew when it acted.
INFORMATION_COLUMNS = ("ms_per_hour", "information")
EXTRA_COLUMNS = ("bound", "followed_share", "mean_theta", "unserved_mwh", *INFORMATION_COLUMNS)


# ----------------------------------------------------------------------------------- the sweep
SEVERITIES = (0.0, 0.5, 1.0, 2.0)
LAMBDAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def default_sweep_evaluation() -> EvaluationConfig:
    """The sweep's default: the classical algorithms on the held-out test seeds (envs.synthetic.TEST_SEEDS),
    which training never selects checkpoints on (it selects on SELECTION_SEEDS)."""
    from eglb.envs.synthetic import TEST_SEEDS

    return EvaluationConfig(scenario=ScenarioConfig(synthetic=TEST_SEEDS))


@dataclass(frozen=True)
class SweepConfig:
    """The distribution-shift sweep: every algorithm on every shift and severity, then the lambda
    trade-off of robust(ml, lambda), on each scenario of ``evaluation`` (results aggregated over them).

    Attributes:
        evaluation: algorithms, the scenarios, options and the output folder (default: the classical
            algorithms on the held-out test seeds 100, 101, 102: never trained or selected on).
        shifts: shift names (default all). severities: 0 is always included.
        ml: the ML policy of the trade-off (None: the first learned or robust-wrapped algorithm, else glb-cost).
        lambdas: the trade-off's lambdas.
    """

    evaluation: EvaluationConfig = field(default_factory=default_sweep_evaluation)
    shifts: tuple[str, ...] = tuple(SHIFTS)
    severities: tuple[float, ...] = SEVERITIES
    ml: str | None = None
    lambdas: tuple[float, ...] = LAMBDAS

    def __post_init__(self):
        check_fields(self)
        for name in self.shifts:
            if parse_shift(name).params:
                raise InputError(f"SweepConfig.shifts names shifts (the sweep sets their severity), got {name!r}")
        for key in ("shifts", "severities", "lambdas"):
            if not getattr(self, key):
                raise InputError(f"SweepConfig.{key} must list at least one value")
            check_unique(f"SweepConfig.{key}", getattr(self, key))
        for key in ("severities", "lambdas"):
            for value in getattr(self, key):
                check_range(f"SweepConfig.{key}", value, 0, MAX_MAGNITUDE)


@dataclass(repr=False)
class SweepResult:
    """rows: one per (scenario, shift, severity, algorithm, training seed); summary: per (shift,
    severity, algorithm) the mean and IQM of J / J(eGLB-Off) over scenarios and seeds with 95 %
    intervals; tradeoff: one row per lambda (plus the ML policy alone and the expert), J / J(eGLB-Off)
    in distribution and over the shifts at severity 1 (means over scenarios and seeds, with intervals)."""

    rows: list[dict]
    tradeoff: list[dict]
    ml: str
    files: list[Path] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"SweepResult({describe_rows(self.rows)}; trade-off of robust({self.ml}) at {len(self.tradeoff) - 2} lambdas)"

    def __str__(self) -> str:
        return tradeoff_text(self.tradeoff, self.ml)


def tradeoff_text(tradeoff: list[dict], ml: str) -> str:
    lines = [f"lambda trade-off of robust({ml}): J / J(eGLB-Off), mean [95 % CI]"]
    for row in tradeoff:
        interval = ""
        if row.get("in_distribution_ci_low") is not None:
            interval = f" [{row['in_distribution_ci_low']:.4f}, {row['in_distribution_ci_high']:.4f}]"
        lines.append(
            f"  {row['algo']:<40} in distribution {row['in_distribution']:.4f}{interval}  shifted mean "
            f"{row['shifted_mean']:.4f}  worst shift {row['shifted_worst']:.4f}"
        )
    return "\n".join(lines)


@typed_arguments
def sweep(config: SweepConfig, mapper: Mapper | None = None) -> SweepResult:
    """Run the sweep (each case an independent task for ``mapper``) and write its tables, plots and report."""
    from eglb.envs.shifts import ShiftSpec, apply_shift
    from eglb.report.markdown import write_report
    from eglb.report.plots import data_title, plot_sweep, plot_tradeoff
    from eglb.report.tables import format_table, mean_rows, with_intervals, write_rows

    evaluation = config.evaluation
    given = ([config.ml] if config.ml else []) + list(evaluation.algos or ())
    check_specs(given, evaluation.options)  # a bad name fails now, before a folder is made (the defaults are known names)
    out = _check_out(evaluation, SWEEP_FILES, evaluation.out or "results/sweep")
    bases = build_scenarios(evaluation.scenario)
    algos = evaluation.algos or default_algos([b.scenario for b in bases])
    ml = config.ml or default_ml([a for a in algos if label(a).split(":")[0].split("(")[0].strip() not in CONTROLLERS])
    severities = sorted(set(config.severities) | {0.0})

    def shifted(base: ShiftedScenario, name: str, severity: float) -> ShiftedScenario:
        step = apply_shift(base.scenario, ShiftSpec(name, {"severity": severity}), evaluation.scenario.seed)
        noise = step.forecast_noise if step.forecast_noise is not None else base.forecast_noise
        return ShiftedScenario(step.scenario, noise, base.unserved + step.unserved)

    # Every shift at severity 0 is the unshifted scenario: run it once per scenario.
    grid = [(name, severity) for name in config.shifts for severity in severities if severity > 0]
    tradeoff_specs = list(dict.fromkeys([ml, "eglb"] + [f"robust({ml},lambda={lam:g})" for lam in config.lambdas]))
    tasks = []  # (kind, shift, severity, case, base scenario's name)
    for base in bases:
        name = base.scenario.name
        tasks += [("grid", "none", 0.0, base, name)] + [("grid", n, v, shifted(base, n, v), name) for n, v in grid]
        tasks += [("tradeoff", "in distribution", 0.0, base, name)]
        tasks += [("tradeoff", n, 1.0, shifted(base, n, 1.0), name) for n in config.shifts]
    outputs = (mapper or local_map)(
        lambda task: case_rows(algos if task[0] == "grid" else tradeoff_specs, evaluation.options, task[3]), tasks
    )
    rows, played = [], []  # played: every (shifted) run of the sweep once, for the bound check
    for (kind, name, severity, _, base), task_rows in zip(tasks, outputs):
        task_rows = [dict(r, scenario=base) for r in task_rows]
        played += task_rows
        if kind == "tradeoff":
            continue
        if name == "none":
            rows += [dict(r, shift=shift, severity=0.0) for shift in config.shifts for r in task_rows]
        else:
            rows += [dict(r, shift=name, severity=severity) for r in task_rows]
    rows.sort(key=lambda r: (config.shifts.index(r["shift"]), r["severity"]))
    summary = []
    for shift in config.shifts:
        for severity in severities:
            point = [r for r in rows if r["shift"] == shift and r["severity"] == severity]
            summary += [dict(row, shift=shift, severity=severity) for row in mean_rows(point)]
    tradeoff = tradeoff_rows(tasks, outputs, tradeoff_specs, ml, config.lambdas)
    bounds = [r["J"] <= r["bound"] * (1 + 1e-12) for r in played if "bound" in r]
    result = SweepResult(rows, tradeoff, ml, summary=summary)
    title = data_title([b.scenario for b in bases])
    with exclusive_lock(out, "a sweep"):
        _check_out(evaluation, SWEEP_FILES, str(out))  # again: another process may have written there meanwhile
        files = write_rows(rows, out, "sweep") + write_rows(summary, out, "sweep_summary") + write_rows(tradeoff, out, "tradeoff")
        files += plot_sweep(summary, out / "sweep.png", f"J / J(eGLB-Off) under distribution shift, {title}")
        files += plot_tradeoff(tradeoff, ml, out / "tradeoff.png", f"Consistency and robustness of robust({ml}), {title}")
        command = evaluation.command or equivalent_command(evaluation, sweep=config)
        files.append(write_report(out / "report.md", [b.scenario for b in bases], summary, tradeoff, ml, command, bounds))
    result.files = files
    if evaluation.report:
        for shift in config.shifts:
            print(f"\n{shift} (severity 1)")
            point = [r for r in summary if r["shift"] == shift and r["severity"] == 1.0]
            many = len(bases) > 1 or any(r.get("seeds", 1) > 1 for r in point)
            extra = ("ratio_ci",) * many + ("followed_share", *INFORMATION_COLUMNS)
            print(format_table(with_intervals(point), extra_columns=extra))
        print()
        print(tradeoff_text(tradeoff, ml))
        print("wrote " + ", ".join(str(p) for p in files))
    return result


def tradeoff_rows(tasks, outputs, specs: list[str], ml: str, lambdas) -> list[dict]:
    """The lambda trade-off: per spec, J / J(eGLB-Off) in distribution and on each shift at severity 1
    (means over scenarios and seeds), their mean and worst over the shifts, with 95 % intervals of the
    in-distribution mean and of the mean over shifts (both over scenarios and seeds)."""
    import numpy as np

    from eglb.report.tables import ratio_columns

    runs = [
        dict(r, scenario=base, case=name)
        for (kind, name, _, _, base), task_rows in zip(tasks, outputs)
        if kind == "tradeoff"
        for r in task_rows
    ]
    out = []
    for spec in specs:
        mine = [r for r in runs if r["algo"] == spec]
        inside = ratio_columns([r for r in mine if r["case"] == "in distribution"])
        shifted = [r for r in mine if r["case"] != "in distribution"]
        per_shift = {
            s: float(np.mean([r["ratio_to_offline"] for r in shifted if r["case"] == s]))
            for s in dict.fromkeys(r["case"] for r in shifted)
        }
        # Each (seed, scenario)'s mean over the shifts: the interval of the shifted mean covers seeds and scenarios.
        over_shifts: dict[tuple, list[float]] = {}
        for r in shifted:
            over_shifts.setdefault((r.get("seed"), r["scenario"]), []).append(r["ratio_to_offline"])
        spread = (
            ratio_columns(
                [{"seed": k[0], "scenario": k[1], "ratio_to_offline": float(np.mean(v))} for k, v in over_shifts.items()]
            )
            if over_shifts
            else {}
        )
        out.append(
            {
                "algo": spec,
                "information": mine[0]["information"],
                "lambda": next((lam for lam in lambdas if spec == f"robust({ml},lambda={lam:g})"), None),
                "in_distribution": inside["ratio_to_offline"],
                "in_distribution_ci_low": inside.get("ratio_ci_low"),
                "in_distribution_ci_high": inside.get("ratio_ci_high"),
                "shifted_mean": spread.get("ratio_to_offline"),
                "shifted_mean_ci_low": spread.get("ratio_ci_low"),
                "shifted_mean_ci_high": spread.get("ratio_ci_high"),
                "shifted_worst": max(per_shift.values()) if per_shift else None,
                "seeds": inside["seeds"],
                "scenarios": len({r["scenario"] for r in mine}),
                **{f"shift_{k}": v for k, v in per_shift.items()},
            }
        )
    return out


def equivalent_command(evaluation: EvaluationConfig, sweep: SweepConfig | None = None, extra: Sequence[str] = ()) -> str:
    """The evaluate.py command that runs what ``evaluation`` (and ``sweep``) describe, for reports
    written by the Python API (the command line gives its own)."""
    scenario, options = evaluation.scenario, evaluation.options
    default = ScenarioConfig()
    args: list[str] = ["--sweep"] if sweep is not None else []
    if evaluation.algos is not None:  # None: the default set, which the command line runs without --algos
        args += ["--algos", ",".join(label(a) for a in evaluation.algos)]
    if scenario.traces:
        args += ["--traces", scenario.traces]
    else:
        args += ["--synthetic", ",".join(str(s) for s in scenario.synthetic)]
        if scenario.synthetic_hours != default.synthetic_hours:
            args += ["--synthetic-hours", str(scenario.synthetic_hours)]
    flags = {
        "setting": "--setting",
        "mu_water": "--mu-water",
        "mu_carbon": "--mu-carbon",
        "seed": "--seed",
        "regions": "--regions",
        "years": "--years",
        "workload": "--workload",
        "carbon": "--carbon",
        "zones": "--zones",
    }
    for key, flag in flags.items():
        if getattr(scenario, key) != getattr(default, key):
            args += [
                flag,
                f"{getattr(scenario, key):g}" if isinstance(getattr(scenario, key), float) else str(getattr(scenario, key)),
            ]
    if scenario.hours is not None:
        args += ["--hours", f"{scenario.hours[0]}:{scenario.hours[1]}"]
    for shift in scenario.shifts:
        args += ["--shift", shift]
    for key, flag in (("eta", "--eta"), ("eta_scale", "--eta-scale"), ("offline_time_limit", "--time-limit")):
        if getattr(options, key) is not None:
            args += [flag, f"{getattr(options, key):g}"]
    if options.nearest is not None:
        args += ["--nearest", ",".join(options.nearest)]
    if options.allow_pickle:
        args.append("--allow-pickle")
    if sweep is not None:
        args += ["--shifts", ",".join(sweep.shifts), "--severities", ",".join(f"{v:g}" for v in sweep.severities)]
        args += ["--lambdas", ",".join(f"{v:g}" for v in sweep.lambdas)]
        if sweep.ml is not None:
            args += ["--ml", sweep.ml]
    args += list(extra)
    if evaluation.out is not None:
        args += ["--out", str(evaluation.out)]
    return command_line("evaluate.py", args)


def command_line(program: str, argv: Sequence[str]) -> str:
    return f"python {program} " + " ".join(shlex.quote(a) for a in argv)
