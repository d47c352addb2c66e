"""``python -m eglb.cli.scores``: regenerate the reference scores of the benchmark tasks (:mod:`eglb.scores`)
and write the leaderboard's pages (:func:`eglb.leaderboard.write_pages`).

``--add --algos SPECS`` adds algorithms to the recorded ones without rerunning them (refused when this
run's anchors, GLB-Cost and eGLB-Off, differ from the recorded: another version of the code or data).
``--pages DIR`` writes ``DIR/leaderboard.md`` and ``DIR/tasks/TASK.md`` from the reference scores and the
entries submitted in ``--submissions`` (default ``leaderboard/``); ``--pages-only`` skips the (long)
regeneration and writes the pages from the recorded scores.
"""

from __future__ import annotations

import sys

from eglb.cli import ArgumentParser, run_cli
from eglb.leaderboard import write_pages
from eglb.registry import split_specs
from eglb.scores import REFERENCE_ALGOS, load_reference, regenerate
from eglb.tasks import task, tasks


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m eglb.cli.scores", description="Regenerate the reference scores of the tasks.")
    parser.add_argument("--tasks", help="comma-separated task ids (default: every task)")
    parser.add_argument("--algos", help="comma-separated specs (default: the reference algorithms)")
    parser.add_argument("--out", help="the file to write (default: the shipped reference_scores.json)")
    parser.add_argument("--pages", help="also write the leaderboard and task pages into this folder")
    parser.add_argument("--submissions", default="leaderboard", help="folder of submitted entries (*.json; default leaderboard)")
    parser.add_argument("--pages-only", action="store_true", help="write the pages from the recorded scores, regenerate nothing")
    parser.add_argument(
        "--add",
        action="store_true",
        help="add --algos to the algorithms recorded on each task (refused if GLB-Cost or eGLB-Off drifted)",
    )
    args = parser.parse_args(argv)
    if args.pages_only and not args.pages:
        parser.error("--pages-only needs --pages DIR")
    if args.add and (args.pages_only or not args.algos):
        parser.error("--add needs --algos (the algorithms to add) and regenerates: it does not go with --pages-only")
    if not args.pages_only:
        chosen = [task(t).id for t in args.tasks.split(",")] if args.tasks else tasks()
        specs = tuple(split_specs(args.algos)) if args.algos else REFERENCE_ALGOS
        regenerate(chosen, specs, args.out, add=args.add)
    if args.pages:
        reference = load_reference(args.out) if args.out else None
        for path in write_pages(args.pages, reference, args.submissions):
            print(f"wrote {path}")
    return 0


def run() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    run()
