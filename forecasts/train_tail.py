"""Fit a learned tail and save it in a folder: ``python -m eglb.forecasts.train_tail --out DIR``.

The default training data are the real history's training years 2021-2022 of the 14 complete zones
(``--traces``, ``--regions``, ``--years``); 2023 is the selection year and 2024 the test year, never
read here. ``--published HOURS`` fits on hours of the published set instead (e.g. ``0:300``, its
training hours), and ``--synthetic A:B`` on the published-set generator's traces of seeds A..B-1
(at or above 1000; lower seeds are held out for evaluation). ``--seed`` draws the bootstrap resample
of training days (the training seed); ``--seeds 0-2`` fits one tail per seed into a tail group
(``OUT/seed-K/`` and ``OUT/tails.json``), which ``tail_model=OUT`` evaluates seed by seed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock, output_folder
from eglb.envs.validation import parse_seeds
from eglb.forecasts.tail import (
    BLEND_HOURS,
    CONFIG_FILE,
    GROUP_FILE,
    LEVEL_HOURS,
    PROFILE_FILE,
    fit_profile_tail,
    member_folder,
    save_tail_group,
)

#: Years a tail may be fitted on: the history's training years (2023 selects, 2024 tests).
TRAINING_YEARS = ("2021", "2022")

#: The tail groups shipped with the package (``forecasts/reference/NAME``, ``tail_model=reference:NAME``)
#: and the arguments of this program that fit them: the history's training years for the 14 zones, the
#: published-set generator's training seeds for its 10 regions. ``make figures`` (section
#: ``reference-tails``) refits them with these and replaces the shipped files if the fit changed.
REFERENCE_FITS = {
    "history14": ("--seeds", "0-2"),
    "published10": ("--synthetic", "1000:1012", "--seeds", "0-2"),
}


def training_scenarios(args: argparse.Namespace) -> list:
    """The traces a tail is fitted on: history years (one scenario per year), published hours or synthetic seeds."""
    if args.synthetic:
        from eglb.envs.synthetic import make_synthetic
        from eglb.forecasts.train import parse_seeds

        return [make_synthetic(seed, hours=args.synthetic_hours) for seed in parse_seeds(args.synthetic)]
    if args.published:
        from eglb.envs.eglb2022 import default_data_path, load_eglb2022

        first, sep, last = args.published.partition(":")
        try:
            hours = (int(first), int(last))
        except ValueError:
            raise InputError(f"--published: expected hours A:B (integers), got {args.published!r}") from None
        scenario = load_eglb2022(args.traces or default_data_path())
        return [scenario.window(*hours)]
    from eglb.importers.history import load_history
    from eglb.importers.paths import default_history_path
    from eglb.importers.workload import FittedLoads

    chosen = [y.strip() for y in args.years.split(",") if y.strip()]
    if not chosen or set(chosen) - set(TRAINING_YEARS):
        raise InputError(f"--years: a tail is fitted on the training years {', '.join(TRAINING_YEARS)} only, got {args.years!r}")
    path = args.traces or default_history_path()
    return [load_history(path, regions=args.regions, years=int(year), workload=FittedLoads()) for year in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eglb.forecasts.train_tail", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write tail.json and profile.npz into")
    parser.add_argument("--overwrite", action="store_true", help="replace a tail already in --out (else it is refused)")
    parser.add_argument(
        "--traces", help="the history folder (default ../shared/data/history), or the published folder with --published"
    )
    parser.add_argument("--regions", default="complete14", help="region table of the history (default complete14)")
    parser.add_argument("--years", default="2021,2022", help="training years, comma-separated (default 2021,2022)")
    parser.add_argument("--published", metavar="A:B", help="fit on hours A..B-1 of the published set instead of history")
    parser.add_argument("--synthetic", metavar="A:B", help="fit on published-set synthetic seeds A..B-1 (>= 1000) instead")
    parser.add_argument("--synthetic-hours", type=int, default=2190, help="hours per synthetic trace (default 2190)")
    parser.add_argument(
        "--level-hours", type=int, default=LEVEL_HOURS, help=f"hours the level is measured over (default {LEVEL_HOURS})"
    )
    parser.add_argument(
        "--blend-hours",
        type=int,
        default=BLEND_HOURS,
        help=f"hours until the observed profile takes over (default {BLEND_HOURS})",
    )
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resample of training days")
    seeds.add_argument("--seeds", help="fit one tail per seed into a tail group: 0-2 or 1,5,7")
    args = parser.parse_args(argv)
    try:
        scenarios = training_scenarios(args)  # checks the arguments first
        chosen = list(parse_seeds(args.seeds, "--seeds")) if args.seeds else None
        written = (GROUP_FILE, *(member_folder(k) for k in chosen)) if chosen else (CONFIG_FILE, PROFILE_FILE)
        output_folder(args.out, written, args.overwrite)  # before fitting: fail fast
        tails = [fit(scenarios, seed, args) for seed in (chosen or [args.seed])]
        with exclusive_lock(output_folder(args.out, written, args.overwrite), "a tail's fitting"):
            save_tail_group(tails, chosen, args.out) if chosen else tails[0].save(args.out)
    except InputError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    tail = tails[0]
    what = f"seeds {args.seeds}: a tail group" if chosen else f"seed {args.seed}"
    print(f"saved {args.out} ({len(tail.series)} series, {tail.training['days']} training days, {what})")
    return 0


def fit(scenarios: list, seed: int, args: argparse.Namespace):
    """One tail of ``seed`` with the command's settings (profiles of the history carry its notices)."""
    tail = fit_profile_tail(scenarios, seed, args.level_hours, args.blend_hours)
    if not (args.synthetic or args.published):
        from eglb.importers.synthetic_calibration import NOTICE

        tail = replace(tail, training={**tail.training, "notice": NOTICE})
    return tail


if __name__ == "__main__":
    sys.exit(main())
