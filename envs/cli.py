"""Command-line pieces shared by train.py and evaluate.py: choosing a scenario, and clean errors.

User mistakes (bad arguments, bad data, a failed solve) end with one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from envs.errors import InputError, SolverError
from envs.scenario import Scenario


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and the exit status is 2, as argparse's)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_hours(text: str) -> tuple[int, int]:
    """'START:END' (END exclusive; either side may be empty) into a pair of ints (-1 for an open end)."""
    start, sep, end = text.partition(":")
    try:
        first = int(start) if start.strip() else 0
        last = int(end) if end.strip() else -1
    except ValueError:
        raise InputError(f"--hours must look like START:END with whole numbers, got {text!r}") from None
    if not sep or first < 0 or (last != -1 and last <= first):
        raise InputError(f"--hours must look like START:END with 0 <= START < END, got {text!r}")
    return first, last


def add_scenario_arguments(parser: argparse.ArgumentParser, default_hours: int = 457) -> None:
    """--traces, --synthetic, --synthetic-hours, --setting, --hours, --mu-water, --mu-carbon."""
    group = parser.add_argument_group("scenario")
    source = group.add_mutually_exclusive_group()
    source.add_argument("--traces", metavar="DIR", help="a folder in the published layout or the project's CSV format")
    source.add_argument("--synthetic", metavar="SEEDS",
                        help="the embedded synthetic generator with this seed, or several (0-9, 1,5,7): results per seed and their mean (default: seed 0)")
    group.add_argument("--synthetic-hours", metavar="T", type=int, default=default_hours, help=f"hours of a synthetic scenario (default {default_hours})")
    group.add_argument("--setting", choices=("full", "partial"), help="full mask or the published partial mask (default: full; a CSV folder's own mask)")
    group.add_argument("--hours", metavar="START:END", help="use only these hours of the scenario (END exclusive)")
    group.add_argument("--mu-water", type=float, metavar="USD_PER_M3", help="weight of the worst water footprint (default 60)")
    group.add_argument("--mu-carbon", type=float, metavar="USD_PER_T", help="weight of the worst carbon footprint (default 1500)")


def parse_seeds(text: str) -> list[int]:
    """'3', '0-9' or '1,5,7' into a list of seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            first, sep, last = part.partition("-")
            seeds.extend(range(int(first), int(last) + 1) if sep else [int(first)])
    except ValueError:
        raise InputError(f"--synthetic takes a seed, a range 0-9 or a list 1,5,7; got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise InputError(f"--synthetic seeds must be >= 0, got {text!r}")
    return seeds


def scenarios_from_args(args: argparse.Namespace) -> list[Scenario]:
    """The scenarios the scenario arguments describe (one, or one per synthetic seed)."""
    from envs.synthetic import make_synthetic
    from envs.traces import load_traces

    if args.traces:
        scenarios = [load_traces(args.traces, args.setting)]
    else:
        scenarios = [make_synthetic(seed=seed, hours=args.synthetic_hours, setting=args.setting or "full")
                     for seed in parse_seeds(args.synthetic or "0")]
    if args.hours:
        first, last = parse_hours(args.hours)
        scenarios = [s.window(first, s.n_hours if last == -1 else last) for s in scenarios]
    changes = {}
    if args.mu_water is not None:
        changes["mu_water"] = args.mu_water
    if args.mu_carbon is not None:
        changes["mu_carbon"] = args.mu_carbon
    return [s.with_changes(**changes) for s in scenarios] if changes else scenarios


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a CLI ``main`` turning user mistakes into one line on stderr and exit status 2."""
    prog = sys.argv[0].rsplit("/", 1)[-1] if sys.argv and sys.argv[0] else "eglb"
    try:
        return main(argv)
    except (InputError, SolverError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
