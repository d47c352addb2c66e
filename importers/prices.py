"""Two-column market price files (the history folder's ``price/<FOLDER>/<YEAR>/<FOLDER>_electricity_prices_<YEAR>.csv``).

Header ``Datetime,Price (<CUR>/MWh)``. The time base and the currency differ per folder; each
folder's convention is a row of ``importers/price_conventions.csv`` (:class:`PriceConvention`),
taken from the history README's price timestamp table:

==================  ===========================================================================
``utc``             naive UTC (PJM, CAISO, NYISO)
``offset``          every stamp carries its UTC offset, parsed per row (ERCOT, -06:00/-05:00)
``fixed``           naive local standard time at one offset all year (CA-ON -5, BR -3, ZA +2,
                    IN +5.5, SG +8, JP-TK and KR +9, AU +10)
``local-dst-24``    naive local clock of an IANA zone, 24 labels on every day (DE-LU, BE, NL):
                    the spring-day ``02:00`` does not exist (it copies a neighbour) and is
                    dropped; the autumn-day ``02:00`` stands for both real 02:00 hours (it is
                    their mean) and becomes a two-hour row
==================  ===========================================================================

``label`` "start" means a row describes the hour starting at its stamp (hour-ending files whose
hours were renumbered 0-23, CA-ON and KR, are "start"); "end" shifts the stamp back one hour. A
naive stamp in an ``offset`` folder, or an offset in a naive one, is an error. Values are converted
to USD with :mod:`eglb.importers.currency`; the AU files' header says USD but the values are AUD (the
convention's ``header_currency`` records the mislabel). Duplicate hours, overlaps between
consecutive files, missing days and the IN 20-hour gap are left to :mod:`eglb.importers.grid`, which
applies the convention's ``duplicates`` rule (AU: the mean of an hour split between monthly files;
EU: the row in time order wins over one out of order; others: identical rows only).

Scale checks (after conversion): a median absolute price under 1 USD/MWh looks like a price per
kWh, one over 3000 USD/MWh like an unconverted currency (JPY, KRW ...); a single hour beyond
100,000 USD/MWh is a damaged value. Floors, caps, tariffs and zero prices are values, never gaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError, shown
from eglb.importers.cache import CacheSetting, parsed
from eglb.importers.currency import RateTable, rate_table, require_currency
from eglb.importers.grid import DUPLICATE_RULES
from eglb.importers.sites import require_timezone
from eglb.importers.tables import csv_cells, numbers, read_data_table, require_offsets, require_year, stamps, year_in_name

CONVENTIONS_FILE = Path(__file__).with_name("price_conventions.csv")
TIME_BASES = ("utc", "offset", "fixed", "local-dst-24")
LABELS = ("start", "end")
TIME_COLUMN = "Datetime"
_PRICE_HEADER = re.compile(r"^Price \((?P<currency>[^/]+)/(?P<unit>MWh|kWh)\)$")
#: Median |price| bounds, USD/MWh, outside which a file's scale is implausible.
PER_KWH_SUSPECT = 1.0
UNCONVERTED_SUSPECT = 3000.0
#: No hour of any market reaches this |price|, USD/MWh (caps are 5,000 to 17,500 in their currencies).
IMPLAUSIBLE_USD_MWH = 100_000.0
_VERSION = 2


@dataclass(frozen=True)
class PriceConvention:
    """How one price folder writes time and money (a row of ``price_conventions.csv``).

    Attributes:
        folder: the folder name under ``price/``.
        currency: ISO code of the values' currency.
        header_currency: what the header's ``Price (<X>/MWh)`` says (differs from ``currency`` for a
            mislabelled file; a header naming ``currency`` itself is accepted too).
        time: one of :data:`TIME_BASES` (see the module docstring).
        utc_offset: hours east of UTC, for ``fixed``.
        timezone: IANA zone, for ``local-dst-24``.
        label: "start" or "end" of the hour.
        duplicates: rule for disagreeing rows of one hour (:data:`eglb.importers.grid.DUPLICATE_RULES`).
        note: free text (market, quirks).
    """

    folder: str
    currency: str
    header_currency: str
    time: str
    utc_offset: float | None = None
    timezone: str | None = None
    label: str = "start"
    duplicates: str = "error"
    note: str = ""

    def __post_init__(self) -> None:
        where = f"price convention {shown(self.folder)}"
        if self.time not in TIME_BASES:
            raise InputError(f"{where}: time must be one of {TIME_BASES}, got {shown(self.time)}")
        if self.label not in LABELS:
            raise InputError(f"{where}: label must be one of {LABELS}, got {shown(self.label)}")
        if self.duplicates not in DUPLICATE_RULES:
            raise InputError(f"{where}: duplicates must be one of {DUPLICATE_RULES}, got {shown(self.duplicates)}")
        if self.time == "fixed" and (self.utc_offset is None or not -14 <= self.utc_offset <= 14):
            raise InputError(f"{where}: time 'fixed' needs utc_offset in hours (-14..14), got {self.utc_offset!r}")
        if self.time == "local-dst-24":
            if not self.timezone:
                raise InputError(f"{where}: time 'local-dst-24' needs an IANA timezone (e.g. Europe/Berlin)")
            require_timezone(self.timezone, where)


def read_conventions(path: str | Path = CONVENTIONS_FILE) -> dict[str, PriceConvention]:
    """The conventions table: folder -> :class:`PriceConvention`."""
    out = {}
    columns = ("folder", "currency", "header_currency", "time", "utc_offset", "timezone", "label", "duplicates")
    for line, row in read_data_table(Path(path), columns):
        try:
            offset = float(row["utc_offset"]) if row["utc_offset"] else None
        except ValueError:
            offset = float("nan")
        if offset is not None and not -14 <= offset <= 14:  # False for NaN
            raise InputError(
                f"file {path}, line {line}, column 'utc_offset': expected hours (-14..14), got {shown(row['utc_offset'])}"
            )
        if len(row["header_currency"]) > 8:
            raise InputError(
                f"file {path}, line {line}, column 'header_currency': expected a currency as a header writes it, got {shown(row['header_currency'])}"
            )
        try:
            convention = PriceConvention(
                folder=row["folder"],
                currency=require_currency(row["currency"], "column 'currency'"),
                header_currency=row["header_currency"],
                time=row["time"],
                utc_offset=offset,
                timezone=row["timezone"] or None,
                label=row["label"] or "start",
                duplicates=row["duplicates"] or "error",
                note=row.get("note", ""),
            )
        except InputError as exc:
            raise InputError(f"file {path}, line {line}: {exc}") from None
        if convention.folder in out:
            raise InputError(f"file {path}, line {line}: folder {shown(convention.folder)} appears twice")
        out[convention.folder] = convention
    return out


@lru_cache(maxsize=8)
def _conventions_cached(path: str) -> dict[str, PriceConvention]:
    return read_conventions(path)


def folder_of(path: Path) -> str:
    """The price folder a history file belongs to (``price/<FOLDER>/<YEAR>/<FOLDER>_electricity_prices_<YEAR>.csv``)."""
    stem = Path(path).stem
    return stem.split("_electricity_prices")[0] if "_electricity_prices" in stem else Path(path).parent.parent.name


def convention_for(folder: str, conventions: str | Path | dict[str, PriceConvention] | None = None) -> PriceConvention:
    """The convention of a folder from the shipped table (or a table / mapping of your own)."""
    table = conventions if isinstance(conventions, dict) else _conventions_cached(str(conventions or CONVENTIONS_FILE))
    if folder not in table:
        raise InputError(
            f"no timestamp and currency convention for price folder {shown(folder)} (known: {', '.join(sorted(table))}); "
            f"add a row to {CONVENTIONS_FILE} or pass convention=PriceConvention(...)"
        )
    return table[folder]


def _parse(raw: bytes, path: Path) -> dict[str, np.ndarray]:
    cells = csv_cells(raw, path)
    header = list(cells.columns)
    if len(header) != 2 or header[0] != TIME_COLUMN or not _PRICE_HEADER.match(header[1]):
        raise InputError(
            f"file {path}, line 1: expected the header 'Datetime,Price (<CURRENCY>/MWh)', got {shown(','.join(header), 200)}"
        )
    seconds, has_offset = stamps(cells[TIME_COLUMN], path, TIME_COLUMN)
    return {
        "seconds": seconds,
        "has_offset": has_offset,
        "value": numbers(cells[header[1]], path, header[1], empty_ok=True),
        "header": np.array(header),
    }


def _utc_starts(arrays: dict, convention: PriceConvention, path: Path) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(UTC start seconds [R'], span [R'], dropped notes, kept row indices [R']) under the convention."""
    seconds = arrays["seconds"]
    rows = np.arange(seconds.size)
    span = np.ones(seconds.size, dtype=np.int64)
    dropped: list[str] = []
    if convention.time == "fixed":
        seconds = seconds - int(round(convention.utc_offset * 3600))
    elif convention.time == "local-dst-24":
        naive = pd.DatetimeIndex(seconds.astype("datetime64[s]"))
        summer = naive.tz_localize(convention.timezone, ambiguous=True, nonexistent="NaT")
        winter = naive.tz_localize(convention.timezone, ambiguous=False, nonexistent="NaT")
        absent = summer.isna()
        for k in np.flatnonzero(absent):
            dropped.append(
                f"file {path}, line {k + 2}: {naive[k]} does not exist in {convention.timezone} (spring DST change; "
                "the row copies a neighbour): dropped"
            )
        keep = ~absent
        summer_s = summer[keep].tz_convert(None).as_unit("s").asi8
        winter_s = winter[keep].tz_convert(None).as_unit("s").asi8
        span = np.where(summer_s != winter_s, 2, 1).astype(np.int64)
        seconds, rows = np.minimum(summer_s, winter_s), rows[keep]
    if convention.label == "end":
        seconds = seconds - 3600
    return seconds, span, dropped, rows


def read_prices(
    path: str | Path,
    convention: PriceConvention | str | None = None,
    rates: None | str | Path | dict | RateTable = None,
    year: int | None = None,
    cache: CacheSetting = True,
) -> tuple[pd.DataFrame, dict]:
    """Read one price file under its folder's convention and convert it to USD/MWh.

    Args:
        path: the file.
        convention: a :class:`PriceConvention`, a folder name of the shipped table, or None (the
            folder the path names).
        rates: exchange rates (see :func:`eglb.importers.currency.rate_table`; default the shipped table).
        year: the year the file must hold (default: the year in its name, if any).
        cache: see :mod:`eglb.importers.cache`.

    Returns:
        data: indexed by the UTC start of each row's hour (file order, duplicates kept), columns
            ``price_usd_mwh``, ``price_native`` (the file's value, per MWh), ``span`` (hours the row
            stands for: 2 for an autumn DST label) and ``line``.
        metadata: ``path``, ``folder``, ``currency``, ``header_currency``, ``currency_note``,
            ``time``, ``utc_offset``, ``timezone``, ``label``, ``duplicates``, ``usd_per_unit``,
            ``rates_source``, ``unit`` ("USD/MWh"), ``dropped`` (rows dropped, with reasons).
    """
    path = Path(path)
    if not isinstance(convention, PriceConvention):
        convention = convention_for(convention or folder_of(path))
    arrays = parsed(path, "price", _VERSION, lambda raw: _parse(raw, path), cache, ("seconds", "has_offset", "value", "header"))
    header = [str(h) for h in arrays["header"]]
    match = _PRICE_HEADER.match(header[1])
    written = match["currency"]
    if written not in (convention.header_currency, convention.currency):
        raise InputError(
            f"file {path}, line 1: the header says {written} but the convention of folder {convention.folder!r} "
            f"expects {convention.header_currency}"
            + (f" (values in {convention.currency})" if convention.currency != convention.header_currency else "")
        )
    note = ""
    if written != convention.currency:
        note = (
            f"header says {written} but the values are {convention.currency} (known mislabel): converted as {convention.currency}"
        )
    require_offsets(arrays["has_offset"], path, TIME_COLUMN, declared=convention.time == "offset")
    starts, span, dropped, rows = _utc_starts(arrays, convention, path)
    require_year(arrays["seconds"], path, year if year is not None else year_in_name(path))  # the year as written
    rates = rate_table(rates)
    per_unit = rates.usd_per_unit(convention.currency, starts)
    with np.errstate(over="ignore"):  # a damaged 1e308 overflows to inf here, and is refused just below
        native = arrays["value"][rows] * (1000.0 if match["unit"] == "kWh" else 1.0)
        usd = native * per_unit
    beyond = np.flatnonzero(np.abs(usd) > IMPLAUSIBLE_USD_MWH)  # False for NaN (an empty cell)
    if beyond.size:
        k = int(beyond[0])
        raise InputError(
            f"file {path}, line {rows[k] + 2}: price {arrays['value'][rows[k]]:.6g} {convention.currency}/{match['unit']} is "
            f"{usd[k]:.4g} USD/MWh, beyond the +-{IMPLAUSIBLE_USD_MWH:g} USD/MWh no market reaches: a damaged value?"
        )
    finite = usd[np.isfinite(usd)]
    if finite.size:
        median = float(np.median(np.abs(finite)))
        if median < PER_KWH_SUSPECT:
            raise InputError(
                f"file {path}: median |price| is {median:.4g} USD/MWh: the values look like prices per kWh, not per MWh"
            )
        if median > UNCONVERTED_SUSPECT:
            raise InputError(
                f"file {path}: median |price| is {median:.4g} USD/MWh after converting from {convention.currency}: "
                "the currency looks wrong (unconverted JPY or KRW?) or the unit is not per MWh"
            )
    data = pd.DataFrame(
        {"price_usd_mwh": usd, "price_native": native, "span": span, "line": rows.astype(np.int64) + 2},
        index=pd.DatetimeIndex(starts.astype("datetime64[s]"), name="start_utc").tz_localize("UTC"),
    )
    metadata = {
        "path": str(path),
        "source": f"market price, folder {convention.folder}" + (f" ({convention.note})" if convention.note else ""),
        "folder": convention.folder,
        "currency": convention.currency,
        "header_currency": written,
        "currency_note": note,
        "time": convention.time,
        "utc_offset": convention.utc_offset,
        "timezone": convention.timezone or ("UTC" if convention.time in ("utc", "offset") else None),
        "label": convention.label,
        "duplicates": convention.duplicates,
        "usd_per_unit": sorted({float(r) for r in np.unique(per_unit)}),
        "rates_source": rates.source,
        "unit": "USD/MWh",
        "dropped": dropped,
    }
    return data, metadata
