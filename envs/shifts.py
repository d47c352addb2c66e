"""Named, parameterized distribution shifts applied to any scenario.

Each shift takes a scenario and returns a new (validated) one; ``severity`` scales its magnitude
(0: no change, 1: the default magnitude, 2: twice that). Windows ``start`` and ``end`` are fractions
of the horizon. Regions are named, several joined by ``+`` (``regions=Texas+Georgia``); the default
regions are chosen by name when the scenario has the published regions, else the history zones that
stand for them (:data:`HISTORY_ZONES`: heat-wave US-TEX-ERCO and US-CAL-CISO, negative-prices DE-LU,
outage US-MIDA-PJM), else by index.

==================  =========================================================================
name                what changes
==================  =========================================================================
heat-wave           water intensity of ``regions`` (default Texas+Georgia+Nevada) rises by
                    ``increase`` (default +60 %) between ``start`` and ``end`` (0.3..0.8), with
                    one-day ramps: hotter days mean more cooling-tower evaporation.
drought             water intensity everywhere rises linearly to +``increase`` (default +50 %)
                    by the end: scarce water makes every litre count more.
price-spike         prices of ``regions`` (default the three cheapest on average) are multiplied
                    by ``factor`` (default 4) between ``start`` and ``end`` (0.4..0.6).
negative-prices     prices of ``regions`` (default Germany+Denmark) drop by ``depth`` USD/MWh
                    (default 400) during ``hours`` of the day (default 10..16 UTC): solar surplus.
carbon-shift        carbon intensity of ``regions`` (default the four cleanest) rises by
                    ``increase`` (default +80 %) from ``start`` (0.25): renewables drop out.
surge               every gateway's load rises by ``increase`` (default +25 %), capped hour by
                    hour at what the capacity can serve (the rest is shed, as in an outage).
phase-shift         the workload's daily cycle moves ``hours`` later (default 8): users in
                    another time zone.
outage              ``regions`` (default Virginia) lose all capacity between ``start`` and
                    ``end`` (0.45..0.55); load that can be served nowhere is shed.
region-swap         the price, carbon and water signals of regions ``a`` and ``b`` (default the
                    cleanest and the dirtiest by mean water intensity) trade places.
noisy-forecast      the inputs do not change, but forecasts seen by policies that use them get
                    multiplicative noise ``noise`` (default 0.2 one hour ahead).
==================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.flow import servable_workload
from eglb.envs.scenario import Scenario


@dataclass(frozen=True)
class ShiftSpec:
    """A shift by name with its parameters (strings as typed, or numbers)."""

    name: str
    params: dict = field(default_factory=dict)

    def label(self) -> str:
        inner = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}:{inner}" if inner else self.name


@dataclass(frozen=True)
class ShiftedScenario:
    """A shifted scenario, the forecast noise the shift imposes on policies (None: unchanged) and the
    load it shed (``unserved``, MWh over the horizon: load that capacity could not serve)."""

    scenario: Scenario
    forecast_noise: float | None = None
    unserved: float = 0.0


def parse_shift(text: str) -> ShiftSpec:
    """``NAME[:param=value,...]`` into a ShiftSpec (names and parameters checked)."""
    name, _, rest = text.strip().partition(":")
    if name not in SHIFTS:
        raise InputError(f"unknown shift {name!r}; expected one of {', '.join(SHIFTS)}")
    params = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise InputError(f"shift {name}: expected param=value, got {part!r}")
        if key not in SHIFTS[name][1] and key != "severity":
            raise InputError(f"shift {name} has no parameter {key!r} (parameters: severity, {', '.join(SHIFTS[name][1])})")
        params[key] = value
    return ShiftSpec(name, params)


def apply_shift(scenario: Scenario, spec: ShiftSpec, seed: int = 0) -> ShiftedScenario:
    """Apply a shift; the result is a validated scenario named after the shift."""
    function, defaults, _ = SHIFTS[spec.name]
    params = dict(defaults)
    params.update(spec.params)
    severity = _number(spec, "severity", spec.params.get("severity", 1.0))
    if severity < 0:
        raise InputError(f"shift {spec.name}: severity must be >= 0, got {severity}")
    params.pop("severity", None)
    result = function(scenario, severity, np.random.default_rng(seed), spec, **params)
    if isinstance(result, ShiftedScenario):
        return result
    return ShiftedScenario(result.with_changes(name=f"{scenario.name} + {spec.label()}"))


def _shed(shifted: Scenario, asked: np.ndarray, name: str) -> ShiftedScenario:
    """A load shift's result: ``asked`` [J, T] MW is what users wanted, ``shifted`` serves what fits
    (:func:`eglb.envs.flow.servable_workload`: the maximum flow of every hour). Every algorithm
    then routes the same served load, so the shed load is the same for all of them (reported as
    ``unserved_mwh``), and none sheds more than capacity forces."""
    return ShiftedScenario(shifted.with_changes(name=name), None, float(asked.sum() - shifted.workload.sum()))


# ----------------------------------------------------------------------------------- helpers
def _number(spec: ShiftSpec, key: str, value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InputError(f"shift {spec.name}: {key} must be a number, got {value!r}") from None
    if not np.isfinite(out):
        raise InputError(f"shift {spec.name}: {key} must be finite, got {value!r}")
    return out


def _regions(scenario: Scenario, spec: ShiftSpec, value) -> np.ndarray:
    names = value if isinstance(value, (list, tuple)) else str(value).split("+")
    index = []
    for name in names:
        if name in scenario.regions:
            index.append(scenario.regions.index(name))
        elif str(name).isdigit() and int(name) < scenario.n_regions:
            index.append(int(name))
        else:
            raise InputError(f"shift {spec.name}: unknown region {name!r} (regions: {', '.join(scenario.regions)})")
    return np.array(sorted(set(index)))


#: The history zones (importers/regions/complete14.csv) that stand for published regions in the
#: default choices of the shifts (Georgia and Denmark have no zone of their own there).
HISTORY_ZONES = {
    "Texas": "US-TEX-ERCO",
    "Virginia": "US-MIDA-PJM",
    "Nevada": "US-CAL-CISO",
    "Germany": "DE-LU",
    "Japan": "JP-TK",
    "Singapore": "SG",
}


def _default_regions(scenario: Scenario, preferred: tuple[str, ...], fallback: np.ndarray) -> list:
    """The preferred published regions; on history zones the ones standing for them; else ``fallback`` indices."""
    if all(name in scenario.regions for name in preferred):
        return list(preferred)
    zones = [HISTORY_ZONES[name] for name in preferred if HISTORY_ZONES.get(name) in scenario.regions]
    return zones if zones else [str(i) for i in fallback]


def _window(scenario: Scenario, spec: ShiftSpec, start, end, ramp_hours: int = 0) -> np.ndarray:
    """[T] weight in [0, 1]: 1 inside [start, end) (fractions of the horizon), ramps of ramp_hours."""
    first, last = _number(spec, "start", start), _number(spec, "end", end)
    if not 0 <= first < last <= 1:
        raise InputError(f"shift {spec.name}: need 0 <= start < end <= 1, got start={first}, end={last}")
    t = np.arange(scenario.n_hours) + 0.5
    a, b = first * scenario.n_hours, last * scenario.n_hours
    if ramp_hours <= 0:
        return ((t >= a) & (t < b)).astype(float)
    return np.clip(np.minimum(t - a, b - t) / ramp_hours + 0.5, 0.0, 1.0)


def _scaled(values: np.ndarray, rows: np.ndarray, factor: np.ndarray) -> np.ndarray:
    out = np.array(values, copy=True)
    out[rows] = out[rows] * factor
    return out


# ----------------------------------------------------------------------------------- the shifts
def heat_wave(s, severity, rng, spec, regions, increase, start, end):
    rows = _regions(
        s, spec, regions if regions else _default_regions(s, ("Texas", "Georgia", "Nevada"), np.arange(min(3, s.n_regions)))
    )
    weight = _window(s, spec, start, end, ramp_hours=24)
    return s.with_changes(water=_scaled(s.water, rows, 1 + severity * _number(spec, "increase", increase) * weight))


def drought(s, severity, rng, spec, increase):
    ramp = np.linspace(0, 1, s.n_hours)
    return s.with_changes(water=s.water * (1 + severity * _number(spec, "increase", increase) * ramp))


def price_spike(s, severity, rng, spec, regions, factor, start, end):
    cheapest = np.argsort(s.price.mean(axis=1))[: min(3, s.n_regions)]
    rows = _regions(s, spec, regions if regions else [str(i) for i in cheapest])
    weight = _window(s, spec, start, end)
    multiplier = 1 + severity * (_number(spec, "factor", factor) - 1) * weight
    return s.with_changes(price=_scaled(s.price, rows, multiplier))


def negative_prices(s, severity, rng, spec, regions, depth, hours):
    rows = _regions(s, spec, regions if regions else _default_regions(s, ("Germany", "Denmark"), np.arange(min(2, s.n_regions))))
    first, _, last = str(hours).partition("-")
    try:
        window = (int(first), int(last))
    except ValueError:
        raise InputError(f"shift {spec.name}: hours must look like 10-16, got {hours!r}") from None
    hour = s.timestamps.astype("datetime64[h]").astype(np.int64) % 24
    during = ((hour >= window[0]) & (hour < window[1])).astype(float)
    price = np.array(s.price, copy=True)
    price[rows] -= severity * _number(spec, "depth", depth) * during
    return s.with_changes(price=price)


def carbon_shift(s, severity, rng, spec, regions, increase, start):
    cleanest = np.argsort(s.carbon.mean(axis=1))[: min(4, s.n_regions)]
    rows = _regions(s, spec, regions if regions else [str(i) for i in cleanest])
    weight = _window(s, spec, start, 1.0, ramp_hours=24)
    return s.with_changes(carbon=_scaled(s.carbon, rows, 1 + severity * _number(spec, "increase", increase) * weight))


def surge(s, severity, rng, spec, increase):
    target = s.workload * (1 + severity * _number(spec, "increase", increase))
    served = s.with_changes(workload=servable_workload(target, s.capacity, s.mask))
    return _shed(served, target, f"{s.name} + {spec.label()}")


def phase_shift(s, severity, rng, spec, hours):
    lag = int(round(severity * _number(spec, "hours", hours)))
    return s.with_changes(workload=np.roll(s.workload, lag, axis=1))


def outage(s, severity, rng, spec, regions, start, end):
    rows = _regions(s, spec, regions if regions else _default_regions(s, ("Virginia",), np.arange(1)))
    # Severity stretches the outage around the middle of its window.
    first, last = _number(spec, "start", start), _number(spec, "end", end)
    if not 0 <= first < last <= 1:
        raise InputError(f"shift {spec.name}: need 0 <= start < end <= 1, got start={first}, end={last}")
    middle, half = (first + last) / 2, (last - first) / 2 * severity
    capacity = np.array(s.capacity, copy=True)
    if half > 0:
        down = _window(s, spec, max(0.0, middle - half), min(1.0, middle + half)) > 0
        capacity[np.ix_(rows, np.flatnonzero(down))] = 0.0
    served = s.with_changes(capacity=capacity, workload=servable_workload(s.workload, capacity, s.mask))
    return _shed(served, s.workload, f"{s.name} + {spec.label()}")


def region_swap(s, severity, rng, spec, a, b):
    if severity == 0:
        return s
    by_water = np.argsort(s.water.mean(axis=1))
    first = _regions(s, spec, a if a else str(by_water[0]))[0]
    second = _regions(s, spec, b if b else str(by_water[-1]))[0]
    order = np.arange(s.n_regions)
    order[[first, second]] = order[[second, first]]
    return s.with_changes(price=s.price[order], carbon=s.carbon[order], water=s.water[order])


def noisy_forecast(s, severity, rng, spec, noise):
    return ShiftedScenario(s.with_changes(name=f"{s.name} + {spec.label()}"), severity * _number(spec, "noise", noise))


SHIFTS = {
    "heat-wave": (
        heat_wave,
        {"regions": "", "increase": 0.6, "start": 0.3, "end": 0.8},
        "water intensity +60 % in Texas, Georgia, Nevada for half the horizon",
    ),
    "drought": (drought, {"increase": 0.5}, "water intensity everywhere ramps up to +50 %"),
    "price-spike": (
        price_spike,
        {"regions": "", "factor": 4.0, "start": 0.4, "end": 0.6},
        "prices x4 in the three cheapest regions for a fifth of the horizon",
    ),
    "negative-prices": (
        negative_prices,
        {"regions": "", "depth": 400.0, "hours": "10-16"},
        "prices -400 USD/MWh in Germany and Denmark at midday",
    ),
    "carbon-shift": (
        carbon_shift,
        {"regions": "", "increase": 0.8, "start": 0.25},
        "carbon intensity +80 % in the four cleanest regions (renewables drop)",
    ),
    "surge": (surge, {"increase": 0.25}, "every gateway's load +25 %, within capacity"),
    "phase-shift": (phase_shift, {"hours": 8}, "the workload's daily cycle 8 hours later"),
    "outage": (outage, {"regions": "", "start": 0.45, "end": 0.55}, "Virginia down for a tenth of the horizon"),
    "region-swap": (region_swap, {"a": "", "b": ""}, "the cleanest and the dirtiest region trade signals"),
    "noisy-forecast": (noisy_forecast, {"noise": 0.2}, "forecasts seen by policies get 20 % noise"),
}
