"""The importers on the real history folder (skipped when it is absent; parsed files come from the cache).

The README's sanity tables are the independent reference: per zone, signal and UTC year the rows,
missing hours and duplicated (conflicting) hours the importers count before any fill must be the
README's. The README counts the shared years 2021-2023 over those years' files pooled and the test
year 2024 over the 2024 files alone; the same file sets are read here.
"""

from __future__ import annotations

import numpy as np
import pytest
from eglb.importers.grid import count_years, utc_hour
from eglb.importers.history import load_history, series_rows, source_file
from eglb.importers.regions import read_region_table
from history_readme import sanity_rows

SHARED_YEARS = (2021, 2022, 2023)


@pytest.fixture(scope="module")
def readme_rows(history_path):
    rows = sanity_rows(history_path / "README.md") + sanity_rows(history_path / "README-2024.md")
    assert len(rows) == (14 + 14 + 16) * 4  # carbon and weather of 14 zones, prices of 16 folders, 4 years
    return rows


def test_counts_before_filling_agree_with_every_row_of_the_readme_sanity_tables(history_path, readme_rows):
    counted = {}
    disagreements = []
    for row in readme_rows:
        years = (2024,) if row.year == 2024 else SHARED_YEARS
        key = (row.signal, row.folder, years)
        if key not in counted:
            rows, _, _ = series_rows(history_path, row.signal, row.folder, years)
            first = utc_hour(f"{years[0]}-01-01T00")
            counted[key] = count_years(rows, first, utc_hour(f"{years[-1] + 1}-01-01T00") - first)
        mine = counted[key][row.year]
        expected = (row.rows, row.missing, row.duplicates, row.conflicting)
        got = (mine.rows, mine.missing, mine.duplicates, mine.conflicting if row.conflicting is not None else None)
        if got != expected:
            disagreements.append(f"{row.signal} {row.folder} {row.year}: counted {got}, {row.readme} says {expected}")
    assert not disagreements, "\n".join(disagreements)


def test_a_year_of_the_14_zones_loads_with_its_report_matching_the_readme(history_path, readme_rows):
    scenario = load_history(history_path, years=2022)
    assert scenario.n_regions == 14 and scenario.n_hours == 8760
    for name in ("price", "carbon", "water", "workload"):
        assert np.isfinite(getattr(scenario, name)).all()
    assert 0.0 <= scenario.carbon.min() and scenario.carbon.max() < 1.0  # t/MWh
    assert 1.0 < scenario.water.min() and scenario.water.max() < 15.0  # L/kWh
    assert -1000 < scenario.price.min() and 5.0 < np.median(scenario.price) < 300.0  # USD/MWh (AU-VIC reaches -380)
    summary = scenario.metadata["summary"]
    assert len(summary) == 14 * 3 and all(" | filled " in line for line in summary)
    sources = {(s["zone"], s["signal"]): s for s in scenario.metadata["sources"]}
    assert sources[("AU-NSW", "price")]["currency"] == "AUD" and "mislabel" in sources[("AU-NSW", "price")]["currency_note"]
    assert sources[("DE-LU", "carbon")]["zone_id"] == "DE"
    assert any(line.startswith("IN-WE weather") and "stamps at :30 UTC" in line for line in summary)
    reference = {(r.signal, r.folder): r for r in readme_rows if r.year == 2022}
    for series in scenario.metadata["series"]:
        row = reference[(series["signal"], series["zone"])]
        counts = series["counts"]["2022"]
        assert (counts["rows"], counts["missing"], counts["duplicates"]) == (row.rows, row.missing, row.duplicates), series[
            "summary"
        ]
        assert series["filled_linear"] + series["filled_daily"] + series["spread_hours"] == counts["missing"]


def test_a_training_year_never_reads_the_test_year_files(history_path):
    scenario = load_history(history_path, regions="AU-NSW,US-TEX-ERCO", years=2023)
    assert not any("2024" in path for path in scenario.metadata["files_read"])
    weather = next(s for s in scenario.metadata["series"] if s["zone"] == "AU-NSW" and s["signal"] == "weather")
    assert weather["counts"]["2023"]["missing"] == 11 and weather["gaps"] == ["2023-12-31 13:00 +11 h daily"]


def test_shipped_region_tables_point_at_existing_files(history_path):
    from eglb.importers.annual_mix import read_annual_mix
    from eglb.importers.history import ANNUAL_MIX_FILE

    shares, _ = read_annual_mix(history_path / ANNUAL_MIX_FILE)
    for table in ("complete14", "eglb2022"):
        for region in read_region_table(table):
            for year in (2021, 2022, 2023, 2024):
                for signal, folder in (("carbon", region.carbon), ("price", region.price), ("weather", region.weather)):
                    assert source_file(history_path, signal, folder, year).is_file(), (table, region.name, signal, year)
            assert region.annual_mix in shares.index
            if region.hourly_mix:
                assert source_file(history_path, "hourly_mix", region.hourly_mix, 2022).is_file()


def test_water_model_lands_where_spec_section_8_says_on_the_aligned_us_hours(history_path, published_path):
    from eglb.importers.validate_water import compare, format_rows

    found = compare(history_path, published_path)
    lines = format_rows(found)
    assert len(lines) == 3 + len(found) == 3 + 2 * (5 + 2) and lines[2].split()[:3] == ["region", "table", "mix"]
    assert lines[3].split()[:4] == ["Texas", "eglb", "annual", "2022"]
    rows = {(r["region"], r["table"], r["mix"]): r for r in found}
    for table in ("eglb", "macknick-median"):
        texas, virginia = rows[("Texas", table, "hourly EIA-930")], rows[("Virginia", table, "hourly EIA-930")]
        assert 0.93 < texas["ratio"] < 1.07 and 0.93 < virginia["ratio"] < 1.07
        assert texas["hourly_r"] > 0.9 and virginia["hourly_r"] > 0.7
    assert rows[("Japan", "eglb", "annual 2022")]["ratio"] > 1.3  # the published Japan water is below the on-site term alone
