"""Forecast-driven control: receding-horizon control (RHC) and averaging fixed-horizon control (AFHC).

Lin, Liu, Wierman and Andrew, "Online algorithms for geographical load balancing" (IGCC 2012), in
the eGLB setting. Both plan windows of ``w`` hours with :class:`eglb.agents.horizon.WindowPlanner` (one
small eGLB-Off LP per plan, hour t's true inputs plus the forecaster's for the rest, a tail rule for
the hours after the window) and route the hour they play on the true inputs
(:func:`eglb.agents.horizon.route_energy`), so every action is feasible.

* **RHC** (``rhc``): at every hour t, plan [t, min(t + w, T)) from the footprint actually reached so
  far (``view.state``) and play the plan's first hour. With perfect forecasts and w >= T it plays an
  optimal continuation every hour and attains eGLB-Off's objective.
* **AFHC** (``afhc``): w fixed-horizon controllers FHC(k), k = 0 .. w-1, with staggered starts:
  FHC(k) plans at hours t with t = k (mod w) the window [t, t + w) (and, at hour 0, the shorter
  window [0, k) for k > 0) and plays its plan until its next re-plan. Each FHC keeps its own
  cumulative footprint (of its own actions, routed on the true inputs) and plans from it. AFHC plays
  the average of the w routings. One FHC re-plans per hour, so one LP per hour (w at hour 0).
  Since J is convex in the trajectory, J(AFHC) <= the mean of the FHCs' J (Jensen), which is what
  makes AFHC robust to one badly timed re-plan.

The defaults (seasonal-naive forecasts of the same hour yesterday, seasonal tail) are the most robust
combination of ``benchmarks/bench_forecast_control.py``: without any trained model they beat eGLB
at every window on the published set and on held-out synthetic traces; with good forecasts and
w >= 24 the prorate tail is slightly better.

**Specs** (:func:`parse_controller_spec`, :func:`build_controller`)::

    rhc:w=24,forecaster=noisy,noise=0.1,tail=prorate          or  rhc(w=24, forecaster=noisy, ...)
    afhc:w=6,forecaster=persistence
    rhc:w=24,forecaster=learned,model=runs/forecaster,tail=seasonal,tail_days=7,seed=3
    rhc:w=24,forecaster=market,base=seasonal         published prices exactly, the rest seasonal-naive
    rhc:w=48,forecaster=market,base=seasonal,past=336   the same, also reading the 336 observed hours before the episode

========================  =======================================================================
key                       value
========================  =======================================================================
``w``                     window length in hours, 1..8784 (default 24)
``forecaster``            perfect | noisy | persistence | seasonal | learned | market (default seasonal)
``base``                  market: the forecaster of what is not published (default seasonal)
``noise``                 noisy: standard deviation one hour ahead (default 0.1)
``period``                seasonal: the season in hours (default 24; 168 for last week)
``model``                 learned: the folder written by ``python -m eglb.forecasts.train``
``tail``                  none | prorate | seasonal | learned: the hours after the window (default seasonal)
``tail_days``             seasonal tail: days of history averaged, 1..366 (default 7)
``tail_model``            learned tail: a folder written by ``python -m eglb.forecasts.train_tail``
``past``                  hours of the scenario's observed past (eglb.envs.past) read by the forecaster (if
                          it reads history: seasonal, learned, a market on one of them) and by the seasonal
                          and learned tails, 0..8784 (default 0: none); more than the scenario carries is an error
``seed``                  seed of the forecaster's random draws (noisy), 0..2**32-1 (default 0)
``name``                  the label in tables (default: the spec)
========================  =======================================================================
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.agents.horizon import TAIL_RULES, WindowPlanner, route_energy
from eglb.agents.knob_horizon import FixedHorizons, KnobWindow, rhc_decision
from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster, earliest_hour, past_text
from eglb.envs.scenario import Scenario
from eglb.envs.validation import MAX_SEED, parse_number, parse_settings
from eglb.forecasts.spec import PARAMETERS, build_forecaster, reads_past

CONTROLLERS = ("rhc", "afhc")
DEFAULT_WINDOW = 24
#: Longest window (and tail history) a spec may ask for: a year of hours.
MAX_WINDOW = 8784
DEFAULT_FORECASTER = "seasonal"
DEFAULT_TAIL = "seasonal"
#: The tail rules that read the observed past (``past=P``).
PAST_TAILS = ("seasonal", "learned")


class _ForecastControl(Policy):
    """What RHC and AFHC share: the window length, the planner and the random generator."""

    kind = "controller"

    def __init__(
        self,
        window: int,
        forecaster: Forecaster,
        tail: str = DEFAULT_TAIL,
        tail_days: int = 7,
        seed: int = 0,
        name: str | None = None,
        tail_model=None,
        past: int = 0,
    ):
        super().__init__()
        if int(window) != window or window < 1:
            raise InputError(f"{self.kind}: window w must be a positive integer, got {window}")
        self.window = int(window)
        self.planner = WindowPlanner(forecaster, tail, tail_days, tail_model=tail_model, past=past)
        self.seed = int(seed)
        self.name = name or f"{self.kind}(w={self.window},{forecaster.name},tail={tail})"

    @property
    def forecaster(self) -> Forecaster:
        return self.planner.forecaster

    @property
    def information(self) -> str:
        """The forecaster's information over the window, e.g. "published prices + seasonal-day forecasts, 24 h window"
        ("..., 336 h past, 24 h window" when the forecaster or the tail reads the observed past)."""
        tail_past = "" if self.forecaster.past else past_text(self.planner.past)
        return f"{self.forecaster.information}{tail_past}, {self.window} h window"

    @property
    def clairvoyant(self) -> bool:
        """True when the forecaster reads the hours it predicts (perfect, noisy truth): an oracle
        reference, not an online algorithm."""
        return self.forecaster.clairvoyant

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        # Too little observed past is the spec's mistake: say so before the first plan.
        earliest_hour(scenario, max(self.forecaster.past, self.planner.past), f"{self.name!r}")
        self.rng = np.random.default_rng(self.seed)
        self.planner.solves, self.planner.solve_seconds = 0, 0.0
        # Deferrable jobs and model choice enter the window LP (agents/knob_horizon.py).
        self.knob_window = KnobWindow(self.planner, scenario) if scenario.flexible else None

    def _plan_info(self) -> None:
        self.info = {"solves": self.planner.solves, "solve_seconds": self.planner.solve_seconds}


class RHC(_ForecastControl):
    """Receding-horizon control (see the module docstring).

    Args:
        window: w, the hours planned at every hour (the current one included).
        forecaster: predicts hours t+1 .. t+w-1 at hour t.
        tail: the rule for the hours after the window (:data:`eglb.agents.horizon.TAIL_RULES`).
        tail_days: days of history averaged by the "seasonal" tail.
        seed: seed of the forecaster's random draws (a new generator per episode).
        name: the label in tables.
        tail_model: the learned tail (:class:`eglb.forecasts.tail.ProfileTail`) of ``tail="learned"``.
        past: hours of the scenario's observed past the seasonal and learned tails read (the forecaster
            reads its own ``past``).

    ``info`` after each hour: ``solves`` (LPs so far this episode) and ``solve_seconds`` (their time).
    """

    kind = "rhc"

    def act(self, view: HourView) -> np.ndarray:
        if self.knob_window is not None:
            decision = rhc_decision(self, view)
            self._plan_info()
            return decision
        t = view.t
        stop = min(self.scenario.n_hours, t + self.window)
        plan = self.planner.plan(self.scenario, t, stop, view.state.footprint, self.rng)
        self._plan_info()
        return route_energy(self.router, t, plan[:, 0])


class AFHC(_ForecastControl):
    """Averaging fixed-horizon control (see the module docstring); arguments as :class:`RHC`.

    After an episode, ``fhc_objectives()`` gives each fixed-horizon controller's own J [w].
    """

    kind = "afhc"

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        w, n = self.window, scenario.n_regions
        self.footprints = np.zeros((w, 2, n))  # each FHC's own cumulative footprint
        self.costs = np.zeros(w)
        self.plans: list[np.ndarray | None] = [None] * w
        self.plan_starts = [0] * w
        self.horizons = None  # with knobs: the controllers' own states (agents/knob_horizon.py)

    def act(self, view: HourView) -> np.ndarray:
        if self.knob_window is not None:
            if view.t == 0 or self.horizons is None:
                self.horizons = FixedHorizons(self, view.knobs)
            decision = self.horizons.decision(view.t)
            self._plan_info()
            return decision
        scenario, t, w = self.scenario, view.t, self.window
        intensity, price = scenario.intensity[:, :, t], scenario.price[:, t]
        total = np.zeros(scenario.mask.shape)
        for k in range(w):
            if (t - k) % w == 0 or self.plans[k] is None:
                # FHC(k) re-plans at t = k (mod w); at its first hour it plans up to its first re-plan.
                stop = t + w if (t - k) % w == 0 else t + (k - t) % w
                self.plans[k] = self.planner.plan(scenario, t, min(stop, scenario.n_hours), self.footprints[k], self.rng)
                self.plan_starts[k] = t
            routing = route_energy(self.router, t, self.plans[k][:, t - self.plan_starts[k]])
            energy = routing.sum(axis=1)
            self.footprints[k] += intensity * energy
            self.costs[k] += float(price @ energy)
            total += routing
        self._plan_info()
        return total / w

    def fhc_objectives(self) -> np.ndarray:
        """[w] J of each fixed-horizon controller's own trajectory so far (USD)."""
        weights = self.scenario.footprint_weights
        return self.costs + (self.footprints.max(axis=2) * weights).sum(axis=1)


# ------------------------------------------------------------------------------------------ specs
OWN_KEYS = ("w", "tail", "tail_days", "tail_model", "seed", "name", "past")
KEYS = ("forecaster", *OWN_KEYS) + tuple(sorted({p for ps in PARAMETERS.values() for p in ps} - set(OWN_KEYS)))


def parse_controller_spec(text: str) -> tuple[str, dict[str, str]]:
    """``rhc:w=24,forecaster=noisy`` or ``rhc(w=24, forecaster=noisy)`` (or just ``afhc``) to (kind, params)."""
    text = text.strip()
    if text.endswith(")") and "(" in text:
        kind, _, body = text[:-1].partition("(")
    else:
        kind, _, body = text.partition(":")
    kind = kind.strip()
    if kind not in CONTROLLERS:
        raise InputError(f"unknown controller {kind!r} in {text!r}; expected one of {', '.join(CONTROLLERS)}")
    return kind, parse_settings(body, text)


def build_controller(kind: str, params: Mapping[str, str]) -> Policy:
    """The RHC or AFHC controller ``kind`` with ``params`` (strings; keys in the module docstring)."""
    if kind not in CONTROLLERS:
        raise InputError(f"unknown controller {kind!r}; expected one of {', '.join(CONTROLLERS)}")
    params = dict(params)
    unknown = sorted(set(params) - set(KEYS))
    if unknown:
        raise InputError(f"{kind}: unknown parameter {', '.join(unknown)} (expected among {', '.join(KEYS)})")
    forecaster_name = params.pop("forecaster", DEFAULT_FORECASTER)
    forecaster_params = {key: params.pop(key) for key in list(params) if key not in OWN_KEYS}
    tail = params.get("tail", DEFAULT_TAIL)
    if tail not in TAIL_RULES:
        raise InputError(f"{kind}: tail={tail!r}; expected one of {', '.join(TAIL_RULES)}")
    numbers = {
        key: parse_number(params.get(key, default), f"{kind}: {key}", int, 0 if key in ("seed", "past") else 1, high)
        for key, default, high in (
            ("w", DEFAULT_WINDOW, MAX_WINDOW),
            ("tail_days", 7, MAX_WINDOW // 24),
            ("seed", 0, MAX_SEED),
            ("past", 0, MAX_WINDOW),
        )
    }
    past = numbers["past"]
    if past and reads_past(forecaster_name, forecaster_params):
        forecaster_params["past"] = str(past)
    elif past and tail not in PAST_TAILS:
        raise InputError(
            f"{kind}: past={past} is read by neither forecaster {forecaster_name!r} nor tail {tail!r} "
            f"(forecasters seasonal, learned and market on one of them read it; tails {', '.join(PAST_TAILS)})"
        )
    forecaster = build_forecaster(forecaster_name, forecaster_params)
    if (tail == "learned") != ("tail_model" in params):
        raise InputError(f"{kind}: tail=learned needs tail_model=FOLDER (a learned tail), and only it takes one")
    tail_model = None
    if tail == "learned":
        from eglb.forecasts.tail import load_tail  # torch only when asked for

        tail_model = load_tail(params["tail_model"])
    policy = RHC if kind == "rhc" else AFHC
    tail_past = past if tail in PAST_TAILS else 0
    return policy(
        numbers["w"], forecaster, tail, numbers["tail_days"], numbers["seed"], params.get("name"), tail_model, tail_past
    )


def controller_from_spec(text: str) -> Policy:
    """The controller of a spec string (see :func:`parse_controller_spec`); named after the spec."""
    kind, params = parse_controller_spec(text)
    params.setdefault("name", text.strip())
    return build_controller(kind, params)
