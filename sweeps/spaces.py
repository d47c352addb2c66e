"""Search spaces for Ray Tune, read from YAML files whose keys are the dotted keys of ``--set``.

A space file maps each key to a distribution, or to a plain value (fixed for every trial)::

    model.learning_rate: {loguniform: [1.0e-5, 1.0e-3]}   # log-uniform between the bounds
    model.gamma: {uniform: [0.95, 1.0]}                   # uniform between the bounds
    model.n_steps: {choice: [256, 512, 1024]}             # one of the values, equally likely
    model.batch_size: {randint: [32, 257]}                # a whole number, low <= n < high
    model.clip_range: {quniform: [0.1, 0.3, 0.05]}        # uniform, rounded to a multiple of q
    model.epochs: {grid: [30, 60]}                        # every value (each sample runs each)
    env.episode_hours: 96                                 # fixed

Keys are checked against the run configuration before any trial starts (by the caller, through
:attr:`SearchSpace.examples`); a mistake names the file, the line and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from eglb.envs.errors import InputError
from eglb.envs.validation import MAX_MAGNITUDE, check_range, check_value
from ray import tune

#: Most multiples of a quantized distribution's step Q between 0 and its bounds: beyond 2**53 the
#: multiples are no longer exact floats (and LOW / Q overflows long before a bound does).
MAX_STEPS = 2.0**53
#: Largest search space file read (a space is a few lines).
MAX_SPACE_BYTES = 1_000_000
#: distribution -> (number of arguments, what they are)
DISTRIBUTIONS = {
    "uniform": (2, "[LOW, HIGH]"),
    "loguniform": (2, "[LOW, HIGH] with 0 < LOW"),
    "quniform": (3, "[LOW, HIGH, Q]"),
    "qloguniform": (3, "[LOW, HIGH, Q] with 0 < LOW"),
    "randint": (2, "[LOW, HIGH] whole numbers (HIGH excluded)"),
    "choice": (None, "a list of values"),
    "grid": (None, "a list of values"),
}


@dataclass(frozen=True)
class SearchSpace:
    """A parsed space file.

    Attributes:
        path: the file. domains: dotted key -> Ray Tune domain (or a fixed value; grids as
        ``{"grid_search": [...]}``). examples: dotted key -> values that span the domain (its bounds
        or every choice), for checking the keys against a configuration. lines: dotted key -> line.
    """

    path: Path
    domains: dict
    examples: dict
    lines: dict

    def where(self, key: str) -> str:
        return f"{self.path}, line {self.lines[key]}"


def _number(value, where: str, what: str) -> float:
    """A bound or step of a distribution: a number within MAX_MAGNITUDE (beyond it the sampled
    values and their differences overflow)."""
    try:
        check_value(what, value, float)
        check_range(what, value, -MAX_MAGNITUDE, MAX_MAGNITUDE)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return value


def _domain(kind: str, args, where: str):
    count, usage = DISTRIBUTIONS[kind]
    if not isinstance(args, list) or (count is not None and len(args) != count) or not args:
        raise InputError(f"{where}: {kind} takes {usage}, got {args!r}")
    if kind in ("choice", "grid"):
        return (tune.grid_search(args) if kind == "grid" else tune.choice(args)), list(args)
    low, high = (_number(a, where, f"{kind}'s bounds") for a in args[:2])
    if kind == "randint":
        if not all(isinstance(a, int) for a in args) or high <= low:
            raise InputError(f"{where}: randint takes {usage} with LOW < HIGH, got {args!r}")
        return tune.randint(low, high), [low, high - 1]
    if not low < high or (kind.endswith("loguniform") and low <= 0):
        raise InputError(f"{where}: {kind} takes {usage} with LOW < HIGH, got {args!r}")
    if kind.startswith("q"):
        q = _number(args[2], where, f"{kind}'s step")
        if q <= 0:
            raise InputError(f"{where}: {kind}'s step Q must be > 0, got {q!r}")
        if max(abs(low), abs(high)) / q > MAX_STEPS:
            raise InputError(f"{where}: {kind}'s step Q={q!r} is too fine for [{low!r}, {high!r}]: at most {MAX_STEPS:g} steps")
        domain = tune.quniform(low, high, q) if kind == "quniform" else tune.qloguniform(low, high, q)
        return domain, [round(low / q) * q, round(high / q) * q]
    return (tune.uniform(low, high) if kind == "uniform" else tune.loguniform(low, high)), [low, high]


def load_space(path: Path | str) -> SearchSpace:
    """Read a space file (see the module docstring); errors name the file, line and key."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SPACE_BYTES:
            raise InputError(f"search space {path} is larger than {MAX_SPACE_BYTES:,} bytes: not a search space")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read search space {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"search space {path} is not UTF-8 text") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise InputError(f"search space {path}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    except RecursionError:
        raise InputError(f"search space {path}: nested too deeply to be a search space") from None
    if not isinstance(values, dict) or not values:
        raise InputError(f"search space {path} must be a mapping of dotted keys (model.learning_rate: ...) to distributions")
    lines: dict[str, int] = {}
    for key, _ in root.value:
        line = key.start_mark.line + 1
        if str(key.value) in lines:  # YAML would keep the last silently
            raise InputError(
                f"search space {path}, line {line}: {key.value} is given twice (first on line {lines[str(key.value)]})"
            )
        lines[str(key.value)] = line
    domains, examples = {}, {}
    for key, spec in values.items():
        key = str(key)
        where = f"{path}, line {lines.get(key, 1)}, {key}"
        if isinstance(spec, dict):
            if len(spec) != 1 or next(iter(spec)) not in DISTRIBUTIONS:
                known = ", ".join(f"{{{k}: ...}}" for k in DISTRIBUTIONS)
                raise InputError(f"{where}: a distribution is one of {known}, got {spec!r}")
            kind, args = next(iter(spec.items()))
            domains[key], examples[key] = _domain(kind, args, where)
        else:
            domains[key], examples[key] = spec, [spec]
    return SearchSpace(path, domains, examples, lines)


def seed_space(seeds) -> SearchSpace:
    """The space of a run group: a grid over the training ``seeds`` (one trial each)."""
    seeds = [int(s) for s in seeds]
    return SearchSpace(Path("seeds"), {"seed": tune.grid_search(seeds)}, {"seed": seeds}, {"seed": 1})


def space_file(algo: str) -> Path:
    """The search space shipped for ``algo`` (sweeps/spaces/ALGO.yml)."""
    return Path(__file__).with_name("spaces") / f"{algo}.yml"
