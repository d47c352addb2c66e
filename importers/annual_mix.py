"""Electricity Maps annual production mix per zone (``fuelmix/electricitymaps-annual-2022/all_energy_mix_2022.csv``).

Header ``name,hydro,solar,wind,nuclear,fossil fuels``: one row per Electricity Maps zone, shares of
the year's production (0..1) summing to 1; an empty cell means no such source (share 0). Sources
such as biomass or geothermal were folded in or dropped upstream. Column ``fossil fuels`` becomes
``fossil_fuels``; :mod:`eglb.importers.water` gives it the factor its table names for an unsplit fossil
share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError
from eglb.envs.files import read_bytes
from eglb.importers.tables import csv_cells, line_of, numbers

SOURCES = {"hydro": "hydro", "solar": "solar", "wind": "wind", "nuclear": "nuclear", "fossil fuels": "fossil_fuels"}
SUM_TOLERANCE = 0.01


def read_annual_mix(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read the annual mix table.

    Returns:
        data: indexed by zone name, one column per source of :data:`SOURCES` (share 0..1) and ``line``.
        metadata: ``path``, ``year`` (from the file name), ``source``.
    """
    path = Path(path)
    cells = csv_cells(read_bytes(path), path)
    missing = [c for c in ("name", *SOURCES) if c not in cells.columns]
    if missing:
        raise InputError(f"file {path}, line 1: no column {missing[0]!r} (expected name, {', '.join(SOURCES)})")
    shares = {column: np.nan_to_num(numbers(cells[header], path, header, empty_ok=True)) for header, column in SOURCES.items()}
    table = np.column_stack(list(shares.values()))
    bad = np.flatnonzero(((table < 0) | (table > 1)).any(axis=1) | (np.abs(table.sum(axis=1) - 1) > SUM_TOLERANCE))
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"file {path}, line {line_of(row)}: shares must lie in 0..1 and sum to 1, got {table[row].round(4).tolist()}"
        )
    names = cells["name"].str.strip()
    repeated = names.duplicated().to_numpy()
    if repeated.any():
        raise InputError(
            f"file {path}, line {line_of(int(np.argmax(repeated)))}: zone {names.iloc[int(np.argmax(repeated))]!r} repeats"
        )
    data = pd.DataFrame({**shares, "line": np.arange(len(cells)) + 2}, index=pd.Index(names.to_numpy(), name="zone"))
    year = "".join(ch for ch in path.stem if ch.isdigit())[-4:]
    return data, {
        "path": str(path),
        "year": int(year) if year else None,
        "source": "Electricity Maps annual production mix (via umassos/decarbonization-potential)",
    }
