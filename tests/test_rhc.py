"""RHC and AFHC: exactness at the extremes, tail rules, feasibility, the robust layer, specs."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.base import HourView
from eglb.agents.baselines import glb_cost
from eglb.agents.horizon import TAIL_RULES, WindowPlanner, route_energy
from eglb.agents.offline import EGLBOffline
from eglb.agents.rhc import AFHC, RHC, build_controller, controller_from_spec, parse_controller_spec
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster, NoisyTruthForecaster, PerfectForecaster, input_rows
from eglb.envs.metrics import FootprintState, objective
from eglb.envs.routing import Router
from eglb.envs.scenario import Scenario, hourly_timestamps
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts.naive import PersistenceForecaster, SeasonalNaiveForecaster
from eglb.forecasts.tail import fit_profile_tail
from eglb.robust.layer import RobustPolicy, Slack
from helpers import assert_feasible, random_scenario
from hypothesis import given, settings
from hypothesis import strategies as st


def controller(kind, window, forecaster, tail, scenario, **settings):
    """RHC or AFHC with ``tail``; the learned tail is fitted on the scenario itself (any profile will do
    for the properties every tail rule must have)."""
    model = fit_profile_tail([scenario], seed=1) if tail == "learned" else None
    return (RHC if kind == "rhc" else AFHC)(window, forecaster, tail, tail_model=model, **settings)


@pytest.mark.parametrize("tail", TAIL_RULES)
@pytest.mark.parametrize("setting", ["full", "partial"])
def test_rhc_with_perfect_forecasts_over_the_whole_horizon_is_the_offline_optimum(tail, setting):
    scenario = make_synthetic(8, hours=40, setting=setting)
    optimum = EGLBOffline().solve(scenario).objective
    result = rollout(controller("rhc", 40, PerfectForecaster(), tail, scenario), scenario)
    assert result.metrics.J == pytest.approx(optimum, rel=1e-7)


def test_rhc_over_the_whole_horizon_on_random_masked_scenarios():
    for seed in range(3):
        scenario = random_scenario(seed, n_regions=4, n_gateways=3, hours=10, masked=True)
        assert rollout(RHC(12, PerfectForecaster()), scenario).metrics.J == pytest.approx(
            EGLBOffline().solve(scenario).objective, rel=1e-7, abs=1e-6
        )


def without_equity(scenario: Scenario) -> Scenario:
    return scenario.with_changes(mu_water=0.0, mu_carbon=0.0)


@pytest.mark.parametrize("tail", TAIL_RULES)
@pytest.mark.parametrize("forecaster", [PerfectForecaster(), NoisyTruthForecaster(0.5), PersistenceForecaster()])
def test_one_hour_windows_without_equity_weights_are_glb_cost(forecaster, tail):
    for scenario in (without_equity(random_scenario(3, hours=8, masked=True)), without_equity(make_synthetic(2, hours=30))):
        expected = rollout(glb_cost(), scenario).metrics
        for policy in (controller("rhc", 1, forecaster, tail, scenario), controller("afhc", 1, forecaster, tail, scenario)):
            got = rollout(policy, scenario).metrics
            assert got.J == pytest.approx(expected.J, rel=1e-9, abs=1e-7)
            assert got.cost_total == pytest.approx(expected.cost_total, rel=1e-9, abs=1e-7)


def test_afhc_with_one_hour_windows_is_rhc():
    scenario = make_synthetic(4, hours=30, setting="partial")
    rhc = rollout(RHC(1, NoisyTruthForecaster(0.2), "prorate", seed=3), scenario)
    afhc = rollout(AFHC(1, NoisyTruthForecaster(0.2), "prorate", seed=3), scenario)
    np.testing.assert_allclose(afhc.energy, rhc.energy, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("window", [3, 8])
def test_afhc_costs_at_most_the_mean_of_its_fixed_horizon_controllers(window):
    scenario = make_synthetic(6, hours=36, setting="partial")
    policy = AFHC(window, SeasonalNaiveForecaster(24), "none")
    result = rollout(policy, scenario)
    fhc = policy.fhc_objectives()
    assert fhc.shape == (window,)
    assert result.metrics.J <= fhc.mean() * (1 + 1e-12)
    assert result.infos[0]["solves"] == window  # every FHC plans at hour 0
    assert result.infos[-1]["solves"] == window + scenario.n_hours - 1  # then one re-plan per hour


class Wild(Forecaster):
    """A forecaster far off the truth in every direction (negative intensities, huge loads)."""

    name = "wild"

    def predict(self, scenario, t, horizon, rng):
        values = input_rows(scenario, t, t + 1).repeat(horizon, 0)
        return values * rng.choice([-2.0, 0.0, 50.0], size=values.shape)


@settings(max_examples=25)
@given(
    seed=st.integers(0, 200),
    masked=st.booleans(),
    window=st.integers(1, 5),
    tail=st.sampled_from(TAIL_RULES),
    kind=st.sampled_from(["rhc", "afhc"]),
    forecaster=st.sampled_from([NoisyTruthForecaster(0.6), SeasonalNaiveForecaster(2), Wild()]),
)
def test_every_action_is_feasible_for_the_true_hour(seed, masked, window, tail, kind, forecaster):
    scenario = random_scenario(seed, n_regions=4, n_gateways=3, hours=7, masked=masked, slack=0.05)
    policy = controller(kind, window, forecaster, tail, scenario, seed=seed)
    policy.reset(scenario)
    state = FootprintState.zeros(scenario.n_regions)
    for t in range(scenario.n_hours):
        routing = policy.act(HourView(scenario, t, state))
        assert_feasible(scenario, t, routing)
        energy = routing.sum(axis=1)
        state.add(float(scenario.price[:, t] @ energy), scenario.intensity[:, :, t] * energy)


def test_route_energy_plays_a_reachable_plan_unchanged_and_repairs_the_rest():
    scenario = random_scenario(5, n_regions=5, n_gateways=4, hours=6, masked=True)
    solution = EGLBOffline().solve(scenario)
    router = Router(scenario)
    for t in range(6):
        routing = route_energy(router, t, solution.energy[:, t])
        assert_feasible(scenario, t, routing)
        np.testing.assert_allclose(routing.sum(axis=1), solution.energy[:, t], atol=1e-9)
        for target in (solution.energy[:, t] * 3, np.zeros(5), np.full(5, np.nan)):
            assert_feasible(scenario, t, route_energy(router, t, target))


def periodic_scenario(period: int, repeats: int, seed: int = 0, setting: str = "partial") -> Scenario:
    """A scenario whose inputs repeat every ``period`` hours exactly."""
    block = make_synthetic(seed, hours=period, setting=setting)
    hours = period * repeats

    def tile(values):
        return np.tile(values, (1, repeats))

    return block.with_changes(
        timestamps=hourly_timestamps("2022-09-22T00", hours),
        price=tile(block.price),
        carbon=tile(block.carbon),
        water=tile(block.water),
        workload=tile(block.workload),
        capacity=tile(block.capacity),
    )


def test_prorate_is_exact_when_the_rest_repeats_the_window():
    # Remaining hours = m windows of identical inputs: by symmetry and convexity some optimal plan
    # repeats one window, and the prorated window LP finds it.
    scenario = periodic_scenario(6, 6, seed=3)
    t, m = 12, 4
    footprint = np.array([[30.0, 0, 5, 0, 10, 0, 0, 2, 0, 0], [1.0, 0, 0, 0.5, 0, 0, 0, 0, 0, 0.2]])
    planner = WindowPlanner(PerfectForecaster(), "prorate")
    plan = planner.plan(scenario, t, t + 6, footprint, None)
    window = scenario.window(t, t + 6)
    prorated = objective(
        float((window.price * plan).sum()), footprint / m + (window.intensity * plan).sum(axis=2), scenario.footprint_weights
    )
    rest = EGLBOffline().solve(scenario.window(t, scenario.n_hours), initial_footprint=footprint)
    assert m * prorated == pytest.approx(rest.objective, rel=1e-8)


def test_seasonal_tail_is_exact_when_every_day_is_the_same():
    # With a day of history seen and identical days after the window, the aggregated tail slots
    # stand exactly for the remaining hours: window + tail has the optimum of the rest.
    scenario = periodic_scenario(24, 4, seed=5)
    t, stop = 30, 40
    footprint = np.array([[20.0] + [0.0] * 9, [0.0] * 9 + [3.0]])
    planner = WindowPlanner(PerfectForecaster(), "seasonal", tail_days=1)
    with_tail = planner.window_scenario(scenario, t, stop, None, tail=True)
    assert with_tail.n_hours == (stop - t) + 24
    np.testing.assert_allclose(with_tail.workload[:, stop - t :].sum(), scenario.workload[:, stop:].sum(), rtol=1e-12)
    rest = EGLBOffline().solve(scenario.window(t, scenario.n_hours), initial_footprint=footprint).objective
    assert EGLBOffline().solve(with_tail, initial_footprint=footprint).objective == pytest.approx(rest, rel=1e-8)


def test_window_scenario_keeps_the_true_hour_and_makes_forecasts_servable():
    scenario = make_synthetic(1, hours=30, setting="partial")
    planner = WindowPlanner(Wild(), "none")
    window = planner.window_scenario(scenario, 5, 12, np.random.default_rng(0))
    np.testing.assert_array_equal(window.price[:, 0], scenario.price[:, 5])
    np.testing.assert_array_equal(window.workload[:, 0], scenario.workload[:, 5])
    assert window.carbon.min() >= 0 and window.water.min() >= 0
    assert np.all(window.workload.sum(axis=0) <= scenario.capacity[:, 5:12].sum(axis=0) * (1 + 1e-9))


@pytest.mark.parametrize("kind", ["rhc", "afhc"])
def test_robust_layer_around_a_forecast_controller_keeps_its_bound(kind):
    scenario = make_synthetic(9, hours=72, setting="partial")
    lam = 0.05
    ml = build_controller(kind, {"w": "6", "forecaster": "noisy", "noise": "0.3", "seed": "1"})
    policy = RobustPolicy(ml, lam=lam, slack=Slack(100.0, "sqrt"))
    result = rollout(policy, scenario)
    summary = policy.summary()
    for info in result.infos:
        assert info["J"] <= info["bound"] * (1 + 1e-12)
    assert result.metrics.J <= summary["bound"] * (1 + 1e-12)
    assert 0 < summary["mean_theta"]  # the controller is followed at least partly


def test_a_forecast_controller_can_be_the_expert_of_the_layer():
    scenario = make_synthetic(10, hours=48, setting="full")
    expert_alone = rollout(RHC(6, PersistenceForecaster()), scenario).metrics.J
    policy = RobustPolicy(glb_cost(), lam=0.02, expert=RHC(6, PersistenceForecaster()))
    result = rollout(policy, scenario)
    summary = policy.summary()
    assert summary["expert_J"] == pytest.approx(expert_alone, rel=1e-9)
    # The guarantee holds for prices shifted by the floor p_min: J - s <= (1 + lambda) (J_E - s), s = p_min * load.
    shift = policy.price_floor * float(scenario.total_workload.sum())
    assert summary["bound"] == pytest.approx((1 + 0.02) * (expert_alone - shift) + shift, rel=1e-9)
    assert result.metrics.J <= summary["bound"] * (1 + 1e-12)
    assert result.metrics.J < rollout(glb_cost(), scenario).metrics.J  # the layer did rein glb-cost in


def test_specs():
    assert parse_controller_spec("rhc:w=24,forecaster=noisy,noise=0.1,tail=prorate") == (
        "rhc",
        {"w": "24", "forecaster": "noisy", "noise": "0.1", "tail": "prorate"},
    )
    assert parse_controller_spec("afhc( w=6 , forecaster=persistence )") == ("afhc", {"w": "6", "forecaster": "persistence"})
    assert parse_controller_spec("rhc") == ("rhc", {})
    policy = controller_from_spec("rhc:w=12,forecaster=seasonal,period=168,tail=seasonal,tail_days=3,seed=4")
    assert isinstance(policy, RHC) and policy.window == 12 and policy.planner.tail == "seasonal"
    assert policy.planner.tail_days == 3 and policy.seed == 4 and policy.forecaster.period == 168
    assert policy.name == "rhc:w=12,forecaster=seasonal,period=168,tail=seasonal,tail_days=3,seed=4"
    afhc = build_controller("afhc", {"w": "6", "forecaster": "persistence"})
    assert isinstance(afhc, AFHC) and afhc.name == "afhc(w=6,persistence,tail=seasonal)"
    assert not afhc.clairvoyant and controller_from_spec("rhc:forecaster=noisy").clairvoyant
    for text, message in (
        ("mpc:w=3", "unknown controller 'mpc'"),
        ("rhc:w=0", "rhc: w must be a whole number in 1..8784"),
        ("rhc:w=six", "rhc: w must be a whole number in 1..8784, got 'six'"),
        ("rhc:tail=future", "tail='future'; expected one of none, prorate, seasonal, learned"),
        ("rhc:tail=learned", "tail=learned needs tail_model=FOLDER"),
        ("rhc:tail=seasonal,tail_model=reference:history14/seed-0", "tail=learned needs tail_model=FOLDER"),
        ("rhc:tail=learned,tail_model=reference:nothing", "no reference tail 'nothing'"),
        ("rhc:window=3", "unknown parameter window"),
        ("rhc:forecaster=noisy,period=24", "takes no parameter period"),
        ("rhc:w=3,w=4", "w is given twice"),
        ("rhc:w", "expected KEY=VALUE"),
    ):
        with pytest.raises(InputError, match=message):
            controller_from_spec(text)


def test_learned_forecaster_drives_rhc_through_a_spec(tmp_path):
    from eglb.forecasts.learned import LearnedForecasterConfig, train_learned_forecaster

    config = LearnedForecasterConfig(history_hours=24, horizon=6, hidden=(8,), steps=20, batch_size=32, max_samples=500)
    train_learned_forecaster([make_synthetic(1002, hours=60)], config).save(tmp_path / "fc")
    scenario = make_synthetic(12, hours=20, setting="partial")
    policy = controller_from_spec(f"rhc:w=4,forecaster=learned,model={tmp_path / 'fc'}")
    result = rollout(policy, scenario)
    assert result.infos[-1]["solves"] == 20
    assert result.metrics.J >= EGLBOffline().solve(scenario).objective * (1 - 1e-9)


def test_controller_specs_in_algorithm_lists_and_the_layer():
    from eglb.robust.layer import RobustPolicy

    from eglb.registry import build, split_specs

    assert split_specs("eglb,rhc:w=24,forecaster=noisy,noise=0.2,glb-cost") == [
        "eglb",
        "rhc:w=24,forecaster=noisy,noise=0.2",
        "glb-cost",
    ]
    assert split_specs("robust(rhc:w=6,tail=prorate,lambda=0.1)") == ["robust(rhc:w=6,tail=prorate,lambda=0.1)"]
    layer = build("robust(rhc:w=6,tail=prorate,lambda=0.1)")
    assert isinstance(layer, RobustPolicy) and layer.lam == 0.1 and layer.ml.name == "rhc:w=6,tail=prorate"
    assert build("afhc(w=4, forecaster=perfect)").name == "afhc(w=4, forecaster=perfect)"
