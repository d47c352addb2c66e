"""History scenarios: the multi-year history folder -> a :class:`~eglb.envs.scenario.Scenario` with its report.

The folder (``$EGLB_HISTORY_DATA``, default ``../shared/data/history`` beside the repository) is
read by path, as its sources ship it (its README.md and README-2024.md describe every file)::

    carbon/<ZONE>/<YEAR>/<ZONE>_<YEAR>_hourly.csv                  importers.electricitymaps
    price/<FOLDER>/<YEAR>/<FOLDER>_electricity_prices_<YEAR>.csv   importers.prices
    weather/<ZONE>/<YEAR>.json                                     importers.openmeteo
    fuelmix/eia930-hourly-2022/<BA>_NG_&_avgCI.csv                 importers.eia930
    fuelmix/electricitymaps-annual-2022/all_energy_mix_2022.csv    importers.annual_mix

:func:`load_history` picks regions from a region table (:mod:`eglb.importers.regions`), reads every
series of the chosen UTC years onto one hourly UTC grid (:mod:`eglb.importers.grid`: counts, duplicates,
gap fills, all reported), derives water intensity from weather and the grid mix
(:mod:`eglb.importers.water`), puts one gateway at each region with a pluggable workload
(:mod:`eglb.importers.sites`; default :class:`eglb.importers.workload.FittedLoads`) and returns a scenario
whose ``metadata`` holds the report.

Files of the years around the chosen ones are read too, for the hours they hold of the chosen years
(local-year files cross the UTC year boundary); the files of a held-out year
(:data:`HELD_OUT_YEARS`, the test year 2024) are read only when that year is chosen, so a 2023
scenario of an eastern zone ends with a few filled hours rather than a peek at the test files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario, hourly_timestamps
from eglb.envs.validation import parse_hours
from eglb.importers.annual_mix import read_annual_mix
from eglb.importers.cache import CacheSetting
from eglb.importers.currency import RateTable, rate_table
from eglb.importers.eia930 import FUELS, read_eia930
from eglb.importers.electricitymaps import read_carbon
from eglb.importers.grid import DEFAULT_FILL, FillRule, Rows, SeriesReport, place, utc_hour
from eglb.importers.openmeteo import read_weather
from eglb.importers.paths import HISTORY_ENV, default_history_path
from eglb.importers.prices import convention_for, read_prices
from eglb.importers.regions import Region, select_regions
from eglb.importers.sites import Site, require_timezone
from eglb.importers.water import water_intensity, water_parameters
from eglb.importers.workload import FittedLoads

#: Years whose files are read only when the year itself is chosen (the test year: tune nothing on it).
HELD_OUT_YEARS = (2024,)
EIA930_YEAR = 2022
EIA930_FILE = "fuelmix/eia930-hourly-2022/{ba}_NG_&_avgCI.csv"
ANNUAL_MIX_FILE = "fuelmix/electricitymaps-annual-2022/all_energy_mix_2022.csv"
MIX_CHOICES = ("annual", "hourly", "best")
#: Default spare capacity: every region gets (1 + this) x the peak load of its co-located gateway.
CAPACITY_HEADROOM = 0.25
ATTRIBUTION = (
    "Contains information from Electricity Maps (https://www.electricitymaps.com), which is made available here "
    "under the Open Database License (ODbL).",
    "Weather data by Open-Meteo.com (https://open-meteo.com/), CC BY 4.0.",
    "Prices, carbon and weather packaging: SustainCluster (Guillen et al., NeurIPS 2025 Datasets and Benchmarks), "
    "MIT, (c) 2025 Hewlett Packard Enterprise.",
    "Source: U.S. Energy Information Administration, Form EIA-930 (via SustainDC/dc-rl, MIT, Hewlett Packard Enterprise).",
)
#: signal -> (columns read onto the grid)
SIGNAL_COLUMNS = {
    "carbon": ("carbon_t_mwh",),
    "price": ("price_usd_mwh",),
    "weather": ("temperature_c", "relative_humidity_pct"),
    "hourly_mix": tuple(FUELS.values()),
}

log = logging.getLogger(__name__)


def is_history_folder(path: str | Path) -> bool:
    """True if ``path`` looks like the history layout (carbon/, price/, weather/ with carbon files)."""
    folder = Path(path)
    if not all((folder / sub).is_dir() for sub in ("carbon", "price", "weather")):
        return False
    return next(iter(folder.glob("carbon/*/*/*_hourly.csv")), None) is not None


def source_file(root: Path, signal: str, folder: str, year: int) -> Path:
    """Where the history layout keeps one file of a signal (carbon, price, weather, hourly_mix)."""
    root = Path(root)
    if signal == "carbon":
        return root / "carbon" / folder / str(year) / f"{folder}_{year}_hourly.csv"
    if signal == "price":
        return root / "price" / folder / str(year) / f"{folder}_electricity_prices_{year}.csv"
    if signal == "weather":
        return root / "weather" / folder / f"{year}.json"
    if signal == "hourly_mix":
        return root / EIA930_FILE.format(ba=folder)
    raise InputError(f"unknown signal {signal!r} (signals: {', '.join(SIGNAL_COLUMNS)})")


def has_year(path: str | Path | None, regions: str | Path | Sequence[str | Region] | None, year: int) -> bool:
    """True if the history folder holds the carbon, price and weather files of ``year`` for every region
    (:func:`load_history`'s ``regions``): the year loads without a missing file."""
    root = Path(path) if path is not None else default_history_path()
    return all(
        source_file(root, signal, getattr(region, signal), year).is_file()
        for region in select_regions(regions)
        for signal in ("carbon", "price", "weather")
    )


def parse_years(years: int | str | Sequence[int]) -> tuple[int, ...]:
    """2022, "2021-2022", "2021,2022" or a sequence of years -> consecutive years, in order."""
    try:
        if isinstance(years, (int, np.integer)):
            chosen = [int(years)]
        elif isinstance(years, str):
            chosen = []
            for part in years.split(","):
                first, sep, last = part.strip().partition("-")
                chosen.extend(range(int(first), int(last) + 1) if sep else [int(first)])
        else:
            chosen = [int(y) for y in years]
    except (TypeError, ValueError):
        raise InputError(f"years must look like 2022, 2021-2022 or 2021,2022; got {years!r}") from None
    chosen = sorted(set(chosen))
    if not chosen or chosen != list(range(chosen[0], chosen[-1] + 1)):
        raise InputError(f"years must be one year or consecutive years, got {years!r}")
    return tuple(chosen)


def file_years(years: Sequence[int]) -> tuple[int, ...]:
    """The years whose files are read for UTC years ``years``: one more on each side, held-out years only if chosen."""
    around = range(years[0] - 1, years[-1] + 2)
    return tuple(y for y in around if y in years or y not in HELD_OUT_YEARS)


def series_rows(
    root: Path,
    signal: str,
    folder: str,
    years: Sequence[int],
    optional_years: Sequence[int] = (),
    *,
    basis: str = "direct",
    rates: RateTable | None = None,
    conventions: str | Path | dict | None = None,
    cache: CacheSetting = True,
) -> tuple[Rows, str, list[dict]]:
    """Read and pool one series' files: (rows, duplicate rule, the files' metadata).

    ``years`` must have a file; ``optional_years`` are read when their file exists. ``conventions``
    is the price conventions table (default the shipped one; see :func:`eglb.importers.prices.convention_for`).
    """
    frames = []
    duplicates = "error"
    for year in sorted(set(years) | set(optional_years)):
        path = source_file(root, signal, folder, year)
        if not path.is_file():
            if year in years:
                raise InputError(f"missing file {path} ({signal} of {folder!r} for {year})")
            continue
        if signal == "carbon":
            frames.append(read_carbon(path, basis=basis, year=year, cache=cache))
        elif signal == "price":
            convention = convention_for(folder, conventions)
            duplicates = convention.duplicates
            frames.append(read_prices(path, convention=convention, rates=rates, year=year, cache=cache))
        elif signal == "weather":
            frames.append(read_weather(path, year=year, cache=cache))
        else:
            frames.append(read_eia930(path, year=year, cache=cache))
    return Rows.from_frames(frames, SIGNAL_COLUMNS[signal]), duplicates, [m for _, m in frames]


def _hours_window(hours, total: int) -> tuple[int, int]:
    if hours is None:
        return 0, total
    if isinstance(hours, str):
        start, stop = parse_hours(hours)
    elif isinstance(hours, slice):
        if hours.step not in (None, 1):
            raise InputError("hours must be a contiguous range")
        start, stop, _ = hours.indices(total)
    else:
        try:
            start, stop = (int(h) for h in hours)
        except (TypeError, ValueError):
            raise InputError(f"hours must be (start, stop), a slice or 'START:END'; got {hours!r}") from None
    stop = total if stop == -1 else stop
    if not 0 <= start < stop <= total:
        raise InputError(f"hours {start}:{stop} are not inside the {total} hours of the chosen years")
    return start, stop


def load_history(
    path: str | Path | None = None,
    regions: str | Path | Sequence[str | Region] | None = None,
    years: int | str | Sequence[int] = 2022,
    hours: tuple[int, int] | slice | str | None = None,
    *,
    table: str | Path | None = None,
    carbon: str = "direct",
    mix: str = "annual",
    water_table: str | None = None,
    cycles: float | None = None,
    pue: float | None = None,
    workload: Callable | np.ndarray | None = None,
    seed: int = 0,
    capacity: float | np.ndarray | None = None,
    capacity_headroom: float = CAPACITY_HEADROOM,
    mask: np.ndarray | None = None,
    mu_water: float = 60.0,
    mu_carbon: float = 1500.0,
    fill: FillRule = DEFAULT_FILL,
    rates: None | str | Path | dict | RateTable = None,
    price_conventions: str | Path | dict | None = None,
    cache: CacheSetting = True,
    name: str | None = None,
) -> Scenario:
    """A scenario of real history: the chosen regions over the chosen UTC years (or hours of them).

    Args:
        path: the history folder (default :func:`default_history_path`).
        regions: which regions (see :func:`eglb.importers.regions.select_regions`): None for the 14
            complete zones, a table name ("complete14", "eglb2022") or path, or region names
            ("Texas,Germany", ["US-TEX-ERCO", "KR"]).
        years: UTC years, consecutive: 2022, "2021-2022", [2021, 2022].
        hours: a window of the years' hours: (start, stop), a slice or "START:END" (stop exclusive).
        table: the region table names are looked up in (default: both shipped tables).
        carbon: "direct" (combustion, the default) or "lca" (life cycle) intensity.
        mix: grid mix for the off-site water: "annual" (Electricity Maps 2022 shares, every year),
            "hourly" (EIA-930 generation, 2022 and US balancing authorities only) or "best"
            (hourly where the region has it and the years are 2022, else annual).
        water_table, cycles, pue: override ``importers/water_factors.yml`` (factor table
            "eglb" or "macknick-median", cycles of concentration, PUE).
        workload: None (the default :class:`~eglb.importers.workload.FittedLoads`: the BLOOM-fitted model), a callable
            ``(timestamps [T_years], sites, rng) -> [J, T_years]`` MW (called for the whole years,
            then windowed like the signals), or an array [J, T] MW for the final hours.
        seed: seeds the workload's generator.
        capacity: MW per region: a number, [N] or [N, T]; default (1 + ``capacity_headroom``) x the
            peak load of the region's co-located gateway over the years loaded.
        mask: [N, N] which region may serve which gateway (default: all).
        mu_water, mu_carbon: the objective's weights (USD/m^3, USD/t).
        fill: the gap rule (:class:`eglb.importers.grid.FillRule`).
        rates: exchange rates to USD (default the shipped ``importers/fx_rates.csv``).
        price_conventions: the price folders' conventions, a table path or {folder: PriceConvention}
            (default the shipped ``importers/price_conventions.csv``; needed for price folders of your own).
        cache: parsed-file cache (see :mod:`eglb.importers.cache`).
        name: the scenario's name (default "history <years> <N> regions").

    Returns:
        The scenario; ``scenario.metadata`` holds the report: per zone and signal the README-style
        counts before any fill and every fill, drop and duplicate resolution (``series``, and one
        ``summary`` line each), the regions and their stand-ins, conversions, water parameters,
        workload and capacity rules, and the data's attribution notices.
    """
    root = Path(path) if path is not None else default_history_path()
    if not is_history_folder(root):
        raise InputError(
            f"{root} is not the history folder (carbon/, price/, weather/ with carbon/<ZONE>/<YEAR>/<ZONE>_<YEAR>_hourly.csv); "
            f"set ${HISTORY_ENV} or pass the path"
        )
    if mix not in MIX_CHOICES:
        raise InputError(f"mix must be one of {MIX_CHOICES}, got {mix!r}")
    chosen = select_regions(regions, table)
    chosen_years = parse_years(years)
    around = [y for y in file_years(chosen_years) if y not in chosen_years]
    first_hour = utc_hour(f"{chosen_years[0]}-01-01T00")
    total = utc_hour(f"{chosen_years[-1] + 1}-01-01T00") - first_hour
    start, stop = _hours_window(hours, total)
    rates = rate_table(rates)
    parameters = water_parameters(water_table, cycles, pue)

    series: dict[tuple[str, str], tuple[np.ndarray, SeriesReport, list[dict]]] = {}

    def grid_of(signal: str, folder: str) -> tuple[np.ndarray, list[dict]]:
        key = (signal, folder)
        if key not in series:
            if signal == "hourly_mix":
                rows, rule, metadata = series_rows(root, signal, folder, (EIA930_YEAR,), cache=cache)
            else:
                rows, rule, metadata = series_rows(
                    root,
                    signal,
                    folder,
                    chosen_years,
                    around,
                    basis=carbon,
                    rates=rates,
                    conventions=price_conventions,
                    cache=cache,
                )
            values, report = place(rows, first_hour, total, zone=folder, signal=signal, duplicates=rule, fill=fill)
            series[key] = (values, report, metadata)
            log.info(report.summary())
        return series[key][0], series[key][2]

    annual = None
    if mix != "hourly":
        annual = read_annual_mix(root / ANNUAL_MIX_FILE)
    hourly_ok = chosen_years == (EIA930_YEAR,)
    carbon_rows, price_rows, water_rows, sites, mixes = [], [], [], [], []
    for region in chosen:
        carbon_rows.append(grid_of("carbon", region.carbon)[0][:, 0])
        price_rows.append(grid_of("price", region.price)[0][:, 0])
        weather, weather_meta = grid_of("weather", region.weather)
        use_hourly = mix == "hourly" or (mix == "best" and hourly_ok and region.hourly_mix)
        if use_hourly:
            if not region.hourly_mix:
                raise InputError(
                    f"region {region.name!r} has no hourly (EIA-930) mix in {region.table}; use mix='annual' or 'best'"
                )
            if not hourly_ok:
                raise InputError(
                    f"the hourly EIA-930 mix covers {EIA930_YEAR} only, not {chosen_years}; use mix='annual' or 'best'"
                )
            generation = grid_of("hourly_mix", region.hourly_mix)[0]
            grid_mix = {fuel: generation[:, k] for k, fuel in enumerate(SIGNAL_COLUMNS["hourly_mix"])}
            mixes.append({"region": region.name, "kind": "hourly EIA-930", "balancing_authority": region.hourly_mix})
        else:
            shares, annual_meta = annual
            if region.annual_mix not in shares.index:
                raise InputError(f"zone {region.annual_mix!r} (region {region.name!r}) is not in {annual_meta['path']}")
            row = shares.loc[region.annual_mix]
            grid_mix = {column: float(row[column]) for column in shares.columns if column != "line"}
            mixes.append(
                {"region": region.name, "kind": f"annual {annual_meta['year']}", "zone": region.annual_mix, "shares": grid_mix}
            )
        water_rows.append(water_intensity(weather[:, 0], weather[:, 1], grid_mix, parameters))
        point = weather_meta[0]
        timezone = region.timezone or point["timezone"] or None
        if timezone and not region.timezone:  # the region table's zone was checked where it was read
            require_timezone(
                timezone, f"file {point['path']}, key 'timezone' (region {region.name!r} has no timezone of its own)"
            )
        sites.append(Site(region.name, point["latitude"], point["longitude"], timezone))

    timestamps = hourly_timestamps(np.datetime64(int(first_hour), "h"), total)
    names = tuple(r.name for r in chosen)
    rng = np.random.default_rng(seed)
    if workload is None or callable(workload):
        model = workload or FittedLoads()
        loads = np.asarray(model(timestamps, tuple(sites), rng), dtype=float)
        if loads.shape != (len(names), total):
            raise InputError(f"the workload model returned shape {loads.shape}; expected [J, T] = [{len(names)}, {total}]")
        workload_text = model.describe() if hasattr(model, "describe") else f"callable {getattr(model, '__name__', model)!r}"
        peak_loads = loads.max(axis=1)
        loads = loads[:, start:stop]
    else:
        loads = np.asarray(workload, dtype=float)
        if loads.shape != (len(names), stop - start):
            raise InputError(f"argument 'workload' has shape {loads.shape}; expected [J, T] = [{len(names)}, {stop - start}]")
        workload_text = "array given by the caller"
        peak_loads = loads.max(axis=1)
    if capacity is None:
        if not np.isfinite(capacity_headroom) or capacity_headroom < 0:
            raise InputError(f"argument 'capacity_headroom' must be >= 0, got {capacity_headroom}")
        capacity_mw = (1.0 + capacity_headroom) * peak_loads
        capacity_text = f"(1 + {capacity_headroom:g}) x the peak load of the co-located gateway over the loaded hours"
    else:
        capacity_mw = np.asarray(capacity, dtype=float)
        capacity_mw = np.full(len(names), float(capacity_mw)) if capacity_mw.ndim == 0 else capacity_mw
        capacity_text = "given by the caller"

    reports = [report for _, report, _ in series.values()]
    stand_ins = [f"{r.name}: {', '.join(r.stand_in)} from stand-ins ({r.note})" for r in chosen if r.stand_in]
    metadata = {
        "source": "history",
        "path": str(root),
        "years": list(chosen_years),
        "hours": [start, stop],
        "files_read": sorted({m["path"] for _, _, metas in series.values() for m in metas}),
        "regions": [{k: v for k, v in asdict(r).items()} for r in chosen],
        "stand_ins": stand_ins,
        "carbon_basis": carbon,
        "price_conversion": {"rates_source": rates.source, "to": "USD/MWh"},
        "sources": [
            {"zone": report.zone, "signal": report.signal, **{k: v for k, v in metas[0].items() if k not in ("path", "dropped")}}
            for _, report, metas in series.values()
        ],
        "mix": mixes,
        "water": parameters.describe(),
        "fill_rule": asdict(fill),
        "series": [report.as_dict() for report in reports],
        "summary": [report.summary() for report in reports] + stand_ins,
        "workload": workload_text,
        "workload_seed": seed,
        "capacity": capacity_text,
        "attribution": list(ATTRIBUTION),
    }
    window = slice(start, stop)
    return Scenario(
        regions=names,
        gateways=names,
        timestamps=timestamps[window],
        price=np.stack(price_rows)[:, window],
        carbon=np.stack(carbon_rows)[:, window],
        water=np.stack(water_rows)[:, window],
        workload=loads,
        capacity=capacity_mw,
        mask=np.ones((len(names), len(names)), dtype=bool) if mask is None else mask,
        mu_water=mu_water,
        mu_carbon=mu_carbon,
        name=name or f"history {chosen_years[0]}-{chosen_years[-1]} {len(names)} regions",
        metadata=metadata,
    )
