"""When a region's prices are public: the market rule of a region table row (columns ``market``, ``published``).

An operator deciding at the start of UTC hour t knows more than hour t's price wherever the market
sets prices ahead of delivery. Three kinds of price, as the history folder's MARKETS.md describes them:

==============  =========================================  ===============================================
``market``      ``published``                              prices known at instant tau (local clock of the zone)
==============  =========================================  ===============================================
``day-ahead``   ``HH:MM Area/City``: the local time on     through the end of local day D+1 once the local
                the day before delivery at which the       time of tau on day D is at or after HH:MM; before
                next day's prices are public               that, through the end of day D (published yesterday)
``real-time``   (empty)                                    the current hour only (the environment shows hour
                                                           t's price at hour t; nothing later)
``tariff``      ``MM-DD Area/City``: the first day of      through the end of the tariff year that contains tau
                the tariff year                            (the next year's tariff is not assumed known)
==============  =========================================  ===============================================

Local days follow the zone's clock with daylight saving time (``Area/City`` is an IANA time zone), so a
day can have 23 or 25 hours. :meth:`MarketRule.known_until` gives, for decision instants, the UTC
instant up to which prices are public; a price hour [h, h + 1 h) is known when it ends no later than
that instant (so an hour that straddles a local midnight, as the half-hour-offset Indian series does, is
known only with both of its days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError
from eglb.importers.sites import require_timezone

MARKET_KINDS = ("day-ahead", "real-time", "tariff")


@dataclass(frozen=True)
class MarketRule:
    """How far ahead a region's prices are public (see the module docstring).

    Attributes:
        kind: "day-ahead", "real-time" or "tariff".
        timezone: IANA zone of the market's clock (None for real-time).
        at: day-ahead: (hour, minute) of publication, local time, on the day before delivery;
            tariff: (month, day) of the first day of the tariff year; real-time: None.
    """

    kind: str
    timezone: str | None = None
    at: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.kind not in MARKET_KINDS:
            raise InputError(f"market must be one of {', '.join(MARKET_KINDS)}, got {self.kind!r}")
        if self.kind == "real-time":
            if self.timezone is not None or self.at is not None:
                raise InputError("a real-time market publishes nothing ahead: give no publication time")
            return
        if self.at is None or self.timezone is None:
            raise InputError(f"a {self.kind} market needs its publication time and time zone")
        first, second = self.at
        valid = (0 <= first <= 23 and 0 <= second <= 59) if self.kind == "day-ahead" else _valid_month_day(first, second)
        if not valid:
            raise InputError(f"{self.kind} market: {self.at!r} is not a valid {'HH:MM' if self.kind == 'day-ahead' else 'MM-DD'}")
        require_timezone(self.timezone, f"{self.kind} market")

    def describe(self) -> str:
        """One line for tables and docs, e.g. ``day-ahead, public 13:00 Europe/Berlin the day before``."""
        if self.kind == "real-time":
            return "real-time, nothing public ahead"
        first, second = self.at
        if self.kind == "day-ahead":
            return f"day-ahead, public {first:02d}:{second:02d} {self.timezone} the day before"
        return f"tariff, known for the tariff year from {first:02d}-{second:02d} ({self.timezone})"

    def known_until(self, decisions: np.ndarray) -> np.ndarray:
        """For decision instants [T] (UTC datetime64), the UTC instant up to which prices are public [T] datetime64[s]."""
        instants = np.asarray(decisions).astype("datetime64[s]")
        if self.kind == "real-time":
            return instants + np.timedelta64(3600, "s")
        local = pd.DatetimeIndex(instants).tz_localize("UTC").tz_convert(self.timezone).tz_localize(None)
        first, second = self.at
        if self.kind == "day-ahead":
            published = (local.hour * 60 + local.minute) >= first * 60 + second
            end = local.normalize() + pd.to_timedelta(np.where(published, 2, 1), unit="D")
        else:
            years = local.year.to_numpy()
            this_year = _year_starts(years, first, second)
            end = pd.DatetimeIndex(np.where(this_year > local, this_year, _year_starts(years + 1, first, second)))
        return _utc(end, self.timezone)


def _year_starts(years: np.ndarray, month: int, day: int) -> pd.DatetimeIndex:
    """Naive local midnight of ``month``-``day`` in each of ``years``."""
    count = len(years)
    return pd.DatetimeIndex(
        pd.to_datetime(pd.DataFrame({"year": years, "month": np.full(count, month), "day": np.full(count, day)}))
    )


def _valid_month_day(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= (28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)


def _utc(local: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Naive local wall-clock instants (day or year starts) as UTC datetime64[s].

    A start that the clock skips (a DST change at midnight) moves forward to the first instant that
    exists; one that it repeats takes its first occurrence (the earlier end: never more known).
    """
    aware = local.tz_localize(timezone, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_forward")
    return aware.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]")


def parse_market_rule(market: str, published: str, where: str) -> MarketRule | None:
    """The rule of a region table row's ``market`` and ``published`` cells (both empty: None, no rule).

    ``where`` names the file and line for errors.
    """
    market, published = (market or "").strip(), (published or "").strip()
    if not market:
        if published:
            raise InputError(f"{where}, column 'published': {published!r} given without a market (column 'market')")
        return None
    if market not in MARKET_KINDS:
        raise InputError(f"{where}, column 'market': expected one of {', '.join(MARKET_KINDS)}, got {market!r}")
    if market == "real-time":
        if published:
            raise InputError(f"{where}, column 'published': a real-time market publishes nothing ahead; leave it empty")
        return MarketRule("real-time")
    form, separator = ("HH:MM", ":") if market == "day-ahead" else ("MM-DD", "-")
    clock, _, timezone = published.partition(" ")
    pieces = clock.split(separator)
    if not timezone.strip() or len(pieces) != 2 or not all(p.isdigit() and len(p) == 2 for p in pieces):
        raise InputError(f"{where}, column 'published': expected '{form} Area/City' for a {market} market, got {published!r}")
    try:
        return MarketRule(market, timezone.strip(), (int(pieces[0]), int(pieces[1])))
    except InputError as exc:
        raise InputError(f"{where}, column 'published': {exc}") from None
