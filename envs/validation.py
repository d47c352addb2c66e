"""Checks shared by the scenario constructor, the file loaders, the typed configurations and the specs.

Each check takes a ``locate`` callable that turns an array index into words ("price[3, 17] (region
'Germany', hour 2022-09-22T17)" for the dataclass, "file signals.csv, row 42, column 'price'" for a
loader), so one set of checks serves every vocabulary of error messages.

The typed values part checks a value against a type hint (:func:`check_value`): every public
configuration dataclass checks its fields with it on construction (:func:`check_fields`), every
public API function its arguments (:func:`typed_arguments`), and loaded configuration files their
keys (:func:`typed_fields`). The spec text part reads the ``key=value,...`` settings of algorithm,
forecaster and shift specs (:func:`parse_settings`, :func:`parse_number`), so that every spec refuses
a setting given twice, and every number, the same way.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import inspect
import math
import numbers
import pathlib
import types
import typing
from collections.abc import Callable, Sequence

import numpy as np
from eglb.envs.errors import InputError, shown

Locate = Callable[[tuple[int, ...]], str]


def first_index(bad: np.ndarray) -> tuple[int, ...]:
    """Index of the first True entry of a boolean array, in C order."""
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(bad)), bad.shape))


def require_finite(values: np.ndarray, what: str, locate: Locate) -> None:
    """Raise when any entry is NaN or infinite."""
    bad = ~np.isfinite(values)
    if bad.any():
        where = first_index(bad)
        raise InputError(f"{locate(where)}: {what} must be a finite number, got {values[where]}")


#: Largest magnitude accepted for any input value (prices USD/MWh, intensities, loads and capacities
#: MW, weights). Products of a few such values over years of hours stay finite and the LP solver
#: (which treats 1e20 as infinite) stays accurate; anything larger is a unit mistake.
MAX_MAGNITUDE = 1e12


def require_bounded(values: np.ndarray, what: str, locate: Locate) -> None:
    """Raise when any entry's magnitude exceeds MAX_MAGNITUDE (it would overflow the objective)."""
    bad = np.abs(values) > MAX_MAGNITUDE
    if bad.any():
        where = first_index(bad)
        raise InputError(
            f"{locate(where)}: {what} = {values[where]:g} is beyond {MAX_MAGNITUDE:g} in magnitude: values this large "
            "overflow the objective; check the unit"
        )


def require_nonnegative(values: np.ndarray, what: str, locate: Locate) -> None:
    """Raise when any entry is negative (NaN must have been rejected before)."""
    bad = values < 0
    if bad.any():
        where = first_index(bad)
        raise InputError(f"{locate(where)}: {what} must be >= 0, got {values[where]}")


def require_shape(values: np.ndarray, shape: tuple[int, ...], name: str, meaning: str) -> None:
    """Raise when an array does not have the expected shape."""
    if values.shape != shape:
        raise InputError(f"argument {name!r} has shape {values.shape}, expected {shape} ({meaning})")


def as_float_array(values, name: str) -> np.ndarray:
    """Convert to a float64 array or raise naming the argument."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"argument {name!r} must be numeric: {exc}") from None


def as_timestamps(values, name: str) -> np.ndarray:
    """Convert to a non-empty 1-D datetime64[s] array or raise naming the argument (``name`` as the
    message shows it, e.g. "argument 'timestamps'")."""
    try:
        stamps = np.asarray(values).astype("datetime64[s]")
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be datetimes: {exc}") from None
    if stamps.ndim != 1 or stamps.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D array, got shape {stamps.shape}")
    return stamps


#: Most values a seed or window list may hold.
MAX_SEEDS = 10_000


def parse_hours(text: str, option: str = "--hours") -> tuple[int, int]:
    """'START:END' (END exclusive; an empty START is 0, an empty END the last hour) into a pair of
    ints, -1 standing for the open end. A negative END is refused: it is not Python's "from the end"."""
    start, sep, end = str(text).partition(":")
    try:
        first = int(start) if start.strip() else 0
        last = int(end) if end.strip() else -1
    except ValueError:
        raise InputError(f"{option} must look like START:END with whole numbers, got {text!r}") from None
    if not sep or first < 0 or (end.strip() and last <= first):
        raise InputError(f"{option} must look like START:END with 0 <= START < END (END empty: to the last hour), got {text!r}")
    return first, last


def parse_seeds(text: str, option: str = "--synthetic") -> tuple[int, ...]:
    """'3', '0-9' or '1,5,7' into seeds (ranges must run upwards; each seed at most once)."""
    seeds: list[int] = []
    usage = f"{option} takes a seed, a range 0-9 or a list 1,5,7 of whole numbers >= 0; got {text!r}"
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        try:
            low = int(first)
            high = int(last) if sep else low
        except ValueError:
            raise InputError(usage) from None
        if sep and high < low:
            raise InputError(f"{option} range {part.strip()!r} runs backwards: write {high}-{low}")
        if low < 0:
            raise InputError(usage)
        if len(seeds) + high - low + 1 > MAX_SEEDS:  # before the range is built
            raise InputError(f"{option} lists more than {MAX_SEEDS} values")
        seeds.extend(range(low, high + 1))
    check_unique(option, seeds)
    return tuple(seeds)


def check_hours(key: str, hours) -> None:
    """An hour window (start, end) of a configuration: 0 <= start < end, or end -1 for the last hour."""
    if hours is not None and (hours[0] < 0 or (hours[1] != -1 and hours[1] <= hours[0])):
        raise InputError(f"{key} must be (START, END) with 0 <= START < END (END -1: to the last hour), got {list(hours)}")


def check_unique(key: str, values) -> None:
    """Raise naming ``key`` when a value is listed twice (a seed, a window, a shift counted twice)."""
    seen = set()
    for value in values:
        if value in seen:
            raise InputError(f"{key} lists {describe(value)} twice")
        seen.add(value)


# ----------------------------------------------------------------------------------- typed values
#: Largest seed accepted anywhere (numpy, torch and SB3 all take it).
MAX_SEED = 2**32 - 1


def describe(value) -> str:
    """A value as an error message shows it: true/false for booleans (as in YAML), else :func:`shown`."""
    if value is True or value is False:
        return "true" if value else "false"
    return shown(value)


def type_name(hint) -> str:
    names = {int: "a whole number", float: "a number", bool: "true or false", str: "text", type(None): "empty (None)"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def check_value(key: str, value, hint) -> object:
    """``value`` if it fits the type ``hint``, else an InputError naming ``key``; the value comes back
    normalized (lists as tuples, whole numbers as floats where a float is expected, a Path as text
    where text or a Path is expected).

    Understood: int (never a bool), float (finite; whole numbers accepted), bool, str, None, unions
    and Optional, tuples (``tuple[int, ...]`` or fixed ``tuple[int, int]``), lists and sequences (a
    list or tuple, never a string: a string is not split into its characters), dicts and mappings,
    callables, and classes (an instance of it). numpy scalars count as the Python numbers they hold."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        if isinstance(value, pathlib.PurePath) and str in options and pathlib.Path in options:
            return str(value)  # a folder given as a Path is kept as text, as typed on the command line
        if len(options) == 1:  # Optional[X]: X's own message is the clearest
            return check_value(key, value, options[0])
        for option in options:
            try:
                return check_value(key, value, option)
            except InputError:
                pass
        raise InputError(f"{key} must be {' or '.join(type_name(a) for a in args)}, got {describe(value)}")
    if hint is type(None):
        if value is not None:
            raise InputError(f"{key} must be empty (None), got {describe(value)}")
        return value
    if hint is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise InputError(f"{key} must be true or false, got {describe(value)}")
        return bool(value)
    if hint is int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise InputError(f"{key} must be a whole number, got {describe(value)}")
        return int(value)
    if hint is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not _finite(value):
            raise InputError(f"{key} must be a finite number, got {describe(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise InputError(f"{key} must be text, got {describe(value)}")
        return value
    if origin in (tuple, list, collections.abc.Sequence) or hint in (tuple, list):
        if not isinstance(value, (list, tuple)):
            of_text = " of text" if args and args[0] is str else ""
            what = f"a list or tuple{of_text}, not one string" if isinstance(value, str) else "a list or tuple"
            raise InputError(f"{key} must be {what}, got {describe(value)}")
        if origin is tuple and len(args) > 1 and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise InputError(f"{key} must hold {len(args)} values, got {describe(value)}")
            return tuple(check_value(f"{key}[{k}]", v, a) for k, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else typing.Any
        return tuple(check_value(f"{key}[{k}]", v, item) for k, v in enumerate(value))
    if origin in (dict, collections.abc.Mapping) or hint in (dict, collections.abc.Mapping):
        if not isinstance(value, collections.abc.Mapping):
            raise InputError(f"{key} must be a mapping, got {describe(value)}")
        return value
    if origin is collections.abc.Callable or hint is collections.abc.Callable:
        if not callable(value):
            raise InputError(f"{key} must be a function (callable), got {describe(value)}")
        return value
    if isinstance(hint, type):
        if not isinstance(value, hint):
            raise InputError(
                f"{key} must be {'an' if hint.__name__[0] in 'AEIOU' else 'a'} {hint.__name__}, got {describe(value)}"
            )
        return value
    return value


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # a whole number beyond the float range
        return False


def check_range(key: str, value, low=None, high=None, low_open: bool = False) -> None:
    """Raise naming ``key`` unless low <= value <= high (low < value when ``low_open``); None passes."""
    if value is None:
        return
    if low is not None and (value <= low if low_open else value < low):
        raise InputError(f"{key} must be {'>' if low_open else '>='} {bound(low)}, got {describe(value)}")
    if high is not None and value > high:
        raise InputError(f"{key} must be <= {bound(high)}, got {describe(value)}")


def bound(limit) -> str:
    """A limit as a message shows it: whole numbers in full (4294967295), others short (1e+12)."""
    return str(limit) if isinstance(limit, int) else f"{limit:g}"


@functools.cache
def _hints(owner) -> dict:
    return typing.get_type_hints(owner)


def typed_fields(cls, values: dict, prefix: str = "") -> dict:
    """Check a mapping against a dataclass's fields: unknown keys, types. Returns the checked values."""
    if not isinstance(values, dict):
        raise InputError(f"{prefix.rstrip('.') or 'configuration'} must be a mapping, got {describe(values)}")
    hints = _hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(known), key=str)
    if unknown:
        raise InputError(
            f"unknown configuration key {prefix + str(unknown[0])!r} (known: {', '.join(prefix + k for k in known)})"
        )
    return {key: check_value(prefix + key, value, hints[key]) for key, value in values.items()}


def check_fields(instance, prefix: str | None = None) -> None:
    """Check every field of a (frozen) dataclass instance against its type hint, in ``__post_init__``.

    Values are stored normalized (see :func:`check_value`: a list given for a tuple becomes the
    tuple). Text must not be blank unless blank is the field's default: an optional setting is left
    out with None, never with "" (which would otherwise quietly mean the default). Errors name the
    field as ``prefix + name`` (default prefix: the class name and a dot)."""
    prefix = f"{type(instance).__name__}." if prefix is None else prefix
    hints = _hints(type(instance))
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        checked = check_value(prefix + field.name, value, hints[field.name])
        if isinstance(checked, str) and not checked.strip() and field.default != "":
            optional = " (None for the default)" if field.default is None else ""
            raise InputError(f"{prefix}{field.name} must be non-blank text{optional}, got {describe(value)}")
        if checked is not value:
            object.__setattr__(instance, field.name, checked)


def typed_arguments(function):
    """Check a public function's (or constructor's) arguments against its type hints before it runs: a wrong type is an
    InputError naming the function and the argument (``evaluate() argument 'config' must be an
    EvaluationConfig, got None``), not an AttributeError deep inside; so is an unknown keyword or a
    missing argument. Arguments pass unchanged."""
    signature = inspect.signature(function)
    called = function.__qualname__.removesuffix(".__init__")  # a class is called by its name

    @functools.wraps(function)
    def checked(*args, **kwargs):
        hints = _hints(function)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:  # an unknown keyword or a missing argument, e.g. through gymnasium.make
            raise InputError(f"{called}(): {exc}") from None
        for name, value in bound.arguments.items():
            if name in hints:
                check_value(f"{called}() argument {name!r}", value, hints[name])
        return function(*args, **kwargs)

    return checked


# ----------------------------------------------------------------------------------- spec text
def parse_settings(body: str | Sequence[str], what: str) -> dict[str, str]:
    """``key=value,key=value`` (a spec's settings, or its parts already split where a value holds
    commas) into a dict of stripped strings; a part without ``=``, an empty key or value, or a key
    given twice is an InputError naming ``what``."""
    settings: dict[str, str] = {}
    for part in (p.strip() for p in (body.split(",") if isinstance(body, str) else body)):
        if not part:
            continue
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not key or not value:
            raise InputError(f"{what}: expected KEY=VALUE, got {part!r}")
        if key in settings:
            raise InputError(f"{what}: {key} is given twice")
        settings[key] = value
    return settings


def parse_number(text, what: str, kind: type = float, low=None, high=None):
    """A spec's number (text, or already a number) as ``kind`` (int or float, finite) within
    [low, high], else an InputError naming ``what``."""
    expected = "a whole number" if kind is int else "a finite number"
    bounds = (
        f" in {bound(low)}..{bound(high)}"
        if low is not None and high is not None
        else f" >= {bound(low)}"
        if low is not None
        else ""
    )
    try:
        value = kind(text.strip() if isinstance(text, str) else text)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} must be {expected}{bounds}, got {describe(text)}") from None
    if isinstance(text, bool) or not _finite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{what} must be {expected}{bounds}, got {describe(text)}")
    return value
