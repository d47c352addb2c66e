"""Forecast errors of every forecaster on held-out data: MAPE per signal and lead (scaled MAE for prices).

Held-out data: synthetic seeds 0..4 (below the training seeds, which start at 1000), 1000 hours each,
and the published set (full setting; 457 hours). Forecasts are scored from hour 168 on (a week of
history for every forecaster) up to the last hour with a full 72-hour horizon. The learned
forecaster is loaded from ``--model`` (trained there first if absent). Writes ``errors.md`` and
``errors.json`` into ``--out`` and prints the table. Measures (forecasts.accuracy): MAPE for carbon,
water and workload; for prices, which come near zero and go negative, the mean absolute error
divided by the mean absolute price.

    python benchmarks/bench_forecasters.py [--out results/forecasters] [--model results/forecasters/learned]

``--history [FOLDER]`` scores them instead on the real history's selection year 2023 (14 zones; never
2024), in the measures of the published figures (the history folder's MARKETS.md): carbon MAPE and MAE
by lead, price sMAPE and MAE by lead for the day-ahead, real-time and tariff zones apart (epftoolbox's
measures), water and workload MAPE, and writes ``history.md`` / ``history.json``. It adds the learned
forecaster trained on the history's training years 2021-2022 (``--history-model``, trained there
first if absent: ``python -m eglb.forecasts.train --history FOLDER``) and the market forecaster
(published prices exactly, the rest seasonal-naive or learned).
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
    parser.add_argument("--history", nargs="?", const="", default=None, help="score on the history's 2023 (folder)")
    parser.add_argument(
        "--history-model", default=None, help="learned forecaster trained on 2021-2022 (default OUT/learned-history)"
    )
    args = parser.parse_args()
    out = Path(args.out)
    if args.history is not None:
        history_errors(args, out)
        return
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


HISTORY_LEADS = (1, 6, 12, 24, 48, 72)
#: Published figures next to which each table is read (history folder's MARKETS.md, with its sources).
PUBLISHED_CARBON = {
    24: "6-10 % (DACF day-ahead 6.4 %; CarbonX 9.59 %; Germany 8.17 %)",
    72: "10-16 % (MARKETS.md rule 4; EnsembleCI and CarbonX grow less with lead)",
    1: "2-4 % (extrapolated, UNCONFIRMED)",
    6: "5-7 % (extrapolated, UNCONFIRMED)",
}
PUBLISHED_PRICE = (
    "epftoolbox (Lago et al. 2021), day-ahead forecasts of the next day's 24 prices: DNN-Ens sMAPE 4.88 % (Nord Pool), "
    "10.81-14.08 % (EPEX FR, BE, DE), 11.33 % (PJM); MAE 1.68-5.87 EUR/MWh in 2015-2018 (price levels then were a "
    "third of 2023's: compare sMAPE)"
)


def history_forecasters(args, out: Path, folder: Path):
    """The forecasters scored on the history: naive, learned (synthetic and history-trained), market, one oracle."""
    from eglb.forecasts.learned import CONFIG_FILE, load_learned_forecaster
    from eglb.forecasts.market import MarketForecaster
    from eglb.forecasts.train import main as train

    history_model = Path(args.history_model) if args.history_model else out / "learned-history"
    if not (history_model / CONFIG_FILE).is_file():
        print(f"training the learned forecaster on the history's 2021-2022 into {history_model} ...", flush=True)
        if train(["--history", str(folder), "--out", str(history_model)]) != 0:
            raise SystemExit(2)
    synthetic_learned = learned_forecaster(Path(args.model) if args.model else out / "learned")
    synthetic_learned.name = "learned (synthetic)"
    history_learned = load_learned_forecaster(history_model)
    history_learned.name = "learned (history 2021-22)"
    return [
        PersistenceForecaster(),
        SeasonalNaiveForecaster(24),
        SeasonalNaiveForecaster(168),
        synthetic_learned,
        history_learned,
        MarketForecaster(SeasonalNaiveForecaster(24)),
        MarketForecaster(history_learned),
        NoisyTruthForecaster(0.1),
    ]


def history_errors(args, out: Path) -> None:
    """Errors on the history's 2023, by signal, lead and market kind, next to the published figures."""
    from eglb.importers.history import load_history
    from eglb.importers.paths import default_history_path
    from eglb.importers.regions import read_region_table

    folder = Path(args.history) if args.history else default_history_path()
    scenario = load_history(folder, years=2023)
    kinds = {r.name: r.market_rule().kind for r in read_region_table("complete14")}
    groups = {kind: [r for r in scenario.regions if kinds[r] == kind] for kind in ("day-ahead", "real-time", "tariff")}
    leads = " | ".join(f"lead {k}" for k in HISTORY_LEADS)
    results = {}
    for forecaster in history_forecasters(args, out, folder):
        begin = time.perf_counter()
        results[forecaster.name] = forecast_errors(
            forecaster, [scenario], horizon=max(HISTORY_LEADS), rng=np.random.default_rng(0)
        )
        print(f"history 2023: {forecaster.name} in {time.perf_counter() - begin:.1f} s", flush=True)

    def row(name: str, values: np.ndarray, scale: float = 100.0, unit: str = " %") -> str:
        cells = " | ".join(f"{scale * values[k - 1]:.1f}{unit}" for k in HISTORY_LEADS)
        return f"| {name} | {cells} | {scale * np.nanmean(values[:24]):.1f}{unit} |"

    head = f"| forecaster | {leads} | mean 1-24 |\n|---|" + "---|" * (len(HISTORY_LEADS) + 1)
    lines = [
        "# Forecast errors on the history, 2023 (the selection year), next to published figures",
        "",
        f"{scenario.n_regions} zones, forecasts made at every hour from 168 to T - 73 of UTC 2023 ({results['persistence'].forecasts} "
        "forecasts each). `market+...`: published prices exactly, the rest from the named forecaster; `noisy(0.1)` "
        "reads the truth (an oracle reference).",
        "",
        "**Carbon intensity, MAPE** (published: "
        + "; ".join(f"lead {k} h {v}" for k, v in sorted(PUBLISHED_CARBON.items()))
        + ")",
        "",
        head,
    ]
    lines += [row(name, e.measure("carbon", "MAPE")) for name, e in results.items() if not name.startswith("market")]
    lines += [
        "",
        "**Carbon intensity, MAE in g/kWh** (published: NESO national 13.7 g, 2017-2023; 24.2 g over leads 0-48 h)",
        "",
        head,
    ]
    lines += [row(name, e.measure("carbon", "MAE"), 1000.0, "") for name, e in results.items() if not name.startswith("market")]
    for kind, regions in groups.items():
        published = PUBLISHED_PRICE if kind == "day-ahead" else "the published figures above are for day-ahead markets"
        lines += ["", f"**Price, sMAPE, {kind} zones ({', '.join(regions)})** ({published})", "", head]
        lines += [row(name, e.measure("price", "sMAPE", regions)) for name, e in results.items()]
    for kind, regions in groups.items():
        lines += ["", f"**Price, MAE in USD/MWh, {kind} zones**", "", head]
        lines += [row(name, e.measure("price", "MAE", regions), 1.0, "") for name, e in results.items()]
    for signal in ("water", "workload"):
        lines += [
            "",
            f"**{signal.capitalize()}, MAPE** (no published figure: water is derived from weather, workload is modelled)",
            "",
            head,
        ]
        lines += [row(name, e.measure(signal, "MAPE")) for name, e in results.items() if not name.startswith("market")]
    text = "\n".join(lines) + "\n"
    document = {
        name: {
            "carbon": {m: e.measure("carbon", m) for m in ("MAPE", "MAE")},
            "price": {kind: {m: e.measure("price", m, regions) for m in ("sMAPE", "MAE")} for kind, regions in groups.items()},
            "water": {"MAPE": e.measure("water", "MAPE")},
            "workload": {"MAPE": e.measure("workload", "MAPE")},
        }
        for name, e in results.items()
    }
    atomic_write_text(out / "history.md", text)
    atomic_write_json(out / "history.json", document)
    print(text)


if __name__ == "__main__":
    main()
