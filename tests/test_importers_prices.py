"""Market price files: every folder convention, currencies, and each quirk of the history README, handled explicitly."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.currency import RateTable
from eglb.importers.grid import DEFAULT_FILL, FillRule, place, utc_hour
from eglb.importers.history import series_rows
from eglb.importers.prices import PriceConvention, read_conventions, read_prices
from history_files import daily_wave, hours_from, stamp, write_price

EUR, AUD, INR = 1.07764, 0.63056, 0.01166


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EGLB_CACHE", str(tmp_path / "cache"))


def price_file(root, folder, year, currency, rows):
    return write_price(root / "price" / folder / str(year) / f"{folder}_electricity_prices_{year}.csv", currency, rows)


def land(root, folder, years, first, hours, fill=DEFAULT_FILL, rates=None):
    """Read a folder's files and place them on the grid [first, first + hours)."""
    rows, rule, metadata = series_rows(root, "price", folder, years, rates=rates, cache=False)
    values, report = place(rows, first, hours, zone=folder, signal="price", duplicates=rule, fill=fill)
    return values[:, 0], report, metadata


def utc_index(data):
    return [str(t)[:16] for t in data.index.tz_convert(None)]


def test_offset_aware_ercot_rows_are_parsed_per_row_across_dst(tmp_path):
    rows = [("2022-03-13 00:00:00-06:00", 20.0), ("2022-03-13 01:00:00-06:00", 21.0), ("2022-03-13 03:00:00-05:00", 22.0)]
    data, meta = read_prices(price_file(tmp_path, "US-TEX-ERCO", 2022, "USD", rows))
    assert utc_index(data) == ["2022-03-13 06:00", "2022-03-13 07:00", "2022-03-13 08:00"]
    np.testing.assert_array_equal(data["price_usd_mwh"], [20.0, 21.0, 22.0])
    assert meta["time"] == "offset" and meta["currency"] == "USD"


@pytest.mark.parametrize(
    "folder, currency, local, utc",
    [
        ("US-MIDA-PJM", "USD", "2022-07-01 05:00:00", "2022-07-01 05:00"),  # naive UTC
        ("US-CAL-CISO", "USD", "2022-07-01 05:00:00", "2022-07-01 05:00"),
        ("US-NY-NYIS", "USD", "2022-07-01 05:00:00", "2022-07-01 05:00"),
        ("CA-ON", "CAD", "2022-07-01 00:00:00", "2022-07-01 05:00"),  # EST all year, even in July
        ("BR", "R$", "2022-07-01 00:00:00", "2022-07-01 03:00"),
        ("ZA", "ZAR", "2022-07-01 00:00:00", "2022-06-30 22:00"),
        ("IN", "INR", "2022-07-01 00:00:00", "2022-06-30 18:30"),  # UTC stamps fall on :30
        ("SG", "SGD", "2022-07-01 00:00:00", "2022-06-30 16:00"),
        ("JP-TK", "JPY", "2022-07-01 00:00:00", "2022-06-30 15:00"),
        ("KR", "KRW", "2022-07-01 00:00:00", "2022-06-30 15:00"),
        ("AU-NSW", "USD", "2022-07-01 00:00:00", "2022-06-30 14:00"),
        ("DE-LU", "EUR", "2022-07-01 00:00:00", "2022-06-30 22:00"),  # CEST in summer
        ("DE-LU", "EUR", "2022-01-10 00:00:00", "2022-01-09 23:00"),  # CET in winter
    ],
)
def test_each_folder_convention_gives_the_utc_hour_start(tmp_path, folder, currency, local, utc):
    typical = {"JPY": 15000.0, "KRW": 150000.0, "INR": 5000.0}.get(currency, 100.0)
    data, _ = read_prices(price_file(tmp_path, folder, 2022, currency, [(local, typical)]))
    assert utc_index(data) == [utc]


def test_the_shipped_table_covers_every_price_folder_of_the_history_readme():
    table = read_conventions()
    assert sorted(table) == sorted(
        [
            "US-TEX-ERCO",
            "US-MIDA-PJM",
            "US-CAL-CISO",
            "US-NY-NYIS",
            "CA-ON",
            "BR",
            "JP-TK",
            "KR",
            "SG",
            "IN",
            "AU-NSW",
            "AU-VIC",
            "ZA",
            "DE-LU",
            "BE",
            "NL",
        ]
    )
    assert table["IN"].utc_offset == 5.5 and table["AU-VIC"].duplicates == "mean" and table["NL"].timezone == "Europe/Amsterdam"


def test_aud_mislabelled_as_usd_is_converted_from_aud(tmp_path):
    data, meta = read_prices(price_file(tmp_path, "AU-NSW", 2022, "USD", [("2022-07-01 00:00:00", 100.0)]))
    assert data["price_usd_mwh"].iloc[0] == pytest.approx(100.0 * AUD)
    assert meta["currency"] == "AUD" and meta["header_currency"] == "USD" and "mislabel" in meta["currency_note"]
    fixed, meta = read_prices(price_file(tmp_path / "b", "AU-NSW", 2022, "AUD", [("2022-07-01 00:00:00", 100.0)]))
    assert fixed["price_usd_mwh"].iloc[0] == pytest.approx(100.0 * AUD) and meta["currency_note"] == ""
    with pytest.raises(InputError, match="line 1: the header says EUR but the convention of folder 'AU-NSW' expects USD"):
        read_prices(price_file(tmp_path / "c", "AU-NSW", 2022, "EUR", [("2022-07-01 00:00:00", 100.0)]))


def test_identical_overlap_of_consecutive_caiso_files_is_deduplicated_and_counted(tmp_path):
    hours = hours_from("2021-12-31T08", 48)
    values = daily_wave(hours, 60.0, 20.0).round(5)
    price_file(tmp_path, "US-CAL-CISO", 2021, "USD", [(stamp(h), v) for h, v in zip(hours[:24], values[:24])])
    price_file(tmp_path, "US-CAL-CISO", 2022, "USD", [(stamp(h), v) for h, v in zip(hours, values)])  # repeats the first 24
    grid, report, _ = land(tmp_path, "US-CAL-CISO", (2021, 2022), "2021-12-31T08", 48)
    np.testing.assert_array_equal(grid, values)
    assert report.identical_rows_dropped == 24 and report.conflicts_resolved == 0
    assert report.counts[2021].duplicates == 16 and report.counts[2022].duplicates == 8
    assert report.counts[2021].conflicting == 0 and report.counts[2021].rows == 32


def test_conflicting_duplicates_are_refused_where_the_source_declares_no_rule(tmp_path):
    price_file(
        tmp_path,
        "US-CAL-CISO",
        2022,
        "USD",
        [("2022-03-01 00:00:00", 30.0), ("2022-03-01 01:00:00", 31.0), ("2022-03-01 01:00:00", 35.0)],
    )
    with pytest.raises(InputError, match=r"2 rows for 2022-03-01 01:00 UTC disagree .*line 3: 31; .*line 4: 35"):
        land(tmp_path, "US-CAL-CISO", (2022,), "2022-03-01T00", 2)


def test_aemo_hours_split_between_monthly_files_take_the_mean(tmp_path):
    rows = [
        ("2022-01-31 22:00:00", 80.0),
        ("2022-01-31 23:00:00", 90.0),
        ("2022-02-01 00:00:00", 100.0),
        ("2022-02-01 00:00:00", 120.0),
        ("2022-02-01 01:00:00", 70.0),
    ]
    grid, report, _ = land(price_file(tmp_path, "AU-VIC", 2022, "USD", rows).parents[3], "AU-VIC", (2022,), "2022-01-31T12", 4)
    np.testing.assert_allclose(grid, np.array([80.0, 90.0, 110.0, 70.0]) * AUD)
    assert report.conflicts_resolved == 1 and report.counts[2022].conflicting == 1 and report.counts[2022].duplicates == 1


def test_a_missing_day_is_filled_from_the_same_hours_of_the_days_around_it(tmp_path):
    local = hours_from("2022-06-01T00", 24 * 9)
    values = daily_wave(local, 100.0, 40.0) + np.arange(local.size) * 0.1
    keep = (local < np.datetime64("2022-06-05T00")) | (local >= np.datetime64("2022-06-06T00"))
    price_file(tmp_path, "BE", 2022, "EUR", [(stamp(h), round(v, 4)) for h, v in zip(local[keep], values[keep])])
    grid, report, _ = land(tmp_path, "BE", (2022,), "2022-05-31T22", 24 * 9)
    expected = np.round(values, 4) * EUR  # CEST: local = UTC + 2, so grid hour k is local hour k
    gap = slice(24 * 4, 24 * 5)
    np.testing.assert_allclose(grid[gap], (expected[24 * 3 : 24 * 4] + expected[24 * 5 : 24 * 6]) / 2)
    np.testing.assert_allclose(grid[~np.isin(np.arange(grid.size), np.arange(96, 120))], expected[keep])
    assert report.counts[2022].missing == 24 and report.filled_daily == 24 and report.gaps == ("2022-06-04 22:00 +24 h daily",)


def test_de_lu_autumn_02_00_out_of_order_is_dropped_and_the_kept_one_covers_both_hours(tmp_path):
    rows = [
        ("2021-10-30 22:00:00", 66.93),
        ("2021-10-30 23:00:00", 57.18),
        ("2021-10-31 02:00:00", 0.0),
        ("2021-10-31 00:00:00", 56.14),
        ("2021-10-31 01:00:00", 60.87),
        ("2021-10-31 02:00:00", 66.76),
        ("2021-10-31 03:00:00", 57.11),
        ("2021-10-31 04:00:00", 58.65),
    ]
    price_file(tmp_path, "DE-LU", 2021, "EUR", rows)
    grid, report, _ = land(tmp_path, "DE-LU", (2021,), "2021-10-30T20", 8)
    # UTC 20:00 .. 03:00: local 22:00, 23:00 (CEST), 00:00, 01:00, then 02:00 CEST and 02:00 CET, 03:00, 04:00 (CET)
    np.testing.assert_allclose(grid, np.array([66.93, 57.18, 56.14, 60.87, 66.76, 66.76, 57.11, 58.65]) * EUR)
    assert report.spread_hours == 2 and report.two_hour_rows == 2 and report.conflicts_resolved == 1
    assert any("line 4: out of time order and disagreeing with" in note and "line 7 (kept)" in note for note in report.dropped)
    assert report.counts[2021].duplicates == 0 and report.counts[2021].missing == 2  # as the README counts DST rows


def test_spring_dst_02_00_does_not_exist_and_is_dropped(tmp_path):
    rows = [
        ("2022-03-27 00:00:00", 40.0),
        ("2022-03-27 01:00:00", 41.0),
        ("2022-03-27 02:00:00", 43.0),
        ("2022-03-27 03:00:00", 43.0),
        ("2022-03-27 04:00:00", 44.0),
    ]
    price_file(tmp_path, "NL", 2022, "EUR", rows)
    grid, report, _ = land(tmp_path, "NL", (2022,), "2022-03-26T23", 4)
    np.testing.assert_allclose(grid, np.array([40.0, 41.0, 43.0, 44.0]) * EUR)
    assert report.filled == 0 and report.counts[2022].missing == 0 and report.counts[2022].duplicates == 0
    assert len(report.dropped) == 1 and "line 4: 2022-03-27 02:00:00 does not exist in Europe/Amsterdam" in report.dropped[0]


def test_india_twenty_hour_gap_is_filled_daily_and_a_longer_one_is_an_error_naming_file_and_hours(tmp_path):
    local = hours_from("2022-05-20T00", 24 * 6)
    values = daily_wave(local, 5000.0, 1500.0).round(2)
    gap = (local >= np.datetime64("2022-05-22T07")) & (local < np.datetime64("2022-05-23T03"))
    assert gap.sum() == 20
    price_file(tmp_path, "IN", 2022, "INR", [(stamp(h), v) for h, v in zip(local[~gap], values[~gap])])
    grid, report, _ = land(tmp_path, "IN", (2022,), "2022-05-19T18", 24 * 6)  # IST 00:00 = 18:30 UTC -> hour 18
    filled = np.flatnonzero(gap)
    np.testing.assert_allclose(grid[filled], (values[filled - 24] + values[filled + 24]) / 2 * INR)
    np.testing.assert_allclose(grid[~gap], values[~gap] * INR)
    assert report.filled_daily == 20 and report.counts[2022].missing == 20 and report.gaps == ("2022-05-22 01:00 +20 h daily",)

    long_gap = (local >= np.datetime64("2022-05-21T07")) & (local < np.datetime64("2022-05-23T08"))
    path = price_file(tmp_path / "long", "IN", 2022, "INR", [(stamp(h), v) for h, v in zip(local[~long_gap], values[~long_gap])])
    with pytest.raises(
        InputError,
        match=rf"IN price: no data for 49 hours, 2022-05-21 01:00 to 2022-05-23 01:00 UTC \(after file {path}, line 32;",
    ):
        land(tmp_path / "long", "IN", (2022,), "2022-05-19T18", 24 * 6)
    _, report, _ = land(tmp_path / "long", "IN", (2022,), "2022-05-19T18", 24 * 6, fill=FillRule(daily_max_hours=60))
    assert report.filled_daily == 49


def test_floors_caps_tariffs_and_zero_prices_are_values_not_gaps(tmp_path):
    local = hours_from("2021-08-01T00", 24 * 45)
    tariff = np.where((local.astype(np.int64) % 24 >= 6) & (local.astype(np.int64) % 24 < 9), 1845.0, 614.0)
    tariff[200:1100] = 583.88  # a 900-hour constant run
    price_file(tmp_path, "BR", 2021, "R$", [(stamp(h), v) for h, v in zip(local, tariff)])
    grid, report, _ = land(
        tmp_path, "BR", (2021,), "2021-08-01T03", local.size, fill=FillRule(linear_max_hours=0, daily_max_hours=0)
    )
    np.testing.assert_allclose(grid, tariff * 0.17488)
    assert report.filled == 0
    zeros = [(stamp(h), 0.0 if 10 <= k < 20 else 25.0) for k, h in enumerate(hours_from("2022-04-01T00", 48))]
    price_file(tmp_path, "CA-ON", 2022, "CAD", zeros)
    grid, report, _ = land(tmp_path, "CA-ON", (2022,), "2022-04-01T05", 48, fill=FillRule(linear_max_hours=0, daily_max_hours=0))
    assert (grid[10:20] == 0).all() and report.filled == 0


def test_prices_per_kwh_and_unconverted_currencies_are_caught(tmp_path):
    per_kwh = [(stamp(h), 0.045) for h in hours_from("2022-01-01T05", 24)]
    with pytest.raises(InputError, match="median \\|price\\| is 0.045 USD/MWh: the values look like prices per kWh"):
        read_prices(price_file(tmp_path, "US-MIDA-PJM", 2022, "USD", per_kwh))
    yen_as_dollars = PriceConvention(folder="JP-X", currency="USD", header_currency="USD", time="fixed", utc_offset=9)
    path = write_price(tmp_path / "jp.csv", "USD", [(stamp(h), 15000.0) for h in hours_from("2022-01-01T00", 24)])
    with pytest.raises(InputError, match="currency looks wrong"):
        read_prices(path, convention=yen_as_dollars)
    kilo = write_price(tmp_path / "kwh.csv", "USD", [(stamp(h), 0.05) for h in hours_from("2022-01-01T00", 24)], unit="kWh")
    data, _ = read_prices(kilo, convention="US-MIDA-PJM")
    np.testing.assert_allclose(data["price_usd_mwh"], 50.0)


def test_rates_can_be_overridden_by_a_mapping_or_a_dated_table(tmp_path):
    rows = [("2021-12-31 22:00:00", 100.0), ("2022-01-01 05:00:00", 100.0)]
    path = price_file(tmp_path, "BE", 2022, "EUR", rows)
    data, meta = read_prices(path, rates={"EUR": 2.0})
    np.testing.assert_allclose(data["price_usd_mwh"], [200.0, 200.0])
    assert meta["rates_source"] == "mapping"
    table = tmp_path / "rates.csv"
    table.write_text("# my rates\ncurrency,usd_per_unit,year\nEUR,1.25,2021\nEUR,1.5,\nUSD,1,\n")
    data, meta = read_prices(path, rates=table)
    np.testing.assert_allclose(data["price_usd_mwh"], [125.0, 150.0])  # 2021-12-31 21:00 UTC takes 2021's rate
    assert RateTable.read(table).rates["EUR"] == {2021: 1.25, None: 1.5}
    with pytest.raises(InputError, match="no exchange rate for 'INR'"):
        read_prices(price_file(tmp_path, "IN", 2022, "INR", [("2022-03-01 00:00:00", 3000.0)]), rates={"EUR": 1.1})
    table.write_text("currency,usd_per_unit\nEUR,-1\n")
    with pytest.raises(InputError, match="line 2, column 'usd_per_unit': expected a positive rate"):
        RateTable.read(table)


def test_naive_stamps_in_an_offset_folder_and_offsets_in_a_naive_folder_are_errors(tmp_path):
    rows = [("2022-03-01 00:00:00-06:00", 20.0), ("2022-03-01 01:00:00", 21.0)]
    with pytest.raises(InputError, match=r"line 3, column 'Datetime': expected a UTC offset .* got '2022-03-01 01:00:00,21.0'"):
        read_prices(price_file(tmp_path, "US-TEX-ERCO", 2022, "USD", rows))
    rows = [("2022-03-01 00:00:00", 20.0), ("2022-03-01 01:00:00+00:00", 21.0)]
    with pytest.raises(InputError, match="line 3, column 'Datetime': expected a naive time"):
        read_prices(price_file(tmp_path, "US-MIDA-PJM", 2022, "USD", rows))


def test_unknown_folders_need_a_convention_and_hour_ending_labels_shift_back(tmp_path):
    path = price_file(tmp_path, "FR", 2022, "EUR", [("2022-03-01 01:00:00", 50.0)])
    with pytest.raises(InputError, match="no timestamp and currency convention for price folder 'FR'"):
        read_prices(path)
    mine = PriceConvention(folder="FR", currency="EUR", header_currency="EUR", time="utc", label="end")
    data, _ = read_prices(path, convention=mine)
    assert utc_index(data) == ["2022-03-01 00:00"]
    with pytest.raises(InputError, match="time 'fixed' needs utc_offset"):
        PriceConvention(folder="FR", currency="EUR", header_currency="EUR", time="fixed")
    with pytest.raises(InputError, match="unknown timezone 'Europe/Atlantis'"):
        PriceConvention(folder="FR", currency="EUR", header_currency="EUR", time="local-dst-24", timezone="Europe/Atlantis")


def test_a_bad_header_or_cell_is_named(tmp_path):
    path = tmp_path / "price" / "BE" / "2022" / "BE_electricity_prices_2022.csv"
    path.parent.mkdir(parents=True)
    path.write_text("Datetime,Price\n2022-01-01 00:00:00,1\n")
    with pytest.raises(InputError, match=r"line 1: expected the header 'Datetime,Price \(<CURRENCY>/MWh\)'"):
        read_prices(path)
    path.write_text("Datetime,Price (EUR/MWh)\n2022-01-01 00:00:00,1\n2022-01-01 01:00:00,abc\n")
    with pytest.raises(InputError, match=r"line 3, column 'Price \(EUR/MWh\)': expected a number, got 'abc'"):
        read_prices(path)
    path.write_text("Datetime,Price (EUR/MWh)\n2022-01-01 00:00:00,1\n2022-31-01 01:00:00,2\n")
    with pytest.raises(InputError, match="line 3, column 'Datetime': expected a timestamp"):
        read_prices(path)


def test_real_quirks_of_the_history_files(history_path):
    data, meta = read_prices(history_path / "price" / "AU-NSW" / "2021" / "AU-NSW_electricity_prices_2021.csv", cache=False)
    assert meta["currency"] == "AUD" and meta["header_currency"] == "USD"
    assert data["price_native"].iloc[-1] == 124.77 and utc_index(data)[-1] == "2021-12-31 14:00"
    rows, rule, _ = series_rows(history_path, "price", "DE-LU", (2021,), cache=False)
    grid, report = place(rows, utc_hour("2021-10-30T22"), 4, zone="DE-LU", signal="price", duplicates=rule)
    assert rule == "in-order"
    np.testing.assert_allclose(grid[2:, 0], 66.76 * EUR)  # 02:00 CEST and 02:00 CET, from line 7253
    assert any("line 7250: out of time order" in note for note in report.dropped)
