"""Open-Meteo weather JSON: one fixed offset per file (never the timezone name), the :30 offset, units and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.grid import Rows, place
from eglb.importers.openmeteo import read_weather
from history_files import write_weather

COLUMNS = ["temperature_c", "relative_humidity_pct"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EGLB_CACHE", str(tmp_path / "cache"))


def test_one_fixed_offset_all_year_even_where_the_timezone_has_dst(tmp_path):
    # New York files carry -14400 (EDT, the offset at download time) for the whole year: January too.
    january = write_weather(tmp_path / "2022.json", "2022-01-15T00", [1.0, 2.0], [50, 60], -14400, timezone="America/New_York")
    data, meta = read_weather(january)
    assert [str(t)[:16] for t in data.index.tz_convert(None)] == ["2022-01-15 04:00", "2022-01-15 05:00"]
    assert meta["utc_offset_seconds"] == -14400 and meta["timezone"] == "America/New_York" and meta["label"] == "instant"
    np.testing.assert_array_equal(data["temperature_c"], [1.0, 2.0])
    np.testing.assert_array_equal(data["relative_humidity_pct"], [50.0, 60.0])
    np.testing.assert_array_equal(data["cloud_cover_pct"], [100.0, 100.0])


def test_india_samples_at_half_past_land_in_the_hour_they_fall_in(tmp_path):
    path = write_weather(tmp_path / "2022.json", "2022-01-01T00", [20.0, 21.0, 22.0, 23.0], [60, 61, 62, 63], 19800)
    data, meta = read_weather(path)
    assert [str(t)[:16] for t in data.index.tz_convert(None)] == [
        "2021-12-31 18:30",
        "2021-12-31 19:30",
        "2021-12-31 20:30",
        "2021-12-31 21:30",
    ]
    grid, report = place(Rows.from_frames([(data, meta)], COLUMNS), "2021-12-31T18", 4, zone="IN-WE", signal="weather")
    np.testing.assert_array_equal(grid[:, 0], [20.0, 21.0, 22.0, 23.0])  # rule "floor": no interpolation, no shift
    assert report.filled == 0 and report.counts[2021].rows == 4 and report.counts[2021].missing == 0


def test_nulls_are_missing_hours_and_get_filled(tmp_path):
    path = write_weather(tmp_path / "2022.json", "2022-06-01T00", [20.0, None, 22.0], [60, 70, 80], 0)
    data, meta = read_weather(path)
    grid, report = place(Rows.from_frames([(data, meta)], COLUMNS), "2022-06-01T00", 3, zone="X", signal="weather")
    np.testing.assert_allclose(grid, [[20.0, 60.0], [21.0, 70.0], [22.0, 80.0]])
    assert report.empty_rows == 1 and report.filled_linear == 1


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("utc_offset_seconds"), "no numeric 'utc_offset_seconds'"),
        (lambda d: d["hourly_units"].update(temperature_2m="°F"), "hourly_units.temperature_2m is '°F'; expected '°C'"),
        (
            lambda d: d["hourly"]["temperature_2m"].__setitem__(1, 75.0),
            r"hourly.time index 1: temperature_c 75 is outside -90..60",
        ),
        (lambda d: d["hourly"]["relative_humidity_2m"].__setitem__(2, 130), "hourly.time index 2: relative_humidity_pct 130"),
        (
            lambda d: d["hourly"]["time"].__setitem__(1, "2022-06-01T01:00+05:30"),
            "hourly.time index 1: .* carries its own offset",
        ),
        (lambda d: d["hourly"]["time"].__setitem__(2, "June 1st"), "hourly.time index 2: expected a local time"),
        (lambda d: d["hourly"]["temperature_2m"].pop(), "'hourly.temperature_2m' has 2 values for 3 times"),
        (lambda d: d["hourly"].pop("relative_humidity_2m"), "no 'hourly.relative_humidity_2m' series"),
        (lambda d: d["hourly"]["temperature_2m"].__setitem__(0, "warm"), "hourly.time index 0: hourly.temperature_2m is 'warm'"),
    ],
)
def test_malformed_files_are_named(tmp_path, change, message):
    path = write_weather(tmp_path / "2022.json", "2022-06-01T00", [20.0, 21.0, 22.0], [60, 70, 80], 0)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=4))
    with pytest.raises(InputError, match=message):
        read_weather(path)


def test_invalid_json_is_named_by_line(tmp_path):
    path = tmp_path / "2022.json"
    path.write_text('{\n    "latitude": 1.0,\n    "hourly": [\n')
    with pytest.raises(InputError, match=r"2022.json, line \d+: not valid JSON"):
        read_weather(path)


def test_real_files_in_utc(history_path):
    data, meta = read_weather(history_path / "weather" / "US-NY-NYIS" / "2022.json", cache=False)
    assert meta["utc_offset_seconds"] == -14400 and str(data.index[0])[:16] == "2022-01-01 04:00"
    data, meta = read_weather(history_path / "weather" / "IN-WE" / "2022.json", cache=False)
    assert str(data.index[0])[:16] == "2021-12-31 18:30" and len(data) == 8760
