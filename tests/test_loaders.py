"""Loaders: the published layout (SPEC section 3), the project's CSV format, and their errors."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from eglb.envs.csv_format import load_scenario, save_scenario
from eglb.envs.eglb2022 import PARTIAL_MASK, REGIONS, load_eglb2022
from eglb.envs.errors import InputError
from eglb.envs.synthetic import make_synthetic
from eglb.envs.traces import load_traces


def test_published_full_setting_as_specified(published_full, published_path):
    s = published_full
    assert (s.n_regions, s.n_gateways, s.n_hours) == (10, 10, 457)
    assert s.regions == REGIONS
    assert str(s.timestamps[0]) == "2022-09-22T00:00:00" and str(s.timestamps[-1]) == "2022-10-11T00:00:00"
    assert s.full_mask and (s.capacity == 1.0).all()
    assert (s.mu_water, s.mu_carbon) == (60.0, 1500.0)
    # Independent read of a few cells with the csv module.
    with open(published_path / "AI_workload.csv") as f:
        power = [float(row["Power (Watt)"]) for row in csv.DictReader(f)]
    np.testing.assert_array_equal(s.workload[3], np.array(power) / 2708)
    assert s.total_workload.max() == pytest.approx(10.0) and s.total_workload.mean() == pytest.approx(6.378, abs=1e-3)
    with open(published_path / "price" / "Belguim_Price.csv") as f:
        rows = list(csv.DictReader(f))
    assert s.price[5, 0] == float(rows[0]["Price (USD/MWh)"])
    assert s.price[5, -1] == float(rows[456]["Price (USD/MWh)"])  # aligned: the 24 extra rows dropped
    with open(published_path / "water" / "Singapore_water.csv") as f:
        assert s.water[9, 10] == float(list(csv.DictReader(f))[10][" WUE (L/kWh)"])
    assert s.price.min() < 0  # Belgium and the Netherlands


def test_published_partial_mask(published_partial):
    np.testing.assert_array_equal(published_partial.mask, PARTIAL_MASK)
    assert PARTIAL_MASK[4].tolist() == [0, 1, 1, 0, 1, 1, 1, 1, 0, 0]  # Germany row, as in SPEC


@pytest.fixture
def data_copy(published_path, tmp_path):
    target = tmp_path / "eglb"
    shutil.copytree(published_path, target)
    return target


def rewrite_cell(path, line, column, value):
    rows = list(csv.reader(open(path)))
    rows[line - 1][column] = value
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda d: (d / "carbon" / "Japan_carbon.csv").unlink(), r"missing file .*Japan_carbon.csv"),
        (lambda d: rewrite_cell(d / "water" / "Texas_water.csv", 1, 1, "WUE"), r"Texas_water.csv has no column ' WUE \(L/kWh\)'"),
        (
            lambda d: rewrite_cell(d / "price" / "Nevada_Price.csv", 42, 1, "n/a"),
            r"Nevada_Price.csv, line 42, column 'Price \(USD/MWh\)': expected a finite number, got 'n/a'",
        ),
        (
            lambda d: rewrite_cell(d / "carbon" / "Denmark_carbon.csv", 7, 1, ""),
            r"Denmark_carbon.csv, line 7, .*expected a finite number",
        ),
        (
            lambda d: rewrite_cell(d / "water" / "Georgia_water.csv", 9, 1, "-0.5"),
            r"Georgia_water.csv, line 9: column ' WUE \(L/kWh\)' must be >= 0",
        ),
        (
            lambda d: rewrite_cell(d / "AI_workload.csv", 12, 0, "2022-09-22 09"),
            r"AI_workload.csv, line 12: duplicated timestamp \(already on line 11\)",
        ),
        (
            lambda d: rewrite_cell(d / "price" / "Japan_Price.csv", 3, 0, "yesterday"),
            r"Japan_Price.csv, line 3, column 'Time \(UTC\)': expected a timestamp",
        ),
    ],
)
def test_published_layout_errors_name_file_line_and_column(data_copy, corrupt, message):
    corrupt(data_copy)
    with pytest.raises(InputError, match=message):
        load_eglb2022(data_copy)


def test_published_layout_bad_arguments(tmp_path, published_path):
    with pytest.raises(InputError, match="does not exist"):
        load_eglb2022(tmp_path / "nowhere")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(InputError, match="a-file is a file, not a folder"):
        load_eglb2022(tmp_path / "a-file")
    with pytest.raises(InputError, match="setting must be 'full' or 'partial'"):
        load_eglb2022(published_path, "half")


@pytest.mark.parametrize("setting", ["full", "partial"])
def test_csv_format_round_trips_exactly(tmp_path, setting):
    scenario = make_synthetic(5, hours=30, setting=setting)
    capacity = np.array(scenario.capacity, copy=True) * 1.2
    capacity[2, 10:14] = 0.3  # hour-dependent capacity must survive too
    scenario = scenario.with_changes(capacity=capacity)
    save_scenario(scenario, tmp_path / "s")
    assert load_scenario(tmp_path / "s") == scenario
    assert load_traces(tmp_path / "s") == scenario
    assert (tmp_path / "s" / "mask.csv").exists() == (setting == "partial")


def test_traces_detects_the_published_layout(published_path, published_partial):
    assert load_traces(published_path, "partial") == published_partial


def edit_csv(path, edit):
    rows = list(csv.reader(open(path)))
    edit(rows)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (
            lambda d: edit_csv(d / "signals.csv", lambda r: r.pop(5)),
            r"signals.csv has no row for region '.*' at 2022-09-22T00:00:00",
        ),
        (
            lambda d: edit_csv(d / "signals.csv", lambda r: r.__setitem__(3, r[2])),
            r"signals.csv, line 4: region 'Virginia' at 2022-09-22T00:00:00 is listed twice",
        ),
        (
            lambda d: edit_csv(d / "signals.csv", lambda r: r[7].__setitem__(1, "Atlantis")),
            r"signals.csv, line 8, column 'region': unknown region 'Atlantis'",
        ),
        (
            lambda d: edit_csv(d / "signals.csv", lambda r: r[9].__setitem__(4, "-1")),
            r"signals.csv, line 10: column 'water_m3_mwh' must be >= 0",
        ),
        (
            lambda d: edit_csv(d / "signals.csv", lambda r: r[9].__setitem__(2, "cheap")),
            r"signals.csv, line 10, column 'price_usd_mwh': expected a finite number, got 'cheap'",
        ),
        (
            lambda d: edit_csv(d / "workload.csv", lambda r: r[4].__setitem__(2, "-3")),
            r"workload.csv, line 5: column 'load_mw' must be >= 0",
        ),
        (
            lambda d: edit_csv(d / "workload.csv", lambda r: [row.__setitem__(0, "2030-01-01T00:00:00") for row in r[1:11]]),
            r"timestamps of .*signals.csv and .*workload.csv differ",
        ),
        (lambda d: edit_csv(d / "regions.csv", lambda r: r[0].__setitem__(1, "cap")), r"regions.csv has no column 'capacity_mw'"),
        (
            lambda d: edit_csv(d / "mask.csv", lambda r: r[1].__setitem__(1, "Mars")),
            r"mask.csv, line 2, column 'gateway': unknown gateway 'Mars'",
        ),
        (lambda d: (d / "workload.csv").unlink(), r"missing file .*workload.csv"),
        (lambda d: (d / "scenario.json").write_text("{oops"), r"scenario.json is not valid JSON"),
        (
            lambda d: (d / "scenario.json").write_text('{"mu_water": "60"}'),
            r"scenario.json: mu_water must be a number .*got '60'",
        ),
        (
            lambda d: (d / "scenario.json").write_text('{"mu_carbon": true}'),
            r"scenario.json: mu_carbon must be a number .*got True",
        ),
        (lambda d: (d / "scenario.json").write_text('{"name": 7}'), r"scenario.json: name must be a string, got 7"),
        (
            lambda d: edit_csv(d / "workload.csv", lambda r: [row.__setitem__(2, "5") for row in r[1:11]]),
            r"hour 0 .*cannot be served",
        ),
    ],
)
def test_csv_format_errors_name_file_line_and_column(tmp_path, corrupt, message):
    folder = save_scenario(make_synthetic(1, hours=6, setting="partial"), tmp_path / "s")
    corrupt(folder)
    with pytest.raises(InputError, match=message):
        load_scenario(folder)


def test_csv_setting_overrides(tmp_path):
    folder = save_scenario(make_synthetic(1, hours=6, setting="partial"), tmp_path / "s")
    assert load_scenario(folder, "full").full_mask
    full = save_scenario(make_synthetic(1, hours=6), tmp_path / "f")
    with pytest.raises(InputError, match="needs a mask file"):
        load_scenario(full, "partial")
    with pytest.raises(InputError, match="neither the published layout"):
        load_traces(tmp_path)


def shorten(path, keep):
    rows = list(csv.reader(open(path)))
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows[: keep + 1])


@pytest.mark.parametrize(
    "corrupt, message",
    [
        # A truncated file would silently cut every file to the common hours (457 -> 200).
        (
            lambda d: shorten(d / "carbon" / "Texas_carbon.csv", 200),
            r"Texas_carbon.csv ends at 2022-09-30T07 but most files .* end at 2022-10-11T00: it looks truncated \(aligning on it would drop 257 hours",
        ),
        (lambda d: shorten(d / "AI_workload.csv", 200), r"AI_workload.csv ends at .* looks truncated"),
        # Rows missing inside a file.
        (
            lambda d: edit_csv(d / "water" / "Japan_water.csv", lambda r: r.pop(30)),
            r"Japan_water.csv has no row for 1 hour \(2022-09-23T05\)",
        ),
        # Day-first dates, offsets other than UTC, minutes, impossible dates.
        (
            lambda d: rewrite_cell(d / "price" / "Texas_Price.csv", 5, 0, "22/09/2022 03:00"),
            r"Texas_Price.csv, line 5, column 'Time \(UTC\)': expected a timestamp like",
        ),
        (
            lambda d: rewrite_cell(d / "price" / "Texas_Price.csv", 5, 0, "2022-09-22 03:00+05:00"),
            r"Texas_Price.csv, line 5, .*timestamps must be UTC, got offset \+05:00",
        ),
        (
            lambda d: rewrite_cell(d / "price" / "Texas_Price.csv", 5, 0, "2022-09-22 03:30"),
            r"Texas_Price.csv, line 5, .*2022-09-22T03:30:00 is not the start of an hour",
        ),
        (
            lambda d: rewrite_cell(d / "price" / "Texas_Price.csv", 5, 0, "2022-02-30 03"),
            r"Texas_Price.csv, line 5, .*expected a timestamp like",
        ),
        # A year far away is a valid date, but then the file does not line up with the others.
        (
            lambda d: rewrite_cell(d / "price" / "Texas_Price.csv", 458, 0, "2300-01-01 00"),
            r"Texas_Price.csv has no row for .* hours",
        ),
    ],
)
def test_published_layout_refuses_what_would_misalign_silently(data_copy, corrupt, message):
    corrupt(data_copy)
    with pytest.raises(InputError, match=message):
        load_eglb2022(data_copy)


def test_published_layout_accepts_utc_designators(data_copy, published_full):
    rewrite_cell(data_copy / "price" / "Texas_Price.csv", 5, 0, "2022-09-22T03:00:00Z")
    rewrite_cell(data_copy / "price" / "Texas_Price.csv", 6, 0, "2022-09-22 04:00+00:00")
    assert load_eglb2022(data_copy) == published_full


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (
            lambda d: edit_csv(d / "signals.csv", lambda r: [r.pop(11) for _ in range(10)]),
            r"signals.csv has no row for 1 hour \(2022-09-22T01\)",
        ),
        (
            lambda d: edit_csv(
                d / "signals.csv", lambda r: [row.__setitem__(0, row[0].replace(":00:00", ":30:00")) for row in r[1:11]]
            ),
            r"signals.csv, line 2, column 'timestamp': 2022-09-22T00:30:00 is not the start of an hour",
        ),
        (lambda d: (d / "scenario.json").write_bytes(b'{"name": "\xff\xfe"}'), r"scenario.json is not UTF-8 text"),
    ],
)
def test_csv_format_refuses_gaps_minutes_and_bad_encodings(tmp_path, corrupt, message):
    folder = save_scenario(make_synthetic(1, hours=6), tmp_path / "s")
    corrupt(folder)
    with pytest.raises(InputError, match=message):
        load_scenario(folder)
