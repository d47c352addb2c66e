"""The robustification layer's bound at every hour, to the last rounding step (issue 17).

Short episodes, lambda 0 or tiny, constant or growing slack, ties and exact equalities (identical
regions, zero intensities or weights, the ML policy equal to the expert), hostile and junk proposals,
full and partial masks, negative prices. Two things are asserted at every hour:

* the layer's own invariant, exactly (no tolerance): the mismatch Delta of the state actually
  executed is within the hour's budget lambda J(S^E_t) + B_t;
* the bound itself, recomputed independently from the executed routings and a standalone expert:
  J(robust) <= (1 + lambda) J(eGLB) + B_t on the shifted prices, up to the rounding of the sums.
"""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.base import HourView, Policy
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.rollout import rollout
from eglb.envs.metrics import FootprintState
from eglb.envs.synthetic import make_synthetic
from eglb.robust import layer as layer_module
from eglb.robust.layer import RobustPolicy, Slack
from helpers import assert_feasible, random_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

ML_KINDS = ("one-region", "dirtiest", "expert", "junk", "huge", "random", "boundary", "zeros")


class Hostile(Policy):
    """Proposals that try to break the bound, or are not routings at all."""

    def __init__(self, kind: str, seed: int, eta: float | None):
        super().__init__()
        self.kind, self.seed, self.name = kind, seed, kind
        self.expert = EGLBOnline(eta=eta)

    def reset(self, scenario):
        super().reset(scenario)
        self.rng = np.random.default_rng(self.seed)
        self.expert.reset(scenario)

    def act(self, view: HourView) -> np.ndarray:
        s, t = view.scenario, view.t
        shape = s.mask.shape
        harm = s.mu_water * s.water[:, t] + s.mu_carbon * s.carbon[:, t]
        if self.kind == "one-region":  # every gateway's whole load to the worst region, mask and capacity ignored
            out = np.zeros(shape)
            out[int(np.argmax(harm))] = s.workload[:, t]
            return out
        if self.kind == "dirtiest":
            return self.router.cheapest(-harm, t)
        if self.kind == "expert":  # the ML policy is the expert: theta = 1 must be played, exactly
            return self.expert.act(view)
        if self.kind == "junk":
            out = self.rng.choice([np.nan, np.inf, -np.inf, -1.0, 0.0, 2.0], size=shape)
            return out
        if self.kind == "huge":
            return np.where(self.rng.random(shape) < 0.5, 1e308, -1e308)
        if self.kind == "random":
            return self.rng.random(shape) * self.rng.choice([1e-3, 1, 1e3])
        if self.kind == "boundary":
            return self.router.cheapest(-s.price[:, t] if t % 2 else -harm, t)
        return np.zeros(shape)


def tied(scenario, tie: str):
    """The scenario with exact equalities: identical regions, zero intensities, zero weights."""
    if tie == "identical-regions":
        n = scenario.n_regions
        return scenario.with_changes(
            price=np.repeat(scenario.price[:1], n, axis=0),
            carbon=np.repeat(scenario.carbon[:1], n, axis=0),
            water=np.repeat(scenario.water[:1], n, axis=0),
        )
    if tie == "zero-intensity":
        return scenario.with_changes(water=np.zeros_like(scenario.water), carbon=np.zeros_like(scenario.carbon))
    if tie == "zero-water":
        return scenario.with_changes(water=np.zeros_like(scenario.water), mu_water=60.0, mu_carbon=1500.0)
    if tie == "weights-on":
        return scenario.with_changes(mu_water=60.0, mu_carbon=1500.0)
    return scenario


def standalone_expert_energy(scenario, eta):
    expert = EGLBOnline(eta=eta)
    expert.reset(scenario)
    state = FootprintState.zeros(scenario.n_regions)
    return np.array([expert.act(HourView(scenario, t, state)).sum(axis=1) for t in range(scenario.n_hours)]).T


def shifted_objective_by_hour(scenario, energy, floor):
    """[T] J of every prefix of a trajectory ``energy`` [N, T] on prices shifted by ``floor``."""
    cost = np.cumsum(((scenario.price - floor) * energy).sum(axis=0))
    footprint = np.cumsum(scenario.intensity * energy, axis=2)  # [2, N, T]
    return cost + scenario.footprint_weights @ footprint.max(axis=1)


def check_bound_at_every_hour(scenario, kind, lam, factor, schedule, eta, seed=0):
    """Run the layer against ``kind`` and assert the bound at every hour (see the module docstring)."""
    floor = min(0.0, float(scenario.price.min()))
    expert_energy = standalone_expert_energy(scenario, eta)
    expert_J = shifted_objective_by_hour(scenario, expert_energy, floor)
    slack = Slack(factor * expert_J[-1] / scenario.n_hours, schedule)
    layer = RobustPolicy(Hostile(kind, seed, eta), lam=lam, slack=slack, expert=EGLBOnline(eta=eta))
    layer.reset(scenario)
    state = FootprintState.zeros(scenario.n_regions)
    energy = np.empty((scenario.n_regions, scenario.n_hours))
    for t in range(scenario.n_hours):
        routing = layer.act(HourView(scenario, t, state.copy()))
        assert_feasible(scenario, t, routing)
        energy[:, t] = routing.sum(axis=1)
        state.add(float(scenario.price[:, t] @ energy[:, t]), scenario.intensity[:, :, t] * energy[:, t])
        info = layer.info
        assert 0.0 <= info["theta"] <= 1.0
        # The layer's invariant on the state it executed, exactly.
        assert info["delta"] <= info["budget"], (t, info["theta"], info["delta"] - info["budget"])
        assert info["budget"] == lam * info["expert_J"] + slack.at(t + 1)
        np.testing.assert_array_equal(info["expert_energy"], expert_energy[:, t])  # the shadow is the standalone expert
        if kind == "expert":
            assert info["theta"] == 1.0
            np.testing.assert_array_equal(energy[:, t], expert_energy[:, t])
    robust_J = shifted_objective_by_hour(scenario, energy, floor)
    bounds = (1 + lam) * expert_J + np.array([slack.at(t + 1) for t in range(scenario.n_hours)])
    # Rounding of two cumulative sums of T hours (a few ulps per hour and term).
    tolerance = 16 * np.finfo(float).eps * np.arange(1, scenario.n_hours + 1) * np.maximum(1.0, bounds)
    assert np.all(robust_J <= bounds + tolerance), (robust_J - bounds).max()


short_scenarios = st.builds(
    random_scenario,
    seed=st.integers(0, 100_000),
    n_regions=st.integers(1, 4),
    n_gateways=st.integers(1, 3),
    hours=st.sampled_from([1, 2, 3, 4, 8, 16]),
    masked=st.booleans(),
    negative_prices=st.booleans(),
    slack=st.sampled_from([0.0, 0.3]),
    hourly_capacity=st.booleans(),
)


@settings(max_examples=150)
@given(
    scenario=short_scenarios,
    tie=st.sampled_from(["none", "identical-regions", "zero-intensity", "zero-water", "weights-on"]),
    kind=st.sampled_from(ML_KINDS),
    lam=st.sampled_from([0.0, 1e-9, 0.01]),
    factor=st.sampled_from([0.0, 1e-12, 0.05, 1.0, 30.0]),
    schedule=st.sampled_from(["const", "sqrt", "linear"]),
    eta=st.sampled_from([None, 1e-3]),
    seed=st.integers(0, 3),
)
def test_bound_holds_at_every_hour_of_short_episodes(scenario, tie, kind, lam, factor, schedule, eta, seed):
    check_bound_at_every_hour(tied(scenario, tie), kind, lam, factor, schedule, eta, seed)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 10_000),
    hours=st.sampled_from([4, 8, 16]),
    setting=st.sampled_from(["full", "partial"]),
    kind=st.sampled_from(["one-region", "dirtiest", "junk"]),
    lam=st.sampled_from([0.0, 0.01]),
    factor=st.sampled_from([0.05, 1.0]),
)
def test_bound_holds_at_every_hour_on_synthetic_traces(seed, hours, setting, kind, lam, factor):
    check_bound_at_every_hour(make_synthetic(seed, hours=hours, setting=setting), kind, lam, factor, "const", None)


def test_the_issue_case_plays_no_ml_action_above_the_budget():
    """make_synthetic(3013, hours=103), B = 1000, lambda 0, every gateway's load to the dirtiest region."""
    scenario = make_synthetic(3013, hours=103)
    layer = RobustPolicy(Hostile("one-region", 0, None), lam=0.0, slack=Slack(1000.0))
    executed = rollout(layer, scenario)
    for info in executed.infos:
        assert info["delta"] <= info["budget"] == 1000.0
    floor = min(0.0, float(scenario.price.min()))
    robust_J = shifted_objective_by_hour(scenario, executed.energy, floor)
    expert_J = shifted_objective_by_hour(scenario, rollout(EGLBOnline(), scenario).energy, floor)
    assert np.all(robust_J <= expert_J + 1000.0 * (1 + 1e-12))


@settings(max_examples=40)
@given(
    scenario=short_scenarios,
    kind=st.sampled_from(["one-region", "dirtiest", "junk", "expert"]),
    lam=st.sampled_from([0.0, 0.01]),
    factor=st.sampled_from([0.0, 0.05, 1.0]),
    miss=st.sampled_from(["one", "above", "ulp"]),
)
def test_a_wrong_closed_form_theta_is_never_played(scenario, kind, lam, factor, miss):
    """The issue's mechanism on any machine: the closed form's two evaluations of Delta disagreed by a
    rounding step and it answered theta = 1. Whatever it answers, the layer plays only what fits."""
    exact = layer_module.largest_admissible_theta

    def wrong(*args):
        theta = exact(*args)
        if miss == "one":
            return 1.0
        if miss == "above":
            return min(1.0, theta + 0.25)
        return theta * (1 + 1e-12) if theta < 1 else theta

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layer_module, "largest_admissible_theta", wrong)
        check_bound_at_every_hour(scenario, kind, lam, factor, "const", None)
