"""Reading tables with clear errors, and writing files atomically.

Readers name the file, the line (1-based, the header is line 1) and the column of any bad value;
writers write to a temporary file in the target folder and rename it over the target, so a crash
never leaves a half-written result or checkpoint.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError


def read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV file, raising InputError if it is missing, unreadable or lacks a column."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"missing file {path}")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"file {path} is not a readable CSV table: {str(exc).strip()}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        found = ", ".join(map(repr, table.columns))
        found = found if len(found) <= 200 else found[:200] + " ..."  # a binary file's "header" can be megabytes
        raise InputError(f"file {path} has no column {missing[0]!r} (columns found: {found})")
    if len(table) == 0:
        raise InputError(f"file {path} has a header but no rows")
    return table


def line_of(row: int) -> int:
    """The 1-based file line of a 0-based data row (line 1 is the header)."""
    return row + 2


def numeric_column(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A column as float64, raising InputError at the first empty, non-numeric or non-finite cell."""
    text = table[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: expected a finite number, got {table[column].iloc[row]!r}"
        )
    return values


#: ISO 8601 date and hour, optional minutes, seconds and fraction, optional UTC designator or offset.
_ISO_TIME = r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?"


def timestamp_column(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A column of UTC timestamps as datetime64[s], strictly parsed; InputError at the first bad cell.

    Accepted: ISO 8601 ``YYYY-MM-DD HH[:MM[:SS[.f]]]`` (or with ``T``), naive (read as UTC) or with
    ``Z`` / ``+00:00``. Anything else is refused with the line named: day-first dates (22/09/2022),
    other offsets (the files declare UTC; convert them first), impossible dates, text.
    """
    text = table[column].str.strip()
    parts = text.str.fullmatch(_ISO_TIME)
    fields = text.str.extract(_ISO_TIME)
    bad = ~parts.to_numpy(dtype=bool)
    offset = fields[6].fillna("Z").to_numpy(dtype=str)
    wrong_zone = ~bad & ~np.isin(offset, ("Z", "+00:00", "-00:00", "+0000", "-0000"))
    stamps = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~bad & ~wrong_zone
    if ok.any():
        f = fields[ok]
        iso = (f[0] + "-" + f[1] + "-" + f[2] + "T" + f[3] + ":" + f[4].fillna("00") + ":" + f[5].fillna("00")).to_numpy(
            dtype=str
        )
        try:
            stamps[ok] = iso.astype("datetime64[s]")
        except ValueError:  # an impossible date (2022-02-30, hour 25): find which
            for row, value in zip(np.flatnonzero(ok), iso):
                try:
                    stamps[row] = np.datetime64(value, "s")
                except ValueError:
                    bad[row] = True
    if bad.any() or wrong_zone.any():
        row = int(np.argmax(bad | wrong_zone))
        cell = table[column].iloc[row]
        if wrong_zone[row]:
            raise InputError(
                f"file {path}, line {line_of(row)}, column {column!r}: timestamps must be UTC, got offset {offset[row]} in {cell!r}"
            )
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: expected a timestamp like 2022-09-22 13:00 "
            f"(ISO 8601, UTC), got {cell!r}"
        )
    return stamps


def require_whole_hours(stamps: np.ndarray, path: Path, column: str) -> None:
    """Every timestamp starts an hour (an hourly slot); name the first line that does not."""
    off = stamps.astype(np.int64) % 3600 != 0
    if off.any():
        row = int(np.argmax(off))
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: {np.datetime_as_string(stamps[row], unit='s')} is not "
            "the start of an hour; the data must be hourly"
        )


def require_consecutive_hours(hours: np.ndarray, path: Path) -> None:
    """Sorted unique hour starts [T] must have no gap; name the first missing hours."""
    steps = np.diff(hours.astype("datetime64[h]").astype(np.int64))
    if (steps > 1).any():
        k = int(np.argmax(steps > 1))
        first, missing = hours[k] + np.timedelta64(1, "h"), int(steps[k]) - 1
        last = first + np.timedelta64(missing - 1, "h")
        span = np.datetime_as_string(first, unit="h") + ("" if missing == 1 else f" .. {np.datetime_as_string(last, unit='h')}")
        raise InputError(
            f"file {path} has no row for {missing} hour{'s' if missing > 1 else ''} ({span}): hourly rows must not skip hours"
        )


def require_unique_rows(keys: np.ndarray, path: Path, what: str) -> None:
    """Raise naming the first line whose key (e.g. timestamp) repeats an earlier line's."""
    _, first = np.unique(keys, return_index=True)
    if first.size != keys.size:
        repeated = np.ones(keys.size, dtype=bool)
        repeated[first] = False
        row = int(np.argmax(repeated))
        earlier = int(np.flatnonzero(keys == keys[row])[0])
        raise InputError(f"file {path}, line {line_of(row)}: duplicated {what} (already on line {line_of(earlier)})")


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` then rename the temporary file to ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; results are meant to be shared
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(path: Path, data) -> Path:
    """Standard JSON (no NaN or Infinity: a non-finite number is written as null), atomically."""
    return atomic_write_text(path, json.dumps(json_ready(data), indent=2, allow_nan=False) + "\n")


def json_ready(value):
    """``value`` with numpy types, paths and tuples turned into JSON types, and non-finite floats into None."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


@contextmanager
def exclusive_lock(folder: Path, purpose: str):
    """Hold an exclusive lock on ``folder`` (its ``.lock`` file) for the ``with`` block.

    A second process asking for the same folder gets an InputError naming the holder, instead of
    interleaving its files with the first one's. The lock dies with its process (kill -9 included).
    """
    folder = Path(folder)
    path = folder / ".lock"
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; refusing to follow it")
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise InputError(f"cannot lock {folder}: {exc.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(handle, 200, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(handle)
        raise InputError(f"{folder} is in use by {holder}; wait for it to finish or choose another folder") from None
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{purpose} (pid {os.getpid()})".encode(), 0)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete what interrupted atomic writes left behind (``.NAME.XXXX.tmp``) under ``folder``."""
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed


def require_no_symlinks(folder: Path) -> None:
    """Refuse a folder holding symbolic links: writing through one would land outside the folder."""
    for path in Path(folder).rglob("*"):
        if path.is_symlink():
            raise InputError(f"{path} is a symbolic link; a results or run folder must hold plain files only")
