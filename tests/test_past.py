"""The observed past of a scenario: what it holds, who reads it (only with past=P), and what they read.

The independent check: a scenario that carries P observed hours is the last hours of a longer scenario
whose first P hours are those; every reader given the past must see at hour t exactly what the same rule
sees at hour t + P of the longer scenario, and every reader without it what it saw before the past existed.
"""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.horizon import WindowPlanner
from eglb.agents.rhc import controller_from_spec
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.forecast import input_rows, input_timestamps
from eglb.envs.past import ObservedPast
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts.learned import LearnedForecaster, LearnedForecasterConfig, _network
from eglb.forecasts.spec import forecaster_from_spec
from eglb.forecasts.tail import fit_profile_tail

P = 72


def split(seed: int = 4, hours: int = 240, past: int = P):
    """(the longer scenario, its last hours carrying its first ``past`` hours as their observed past)."""
    long = make_synthetic(seed, hours=hours)
    short = long.window(past, hours).with_changes(past=ObservedPast.of_hours(long, 0, past))
    return long, short


def test_the_past_is_read_as_hours_before_hour_zero():
    long, short = split()
    np.testing.assert_array_equal(input_rows(short, -P, 5), input_rows(long, 0, P + 5))
    np.testing.assert_array_equal(input_rows(short, -10, -3), input_rows(long, P - 10, P - 3))
    np.testing.assert_array_equal(input_timestamps(short, -P, 5), long.timestamps[: P + 5])
    assert short.past_hours == P and long.past_hours == 0
    with pytest.raises(InputError, match=f"carries {P}"):
        input_rows(short, -P - 1, 0)


@pytest.mark.parametrize(
    "spec", ["seasonal", "seasonal:period=168", "seasonal:period=48", "market:base=seasonal", "market:base=seasonal,period=168"]
)
def test_a_forecast_with_the_past_is_the_same_rule_on_the_longer_scenario(spec):
    long, short = split(hours=400, past=200)
    with_past = forecaster_from_spec(f"{spec},past=200" if ":" in spec else f"{spec}:past=200")
    without = forecaster_from_spec(spec)
    horizon = 50
    for t in (0, 1, 23, 30, 150):
        np.testing.assert_array_equal(with_past.predict(short, t, horizon, None), without.predict(long, t + 200, horizon, None))
    np.testing.assert_array_equal(
        with_past.predict_episode(short, 0, 40, horizon, None), without.predict_episode(long, 200, 40, horizon, None)
    )
    # Less past than the scenario carries: the same rule on a longer scenario that starts later.
    fewer = forecaster_from_spec(f"{spec},past=30" if ":" in spec else f"{spec}:past=30")
    np.testing.assert_array_equal(
        fewer.predict(short, 5, horizon, None), without.predict(long.window(170, 400), 35, horizon, None)
    )


def test_the_learned_forecaster_reads_the_past_as_the_longer_scenario():
    config = LearnedForecasterConfig(history_hours=48, horizon=24, hidden=(8,), seed=0)
    network = _network(config)
    long, short = split(hours=160, past=P)
    with_past, without = LearnedForecaster(network, config, past=P), LearnedForecaster(network, config)
    np.testing.assert_allclose(
        with_past.predict_episode(short, 0, 30, 30, None), without.predict_episode(long, P, 30, 30, None), rtol=0, atol=0
    )
    # Fewer hours than its history: both pad from the first readable day, the same way.
    np.testing.assert_array_equal(
        LearnedForecaster(network, config, past=20).predict(short, 3, 24, None), without.predict(long.window(P - 20, 160), 23, 24)
    )


@pytest.mark.parametrize("tail", ["seasonal", "learned"])
def test_the_tail_rules_read_the_past_as_the_longer_scenario(tail):
    long, short = split(seed=7, hours=300, past=P)
    profile = fit_profile_tail([make_synthetic(11, hours=24 * 20)], seed=0) if tail == "learned" else None
    forecaster = forecaster_from_spec("seasonal")
    planner = WindowPlanner(forecaster_from_spec(f"seasonal:past={P}"), tail, 2, tail_model=profile, past=P)
    reference = WindowPlanner(forecaster, tail, 2, tail_model=profile)
    for t, w in ((0, 12), (5, 24), (40, 48)):
        got = planner.window_scenario(short, t, t + w, np.random.default_rng(0), tail=True)
        expected = reference.window_scenario(long, t + P, t + P + w, np.random.default_rng(0), tail=True)
        for name in ("price", "carbon", "water", "workload", "capacity", "timestamps"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=f"{name} at t={t}")
        assert got.past is None  # a window problem is solved without one


def test_without_the_option_nothing_reads_the_past():
    long, short = split()
    bare = short.with_changes(past=None)
    for spec in ("seasonal", "seasonal:period=168", "market:base=seasonal", "persistence"):
        forecaster = forecaster_from_spec(spec)
        np.testing.assert_array_equal(
            forecaster.predict_episode(short, 0, 30, 24, None), forecaster.predict_episode(bare, 0, 30, 24, None)
        )
    profile = fit_profile_tail([make_synthetic(11, hours=24 * 20)], seed=0)
    np.testing.assert_array_equal(profile.predict(short, 3), profile.predict(bare, 3))
    spec = "rhc:w=12,forecaster=market,base=seasonal,tail=seasonal"
    np.testing.assert_array_equal(
        rollout(controller_from_spec(spec), short).energy, rollout(controller_from_spec(spec), bare).energy
    )


def test_rhc_with_the_past_plans_otherwise_and_stays_feasible():
    _, short = split(hours=130, past=P)
    plain = rollout(controller_from_spec("rhc:w=12,forecaster=market,base=seasonal,tail=seasonal"), short)
    policy = controller_from_spec(f"rhc:w=12,forecaster=market,base=seasonal,tail=seasonal,past={P}")
    informed = rollout(policy, short)
    assert not np.allclose(informed.energy, plain.energy)
    energy = informed.energy  # [N, T]: every hour served in full, within capacity
    assert (energy >= -1e-9).all() and (energy <= short.capacity * (1 + 1e-9) + 1e-9).all()
    np.testing.assert_allclose(energy.sum(axis=0), short.total_workload, rtol=1e-9)
    assert policy.information == f"published prices + seasonal-day forecasts, {P} h past, 12 h window"


@pytest.mark.parametrize(
    "spec, information",
    [
        (
            "rhc:w=48,forecaster=market,base=seasonal,tail=prorate,past=336",
            "published prices + seasonal-day forecasts, 336 h past, 48 h window",
        ),
        ("rhc:w=24,forecaster=persistence,tail=seasonal,past=48", "persistence forecasts, 48 h past, 24 h window"),
        ("afhc:w=2,forecaster=seasonal,past=24", "seasonal-day forecasts, 24 h past, 2 h window"),
    ],
)
def test_the_information_says_the_past_was_used(spec, information):
    assert controller_from_spec(spec).information == information


@pytest.mark.parametrize(
    "spec, message",
    [
        ("rhc:w=24,forecaster=seasonal,past=-1", "past must be"),
        ("rhc:w=24,forecaster=seasonal,past=two", "past"),
        ("rhc:w=24,forecaster=seasonal,past=100000", "past"),
        ("rhc:w=24,forecaster=persistence,tail=prorate,past=24", "read by neither forecaster 'persistence' nor tail 'prorate'"),
        ("rhc:w=24,forecaster=perfect,tail=none,past=24", "read by neither"),
    ],
)
def test_bad_past_options_are_refused(spec, message):
    with pytest.raises(InputError, match=message):
        controller_from_spec(spec)


@pytest.mark.parametrize("spec", ["persistence:past=24", "perfect:past=24", "market:base=persistence,past=24", "noisy:past=3"])
def test_forecasters_that_read_no_history_take_no_past(spec):
    with pytest.raises(InputError, match="takes no parameter past"):
        forecaster_from_spec(spec)


def test_more_past_than_the_scenario_carries_is_one_clear_error():
    _, short = split(hours=100, past=24)
    with pytest.raises(InputError, match="reads past=48 observed hours before the episode, but scenario .* carries 24"):
        rollout(controller_from_spec("rhc:w=6,forecaster=seasonal,tail=prorate,past=48"), short)
    with pytest.raises(InputError, match="carries 0"):
        forecaster_from_spec("seasonal:past=1").forecast(make_synthetic(1, hours=30), 3, 5)


def test_slicing_keeps_the_length_of_the_past_and_equality_sees_it():
    long, short = split(hours=200, past=P)
    later = short.window(30, 100)
    np.testing.assert_array_equal(input_rows(later, -P, 0), input_rows(long, 30, P + 30))
    assert short.window(0, 50).past == short.past and later.past_hours == P
    assert short != short.with_changes(past=None)
    assert short == long.window(P, 200).with_changes(past=ObservedPast.of_hours(long, 0, P))
    assert "72 h past" in repr(short)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, s: {"price": p.price[:-1]}, "past.price has 9 rows, expected 10"),
        (lambda p, s: {"carbon": np.where(np.arange(P) == 3, np.nan, p.carbon)}, r"past.carbon\[0, 3\].*finite"),
        (lambda p, s: {"water": -p.water}, "must be >= 0"),
        (lambda p, s: {"workload": p.workload[:, 1:]}, "expected \\[rows, 72\\]"),
        (lambda p, s: {"timestamps": p.timestamps - np.timedelta64(3600, "s")}, "must be the hour before"),
        (lambda p, s: {"timestamps": p.timestamps[np.r_[0:10, 11:P, P - 1]]}, "not one hour after"),
    ],
)
def test_a_bad_past_is_refused_naming_what_is_wrong(change, message):
    long, short = split()
    past = short.past
    fields = {name: getattr(past, name) for name in ("timestamps", "price", "carbon", "water", "workload")}
    with pytest.raises(InputError, match=message):
        short.with_changes(past=ObservedPast(**{**fields, **change(past, short)}))


def test_benchmark_windows_carry_the_hours_before_them(small_history):
    from eglb.importers.history import load_history
    from eglb.importers.workload import FittedLoads

    from eglb.benchmark import BenchmarkConfig, benchmark
    from eglb.evaluation import EvaluationConfig
    from eglb.scenarios import ScenarioConfig, history_scenario, named_windows, with_observed_past

    config = ScenarioConfig(traces=str(small_history), regions="US-TEX-ERCO,DE-LU", years="2022")
    year = with_observed_past(history_scenario(config, years="2022"), config, hours=P)
    first, later = named_windows(year, 48, [0, 48])
    # Independent loads: the previous year alone, and the year alone.
    before = load_history(small_history, regions="US-TEX-ERCO,DE-LU", years=2021, workload=FittedLoads("bloom"), seed=0)
    same = load_history(small_history, regions="US-TEX-ERCO,DE-LU", years=2022, workload=FittedLoads("bloom"), seed=0)
    np.testing.assert_array_equal(input_rows(first, -P, 0), input_rows(before, before.n_hours - P, before.n_hours))
    np.testing.assert_array_equal(
        input_rows(later, -P, 0),
        np.concatenate([input_rows(before, before.n_hours - 24, before.n_hours), input_rows(same, 0, 48)]),
    )
    # The first year of the folder has none before it; the benchmark runs a past-reading spec on 2022.
    assert with_observed_past(history_scenario(config, years="2021"), config).past is None
    spec = "rhc:w=6,forecaster=seasonal,tail=seasonal,past=48"
    result = benchmark(
        BenchmarkConfig(
            EvaluationConfig(algos=("eglb-off", spec), scenario=config, report=False), window_hours=48, windows=(0, 3)
        )
    )
    assert {r["information"] for r in result.rows if r["algo"] == spec} == {"seasonal-day forecasts, 48 h past, 6 h window"}
