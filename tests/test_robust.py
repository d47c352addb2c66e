"""The robustification layer: the guarantee on adversarial inputs, the shadow expert, metamorphic checks."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.base import HourView, Policy
from eglb.agents.baselines import glb_cost
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.metrics import FootprintState
from eglb.envs.synthetic import make_synthetic
from eglb.robust.layer import RobustPolicy, Slack, largest_admissible_theta
from helpers import random_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from eglb.registry import build


class Adversary(Policy):
    """Proposals designed to hurt: see ``kind``."""

    def __init__(self, kind: str, seed: int = 0):
        super().__init__()
        self.kind, self.rng, self.name = kind, np.random.default_rng(seed), kind

    def act(self, view: HourView) -> np.ndarray:
        s, t = view.scenario, view.t
        shape = s.mask.shape
        dirtiest = -(s.mu_water * s.water[:, t] + s.mu_carbon * s.carbon[:, t])
        if self.kind == "random":
            return self.rng.random(shape) * self.rng.choice([0.1, 1, 10])
        if self.kind == "dirtiest":
            return self.router.cheapest(dirtiest, t)
        if self.kind == "mismatch":
            # Pile everything onto the region that already carries the most, where it is dirtiest.
            worst = view.state.footprint.argmax(axis=1)
            price = np.zeros(s.n_regions)
            price[worst] = -1e6
            return self.router.cheapest(price + dirtiest, t)
        if self.kind == "boundary":
            # Alternate between the most expensive and the dirtiest routing: theta lands inside (0, 1).
            return self.router.cheapest(-s.price[:, t] if t % 2 else dirtiest, t)
        if self.kind == "nan":
            out = np.full(shape, np.nan)
            out[0, 0] = np.inf
            return out if t % 3 else -np.ones(shape)
        raise ValueError(self.kind)


def shifted_objective_by_hour(scenario, energy, floor):
    """J of every prefix of a trajectory on prices shifted by ``floor``, computed directly."""
    cost = np.cumsum(((scenario.price - floor) * energy).sum(axis=0))
    footprint = np.cumsum(scenario.intensity * energy, axis=2)  # [2, N, T]
    return cost + scenario.footprint_weights @ footprint.max(axis=1)


def standalone_expert_energy(scenario, eta):
    """eGLB's own region energies, hour by hour, outside any environment or layer."""
    expert = EGLBOnline(eta=eta)
    expert.reset(scenario)
    state = FootprintState.zeros(scenario.n_regions)
    return np.array([expert.act(HourView(scenario, t, state)).sum(axis=1) for t in range(scenario.n_hours)]).T


def scenario_strategy(max_regions: int, max_gateways: int, max_hours: int):
    """Random small scenarios (random_scenario) of up to the given sizes."""
    return st.builds(
        random_scenario,
        seed=st.integers(0, 100_000),
        n_regions=st.integers(1, max_regions),
        n_gateways=st.integers(1, max_gateways),
        hours=st.integers(2, max_hours),
        masked=st.booleans(),
        negative_prices=st.booleans(),
        slack=st.sampled_from([0.0, 0.3]),
        hourly_capacity=st.booleans(),
    )


scenarios = scenario_strategy(5, 4, 14)


@given(
    scenario=scenarios,
    kind=st.sampled_from(["random", "dirtiest", "mismatch", "boundary", "nan"]),
    lam=st.sampled_from([0.0, 0.01, 0.1, 1.0]),
    b=st.sampled_from([0.0, 1.0, 100.0]),
    schedule=st.sampled_from(["const", "sqrt", "linear"]),
    eta=st.sampled_from([None, 1e-3]),
)
def test_guarantee_holds_at_every_hour_against_adversaries(scenario, kind, lam, b, schedule, eta):
    slack = Slack(b, schedule)
    layer = RobustPolicy(Adversary(kind), lam=lam, slack=slack, expert=EGLBOnline(eta=eta))
    executed = rollout(layer, scenario)
    standalone = rollout(EGLBOnline(eta=eta), scenario)
    floor = min(0.0, float(scenario.price.min()))
    robust_J = shifted_objective_by_hour(scenario, executed.energy, floor)
    expert_J = shifted_objective_by_hour(scenario, standalone.energy, floor)
    bounds = (1 + lam) * expert_J + np.array([slack.at(t + 1) for t in range(scenario.n_hours)])
    assert np.all(robust_J <= bounds + 1e-9 * np.maximum(1.0, np.abs(bounds))), (robust_J - bounds).max()
    # The shadow expert is bit-identical to a standalone run, whatever the ML policy did.
    shadow = np.array([info["expert_energy"] for info in executed.infos]).T
    np.testing.assert_array_equal(shadow, standalone_expert_energy(scenario, eta))
    thetas = np.array([info["theta"] for info in executed.infos])
    assert np.all((thetas >= 0) & (thetas <= 1))


@pytest.mark.parametrize("setting", ["full", "partial"])
def test_ml_equal_to_the_expert_gives_the_expert(setting):
    scenario = make_synthetic(1, hours=96, setting=setting)
    robust = rollout(RobustPolicy(EGLBOnline(), lam=0.0), scenario)
    np.testing.assert_allclose(robust.energy, rollout(EGLBOnline(), scenario).energy, atol=1e-12)
    assert all(info["theta"] == 1.0 for info in robust.infos)


def test_a_huge_budget_gives_the_ml_policy():
    scenario = make_synthetic(2, hours=96)
    robust = rollout(RobustPolicy(glb_cost(), lam=1e9), scenario)
    np.testing.assert_allclose(robust.energy, rollout(glb_cost(), scenario).energy, atol=1e-12)
    huge_slack = rollout(RobustPolicy(glb_cost(), lam=0.0, slack=Slack(1e12)), scenario)
    np.testing.assert_allclose(huge_slack.energy, rollout(glb_cost(), scenario).energy, atol=1e-12)


@given(scenario=scenarios, kind=st.sampled_from(["random", "dirtiest", "boundary"]))
def test_zero_budget_is_never_worse_than_the_expert(scenario, kind):
    robust = rollout(RobustPolicy(Adversary(kind), lam=0.0), scenario).metrics.J
    expert = rollout(EGLBOnline(), scenario).metrics.J
    assert robust <= expert + 1e-9 * max(1.0, abs(expert))


def test_published_data_with_negative_prices(published_full):
    assert published_full.price.min() < 0
    layer = RobustPolicy(glb_cost(), lam=0.05)
    executed = rollout(layer, published_full)
    summary = layer.summary()
    assert summary["price_floor"] == published_full.price.min()
    assert executed.metrics.J <= summary["bound"] * (1 + 1e-12)
    assert 0 < summary["followed_share"] < 1
    expert = rollout(EGLBOnline(), published_full).metrics.J
    assert summary["expert_J"] == pytest.approx(expert, rel=1e-12)


@given(seed=st.integers(0, 100_000), n=st.integers(1, 6))
def test_largest_admissible_theta_is_the_largest(seed, n):
    rng = np.random.default_rng(seed)
    base, slope = rng.normal(), rng.normal() * 3
    offsets, slopes = rng.normal(size=(2, n)), rng.normal(size=(2, n)) * 3
    weights = rng.random(2) * 2

    def delta(theta):
        return base + slope * theta + weights @ (offsets + slopes * theta).max(axis=1)

    budget = delta(0.0) + abs(rng.normal())
    theta = largest_admissible_theta(base, slope, offsets, slopes, weights, budget)
    assert delta(theta) <= budget + 1e-12
    grid = np.linspace(0, 1, 2001)
    feasible = grid[[delta(g) <= budget for g in grid]]
    assert theta >= feasible.max() - 1e-9
    if theta < 1:
        assert delta(min(1.0, theta + 1e-7)) > budget - 1e-9


def test_robust_specs_and_errors():
    layer = build("robust(glb-cost, lambda=0.2, b=5, slack=sqrt, floor=-100)")
    assert isinstance(layer, RobustPolicy) and layer.lam == 0.2 and layer.slack == Slack(5, "sqrt")
    assert layer.price_floor_setting == -100
    for bad, message in (
        ("robust(glb-cost, lambda=-1)", r"lambda must be a finite number in 0..1e\+12"),
        ("robust(glb-cost, gamma=1)", "unknown setting 'gamma' \\(settings: lambda, b, slack, floor, expert\\)"),
        ("robust(glb-cost, slack=cubic)", "slack schedule must be one of"),
        ("robust(glb-cost, b=x)", "b must be a finite number in 0..1e\\+12, got 'x'"),
        ("robust(robust(eglb))", "a robust layer inside another"),
    ):
        with pytest.raises(InputError, match=message):
            build(bad)
    with pytest.raises(InputError, match="is above the scenario's lowest price"):
        rollout(build("robust(glb-cost, floor=1e6)"), make_synthetic(0, hours=5))


@given(
    scenario=scenario_strategy(4, 3, 10),
    kind=st.sampled_from(["random", "dirtiest", "mismatch", "boundary", "nan"]),
    lam=st.sampled_from([0.0, 0.05, 1.0]),
    b=st.sampled_from([0.0, 10.0]),
)
@settings(max_examples=25, deadline=None)
def test_guarantee_holds_against_an_rhc_expert(scenario, kind, lam, b):
    """Any online expert runs in the shadow: with RHC there, the bound is against RHC's own run."""
    from eglb.agents.rhc import controller_from_spec

    spec = "rhc:w=3,forecaster=seasonal,tail=seasonal"
    layer = RobustPolicy(Adversary(kind), lam=lam, slack=Slack(b), expert=controller_from_spec(spec))
    executed = rollout(layer, scenario)
    standalone = rollout(controller_from_spec(spec), scenario)
    floor = min(0.0, float(scenario.price.min()))
    robust_J = shifted_objective_by_hour(scenario, executed.energy, floor)
    expert_J = shifted_objective_by_hour(scenario, standalone.energy, floor)
    bounds = (1 + lam) * expert_J + b
    assert np.all(robust_J <= bounds + 1e-9 * np.maximum(1.0, np.abs(bounds))), (robust_J - bounds).max()
    # The shadow plays RHC's own plans (its footprint is summed in another order than the
    # environment's, so the LPs may differ in the last bits).
    shadow = np.array([info["expert_energy"] for info in executed.infos]).T
    np.testing.assert_allclose(shadow, standalone.energy, rtol=1e-7, atol=1e-9)


def test_an_expert_given_by_spec():
    layer = build("robust(glb-cost, lambda=0.05, expert=rhc(w=6, forecaster=seasonal, tail=prorate))")
    assert layer.expert.window == 6 and layer.expert.planner.tail == "prorate"
    scenario = make_synthetic(0, hours=24)
    executed = rollout(layer, scenario)
    expert = rollout(build("rhc:w=6,forecaster=seasonal,tail=prorate"), scenario).metrics.J
    assert layer.summary()["expert_J"] == pytest.approx(expert, rel=1e-12)
    assert executed.metrics.J <= layer.summary()["bound"] * (1 + 1e-12)
    # An RHC spec around the layer's own keys keeps them apart from the controller's.
    inner = build("robust(rhc:w=4,forecaster=persistence, lambda=0.1, expert=eglb)")
    assert inner.ml.window == 4 and inner.lam == 0.1
    for bad, message in (
        ("robust(glb-cost, expert=eglb-off)", "the expert must be an online policy"),
        ("robust(glb-cost, expert=robust(eglb))", "the expert cannot be a robust layer"),
        ("robust(glb-cost, expert=nonsense)", "unknown algorithm"),
    ):
        with pytest.raises(InputError, match=message):
            build(bad)
