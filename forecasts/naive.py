"""Forecasts from the past alone: persistence and seasonal-naive.

Both follow :mod:`eglb.envs.forecast`'s convention: at hour t they read hours 0..t only and predict hours
t+1 .. t+horizon; the seasonal forecaster built with ``past=P`` also reads the P observed hours before
hour 0 (hours -P .. -1), so early in an episode it copies the last season instead of falling back. They
index hours, so they assume the scenario's hours are consecutive (every loader and the synthetic
generator produce an hourly grid).
"""

from __future__ import annotations

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster, check_past, earliest_hour, input_rows
from eglb.envs.scenario import Scenario


class PersistenceForecaster(Forecaster):
    """Every future hour looks like the current one: the forecast of hour t+k is hour t's inputs."""

    name = "persistence"

    def predict(self, scenario: Scenario, t: int, horizon: int, rng=None) -> np.ndarray:
        return np.repeat(input_rows(scenario, t, t + 1), horizon, axis=0)

    def predict_episode(self, scenario, start, hours, horizon, rng=None):
        rows = input_rows(scenario, start, start + hours)
        return np.repeat(rows[:, None, :], horizon, axis=1)


def seasonal_source_hours(t: np.ndarray, lead: np.ndarray, period: int, earliest: int = 0) -> np.ndarray:
    """The hour each forecast copies: the latest hour <= t one or more whole periods before t + lead.

    Where the history is too short for ``period`` (the source would be before hour ``earliest``: 0, or
    -P with P hours of observed past) a shorter season is used: a day (24 hours) if ``period`` is
    longer, else the current hour t (persistence). ``t`` and ``lead`` broadcast; every result is in
    earliest..t.
    """
    target = t + lead
    source = target - period * -(-lead // period)  # one whole period back per started period of lead
    if period > 24:
        daily = target - 24 * -(-lead // 24)
        source = np.where(source < earliest, daily, source)
    return np.where(source < earliest, t, source)


class SeasonalNaiveForecaster(Forecaster):
    """The forecast of hour t+k is the same hour of the last season: ``period`` hours before it
    (24: same hour yesterday, 168: same hour last week), repeated for leads beyond one season.

    Args:
        period: the season length in hours (>= 1).
        past: hours of the scenario's observed past it reads (0: none; :mod:`eglb.envs.past`).
    """

    def __init__(self, period: int = 24, past: int = 0):
        if int(period) != period or period < 1:
            raise InputError(f"seasonal forecast period must be a positive number of hours, got {period}")
        self.period = int(period)
        self.past = check_past(past, "seasonal forecaster")
        self.name = {24: "seasonal-day", 168: "seasonal-week"}.get(self.period, f"seasonal-{self.period}h")

    def predict(self, scenario, t, horizon, rng=None):
        return self.predict_episode(scenario, t, 1, horizon, rng)[0]

    def predict_episode(self, scenario, start, hours, horizon, rng=None):
        hour = start + np.arange(hours)[:, None]
        earliest = earliest_hour(scenario, self.past, f"forecaster {self.name!r}")
        source = seasonal_source_hours(hour, np.arange(1, horizon + 1)[None, :], self.period, earliest)  # [hours, horizon]
        first = int(source.min()) if source.size else start
        rows = input_rows(scenario, first, start + hours)  # only hours up to the last forecast hour
        return rows[source - first]
