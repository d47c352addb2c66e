"""Forecast errors of every forecaster on held-out data: MAPE per signal and lead (scaled MAE for prices).

Held-out data: synthetic seeds 0..4 (below the training seeds, which start at 1000), 1000 hours each,
and the published set (full setting; 457 hours). Forecasts are scored from hour 168 on (a week of
history for every forecaster) up to the last hour with a full 72-hour horizon. The learned
forecaster is loaded from ``--model`` (trained there first if absent). Writes ``errors.md`` and
``errors.json`` into ``--out`` and prints the table. Measures (forecasts.accuracy): MAPE for carbon,
water and workload; for prices, which come near zero and go negative, the mean absolute error
divided by the mean absolute price.

    python benchmarks/bench_forecasters.py [--out results/forecasters] [--model results/forecasters/learned]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import learned_forecaster
from eglb.envs.eglb2022 import default_data_path, load_eglb2022
from eglb.envs.files import atomic_write_json, atomic_write_text
from eglb.envs.forecast import SIGNALS, NoisyTruthForecaster
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts.accuracy import MEASURE, forecast_errors
from eglb.forecasts.naive import PersistenceForecaster, SeasonalNaiveForecaster

LEADS = (1, 6, 24, 72)


def data_sets() -> dict[str, list]:
    sets = {"held-out synthetic (seeds 0-4, 1000 h)": [make_synthetic(seed, hours=1000) for seed in range(5)]}
    path = default_data_path()
    if (path / "AI_workload.csv").is_file():
        sets["published (full, 457 h)"] = [load_eglb2022(path, "full")]
    else:
        print(f"(published data not found at {path}; set EGLB2022_DATA)")
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/forecasters")
    parser.add_argument("--model", default=None, help="learned forecaster folder (default OUT/learned)")
    args = parser.parse_args()
    out = Path(args.out)
    forecasters = [
        NoisyTruthForecaster(0.05),
        NoisyTruthForecaster(0.1),
        PersistenceForecaster(),
        SeasonalNaiveForecaster(24),
        SeasonalNaiveForecaster(168),
        learned_forecaster(Path(args.model) if args.model else out / "learned"),
    ]
    lines = [
        "# Forecast errors on held-out data",
        "",
        f"Columns: error at lead k hours (k in {', '.join(map(str, LEADS))}) and the mean over leads 1..24. "
        "Price: scaled MAE (mean absolute error / mean absolute price); other signals: MAPE. "
        "Forecasts made at every hour from 168 to T - 73.",
    ]
    document = {}
    for label, scenarios in data_sets().items():
        lines += [
            "",
            f"## {label}",
            "",
            "| forecaster | signal | measure | " + " | ".join(f"lead {k}" for k in LEADS) + " | mean 1-24 |",
            "|---|---|---|" + "---|" * (len(LEADS) + 1),
        ]
        document[label] = {}
        for forecaster in forecasters:
            begin = time.perf_counter()
            errors = forecast_errors(forecaster, scenarios, horizon=max(LEADS), rng=np.random.default_rng(0))
            document[label][forecaster.name] = {s: errors.error[s] for s in SIGNALS}
            for signal in SIGNALS:
                values = " | ".join(f"{100 * errors.at(signal, k):.1f} %" for k in LEADS)
                lines.append(
                    f"| {forecaster.name} | {signal} | {MEASURE[signal]} | {values} | {100 * errors.mean(signal, 24):.1f} % |"
                )
            print(
                f"{label}: {forecaster.name} scored {errors.forecasts} forecasts in {time.perf_counter() - begin:.2f} s",
                flush=True,
            )
    text = "\n".join(lines) + "\n"
    atomic_write_text(out / "errors.md", text)
    atomic_write_json(out / "errors.json", document)
    print(text)


if __name__ == "__main__":
    main()
