"""Text to arrays for the readers: CSV cells, numbers and timestamps, with errors naming file and line.

Lines are 1-based and count the header as line 1, so data row k (0-based) is on line k + 2; blank
lines are kept as rows so that the count stays true (and are errors where a value is needed).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError, shown
from eglb.envs.files import check_csv_shape, decode_text, first_repeated, read_bytes


def line_of(row: int) -> int:
    """The 1-based line of 0-based data row ``row`` (line 1 is the header)."""
    return int(row) + 2


def csv_cells(raw: bytes, path: Path) -> pd.DataFrame:
    """A CSV file (UTF-8, optional byte-order mark, any line ending) as a table: the first column as
    text, the others as parsed.

    Numeric columns come out as floats (empty cells NaN) straight from pandas' C parser; a column
    with any unreadable cell stays text, and :func:`numbers` then names that cell. Blank lines are
    kept as empty rows so that line numbers stay true. A repeated column name or a row with another
    number of fields than the header is an error (:func:`eglb.envs.files.check_csv_shape`).
    """
    text = decode_text(raw, path)
    check_csv_shape(text, path)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            dtype={0: str},
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            index_col=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"file {path} is not a readable CSV table: {str(exc).strip()}") from None
    if len(table) == 0:
        raise InputError(f"file {path} has a header but no rows")
    return table


def numbers(cells: pd.Series, path: Path, column: str, empty_ok: bool) -> np.ndarray:
    """A column as float64; empty cells are NaN when ``empty_ok``, anything else unreadable is an error."""
    if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
        values = cells.to_numpy(dtype=float)
        bad = np.isinf(values) | (np.isnan(values) if not empty_ok else False)
    else:
        text = cells.astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        blank = (text == "").to_numpy() | cells.isna().to_numpy()
        bad = np.isinf(values) | (np.isnan(values) & ~(blank if empty_ok else False))
    if np.any(bad):
        row = int(np.argmax(bad))
        cell = cells.iloc[row]
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: expected a number, got {shown('' if pd.isna(cell) else cell)}"
        )
    return values


def stamps(cells: pd.Series, path: Path, column: str) -> tuple[np.ndarray, np.ndarray]:
    """ISO timestamps as (seconds since 1970 [R] int64, has_offset [R] bool).

    A stamp with a UTC offset is converted to UTC; a naive stamp is returned as written (its wall
    clock read as if it were UTC): the reader applies its source's declared convention.
    """
    text = np.char.strip(cells.fillna("").to_numpy(dtype=str))
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    bad = np.asarray(parsed.isna())
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: expected a timestamp like 2022-01-31 13:00:00, "
            f"got {shown(text[row])}"
        )
    seconds = parsed.tz_convert(None).as_unit("s").asi8
    return seconds, has_utc_offset(text)


def has_utc_offset(text: np.ndarray) -> np.ndarray:
    """[R] bool: ISO stamps (``YYYY-MM-DD...``) that end in Z or carry a +hh:mm / -hh:mm offset after the date."""
    return (np.char.rfind(text, "+") >= 10) | (np.char.rfind(text, "-") >= 10) | np.char.endswith(text, "Z")


def line_text(path: Path, line: int) -> str:
    """The text of 1-based ``line`` of a file (for error messages about rows parsed earlier)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number == line:
                    return text.rstrip("\r\n")
    except OSError:
        pass
    return "?"


def require_offsets(has_offset: np.ndarray, path: Path, column: str, declared: bool) -> None:
    """Raise at the first stamp that has (``declared=False``) or lacks (``declared=True``) a UTC offset."""
    wrong = ~has_offset if declared else has_offset
    if wrong.any():
        line = line_of(int(np.argmax(wrong)))
        expected = (
            "a UTC offset (e.g. -05:00): this source writes offset-aware times, and a naive time cannot be placed"
            if declared
            else "a naive time (this source's declared convention), not one with a UTC offset"
        )
        raise InputError(f"file {path}, line {line}, column {column!r}: expected {expected}, got {shown(line_text(path, line))}")


def year_in_name(path: Path) -> int | None:
    """The year a history file's path declares (a ``<YEAR>`` folder or a ``<YEAR>`` file stem), if any."""
    path = Path(path)
    for part in (path.stem, path.parent.name):
        for piece in part.replace("-", "_").split("_"):
            if len(piece) == 4 and piece.isdigit() and 1900 < int(piece) < 2200:
                return int(piece)
    return None


def require_year(seconds: np.ndarray, path: Path, year: int | None) -> None:
    """Raise if the file's rows do not belong to ``year`` (the year of its middle row must be it)."""
    if year is None or seconds.size == 0:
        return
    middle = np.partition(seconds, seconds.size // 2)[seconds.size // 2]
    found = int(str(np.datetime64(int(middle), "s").astype("datetime64[Y]")))
    if found != year:
        raise InputError(
            f"file {path} is declared as year {year} (by its name or the year= argument) but its rows are from {found}: "
            "a file from the wrong year?"
        )


def read_data_table(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """A small hand-edited CSV table (``#`` comment lines allowed) as (line, row) pairs, cells stripped.

    Used for the tables a user edits: price conventions, exchange rates, regions.
    """
    path = Path(path)
    text = decode_text(read_bytes(path), path)
    numbered = [(k + 1, line) for k, line in enumerate(text.splitlines()) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise InputError(f"file {path} holds no table (only comments or blank lines)")
    try:
        records = list(csv.reader([line for _, line in numbered]))
    except csv.Error as exc:  # e.g. a cell of more than 131072 characters
        raise InputError(f"file {path} is not a readable CSV table: {exc}") from None
    header = [cell.strip() for cell in records[0]]
    repeated = first_repeated(header)
    if repeated is not None:
        raise InputError(f"file {path}, line {numbered[0][0]}: column {shown(repeated)} appears twice in the header")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"file {path}, line {numbered[0][0]}: no column {missing[0]!r} (columns: {shown(', '.join(header), 200)})"
        )
    rows = []
    for (number, _), record in zip(numbered[1:], records[1:]):
        if len(record) != len(header):
            raise InputError(f"file {path}, line {number}: {len(record)} cells, the header has {len(header)}")
        rows.append((number, {name: cell.strip() for name, cell in zip(header, record)}))
    if not rows:
        raise InputError(f"file {path} has a header but no rows")
    return rows
