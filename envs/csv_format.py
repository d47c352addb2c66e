"""The project's own tidy CSV scenario format: a folder of four small tables and a JSON header.

::

    scenario.json   {"name": ..., "mu_water": 60.0, "mu_carbon": 1500.0}      (optional)
    regions.csv     region, capacity_mw                                        one row per region
    signals.csv     timestamp, region, price_usd_mwh, carbon_t_mwh, water_m3_mwh [, capacity_mw]
                                                                               one row per hour and region
    workload.csv    timestamp, gateway, load_mw                                one row per hour and gateway
    mask.csv        region, gateway                                            one row per allowed pair
                                                                               (optional: no file = full mask)

Timestamps are ISO 8601 in UTC ("2022-09-22T00:00:00"). Regions keep the order of regions.csv,
gateways the order of their first appearance in workload.csv, hours are sorted. The optional
``capacity_mw`` column of signals.csv gives hour-dependent capacity (e.g. outages) and overrides
regions.csv. Numbers are written with the shortest repr that reads back to the same float, so
save and load round-trip exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError, existing_folder, shown
from eglb.envs.files import (
    atomic_write,
    atomic_write_json,
    decode_text,
    line_of,
    numeric_column,
    read_bytes,
    read_table,
    require_consecutive_hours,
    require_name,
    require_whole_hours,
    timestamp_column,
)
from eglb.envs.scenario import Scenario
from eglb.envs.validation import require_nonnegative

SIGNAL_COLUMNS = ("price_usd_mwh", "carbon_t_mwh", "water_m3_mwh")
_FIELDS = dict(zip(SIGNAL_COLUMNS, ("price", "carbon", "water")))


def is_csv_folder(path: Path) -> bool:
    """True if ``path`` looks like this format."""
    return (Path(path) / "signals.csv").is_file()


def save_scenario(scenario: Scenario, folder: str | Path) -> Path:
    """Write ``scenario`` into ``folder`` (created if needed); every file is written atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n, t = scenario.n_regions, scenario.n_hours
    stamps = np.datetime_as_string(scenario.timestamps, unit="s")
    constant_capacity = bool((scenario.capacity == scenario.capacity[:, :1]).all())

    atomic_write_json(
        folder / "scenario.json",
        {"name": scenario.name, "mu_water": scenario.mu_water, "mu_carbon": scenario.mu_carbon},
    )
    regions = pd.DataFrame({"region": scenario.regions, "capacity_mw": scenario.capacity.max(axis=1)})
    _write_csv(regions, folder / "regions.csv")
    signals = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, n),
            "region": np.tile(np.array(scenario.regions, dtype=object), t),
            **{column: getattr(scenario, field).T.ravel() for column, field in _FIELDS.items()},
        }
    )
    if not constant_capacity:
        signals["capacity_mw"] = scenario.capacity.T.ravel()
    _write_csv(signals, folder / "signals.csv")
    workload = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, scenario.n_gateways),
            "gateway": np.tile(np.array(scenario.gateways, dtype=object), t),
            "load_mw": scenario.workload.T.ravel(),
        }
    )
    _write_csv(workload, folder / "workload.csv")
    mask_file = folder / "mask.csv"
    if scenario.full_mask:
        mask_file.unlink(missing_ok=True)
    else:
        rows, cols = np.nonzero(scenario.mask)
        pairs = pd.DataFrame({"region": [scenario.regions[i] for i in rows], "gateway": [scenario.gateways[j] for j in cols]})
        _write_csv(pairs, mask_file)
    return folder


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    # float_format=None makes pandas write repr(float): the shortest string that reads back exactly.
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def load_scenario(folder: str | Path, setting: str | None = None) -> Scenario:
    """Read a scenario folder written by :func:`save_scenario` (or by hand, as documented above).

    Args:
        folder: the folder.
        setting: None to use mask.csv as found, "full" to ignore it, "partial" to require it.
    """
    folder = existing_folder(folder, "scenario folder")
    header = _read_header(folder / "scenario.json")

    regions_path = folder / "regions.csv"
    regions_table = read_table(regions_path, ("region", "capacity_mw"))
    regions = tuple(regions_table["region"].str.strip())
    _require_unique_names(regions, regions_path, "region")
    for row, name in enumerate(regions):
        require_name(name, f"file {regions_path}, line {line_of(row)}, column 'region'", "region")
    capacity = numeric_column(regions_table, "capacity_mw", regions_path)
    require_nonnegative(capacity, "capacity_mw", lambda idx: f"file {regions_path}, line {line_of(idx[0])}")

    signals_path = folder / "signals.csv"
    signals = read_table(signals_path, ("timestamp", "region") + SIGNAL_COLUMNS)
    stamps, region_index = _grid_positions(signals, signals_path, "region", regions)
    require_whole_hours(stamps, signals_path, "timestamp")
    hours = np.unique(stamps)
    require_consecutive_hours(hours, signals_path)
    hour_index = np.searchsorted(hours, stamps)
    _require_complete_grid(hour_index, region_index, hours, regions, signals_path, "region")
    arrays = {}
    for column, field in _FIELDS.items():
        values = numeric_column(signals, column, signals_path)
        if field != "price":
            require_nonnegative(values, f"column {column!r}", lambda idx: f"file {signals_path}, line {line_of(idx[0])}")
        grid = np.empty((len(regions), hours.size))
        grid[region_index, hour_index] = values
        arrays[field] = grid
    if "capacity_mw" in signals.columns:
        values = numeric_column(signals, "capacity_mw", signals_path)
        require_nonnegative(values, "column 'capacity_mw'", lambda idx: f"file {signals_path}, line {line_of(idx[0])}")
        hourly = np.empty((len(regions), hours.size))
        hourly[region_index, hour_index] = values
        capacity = hourly

    workload_path = folder / "workload.csv"
    workload_table = read_table(workload_path, ("timestamp", "gateway", "load_mw"))
    first_rows = workload_table["gateway"].str.strip().drop_duplicates()
    gateways = tuple(first_rows)
    for row, name in first_rows.items():
        require_name(name, f"file {workload_path}, line {line_of(row)}, column 'gateway'", "gateway")
    load_stamps, gateway_index = _grid_positions(workload_table, workload_path, "gateway", gateways)
    missing = np.setdiff1d(hours, load_stamps)
    extra = np.setdiff1d(load_stamps, hours)
    if missing.size or extra.size:
        stamp = (missing if missing.size else extra)[0]
        where = f"{workload_path} has no row" if missing.size else f"{signals_path} has no row"
        raise InputError(
            f"timestamps of {signals_path} and {workload_path} differ: {where} for {np.datetime_as_string(stamp, unit='s')}"
        )
    load_hour = np.searchsorted(hours, load_stamps)
    _require_complete_grid(load_hour, gateway_index, hours, gateways, workload_path, "gateway")
    loads = numeric_column(workload_table, "load_mw", workload_path)
    require_nonnegative(loads, "column 'load_mw'", lambda idx: f"file {workload_path}, line {line_of(idx[0])}")
    workload = np.empty((len(gateways), hours.size))
    workload[gateway_index, load_hour] = loads

    mask = _read_mask(folder / "mask.csv", regions, gateways, setting)
    return Scenario(
        regions=regions,
        gateways=gateways,
        timestamps=hours,
        workload=workload,
        capacity=capacity,
        mask=mask,
        mu_water=header.get("mu_water", 60.0),
        mu_carbon=header.get("mu_carbon", 1500.0),
        name=header.get("name", folder.name),
        **arrays,
    )


def _read_header(path: Path) -> dict:
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        header = json.loads(decode_text(read_bytes(path), path))
    except InputError:
        raise
    except json.JSONDecodeError as exc:
        raise InputError(f"file {path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except (ValueError, RecursionError) as exc:  # nesting too deep, an integer of thousands of digits
        raise InputError(f"file {path} is not a readable JSON header: {shown(str(exc), 120)}") from None
    if not isinstance(header, dict):
        raise InputError(f"file {path} must hold a JSON object with name, mu_water, mu_carbon")
    unknown = set(header) - {"name", "mu_water", "mu_carbon"}
    if unknown:
        raise InputError(f"file {path}: unknown key {shown(sorted(unknown)[0])} (expected name, mu_water, mu_carbon)")
    for key in ("mu_water", "mu_carbon"):
        value = header.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) < 1e300:
            raise InputError(f"file {path}: {key} must be a number (USD per unit), got {shown(value)}")
    if not isinstance(header.get("name", "x"), str):
        raise InputError(f"file {path}: name must be a string, got {shown(header['name'])}")
    if "name" in header:
        require_name(header["name"].strip(), f"file {path}", "scenario")
    return header


def _require_unique_names(names: tuple[str, ...], path: Path, what: str) -> None:
    seen: dict[str, int] = {}
    for row, name in enumerate(names):
        if name in seen:
            raise InputError(f"file {path}, line {line_of(row)}: {what} {shown(name)} already on line {line_of(seen[name])}")
        seen[name] = row


def _grid_positions(table: pd.DataFrame, path: Path, key: str, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and name indices of a long table's rows, rejecting unknown names."""
    stamps = timestamp_column(table, "timestamp", path)
    lookup = {name: k for k, name in enumerate(names)}
    labels = table[key].str.strip()
    index = labels.map(lookup)
    unknown = index.isna().to_numpy()
    if unknown.any():
        row = int(np.argmax(unknown))
        raise InputError(f"file {path}, line {line_of(row)}, column {key!r}: unknown {key} {shown(labels.iloc[row])}")
    return stamps, index.to_numpy(dtype=np.int64)


def _require_complete_grid(hour_index, name_index, hours, names, path: Path, key: str) -> None:
    """Every (hour, name) pair exactly once."""
    code = hour_index * len(names) + name_index
    _, first, counts = np.unique(code, return_index=True, return_counts=True)
    if (counts > 1).any():
        repeated = np.ones(code.size, dtype=bool)
        repeated[first] = False
        row = int(np.argmax(repeated))
        raise InputError(
            f"file {path}, line {line_of(row)}: {key} {shown(names[name_index[row]])} at "
            f"{np.datetime_as_string(hours[hour_index[row]], unit='s')} is listed twice"
        )
    if code.size != hours.size * len(names):
        present = np.zeros((hours.size, len(names)), dtype=bool)
        present[hour_index, name_index] = True
        t, k = np.argwhere(~present)[0]
        raise InputError(f"file {path} has no row for {key} {shown(names[k])} at {np.datetime_as_string(hours[t], unit='s')}")


def _read_mask(path: Path, regions, gateways, setting: str | None) -> np.ndarray:
    full = np.ones((len(regions), len(gateways)), dtype=bool)
    if setting not in (None, "full", "partial"):
        raise InputError(f"setting must be 'full' or 'partial', got {setting!r}")
    if setting == "full":
        return full
    if not path.is_file():
        if setting == "partial":
            raise InputError(f"setting 'partial' needs a mask file, and {path} does not exist")
        return full
    table = read_table(path, ("region", "gateway"))
    region_of = {name: k for k, name in enumerate(regions)}
    gateway_of = {name: k for k, name in enumerate(gateways)}
    mask = np.zeros_like(full)
    for row, (region, gateway) in enumerate(zip(table["region"].str.strip(), table["gateway"].str.strip())):
        if region not in region_of:
            raise InputError(f"file {path}, line {line_of(row)}, column 'region': unknown region {shown(region)}")
        if gateway not in gateway_of:
            raise InputError(f"file {path}, line {line_of(row)}, column 'gateway': unknown gateway {shown(gateway)}")
        mask[region_of[region], gateway_of[gateway]] = True
    return mask
