"""Summary figures of a scenario's traces, and the calibration of the synthetic generator.

:func:`measure` describes each region's price, carbon and water series (level, daily profile,
autocorrelation and spread of what the profile leaves, the regions' cross-correlation) and the
workload trace. Run on the published data set it gives the figures the synthetic generator
reproduces; they are stored in ``calibration.json`` next to this file, written by

    python -m eglb.envs.calibration [DATA_FOLDER]

(default folder: ``$EGLB2022_DATA`` or ``../shared/data/eglb-2022``). The same function measures
synthetic traces in the tests, so "close to the published set" is checked on the same figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from eglb.envs.scenario import Scenario

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
SIGNALS = ("price", "carbon", "water")

#: The price floor sits this many standard deviations under a region's lowest price.
PRICE_FLOOR_MARGIN = 0.1


def _hour_of_day(scenario: Scenario) -> np.ndarray:
    return (scenario.timestamps.astype("datetime64[h]").astype(np.int64) % 24).astype(int)


def _series_figures(values: np.ndarray, hour: np.ndarray) -> dict:
    """Figures of a [K, T] set of series sharing the hour-of-day vector ``hour`` [T]."""
    level = values.mean(axis=1)
    by_hour = np.stack([values[:, hour == h].mean(axis=1) for h in range(24)], axis=1)  # [K, 24]
    residual = values - by_hour[:, hour]
    spread = residual.std(axis=1)
    lagged = (residual[:, 1:] * residual[:, :-1]).mean(axis=1)
    autocorrelation = np.where(spread > 0, lagged / np.maximum(spread**2, 1e-300), 0.0)
    autocorrelation = np.clip(autocorrelation, 0.0, 0.999)
    innovation = residual[:, 1:] - autocorrelation[:, None] * residual[:, :-1]
    correlation = np.corrcoef(innovation) if values.shape[0] > 1 else np.ones((1, 1))
    correlation = np.nan_to_num(correlation, nan=0.0)
    np.fill_diagonal(correlation, 1.0)
    return {
        "mean": level.tolist(),
        "std": values.std(axis=1).tolist(),
        "min": values.min(axis=1).tolist(),
        "max": values.max(axis=1).tolist(),
        "daily_profile": by_hour.tolist(),
        "residual_std": spread.tolist(),
        "autocorrelation": autocorrelation.tolist(),
        "innovation_correlation": correlation.tolist(),
    }


def measure(scenario: Scenario) -> dict:
    """Figures of a scenario: per region and signal, and of the mean per-gateway workload.

    Returns a JSON-ready dict with ``regions`` and, for ``price``, ``carbon``, ``water`` and
    ``workload`` (the mean over gateways, as a fraction of its peak), the per-series ``mean``,
    ``std``, ``min``, ``max``, ``daily_profile`` [24] (mean by UTC hour), ``residual_std`` and lag-one
    ``autocorrelation`` of what the profile leaves, and ``innovation_correlation`` across regions.
    ``price`` also holds a per-region ``floor`` (the lowest price less PRICE_FLOOR_MARGIN standard
    deviations).
    """
    hour = _hour_of_day(scenario)
    figures: dict = {"regions": list(scenario.regions), "hours": scenario.n_hours}
    for name in SIGNALS:
        figures[name] = _series_figures(getattr(scenario, name), hour)
    # Prices are bounded below (negative only in rare hours): the generator bends its Gaussian
    # deviations smoothly onto a floor a little under the lowest price seen.
    price = scenario.price
    floor = price.min(axis=1) - PRICE_FLOOR_MARGIN * price.std(axis=1)
    figures["price"]["floor"] = floor.tolist()
    load = scenario.workload.mean(axis=0)
    peak = float(load.max()) if load.max() > 0 else 1.0
    figures["workload"] = _series_figures((load / peak)[None, :], hour)
    return figures


def load_calibration() -> dict:
    """The stored calibration figures (measured on the published data set)."""
    return json.loads(CALIBRATION_FILE.read_text())


def main(argv: list[str]) -> int:
    from eglb.envs.eglb2022 import default_data_path, load_eglb2022
    from eglb.envs.errors import InputError
    from eglb.envs.files import atomic_write_json

    try:
        scenario = load_eglb2022(argv[0] if argv else default_data_path())
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    figures = measure(scenario)
    figures["source"] = (
        "measured by `python -m eglb.envs.calibration` on the published eglb-2022 data set "
        "(Li, Yang, Wierman, Ren, e-Energy 2024; MIT), 2022-09-22 00:00 to 2022-10-11 00:00 UTC, "
        f"{scenario.n_hours} hours"
    )
    atomic_write_json(CALIBRATION_FILE, figures)
    print(f"wrote {CALIBRATION_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
