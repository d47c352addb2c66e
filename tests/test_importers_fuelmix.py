"""Fuel mixes: EIA-930 hourly generation (hour-ending labels, empty rows) and the annual Electricity Maps shares."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.annual_mix import read_annual_mix
from eglb.importers.eia930 import FUELS, read_eia930
from eglb.importers.grid import Rows, place
from history_files import write_annual_mix, write_eia930


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EGLB_CACHE", str(tmp_path / "cache"))


def generation(hours: int) -> np.ndarray:
    base = np.array([3494.0, 17.0, 3044.0, 241.0, 33595.0, 17255.0, 33745.0, 722.0])
    return base[None, :] + 10.0 * np.arange(hours)[:, None]


def test_eia930_hours_are_labelled_by_their_end_and_empty_rows_are_missing_hours(tmp_path):
    amounts = generation(6)
    path = write_eia930(
        tmp_path / "fuelmix" / "eia930-hourly-2022" / "PJM_NG_&_avgCI.csv", "2022-03-13T05", amounts, empty_rows=(2,)
    )
    data, meta = read_eia930(path)
    assert [str(t)[:16] for t in data.index.tz_convert(None)][:2] == ["2022-03-13 04:00", "2022-03-13 05:00"]
    assert list(data.columns) == [*FUELS.values(), "line"] and meta["label"] == "end" and meta["balancing_authority"] == "PJM"
    np.testing.assert_array_equal(data["natural_gas"].iloc[[0, 1, 3]], amounts[[0, 1, 3], 4])
    grid, report = place(
        Rows.from_frames([(data, meta)], list(FUELS.values())), "2022-03-13T04", 6, zone="PJM", signal="hourly_mix"
    )
    np.testing.assert_allclose(grid[2], (amounts[1] + amounts[3]) / 2)
    assert report.empty_rows == 1 and report.filled_linear == 1


def test_eia930_needs_offsets_and_its_columns(tmp_path):
    path = write_eia930(tmp_path / "eia930-hourly-2022" / "X_NG_&_avgCI.csv", "2022-01-01T00", generation(2), naive=True)
    with pytest.raises(InputError, match="line 2, column 'timestamp': expected a UTC offset"):
        read_eia930(path)
    path.write_text("timestamp,WND,SUN\n2022-01-01 00:00:00+00:00,1,2\n")
    with pytest.raises(InputError, match="line 1: no column 'WAT'"):
        read_eia930(path)


def test_annual_mix_reads_shares_with_empty_cells_as_zero(tmp_path):
    path = write_annual_mix(
        tmp_path / "all_energy_mix_2022.csv", {"DK-DK2": (None, 0.076, 0.433, None, 0.491), "SG": (0, 0.01, 0, 0, 0.99)}
    )
    data, meta = read_annual_mix(path)
    assert list(data.columns) == ["hydro", "solar", "wind", "nuclear", "fossil_fuels", "line"] and meta["year"] == 2022
    np.testing.assert_allclose(
        data.loc["DK-DK2", ["hydro", "solar", "wind", "nuclear", "fossil_fuels"]], [0, 0.076, 0.433, 0, 0.491]
    )


def test_annual_mix_shares_must_sum_to_one_and_zones_be_unique(tmp_path):
    path = write_annual_mix(tmp_path / "all_energy_mix_2022.csv", {"A": (0.5, 0.5, 0, 0, 0), "B": (0.2, 0.2, 0.2, 0.2, 0.5)})
    with pytest.raises(InputError, match="line 3: shares must lie in 0..1 and sum to 1"):
        read_annual_mix(path)
    path.write_text("name,hydro,solar,wind,nuclear,fossil fuels\nA,1,,,,\nA,,1,,,\n")
    with pytest.raises(InputError, match="line 3: zone 'A' repeats"):
        read_annual_mix(path)


def test_real_mixes(history_path):
    data, _ = read_eia930(history_path / "fuelmix" / "eia930-hourly-2022" / "PJM_NG_&_avgCI.csv", cache=False)
    assert len(data) == 8760 and int(data["wind"].isna().sum()) == 23
    shares, _ = read_annual_mix(history_path / "fuelmix" / "electricitymaps-annual-2022" / "all_energy_mix_2022.csv")
    for zone in ("DE", "JP-TK", "SG", "IN-WE", "BR-CS", "ZA", "US-SE-SOCO", "US-NW-NEVP", "DK-DK1", "BE", "NL"):
        assert abs(shares.loc[zone, ["hydro", "solar", "wind", "nuclear", "fossil_fuels"]].sum() - 1) < 0.01
