"""Forecast errors per signal and lead time, against the truth.

* carbon, water, workload (never negative): **MAPE**, the mean of |forecast - truth| / truth over
  every series and forecast hour whose truth is > 0 (hours with a zero truth are left out).
* price (near zero and negative at times, where a percentage error explodes): **scaled MAE**, the
  mean absolute error divided by the mean absolute price, sum |forecast - truth| / sum |truth|
  (also known as WAPE). For a signal that never nears zero the two are close.

Both are fractions (0.1 = 10 %). Errors are pooled over scenarios (every forecast counts once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.forecast import SIGNALS, Forecaster, input_rows, signal_columns
from eglb.envs.scenario import Scenario

#: The error measure of each signal (see the module docstring).
MEASURE = {"price": "scaled MAE", "carbon": "MAPE", "water": "MAPE", "workload": "MAPE"}


@dataclass(frozen=True)
class ForecastErrors:
    """Errors of one forecaster.

    Attributes:
        name: the forecaster's name.
        error: per signal, float [horizon]: the error at lead 1 .. horizon (fractions).
        forecasts: how many forecasts (made at one hour) were scored.
    """

    name: str
    error: dict[str, np.ndarray]
    forecasts: int

    def at(self, signal: str, lead: int) -> float:
        """The error of ``signal`` at lead ``lead`` (1-based)."""
        return float(self.error[signal][lead - 1])

    def mean(self, signal: str, leads: int) -> float:
        """The mean error of ``signal`` over leads 1 .. ``leads``."""
        return float(self.error[signal][:leads].mean())


def forecast_errors(
    forecaster: Forecaster,
    scenarios: Sequence[Scenario],
    horizon: int,
    first_hour: int = 168,
    rng: np.random.Generator | None = None,
) -> ForecastErrors:
    """Score the forecasts made at every hour t with ``first_hour <= t <= T - 1 - horizon`` of each scenario.

    ``first_hour`` gives every forecaster the same history (168: a week, what the weekly
    seasonal-naive and the learned forecaster read).
    """
    if horizon < 1:
        raise InputError(f"forecast error horizon must be >= 1, got {horizon}")
    absolute = {s: np.zeros(horizon) for s in SIGNALS}
    weight = {s: np.zeros(horizon) for s in SIGNALS}
    count = 0
    for scenario in scenarios:
        hours = scenario.n_hours - horizon - first_hour
        if hours < 1:
            raise InputError(
                f"scenario {scenario.name!r} ({scenario.n_hours} hours) is too short to score {horizon}-hour "
                f"forecasts after {first_hour} hours of history"
            )
        predicted = forecaster.predict_episode(scenario, first_hour, hours, horizon, rng)  # [hours, H, S]
        rows = input_rows(scenario, first_hour, scenario.n_hours)
        truth = rows[np.arange(hours)[:, None] + np.arange(1, horizon + 1)[None, :]]
        for signal, columns in signal_columns(scenario).items():
            f, y = predicted[:, :, columns], truth[:, :, columns]
            if MEASURE[signal] == "MAPE":
                positive = y > 0
                absolute[signal] += np.where(positive, np.abs(f - y) / np.where(positive, y, 1.0), 0.0).sum(axis=(0, 2))
                weight[signal] += positive.sum(axis=(0, 2))
            else:
                absolute[signal] += np.abs(f - y).sum(axis=(0, 2))
                weight[signal] += np.abs(y).sum(axis=(0, 2))
        count += hours
    error = {s: np.divide(absolute[s], weight[s], out=np.full(horizon, np.nan), where=weight[s] > 0) for s in SIGNALS}
    return ForecastErrors(forecaster.name, error, count)
