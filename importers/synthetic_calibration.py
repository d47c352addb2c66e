"""The history calibration of the synthetic generator: per zone and signal, seasonal and daily profiles,
year-to-year, day-to-day and hour-to-hour variation, and the correlations across zones and signals.

Measured on the real history of the 14 complete zones over the calibration years (2021-2022; never the
test year 2024, and not the selection year 2023 either) by

    python -m eglb.importers.synthetic_calibration [--history DIR] [--check]

which writes ``history_calibration.json`` next to this file (``--check`` compares a fresh measurement
with the committed file instead). :mod:`eglb.importers.synthetic` draws scenarios from it.

The model of one series x[t] (a zone's price, carbon or water intensity) is a Gaussian copula:

* its marginal distribution is kept as quantiles at :data:`PROBABILITIES` (spikes, floors and
  negative prices included), and x is modelled through its normal score z = Phi^-1(F(x)) (empirical
  ranks), which is then mapped back through the quantiles;
* z[t] = level(day of year) + shape[season, UTC hour] + year offset + slow(t) + fast(t), where
  ``level`` interpolates twelve monthly means linearly between mid-months (cyclically), ``shape``
  is the daily profile of each season (zero mean over the day), the year offset is the calendar
  year's mean (its spread across the calibration years, as they show it), ``slow`` interpolates an AR(1) on daily
  means linearly between mid-days, and ``fast`` is an hourly AR(1) on what is left;
* the innovations of ``slow`` and ``fast`` are correlated across all zones and signals as measured
  (the four US prices move together, prices and carbon move together where gas sets the price).

Only these figures are stored, no hourly series: quantiles, monthly means, seasonal daily profiles,
standard deviations, autocorrelations and correlation matrices, rounded to four significant digits.
They derive from Electricity Maps (ODbL), Open-Meteo (CC BY 4.0) and the SustainCluster price
packaging (MIT); the file carries their notices.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write_text, json_ready
from eglb.envs.scenario import Scenario
from scipy.special import ndtri

CALIBRATION_FILE = Path(__file__).with_name("history_calibration.json")
CALIBRATION_FORMAT = "eglb-history-calibration"
CALIBRATION_VERSION = 1
#: The years the committed figures are measured on (never the test year 2024 nor the selection year 2023).
CALIBRATION_YEARS = "2021-2022"
CALIBRATION_TABLE = "complete14"
SIGNALS = ("price", "carbon", "water")
#: Probabilities of the stored quantiles: dense in the tails, where spikes and floors live.
PROBABILITIES = (
    0.0,
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.35,
    0.4,
    0.45,
    0.5,
    0.55,
    0.6,
    0.65,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.95,
    0.975,
    0.99,
    0.995,
    0.999,
    1.0,
)
#: Meteorological season (0 Dec-Feb, 1 Mar-May, 2 Jun-Aug, 3 Sep-Nov) of each month 1..12.
SEASON_OF_MONTH = (0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0)
SIGNIFICANT_DIGITS = 4
NOTICE = (
    "Figures (quantiles, means, profiles, spreads, autocorrelations, correlations; no hourly series) derived from "
    "the history folder's data. Contains information from Electricity Maps (https://www.electricitymaps.com), "
    "which is made available here under the Open Database License (ODbL); these derived figures are made available "
    "under the ODbL 1.0 as well. Weather data by Open-Meteo.com (https://open-meteo.com/), CC BY 4.0 (water intensity "
    "computed from its temperature and humidity, see importers/water.py). Prices packaged by SustainCluster "
    "(Guillen et al., NeurIPS 2025 Datasets and Benchmarks), MIT, (c) 2025 Hewlett Packard Enterprise."
)


# ----------------------------------------------------------------------------------- calendar
def calendar(timestamps: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar indices of UTC hour starts [T]: ``hour`` (0..23), ``season`` (0..3), ``year``,
    ``day`` (days since 1970-01-01), and ``month_position`` (months since 1970-01 at mid-month = .0,
    as a float, for the interpolated monthly level)."""
    hours = np.asarray(timestamps).astype("datetime64[h]")
    days = hours.astype("datetime64[D]")
    months = hours.astype("datetime64[M]")
    month_start = months.astype("datetime64[h]")
    month_hours = ((months + 1).astype("datetime64[h]") - month_start).astype(float)
    fraction = (hours - month_start).astype(float) / month_hours  # 0..1 within the month
    month_of_year = months.astype(int) % 12
    return {
        "hour": hours.astype(np.int64) % 24,
        "season": np.asarray(SEASON_OF_MONTH)[month_of_year],
        "year": months.astype(int) // 12 + 1970,
        "day": days.astype(np.int64),
        "day_fraction": (hours - days.astype("datetime64[h]")).astype(float) / 24.0,
        "month_position": months.astype(int) + fraction - 0.5,
    }


def monthly_level(monthly: np.ndarray, month_position: np.ndarray) -> np.ndarray:
    """[K, T] the monthly means [K, 12] interpolated linearly between mid-months, cyclically over the year."""
    lower = np.floor(month_position).astype(int)
    weight = month_position - lower
    return monthly[:, lower % 12] * (1.0 - weight) + monthly[:, (lower + 1) % 12] * weight


def daily_interpolation(values: np.ndarray, first_day: int, day: np.ndarray, day_fraction: np.ndarray) -> np.ndarray:
    """[K, T] daily values [K, D] (day ``first_day`` first) interpolated linearly between mid-days; the
    half days at the ends hold the end values."""
    position = day - first_day + day_fraction - 0.5
    lower = np.clip(np.floor(position).astype(int), 0, values.shape[1] - 1)
    upper = np.clip(lower + 1, 0, values.shape[1] - 1)
    weight = np.clip(position - np.floor(position), 0.0, 1.0)
    weight = np.where(position < 0, 0.0, weight)
    return values[:, lower] * (1.0 - weight) + values[:, upper] * weight


# ----------------------------------------------------------------------------------- measuring
def normal_scores(values: np.ndarray) -> np.ndarray:
    """[K, T] normal scores of each row: Phi^-1(rank / (T + 1)); tied values (price floors, caps,
    tariff levels) share their mean rank, so a run of equal values stays one value."""
    from scipy.stats import rankdata  # here, not at the top: scipy.stats costs every command a second to import

    return ndtri(rankdata(values, method="average", axis=1) / (values.shape[1] + 1.0))


def _ar1(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spread, lag-one autocorrelation (clipped to [0, 0.999]) and innovations of each row of [K, T]."""
    spread = series.std(axis=1)
    lagged = (series[:, 1:] * series[:, :-1]).mean(axis=1)
    phi = np.clip(np.where(spread > 0, lagged / np.maximum(spread**2, 1e-300), 0.0), 0.0, 0.999)
    return spread, phi, series[:, 1:] - phi[:, None] * series[:, :-1]


def _correlation(innovations: np.ndarray) -> np.ndarray:
    correlation = np.atleast_2d(np.nan_to_num(np.corrcoef(innovations), nan=0.0))
    np.fill_diagonal(correlation, 1.0)
    return correlation


def decompose(z: np.ndarray, timestamps: np.ndarray) -> dict:
    """The model's parts of normal scores z [K, T] (see the module docstring), measured in order."""
    when = calendar(timestamps)
    month_of_year = np.floor(when["month_position"] + 0.5).astype(int) % 12
    monthly = np.stack([z[:, month_of_year == m].mean(axis=1) for m in range(12)], axis=1)  # [K, 12] (raw means)
    # Interpolating the raw monthly means smooths them; one fixed-point pass brings the interpolated
    # level's monthly means back onto the measured ones.
    for _ in range(20):
        level = monthly_level(monthly, when["month_position"])
        error = np.stack([(z - level)[:, month_of_year == m].mean(axis=1) for m in range(12)], axis=1)
        monthly = monthly + error
    level = monthly_level(monthly, when["month_position"])
    rest = z - level
    shape = np.zeros((z.shape[0], 4, 24))
    for s in range(4):
        for h in range(24):
            shape[:, s, h] = rest[:, (when["season"] == s) & (when["hour"] == h)].mean(axis=1)
        shape[:, s] -= shape[:, s].mean(axis=1, keepdims=True)
    rest = rest - shape[:, when["season"], when["hour"]]
    years = np.unique(when["year"])
    offsets = np.stack([rest[:, when["year"] == y].mean(axis=1) for y in years], axis=1)  # [K, years]
    rest = rest - offsets[:, np.searchsorted(years, when["year"])]
    days, day_index = np.unique(when["day"], return_inverse=True)
    daily = np.stack([np.bincount(day_index, weights=row) / np.bincount(day_index) for row in rest])  # [K, D]
    slow = daily_interpolation(daily, int(days[0]), when["day"], when["day_fraction"])
    fast = rest - slow
    day_std, day_phi, day_innovations = _ar1(daily)
    hour_std, hour_phi, hour_innovations = _ar1(fast)
    return {
        "monthly": monthly,
        "daily_shape": shape,
        # The spread the calibration years show (not the unbiased estimate of a wider population of
        # years): the pooled quantiles hold exactly these years, so generated years reproduce them.
        "year_std": offsets.std(axis=1),
        "day_std": day_std,
        "day_phi": day_phi,
        "hour_std": hour_std,
        "hour_phi": hour_phi,
        "day_correlation": _correlation(day_innovations),
        "hour_correlation": _correlation(hour_innovations),
    }


def _rounded(values) -> list:
    return np.vectorize(lambda v: float(f"{v:.{SIGNIFICANT_DIGITS}g}"))(np.asarray(values, dtype=float)).tolist()


def measure(scenario: Scenario, timezones: list[str | None]) -> dict:
    """The calibration figures of a history scenario's price, carbon and water series (JSON-ready)."""
    stacked = np.concatenate([getattr(scenario, name) for name in SIGNALS])  # [3N, T], signal-major
    parts = decompose(normal_scores(stacked), scenario.timestamps)
    quantiles = np.quantile(stacked, PROBABILITIES, axis=1).T  # [3N, P]
    n = scenario.n_regions
    series = {}
    for k, name in enumerate(SIGNALS):
        rows = slice(k * n, (k + 1) * n)
        series[name] = {
            "quantiles": _rounded(quantiles[rows]),
            "mean": _rounded(stacked[rows].mean(axis=1)),
            **{
                key: _rounded(parts[key][rows])
                for key in ("monthly", "daily_shape", "year_std", "day_std", "day_phi", "hour_std", "hour_phi")
            },
        }
    first, last = str(scenario.timestamps[0])[:13], str(scenario.timestamps[-1])[:13]
    return {
        "format": CALIBRATION_FORMAT,
        "format_version": CALIBRATION_VERSION,
        "source": (
            f"measured by `python -m eglb.importers.synthetic_calibration` on the history folder, table {CALIBRATION_TABLE}, "
            f"UTC hours {first} .. {last} ({scenario.n_hours} hours; direct carbon, annual 2022 mix for the water)"
        ),
        "notice": NOTICE,
        "zones": list(scenario.regions),
        "timezones": list(timezones),
        "hours": scenario.n_hours,
        "signals": list(SIGNALS),
        "units": {"price": "USD/MWh", "carbon": "t/MWh", "water": "m^3/MWh"},
        "probabilities": list(PROBABILITIES),
        "series": series,
        "day_correlation": _rounded(parts["day_correlation"]),
        "hour_correlation": _rounded(parts["hour_correlation"]),
    }


def calibration_scenario(history: str | Path | None = None, years: str = CALIBRATION_YEARS) -> tuple[Scenario, list]:
    """The calibration years of the 14 complete zones (no workload: only the signals are measured),
    and each zone's local time zone (for the generated gateway loads)."""
    from eglb.importers.history import HELD_OUT_YEARS, load_history, parse_years

    chosen = parse_years(years)
    if set(chosen) & set(HELD_OUT_YEARS):
        raise InputError(f"the calibration years {years} include the test year {HELD_OUT_YEARS[0]}: calibrate on others")
    hours = int((np.datetime64(f"{chosen[-1] + 1}-01-01T00") - np.datetime64(f"{chosen[0]}-01-01T00")) // np.timedelta64(1, "h"))
    scenario = load_history(history, regions=CALIBRATION_TABLE, years=years, workload=np.zeros((14, hours)), capacity=1.0)
    weather = {s["zone"]: s.get("timezone") for s in scenario.metadata["sources"] if s["signal"] == "weather"}
    timezones = [r["timezone"] or weather.get(r["weather"]) for r in scenario.metadata["regions"]]
    return scenario, timezones


def load_calibration(path: str | Path = CALIBRATION_FILE) -> dict:
    """The stored figures (checked for their format)."""
    path = Path(path)
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the history calibration {path}: {exc}") from None
    if (
        not isinstance(figures, dict)
        or figures.get("format") != CALIBRATION_FORMAT
        or figures.get("format_version") != CALIBRATION_VERSION
    ):
        raise InputError(f"{path} is not a history calibration file (format {CALIBRATION_FORMAT} version {CALIBRATION_VERSION})")
    return figures


def write_calibration(path: Path, figures: dict) -> Path:
    """The figures as JSON with every list of numbers on one line (about 70 kB), atomically."""
    text = json.dumps(json_ready(figures), indent=1, allow_nan=False)
    text = re.sub(r"\[\s*([-+0-9.eE,\s]+?)\s*\]", lambda m: "[" + ",".join(v.strip() for v in m.group(1).split(",")) + "]", text)
    return atomic_write_text(path, text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eglb.importers.synthetic_calibration", description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", help="the history folder (default $EGLB_HISTORY_DATA or ../shared/data/history)")
    parser.add_argument("--out", default=str(CALIBRATION_FILE), help=f"where to write (default {CALIBRATION_FILE})")
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    try:
        scenario, timezones = calibration_scenario(args.history)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    figures = measure(scenario, timezones)
    if args.check:
        stored = load_calibration(args.out)
        same = json.dumps(stored, sort_keys=True) == json.dumps(json.loads(json.dumps(figures)), sort_keys=True)
        print(f"{args.out} {'matches' if same else 'DIFFERS FROM'} a fresh measurement")
        return 0 if same else 1
    write_calibration(Path(args.out), figures)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
