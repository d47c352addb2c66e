"""Train the learned forecaster and save it in a folder: ``python -m eglb.forecasts.train --out DIR``.

Training traces default to synthetic seeds 1000..1007 of 2190 hours (seeds below 1000 are held out
for evaluation). ``--history FOLDER`` trains on real history instead: the 14 complete zones of the
years ``--years`` (default 2021-2022, the training years: 2023 selects, 2024 tests), one scenario per
year. Any list of scenarios works through :func:`eglb.forecasts.learned.train_learned_forecaster`.
"""

from __future__ import annotations

import argparse
import sys

from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock, output_folder
from eglb.envs.synthetic import HELD_OUT_SEEDS, make_synthetic
from eglb.forecasts.learned import CONFIG_FILE, WEIGHTS_FILE, LearnedForecasterConfig, train_learned_forecaster


def parse_seeds(text: str) -> range:
    """``A:B`` (A inclusive, B exclusive) to a range of seeds, all >= HELD_OUT_SEEDS."""
    first, sep, last = text.partition(":")
    try:
        seeds = range(int(first), int(last)) if sep else range(int(first), int(first) + 1)
    except ValueError:
        raise InputError(f"--seeds: expected A:B (integers), got {text!r}") from None
    if not seeds or seeds.start < HELD_OUT_SEEDS:
        raise InputError(
            f"--seeds: training seeds must be a non-empty range at or above {HELD_OUT_SEEDS} (held-out below), got {text!r}"
        )
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eglb.forecasts.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write forecaster.json and weights.pt into")
    parser.add_argument("--overwrite", action="store_true", help="replace a forecaster already in --out (else it is refused)")
    parser.add_argument("--seeds", default="1000:1008", help="synthetic training seeds A:B (default 1000:1008)")
    parser.add_argument("--hours", type=int, default=2190, help="hours per synthetic trace (default 2190)")
    parser.add_argument("--setting", default="full", choices=("full", "partial"))
    parser.add_argument("--history", default=None, help="train on this history folder (e.g. ../shared/data/history)")
    parser.add_argument("--years", default="2021-2022", help="--history: the years, one scenario each (default 2021-2022)")
    parser.add_argument("--steps", type=int, default=LearnedForecasterConfig.steps)
    parser.add_argument("--seed", type=int, default=0, help="seed of the window sampling and initial weights")
    args = parser.parse_args(argv)
    try:
        config = LearnedForecasterConfig(steps=args.steps, seed=args.seed)
        output_folder(args.out, (CONFIG_FILE, WEIGHTS_FILE), args.overwrite)  # before training: fail fast
        if args.history:
            from eglb.importers.history import HELD_OUT_YEARS, load_history, parse_years

            years = parse_years(args.years)
            if set(years) & set(HELD_OUT_YEARS):
                raise InputError(f"--years {args.years}: {HELD_OUT_YEARS[0]} is the test year; train on 2021-2022")
            scenarios = [load_history(args.history, years=year) for year in years]
        else:
            scenarios = [make_synthetic(seed, hours=args.hours, setting=args.setting) for seed in parse_seeds(args.seeds)]
        forecaster = train_learned_forecaster(scenarios, config, progress=True)
        with exclusive_lock(output_folder(args.out, (CONFIG_FILE, WEIGHTS_FILE), args.overwrite), "a forecaster's training"):
            forecaster.save(args.out)
    except InputError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    print(f"saved {args.out} (L1 loss {forecaster.training['final_loss']:.4f}, {forecaster.training['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
