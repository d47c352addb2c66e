"""Forecasts of a scenario's inputs: the protocol every forecaster follows, and the two references.

**What is known.** At hour ``t`` (an index into the scenario) a forecaster may read every input of
hours ``0..t``: the current hour is observed exactly, as the environment's observation shows it.
It predicts the hours ``t+1 .. t+horizon``; lead ``k`` (1-based) is hour ``t + k``. Capacities and the
mask are the operator's own plant and are not forecast.

**The observed past.** A forecaster built with ``past=P`` (:attr:`Forecaster.past`) also reads the P
hours before hour 0 that the scenario carries (:class:`eglb.envs.past.ObservedPast`), as hours
``-P .. -1``: :func:`input_rows` and :func:`input_timestamps` serve negative hours from it, and
:func:`earliest_hour` is where a reader's history begins. With ``past=0`` (every forecaster's default)
nothing before hour 0 is read, whatever the scenario carries.

**Layout.** Forecasts travel as float arrays ``[horizon, 3N + J]``, hour-major, with the columns in
the order of the environment's observation: price (N, USD/MWh), carbon intensity (N, t/MWh), water
intensity (N, m^3/MWh), workload (J, MW). :class:`Forecast` names the four blocks ([N, horizon] and
[J, horizon]) for readers.

**The references** read the truth, so they are oracles (``clairvoyant = True``), an upper reference
for what forecasts can buy:

* :class:`PerfectForecaster`: the true inputs. Hours past the scenario's end repeat its last hour.
* :class:`NoisyTruthForecaster`: the truth times ``1 + noise * sqrt(k) * N(0, 1)`` at lead k, every
  number drawn independently (so the error grows like a random walk with the lead time). It is the
  environment's historical noise model, and with a generator in the same state it draws exactly the
  numbers the environment drew before forecasters existed: the environment's forecast observation
  is unchanged. Its values are not clipped (a noisy intensity may be negative); controllers that
  need physical inputs clip them.

Forecasters that learn or extrapolate from the past (persistence, seasonal-naive, learned) live in
the ``forecasts`` package above this one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.limits import MAX_WINDOW_HOURS
from eglb.envs.scenario import Scenario

#: The signal blocks of a forecast row, in column order (the first three have N columns, workload J).
SIGNALS = ("price", "carbon", "water", "workload")


def n_signals(scenario: Scenario) -> int:
    """Columns of a forecast row: 3N + J."""
    return 3 * scenario.n_regions + scenario.n_gateways


def signal_columns(scenario: Scenario) -> dict[str, slice]:
    """The column slice of each signal in a forecast row."""
    n, j = scenario.n_regions, scenario.n_gateways
    return {"price": slice(0, n), "carbon": slice(n, 2 * n), "water": slice(2 * n, 3 * n), "workload": slice(3 * n, 3 * n + j)}


def earliest_hour(scenario: Scenario, past: int, reader: str) -> int:
    """``-past``: the first hour a reader given ``past`` hours of observed past may read (0: hour 0).

    Raises InputError naming ``reader`` (e.g. "forecaster 'seasonal-day'") when the scenario carries fewer."""
    if past > scenario.past_hours:
        raise InputError(
            f"{reader} reads past={past} observed hours before the episode, but scenario {scenario.name!r} carries "
            f"{scenario.past_hours} (the history benchmark's and tasks' windows carry a past; other scenarios none)"
        )
    return -int(past)


def check_past(past, owner: str) -> int:
    """``past`` as hours of observed past a reader may read: an integer 0 .. MAX_WINDOW_HOURS, else InputError."""
    if isinstance(past, bool) or not isinstance(past, (int, np.integer)) or not 0 <= past <= MAX_WINDOW_HOURS:
        raise InputError(f"{owner}: past must be an integer number of hours in 0..{MAX_WINDOW_HOURS}, got {past!r}")
    return int(past)


def input_rows(scenario: Scenario, start: int, stop: int) -> np.ndarray:
    """The true inputs of hours ``start <= h < stop`` as rows: float [stop - start, 3N + J].

    Negative hours are the scenario's observed past (hour -1 is the hour before hour 0); asking for more
    past than it carries raises InputError."""
    if start >= 0:
        return _rows(scenario, slice(start, stop))
    past = scenario.past
    earliest_hour(scenario, -start, f"hours {start}:{stop}")
    rows = _rows(past, slice(past.hours + start, past.hours + min(stop, 0)))
    return rows if stop <= 0 else np.concatenate([rows, _rows(scenario, slice(0, stop))])


def _rows(source, window: slice) -> np.ndarray:
    """The four signals of ``source`` (a scenario or its past) over ``window`` as rows [hours, 3N + J]."""
    return np.concatenate(
        [source.price[:, window], source.carbon[:, window], source.water[:, window], source.workload[:, window]]
    ).T


def input_timestamps(scenario: Scenario, start: int, stop: int) -> np.ndarray:
    """[stop - start] datetime64[s] timestamps of hours ``start <= h < stop`` (negative: the observed past, as
    :func:`input_rows`)."""
    if start >= 0:
        return scenario.timestamps[start:stop]
    earliest_hour(scenario, -start, f"hours {start}:{stop}")
    past = scenario.past.timestamps[scenario.past.hours + start : scenario.past.hours + min(stop, 0)]
    return past if stop <= 0 else np.concatenate([past, scenario.timestamps[:stop]])


def past_text(hours: int) -> str:
    """What a table's information column adds for ``hours`` of observed past: ", 336 h past" ("" for none)."""
    return f", {hours} h past" if hours else ""


@dataclass(frozen=True)
class Forecast:
    """A forecast of hours t+1 .. t+H, by signal.

    Attributes:
        price: [N, H] USD/MWh. carbon: [N, H] t/MWh. water: [N, H] m^3/MWh. workload: [J, H] MW.
    """

    price: np.ndarray
    carbon: np.ndarray
    water: np.ndarray
    workload: np.ndarray

    @classmethod
    def from_rows(cls, rows: np.ndarray, scenario: Scenario) -> Forecast:
        """Split rows [H, 3N + J] into the four signals."""
        columns = signal_columns(scenario)
        return cls(**{name: np.ascontiguousarray(rows[:, columns[name]].T) for name in SIGNALS})


def require_finite_forecast(values: np.ndarray, forecaster: Forecaster, scenario: Scenario, made_at: int) -> np.ndarray:
    """``values`` (rows [horizon, 3N + J], or [hours, horizon, 3N + J] made at hours made_at, made_at + 1, ...)
    if every entry is finite; else an InputError that blames the forecaster (a damaged model), not the
    scenario's inputs, which the scenario checked when it was built."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    index = np.unravel_index(int(np.argmax(bad)), values.shape)
    column, lead, hour = int(index[-1]), int(index[-2]) + 1, made_at + (int(index[0]) if values.ndim == 3 else 0)
    signal = next(name for name, columns in signal_columns(scenario).items() if columns.start <= column < columns.stop)
    names = scenario.gateways if signal == "workload" else scenario.regions
    member = names[column - signal_columns(scenario)[signal].start]
    raise InputError(
        f"forecaster {forecaster.name!r} predicted {values[index]} for the {signal} of {member!r} at lead {lead} "
        f"(forecast made at hour {hour}): a damaged forecaster model, not a bad input"
    )


def check_request(scenario: Scenario, t: int, horizon: int) -> None:
    """Raise InputError unless ``t`` is an hour of ``scenario`` and ``horizon`` an integer >= 0."""
    if int(t) != t or not 0 <= t < scenario.n_hours:
        raise InputError(f"forecast hour t={t} is not an hour of {scenario.name!r} (0..{scenario.n_hours - 1})")
    if int(horizon) != horizon or horizon < 0:
        raise InputError(f"forecast horizon must be an integer >= 0, got {horizon}")


class Forecaster(ABC):
    """Predicts a scenario's inputs of hours t+1 .. t+horizon from what is known at hour t.

    Subclasses implement :meth:`predict`; :meth:`predict_episode` (every hour of an episode at once,
    what the environment asks for at reset) loops over it unless a subclass vectorizes it. Both take
    a random generator: deterministic forecasters ignore it, random ones draw from it in a fixed order.

    Attributes:
        name: the label in tables.
        clairvoyant: True for references that read the hours they predict (never a real forecast).
        past: hours of the scenario's observed past it reads (0: none; set by forecasters that read
            history, from their spec's ``past=P``).
    """

    name: str = "forecaster"
    clairvoyant: bool = False
    past: int = 0

    @abstractmethod
    def predict(self, scenario: Scenario, t: int, horizon: int, rng: np.random.Generator | None) -> np.ndarray:
        """Rows [horizon, 3N + J] for hours t+1 .. t+horizon (see the module docstring)."""

    def predict_episode(
        self, scenario: Scenario, start: int, hours: int, horizon: int, rng: np.random.Generator | None
    ) -> np.ndarray:
        """Forecasts made at every hour ``start .. start + hours - 1``: float [hours, horizon, 3N + J]."""
        out = np.empty((hours, horizon, n_signals(scenario)))
        for k in range(hours):
            out[k] = self.predict(scenario, start + k, horizon, rng)
        return out

    @property
    def information(self) -> str:
        """What the forecast knows, for tables: "seasonal-day forecasts", "oracle: perfect forecasts",
        "seasonal-day forecasts, 336 h past"."""
        text = f"{self.name} forecasts{past_text(self.past)}"
        return f"oracle: {text}" if self.clairvoyant else text

    def forecast(self, scenario: Scenario, t: int, horizon: int, rng: np.random.Generator | None = None) -> Forecast:
        """The forecast made at hour t, by signal."""
        check_request(scenario, t, horizon)
        return Forecast.from_rows(self.predict(scenario, t, horizon, rng), scenario)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class PerfectForecaster(Forecaster):
    """The true inputs (an oracle); hours past the scenario's end repeat its last hour."""

    name = "perfect"
    clairvoyant = True

    def predict(self, scenario, t, horizon, rng=None):
        return self.predict_episode(scenario, t, 1, horizon, rng)[0]

    def predict_episode(self, scenario, start, hours, horizon, rng=None):
        # Only the hours the episode can look at: [start, start + hours + horizon), cut at the end.
        stop = min(scenario.n_hours, start + hours + horizon)
        rows = input_rows(scenario, start, stop)
        lead = np.arange(1, horizon + 1)
        hours_ahead = np.minimum(np.arange(hours)[:, None] + lead[None, :], stop - start - 1)
        return rows[hours_ahead]  # [hours, horizon, 3N + J]


class NoisyTruthForecaster(PerfectForecaster):
    """The truth with multiplicative noise of standard deviation ``noise * sqrt(lead)`` (an oracle).

    Args:
        noise: the standard deviation one hour ahead (>= 0; 0 is the perfect forecast and draws
            nothing from the generator).
    """

    def __init__(self, noise: float = 0.1):
        if not np.isfinite(noise) or noise < 0:
            raise InputError(f"forecast noise must be a finite number >= 0, got {noise}")
        self.noise = float(noise)
        self.name = f"noisy({self.noise:g})" if self.noise > 0 else "perfect"

    def predict_episode(self, scenario, start, hours, horizon, rng=None):
        values = super().predict_episode(scenario, start, hours, horizon)
        if self.noise > 0:
            if rng is None:
                raise InputError("a noisy forecast needs a random generator (rng=np.random.default_rng(seed))")
            lead = np.arange(1, horizon + 1)
            values = values * (1.0 + rng.standard_normal(values.shape) * (self.noise * np.sqrt(lead))[None, :, None])
        return values
