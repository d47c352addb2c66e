"""The embedded default: synthetic 10-region scenarios calibrated to the published data set.

A fresh clone runs with no data at all: :func:`make_synthetic` draws a scenario with the published
set's regions, gateways, masks and capacities, whose signals follow the figures stored in
``calibration.json`` (see :mod:`eglb.envs.calibration`, measured on eglb-2022):

* each region's carbon and water intensity is its mean daily profile (by UTC hour, which carries
  the region's local time), times a per-seed level factor exp(level_jitter * N(0, 1)), plus an
  AR(1) deviation with the region's measured spread and lag-one autocorrelation whose innovations
  are correlated across regions as measured (the four US prices move together, so do the Belgian,
  Dutch and Danish ones);
* prices follow the same model, bent smoothly (softplus, width 0.1 standard deviation) onto a
  floor 0.1 standard deviation under the lowest published price: far above it they are the
  Gaussian model, and they are negative only where and as rarely as published prices were;
* the workload is the BLOOM trace's daily profile plus AR(1) noise, as a fraction of its peak,
  clipped to the trace's measured range [min, 1] (:func:`workload_shape`, :func:`clip_workload`,
  reused by the history importers), in MW per gateway (1 MW peak, like the published scaling);
  ``gateway_spread`` adds independent per-gateway variation (0: all gateways share the trace, as in
  the published setting);
* intensities never fall below half their published minimum; prices never fall below the floor,
  which is negative where published prices were (Belgium, the Netherlands).

The same seed gives identical arrays; different seeds give different traces.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from eglb.envs.calibration import PRICE_FLOOR_MARGIN, load_calibration
from eglb.envs.eglb2022 import REGIONS, setting_mask
from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario, hourly_timestamps

#: Seeds below this are reserved for held-out evaluation; training sources draw from above it.
HELD_OUT_SEEDS = 1000
#: Held-out seeds training scores its checkpoints on to keep the best (``train.py --eval-seeds``'s
#: default): a policy is selected on them, so they are not a test of it.
SELECTION_SEEDS = (0, 1, 2)
#: Held-out seeds of reports that compare trained policies (``evaluate.py --sweep``'s default): never
#: trained on, never selected on (the first seeds of the synthetic tasks' test split, eglb/tasks.py).
TEST_SEEDS = (100, 101, 102)


@lru_cache(maxsize=1)
def _calibration() -> dict:
    figures = load_calibration()
    if tuple(figures["regions"]) != REGIONS:
        raise RuntimeError("calibration.json does not describe the published regions; rerun python -m eglb.envs.calibration")
    return figures


def correlated_ar1(rng: np.random.Generator, spread, autocorrelation, correlation, steps: int) -> np.ndarray:
    """Stationary AR(1) deviations [K, steps] with cross-correlated innovations.

    Args:
        rng: the random generator.
        spread: [K] standard deviation of each series. autocorrelation: [K] lag-one autocorrelation.
        correlation: [K, K] correlation of the innovations across series (its PSD part is used).
        steps: length of each series.
    """
    spread, phi = np.asarray(spread, dtype=float), np.asarray(autocorrelation, dtype=float)
    values, vectors = np.linalg.eigh(np.asarray(correlation, dtype=float))
    root = vectors * np.sqrt(np.clip(values, 0.0, None))  # root @ root.T == correlation (PSD part)
    shocks = root @ rng.standard_normal((len(spread), steps + 1))
    innovations = (spread * np.sqrt(1.0 - phi**2))[:, None] * shocks[:, 1:]
    out = np.empty((len(spread), steps))
    # The recursion over hours, vectorized over series: scipy.signal.lfilter would do the same
    # arithmetic, but importing scipy.signal costs seconds on every command that starts.
    previous = spread * shocks[:, 0]
    for hour in range(steps):
        previous = out[:, hour] = innovations[:, hour] + phi * previous
    return out


def _correlated_ar1(rng: np.random.Generator, figures: dict, hours: int) -> np.ndarray:
    """AR(1) deviations [K, hours] with the measured spread, autocorrelation and cross-correlation."""
    return correlated_ar1(rng, figures["residual_std"], figures["autocorrelation"], figures["innovation_correlation"], hours)


def workload_shape(rng: np.random.Generator, hour: np.ndarray) -> np.ndarray:
    """The BLOOM trace's model as a fraction of its peak, before clipping: [T] (see the module docstring).

    Args:
        rng: the random generator (draws the AR(1) noise).
        hour: [T] int hour of day (0..23) at which to read the calibrated daily profile.
    """
    figures = _calibration()["workload"]
    hour = np.asarray(hour, dtype=int)
    return np.asarray(figures["daily_profile"])[0, hour] + _correlated_ar1(rng, figures, hour.size)[0]


def clip_workload(shape: np.ndarray) -> np.ndarray:
    """Clip a workload shape to the BLOOM trace's measured range [min, 1] (fraction of peak)."""
    return np.clip(shape, _calibration()["workload"]["min"][0], 1.0)


def make_synthetic(
    seed: int = 0,
    hours: int = 457,
    setting: str = "full",
    start: str = "2022-09-22T00",
    mu_water: float = 60.0,
    mu_carbon: float = 1500.0,
    level_jitter: float = 0.05,
    gateway_spread: float = 0.0,
) -> Scenario:
    """A synthetic scenario of the published regions and gateways (see the module docstring).

    Args:
        seed: random seed; the same seed gives identical arrays.
        hours: number of hourly slots T.
        setting: "full" or "partial" mask, as in the published set.
        start: first timestamp (UTC).
        mu_water: USD per m^3. mu_carbon: USD per t.
        level_jitter: standard deviation of the log of each region's per-seed level factor.
        gateway_spread: relative standard deviation of independent per-gateway load variation.
    """
    if int(hours) != hours or hours < 1:
        raise InputError(f"argument 'hours' must be a positive integer, got {hours}")
    for name, value in (("level_jitter", level_jitter), ("gateway_spread", gateway_spread)):
        if not np.isfinite(value) or value < 0:
            raise InputError(f"argument {name!r} must be >= 0, got {value}")
    mask = setting_mask(setting)
    figures = _calibration()
    rng = np.random.default_rng(seed)
    timestamps = hourly_timestamps(start, int(hours))
    hour = (timestamps.astype("datetime64[h]").astype(np.int64) % 24).astype(int)
    n = len(REGIONS)

    signals = {}
    for name in ("price", "carbon", "water"):
        signal = figures[name]
        level = np.exp(level_jitter * rng.standard_normal(n))[:, None]
        values = np.asarray(signal["daily_profile"])[:, hour] * level + _correlated_ar1(rng, signal, hours)
        if name == "price":
            floor = np.asarray(signal["floor"])[:, None]
            bend = PRICE_FLOOR_MARGIN * np.asarray(signal["std"])[:, None]
            signals[name] = floor + bend * np.logaddexp(0.0, (values - floor) / bend)
        else:
            signals[name] = np.maximum(values, 0.5 * np.asarray(signal["min"])[:, None])

    shape = workload_shape(rng, hour)
    if gateway_spread > 0:
        shape = shape[None, :] * (1.0 + gateway_spread * rng.standard_normal((n, hours)))
    workload = np.broadcast_to(clip_workload(shape), (n, hours))

    return Scenario(
        regions=REGIONS,
        gateways=REGIONS,
        timestamps=timestamps,
        price=signals["price"],
        carbon=signals["carbon"],
        water=signals["water"],
        workload=workload,
        capacity=np.ones(n),
        mask=mask,
        mu_water=mu_water,
        mu_carbon=mu_carbon,
        name=f"synthetic seed {seed} {setting}",
    )


@dataclass(frozen=True)
class SyntheticSource:
    """A new synthetic trace per episode: call with a generator, get a scenario.

    Seeds are drawn from ``[first_seed, last_seed)``; the default range starts above the held-out
    seeds (0 .. HELD_OUT_SEEDS - 1) used for evaluation.
    """

    hours: int = 168
    setting: str = "full"
    first_seed: int = HELD_OUT_SEEDS
    last_seed: int = 2**31 - 1
    level_jitter: float = 0.05
    gateway_spread: float = 0.0

    def __call__(self, rng: np.random.Generator) -> Scenario:
        seed = int(rng.integers(self.first_seed, self.last_seed))
        return make_synthetic(
            seed=seed,
            hours=self.hours,
            setting=self.setting,
            level_jitter=self.level_jitter,
            gateway_spread=self.gateway_spread,
        )
