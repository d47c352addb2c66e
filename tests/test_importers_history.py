"""History scenarios from a small history folder written by the tests: regions, grid, water, workload, cache, report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.history import is_history_folder, load_history, parse_years
from eglb.importers.paths import HISTORY_ENV, default_history_path
from eglb.importers.regions import Region, read_region_table, select_regions
from eglb.importers.sites import local_hours, utc_offsets
from eglb.importers.water import water_intensity, water_parameters
from eglb.importers.workload import FittedLoads
from history_files import MIX, carbon_g, make_history, temperature, utc_hours

EUR = 1.07764


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return make_history(tmp_path_factory.mktemp("history"))


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EGLB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def scenario(history):
    return load_history(history, regions=history / "my_regions.csv", years=2022)


def test_signals_land_on_the_utc_grid_in_toolkit_units(history, scenario):
    hours = utc_hours(2022)
    assert scenario.regions == ("Dallas", "Frankfurt", "Brussels") and scenario.gateways == scenario.regions
    np.testing.assert_array_equal(scenario.timestamps, hours.astype("datetime64[s]"))
    np.testing.assert_allclose(scenario.carbon[0], carbon_g(hours, 300.0) / 1000)
    np.testing.assert_allclose(scenario.carbon[2], carbon_g(hours, 400.0) / 1000)  # stand-in: DE-LU's carbon
    np.testing.assert_allclose(scenario.price[0], 40.0 + hours.astype(np.int64) % 24)
    np.testing.assert_allclose(scenario.price[1], 80.0 * EUR)  # DST rows, the missing day and the last hour filled
    np.testing.assert_allclose(scenario.price[2], 90.0 * EUR)
    parameters = water_parameters()
    expected = water_intensity(
        temperature(hours, 22.0),
        55.0,
        dict(zip(("hydro", "solar", "wind", "nuclear", "fossil_fuels"), MIX["US-TEX-ERCO"])),
        parameters,
    )
    np.testing.assert_allclose(scenario.water[0], expected)
    assert scenario.mask.all() and scenario.mu_water == 60.0 and scenario.mu_carbon == 1500.0


def test_the_report_counts_before_filling_and_says_what_was_done(scenario):
    meta = json.loads(json.dumps(scenario.metadata))  # JSON-ready
    series = {(s["zone"], s["signal"]): s for s in meta["series"]}
    de_price = series[("DE-LU", "price")]
    # 8760 labels - 24 (2 Sep) - 1 (2022-01-01 00:00 CET is 2021 UTC) - 1 (spring 02:00) - 1 (autumn 02:00, two hours)
    assert de_price["counts"]["2022"] == {"rows": 8733, "missing": 27, "duplicates": 0, "conflicting": 0}
    assert de_price["spread_hours"] == 2 and de_price["filled_daily"] == 24 and de_price["filled_linear"] == 1
    assert any("does not exist in Europe/Berlin" in note for note in de_price["dropped"])
    assert series[("US-TEX-ERCO", "price")]["counts"]["2022"] == {"rows": 8760, "missing": 0, "duplicates": 0, "conflicting": 0}
    assert len(meta["summary"]) == len(meta["series"]) + 1  # one line per zone and signal, plus the stand-in line
    assert meta["summary"][-1].startswith("Brussels: carbon, weather from stand-ins")
    assert "DE-LU price: 2022: 8733 rows, 27 missing h" in "\n".join(meta["summary"])
    assert meta["years"] == [2022] and meta["carbon_basis"] == "direct" and meta["water"]["table"] == "eglb"
    assert any(path.endswith("2021.json") for path in meta["files_read"])  # local years cross the UTC boundary
    assert meta["attribution"][0].startswith("Contains information from Electricity Maps")


def test_default_workload_is_the_seeded_fitted_model_at_local_time_with_headroom_capacity(history, scenario):
    again = load_history(history, regions=history / "my_regions.csv", years=2022)
    other = load_history(history, regions=history / "my_regions.csv", years=2022, seed=1)
    np.testing.assert_array_equal(scenario.workload, again.workload)
    assert not np.array_equal(scenario.workload, other.workload)
    assert scenario.workload.min() >= 0 and "fitted workload model of source 'bloom'" in scenario.metadata["workload"]
    np.testing.assert_allclose(scenario.capacity[:, 0], 1.25 * scenario.workload.max(axis=1))
    # Gateways keep their local clocks, daylight saving time included.
    assert set(np.unique(utc_offsets(scenario.timestamps, "Europe/Berlin"))) == {1.0, 2.0}
    assert local_hours(scenario.timestamps[:1], "Asia/Tokyo")[0] == 9


def test_workload_can_be_a_callable_or_an_array_and_capacity_a_choice(history):
    seen = {}

    def flat(timestamps, sites, rng):
        seen["sites"], seen["hours"] = sites, timestamps.size
        return np.full((len(sites), timestamps.size), 0.5)

    s = load_history(
        history, regions="Dallas,Frankfurt", table=history / "my_regions.csv", years=2022, hours=(10, 34), workload=flat
    )
    assert seen["hours"] == 8760 and [site.timezone for site in seen["sites"]] == ["America/Chicago", "Europe/Berlin"]
    assert seen["sites"][0].longitude == pytest.approx(-96.82)
    assert s.n_hours == 24 and (s.workload == 0.5).all() and (s.capacity == 0.625).all()
    s = load_history(
        history,
        regions=["Dallas"],
        table=history / "my_regions.csv",
        years=2022,
        hours="0:5",
        workload=np.ones((1, 5)),
        capacity=3.0,
    )
    assert (s.capacity == 3.0).all() and s.metadata["workload"] == "array given by the caller"
    with pytest.raises(InputError, match=r"argument 'workload' has shape \(1, 4\); expected \[J, T\] = \[1, 5\]"):
        load_history(
            history, regions=["Dallas"], table=history / "my_regions.csv", years=2022, hours="0:5", workload=np.ones((1, 4))
        )
    with pytest.raises(InputError, match="the workload model returned shape"):
        load_history(
            history, regions=["Dallas"], table=history / "my_regions.csv", years=2022, workload=lambda t, s, r: np.ones(3)
        )


def test_an_hours_window_is_a_slice_of_the_whole_years(history, scenario):
    part = load_history(history, regions=history / "my_regions.csv", years=2022, hours=(100, 300))
    assert part == scenario[100:300]
    assert part.metadata["hours"] == [100, 300]


def test_hourly_mix_and_lca_and_macknick_choices(history):
    s = load_history(
        history,
        regions="Dallas",
        table=history / "my_regions.csv",
        years=2022,
        mix="hourly",
        carbon="lca",
        water_table="macknick-median",
        pue=1.2,
    )
    np.testing.assert_allclose(s.carbon[0], (carbon_g(utc_hours(2022), 300.0) + 50) / 1000)
    assert s.metadata["mix"][0]["kind"] == "hourly EIA-930" and s.metadata["water"]["pue"] == 1.2
    with pytest.raises(InputError, match="covers 2022 only"):
        load_history(history, regions="Dallas", table=history / "my_regions.csv", years="2021-2022", mix="hourly")
    with pytest.raises(InputError, match="has no hourly \\(EIA-930\\) mix"):
        load_history(history, regions="Frankfurt", table=history / "my_regions.csv", years=2022, mix="hourly")
    best = load_history(history, regions="Dallas,Frankfurt", table=history / "my_regions.csv", years=2022, mix="best")
    assert [m["kind"] for m in best.metadata["mix"]] == ["hourly EIA-930", "annual 2022"]


def test_a_price_folder_of_your_own_comes_with_its_convention(history, tmp_path):
    own = tmp_path / "conventions.csv"
    own.write_text(
        "folder,currency,header_currency,time,utc_offset,timezone,label,duplicates\n"
        "BE,EUR,EUR,fixed,1,,start,error\n"  # Belgian labels read as CET all year: no DST handling
    )
    with pytest.raises(InputError, match="no timestamp and currency convention for price folder 'DE-LU'"):
        load_history(history, regions="Frankfurt", table=history / "my_regions.csv", years=2022, price_conventions=own)
    mine = load_history(history, regions="Brussels", table=history / "my_regions.csv", years=2022, price_conventions=own)
    shipped = load_history(history, regions="Brussels", table=history / "my_regions.csv", years=2022)
    price = [next(s for s in scenario.metadata["series"] if s["signal"] == "price") for scenario in (mine, shipped)]
    assert price[0]["dropped"] == [] and price[0]["spread_hours"] == 0  # read as CET all year
    assert len(price[1]["dropped"]) == 2 and price[1]["spread_hours"] == 2  # Europe/Brussels: spring 02:00 of both files read


def test_two_years_and_a_missing_year(history):
    s = load_history(history, regions="Dallas", table=history / "my_regions.csv", years="2021-2022")
    assert s.n_hours == 8760 * 2
    with pytest.raises(InputError, match="missing file .*2023.*\\(carbon of 'US-TEX-ERCO' for 2023\\)"):
        load_history(history, regions="Dallas", table=history / "my_regions.csv", years=2023)
    with pytest.raises(InputError, match="consecutive"):
        parse_years("2021,2023")
    assert parse_years("2021-2022") == (2021, 2022) and parse_years([2022]) == (2022,)


def test_parsed_files_are_cached_outside_the_repository_as_plain_npz_and_invalidated_by_content(history, tmp_path, monkeypatch):
    cache = tmp_path / "my-cache"
    monkeypatch.setenv("EGLB_CACHE", str(cache))
    first = load_history(history, regions="Dallas", table=history / "my_regions.csv", years=2022)
    entries = sorted(cache.glob("*.npz"))
    assert len(entries) == 6  # carbon, price and weather of 2021 (for its hours in UTC 2022) and of 2022
    for entry in entries:
        with np.load(entry, allow_pickle=False) as stored:
            assert all(stored[name].dtype.kind != "O" for name in stored.files)
    assert load_history(history, regions="Dallas", table=history / "my_regions.csv", years=2022) == first
    assert sorted(cache.glob("*.npz")) == entries
    edited = make_history(tmp_path / "edited", years=(2022,))
    path = edited / "carbon" / "US-TEX-ERCO" / "2022" / "US-TEX-ERCO_2022_hourly.csv"
    path.write_bytes(
        path.read_bytes().replace(
            b"2022-01-01 05:00:00,Japan,T\xc5\x8dky\xc5\x8d,XX,305.0", b"2022-01-01 05:00:00,Japan,T\xc5\x8dky\xc5\x8d,XX,999.0"
        )
    )
    changed = load_history(edited, regions="Dallas", table=edited / "my_regions.csv", years=2022)
    assert changed.carbon[0, 5] == 0.999 and changed.carbon[0, 4] == first.carbon[0, 4]


def test_history_folder_detection_and_default_path(history, tmp_path, monkeypatch):
    assert is_history_folder(history) and not is_history_folder(tmp_path)
    monkeypatch.setenv(HISTORY_ENV, str(history))
    assert default_history_path() == history
    s = load_history(regions="Dallas", table=history / "my_regions.csv", years=2022)
    assert s.metadata["path"] == str(history)
    with pytest.raises(InputError, match="is not the history folder"):
        load_history(tmp_path, years=2022)


def test_region_tables_and_selection(history):
    complete = read_region_table("complete14")
    assert len(complete) == 14 and complete[0].name == "US-TEX-ERCO" and all(not r.stand_in for r in complete)
    published = read_region_table("eglb2022")
    assert [r.name for r in published] == [
        "Texas",
        "Virginia",
        "Georgia",
        "Nevada",
        "Germany",
        "Belgium",
        "Netherlands",
        "Denmark",
        "Japan",
        "Singapore",
    ]
    stand_ins = {r.name: r.stand_in for r in published if r.stand_in}
    assert stand_ins == {
        "Virginia": ("weather",),
        "Georgia": ("carbon", "price", "weather"),
        "Nevada": ("carbon", "price", "weather"),
        "Belgium": ("carbon", "weather"),
        "Netherlands": ("carbon", "weather"),
        "Denmark": ("carbon", "price", "weather"),
    }
    assert [r.name for r in select_regions("Texas, KR")] == ["Texas", "KR"]
    assert [r.name for r in select_regions(history / "my_regions.csv")] == ["Dallas", "Frankfurt", "Brussels"]
    mine = Region("Mine", "DE-LU", "BE", "DE-LU", "BE")
    assert select_regions([mine, "Texas"])[0] is mine
    with pytest.raises(InputError, match="unknown region 'Atlantis'"):
        select_regions("Texas,Atlantis")
    with pytest.raises(InputError, match="chosen twice"):
        select_regions(["Texas", "Texas"])
    bad = history / "bad_regions.csv"
    bad.write_text("region,carbon,price,weather,annual_mix,stand_in\nX,A,B,C,D,salt\n")
    with pytest.raises(InputError, match="line 2, column 'stand_in': 'salt' is not one of"):
        read_region_table(bad)


def test_fitted_loads_reject_a_bad_peak():
    with pytest.raises(InputError, match="peak_mw"):
        FittedLoads(peak_mw=0.0)
