"""When prices are public (importers/markets.py, the region tables) and the market forecaster (forecasts/market.py).

The rules are checked against an independent computation with the standard library's zoneinfo, hour by
hour across daylight-saving changes, publication hours and year boundaries; the forecaster against
that reference and against perturbations of the hours it must not read.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from eglb.agents.rhc import controller_from_spec
from eglb.envs.errors import InputError
from eglb.envs.forecast import input_rows, signal_columns
from eglb.envs.glb_env import GLBEnv
from eglb.envs.scenario import Scenario, hourly_timestamps
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts.market import MarketForecaster, market_rules
from eglb.forecasts.naive import PersistenceForecaster, SeasonalNaiveForecaster
from eglb.forecasts.spec import forecaster_from_spec
from eglb.importers.markets import MarketRule, parse_market_rule
from eglb.importers.regions import read_region_table

RULES = {r.name: r.market_rule() for r in read_region_table("complete14")}


# ------------------------------------------------------------------------------ an independent reference
def reference_known_until(rule: MarketRule, instant: datetime) -> datetime:
    """The end of the public prices at a UTC instant, computed with zoneinfo, one instant at a time."""
    if rule.kind == "real-time":
        return instant + timedelta(hours=1)
    zone = ZoneInfo(rule.timezone)
    local = instant.astimezone(zone)
    if rule.kind == "day-ahead":
        days = 2 if (local.hour, local.minute) >= rule.at else 1
        end = datetime.combine(local.date() + timedelta(days=days), time(0), tzinfo=zone)
    else:
        month, day = rule.at
        end = datetime(local.year, month, day, tzinfo=zone)
        if local >= end:
            end = datetime(local.year + 1, month, day, tzinfo=zone)
    return end.astimezone(UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def as_numpy(instant: datetime) -> np.datetime64:
    return np.datetime64(instant.replace(tzinfo=None), "s")


# ------------------------------------------------------------------------------ the region tables
def test_the_shipped_table_records_each_zone_market():
    kinds = {name: rule.kind for name, rule in RULES.items()}
    assert sorted(n for n, k in kinds.items() if k == "day-ahead") == sorted(
        ["US-TEX-ERCO", "US-CAL-CISO", "US-NY-NYIS", "DE-LU", "JP-TK", "IN-WE", "BR-SP", "KR"]
    )
    assert sorted(n for n, k in kinds.items() if k == "real-time") == sorted(["US-MIDA-PJM", "CA-ON", "SG", "AU-NSW", "AU-VIC"])
    assert kinds["ZA"] == "tariff"
    assert RULES["DE-LU"] == MarketRule("day-ahead", "Europe/Berlin", (13, 0))
    assert RULES["US-TEX-ERCO"] == MarketRule("day-ahead", "America/Chicago", (13, 30))
    assert RULES["ZA"] == MarketRule("tariff", "Africa/Johannesburg", (1, 1))
    for region in read_region_table("eglb2022"):  # the published set's names have rules too
        assert region.market_rule() is not None


@pytest.mark.parametrize(
    "market, published, message",
    [
        ("day-ahed", "13:00 Europe/Berlin", "column 'market': expected one of day-ahead, real-time, tariff"),
        ("day-ahead", "13:00", "expected 'HH:MM Area/City'"),
        ("day-ahead", "1pm Europe/Berlin", "expected 'HH:MM Area/City'"),
        ("day-ahead", "25:00 Europe/Berlin", "not a valid HH:MM"),
        ("day-ahead", "13:00 Europe/Berlinn", "unknown timezone 'Europe/Berlinn'"),
        ("tariff", "02-30 Africa/Johannesburg", "not a valid MM-DD"),
        ("tariff", "13:00 Africa/Johannesburg", "expected 'MM-DD Area/City'"),
        ("real-time", "13:00 America/New_York", "publishes nothing ahead"),
        ("", "13:00 Europe/Berlin", "given without a market"),
    ],
)
def test_bad_rules_are_clear_errors(market, published, message):
    with pytest.raises(InputError, match="file t.csv, line 3") as error:
        parse_market_rule(market, published, "file t.csv, line 3")
    assert message in str(error.value)


def test_a_bad_rule_in_a_table_names_file_line_and_column(tmp_path):
    table = tmp_path / "mine.csv"
    table.write_text(
        "region,carbon,price,weather,annual_mix,market,published\n"
        "A,DE-LU,DE-LU,DE-LU,DE,day-ahead,13:00 Europe/Berlin\n"
        "B,DE-LU,BE,DE-LU,BE,day-ahead,13h Europe/Brussels\n"
    )
    with pytest.raises(InputError, match=r"mine.csv, line 3, column 'published': expected 'HH:MM Area/City'"):
        read_region_table(table)
    # A table without the columns is still a valid table: its regions just have no rule.
    table.write_text("region,carbon,price,weather,annual_mix\nA,DE-LU,DE-LU,DE-LU,DE\n")
    assert read_region_table(table)[0].market_rule() is None


# ------------------------------------------------------------------------------ which hours are public
def test_known_until_by_hand():
    de, ercot, za, india = RULES["DE-LU"], RULES["US-TEX-ERCO"], RULES["ZA"], RULES["IN-WE"]

    def until(rule, *instants):
        return [str(x) for x in rule.known_until(np.array(instants, dtype="datetime64[s]"))]

    # DE-LU publishes at 13:00 Berlin time: 12:00 UTC in winter (the publication hour itself knows),
    # 11:00 UTC in summer; the spring day has 23 hours, the autumn day 25.
    assert until(de, "2023-03-25T11:00", "2023-03-25T12:00") == ["2023-03-25T23:00:00", "2023-03-26T22:00:00"]
    assert until(de, "2023-03-26T10:00", "2023-03-26T11:00") == ["2023-03-26T22:00:00", "2023-03-27T22:00:00"]
    assert until(de, "2023-10-28T11:00") == ["2023-10-29T23:00:00"]  # 13:00 CEST: through the 25-hour Oct 29
    # The year boundary: tomorrow is 1 January.
    assert until(de, "2023-12-31T12:00") == ["2024-01-01T23:00:00"]
    # ERCOT at 13:30 Central: the 13:00 decision does not know tomorrow, the 14:00 one does.
    assert until(ercot, "2023-07-03T18:00", "2023-07-03T19:00") == ["2023-07-04T05:00:00", "2023-07-05T05:00:00"]
    # South Africa's tariff: the series applies each calendar year's table from 1 January, SAST (UTC+2).
    assert until(za, "2023-12-31T21:00", "2023-12-31T22:00") == ["2023-12-31T22:00:00", "2024-12-31T22:00:00"]
    # India (UTC+05:30) at 15:00 IST: days end at 18:30 UTC.
    assert until(india, "2023-06-01T09:00", "2023-06-01T10:00") == ["2023-06-01T18:30:00", "2023-06-02T18:30:00"]
    assert until(RULES["US-MIDA-PJM"], "2023-06-01T09:00") == ["2023-06-01T10:00:00"]


@pytest.mark.parametrize(
    "start",
    [
        "2023-03-10T00",  # US daylight saving starts (12 March)
        "2023-03-24T00",  # EU daylight saving starts (26 March)
        "2023-03-30T00",  # AU daylight saving ends (2 April; the rules use the markets' clocks)
        "2023-10-27T00",  # EU daylight saving ends (29 March)
        "2023-11-03T00",  # US daylight saving ends (5 November)
        "2023-12-29T00",  # the year boundary and ZA's tariff year
    ],
)
def test_known_until_matches_zoneinfo_every_hour(start):
    stamps = hourly_timestamps(start, 24 * 5)
    for name, rule in RULES.items():
        got = rule.known_until(stamps)
        expected = [as_numpy(reference_known_until(rule, utc(str(s)))) for s in stamps]
        np.testing.assert_array_equal(got, np.array(expected), err_msg=name)


# ------------------------------------------------------------------------------ the forecaster
def named_scenario(regions, start: str, hours: int, seed: int = 0, metadata=None) -> Scenario:
    rng = np.random.default_rng(seed)
    n = len(regions)
    workload = rng.uniform(1, 5, (n, hours))
    return Scenario(
        regions=regions,
        gateways=[f"g-{r}" for r in regions],
        timestamps=hourly_timestamps(start, hours),
        price=rng.normal(50, 30, (n, hours)),
        carbon=rng.uniform(0.1, 0.8, (n, hours)),
        water=rng.uniform(0.5, 3, (n, hours)),
        workload=workload,
        capacity=np.full(n, workload.sum(axis=0).max()),
        mask=np.ones((n, n), dtype=bool),
        metadata=metadata or {},
    )


ZONES = ("DE-LU", "US-TEX-ERCO", "US-MIDA-PJM", "ZA", "IN-WE", "JP-TK", "BR-SP")


@pytest.mark.parametrize("start", ["2023-03-24T00", "2023-11-03T00", "2023-12-29T00"])
def test_published_prices_are_exact_and_the_rest_is_the_base(start):
    scenario = named_scenario(ZONES, start, 96, seed=1)
    base = SeasonalNaiveForecaster(24)
    market = MarketForecaster(base)
    columns = signal_columns(scenario)
    truth = input_rows(scenario, 0, scenario.n_hours)
    horizon = 60
    episode = market.predict_episode(scenario, 0, scenario.n_hours, horizon, None)
    for t in range(scenario.n_hours):
        got = market.predict(scenario, t, horizon, None)
        np.testing.assert_array_equal(got, episode[t])
        expected = base.predict(scenario, t, horizon, None)
        decision = utc(str(scenario.timestamps[t]))
        for i, name in enumerate(ZONES):
            end = as_numpy(reference_known_until(RULES[name], decision))
            for k in range(1, horizon + 1):
                hour = t + k
                if hour < scenario.n_hours and scenario.timestamps[hour] + np.timedelta64(3600, "s") <= end:
                    expected[k - 1, i] = truth[hour, i]
            assert market.published_leads(scenario, t)[i] == sum(
                t + k < scenario.n_hours and scenario.timestamps[t + k] + np.timedelta64(3600, "s") <= end
                for k in range(1, scenario.n_hours)
            ), (name, t)
        np.testing.assert_array_equal(got, expected)
        # carbon, water and workload are the base's alone
        for signal in ("carbon", "water", "workload"):
            np.testing.assert_array_equal(got[:, columns[signal]], base.predict(scenario, t, horizon, None)[:, columns[signal]])


def test_the_forecaster_reads_published_prices_only():
    scenario = named_scenario(ZONES, "2023-07-03T00", 72, seed=2)
    market = MarketForecaster(PersistenceForecaster())
    assert not market.clairvoyant
    t = 30  # 06:00 UTC on 4 July
    leads = market.published_leads(scenario, t)
    assert dict(zip(ZONES, leads.tolist())) == {
        "DE-LU": 15,  # 08:00 CEST, before 13:00: through 4 July (22:00 UTC), hours 07..21 UTC
        "US-TEX-ERCO": 22,  # 01:00 CDT, before 13:30: through 4 July CDT (5 July 05:00 UTC)
        "US-MIDA-PJM": 0,  # real-time
        "ZA": 41,  # the rest of the scenario: the tariff year runs to 31 December
        "IN-WE": 11,  # 11:30 IST, before 15:00: through 4 July IST (18:30 UTC), whole UTC hours to 17:00
        "JP-TK": 32,  # 15:00 JST, after 10:30: through 5 July JST (15:00 UTC)
        "BR-SP": 20,  # 03:00 BRT, before 20:00: through 4 July BRT (5 July 03:00 UTC)
    }
    price = scenario.price.copy()
    rng = np.random.default_rng(3)
    for i, lead in enumerate(leads):
        price[i, t + 1 + lead :] += rng.normal(0, 100, price.shape[1] - t - 1 - lead)  # the unpublished hours
    changed = scenario.with_changes(price=price)
    np.testing.assert_array_equal(market.predict(changed, t, 40, None), market.predict(scenario, t, 40, None))
    price = scenario.price.copy()
    price[0, t + 1] += 1.0  # a published hour: the forecast shows it
    assert not np.array_equal(
        market.predict(scenario.with_changes(price=price), t, 40, None), market.predict(scenario, t, 40, None)
    )


def test_an_oracle_base_makes_an_oracle():
    assert forecaster_from_spec("market:base=perfect").clairvoyant
    assert forecaster_from_spec("market:base=noisy,noise=0.1").clairvoyant
    assert not forecaster_from_spec("market").clairvoyant


def test_rules_come_from_the_scenario_the_shipped_tables_or_the_caller(small_history, tmp_path):
    from eglb.importers.history import load_history

    # A history scenario records its region table rows, rules included.
    scenario = load_history(small_history, "US-TEX-ERCO,DE-LU", years=2022, hours=(0, 48))
    assert market_rules(scenario) == (RULES["US-TEX-ERCO"], RULES["DE-LU"])
    # A table of one's own with the columns: its rules, whatever the names.
    table = tmp_path / "mine.csv"
    table.write_text(
        "region,carbon,price,weather,annual_mix,market,published\n"
        "Dallas,US-TEX-ERCO,US-TEX-ERCO,US-TEX-ERCO,US-TEX-ERCO,day-ahead,10:00 America/Chicago\n"
    )
    mine = load_history(small_history, "Dallas", years=2022, hours=(0, 48), table=table)
    assert market_rules(mine) == (MarketRule("day-ahead", "America/Chicago", (10, 0)),)
    # Without the columns and with names the shipped tables do not know: a clear error.
    own = load_history(small_history, "Dallas,Frankfurt", years=2022, hours=(0, 48), table=small_history / "my_regions.csv")
    with pytest.raises(InputError, match="no market rule for region 'Dallas'.*columns market and published"):
        MarketForecaster().predict(own, 0, 5, None)
    given = {"Dallas": RULES["US-TEX-ERCO"], "Frankfurt": RULES["DE-LU"]}
    assert market_rules(own, given) == (RULES["US-TEX-ERCO"], RULES["DE-LU"])
    # The published set's names (and the generator's) are in eglb2022.
    synthetic = make_synthetic(0, hours=30)
    assert [r.kind for r in market_rules(synthetic)][:2] == ["day-ahead", "real-time"]  # Texas, Virginia


def test_specs_controllers_and_the_environment_use_it():
    forecaster = forecaster_from_spec("market:base=seasonal,period=168")
    assert isinstance(forecaster, MarketForecaster) and forecaster.base.period == 168
    assert forecaster.name == "market+seasonal-week"
    for bad, message in (
        ("market:base=market", "needs another forecaster as its base"),
        ("market:base=seasonal,noise=0.1", "'seasonal' takes no parameter noise"),
        ("market:bass=seasonal", "takes no parameter bass"),
    ):
        with pytest.raises(InputError, match=message):
            forecaster_from_spec(bad)
    scenario = make_synthetic(4, hours=48)
    forecaster.predict(scenario, 30, 5, None)  # caches the scenario's published hours (a weak reference)
    other = make_synthetic(5, hours=48).with_changes(timestamps=hourly_timestamps("2023-03-24T00", 48))
    for _ in range(2):  # alternating scenarios (an environment over several years) reuse each one's published hours
        for one in (scenario, other):
            np.testing.assert_array_equal(
                forecaster.predict(one, 30, 5, None), MarketForecaster(forecaster.base).predict(one, 30, 5, None)
            )
    copied = pickle.loads(pickle.dumps(forecaster))  # subprocess environments and Ray pickle it
    np.testing.assert_array_equal(copied.predict(scenario, 30, 5, None), forecaster.predict(scenario, 30, 5, None))
    policy = controller_from_spec("rhc:w=12,forecaster=market,base=seasonal")
    assert isinstance(policy.forecaster, MarketForecaster) and not policy.clairvoyant
    scenario = make_synthetic(4, hours=48)
    env = GLBEnv(scenario, forecast_hours=6, forecaster=forecaster_from_spec("market"))
    scale = env.observation_scale
    n, j = scenario.n_regions, scenario.n_gateways
    begin, width = 4 * n + j + 3, 3 * n + j
    divisors = np.repeat([scale.price, scale.carbon, scale.water, scale.workload], [n] * 3 + [j])
    obs, _ = env.reset(options={"start": 0})
    for t in range(3):
        expected = MarketForecaster().predict(scenario, t, 6, None) / divisors
        np.testing.assert_allclose(obs[begin : begin + 6 * width].reshape(6, width), expected, rtol=1e-6)
        obs, *_ = env.step(env.action_space.sample())


# ------------------------------------------------------------------------------ on the real history
def test_on_the_history_which_price_hours_each_zone_knows(history_path):
    """2023 (the selection year), the 14 zones: the leads published at 2023-11-05 07:00 UTC, the hour
    the US leaves daylight saving time (02:00 EDT becomes 01:00 EST at 06:00 UTC)."""
    from eglb.importers.history import load_history

    scenario = load_history(history_path, years=2023, hours=(7368, 7368 + 96))  # from 2023-11-04 00:00 UTC
    t = int(np.flatnonzero(scenario.timestamps == np.datetime64("2023-11-05T07:00"))[0])
    leads = dict(zip(scenario.regions, MarketForecaster().published_leads(scenario, t).tolist()))
    assert leads == {
        "US-TEX-ERCO": 22,  # 01:00 CST: through 5 Nov CST = 6 Nov 06:00 UTC
        "US-MIDA-PJM": 0,
        "US-CAL-CISO": 24,  # 23:00 PST on 4 Nov, after 13:00: through 5 Nov PST = 6 Nov 08:00 UTC
        "US-NY-NYIS": 21,  # 02:00 EST: through 5 Nov EST = 6 Nov 05:00 UTC
        "DE-LU": 15,  # 08:00 CET: through 5 Nov = 23:00 UTC
        "JP-TK": 31,  # 16:00 JST, after 10:30: through 6 Nov JST = 6 Nov 15:00 UTC
        "SG": 0,
        "CA-ON": 0,
        "AU-NSW": 0,
        "AU-VIC": 0,
        "KR": 7,  # 16:00 KST, before 23:00: through 5 Nov KST = 15:00 UTC
        "IN-WE": 10,  # 12:30 IST, before 15:00: through 5 Nov IST = 18:30 UTC (whole hours to 17:00)
        "BR-SP": 19,  # 04:00 BRT: through 5 Nov BRT = 6 Nov 03:00 UTC
        "ZA": scenario.n_hours - t - 1,  # the rest of the calendar tariff year
    }


def test_the_history_price_series_are_the_kind_the_table_says(history_path):
    """Real-time prices revert hour to hour (negative lag-1 autocorrelation of their changes); day-ahead
    auction prices and tariffs move in runs (positive), in every year before the test year."""
    from eglb.importers.history import load_history

    for year in (2021, 2022, 2023):
        scenario = load_history(history_path, years=year)
        for name, series in zip(scenario.regions, scenario.price):
            change = np.diff(series)
            correlation = np.corrcoef(change[:-1], change[1:])[0, 1]
            assert (correlation < 0) == (RULES[name].kind == "real-time"), (year, name, correlation)


def test_the_documented_zone_table_is_the_region_table():
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "guide" / "information.md"
    documented = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in RULES:
            documented[cells[0]] = (cells[2], cells[3])
    assert documented == {r.name: (r.market, r.published or "") for r in read_region_table("complete14")}
