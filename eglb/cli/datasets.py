"""``eglb-datasets`` (``python -m eglb.cli.datasets``): Minari datasets of the benchmark tasks (:mod:`eglb.datasets`)."""

from __future__ import annotations

import sys

from eglb.cli import ArgumentParser, run_cli
from eglb.datasets import DatasetConfig, datasets_root, make_dataset
from eglb.scores import OPTIMUM


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="eglb-datasets", description="Write a Minari dataset of a policy on a task's training split.")
    parser.add_argument("--task", required=True, help="task id, e.g. history14-2024-weekly-v1")
    parser.add_argument("--policy", default=OPTIMUM, help="algorithm spec (default eglb-off, the hindsight optimum)")
    parser.add_argument("--name", help="the policy's name in the dataset id (default: the spec's kind)")
    parser.add_argument("--episodes", type=int, default=20, help="training episodes to collect (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode's draw (default 0)")
    parser.add_argument("--root", help="folder of Minari datasets (default $MINARI_DATASETS_PATH or ~/.minari/datasets)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset of the same id")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    config = DatasetConfig(args.task, args.policy, args.name, args.episodes, args.seed, args.root, args.overwrite)
    dataset = make_dataset(config, progress=not args.no_progress)
    print(f"wrote {config.dataset_id}: {dataset.total_episodes} episodes, {dataset.total_steps} steps, under {datasets_root()}")
    return 0


def run() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    run()
