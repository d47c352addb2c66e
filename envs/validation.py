"""Checks shared by the scenario constructor and the file loaders.

Each check takes a ``locate`` callable that turns an array index into words ("price[3, 17] (region
'Germany', hour 2022-09-22T17)" for the dataclass, "file signals.csv, row 42, column 'price'" for a
loader), so one set of checks serves every vocabulary of error messages.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from eglb.envs.errors import InputError

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


def parse_hours(text: str, option: str = "--hours") -> tuple[int, int]:
    """'START:END' (END exclusive; either side may be empty) into a pair of ints (-1 for an open end)."""
    start, sep, end = str(text).partition(":")
    try:
        first = int(start) if start.strip() else 0
        last = int(end) if end.strip() else -1
    except ValueError:
        raise InputError(f"{option} must look like START:END with whole numbers, got {text!r}") from None
    if not sep or first < 0 or (last != -1 and last <= first):
        raise InputError(f"{option} must look like START:END with 0 <= START < END, got {text!r}")
    return first, last
