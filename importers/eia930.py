"""EIA-930 hourly generation by fuel, as shipped by dc-rl (``fuelmix/eia930-hourly-2022/<BA>_NG_&_avgCI.csv``).

What the source declares, and how it is read:

* time: ``timestamp``, ISO with ``+00:00`` (UTC; every stamp must carry its offset). EIA-930 labels
  an hour by its **end**; dc-rl does not say whether it shifted them, so it was checked on the 2022
  files: the files' own ``avg_CI`` best matches Electricity Maps' hour-start carbon one hour
  earlier (r at lag -1 h vs 0 h: ERCO 0.989 vs 0.967, CISO 0.964 vs 0.961, NYIS 0.812 vs 0.803;
  only PJM prefers lag 0, 0.948 vs 0.936), and the mean solar output centres after the fleets' solar
  noon (ERCO at label 19.2 h UTC vs noon 18.6 h at 99 W; CISO 20.05 h vs 19.97 h at 119.5 W), as
  hour-ending labels make it. The labels are read as hour ends: a row's hour starts one hour
  before its stamp.
* columns (net generation, MWh in the hour): ``WND`` wind, ``SUN`` solar, ``WAT`` hydro, ``OIL``
  oil, ``NG`` natural_gas, ``COL`` coal, ``NUC`` nuclear, ``OTH`` other. ``avg_CI`` (dc-rl's own
  carbon estimate, unit not stated) is not read. Rows whose cells are all empty (CISO 3 h, PJM 23 h
  in 2022) are missing hours, filled or refused by :mod:`eglb.importers.grid`; a value beyond
  :data:`IMPLAUSIBLE_MWH` is a damaged cell and an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError
from eglb.importers.cache import CacheSetting, parsed
from eglb.importers.tables import csv_cells, numbers, require_offsets, require_year, stamps, year_in_name

TIME_COLUMN = "timestamp"
#: EIA-930 fuel code -> fuel name used by the water factor tables.
FUELS = {
    "WND": "wind",
    "SUN": "solar",
    "WAT": "hydro",
    "OIL": "oil",
    "NG": "natural_gas",
    "COL": "coal",
    "NUC": "nuclear",
    "OTH": "other",
}
#: No balancing authority's hourly generation of one fuel reaches this (PJM's whole load peaks near 1.5e5 MWh).
IMPLAUSIBLE_MWH = 1e7
_VERSION = 2


def _parse(raw: bytes, path: Path) -> dict[str, np.ndarray]:
    cells = csv_cells(raw, path)
    missing = [c for c in (TIME_COLUMN, *FUELS) if c not in cells.columns]
    if missing:
        raise InputError(f"file {path}, line 1: no column {missing[0]!r} (expected {TIME_COLUMN}, {', '.join(FUELS)})")
    seconds, has_offset = stamps(cells[TIME_COLUMN], path, TIME_COLUMN)
    require_offsets(has_offset, path, TIME_COLUMN, declared=True)
    out = {"seconds": seconds}
    for code in FUELS:
        out[code] = numbers(cells[code], path, code, empty_ok=True)
    return out


def read_eia930(path: str | Path, year: int | None = None, cache: CacheSetting = True) -> tuple[pd.DataFrame, dict]:
    """Read one EIA-930 balancing-authority file.

    Returns:
        data: indexed by the UTC start of each hour (the stamp minus one hour), one column per fuel
            of :data:`FUELS` (MWh) and ``line``.
        metadata: ``path``, ``balancing_authority``, ``label`` ("end"), ``unit`` ("MWh"), ``fuels``.
    """
    path = Path(path)
    arrays = parsed(path, "eia930", _VERSION, lambda raw: _parse(raw, path), cache, ("seconds", *FUELS))
    starts = arrays["seconds"] - 3600
    for code in FUELS:
        beyond = np.flatnonzero(np.abs(arrays[code]) > IMPLAUSIBLE_MWH)  # False for NaN (an empty cell)
        if beyond.size:
            k = int(beyond[0])
            raise InputError(
                f"file {path}, line {k + 2}, column {code!r}: {arrays[code][k]:.6g} MWh in one hour is beyond the "
                f"{IMPLAUSIBLE_MWH:g} MWh no balancing authority generates: a damaged value or the wrong unit?"
            )
    require_year(arrays["seconds"], path, year if year is not None else year_in_name(path))
    data = pd.DataFrame(
        {**{fuel: arrays[code] for code, fuel in FUELS.items()}, "line": np.arange(starts.size, dtype=np.int64) + 2},
        index=pd.DatetimeIndex(starts.astype("datetime64[s]"), name="start_utc").tz_localize("UTC"),
    )
    metadata = {
        "path": str(path),
        "source": "U.S. Energy Information Administration, Form EIA-930 (via dc-rl)",
        "balancing_authority": path.name.split("_")[0],
        "label": "end",
        "timezone": "UTC",
        "unit": "MWh",
        "fuels": list(FUELS.values()),
        "dropped": [],
    }
    return data, metadata
