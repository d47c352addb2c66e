"""The hourly UTC grid: README-style counts, duplicate rules, the documented gap rules and their report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.grid import FillRule, Rows, count_years, place, utc_hour

START = utc_hour("2022-12-30T00")


def rows_at(hours: list[int], values: list[float], files: tuple[str, ...] = ("a.csv",), file_of=None) -> Rows:
    """Rows at grid offsets ``hours`` (from START) with one value column."""
    n = len(hours)
    return Rows(
        start=(START + np.asarray(hours, dtype=np.int64)) * 3600,
        values=np.asarray(values, dtype=float).reshape(n, 1),
        columns=("v",),
        line=np.arange(n, dtype=np.int64) + 2,
        file=np.zeros(n, dtype=np.int64) if file_of is None else np.asarray(file_of, dtype=np.int64),
        files=files,
        span=np.ones(n, dtype=np.int64),
    )


def test_counts_follow_the_readme_definitions_per_utc_year():
    # Dec 30-31 2022 (48 h) and Jan 1 2023 (24 h): hour 5 missing, hour 10 twice (same), hour 30 twice (different),
    # hour 50 (2023) three times (two agree).
    hours = [h for h in range(72) if h != 5] + [10, 30, 50, 50]
    values = [float(h) for h in range(72) if h != 5] + [10.0, 99.0, 50.0, 7.0]
    counts = count_years(rows_at(hours, values), START, 72)
    assert counts[2022].rows == 47 + 2 and counts[2022].missing == 1
    assert counts[2022].duplicates == 2 and counts[2022].conflicting == 1
    assert counts[2023].rows == 24 + 2 and counts[2023].missing == 0
    assert counts[2023].duplicates == 1 and counts[2023].conflicting == 1


def test_short_gaps_are_linear_and_edges_hold_the_nearest_value():
    hours = [2, 3, 4, 8, 9]
    grid, report = place(rows_at(hours, [10.0, 20.0, 30.0, 70.0, 80.0]), START, 11, zone="Z", signal="s")
    np.testing.assert_allclose(grid[:, 0], [10, 10, 10, 20, 30, 40, 50, 60, 70, 80, 80])
    assert report.filled_linear == 6 and report.filled_daily == 0
    assert report.gaps == ("2022-12-30 00:00 +2 h linear", "2022-12-30 05:00 +3 h linear", "2022-12-30 10:00 +1 h linear")


def test_longer_gaps_take_the_same_hour_of_the_nearest_complete_days():
    hours = np.arange(24 * 5)
    values = 100 + 10 * np.sin(2 * np.pi * hours / 24) + hours
    gap = (hours >= 30) & (hours < 60)
    grid, report = place(rows_at(list(hours[~gap]), list(values[~gap])), START, hours.size, zone="Z", signal="s")
    for t in np.flatnonzero(gap):
        before = t - 24 * ((t - 30) // 24 + 1)
        after = t + 24 * ((59 - t) // 24 + 1)
        assert grid[t, 0] == pytest.approx((values[before] + values[after]) / 2)
    np.testing.assert_array_equal(grid[~gap, 0], values[~gap])
    assert report.filled_daily == 30 and report.gaps == ("2022-12-31 06:00 +30 h daily",)


def test_a_gap_longer_than_the_rule_is_an_error_naming_the_rows_around_it_and_the_hours():
    rows = rows_at([0, 1, 2, 60, 61], [1.0, 2.0, 3.0, 4.0, 5.0], files=("x.csv", "y.csv"), file_of=[0, 0, 0, 1, 1])
    message = (
        r"Z s: no data for 57 hours, 2022-12-30 03:00 to 2023-01-01 11:00 UTC \(after file x.csv, line 4; "
        r"before file y.csv, line 5\); gaps of up to 48 hours are filled"
    )
    with pytest.raises(InputError, match=message):
        place(rows, START, 62, zone="Z", signal="s")
    _, report = place(rows, START, 62, zone="Z", signal="s", fill=FillRule(linear_max_hours=60, daily_max_hours=60))
    assert report.filled_linear == 57
    with pytest.raises(
        InputError, match=r"no data for 59 hours, 2022-12-30 00:00 .* \(at the start of the data; before file x.csv"
    ):
        place(rows_at([59, 60], [1.0, 2.0], files=("x.csv",)), START, 61, zone="Z", signal="s")


def test_no_rows_at_all_and_bad_rules_are_errors():
    with pytest.raises(InputError, match="no rows for 2022-12-30 00:00 to 2022-12-30 04:00 UTC"):
        place(rows_at([100], [1.0]), START, 5, zone="Z", signal="s")
    with pytest.raises(InputError, match="duplicate rule must be one of"):
        place(rows_at([0], [1.0]), START, 1, zone="Z", signal="s", duplicates="latest")
    with pytest.raises(InputError, match="daily_max_hours \\(2\\) must be >= linear_max_hours \\(3\\)"):
        FillRule(linear_max_hours=3, daily_max_hours=2)
    with pytest.raises(InputError, match="whole number of hours"):
        FillRule(linear_max_hours=1.5)


def test_mean_and_in_order_rules():
    rows = rows_at([0, 1, 1, 2], [1.0, 2.0, 4.0, 5.0])
    grid, report = place(rows, START, 3, zone="Z", signal="s", duplicates="mean")
    np.testing.assert_allclose(grid[:, 0], [1.0, 3.0, 5.0])
    assert report.conflicts_resolved == 1
    # In file order: hours 0, 3 (out of order: it repeats a later label), 1, 2, 3, 4 (the DE-LU 2021-10-31 pattern).
    rows = rows_at([0, 3, 1, 2, 3, 4], [1.0, 0.0, 2.0, 3.0, 4.0, 5.0])
    grid, report = place(rows, START, 5, zone="Z", signal="s", duplicates="in-order")
    np.testing.assert_allclose(grid[:, 0], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert report.dropped == ("file a.csv, line 3: out of time order and disagreeing with file a.csv, line 6 (kept)",)
    with pytest.raises(InputError, match="disagree .* this source declares no rule"):
        place(rows, START, 5, zone="Z", signal="s")


def test_the_report_is_one_line_per_series_and_json_ready():
    grid, report = place(rows_at([0, 2, 2], [1.0, 3.0, 3.0]), START, 3, zone="Z", signal="price")
    assert report.summary() == (
        "Z price: 2022: 3 rows, 1 missing h, 1 dup (0 conflicting) | "
        "filled 1 h linear + 0 h daily, 1 identical duplicate rows dropped"
    )
    data = json.loads(json.dumps(report.as_dict()))
    assert data["counts"]["2022"] == {"rows": 3, "missing": 1, "duplicates": 1, "conflicting": 0}
    assert data["filled_linear"] == 1 and data["identical_rows_dropped"] == 1
