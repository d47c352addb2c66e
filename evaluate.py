"""Evaluate algorithms on a scenario: a table in the terminal, results.json/.csv and PNG plots.

    python evaluate.py                                   # every classical algorithm, synthetic seed 0
    python evaluate.py --traces ../shared/data/eglb-2022 --setting partial --out results/partial
    python evaluate.py --algos eglb,eglb-off --eta-scale 0.5 --hours 0:168

Algorithms (``--algos``, comma-separated): glb-cost, glb-carbon, glb-water, glb-dist, eglb-off,
eglb, learned policies KIND:RUN_FOLDER and robust(SPEC, lambda=...) (see agents/registry.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from agents.registry import CLASSICAL, AlgorithmOptions, split_specs
from envs.cli import ArgumentParser, add_scenario_arguments, run_cli, scenario_from_args
from envs.errors import InputError


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from report.plots import plot_cumulative, plot_ratios, plot_regions
    from report.run import run_algorithms
    from report.tables import format_table, result_rows, write_rows

    scenario = scenario_from_args(args)
    options = AlgorithmOptions(
        eta=args.eta, eta_scale=args.eta_scale, nearest=args.nearest.split(",") if args.nearest else None
    )
    specs = split_specs(args.algos)
    if len(set(specs)) != len(specs):
        raise InputError(f"--algos lists an algorithm twice: {args.algos!r}")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    results, offline_J = run_algorithms(specs, scenario, options, progress=not args.no_progress)
    rows = result_rows(results, scenario, offline_J)
    print(f"{scenario!r}, hours {scenario.timestamps[0]} .. {scenario.timestamps[-1]}")
    print(format_table(rows, extra_columns=("bound", "followed_share", "mean_theta")))
    if out is not None:
        written = write_rows(rows, out)
        written.append(plot_regions(results, scenario, out / "regions.png"))
        written.append(plot_cumulative(results, scenario, out / "cumulative.png"))
        written.append(plot_ratios(rows, out / "ratios.png"))
        print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
