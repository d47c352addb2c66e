"""Loader of the published 10-region hourly data set (eglb-2022, MIT), exactly as SPEC section 3 says.

Folder layout::

    price/<Region>_Price.csv     columns "Time (UTC)", "Price (USD/MWh)"
    carbon/<Region>_carbon.csv   columns "Time (UTC)", "Carbon (kg/kWh)"
    water/<Region>_water.csv     columns "Time (UTC)", " WUE (L/kWh)"   (leading space)
    AI_workload.csv              columns "Time (UTC)", "Power (Watt)"

Regions are files spelled Texas, Virginia, Georgia, Nevada, Germany, Belguim (sic), Netherlands,
Denmark, Japan, Singapore; gateway j is co-located with region j. Files are aligned on their common
timestamps (the non-US price files run 24 hours longer). Every gateway carries
``Power(t) / peak_power_w`` MW and every region has 1 MW of capacity, so total demand peaks at total
capacity.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError, existing_folder
from eglb.envs.files import (
    numeric_column,
    read_table,
    require_consecutive_hours,
    require_unique_rows,
    require_whole_hours,
    timestamp_column,
)
from eglb.envs.scenario import Scenario
from eglb.envs.validation import require_nonnegative

#: Region names as used in scenarios, and as spelled in the data set's file names.
REGIONS = ("Texas", "Virginia", "Georgia", "Nevada", "Germany", "Belgium", "Netherlands", "Denmark", "Japan", "Singapore")
FILE_NAMES = ("Texas", "Virginia", "Georgia", "Nevada", "Germany", "Belguim", "Netherlands", "Denmark", "Japan", "Singapore")

#: The partial-GLB mask of SPEC section 3: rows are regions i, columns gateways j.
PARTIAL_MASK = np.array(
    [
        [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],  # Texas
        [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],  # Virginia
        [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],  # Georgia
        [1, 1, 1, 1, 0, 0, 0, 0, 1, 1],  # Nevada
        [0, 1, 1, 0, 1, 1, 1, 1, 0, 0],  # Germany
        [0, 1, 1, 0, 1, 1, 1, 1, 0, 0],  # Belgium
        [0, 1, 1, 0, 1, 1, 1, 1, 0, 0],  # Netherlands
        [0, 1, 1, 0, 1, 1, 1, 1, 0, 0],  # Denmark
        [0, 0, 0, 1, 0, 0, 0, 0, 1, 1],  # Japan
        [0, 0, 0, 1, 0, 0, 0, 0, 1, 1],  # Singapore
    ],
    dtype=bool,
)

#: Environment variable naming the data folder (default: ../shared/data/eglb-2022 from the repository).
DATA_ENV = "EGLB2022_DATA"

SETTINGS = ("full", "partial")

_TIME = "Time (UTC)"
_SIGNALS = (
    # (scenario field, folder, file suffix, column, may be negative)
    ("price", "price", "Price", "Price (USD/MWh)", True),
    ("carbon", "carbon", "carbon", "Carbon (kg/kWh)", False),
    ("water", "water", "water", " WUE (L/kWh)", False),
)


def default_data_path() -> Path:
    """The data folder: $EGLB2022_DATA, else ../shared/data/eglb-2022 beside the repository."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eglb-2022"


def setting_mask(setting: str) -> np.ndarray:
    """The [10, 10] mask of a published setting ("full" or "partial")."""
    if setting not in SETTINGS:
        raise InputError(f"setting must be 'full' or 'partial', got {setting!r}")
    return np.ones_like(PARTIAL_MASK) if setting == "full" else PARTIAL_MASK.copy()


def is_eglb2022_folder(path: Path) -> bool:
    """True if ``path`` looks like the published layout."""
    path = Path(path)
    return (path / "AI_workload.csv").is_file() and (path / "price").is_dir()


def _read_series(path: Path, column: str, allow_negative: bool) -> tuple[np.ndarray, np.ndarray]:
    table = read_table(path, (_TIME, column))
    stamps = timestamp_column(table, _TIME, path)
    require_whole_hours(stamps, path, _TIME)
    require_unique_rows(stamps.astype(np.int64), path, "timestamp")
    require_consecutive_hours(np.sort(stamps), path)
    values = numeric_column(table, column, path)
    if not allow_negative:
        require_nonnegative(values, f"column {column!r}", lambda idx: f"file {path}, line {idx[0] + 2}")
    return stamps, values


def _common_hours(files: list[tuple[Path, np.ndarray]], folder: Path) -> np.ndarray:
    """The hours every file has. Files may run longer than the others (the published non-US prices
    do, by a day), but a file that alone cuts the common hours short looks truncated: refused,
    naming it and the hours it lacks, rather than silently dropping those hours everywhere."""
    starts = np.array([stamps.min() for _, stamps in files])
    ends = np.array([stamps.max() for _, stamps in files])
    for edge, limit, typical, word in (
        (ends, ends.min(), np.median(ends.astype(np.int64)), "end"),
        (starts, starts.max(), np.median(starts.astype(np.int64)), "start"),
    ):
        limiting = np.flatnonzero(edge == limit)
        if len(limiting) < len(files) / 2 and limit.astype(np.int64) != typical:
            path = files[int(limiting[0])][0]
            usual = np.datetime64(int(typical), "s")
            raise InputError(
                f"file {path} {word}s at {np.datetime_as_string(limit, unit='h')} but most files in {folder} {word} at "
                f"{np.datetime_as_string(usual, unit='h')}: it looks truncated (aligning on it would drop "
                f"{abs(int((usual - limit) / np.timedelta64(1, 'h')))} hours of every file)"
            )
    common = files[0][1]
    for _, stamps in files[1:]:
        common = np.intersect1d(common, stamps)
    if common.size == 0:
        raise InputError(f"the files in {folder} share no timestamp")
    return np.sort(common)


def load_eglb2022(
    path: str | Path | None = None,
    setting: str = "full",
    mu_water: float = 60.0,
    mu_carbon: float = 1500.0,
    peak_power_w: float = 2708.0,
    capacity_mw: float = 1.0,
) -> Scenario:
    """Load the published data set as a :class:`Scenario` (T = 457 common hours on the original files).

    Args:
        path: the data folder (default :func:`default_data_path`).
        setting: "full" (every region serves every gateway) or "partial" (:data:`PARTIAL_MASK`).
        mu_water: USD per m^3. mu_carbon: USD per t.
        peak_power_w: the workload trace's watts that make 1 MW per gateway (the trace's peak).
        capacity_mw: capacity of every region, MW.
    """
    mask = setting_mask(setting)
    folder = existing_folder(
        path if path is not None else default_data_path(), "data folder", f" (set ${DATA_ENV} or pass the path)"
    )
    series: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    workload_path = folder / "AI_workload.csv"
    paths = [workload_path]
    for field, subfolder, suffix, column, negative in _SIGNALS:
        paths += [folder / subfolder / f"{name}_{suffix}.csv" for name in FILE_NAMES]
        series[field] = [_read_series(path, column, negative) for path in paths[-len(FILE_NAMES) :]]
    workload_stamps, power = _read_series(workload_path, "Power (Watt)", False)

    files = [(path, stamps) for path, stamps in zip(paths, [workload_stamps] + [st for f in series for st, _ in series[f]])]
    common = _common_hours(files, folder)

    def aligned(stamps: np.ndarray, values: np.ndarray) -> np.ndarray:
        order = np.argsort(stamps)
        return values[order[np.searchsorted(stamps[order], common)]]

    arrays = {field: np.stack([aligned(s, v) for s, v in series[field]]) for field in series}
    load = aligned(workload_stamps, power) / float(peak_power_w)
    n = len(REGIONS)
    return Scenario(
        regions=REGIONS,
        gateways=REGIONS,
        timestamps=common,
        price=arrays["price"],
        carbon=arrays["carbon"],
        water=arrays["water"],
        workload=np.tile(load, (n, 1)),
        capacity=np.full(n, float(capacity_mw)),
        mask=mask,
        mu_water=mu_water,
        mu_carbon=mu_carbon,
        name=f"eglb-2022 {setting}",
    )
