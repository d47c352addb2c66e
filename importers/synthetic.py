"""Synthetic scenarios of the 14 complete history zones, drawn from the history calibration.

:func:`make_history_synthetic` draws any of the zones of ``complete14`` (any subset, in any order)
over any hours of the calendar: each zone's price, carbon and water intensity follow the model of
:mod:`eglb.importers.synthetic_calibration` (the zone's marginal distribution, monthly level, seasonal
daily profile, year, day and hour variation, correlated across zones and signals), measured on the
real 2021-2022 history (``history_calibration.json``). A seed draws a new year of weather, markets
and grid: its year offsets make calm years and crisis years (the 2022 European price crisis is one
of the calibration years), its daily and hourly deviations the weeks within them.

Gateways sit at the zones, one each, with loads of the fitted workload model (``importers/workload.py``,
default the BLOOM fit) at each zone's local clock, as history scenarios have them; each region's
capacity is (1 + :data:`eglb.importers.history.CAPACITY_HEADROOM`) times the model's mean yearly peak,
the rule history scenarios follow over a loaded year. Full mask, like history scenarios.

``start=None`` lets the seed choose the first day (a random midnight UTC of 2022), so seeds 0..51 of
168 hours cover every season; give ``start`` to pin it. :class:`HistorySyntheticSource` draws a new
seed (and start) per training episode, above the held-out seeds (:data:`eglb.envs.synthetic.HELD_OUT_SEEDS`).
The published-set generator (:mod:`eglb.envs.synthetic`) stays the project's default; this one is chosen
with ``--synthetic SEEDS --zones complete14`` (evaluate.py) or ``--synthetic --zones complete14`` (train.py).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario, hourly_timestamps
from eglb.envs.synthetic import HELD_OUT_SEEDS, correlated_ar1
from eglb.importers.history import CAPACITY_HEADROOM
from eglb.importers.synthetic_calibration import (
    CALIBRATION_FILE,
    CALIBRATION_TABLE,
    SIGNALS,
    calendar,
    daily_interpolation,
    load_calibration,
    monthly_level,
)
from scipy.special import ndtr

#: The calendar year whose midnights a seed's start is drawn from when no start is given.
START_YEAR = 2022


@lru_cache(maxsize=1)
def calibration() -> dict:
    """The committed history calibration (``importers/history_calibration.json``)."""
    return load_calibration(CALIBRATION_FILE)


def zone_indices(zones: str | Sequence[str] | None) -> list[int]:
    """Indices into the calibration's zones: None or "complete14" for all, or zone names (a sequence
    or one comma-separated string), in the order given."""
    known = calibration()["zones"]
    if zones is None or zones == CALIBRATION_TABLE:
        return list(range(len(known)))
    names = [z.strip() for z in zones.split(",")] if isinstance(zones, str) else [str(z) for z in zones]
    if not names or any(not n for n in names):
        raise InputError(f"--zones must be {CALIBRATION_TABLE} or zone names separated by commas, got {zones!r}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown zone {unknown[0]!r} for the history-calibrated generator (zones: {', '.join(known)})")
    repeated = [n for n in names if names.count(n) > 1]
    if repeated:
        raise InputError(f"zone {repeated[0]!r} is chosen twice")
    return [known.index(n) for n in names]


@lru_cache(maxsize=4)
def mean_yearly_peak(source: str = "bloom") -> float:
    """The workload model's mean yearly peak per gateway (MW for a 1 MW long-run peak): the mean over
    14 gateways of their largest hour of a drawn year (seeded, so the same in every process)."""
    from eglb.importers.workload import workload_for

    hours = hourly_timestamps(f"{START_YEAR}-01-01T00", 8760)
    return float(workload_for(hours, np.zeros(14), seed=0, source=source).max(axis=1).mean())


def make_history_synthetic(
    seed: int = 0,
    hours: int = 168,
    zones: str | Sequence[str] | None = None,
    start: str | np.datetime64 | None = None,
    workload: str = "bloom",
    mu_water: float = 60.0,
    mu_carbon: float = 1500.0,
) -> Scenario:
    """A synthetic scenario of history zones (see the module docstring).

    Args:
        seed: random seed; the same seed (and arguments) gives identical arrays.
        hours: number of hourly slots T.
        zones: None or "complete14" (all 14), or zone names ("US-TEX-ERCO,DE-LU").
        start: first UTC hour; None: a midnight of 2022 chosen by the seed.
        workload: the fitted workload model of the gateways ("bloom", "alibaba-genai", "alibaba-dlrm").
        mu_water: USD per m^3. mu_carbon: USD per t.
    """
    from eglb.importers.sites import utc_offsets
    from eglb.importers.workload import workload_for

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"argument 'seed': expected an integer >= 0, got {seed!r}")
    if isinstance(hours, bool) or not isinstance(hours, (int, np.integer)) or hours < 1:
        raise InputError(f"argument 'hours' must be a positive integer, got {hours!r}")
    figures = calibration()
    chosen = zone_indices(zones)
    n_zones = len(figures["zones"])
    rows = [k * n_zones + i for k in range(len(SIGNALS)) for i in chosen]  # signal-major, as the figures
    rng = np.random.default_rng(int(seed))
    day = int(rng.integers(365))  # drawn even when a start is given, so the draws below do not depend on it
    first = np.datetime64(f"{START_YEAR}-01-01T00", "h") + np.timedelta64(24 * day, "h") if start is None else start
    try:
        timestamps = hourly_timestamps(first, int(hours))
    except (ValueError, TypeError):
        raise InputError(f"argument 'start': expected a UTC hour like 2022-07-01T00, got {start!r}") from None
    when = calendar(timestamps)

    def stacked(key: str) -> np.ndarray:
        return np.concatenate([np.asarray(figures["series"][name][key], dtype=float) for name in SIGNALS])[rows]

    day_correlation = np.asarray(figures["day_correlation"], dtype=float)[np.ix_(rows, rows)]
    hour_correlation = np.asarray(figures["hour_correlation"], dtype=float)[np.ix_(rows, rows)]
    score = monthly_level(stacked("monthly"), when["month_position"]) + stacked("daily_shape")[:, when["season"], when["hour"]]
    years, year_index = np.unique(when["year"], return_inverse=True)
    year_offsets = correlated_ar1(rng, stacked("year_std"), np.zeros(len(rows)), day_correlation, len(years))
    days = np.arange(when["day"][0], when["day"][-1] + 1)
    daily = correlated_ar1(rng, stacked("day_std"), stacked("day_phi"), day_correlation, days.size)
    score = score + year_offsets[:, year_index] + daily_interpolation(daily, int(days[0]), when["day"], when["day_fraction"])
    score = score + correlated_ar1(rng, stacked("hour_std"), stacked("hour_phi"), hour_correlation, int(hours))
    probabilities = np.asarray(figures["probabilities"], dtype=float)
    quantiles = stacked("quantiles")
    values = np.stack([np.interp(ndtr(score[k]), probabilities, quantiles[k]) for k in range(len(rows))])
    n = len(chosen)
    signals = {name: values[k * n : (k + 1) * n] for k, name in enumerate(SIGNALS)}

    names = tuple(figures["zones"][i] for i in chosen)
    offsets = np.stack([utc_offsets(timestamps, figures["timezones"][i]) for i in chosen])
    loads = workload_for(timestamps, offsets, seed=int(rng.integers(2**31 - 1)), source=workload)
    capacity = np.full(n, (1.0 + CAPACITY_HEADROOM) * mean_yearly_peak(workload))
    label = str(timestamps[0].astype("datetime64[h]"))
    return Scenario(
        regions=names,
        gateways=names,
        timestamps=timestamps,
        price=signals["price"],
        carbon=signals["carbon"],
        water=signals["water"],
        workload=loads,
        capacity=capacity,
        mask=np.ones((n, n), dtype=bool),
        mu_water=mu_water,
        mu_carbon=mu_carbon,
        name=f"synthetic history seed {seed}, {n} zones from {label}",
        metadata={
            "source": "synthetic-history",
            "seed": int(seed),
            "calibration": figures["source"],
            "workload": f"fitted workload model {workload!r} at each zone's local clock",
            "capacity": f"(1 + {CAPACITY_HEADROOM:g}) x the workload model's mean yearly peak",
            "attribution": [figures["notice"]],
        },
    )


@dataclass(frozen=True)
class HistorySyntheticSource:
    """A new history-calibrated synthetic trace per episode (a new seed, hence a new start day): call
    with a generator, get a scenario. Seeds are drawn from ``[first_seed, last_seed)``, above the
    held-out seeds used for evaluation."""

    hours: int = 168
    zones: str | None = None
    workload: str = "bloom"
    first_seed: int = HELD_OUT_SEEDS
    last_seed: int = 2**31 - 1

    def __call__(self, rng: np.random.Generator) -> Scenario:
        seed = int(rng.integers(self.first_seed, self.last_seed))
        return make_history_synthetic(seed=seed, hours=self.hours, zones=self.zones, workload=self.workload)


def validation_rows(seeds: int = 20, history: str | None = None) -> list[dict]:
    """The generator against the calibration years: per signal and zone, the mean and standard deviation
    of ``seeds`` drawn pairs of years (2021-2022) next to the real 2021-2022 ones, and the selection
    year 2023's real mean (the drift a year later, which no calibration of 2021-2022 can know)."""
    from eglb.importers.history import load_history
    from eglb.importers.synthetic_calibration import calibration_scenario

    real, _ = calibration_scenario(history)
    later = load_history(history, regions=CALIBRATION_TABLE, years=2023, workload=np.zeros((14, 8760)), capacity=1.0)
    drawn = [make_history_synthetic(seed, hours=real.n_hours, start="2021-01-01T00") for seed in range(seeds)]
    rows = []
    for name in SIGNALS:
        values = np.concatenate([getattr(d, name) for d in drawn], axis=1)
        for k, zone in enumerate(real.regions):
            rows.append(
                {
                    "signal": name,
                    "zone": zone,
                    "mean_2021_2022": float(getattr(real, name)[k].mean()),
                    "mean_drawn": float(values[k].mean()),
                    "std_2021_2022": float(getattr(real, name)[k].std()),
                    "std_drawn": float(values[k].std()),
                    "mean_2023": float(getattr(later, name)[k].mean()),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m eglb.importers.synthetic", description="Validate the history-calibrated generator."
    )
    parser.add_argument("--seeds", type=int, default=20, help="drawn pairs of years (default 20)")
    parser.add_argument("--history", help="the history folder (default $EGLB_HISTORY_DATA or ../shared/data/history)")
    args = parser.parse_args(argv)
    try:
        rows = validation_rows(args.seeds, args.history)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    units = calibration()["units"]
    print(f"drawn (mean over {args.seeds} seeds of 2021-2022) vs real 2021-2022, and the real 2023 mean")
    print(
        f"{'signal':7} {'zone':12} {'unit':8} {'mean real':>10} {'drawn':>10} {'ratio':>6} "
        f"{'std real':>9} {'drawn':>9} {'ratio':>6} {'2023':>10}"
    )
    for r in rows:
        print(
            f"{r['signal']:7} {r['zone']:12} {units[r['signal']]:8} {r['mean_2021_2022']:10.4g} {r['mean_drawn']:10.4g} "
            f"{r['mean_drawn'] / r['mean_2021_2022']:6.3f} {r['std_2021_2022']:9.4g} {r['std_drawn']:9.4g} "
            f"{r['std_drawn'] / r['std_2021_2022']:6.3f} {r['mean_2023']:10.4g}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
