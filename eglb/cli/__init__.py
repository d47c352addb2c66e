"""Command-line pieces shared by train.py and evaluate.py: argument parsing and clean errors.

User mistakes (bad arguments, bad data, a failed solve) end with one line on stderr and exit status
2, never a traceback; warnings are one line each.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable

from eglb.envs.errors import InputError, SolverError
from eglb.envs.validation import describe, parse_hours, parse_seeds

#: Longest text an option takes (PATH_MAX).
MAX_TEXT = 4096

__all__ = [
    "ArgumentParser",
    "add_knob_options",
    "add_ray_option",
    "numbers",
    "parse_hours",
    "parse_seeds",
    "require_with",
    "run_cli",
    "text",
]


def text(value: str) -> str:
    """The type of every option that takes text: blank text (``--zones ""``) would otherwise quietly
    mean the default, control characters (a NUL, a newline) belong in no name, path or spec, and no
    path or list of specs is longer than MAX_TEXT (the longest path Linux takes)."""
    if not value.strip():
        raise argparse.ArgumentTypeError(f"expected non-blank text, got {value!r}")
    if len(value) > MAX_TEXT:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_TEXT} characters, got {len(value)}")
    bad = next((c for c in value if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise argparse.ArgumentTypeError(f"expected text without control characters, got {describe(value)}")
    return value


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and the exit status is 2, as argparse's), and an
    option without a type of its own takes non-blank text (:func:`text`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("type", None, text)  # the type of options declared without one, in every group

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_ray_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--ray [ADDRESS]``: absent, this machine's processes; bare, a local Ray; else a running cluster."""
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help=f"run {what} as Ray tasks: a bare --ray starts a local Ray for the run; 'auto' or HOST:PORT "
        "(or ray://HOST:PORT) joins a running cluster (default: this machine's processes, no Ray)",
    )


def add_knob_options(group) -> None:
    """``--jobs`` and ``--models``: the knobs of a scenario (envs/knob_specs.py), the same for evaluate.py and train.py."""
    group.add_argument(
        "--jobs",
        help="deferrable jobs: 'stream' or 'stream:share=0.2,seed=0' (the calibrated job stream) or a job list CSV "
        "(docs/model/flexibility.md)",
    )
    group.add_argument("--models", help="a model choice: PRESET:target=ACCURACY, e.g. llama3.1-batch128:target=80")


def require_with(parser: argparse.ArgumentParser, args: argparse.Namespace, dests: list[str], applies: bool, when: str) -> None:
    """Refuse options given where they do nothing (an option a run ignores is a silent misread): the
    options among ``dests`` set to anything but their default, unless ``applies``."""
    if applies:
        return
    names = {action.dest: action.option_strings[0] for action in parser._actions if action.option_strings}
    given = [names[dest] for dest in dests if getattr(args, dest) != parser.get_default(dest)]
    if given:
        raise InputError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only {when}")


def numbers(text: str, option: str) -> list[float]:
    """Comma-separated numbers >= 0."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"{option} must be comma-separated numbers, got {text!r}") from None
    if any(not (v >= 0 and v < float("inf")) for v in values):
        raise InputError(f"{option} must be finite numbers >= 0, got {text!r}")
    return values


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    prog = sys.argv[0].rsplit("/", 1)[-1] if sys.argv and sys.argv[0] else "eglb"
    print(f"{prog}: warning: {message}", file=sys.stderr if file is None else file)


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a CLI ``main`` turning user mistakes into one line on stderr and exit status 2."""
    prog = sys.argv[0].rsplit("/", 1)[-1] if sys.argv and sys.argv[0] else "eglb"
    warnings.showwarning = _one_line_warning
    try:
        return main(argv)
    except (InputError, SolverError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
