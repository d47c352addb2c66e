"""The information an operator has in practice: published prices exactly, everything else forecast.

:class:`MarketForecaster` predicts hours t+1 .. t+H as a named *base* forecaster does (seasonal-naive by
default; persistence or the learned forecaster are the other non-oracles), then overwrites each region's
price with the true price for the hours its market has already published at hour t
(:meth:`eglb.importers.markets.MarketRule.known_until`: day-ahead zones know tomorrow once the auction's
results are out, tariffs the rest of their tariff year, real-time zones nothing ahead). Carbon, water and
workload come from the base forecaster alone. The decision at hour t is taken at the start of UTC hour t
(``scenario.timestamps[t]``).

Each region's rule comes from, in order: the ``rules`` argument; the scenario's metadata (a history
scenario records its region table rows, columns ``market`` and ``published``); the shipped region tables
by region name (complete14, then eglb2022: the published set and the generators use those names). A
region with no rule is an error, never silently "real-time".

The forecaster reads the truth only for published hours, so it is not an oracle; with an oracle base
(``perfect``, ``noisy``) it is one, and says so (``clairvoyant``).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster, past_text, signal_columns
from eglb.envs.scenario import Scenario
from eglb.forecasts.naive import SeasonalNaiveForecaster
from eglb.importers.markets import MarketRule, parse_market_rule
from eglb.importers.regions import SHIPPED_TABLES, read_region_table


def market_rules(scenario: Scenario, rules: Mapping[str, MarketRule] | None = None) -> tuple[MarketRule, ...]:
    """Each region's market rule, from ``rules``, the scenario's region records or the shipped tables (in order)."""
    found: dict[str, MarketRule] = dict(rules or {})
    for record in (scenario.metadata or {}).get("regions", []):
        if isinstance(record, Mapping) and record.get("market") and record.get("name") not in found:
            where = f"file {record.get('table', '?')}, line {record.get('line', '?')}"
            found[record["name"]] = parse_market_rule(record["market"], record.get("published") or "", where)
    missing = [r for r in scenario.regions if r not in found]
    if missing:
        for table in SHIPPED_TABLES:
            for region in read_region_table(table):
                if region.name in missing and region.name not in found and region.market:
                    found[region.name] = region.market_rule()
    missing = [r for r in scenario.regions if r not in found]
    if missing:
        raise InputError(
            f"no market rule for region {missing[0]!r} of {scenario.name!r}: give its region table the columns "
            "market and published (as importers/regions/complete14.csv does), or pass rules={name: MarketRule}"
        )
    return tuple(found[r] for r in scenario.regions)


class MarketForecaster(Forecaster):
    """Published prices exactly, the rest from ``base`` (see the module docstring).

    Args:
        base: forecasts every signal of the hours not published (default: seasonal-naive, the same hour yesterday).
        rules: region name -> :class:`MarketRule`, overriding the scenario's and the shipped tables' rules.
    """

    def __init__(self, base: Forecaster | None = None, rules: Mapping[str, MarketRule] | None = None):
        base = base if base is not None else SeasonalNaiveForecaster(24)
        if not isinstance(base, Forecaster):
            raise InputError(f"base forecaster must be an eglb.envs.forecast.Forecaster, got {type(base).__name__}")
        if isinstance(base, MarketForecaster):
            raise InputError("the base of a market forecaster cannot be another market forecaster")
        self.base = base
        self.rules = dict(rules or {})
        self.name = f"market+{base.name}"
        self.clairvoyant = base.clairvoyant
        self.past = base.past  # only the base reads history
        self._known: dict[int, tuple[weakref.ref, np.ndarray]] = {}  # id(scenario) -> (scenario, its known_stops)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_known": {}}  # weak references do not pickle (Ray, subprocess environments)

    @property
    def information(self) -> str:
        text = f"published prices + {self.base.name} forecasts{past_text(self.past)}"
        return f"oracle: {text}" if self.clairvoyant else text

    def known_stops(self, scenario: Scenario) -> np.ndarray:
        """[T, N] int: at decision hour t, region i's prices are public for hours < ``known_stops[t, i]``."""
        cached = self._known.get(id(scenario))
        if cached is None or cached[0]() is not scenario:
            stamps = scenario.timestamps.astype("datetime64[s]")
            ends = stamps + np.timedelta64(3600, "s")
            stops = np.empty((scenario.n_hours, scenario.n_regions), dtype=np.int64)
            for i, rule in enumerate(market_rules(scenario, self.rules)):
                stops[:, i] = np.searchsorted(ends, rule.known_until(stamps), side="right")
            stops.setflags(write=False)
            # Keep the scenarios still alive (an environment may cycle through several training years).
            self._known = {key: value for key, value in self._known.items() if value[0]() is not None}
            self._known[id(scenario)] = (weakref.ref(scenario), stops)
            return stops
        return cached[1]

    def published_leads(self, scenario: Scenario, t: int) -> np.ndarray:
        """[N] int: how many hours after hour t each region's price is public (0: none beyond hour t)."""
        return np.maximum(self.known_stops(scenario)[t] - (t + 1), 0)

    def predict(self, scenario, t, horizon, rng=None):
        return self.predict_episode(scenario, t, 1, horizon, rng)[0]

    def predict_episode(self, scenario, start, hours, horizon, rng=None):
        values = np.array(self.base.predict_episode(scenario, start, hours, horizon, rng), dtype=float)
        if horizon == 0 or hours == 0:
            return values
        target = start + np.arange(hours)[:, None] + np.arange(1, horizon + 1)[None, :]  # [hours, H]
        stops = self.known_stops(scenario)[start : start + hours]  # [hours, N]
        known = target[:, :, None] < stops[:, None, :]  # [hours, H, N]; stops <= T, so known hours exist
        truth = scenario.price[:, np.minimum(target, scenario.n_hours - 1)].transpose(1, 2, 0)  # [hours, H, N]
        columns = signal_columns(scenario)["price"]
        values[:, :, columns] = np.where(known, truth, values[:, :, columns])
        return values
