"""Small files in the history folder's exact formats, written by the tests (synthetic values only).

Each writer reproduces its source's real layout: the Electricity Maps header with the subscript "₂"
and CRLF line endings, the two-column price files with LF endings, Open-Meteo's 4-space JSON with no
trailing newline, EIA-930's offset-aware stamps, the annual mix's empty cells.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

CARBON_HEADER = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),Carbon Intensity gCO₂eq/kWh (LCA),"
    "Low Carbon Percentage,Renewable Percentage,Data Source,Data Estimated,Data Estimation Method"
)


def hours_from(start: str, count: int) -> np.ndarray:
    return np.datetime64(start, "h") + np.arange(count)


def stamp(hour: np.datetime64, sep: str = " ") -> str:
    return str(np.datetime64(hour, "s")).replace("T", sep)


def write_carbon(
    path: Path,
    start: str,
    direct_g,
    lca_g=None,
    header: str = CARBON_HEADER,
    zone_id: str = "XX",
    stamps: list[str] | None = None,
) -> Path:
    """An Electricity Maps hourly file: one row per value from ``start`` (naive UTC), CRLF."""
    direct_g = list(direct_g)
    lca_g = list(lca_g) if lca_g is not None else [None if v is None or v == "" else float(v) + 50.0 for v in direct_g]
    stamps = stamps or [stamp(h) for h in hours_from(start, len(direct_g))]
    lines = [header]
    for k, (when, direct, lca) in enumerate(zip(stamps, direct_g, lca_g)):
        estimated = "true" if k % 7 == 0 else "false"
        method = "ESTIMATED_TIME_SLICER_AVERAGE" if estimated == "true" else ""
        lines.append(
            f"{when},Japan,Tōkyō,{zone_id},{'' if direct is None else direct},{'' if lca is None else lca},50.0,20.0,"
            f"emcsg.com;  ema.gov.sg,{estimated},{method}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def write_price(path: Path, currency: str, rows: list[tuple[str, object]], unit: str = "MWh") -> Path:
    """A two-column price file: (stamp as written, value) rows, LF."""
    lines = [f"Datetime,Price ({currency}/{unit})"] + [f"{when},{value}" for when, value in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_weather(
    path: Path,
    local_start: str,
    temperature,
    humidity,
    utc_offset_seconds: int,
    timezone: str = "Asia/Kolkata",
    units: dict | None = None,
    times: list[str] | None = None,
    latitude: float = 19.086115,
    longitude: float = 72.85291,
) -> Path:
    """An Open-Meteo JSON file: local times at one fixed offset, 4-space indent, no trailing newline."""
    temperature, humidity = list(temperature), list(humidity)
    times = times or [str(h.astype("datetime64[m]")) for h in hours_from(local_start, len(temperature))]
    document = {
        "latitude": latitude,
        "longitude": longitude,
        "generationtime_ms": 83.28,
        "utc_offset_seconds": utc_offset_seconds,
        "timezone": timezone,
        "timezone_abbreviation": "GMT+5:30",
        "elevation": 9.0,
        "hourly_units": units
        or {"time": "iso8601", "temperature_2m": "°C", "relative_humidity_2m": "%", "cloudcover": "%", "windspeed_10m": "km/h"},
        "hourly": {
            "time": times,
            "temperature_2m": temperature,
            "relative_humidity_2m": humidity,
            "cloudcover": [100] * len(times),
            "windspeed_10m": [5.5] * len(times),
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=4), encoding="utf-8")
    return path


EIA_COLUMNS = ("WND", "SUN", "WAT", "OIL", "NG", "COL", "NUC", "OTH")


def write_eia930(path: Path, start: str, generation: np.ndarray, empty_rows: tuple[int, ...] = (), naive: bool = False) -> Path:
    """An EIA-930 file as dc-rl ships it: ``timestamp`` with +00:00, 8 fuel columns (MWh), avg_CI."""
    lines = ["timestamp," + ",".join(EIA_COLUMNS) + ",avg_CI"]
    for k, hour in enumerate(hours_from(start, generation.shape[0])):
        when = stamp(hour) + ("" if naive else "+00:00")
        cells = [""] * 9 if k in empty_rows else [f"{v:.1f}" for v in generation[k]] + ["341.4"]
        lines.append(when + "," + ",".join(cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_annual_mix(path: Path, rows: dict[str, tuple]) -> Path:
    """The annual mix table: name, hydro, solar, wind, nuclear, fossil fuels (None: an empty cell)."""
    lines = ["name,hydro,solar,wind,nuclear,fossil fuels"]
    for name, shares in rows.items():
        lines.append(name + "," + ",".join("" if s is None else repr(float(s)) for s in shares))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def daily_wave(hours: np.ndarray, level: float, swing: float, phase: int = 0) -> np.ndarray:
    """A deterministic daily cycle at UTC hours ``hours`` (datetime64[h])."""
    hour = (hours.astype(np.int64) + phase) % 24
    return level + swing * np.sin(2 * np.pi * hour / 24)


# ----------------------------------------------------------------------------------- a small history folder
MIX = {
    "US-TEX-ERCO": (0.001, 0.05, 0.26, 0.10, 0.589),
    "DE": (0.026, 0.10, 0.245, 0.068, 0.561),
    "BE": (0.0, 0.07, 0.12, 0.49, 0.32),
}


def utc_hours(year: int) -> np.ndarray:
    return np.arange(np.datetime64(f"{year}-01-01T00", "h"), np.datetime64(f"{year + 1}-01-01T00", "h"))


def carbon_g(hours: np.ndarray, level: float) -> np.ndarray:
    return level + (hours.astype(np.int64) % 24)


def temperature(hours: np.ndarray, level: float) -> np.ndarray:
    return np.round(level + 8 * np.sin(2 * np.pi * (hours.astype(np.int64) % 24) / 24), 1)


def local_year_utc(year: int, offset_hours: int) -> np.ndarray:
    """UTC hours of a fixed-offset local calendar year."""
    return utc_hours(year) - np.timedelta64(offset_hours, "h")


def make_history(root, years=(2021, 2022)):
    """Two complete zones (ERCOT-like and DE-LU-like) and a Belgian price folder, in the real layouts."""
    for year in years:
        hours = utc_hours(year)
        write_carbon(
            root / "carbon" / "US-TEX-ERCO" / str(year) / f"US-TEX-ERCO_{year}_hourly.csv", str(hours[0]), carbon_g(hours, 300.0)
        )
        write_carbon(
            root / "carbon" / "DE-LU" / str(year) / f"DE-LU_{year}_hourly.csv",
            str(hours[0]),
            carbon_g(hours, 400.0),
            zone_id="DE",
        )
        dallas = local_year_utc(year, -5)
        write_weather(
            root / "weather" / "US-TEX-ERCO" / f"{year}.json",
            f"{year}-01-01T00",
            temperature(dallas, 22.0),
            [55.0] * dallas.size,
            -18000,
            timezone="America/Chicago",
            latitude=32.79,
            longitude=-96.82,
        )
        frankfurt = local_year_utc(year, 1)
        write_weather(
            root / "weather" / "DE-LU" / f"{year}.json",
            f"{year}-01-01T00",
            temperature(frankfurt, 10.0),
            [70.0] * frankfurt.size,
            3600,
            timezone="Europe/Berlin",
            latitude=50.09,
            longitude=8.65,
        )
        # ERCOT: local calendar year written with its offset, price = 40 + UTC hour of day
        local = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz="America/Chicago", inclusive="left")
        utc = local.tz_convert(None).to_numpy().astype("datetime64[h]")
        write_price(
            root / "price" / "US-TEX-ERCO" / str(year) / f"US-TEX-ERCO_electricity_prices_{year}.csv",
            "USD",
            [(t.isoformat(sep=" "), 40.0 + u.astype(np.int64) % 24) for t, u in zip(local, utc)],
        )
        # EU: 24 labels on every local day, a constant 80 EUR (DE-LU misses 2 Sep 2022), 90 EUR in BE
        labels = [
            f"{d} {h:02d}:00:00"
            for d in pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D").strftime("%Y-%m-%d")
            for h in range(24)
        ]
        write_price(
            root / "price" / "DE-LU" / str(year) / f"DE-LU_electricity_prices_{year}.csv",
            "EUR",
            [(label, 80.0) for label in labels if not label.startswith("2022-09-02")],
        )
        write_price(
            root / "price" / "BE" / str(year) / f"BE_electricity_prices_{year}.csv", "EUR", [(label, 90.0) for label in labels]
        )
    write_annual_mix(root / "fuelmix" / "electricitymaps-annual-2022" / "all_energy_mix_2022.csv", MIX)
    generation = np.tile([16317, 50, 7, 0, 14483, 9642, 5101, 60], (8760, 1)).astype(float)
    write_eia930(root / "fuelmix" / "eia930-hourly-2022" / "ERCO_NG_&_avgCI.csv", "2022-01-01T00", generation)
    table = root / "my_regions.csv"
    table.write_text(
        "# two regions of my own\n"
        "region,carbon,price,weather,annual_mix,hourly_mix,stand_in,note\n"
        "Dallas,US-TEX-ERCO,US-TEX-ERCO,US-TEX-ERCO,US-TEX-ERCO,ERCO,,ERCOT\n"
        "Frankfurt,DE-LU,DE-LU,DE-LU,DE,,,DE-LU\n"
        "Brussels,DE-LU,BE,DE-LU,BE,,carbon weather,Belgian price with DE-LU carbon and weather\n"
    )
    return root


def history_args(root: Path, years: str, hours: str | None = None, regions: str = "US-TEX-ERCO,DE-LU") -> list[str]:
    """Command-line options selecting regions, years (and hours) of a history folder."""
    return ["--traces", str(root), "--regions", regions, "--years", years] + (["--hours", hours] if hours else [])


#: train.py options for a bc run of a few seconds (two DAgger iterations of two one-day episodes).
TINY_BC = [
    "--timesteps",
    "48",
    "--set",
    "env.episode_hours=24",
    "--set",
    "model.episodes_per_iteration=2",
    "--set",
    "model.epochs=2",
    "--set",
    "model.workers=1",
    "--no-progress",
]
