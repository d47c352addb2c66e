"""Electricity Maps hourly carbon-intensity CSV (the history folder's ``carbon/<ZONE>/<YEAR>/<ZONE>_<YEAR>_hourly.csv``).

What the source declares, and how it is read:

* time: column ``Datetime (UTC)``, ``YYYY-MM-DD HH:MM:SS``, naive and UTC (the header says so, so
  naive stamps are accepted; a stamp with an offset is an error); one row per hour; the label is the
  start of the hour (Electricity Maps' convention, not stated in the file).
* columns: ``Carbon Intensity gCO₂eq/kWh (direct)`` (combustion only) and ``... (LCA)`` (life
  cycle), matched by exact name (with the subscript "₂") or, failing that, by position (5th and 6th
  column) when the header there still reads ``Carbon Intensity ... (direct)`` / ``(LCA)``;
  ``Data Estimated`` (true/false); ``Zone Id`` (which can differ from the folder name: DE-LU holds
  ``DE``, BR-SP holds ``BR-CS``).
* units: gCO2eq/kWh, divided by 1000 for the toolkit's t/MWh (= kg/kWh).
* empty intensity cells are missing hours (filled or refused by :mod:`eglb.importers.grid`); other
  unreadable cells are errors naming file, line and column.
* scale checks: a file whose life-cycle intensity never reaches 2 g/kWh holds kg/kWh (or t/MWh), not
  g/kWh; a value above 2000 g/kWh is no grid's (mg, or the wrong column).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError, shown
from eglb.importers.cache import CacheSetting, parsed
from eglb.importers.tables import csv_cells, line_of, numbers, require_offsets, require_year, stamps, year_in_name

TIME_COLUMN = "Datetime (UTC)"
#: Intensity columns: basis -> (exact header, position, header ending that a positional match must have).
INTENSITY_COLUMNS = {
    "direct": ("Carbon Intensity gCO₂eq/kWh (direct)", 4, "(direct)"),
    "lca": ("Carbon Intensity gCO₂eq/kWh (LCA)", 5, "(LCA)"),
}
BASES = tuple(INTENSITY_COLUMNS)
G_PER_KWH_PER_T_PER_MWH = 1000.0
#: Scale checks, gCO2eq/kWh: the life-cycle maximum of a real grid's year is far above the first,
#: and no hour of any grid reaches the second.
KG_SUSPECT_MAX_G = 2.0
IMPLAUSIBLE_G = 2000.0
_VERSION = 2


def _parse(raw: bytes, path: Path) -> dict[str, np.ndarray]:
    cells = csv_cells(raw, path)
    header = list(cells.columns)
    if TIME_COLUMN not in header:
        raise InputError(f"file {path}, line 1: no column {TIME_COLUMN!r} (found {shown(', '.join(header), 200)})")
    out: dict[str, np.ndarray] = {}
    matched = []
    for basis, (name, position, ending) in INTENSITY_COLUMNS.items():
        if name in header:
            column = name
            matched.append("name")
        elif position < len(header) and header[position].startswith("Carbon Intensity") and header[position].endswith(ending):
            column = header[position]
            matched.append("position")
        else:
            found = shown(header[position]) if position < len(header) else "nothing"
            raise InputError(
                f"file {path}, line 1: expected the column {name!r} (by name, or by position as column {position + 1}), "
                f"found {found} there"
            )
        out[basis] = numbers(cells[column], path, column, empty_ok=True)
    out["seconds"], has_offset = stamps(cells[TIME_COLUMN], path, TIME_COLUMN)
    require_offsets(has_offset, path, TIME_COLUMN, declared=False)
    if "Data Estimated" in header:
        flags = cells["Data Estimated"]
        out["estimated"] = (
            flags.to_numpy(dtype=bool)
            if pd.api.types.is_bool_dtype(flags)
            else (np.char.lower(np.char.strip(flags.fillna("").to_numpy(dtype=str))) == "true")
        )
    zone = str(cells["Zone Id"].iloc[0]).strip() if "Zone Id" in header else ""
    out["text"] = np.array([zone, *matched])
    return out


def read_carbon(
    path: str | Path, basis: str = "direct", year: int | None = None, cache: CacheSetting = True
) -> tuple[pd.DataFrame, dict]:
    """Read one Electricity Maps hourly CSV.

    Args:
        path: the file.
        basis: "direct" (combustion only; the default, as the published set) or "lca" (life cycle).
        year: the UTC year the file must hold (default: the year in its name, if any).
        cache: see :mod:`eglb.importers.cache`.

    Returns:
        data: indexed by the UTC start of each hour (file order, duplicates kept), columns
            ``carbon_t_mwh`` (t/MWh), ``estimated`` (bool) and ``line`` (1-based file line).
        metadata: ``path``, ``zone_id`` (the file's Zone Id), ``basis``, ``column_match`` ("name"
            or "position"), ``timezone`` ("UTC"), ``label`` ("start"), ``unit`` ("t/MWh"),
            ``source_unit`` ("gCO2eq/kWh"), ``estimated_fraction``.
    """
    if basis not in BASES:
        raise InputError(f"carbon basis must be one of {BASES}, got {basis!r}")
    path = Path(path)
    arrays = parsed(
        path, "electricitymaps-carbon", _VERSION, lambda raw: _parse(raw, path), cache, ("direct", "lca", "seconds", "text")
    )
    grams = arrays[basis]
    life_cycle = arrays["lca"]
    if np.isfinite(life_cycle).any() and np.nanmax(life_cycle) < KG_SUSPECT_MAX_G:
        raise InputError(
            f"file {path}: life-cycle carbon intensity never reaches {KG_SUSPECT_MAX_G} g/kWh (max {np.nanmax(life_cycle):.4g}): "
            "the values look like kg/kWh, not the gCO2eq/kWh the header declares"
        )
    for values, column in ((grams, basis), (life_cycle, "lca")):
        high = np.flatnonzero(np.nan_to_num(np.abs(values)) > IMPLAUSIBLE_G)
        if high.size:
            raise InputError(
                f"file {path}, line {line_of(high[0])}, {column} intensity {values[high[0]]:.6g} g/kWh is above "
                f"{IMPLAUSIBLE_G:.0f} g/kWh, more than any grid emits: wrong unit (mg?) or wrong column"
            )
    negative = np.flatnonzero(np.nan_to_num(grams) < 0)
    if negative.size:
        raise InputError(f"file {path}, line {line_of(negative[0])}: negative carbon intensity {grams[negative[0]]:.6g} g/kWh")
    require_year(arrays["seconds"], path, year if year is not None else year_in_name(path))
    estimated = arrays.get("estimated", np.zeros(grams.size, dtype=bool))
    data = pd.DataFrame(
        {
            "carbon_t_mwh": grams / G_PER_KWH_PER_T_PER_MWH,
            "estimated": estimated,
            "line": np.arange(grams.size, dtype=np.int64) + 2,
        },
        index=pd.DatetimeIndex(arrays["seconds"].astype("datetime64[s]"), name="start_utc").tz_localize("UTC"),
    )
    zone, *matched = (str(t) for t in arrays["text"])
    metadata = {
        "path": str(path),
        "source": "Electricity Maps hourly carbon intensity",
        "zone_id": zone,
        "basis": basis,
        "column_match": matched[BASES.index(basis)],
        "timezone": "UTC",
        "label": "start",
        "unit": "t/MWh",
        "source_unit": "gCO2eq/kWh",
        "estimated_fraction": float(estimated.mean()) if estimated.size else 0.0,
        "dropped": [],
    }
    return data, metadata
