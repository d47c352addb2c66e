"""Planning a window of hours with forecast inputs: the step shared by RHC and AFHC.

At hour t a forecast-driven controller plans the window [t, stop) from the cumulative footprint
E_t it has reached, by solving eGLB-Off (:class:`eglb.agents.offline.EGLBOffline`, one small LP) on a
window scenario built with :meth:`Scenario.with_changes`:

* hour t has its true inputs (the present is observed), hours t+1 .. stop-1 the forecaster's
  (:mod:`eglb.envs.forecast`: made at hour t, reading hours <= t only); capacity and mask are the
  operator's own and known. Forecast intensities and workloads are clipped at 0, and a forecast hour
  whose workload could not be served is scaled down to the largest servable multiple
  (:func:`eglb.envs.flow.servable_scale`), so every window is a valid scenario.

**The hours beyond the window.** J charges the worst region's footprint over the *whole* episode,
so a window that ends before the episode must say something about the R - w hours after it (R = T - t
hours remain, w = stop - t are planned). Three rules (``tail``):

* ``none``: ignore them; the window is solved as if the episode ended with it (myopic).
* ``prorate``: assume the remaining hours repeat the window's plan R / w times. Minimising
  (R/w) cost(x) + mu max(E_t + (R/w) F x) is the same as minimising cost(x) + mu max((w/R) E_t + F x):
  the window LP from the footprint E_t prorated by w / R, the window's share of the remaining hours.
  The equity penalty thus weighs the window's footprint against the share of the past footprint it
  will be compared with, not against all of it.
* ``seasonal``: append the remaining hours to the LP in aggregated form: one slot per hour of day,
  whose prices and intensities are the mean of that hour of day over the last ``tail_days`` days of
  observed history (hours <= t), whose workload is that mean times the number of remaining hours
  after the window at that hour of day, and whose capacity is their summed capacity. Because costs and
  footprints are linear in energy, a slot that stands for m identical hours is exact for them; the LP
  grows by at most 24 columns per region.
* ``learned``: the same aggregated slots, with the hour-of-day means a learned tail predicts
  (:class:`eglb.forecasts.tail.ProfileTail`: the observed level with the daily cycle learned on
  training years) instead of the observed hour-of-day means alone.

When the window reaches the episode's end (stop = T) all three rules are the same exact problem.

**The observed past.** With ``past=P`` the seasonal and learned tails also read the P observed hours
before hour 0 that the scenario carries (:mod:`eglb.envs.past`), so early in an episode their
hour-of-day means come from whole days instead of the few hours seen so far. The forecaster reads the
past if it was built with its own ``past`` (a controller spec sets both: agents/rhc.py).

**Acting on the true hour.** A plan's hours are feasible for the inputs it was solved with; the
hour actually played is routed on the true workload by :func:`route_energy`: the planned region
energies, rescaled to the true total load, are the targets of an exact routing of the true hour
(full mask: split in proportion, overloads repaired; with a mask: the max-flow routing that meets the
targets as far as the mask allows, the rest placed where capacity remains). For RHC's first hour,
whose inputs are true, the plan is played unchanged.
"""

from __future__ import annotations

import time

import numpy as np
from eglb.agents.offline import EGLBOffline
from eglb.envs.errors import InputError
from eglb.envs.flow import servable_scale
from eglb.envs.forecast import (
    Forecaster,
    check_past,
    earliest_hour,
    input_rows,
    input_timestamps,
    require_finite_forecast,
    signal_columns,
)
from eglb.envs.routing import Router, split_energy
from eglb.envs.scenario import Scenario

TAIL_RULES = ("none", "prorate", "seasonal", "learned")


def hour_of_day(timestamps: np.ndarray) -> np.ndarray:
    """[T] UTC hour of day (0..23) of datetime64 timestamps."""
    return (timestamps.astype("datetime64[h]").astype(np.int64) % 24).astype(int)


class WindowPlanner:
    """Plans windows of a scenario with a forecaster and a tail rule (see the module docstring).

    Args:
        forecaster: predicts the window's hours after the first.
        tail: how the hours after the window enter the plan: "none", "prorate", "seasonal" or "learned".
        tail_days: days of history averaged by the "seasonal" tail (and for the workload of the "learned" one).
        solver: the eGLB-Off solver of the window problems.
        tail_model: the learned tail (:class:`eglb.forecasts.tail.ProfileTail`) of the "learned" rule.
        past: hours of the scenario's observed past the "seasonal" and "learned" tails read (0: none).
    """

    def __init__(
        self,
        forecaster: Forecaster,
        tail: str = "prorate",
        tail_days: int = 7,
        solver: EGLBOffline | None = None,
        tail_model=None,
        past: int = 0,
    ):
        if tail not in TAIL_RULES:
            raise InputError(f"tail rule must be one of {', '.join(TAIL_RULES)}, got {tail!r}")
        if int(tail_days) != tail_days or tail_days < 1:
            raise InputError(f"tail_days must be a positive integer, got {tail_days}")
        if not isinstance(forecaster, Forecaster):
            raise InputError(f"forecaster must be an eglb.envs.forecast.Forecaster, got {type(forecaster).__name__}")
        if (tail == "learned") != (tail_model is not None):
            raise InputError("the learned tail rule needs a tail model (tail_model=FOLDER), and only it takes one")
        self.forecaster = forecaster
        self.tail = tail
        self.tail_model = tail_model
        self._columns_of: tuple = (None, None)  # (scenario, its learned-tail columns), matched once per scenario
        self.tail_days = int(tail_days)
        self.past = check_past(past, "window planner")
        self.solver = solver if solver is not None else EGLBOffline()
        self.solves = 0
        self.solve_seconds = 0.0

    def plan(self, scenario: Scenario, t: int, stop: int, footprint: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Planned region energies [N, stop - t] (MW) of hours t .. stop-1 from cumulative ``footprint`` [2, N]."""
        if not 0 <= t < stop <= scenario.n_hours:
            raise InputError(f"window {t}:{stop} is not inside the scenario's 0:{scenario.n_hours} hours")
        remaining, width = scenario.n_hours - t, stop - t
        initial = np.asarray(footprint, dtype=float)
        tail = stop < scenario.n_hours and self.tail in ("seasonal", "learned")
        window = self.window_scenario(scenario, t, stop, rng, tail)
        if stop < scenario.n_hours and self.tail == "prorate":
            initial = initial * (width / remaining)
        begin = time.perf_counter()
        solution = self.solver.solve(window, initial_footprint=initial)
        self.solve_seconds += time.perf_counter() - begin
        self.solves += 1
        return solution.energy[:, :width]

    def window_scenario(self, scenario: Scenario, t: int, stop: int, rng: np.random.Generator, tail: bool = False) -> Scenario:
        """The window [t, stop): hour t true, the rest forecast at hour t (plus the seasonal tail slots)."""
        rows = input_rows(scenario, t, t + 1)
        if stop - t > 1:
            predicted = self.forecaster.predict(scenario, t, stop - t - 1, rng)
            rows = np.concatenate([rows, require_finite_forecast(predicted, self.forecaster, scenario, t)])
        capacity = scenario.capacity[:, t:stop]
        timestamps = scenario.timestamps[t:stop]
        if tail:
            tail_rows, tail_capacity = self._seasonal_tail(scenario, t, stop)
            rows = np.concatenate([rows, tail_rows])
            capacity = np.concatenate([capacity, tail_capacity], axis=1)
            # The tail slots are labelled as the hours right after the window (labels only).
            timestamps = np.concatenate([timestamps, timestamps[-1] + np.arange(1, len(tail_rows) + 1) * np.timedelta64(1, "h")])
        columns = signal_columns(scenario)
        signals = {name: rows[:, columns[name]].T for name in columns}
        for name in ("carbon", "water", "workload"):
            signals[name] = np.maximum(signals[name], 0.0)
        workload = signals["workload"]
        workload[:, 1:] *= servable_scale(workload[:, 1:], capacity[:, 1:], scenario.mask)[None, :]
        return scenario.with_changes(
            timestamps=timestamps, capacity=capacity, name=f"{scenario.name} window {t}:{stop}", past=None, **signals
        )

    def _tail_columns(self, scenario: Scenario) -> np.ndarray:
        """The learned tail's column of each of the scenario's series (matched by name once per scenario)."""
        if self._columns_of[0] is not scenario:
            self._columns_of = (scenario, self.tail_model.columns(scenario))
        return self._columns_of[1]

    def _seasonal_tail(self, scenario: Scenario, t: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Aggregated slots of hours stop .. T-1, one per hour of day present: rows [K, 3N+J], capacity [N, K]."""
        first = max(earliest_hour(scenario, self.past, f"the {self.tail} tail"), t + 1 - 24 * self.tail_days)
        history = input_rows(scenario, first, t + 1)  # [L, S], observed hours only (and the past given)
        seen = hour_of_day(input_timestamps(scenario, first, t + 1))
        counts_seen = np.bincount(seen, minlength=24)
        sums = np.zeros((24, history.shape[1]))
        np.add.at(sums, seen, history)
        # An hour of day not yet observed takes the mean of everything observed.
        profile = np.where(counts_seen[:, None] > 0, sums / np.maximum(counts_seen, 1)[:, None], history.mean(axis=0))
        if self.tail == "learned":
            profile = self.tail_model.predict(scenario, t, self._tail_columns(scenario), self.past)  # [24, S] by hour of day
        later = hour_of_day(scenario.timestamps[stop:])
        count = np.bincount(later, minlength=24)
        present = np.flatnonzero(count)
        rows = profile[present].copy()
        rows[:, signal_columns(scenario)["workload"]] *= count[present, None]
        capacity = np.zeros((scenario.n_regions, 24))
        np.add.at(capacity.T, later, scenario.capacity[:, stop:].T)
        return rows, capacity[:, present]


def route_energy(router: Router, t: int, energy: np.ndarray) -> np.ndarray:
    """A feasible routing [N, J] of the true hour t whose region energies follow ``energy`` [N] (MW).

    The targets are rescaled to the hour's true total load (spread over capacity if they are all 0),
    then routed exactly: full mask, every gateway split in the targets' proportions and overloads
    repaired (:meth:`Router.repair`); with a mask, the max-flow routing that fills the targets as far
    as the mask allows and places the rest where capacity remains (:meth:`Router.classes_for_energy`).
    """
    scenario = router.scenario
    capacity = scenario.capacity[:, t]
    total = float(scenario.total_workload[t])
    target = np.maximum(np.nan_to_num(np.asarray(energy, dtype=float)), 0.0)
    planned = float(target.sum())
    target = target * (total / planned) if planned > 0 else capacity * (total / max(float(capacity.sum()), 1e-300))
    if router.full_mask:
        return router.repair(split_energy(target, scenario.workload[:, t]), t)
    return router.from_classes(router.classes_for_energy(np.minimum(target, capacity), t), t)
