"""Evaluate algorithms on scenarios: a table in the terminal, results.json/.csv and PNG plots.

    python evaluate.py                                   # the classical algorithms, RHC and AFHC, synthetic seed 0
    python evaluate.py --traces ../shared/data/eglb-2022 --setting partial --out results/partial
    python evaluate.py --algos eglb,eglb-off,"robust(glb-cost,lambda=0.1)" --shift heat-wave:severity=2
    python evaluate.py --sweep --algos eglb,glb-cost,bc:runs/bc --ml bc:runs/bc --out results/sweep   # held-out seeds 100-102
    python evaluate.py --sweep --ray auto ...            # the sweep's cases as tasks on a running Ray cluster
    python evaluate.py --benchmark history --algos bc:runs/bc-history --out results/benchmark   # the 52 weeks of 2024
    python evaluate.py --frontier --algos eglb,eglb-off,glb-cost,rhc:w=24 --out results/frontier  # cost vs the worst footprints

Algorithms (``--algos``, comma-separated): glb-cost, glb-carbon, glb-water, glb-dist, eglb-off, eglb,
policies trained by train.py KIND:RUN_FOLDER (a run group of train.py --seeds: every seed, aggregated), SB3 models trained elsewhere sb3:ALGO:MODEL.zip (with
--allow-pickle), your own code py:MODULE:FUNCTION, and robust(SPEC, lambda=..., b=..., slack=...)
(see eglb/registry.py). Shifts (``--shift NAME[:param=value,...]``): see envs/shifts.py.
"""

from __future__ import annotations

import sys

from eglb.benchmark import BENCHMARKS, BenchmarkConfig, benchmark, benchmark_algos, history_traces
from eglb.cli import (
    ArgumentParser,
    add_knob_options,
    add_ray_option,
    numbers,
    parse_hours,
    parse_seeds,
    require_with,
    run_cli,
    smoke,
)
from eglb.cluster import mapper_for
from eglb.envs.errors import InputError
from eglb.envs.shifts import SHIFTS
from eglb.envs.synthetic import SELECTION_SEEDS, TEST_SEEDS
from eglb.equity import SCALES, FrontierConfig, frontier
from eglb.evaluation import (
    FORECAST_CONTROLLERS,
    LAMBDAS,
    SEVERITIES,
    EvaluationConfig,
    SweepConfig,
    command_line,
    evaluate,
    sweep,
)
from eglb.importers.electricitymaps import BASES
from eglb.importers.workload import MODEL_SOURCES
from eglb.registry import CLASSICAL, AlgorithmOptions, split_specs
from eglb.scenarios import ScenarioConfig, is_history_folder


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="evaluate.py", description=__doc__.split("\n\n")[0])
    group = parser.add_argument_group("scenario")
    source = group.add_mutually_exclusive_group()
    source.add_argument("--traces", metavar="DIR", help="a folder in the published layout or the project's CSV format")
    source.add_argument(
        "--synthetic",
        metavar="SEEDS",
        help="the embedded synthetic generator with this seed, or several (0-9, 1,5,7): results per seed and their mean "
        f"with 95 %% intervals (default: seed 0; --sweep: the held-out test seeds {','.join(map(str, TEST_SEEDS))}, "
        f"never trained or selected on: training selects checkpoints on seeds {','.join(map(str, SELECTION_SEEDS))})",
    )
    group.add_argument("--synthetic-hours", metavar="T", type=int, help="hours of a synthetic scenario (default 457)")
    group.add_argument(
        "--setting",
        choices=("full", "partial"),
        help="full mask or the published partial mask (default: full; a CSV folder's own mask)",
    )
    group.add_argument("--hours", metavar="START:END", help="use only these hours of the scenario (END exclusive)")
    group.add_argument(
        "--regions",
        help="with the history folder (--traces ../shared/data/history): region names, "
        "complete14 (default), eglb2022 (the published regions' stand-ins) or a region table CSV",
    )
    group.add_argument(
        "--years", help="with the history folder: UTC years, e.g. 2023 or 2021-2022 (default 2023; 2024 is the test year)"
    )
    group.add_argument(
        "--workload",
        choices=MODEL_SOURCES,
        help="with the history folder or --zones: the fitted gateway-load model (default bloom)",
    )
    group.add_argument(
        "--zones",
        help="with --synthetic: draw these history zones from the generator calibrated on the "
        "2021-2022 history (complete14 or zone names, e.g. US-TEX-ERCO,DE-LU; default: the published-set generator)",
    )
    group.add_argument("--carbon", choices=BASES, help="with the history folder: carbon intensity (default direct)")
    add_knob_options(group)
    group.add_argument("--mu-water", type=float, metavar="USD_PER_M3", help="weight of the worst water footprint (default 60)")
    group.add_argument("--mu-carbon", type=float, metavar="USD_PER_T", help="weight of the worst carbon footprint (default 1500)")
    parser.add_argument(
        "--algos",
        help=f"algorithms to run (default: {','.join(CLASSICAL)} and RHC and AFHC with the published prices: "
        f"{','.join(FORECAST_CONTROLLERS)}; with seasonal forecasts alone where the regions' markets are unknown)",
    )
    parser.add_argument("--eta", type=float, help="eGLB step size (default: eta_scale / (max z_max * sqrt(T)))")
    parser.add_argument("--eta-scale", type=float, help="multiplier of eGLB's default step size (default 0.25)")
    parser.add_argument("--nearest", help="GLB-Dist: comma-separated nearest region of each gateway (default: co-located)")
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="seconds an eGLB-Off solve may take before it stops with an error (default 1800)",
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="allow sb3:ALGO:MODEL.zip models trained elsewhere: loading them unpickles Python objects, "
        "which can EXECUTE CODE from the file; use only for files you trust",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument(
        "--out", metavar="DIR", help="write results.json, results.csv and PNG plots here (never into a training run folder)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace results already in --out (else such a folder is refused)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print the data's fill report (history data: what was missing and how it was filled; "
        "with --out it is written to fill_report.txt either way)",
    )
    add_ray_option(parser, "the scenarios of several seeds and the sweep's cases")
    shift = parser.add_argument_group("distribution shift")
    shift.add_argument(
        "--shift",
        action="append",
        default=[],
        metavar="NAME[:p=v,...]",
        help=f"apply a shift before evaluating (repeatable; names: {', '.join(SHIFTS)})",
    )
    shift.add_argument("--sweep", action="store_true", help="run every shift at several severities and write a report")
    shift.add_argument("--shifts", help="shifts of the sweep, comma-separated (default: all)")
    shift.add_argument("--severities", help=f"severities of the sweep (default {','.join(f'{s:g}' for s in SEVERITIES)})")
    shift.add_argument(
        "--ml",
        default=None,
        help="the ML policy of the lambda trade-off (default: the first learned "
        "or robust-wrapped algorithm of --algos, else glb-cost)",
    )
    shift.add_argument("--lambdas", help=f"lambdas of the trade-off curve (default {','.join(f'{x:g}' for x in LAMBDAS)})")
    equity = parser.add_argument_group("equity trade-off frontier")
    equity.add_argument(
        "--frontier",
        action="store_true",
        help="run every algorithm with both footprint weights scaled by each --scales factor: energy cost against "
        "the worst region's water and carbon footprint, eGLB-Off's curve the reference (frontier.png, frontier.json)",
    )
    equity.add_argument(
        "--scales",
        metavar="K1,K2,...",
        help=f"factors of both weights for --frontier (default {','.join(f'{k:g}' for k in SCALES)})",
    )
    bench = parser.add_argument_group("cross-year benchmark")
    bench.add_argument(
        "--benchmark",
        choices=BENCHMARKS,
        help="history: every classical algorithm and the --algos policies on the windows of a history year "
        "(--traces default ../shared/data/history, --years default 2024, the test year), eGLB-Off per window",
    )
    bench.add_argument("--window-hours", type=int, default=168, help="hours of each benchmark window (default 168, a week)")
    bench.add_argument(
        "--windows", metavar="INDICES", help="benchmark windows to run: 0-51, 0,13,26,39 (default: every whole window)"
    )
    bench.add_argument(
        "--task",
        metavar="TASK",
        help="score --algos on a benchmark task's test split and print its leaderboard row "
        "(tasks: python -c 'import eglb; print(eglb.tasks.tasks())'); --out writes leaderboard.json to submit",
    )
    return parser


def config_from_args(args, argv: list[str]) -> EvaluationConfig:
    algos = tuple(split_specs(args.algos)) if args.algos else None
    traces = args.traces
    if not args.benchmark and (args.windows or args.window_hours != 168):
        raise InputError("--windows and --window-hours choose the windows of --benchmark history")
    if args.benchmark:
        if args.synthetic or args.sweep:
            raise InputError("--benchmark runs on the history folder: it takes neither --synthetic nor --sweep")
        algos, traces = benchmark_algos(algos or ()), history_traces(traces)
    parser, history = build_parser(), is_history_folder(traces)
    named = algos or CLASSICAL  # the default set holds every classical algorithm
    require_with(parser, args, ["shifts", "severities", "ml", "lambdas"], args.sweep, "with --sweep")
    require_with(parser, args, ["synthetic_hours"], not traces, "with synthetic scenarios, not with --traces or --benchmark")
    require_with(parser, args, ["workload"], history or bool(args.zones), "with the history folder (--traces) or --zones")
    require_with(parser, args, ["carbon"], history, "with the history folder (--traces)")
    require_with(parser, args, ["nearest"], "glb-dist" in named, "with glb-dist in --algos")
    require_with(parser, args, ["eta", "eta_scale"], "eglb" in named or args.sweep, "with eglb in --algos")
    require_with(parser, args, ["synthetic_hours", "seed", "workload", "carbon", "eta", "eta_scale", "nearest"], not args.task,
                 "without --task: a task fixes its scenarios and the algorithms' settings")  # fmt: skip
    scenario = ScenarioConfig(
        traces=traces,
        synthetic=parse_seeds(args.synthetic) if args.synthetic else TEST_SEEDS if args.sweep else (0,),
        synthetic_hours=ScenarioConfig.synthetic_hours if args.synthetic_hours is None else args.synthetic_hours,
        setting=args.setting,
        hours=parse_hours(args.hours) if args.hours else None,
        mu_water=args.mu_water,
        mu_carbon=args.mu_carbon,
        shifts=tuple(args.shift),
        seed=args.seed,
        regions=args.regions,
        years=args.years,
        workload=args.workload or ScenarioConfig.workload,
        carbon=args.carbon or ScenarioConfig.carbon,
        zones=args.zones,
        jobs=args.jobs,
        models=args.models,
    )
    options = AlgorithmOptions(
        eta=args.eta,
        eta_scale=args.eta_scale,
        nearest=tuple(name.strip() for name in args.nearest.split(",")) if args.nearest else None,
        allow_pickle=args.allow_pickle,
        offline_time_limit=args.time_limit,
    )
    return EvaluationConfig(
        algos=algos,
        scenario=scenario,
        options=options,
        out=args.out,
        overwrite=args.overwrite,
        progress=not args.no_progress,
        report=True,
        verbose=args.verbose,
        command=command_line("evaluate.py", argv),
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    config = config_from_args(args, argv)
    if smoke.enabled():
        config = smoke.evaluation(config, benchmark=bool(args.benchmark))
    if args.sweep:
        shifts = tuple(name.strip() for name in args.shifts.split(",")) if args.shifts else tuple(SHIFTS)
        sweep_config = SweepConfig(
            config,
            shifts=shifts,
            severities=tuple(numbers(args.severities, "--severities")) if args.severities else SEVERITIES,
            ml=args.ml,
            lambdas=tuple(numbers(args.lambdas, "--lambdas")) if args.lambdas else LAMBDAS,
        )
        if smoke.enabled():
            sweep_config = smoke.sweep(sweep_config)
    if args.task:
        return run_task_scoring(args, argv)
    if args.scales and not args.frontier:
        raise InputError("--scales sets the weights' factors of --frontier")
    if args.frontier and (args.sweep or args.benchmark):
        raise InputError("--frontier is a report of its own: it goes without --sweep and --benchmark")
    with mapper_for(args.ray) as mapper:
        if args.frontier:
            scales = tuple(numbers(args.scales, "--scales")) if args.scales else SCALES
            scales = smoke.frontier_scales(scales) if smoke.enabled() else scales
            frontier(FrontierConfig(config, scales), mapper)
        elif args.benchmark:
            windows = parse_seeds(args.windows, "--windows") if args.windows else None
            bench_config = BenchmarkConfig(config, window_hours=args.window_hours, windows=windows)
            benchmark(smoke.benchmark(bench_config) if smoke.enabled() else bench_config, mapper)
        elif args.sweep:
            sweep(sweep_config, mapper)
        else:
            evaluate(config, mapper)
    return 0


def run_task_scoring(args, argv: list[str]) -> int:
    """``--task``: the leaderboard row of each --algos policy on the task's test split."""
    from eglb.leaderboard import LeaderboardConfig, leaderboard

    scenario_options = (
        "traces",
        "synthetic",
        "setting",
        "hours",
        "regions",
        "years",
        "zones",
        "jobs",
        "models",
        "mu_water",
        "mu_carbon",
    )
    given = [f"--{name.replace('_', '-')}" for name in scenario_options if getattr(args, name)] + (
        ["--shift"] if args.shift else []
    )
    if given or args.sweep or args.benchmark:
        raise InputError(f"--task fixes the scenarios, splits and weights: drop {', '.join(given or ['--sweep/--benchmark'])}")
    if "--algos" not in " ".join(argv):
        raise InputError("--task scores the policies of --algos: give them (e.g. --algos bc:runs/NAME)")
    config = LeaderboardConfig(
        task=args.task,
        algos=args.algos,
        options=AlgorithmOptions(allow_pickle=args.allow_pickle, offline_time_limit=args.time_limit),
        out=args.out,
        overwrite=args.overwrite,
        report=True,
        command=command_line("evaluate.py", argv),
    )
    with mapper_for(args.ray) as mapper:
        leaderboard(config, mapper)
    return 0


def run() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    run()
