"""The cross-year benchmark: every algorithm on the windows of a whole year of real history.

Policies are trained on 2021-2022 and selected on 2023 (``train.py --traces HISTORY``); the
benchmark runs them, with every classical algorithm, on consecutive windows (a week by default) of
the test year 2024 and reports J / J(eGLB-Off) per window, where eGLB-Off is the hindsight optimum
of that window: the mean and worst over the windows, a per-season breakdown, how many windows each
algorithm beats eGLB on, whether every robust policy stayed within its bound, and plots (the ratio
per window over the year, the regional footprints summed over the windows). Run on 2023
(``years="2023"``) the same report serves model selection and the real-shift view (policies
trained on different years tested season by season); the year is in every title.

``benchmark(config, mapper)`` maps one task per window (all algorithms on it) through ``mapper``,
so Ray (sweeps/) can spread the windows over a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock
from eglb.envs.shifts import ShiftedScenario
from eglb.envs.validation import check_fields, check_unique, typed_arguments
from eglb.evaluation import (
    FORECAST_CONTROLLERS,
    EvaluationConfig,
    Mapper,
    _check_out,
    case_rows,
    check_specs,
    fill_report,
    local_map,
    print_fill_report,
    summary_text,
    write_fill_report,
)
from eglb.registry import CLASSICAL, split_specs
from eglb.scenarios import history_scenario, is_history_folder, named_windows, with_observed_past

#: The benchmarks evaluate.py --benchmark knows.
BENCHMARKS = ("history",)
#: The default year of the benchmark: the test year (tune nothing on it).
TEST_YEAR = "2024"
#: Seasons by the month of a window's middle hour (meteorological seasons, named by their months
#: because half the zones are in the southern hemisphere).
SEASONS = {
    12: "Dec-Feb",
    1: "Dec-Feb",
    2: "Dec-Feb",
    3: "Mar-May",
    4: "Mar-May",
    5: "Mar-May",
    6: "Jun-Aug",
    7: "Jun-Aug",
    8: "Jun-Aug",
    9: "Sep-Nov",
    10: "Sep-Nov",
    11: "Sep-Nov",
}
SEASON_ORDER = ("Dec-Feb", "Mar-May", "Jun-Aug", "Sep-Nov")
#: Relative tolerance of the robust bound check (solver and summation round-off).
BOUND_TOLERANCE = 1e-9
#: What benchmark() writes into its ``out`` folder.
BENCHMARK_FILES = (
    "results.json",
    "results.csv",
    "summary.json",
    "summary.csv",
    "seasons.json",
    "seasons.csv",
    "report.md",
    "fill_report.txt",
    *(f"{stem}.{ext}" for stem in ("windows", "regions", "ratios") for ext in ("png", "pdf")),
)


@dataclass(frozen=True)
class BenchmarkConfig:
    """The cross-year benchmark.

    Attributes:
        evaluation: algorithms, options, output folder; ``evaluation.scenario`` names the history
            folder (``traces``), ``regions``, ``years`` (default the test year 2024), ``workload``,
            ``carbon``, ``seed`` (of the gateway loads) and the weights. Its ``hours`` must be None.
        window_hours: hours of each window (default a week).
        windows: indices of the windows to run (0 = the first ``window_hours`` of the year), or None
            for every whole window of the year (52 weeks; the last hours that do not fill a window
            are left out).
    """

    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    window_hours: int = 168
    windows: tuple[int, ...] | None = None

    def __post_init__(self):
        check_fields(self)
        scenario = self.evaluation.scenario
        if not scenario.traces or not is_history_folder(scenario.traces):
            raise InputError(
                "the history benchmark needs the history folder: --traces ../shared/data/history (or $EGLB_HISTORY_DATA)"
            )
        if scenario.hours is not None:
            raise InputError("--hours does not apply to the benchmark: choose windows with --windows and --window-hours")
        if scenario.shifts:
            raise InputError("--shift does not apply to the benchmark: it runs the real year as it was")
        if not 1 <= self.window_hours <= 8784:
            raise InputError(f"--window-hours must be in 1..8784, got {self.window_hours}")
        if self.windows is not None and (not self.windows or min(self.windows) < 0):
            raise InputError("--windows must list window indices >= 0")
        check_unique("--windows", self.windows or ())


@dataclass
class BenchmarkResult:
    """rows: one per (window, algorithm); summary: per algorithm over the windows; seasons: per
    algorithm and season; files: what was written."""

    rows: list[dict]
    summary: list[dict]
    seasons: list[dict]
    year: str
    files: list[Path] = field(default_factory=list)


def history_traces(traces: str | None) -> str:
    """The history folder of the benchmark: the one given, else ``$EGLB_HISTORY_DATA`` or ../shared/data/history."""
    from eglb.importers.paths import default_history_path

    return str(traces) if traces else str(default_history_path())


def benchmark_algos(specs) -> tuple[str, ...]:
    """Every classical algorithm, RHC and AFHC with the published prices (:data:`FORECAST_CONTROLLERS`),
    then the given specs that are not among them (in their order): what the command line runs, and
    the API's default (``algos=None``)."""
    return tuple(dict.fromkeys((*CLASSICAL, *FORECAST_CONTROLLERS, *(specs or ()))))


def trained_on(spec: str) -> str:
    """What a learned policy (``KIND:RUN_FOLDER``, also inside ``robust(...)``) was trained on, from its
    run's config.yaml; "" for classical and other policies."""
    from eglb.training.algorithms import ALGOS
    from eglb.training.run_folder import read_run_config

    if not isinstance(spec, str):
        return ""
    if spec.startswith("robust(") and spec.endswith(")"):
        spec = split_specs(spec[len("robust(") : -1])[0]
    kind, sep, folder = spec.partition(":")
    if not sep or kind not in ALGOS:
        return ""
    from eglb.training.run_group import is_run_group, read_group

    if is_run_group(folder):
        group = read_group(folder)
        return f"{described_data(group.config.data)}; {len(group.seeds)} seeds"
    return described_data(read_run_config(folder).data)


def described_data(data) -> str:
    """What a run's DataConfig trained on, in words."""
    if data.traces is None:
        return f"synthetic history ({data.zones})" if data.zones else "synthetic (published-set generator)"
    if is_history_folder(data.traces):
        return f"history {data.years or '2021-2022'} ({data.regions or 'complete14'}), selected on {data.eval_years or '2023'}"
    return f"{Path(data.traces).name}, hours {data.train_hours or 'default'}"


def require_market_rules(algorithms, scenario) -> None:
    """Fail before the first window if a policy forecasts with the published prices and a region of the
    scenario has no market rule (a region table of one's own without the columns market and published)."""
    from eglb.forecasts.market import MarketForecaster, market_rules

    for algorithm in algorithms:
        forecaster = getattr(algorithm, "forecaster", None)
        if isinstance(forecaster, MarketForecaster):
            market_rules(scenario, forecaster.rules)


def season(timestamps: np.ndarray) -> str:
    """The season of a window: by the month of its middle hour."""
    middle = timestamps[len(timestamps) // 2].astype("datetime64[M]").astype(int) % 12 + 1
    return SEASONS[int(middle)]


def within_bound(row: dict) -> bool | None:
    """Whether a robust row's J stayed within its reported bound (None for other rows)."""
    if "bound" not in row:
        return None
    return bool(row["J"] <= row["bound"] + BOUND_TOLERANCE * abs(row["bound"]))


def summarize(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Per algorithm over the windows (and the seeds of a run group), and per algorithm and season: the
    mean J / J(eGLB-Off) with its 95 % interval, IQM, worst, best and spread, the (window, seed) pairs
    below eGLB, and for robust policies the pairs within their bound."""
    from eglb.report.tables import ratio_columns

    algos = list(dict.fromkeys(r["algo"] for r in rows))
    expert = {r["window"]: r["ratio_to_offline"] for r in rows if r["algo"] == "eglb"}

    def figures(mine: list[dict]) -> dict:
        ratios = np.array([r["ratio_to_offline"] for r in mine])
        out = {
            **ratio_columns(mine, "window"),
            "ratio_best": float(ratios.min()),
            "cost": float(np.mean([r["cost"] for r in mine])),
            "par_water": float(np.mean([r["par_water"] for r in mine])),
            "par_carbon": float(np.mean([r["par_carbon"] for r in mine])),
            "J": float(np.mean([r["J"] for r in mine])),
            "windows": len({r["window"] for r in mine}),
            "runs": len(mine),
        }
        if all("information" in r for r in mine):
            out["ms_per_hour"] = float(np.mean([r["ms_per_hour"] for r in mine]))
            out["information"] = mine[0]["information"]
        if expert:
            out["below_eglb"] = int(sum(r["ratio_to_offline"] < expert[r["window"]] for r in mine if r["window"] in expert))
        checks = [within_bound(r) for r in mine]
        if any(c is not None for c in checks):
            out["within_bound"] = int(sum(bool(c) for c in checks))
        if any("nonfinite_actions" in r for r in mine):
            out["nonfinite_actions"] = int(sum(r.get("nonfinite_actions", 0) for r in mine))
        return out

    summary = [{"algo": a, **figures([r for r in rows if r["algo"] == a])} for a in algos]
    seasons = []
    for a in algos:
        for name in SEASON_ORDER:
            mine = [r for r in rows if r["algo"] == a and r["season"] == name]
            if mine:
                seasons.append({"algo": a, "season": name, **figures(mine)})
    return summary, seasons


@typed_arguments
def benchmark(config: BenchmarkConfig, mapper: Mapper | None = None) -> BenchmarkResult:
    """Run every algorithm on every window of the year; write tables, plots and a report when ``out`` is set.
    ``mapper``: how the windows are mapped (None: in this process, in order)."""
    from eglb.report.markdown import write_benchmark_report
    from eglb.report.plots import plot_ratios, plot_regions, plot_windows
    from eglb.report.tables import format_table, write_rows

    evaluation = config.evaluation
    algos = evaluation.algos or benchmark_algos(())
    built = check_specs(algos, evaluation.options)  # a bad name fails now, before a year is loaded or a folder made
    out = _check_out(evaluation, BENCHMARK_FILES)
    scenario_config = evaluation.scenario
    year = scenario_config.years or TEST_YEAR
    # Each window carries the hours observed before it (read only by specs with past=P).
    scenario = with_observed_past(history_scenario(scenario_config, years=year), scenario_config)
    require_market_rules(built, scenario)
    count = scenario.n_hours // config.window_hours
    if count == 0:
        raise InputError(f"--window-hours {config.window_hours} is longer than {year}'s {scenario.n_hours} hours")
    chosen = tuple(range(count)) if config.windows is None else config.windows
    if max(chosen) >= count:
        raise InputError(
            f"{year} has {count} whole windows of {config.window_hours} hours (indices 0..{count - 1}); "
            f"--windows asks for {max(chosen)}"
        )
    windows = named_windows(scenario, config.window_hours, [k * config.window_hours for k in chosen])
    per_window = (mapper or local_map)(partial(case_rows, algos, evaluation.options), [ShiftedScenario(w) for w in windows])
    rows = []
    for index, window, window_rows in zip(chosen, windows, per_window):
        start = str(window.timestamps[0].astype("datetime64[h]"))
        for row in window_rows:
            check = within_bound(row)
            rows.append(
                {
                    "window": index,
                    "start": start,
                    "season": season(window.timestamps),
                    "scenario": window.name,
                    **row,
                    **({} if check is None else {"within_bound": check}),
                }
            )
    summary, seasons = summarize(rows)
    for row in summary:
        row["trained_on"] = trained_on(row["algo"])
    result = BenchmarkResult(rows, summary, seasons, str(year))
    fill = fill_report(scenario)
    if evaluation.report:
        print_fill_report(fill, evaluation, out)
        print(f"{scenario!r}: {len(windows)} windows of {config.window_hours} hours of {year}; eGLB-Off solved per window")
        extra = ("ratio_worst", "below_eglb", "within_bound", "trained_on", "ms_per_hour", "information")
        print(summary_text(rows, summary, extra, task="window"))
        matrix = [
            {"algo": r["algo"], **{s["season"]: s["ratio_to_offline"] for s in seasons if s["algo"] == r["algo"]}}
            for r in summary
        ]
        print(f"\nJ / J(eGLB-Off) by season (mean over the windows of {year} whose middle hour falls in it)")
        print(format_table(matrix, columns=("algo",), extra_columns=SEASON_ORDER, formats=dict.fromkeys(SEASON_ORDER, "{:.4f}")))
    if out is not None:
        with exclusive_lock(out, "a benchmark"):
            _check_out(evaluation, BENCHMARK_FILES)  # again: another process may have written there meanwhile
            files = write_rows(rows, out, "results") + write_rows(summary, out, "summary") + write_rows(seasons, out, "seasons")
            files += write_fill_report(fill, out)
            files += plot_windows(
                rows, out / "windows.png", f"J / J(eGLB-Off) per {config.window_hours}-hour window of {year} ({scenario.name})"
            )
            files += plot_regions(rows, out / "regions.png", f"Regional footprints in {year} ({scenario.name})", unit="window")
            files += plot_ratios(summary, out / "ratios.png", f"J / J(eGLB-Off) over the {len(windows)} windows of {year}")
            files.append(
                write_benchmark_report(
                    out / "report.md",
                    scenario,
                    year,
                    config.window_hours,
                    summary,
                    seasons,
                    evaluation.command or "python evaluate.py --benchmark history",
                )
            )
        result.files = files
        if evaluation.report:
            print("wrote " + ", ".join(str(p) for p in files))
    return result
