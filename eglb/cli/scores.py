"""``python -m eglb.cli.scores``: regenerate the reference scores of the benchmark tasks (:mod:`eglb.scores`)."""

from __future__ import annotations

import sys

from eglb.cli import ArgumentParser, run_cli
from eglb.registry import split_specs
from eglb.scores import REFERENCE_ALGOS, regenerate
from eglb.tasks import task, tasks


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m eglb.cli.scores", description="Regenerate the reference scores of the tasks.")
    parser.add_argument("--tasks", help="comma-separated task ids (default: every task)")
    parser.add_argument("--algos", help="comma-separated specs (default: the reference algorithms)")
    parser.add_argument("--out", help="the file to write (default: the shipped reference_scores.json)")
    args = parser.parse_args(argv)
    chosen = [task(t).id for t in args.tasks.split(",")] if args.tasks else tasks()
    specs = tuple(split_specs(args.algos)) if args.algos else REFERENCE_ALGOS
    regenerate(chosen, specs, args.out)
    return 0


def run() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    run()
