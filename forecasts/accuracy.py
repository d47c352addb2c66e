"""Forecast errors per signal and lead time, against the truth, in the measures the literature reports.

Every measure is computed per lead k (1-based) over every forecast made at one hour and, optionally,
over a subset of the series (regions by name, e.g. the day-ahead zones' prices apart from the
real-time ones):

* **MAPE** (carbon, water, workload: never negative): the mean of |f - y| / y over series and hours
  whose truth y is > 0 (hours with a zero truth are left out). Carbon-forecast papers report it.
* **sMAPE** (prices, as epftoolbox and Lago et al. 2021 report it): the mean of |f - y| / ((|y| + |f|) / 2)
  (0 where both are 0). Bounded by 2 (200 %), so near-zero and negative prices cannot explode it.
* **MAE**: the mean of |f - y| in the signal's units (USD/MWh, t/MWh, m^3/MWh, MW).
* **scaled MAE** (the headline for prices: sum |f - y| / sum |y|, also known as WAPE).

The headline :attr:`ForecastErrors.error` is MAPE for carbon, water and workload and scaled MAE for
prices. All relative measures are fractions (0.1 = 10 %). Forecasts from several scenarios are pooled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.forecast import SIGNALS, Forecaster, input_rows
from eglb.envs.scenario import Scenario

#: The headline measure of each signal (see the module docstring).
MEASURE = {"price": "scaled MAE", "carbon": "MAPE", "water": "MAPE", "workload": "MAPE"}
MEASURES = ("MAPE", "sMAPE", "MAE", "scaled MAE")
#: Forecast hours scored per call of predict_episode (bounds the memory of a year of forecasts).
CHUNK_HOURS = 512
#: The accumulated sums behind the measures, each [horizon, columns].
_SUMS = ("ape", "positive", "sape", "absolute", "magnitude", "count")


@dataclass(frozen=True)
class ForecastErrors:
    """Errors of one forecaster.

    Attributes:
        name: the forecaster's name.
        error: per signal, float [horizon]: the headline measure at lead 1 .. horizon (fractions).
        forecasts: how many forecasts (made at one hour) were scored.
        sums: per accumulated quantity, float [horizon, 3N + J] summed over forecasts (see ``measure``).
        columns: the name of each column, "price[REGION]", ..., "workload[GATEWAY]".
    """

    name: str
    error: dict[str, np.ndarray]
    forecasts: int
    sums: dict[str, np.ndarray]
    columns: tuple[str, ...]

    def at(self, signal: str, lead: int) -> float:
        """The headline error of ``signal`` at lead ``lead`` (1-based)."""
        return float(self.error[signal][lead - 1])

    def mean(self, signal: str, leads: int) -> float:
        """The mean headline error of ``signal`` over leads 1 .. ``leads``."""
        return float(self.error[signal][:leads].mean())

    def measure(self, signal: str, measure: str, series: Sequence[str] | None = None) -> np.ndarray:
        """``measure`` (one of :data:`MEASURES`) of ``signal`` at every lead [horizon], over the named
        regions or gateways only (None: all of them); NaN where nothing was scored."""
        if signal not in SIGNALS or measure not in MEASURES:
            raise InputError(f"unknown signal {signal!r} or measure {measure!r} (signals {SIGNALS}, measures {MEASURES})")
        names = [c for c in self.columns if c.startswith(f"{signal}[")]
        if series is not None:
            unknown = sorted(set(series) - {c[len(signal) + 1 : -1] for c in names})
            if unknown:
                raise InputError(f"no {signal} series named {unknown[0]!r} among {', '.join(names)}")
            names = [c for c in names if c[len(signal) + 1 : -1] in set(series)]
        chosen = [self.columns.index(c) for c in names]
        totals = {key: self.sums[key][:, chosen].sum(axis=1) for key in _SUMS}
        numerator, denominator = {
            "MAPE": ("ape", "positive"),
            "sMAPE": ("sape", "count"),
            "MAE": ("absolute", "count"),
            "scaled MAE": ("absolute", "magnitude"),
        }[measure]
        top, bottom = totals[numerator], totals[denominator]
        return np.divide(top, bottom, out=np.full(top.shape, np.nan), where=bottom > 0)


def column_names(scenario: Scenario) -> tuple[str, ...]:
    """The name of each column of a forecast row: price[REGION] ... workload[GATEWAY]."""
    names = [f"{signal}[{r}]" for signal in ("price", "carbon", "water") for r in scenario.regions]
    return tuple(names + [f"workload[{g}]" for g in scenario.gateways])


def forecast_errors(
    forecaster: Forecaster,
    scenarios: Sequence[Scenario],
    horizon: int,
    first_hour: int = 168,
    rng: np.random.Generator | None = None,
) -> ForecastErrors:
    """Score the forecasts made at every hour t with ``first_hour <= t <= T - 1 - horizon`` of each scenario.

    ``first_hour`` gives every forecaster the same history (168: a week, what the weekly
    seasonal-naive and the learned forecaster read). Scenarios must have the same regions and
    gateways (their series are pooled column by column).
    """
    if horizon < 1:
        raise InputError(f"forecast error horizon must be >= 1, got {horizon}")
    if not scenarios:
        raise InputError("forecast errors need at least one scenario")
    columns = column_names(scenarios[0])
    if any(column_names(s) != columns for s in scenarios[1:]):
        raise InputError("forecast errors pool scenarios column by column: give scenarios with the same regions and gateways")
    sums = {key: np.zeros((horizon, len(columns))) for key in _SUMS}
    count = 0
    lead = np.arange(1, horizon + 1)
    for scenario in scenarios:
        hours = scenario.n_hours - horizon - first_hour
        if hours < 1:
            raise InputError(
                f"scenario {scenario.name!r} ({scenario.n_hours} hours) is too short to score {horizon}-hour "
                f"forecasts after {first_hour} hours of history"
            )
        rows = input_rows(scenario, first_hour, scenario.n_hours)
        for begin in range(0, hours, CHUNK_HOURS):
            size = min(CHUNK_HOURS, hours - begin)
            f = forecaster.predict_episode(scenario, first_hour + begin, size, horizon, rng)  # [size, H, S]
            y = rows[begin + np.arange(size)[:, None] + lead[None, :]]
            _accumulate(sums, f, y)
        count += hours
    errors = ForecastErrors(forecaster.name, {}, count, sums, columns)
    for signal in SIGNALS:
        errors.error[signal] = errors.measure(signal, MEASURE[signal])
    return errors


def _accumulate(sums: dict[str, np.ndarray], f: np.ndarray, y: np.ndarray) -> None:
    """Add the sums of one chunk of forecasts f and truths y ([hours, H, S]) into ``sums`` ([H, S] each)."""
    difference = np.abs(f - y)
    positive = y > 0
    scale = (np.abs(y) + np.abs(f)) / 2
    sums["ape"] += np.where(positive, difference / np.where(positive, y, 1.0), 0.0).sum(axis=0)
    sums["positive"] += positive.sum(axis=0)
    sums["sape"] += np.divide(difference, scale, out=np.zeros_like(difference), where=scale > 0).sum(axis=0)
    sums["absolute"] += difference.sum(axis=0)
    sums["magnitude"] += np.abs(y).sum(axis=0)
    sums["count"] += f.shape[0]
