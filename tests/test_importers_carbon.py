"""Electricity Maps carbon CSV: header matching, units, basis, scale and year checks, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.electricitymaps import read_carbon
from eglb.importers.grid import Rows, place
from history_files import CARBON_HEADER, write_carbon


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EGLB_CACHE", str(tmp_path / "cache"))


def test_reads_direct_and_lca_in_t_per_mwh_with_utc_hour_starts(tmp_path):
    path = write_carbon(
        tmp_path / "JP-TK_2022_hourly.csv", "2022-01-01T00", [449.07, 455.08, 0.0], lca_g=[526.77, 533.4, 11.3], zone_id="JP-TK"
    )
    data, meta = read_carbon(path)
    np.testing.assert_array_equal(data["carbon_t_mwh"].to_numpy(), np.array([449.07, 455.08, 0.0]) / 1000)
    np.testing.assert_array_equal(data["line"].to_numpy(), [2, 3, 4])
    assert [str(t) for t in data.index] == ["2022-01-01 00:00:00+00:00", "2022-01-01 01:00:00+00:00", "2022-01-01 02:00:00+00:00"]
    assert data["estimated"].tolist() == [True, False, False]
    assert meta["zone_id"] == "JP-TK" and meta["column_match"] == "name" and meta["basis"] == "direct"
    lca, meta = read_carbon(path, basis="lca")
    np.testing.assert_allclose(lca["carbon_t_mwh"].to_numpy(), [0.52677, 0.5334, 0.0113])
    assert meta["basis"] == "lca"
    with pytest.raises(InputError, match="basis must be one of"):
        read_carbon(path, basis="scope3")


def test_header_matched_by_position_when_the_subscript_is_lost(tmp_path):
    ascii_header = CARBON_HEADER.replace("₂", "2")
    path = write_carbon(tmp_path / "X_2022_hourly.csv", "2022-03-01T00", [100.0, 200.0], header=ascii_header)
    data, meta = read_carbon(path)
    assert meta["column_match"] == "position"
    np.testing.assert_array_equal(data["carbon_t_mwh"].to_numpy(), [0.1, 0.2])


def test_a_header_without_the_intensity_columns_is_refused(tmp_path):
    header = CARBON_HEADER.replace("Carbon Intensity gCO₂eq/kWh (direct)", "Emissions (t)")
    path = write_carbon(tmp_path / "X_2022_hourly.csv", "2022-01-01T00", [100.0], header=header)
    with pytest.raises(InputError, match=r"line 1: expected the column 'Carbon Intensity gCO₂eq/kWh \(direct\)'.*column 5"):
        read_carbon(path)


def test_values_in_kg_per_kwh_are_caught(tmp_path):
    path = write_carbon(tmp_path / "X_2022_hourly.csv", "2022-01-01T00", [0.45, 0.44, 0.40], lca_g=[0.52, 0.51, 0.47])
    with pytest.raises(InputError, match="look like kg/kWh"):
        read_carbon(path)


def test_values_above_any_grid_are_caught_with_their_line(tmp_path):
    path = write_carbon(tmp_path / "X_2022_hourly.csv", "2022-01-01T00", [450.0, 455000.0, 440.0])
    with pytest.raises(InputError, match=r"line 3, direct intensity 455000 g/kWh is above 2000"):
        read_carbon(path)


def test_unreadable_cell_named_by_line_and_column_and_empty_cell_is_a_missing_hour(tmp_path):
    path = write_carbon(tmp_path / "X_2022_hourly.csv", "2022-01-01T00", [450.0, "n/a", 440.0], lca_g=[500.0, 501.0, 490.0])
    with pytest.raises(
        InputError, match=r"line 3, column 'Carbon Intensity gCO₂eq/kWh \(direct\)': expected a number, got 'n/a'"
    ):
        read_carbon(path)
    path = write_carbon(tmp_path / "Y_2022_hourly.csv", "2022-01-01T00", [450.0, None, 440.0], lca_g=[500.0, None, 490.0])
    data, meta = read_carbon(path)
    assert np.isnan(data["carbon_t_mwh"].iloc[1])
    values, report = place(Rows.from_frames([(data, meta)], ["carbon_t_mwh"]), "2022-01-01T00", 3, zone="X", signal="carbon")
    np.testing.assert_allclose(values[:, 0], [0.45, 0.445, 0.44])
    assert report.empty_rows == 1 and report.filled_linear == 1 and report.counts[2022].missing == 0


def test_offset_stamps_are_refused_because_the_source_declares_naive_utc(tmp_path):
    stamps = ["2022-01-01 00:00:00", "2022-01-01 01:00:00+01:00"]
    path = write_carbon(tmp_path / "X_2022_hourly.csv", "2022-01-01T00", [400.0, 410.0], stamps=stamps)
    with pytest.raises(InputError, match=r"line 3, column 'Datetime \(UTC\)': expected a naive time"):
        read_carbon(path)


def test_a_file_from_the_wrong_year_is_caught(tmp_path):
    path = write_carbon(tmp_path / "carbon" / "X" / "2022" / "X_2022_hourly.csv", "2021-01-01T00", [400.0] * 48)
    with pytest.raises(InputError, match="declared as year 2022 .* rows are from 2021"):
        read_carbon(path)
    read_carbon(path, year=2021)  # the caller's year wins over the name


def test_fifteen_minute_rows_are_refused(tmp_path):
    quarter = (np.datetime64("2022-01-01T00:00") + np.arange(8) * np.timedelta64(15, "m")).astype("datetime64[s]")
    stamps = [str(s).replace("T", " ") for s in quarter]
    path = write_carbon(tmp_path / "X_2022_hourly.csv", "2022-01-01T00", [400.0 + k for k in range(8)], stamps=stamps)
    data, meta = read_carbon(path)
    with pytest.raises(
        InputError, match=r"line 3: the row stamped 2022-01-01 00:15 UTC is not at the minute of line 2.*sub-hourly"
    ):
        place(Rows.from_frames([(data, meta)], ["carbon_t_mwh"]), "2022-01-01T00", 2, zone="X", signal="carbon")


def test_real_zeros_and_repeated_values_stay_as_they_are(tmp_path):
    values = [12.0, 0.0, 0.0, 0.0, 7.5] + [30.0] * 40
    path = write_carbon(tmp_path / "CA-ON_2023_hourly.csv", "2023-09-02T10", values)
    data, meta = read_carbon(path)
    grid, report = place(
        Rows.from_frames([(data, meta)], ["carbon_t_mwh"]), "2023-09-02T10", len(values), zone="CA-ON", signal="carbon"
    )
    np.testing.assert_array_equal(grid[:, 0], np.array(values) / 1000)
    assert report.filled == 0 and report.counts[2023].missing == 0


def test_real_file_matches_an_independent_read(history_path):
    import csv

    path = history_path / "carbon" / "JP-TK" / "2022" / "JP-TK_2022_hourly.csv"
    data, meta = read_carbon(path, cache=False)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][4] == "Carbon Intensity gCO₂eq/kWh (direct)" and rows[1][2] == "Tōkyō"
    expected = np.array([float(r[4]) for r in rows[1:]]) / 1000
    np.testing.assert_array_equal(data["carbon_t_mwh"].to_numpy(), expected)
    assert str(data.index[0]) == "2022-01-01 00:00:00+00:00" and len(data) == 8760
    assert meta["zone_id"] == "JP-TK" and meta["estimated_fraction"] == 1.0
    assert read_carbon(history_path / "carbon" / "DE-LU" / "2021" / "DE-LU_2021_hourly.csv", cache=False)[1]["zone_id"] == "DE"
