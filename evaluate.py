"""Evaluate algorithms on a scenario: a table in the terminal, results.json/.csv and PNG plots.

    python evaluate.py                                   # every classical algorithm, synthetic seed 0
    python evaluate.py --traces ../shared/data/eglb-2022 --setting partial --out results/partial
    python evaluate.py --algos eglb,eglb-off,"robust(glb-cost,lambda=0.1)" --shift heat-wave:severity=2
    python evaluate.py --sweep --algos eglb,glb-cost,bc:runs/bc --ml bc:runs/bc --out results/sweep

Algorithms (``--algos``, comma-separated): glb-cost, glb-carbon, glb-water, glb-dist, eglb-off,
eglb, learned policies KIND:RUN_FOLDER and robust(SPEC, lambda=..., b=..., slack=...) (see
agents/registry.py). Shifts (``--shift NAME[:param=value,...]``): see envs/shifts.py.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace
from pathlib import Path

from agents.registry import CLASSICAL, AlgorithmOptions, split_specs
from envs.cli import ArgumentParser, add_scenario_arguments, run_cli, scenarios_from_args
from envs.errors import InputError
from envs.shifts import SHIFTS


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="evaluate.py", description=__doc__.split("\n\n")[0])
    add_scenario_arguments(parser)
    parser.add_argument("--algos", default=",".join(CLASSICAL), help=f"algorithms to run (default: {','.join(CLASSICAL)})")
    parser.add_argument("--eta", type=float, help="eGLB step size (default: eta_scale / (max z_max * sqrt(T)))")
    parser.add_argument("--eta-scale", type=float, help="multiplier of eGLB's default step size (default 0.25)")
    parser.add_argument("--nearest", help="GLB-Dist: comma-separated nearest region of each gateway (default: co-located)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--out", metavar="DIR", help="write results.json, results.csv and PNG plots here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    shift = parser.add_argument_group("distribution shift")
    shift.add_argument("--shift", action="append", default=[], metavar="NAME[:p=v,...]",
                       help=f"apply a shift before evaluating (repeatable; names: {', '.join(SHIFTS)})")
    shift.add_argument("--sweep", action="store_true", help="run every shift at several severities and write a report")
    shift.add_argument("--shifts", help="shifts of the sweep, comma-separated (default: all)")
    shift.add_argument("--severities", default="0,0.5,1,2", help="severities of the sweep (default 0,0.5,1,2)")
    shift.add_argument("--ml", default=None, help="the ML policy of the lambda trade-off (default: the first learned "
                       "or robust-wrapped algorithm of --algos, else glb-cost)")
    shift.add_argument("--lambdas", default="0,0.02,0.05,0.1,0.2,0.5,1", help="lambdas of the trade-off curve")
    return parser


def numbers(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if any(v < 0 for v in values):
        raise InputError(f"{what} must be >= 0, got {text!r}")
    return values


def default_ml(specs: list[str]) -> str:
    for spec in specs:
        if spec.startswith("robust("):
            return split_specs(spec[len("robust(") : -1])[0]
        if ":" in spec:
            return spec
    return "glb-cost"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    from envs.shifts import apply_shift, parse_shift

    scenarios = scenarios_from_args(args)
    options = AlgorithmOptions(
        eta=args.eta, eta_scale=args.eta_scale, nearest=args.nearest.split(",") if args.nearest else None
    )
    specs = split_specs(args.algos)
    if len(set(specs)) != len(specs):
        raise InputError(f"--algos lists an algorithm twice: {args.algos!r}")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    for text in args.shift:
        spec = parse_shift(text)
        shifted = [apply_shift(scenario, spec, args.seed) for scenario in scenarios]
        scenarios = [case.scenario for case in shifted]
        if shifted[0].forecast_noise is not None:
            options = replace(options, forecast_noise=shifted[0].forecast_noise)
    if args.sweep:
        if len(scenarios) > 1:
            raise InputError("--sweep runs on one scenario: give one --synthetic seed")
        return sweep(args, argv, scenarios[0], specs, options, out or Path("results/sweep"))
    if len(scenarios) > 1:
        return several(args, scenarios, specs, options, out)
    return single(args, scenarios[0], specs, options, out)


EXTRA_COLUMNS = ("bound", "followed_share", "mean_theta")


def single(args, scenario, specs, options, out) -> int:
    from report.plots import plot_cumulative, plot_ratios, plot_regions
    from report.run import run_algorithms
    from report.tables import format_table, result_rows, write_rows

    results, offline_J = run_algorithms(specs, scenario, options, progress=not args.no_progress)
    rows = result_rows(results, scenario, offline_J)
    print(f"{scenario!r}, hours {scenario.timestamps[0]} .. {scenario.timestamps[-1]}")
    print(format_table(rows, extra_columns=EXTRA_COLUMNS))
    if out is not None:
        written = write_rows(rows, out)
        written.append(plot_regions(results, scenario, out / "regions.png"))
        written.append(plot_cumulative(results, scenario, out / "cumulative.png"))
        written.append(plot_ratios(rows, out / "ratios.png"))
        print("wrote " + ", ".join(str(p) for p in written))
    return 0


def several(args, scenarios, specs, options, out) -> int:
    """One run per scenario (synthetic seeds), then the mean over them."""
    from tqdm.auto import tqdm

    from report.plots import plot_ratios
    from report.run import run_algorithms
    from report.tables import format_table, mean_rows, result_rows, write_rows

    rows = []
    for scenario in tqdm(scenarios, desc="scenarios", unit="scenario", disable=args.no_progress):
        results, offline_J = run_algorithms(specs, scenario, options, progress=False)
        rows.extend({"scenario": scenario.name, **row} for row in result_rows(results, scenario, offline_J))
    summary = mean_rows(rows)
    print(f"mean over {len(scenarios)} scenarios ({scenarios[0].n_hours} hours each: {', '.join(s.name for s in scenarios)})")
    print(format_table(summary, extra_columns=("ratio_std", "ratio_worst")))
    if out is not None:
        written = write_rows(rows, out) + write_rows(summary, out, "summary")
        written.append(plot_ratios(summary, out / "ratios.png"))
        print("wrote " + ", ".join(str(p) for p in written))
    return 0


def sweep(args, argv, scenario, specs, options, out: Path) -> int:
    from envs.shifts import parse_shift
    from report.markdown import write_report
    from report.plots import plot_sweep, plot_tradeoff
    from report.sweep import run_sweep
    from report.tables import format_table, write_rows

    shifts = [parse_shift(name).name for name in args.shifts.split(",")] if args.shifts else list(SHIFTS)
    severities = numbers(args.severities, "--severities")
    if 0.0 not in severities:
        severities = [0.0] + severities
    lambdas = numbers(args.lambdas, "--lambdas")
    ml = args.ml or default_ml(specs)
    from agents.registry import build

    build(ml, options)  # a bad --ml fails now, not after the sweep
    result = run_sweep(scenario, specs, options, shifts, sorted(severities), ml, lambdas, args.seed, not args.no_progress)
    written = write_rows(result.rows, out, "sweep") + write_rows(result.tradeoff, out, "tradeoff")
    written.append(plot_sweep(result.rows, out / "sweep.png"))
    written.append(plot_tradeoff(result.tradeoff, ml, out / "tradeoff.png"))
    command = "python evaluate.py " + " ".join(shlex.quote(a) for a in argv)
    written.append(write_report(out / "report.md", scenario, result.rows, result.tradeoff, ml, command))
    at_one = [r for r in result.rows if r["severity"] == 1.0]
    for shift in shifts:
        print(f"\n{shift} (severity 1)")
        print(format_table([r for r in at_one if r["shift"] == shift], extra_columns=("followed_share",)))
    print("\nlambda trade-off of robust(" + ml + ")")
    for row in result.tradeoff:
        print(f"  {row['algo']:<40} in distribution {row['in_distribution']:.4f}  shifted mean {row['shifted_mean']:.4f}  worst {row['shifted_worst']:.4f}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
