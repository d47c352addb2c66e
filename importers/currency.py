"""Exchange rates to USD: a documented table shipped with the package, and tables a user passes.

The shipped table (``importers/fx_rates.csv``) holds the fixed rates (USD per unit) the upstream
sustain-cluster price standardisation used, from oanda.com on 2025-03-27; its header comment gives
the source. A table of the same form (columns ``currency, usd_per_unit``, optional ``year``,
``source``, ``date``; ``#`` comments) or a ``{currency: usd_per_unit}`` mapping replaces it. A rate
with a ``year`` applies to rows of that UTC year only and wins over the currency's yearless rate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError, shown
from eglb.importers.tables import read_data_table

RATES_FILE = Path(__file__).with_name("fx_rates.csv")
#: USD per unit of any real currency lies far inside this range (the Iranian rial: 2e-5; the Kuwaiti dinar: 3.3):
#: a rate outside is a damaged cell, and multiplying prices by it could overflow.
RATE_RANGE = (1e-9, 1e6)
#: Years a rate may be given for.
FIRST_YEAR, LAST_YEAR = 1900, 2200
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class RateTable:
    """USD per unit of each currency, optionally per UTC year.

    Attributes:
        rates: currency (ISO code, upper case) -> {year or None: USD per unit}.
        source: where the table came from (a file path or "mapping").
    """

    rates: dict[str, dict[int | None, float]]
    source: str

    @classmethod
    def read(cls, path: str | Path = RATES_FILE) -> RateTable:
        rates: dict[str, dict[int | None, float]] = {}
        for line, row in read_data_table(Path(path), ("currency", "usd_per_unit")):
            where = f"file {path}, line {line}"
            currency = require_currency(row["currency"], f"{where}, column 'currency'")
            year_text = row.get("year", "")
            try:
                rate = float(row["usd_per_unit"])
                year = int(year_text) if year_text else None
            except ValueError:
                raise InputError(
                    f"{where}: expected a number in 'usd_per_unit' and a whole year (or nothing) in 'year', "
                    f"got {shown(row['usd_per_unit'])} and {shown(year_text)}"
                ) from None
            rate = require_rate(rate, currency, f"{where}, column 'usd_per_unit'")
            if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
                raise InputError(f"{where}, column 'year': expected a year {FIRST_YEAR}..{LAST_YEAR}, got {shown(year_text)}")
            if year in rates.setdefault(currency, {}):
                raise InputError(f"file {path}, line {line}: a second rate for {currency} {year or '(every year)'}")
            rates[currency][year] = rate
        return cls(rates=rates, source=str(path))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, float]) -> RateTable:
        rates = {}
        for currency, given in mapping.items():
            code = require_currency(str(currency), "exchange rates")
            try:
                rate = float(given) if not isinstance(given, bool) else float("nan")
            except (TypeError, ValueError, OverflowError):
                rate = float("nan")
            rates[code] = {None: require_rate(rate, code, f"exchange rate for {code}", given)}
        rates.setdefault("USD", {None: 1.0})
        return cls(rates=rates, source="mapping")

    def usd_per_unit(self, currency: str, seconds: np.ndarray) -> np.ndarray:
        """[R] USD per unit of ``currency`` for rows at ``seconds`` (UTC, since 1970)."""
        by_year = self.rates.get(currency.upper())
        if by_year is None:
            raise InputError(f"no exchange rate for {currency!r} in {self.source} (rates known: {', '.join(sorted(self.rates))})")
        years = np.asarray(seconds).astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
        out = np.full(years.shape, by_year.get(None, np.nan))
        for year, rate in by_year.items():
            if year is not None:
                out[years == year] = rate
        if np.isnan(out).any():
            year = int(years[np.argmax(np.isnan(out))])
            raise InputError(f"no exchange rate for {currency} in {year} in {self.source}")
        return out


def require_currency(text: str, where: str) -> str:
    """An ISO 4217 code (three letters, any case) in upper case; else InputError at ``where``."""
    code = text.strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise InputError(f"{where}: expected a three-letter currency code such as EUR, got {shown(text)}")
    return code


def require_rate(rate: float, currency: str, where: str, given=None) -> float:
    """A rate in USD per unit within RATE_RANGE (USD itself exactly 1); else InputError at ``where``."""
    low, high = RATE_RANGE
    if not low <= rate <= high:  # False for NaN
        raise InputError(
            f"{where}: expected a positive rate of USD per {currency} within {low:g}..{high:g}, got {shown(rate if given is None else given)}"
        )
    if currency == "USD" and rate != 1.0:
        raise InputError(f"{where}: the rate of USD is 1 USD per USD, got {shown(rate if given is None else given)}")
    return rate


@lru_cache(maxsize=1)
def _shipped() -> RateTable:
    return RateTable.read(RATES_FILE)


def rate_table(rates: None | str | Path | Mapping[str, float] | RateTable = None) -> RateTable:
    """The shipped table (None), a table file, a mapping, or a RateTable as is."""
    if rates is None:
        return _shipped()
    if isinstance(rates, RateTable):
        return rates
    if isinstance(rates, Mapping):
        return RateTable.from_mapping(rates)
    return RateTable.read(Path(rates))
