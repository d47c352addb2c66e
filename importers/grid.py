"""Rows of source files onto one hourly UTC grid: counts, duplicates, gap filling and their report.

Readers (one module per source format) return rows in file order, each stamped with the UTC start
of the interval it describes (or the UTC instant it samples). :func:`place` lands them on the grid
whose label is the start of each UTC hour, in this order:

1. **The hour of a row** is the UTC hour that contains its stamp. Within one file every stamp must
   sit at the same minute and second; rows at several minutes are sub-hourly data (15-minute rows
   in an hourly file) and an error. Stamps between whole hours land in the hour they fall in: India
   is UTC+05:30, so an Open-Meteo sample taken at local hh:00 is stamped hh:30 UTC, the middle of
   the UTC hour it then stands for (rule "floor"; the README's sanity tables count the same way).
2. **Counts**, before anything is changed, per UTC year (the README's sanity-table columns): rows
   whose hour falls in the year (duplicates included), missing hours (no row at all), duplicated
   hours and, among those, hours whose rows disagree. Rows that stand for two hours (a European
   autumn ``02:00``, see :mod:`eglb.importers.prices`) and rows with empty values are counted apart.
3. **Duplicates**: identical rows for one hour keep one. Disagreeing rows follow the source's
   declared rule: ``"error"`` refuses them, ``"mean"`` takes their mean (AEMO hours split between
   two monthly files), ``"in-order"`` keeps the row that sits in time order in its file and drops
   one that does not (DE-LU 2021-10-31).
4. **Two-hour rows** fill both their hours where no other row does.
5. **Gaps** (hours still empty) follow :class:`FillRule`: runs of up to ``linear_max_hours`` are
   interpolated linearly between the hours around them (the nearest value at an edge of the data);
   runs of up to ``daily_max_hours`` take the same hour of the nearest complete days before and
   after (their mean; one side at an edge), which keeps the daily shape across a missing day;
   longer runs are an InputError naming the hours and the rows on either side. A value that stays
   constant (a price floor, a tariff, a cap) or is zero is a value, never a gap.

Every fill, drop and duplicate resolution is counted in the :class:`SeriesReport`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError

HOUR = 3600
DUPLICATE_RULES = ("error", "mean", "in-order")
#: How far (in days) the daily fill looks for a complete day on either side of a gap.
DAILY_SEARCH_DAYS = 7
#: How many of an hour's disagreeing rows an error message lists.
SHOWN_ROWS = 3


@dataclass(frozen=True)
class FillRule:
    """Which missing hours are filled, and how (see the module docstring).

    Attributes:
        linear_max_hours: runs of at most this many missing hours are interpolated linearly.
        daily_max_hours: runs of at most this many hours (and more than ``linear_max_hours``) take
            the same hours of the neighbouring days; longer runs are an error. 48 covers the
            history folder's longest gaps (a missing day next to a DST hour, PJM's local Dec 31).
    """

    linear_max_hours: int = 3
    daily_max_hours: int = 48

    def __post_init__(self) -> None:
        for name in ("linear_max_hours", "daily_max_hours"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise InputError(f"FillRule.{name} must be a whole number of hours >= 0, got {value!r}")
        if self.daily_max_hours < self.linear_max_hours:
            raise InputError(
                f"FillRule.daily_max_hours ({self.daily_max_hours}) must be >= linear_max_hours ({self.linear_max_hours})"
            )


#: The default gap rule.
DEFAULT_FILL = FillRule()


@dataclass(frozen=True)
class Rows:
    """Rows of one or more files of one series, in file order, before any grid decision.

    Attributes:
        start: [R] int64 seconds since 1970-01-01 UTC: the UTC start of what each row describes.
        values: [R, K] float64 in the toolkit's units; NaN marks an empty value.
        columns: the K column names.
        line: [R] int64 1-based line of each row in its file (header = line 1; for JSON, the index
            into the arrays).
        file: [R] int64 index into ``files``.
        files: the source files.
        span: [R] int64 hours each row stands for (1; 2 for an ambiguous autumn DST label).
        dropped: rows the readers dropped, each "file, line N: why".
        locators: per file, what ``line`` counts ("line" for text tables, e.g. "hourly.time index"
            for JSON arrays).
    """

    start: np.ndarray
    values: np.ndarray
    columns: tuple[str, ...]
    line: np.ndarray
    file: np.ndarray
    files: tuple[str, ...]
    span: np.ndarray
    dropped: tuple[str, ...] = ()
    locators: tuple[str, ...] = ()

    @classmethod
    def from_frames(cls, frames: Sequence[tuple[pd.DataFrame, dict]], columns: Sequence[str]) -> Rows:
        """Pool readers' ``(data, metadata)`` outputs: data indexed by UTC start, with ``line`` (and ``span``)."""
        if not frames:
            raise InputError("no source files to read")
        columns = tuple(columns)
        starts, values, lines, files, spans, dropped = [], [], [], [], [], []
        for k, (data, metadata) in enumerate(frames):
            missing = [c for c in columns if c not in data.columns]
            if missing:
                raise InputError(f"file {metadata.get('path')} gave no column {missing[0]!r}")
            starts.append(data.index.as_unit("s").asi8)
            values.append(np.column_stack([data[c].to_numpy(dtype=float) for c in columns]))
            lines.append(data["line"].to_numpy(dtype=np.int64))
            files.append(np.full(len(data), k, dtype=np.int64))
            spans.append(data["span"].to_numpy(dtype=np.int64) if "span" in data.columns else np.ones(len(data), np.int64))
            dropped.extend(metadata.get("dropped", ()))
        return cls(
            start=np.concatenate(starts),
            values=np.concatenate(values).reshape(-1, len(columns)),
            columns=columns,
            line=np.concatenate(lines),
            file=np.concatenate(files),
            files=tuple(str(m.get("path")) for _, m in frames),
            span=np.concatenate(spans),
            dropped=tuple(dropped),
            locators=tuple(str(m.get("locator", "line")) for _, m in frames),
        )

    def where(self, k: int) -> str:
        locator = self.locators[self.file[k]] if self.locators else "line"
        return f"file {self.files[self.file[k]]}, {locator} {self.line[k]}"


@dataclass(frozen=True)
class YearCounts:
    """The README's sanity-table columns for one UTC year, before any fill."""

    rows: int
    missing: int
    duplicates: int
    conflicting: int


@dataclass(frozen=True)
class SeriesReport:
    """What happened to one series (zone x signal) on its way to the grid."""

    zone: str
    signal: str
    files: tuple[str, ...]
    counts: dict[int, YearCounts]
    two_hour_rows: int = 0
    empty_rows: int = 0
    outside_rows: int = 0
    dropped: tuple[str, ...] = ()
    duplicate_rule: str = "error"
    identical_rows_dropped: int = 0
    conflicts_resolved: int = 0
    spread_hours: int = 0
    filled_linear: int = 0
    filled_daily: int = 0
    gaps: tuple[str, ...] = field(default=())
    offset_minutes: int = 0

    @property
    def filled(self) -> int:
        return self.filled_linear + self.filled_daily + self.spread_hours

    def summary(self) -> str:
        """One line: the counts per year, then what was done."""
        years = "; ".join(
            f"{year}: {c.rows} rows, {c.missing} missing h, {c.duplicates} dup ({c.conflicting} conflicting)"
            for year, c in sorted(self.counts.items())
        )
        done = [f"filled {self.filled_linear} h linear + {self.filled_daily} h daily"]
        if self.spread_hours:
            done.append(f"{self.spread_hours} h from two-hour DST rows")
        if self.identical_rows_dropped:
            done.append(f"{self.identical_rows_dropped} identical duplicate rows dropped")
        if self.conflicts_resolved:
            done.append(f"{self.conflicts_resolved} conflicting hours resolved ({self.duplicate_rule})")
        if self.dropped:
            done.append(f"{len(self.dropped)} rows dropped")
        if self.empty_rows:
            done.append(f"{self.empty_rows} empty rows")
        if self.offset_minutes:
            done.append(f"stamps at :{self.offset_minutes:02d} UTC placed in the hour they fall in")
        return f"{self.zone} {self.signal}: {years} | " + ", ".join(done)

    def as_dict(self) -> dict:
        """JSON-ready (for a scenario's metadata)."""
        out = asdict(self)
        out["counts"] = {str(year): asdict(c) for year, c in sorted(self.counts.items())}
        out["files"] = list(self.files)
        out["dropped"] = list(self.dropped)
        out["gaps"] = list(self.gaps)
        out["summary"] = self.summary()
        return out


def utc_hour(stamp: np.datetime64 | str) -> int:
    """Hours since 1970-01-01 UTC of a timestamp on a whole hour."""
    value = np.datetime64(stamp, "s").astype(np.int64)
    if value % HOUR:
        raise InputError(f"grid start {stamp} is not on a whole hour")
    return int(value // HOUR)


def hour_text(hour: int) -> str:
    return str(np.datetime64(int(hour), "h").astype("datetime64[m]")).replace("T", " ")


def _check_minutes(rows: Rows) -> int:
    """Every row of a file at the same minute and second, else the file holds sub-hourly rows.

    Returns the largest offset into the hour (seconds) of any file's rows (0: on whole hours).
    """
    offset = rows.start % HOUR
    for k in range(len(rows.files)):
        mine = np.flatnonzero(rows.file == k)
        if mine.size == 0:
            continue
        odd = mine[offset[mine] != offset[mine[0]]]
        if odd.size:
            first, bad = mine[0], odd[0]
            raise InputError(
                f"{rows.where(bad)}: the row stamped {_stamp_text(rows.start[bad])} UTC is not at the minute of "
                f"{rows.locators[k] if rows.locators else 'line'} {rows.line[first]} ({_stamp_text(rows.start[first])} UTC): "
                "sub-hourly rows (e.g. 15-minute data) "
                "in a file read as hourly"
            )
    return int(offset.max()) if offset.size else 0


def _stamp_text(seconds: int) -> str:
    return str(np.datetime64(int(seconds), "s").astype("datetime64[m]")).replace("T", " ")


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Indices where a sorted key array starts a new group."""
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def _differs_from_first(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """[groups] bool: some row of the (sorted, grouped) values differs from its group's first row."""
    first = np.repeat(values[starts], sizes, axis=0)
    differ = (values != first) & ~(np.isnan(values) & np.isnan(first))
    return np.logical_or.reduceat(differ.any(axis=1), starts)


def count_years(rows: Rows, first_hour: int, hours: int) -> dict[int, YearCounts]:
    """Per UTC year of the grid: rows, missing hours, duplicated and conflicting hours (one-hour rows)."""
    hour = rows.start // HOUR
    single = rows.span == 1
    first_year = int(str(np.datetime64(first_hour, "h").astype("datetime64[Y]")))
    last_year = int(str(np.datetime64(first_hour + hours - 1, "h").astype("datetime64[Y]")))
    counts = {}
    for year in range(first_year, last_year + 1):
        lo = max(first_hour, int(np.datetime64(f"{year}-01-01T00", "h").astype(np.int64)))
        hi = min(first_hour + hours, int(np.datetime64(f"{year + 1}-01-01T00", "h").astype(np.int64)))
        chosen = np.flatnonzero(single & (hour >= lo) & (hour < hi))
        order = chosen[np.argsort(hour[chosen], kind="stable")]
        keys = hour[order]
        if keys.size:
            starts = _group_starts(keys)
            sizes = np.diff(np.append(starts, keys.size))
            conflicting = _differs_from_first(rows.values[order], starts, sizes) & (sizes > 1)
            present, duplicated = starts.size, int((sizes > 1).sum())
        else:
            present, duplicated, conflicting = 0, 0, np.zeros(0, bool)
        counts[year] = YearCounts(
            rows=int(keys.size), missing=int(hi - lo - present), duplicates=duplicated, conflicting=int(conflicting.sum())
        )
    return counts


def _out_of_order(rows: Rows) -> np.ndarray:
    """[R] bool: a row whose stamp breaks its file's time order while its neighbours keep it."""
    flags = np.zeros(rows.start.size, dtype=bool)
    for k in range(len(rows.files)):
        mine = np.flatnonzero(rows.file == k)
        s = rows.start[mine]
        if s.size < 2:
            continue
        before = np.concatenate(([np.iinfo(np.int64).min], s[:-1]))
        after = np.concatenate((s[1:], [np.iinfo(np.int64).max]))
        flags[mine] = (before <= after) & ((s < before) | (s > after))
    return flags


def _resolve(
    rows: Rows, chosen: np.ndarray, hour: np.ndarray, rule: str, out_of_order: np.ndarray, zone: str, signal: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, list[str]]:
    """One value per hour from the rows ``chosen`` (their hours in ``hour``).

    Returns (hours, values [H, K], representative row per hour, identical rows dropped, conflicting
    hours resolved, dropped-row notes).
    """
    order = np.argsort(hour, kind="stable")
    rows_sorted, keys = chosen[order], hour[order]
    if keys.size == 0:
        return keys, np.zeros((0, rows.values.shape[1])), rows_sorted, 0, 0, []
    values = rows.values[rows_sorted]
    starts = _group_starts(keys)
    sizes = np.diff(np.append(starts, keys.size))
    conflicting = _differs_from_first(values, starts, sizes) & (sizes > 1)
    resolved = values[starts].copy()
    identical = int((sizes[~conflicting] - 1).sum())
    notes: list[str] = []
    for g in np.flatnonzero(conflicting):
        members = rows_sorted[starts[g] : starts[g] + sizes[g]]
        described = "; ".join(f"{rows.where(m)}: {_values_text(rows.values[m])}" for m in members[:SHOWN_ROWS])
        if members.size > SHOWN_ROWS:  # a file whose stamps are all equal makes one group of thousands of rows
            described += f"; and {members.size - SHOWN_ROWS:,} more rows"
        if rule == "mean":
            resolved[g] = rows.values[members].mean(axis=0)
        elif (
            rule == "in-order"
            and (keep := members[~out_of_order[members]]).size >= 1
            and (rows.values[keep] == rows.values[keep[0]]).all()
        ):
            resolved[g] = rows.values[keep[0]]
            notes.extend(
                f"{rows.where(m)}: out of time order and disagreeing with {rows.where(keep[0])} (kept)"
                for m in members[out_of_order[members]]
            )
        else:
            hint = (
                "none or several of them sit in time order"
                if rule == "in-order"
                else "this source declares no rule for disagreeing duplicates"
            )
            raise InputError(
                f"{zone} {signal}: {sizes[g]} rows for {hour_text(keys[starts[g]])} UTC disagree ({described}); {hint}"
            )
    return keys[starts], resolved, rows_sorted[starts], identical, int(conflicting.sum()), notes


def _values_text(values: np.ndarray) -> str:
    return ", ".join(f"{v:.6g}" for v in values)


def place(
    rows: Rows,
    first_hour: int | np.datetime64 | str,
    hours: int,
    *,
    zone: str,
    signal: str,
    duplicates: str = "error",
    fill: FillRule = DEFAULT_FILL,
) -> tuple[np.ndarray, SeriesReport]:
    """Land ``rows`` on the hourly UTC grid ``first_hour + 0..hours-1`` (see the module docstring).

    Args:
        rows: the pooled rows of one series.
        first_hour: the grid's first hour (a timestamp on a whole UTC hour, or hours since 1970).
        hours: number of grid hours T.
        zone, signal: names for messages and the report.
        duplicates: the rule for disagreeing rows of one hour (see :data:`DUPLICATE_RULES`).
        fill: the gap rule.

    Returns:
        values [T, K] in the rows' units, and the :class:`SeriesReport`.
    """
    if duplicates not in DUPLICATE_RULES:
        raise InputError(f"duplicate rule must be one of {DUPLICATE_RULES}, got {duplicates!r}")
    if not isinstance(first_hour, (int, np.integer)):
        first_hour = utc_hour(first_hour)
    first_hour, hours = int(first_hour), int(hours)
    offset = _check_minutes(rows)
    counts = count_years(rows, first_hour, hours)
    hour = rows.start // HOUR
    empty = np.isnan(rows.values).any(axis=1)
    out_of_order = _out_of_order(rows)
    inside = (hour + rows.span > first_hour) & (hour < first_hour + hours)
    grid = np.full((hours, rows.values.shape[1]), np.nan)
    source = np.full(hours, -1, dtype=np.int64)

    single = np.flatnonzero((rows.span == 1) & ~empty & inside)
    at, values, representative, identical, resolved, notes = _resolve(
        rows, single, hour[single], duplicates, out_of_order, zone, signal
    )
    grid[at - first_hour] = values
    source[at - first_hour] = representative

    spread = 0
    multi = np.flatnonzero((rows.span > 1) & ~empty & inside)
    if multi.size:
        at2, values2, rep2, identical2, resolved2, notes2 = _resolve(
            rows, multi, hour[multi], duplicates, out_of_order, zone, signal
        )
        identical, resolved, notes = identical + identical2, resolved + resolved2, notes + notes2
        for start, value, rep in zip(at2, values2, rep2):
            for h in range(start, start + rows.span[rep]):
                k = h - first_hour
                if 0 <= k < hours and source[k] < 0:
                    grid[k], source[k] = value, rep
                    spread += 1

    linear, daily, gaps = _fill(grid, source, rows, first_hour, fill, zone, signal)
    report = SeriesReport(
        zone=zone,
        signal=signal,
        files=rows.files,
        counts=counts,
        two_hour_rows=int((rows.span > 1).sum()),
        empty_rows=int(empty.sum()),
        outside_rows=int((~inside).sum()),
        dropped=rows.dropped + tuple(notes),
        duplicate_rule=duplicates,
        identical_rows_dropped=identical,
        conflicts_resolved=resolved,
        spread_hours=spread,
        filled_linear=linear,
        filled_daily=daily,
        gaps=tuple(gaps),
        offset_minutes=offset // 60,
    )
    return grid, report


def _fill(
    grid: np.ndarray, source: np.ndarray, rows: Rows, first_hour: int, rule: FillRule, zone: str, signal: str
) -> tuple[int, int, list[str]]:
    """Fill the empty hours of ``grid`` in place; return (linear hours, daily hours, gap notes)."""
    hours = grid.shape[0]
    missing = source < 0
    if missing.all():
        raise InputError(
            f"{zone} {signal}: no rows for {hour_text(first_hour)} to {hour_text(first_hour + hours - 1)} UTC "
            f"in {', '.join(rows.files) or 'any file'}"
        )
    edges = np.flatnonzero(np.diff(np.concatenate(([0], missing.astype(np.int8), [0]))))
    present = ~missing
    original = grid.copy()
    linear = daily = 0
    notes = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist()):
        length = b - a
        span_text = f"{hour_text(first_hour + a)} +{length} h"
        if length > rule.daily_max_hours:
            before = f"after {rows.where(source[a - 1])}" if a > 0 else "at the start of the data"
            after = f"before {rows.where(source[b])}" if b < hours else "at the end of the data"
            raise InputError(
                f"{zone} {signal}: no data for {length} hours, {hour_text(first_hour + a)} to "
                f"{hour_text(first_hour + b - 1)} UTC ({before}; {after}); gaps of up to {rule.daily_max_hours} hours "
                "are filled (raise FillRule.daily_max_hours to fill longer ones)"
            )
        if length <= rule.linear_max_hours:
            if a > 0 and b < hours:
                weight = (np.arange(1, length + 1) / (length + 1))[:, None]
                grid[a:b] = original[a - 1] * (1 - weight) + original[b] * weight
            else:
                grid[a:b] = original[b] if a == 0 else original[a - 1]
            linear += length
            notes.append(f"{span_text} linear")
            continue
        for t in range(a, b):
            found = []
            for direction, limit in ((-1, a), (1, b - 1)):
                days = (abs(t - limit) // 24) + 1
                while days <= DAILY_SEARCH_DAYS + length // 24:
                    k = t + direction * 24 * days
                    if not 0 <= k < hours:
                        break
                    if present[k]:
                        found.append(original[k])
                        break
                    days += 1
            if not found:
                raise InputError(
                    f"{zone} {signal}: no complete day within {DAILY_SEARCH_DAYS} days of the gap "
                    f"{hour_text(first_hour + a)} to {hour_text(first_hour + b - 1)} UTC to fill {hour_text(first_hour + t)} from"
                )
            grid[t] = np.mean(found, axis=0)
        daily += length
        notes.append(f"{span_text} daily")
    return linear, daily, notes
