"""Classical algorithms against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.baselines import Nearest, glb_carbon, glb_cost, glb_water
from eglb.agents.eglb_online import EGLBOnline, auxiliary_target, default_eta, default_z_max
from eglb.agents.offline import EGLBOffline
from eglb.agents.replay import Replay
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.synthetic import make_synthetic
from helpers import random_scenario
from hypothesis import given
from hypothesis import strategies as st
from lp_reference import cheapest_hour_cost, offline_optimum
from scipy.optimize import linprog

from eglb.registry import AlgorithmOptions, build, split_specs


@pytest.mark.parametrize("seed", range(6))
def test_offline_optimum_matches_a_gateway_level_lp(seed):
    scenario = random_scenario(seed, n_regions=4, n_gateways=4, hours=8, masked=seed % 2 == 1, slack=0.2 * (seed % 3))
    solution = EGLBOffline().solve(scenario)
    assert solution.objective == pytest.approx(offline_optimum(scenario), rel=1e-7, abs=1e-6)
    replayed = rollout(Replay(solution, "eglb-off"), scenario).metrics.J
    assert replayed == pytest.approx(solution.objective, rel=1e-9, abs=1e-6)
    assert solution.extra["solver_objective"] == pytest.approx(solution.objective, rel=1e-7, abs=1e-6)


def test_offline_with_many_gateway_classes():
    scenario = random_scenario(3, n_regions=7, n_gateways=14, hours=4, masked=True)
    assert scenario.mask_classes.count > 10  # Hall's rows only as the LP violates them (2^K would be 2047 per hour)
    solution = EGLBOffline().solve(scenario)
    assert solution.objective == pytest.approx(offline_optimum(scenario), rel=1e-7, abs=1e-6)
    assert rollout(Replay(solution, "eglb-off"), scenario).metrics.J == pytest.approx(solution.objective, rel=1e-9)


@pytest.mark.parametrize("setting", ["full", "partial"])
def test_offline_duals_are_distributions_on_the_worst_regions(setting):
    scenario = make_synthetic(3, hours=72, setting=setting)
    solution = EGLBOffline().solve(scenario)
    np.testing.assert_allclose(solution.duals.sum(axis=1), [1.0, 1.0], atol=1e-7)
    footprint = (scenario.intensity * solution.energy).sum(axis=2)
    # Complementary slackness: only regions at the maximum footprint carry dual weight.
    for k in range(2):
        priced = solution.duals[k] > 1e-6
        np.testing.assert_allclose(footprint[k][priced], footprint[k].max(), rtol=1e-6)


def test_offline_from_a_state_completes_the_optimum():
    # Principle of optimality: the optimal prefix followed by the optimum of the rest from its
    # state costs exactly the whole-horizon optimum.
    scenario = make_synthetic(4, hours=60, setting="partial")
    whole = EGLBOffline().solve(scenario)
    cut = 25
    prefix_energy = whole.energy[:, :cut]
    prefix_cost = float((scenario.price[:, :cut] * prefix_energy).sum())
    state = (scenario.intensity[:, :, :cut] * prefix_energy).sum(axis=2)
    rest = EGLBOffline().solve(scenario.window(cut, 60), initial_footprint=state)
    assert prefix_cost + rest.objective == pytest.approx(whole.objective, rel=1e-8)


def test_offline_rejects_a_bad_initial_state():
    with pytest.raises(ValueError, match="initial_footprint has shape"):
        EGLBOffline().solve(random_scenario(0), initial_footprint=np.zeros(3))


@pytest.mark.parametrize("policy, signal", [(glb_cost, "price"), (glb_carbon, "carbon"), (glb_water, "water")])
def test_single_signal_baselines_are_optimal_for_their_signal(policy, signal):
    scenario = random_scenario(5, n_regions=5, n_gateways=3, hours=6, masked=True)
    energy = rollout(policy(), scenario).energy
    values = getattr(scenario, signal)
    achieved = (values * energy).sum()
    best = sum(cheapest_hour_cost(scenario, t, values[:, t]) for t in range(6))
    assert achieved == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_nearest_serves_every_gateway_from_its_own_region():
    scenario = make_synthetic(0, hours=24)
    energy = rollout(Nearest(), scenario).energy
    np.testing.assert_allclose(energy, scenario.workload)
    by_name = rollout(Nearest(list(reversed(scenario.regions))), scenario).energy
    np.testing.assert_allclose(by_name, scenario.workload[::-1])


def test_nearest_sends_what_its_region_cannot_take_elsewhere():
    scenario = make_synthetic(0, hours=24)
    policy = Nearest(["Texas"] * 10)  # Texas (1 MW) is every gateway's nearest region
    energy = rollout(policy, scenario).energy
    np.testing.assert_allclose(energy[0], np.minimum(scenario.capacity[0], scenario.total_workload))
    np.testing.assert_allclose(energy.sum(axis=0), scenario.total_workload)
    assert policy.summary()["rerouted_mwh"] == pytest.approx(np.maximum(scenario.total_workload - 1.0, 0).sum(), rel=1e-12)


def test_nearest_errors_are_clear():
    scenario = make_synthetic(0, hours=24)
    with pytest.raises(InputError, match="unknown region 'Mars'"):
        Nearest(["Mars"] * 10).reset(scenario)
    with pytest.raises(InputError, match="lists 2 regions, expected one per gateway"):
        Nearest(["Texas", "Japan"]).reset(scenario)
    partial = make_synthetic(0, hours=24, setting="partial")
    with pytest.raises(InputError, match="does not let region 'Japan' serve gateway 'Texas'"):
        Nearest(["Japan"] + list(partial.regions[1:])).reset(partial)


@given(seed=st.integers(0, 10_000), n=st.integers(1, 6))
def test_auxiliary_target_is_the_argmin(seed, n):
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0.1, 0.3, (2, n)) * (rng.random((2, n)) < 0.8)
    z_max = rng.random((2, n)) * 100
    z = auxiliary_target(gamma, z_max)
    assert np.all(z >= 0) and np.all(z <= z_max)
    for k in range(2):
        # LP: min s - gamma.z  s.t. z_i <= s, 0 <= z <= z_max.
        c = np.r_[1.0, -gamma[k]]
        a = np.c_[-np.ones(n), np.eye(n)]
        result = linprog(c, A_ub=a, b_ub=np.zeros(n), bounds=[(0, None)] + [(0, m) for m in z_max[k]], method="highs")
        achieved = z[k].max() - gamma[k] @ z[k]
        assert achieved == pytest.approx(result.fun, abs=1e-9 * max(1, z_max.max()))


def test_dual_mirror_descent_follows_the_update_rule():
    scenario = random_scenario(7, n_regions=3, n_gateways=2, hours=10, masked=False)
    policy = EGLBOnline(eta=1e-3)
    episode = rollout(policy, scenario)
    # Recompute the duals from the executed energies with the formulas of SPEC section 4.
    weights = np.array([scenario.mu_water, scenario.mu_carbon])[:, None]
    # z_max: the largest weighted footprint a region can receive in an hour (full mask: the capacity
    # or the whole load, whichever is smaller; tests/test_eglb_scale.py checks it against an LP).
    receivable = np.minimum(scenario.capacity, scenario.workload.sum(axis=0))
    z_max = weights * (scenario.intensity * receivable).max(axis=2)
    gamma = np.zeros((2, 3))
    for t in range(10):
        q = scenario.price[:, t] + (weights * gamma * scenario.intensity[:, :, t]).sum(axis=0)
        e = episode.energy[:, t]
        assert q @ e == pytest.approx(cheapest_hour_cost(scenario, t, q), rel=1e-9, abs=1e-9)
        b = weights * scenario.intensity[:, :, t] * e
        gamma = gamma + 1e-3 * (b - auxiliary_target(gamma, z_max))
    np.testing.assert_allclose(policy.gamma, gamma, rtol=1e-12)


def test_zero_step_size_is_glb_cost_and_defaults_follow_the_rule():
    scenario = make_synthetic(1, hours=48)
    np.testing.assert_array_equal(rollout(EGLBOnline(eta=0.0), scenario).energy, rollout(glb_cost(), scenario).energy)
    policy = EGLBOnline()
    policy.reset(scenario)
    np.testing.assert_allclose(policy.z_max, default_z_max(scenario))
    assert policy.eta == pytest.approx(0.25 / (policy.z_max.max() * np.sqrt(48)))
    assert default_eta(np.zeros((2, 3)), 10) == 0.0
    with pytest.raises(InputError, match="eta must be a finite number >= 0"):
        EGLBOnline(eta=-1.0)


def test_eglb_improves_on_glb_cost_and_stays_above_the_optimum():
    scenario = make_synthetic(2, hours=457)
    off = EGLBOffline().solve(scenario).objective
    online = rollout(EGLBOnline(), scenario).metrics.J
    assert off < online < rollout(glb_cost(), scenario).metrics.J


def test_registry_parses_and_rejects():
    assert split_specs("eglb, robust(glb-cost,lambda=0.1),ppo:runs/x") == ["eglb", "robust(glb-cost,lambda=0.1)", "ppo:runs/x"]
    assert build("eglb", AlgorithmOptions(eta=1e-4)).eta_setting == 1e-4
    for bad, message in (
        ("glb-magic", "unknown algorithm 'glb-magic'"),
        ("eglb,,glb-cost", "empty algorithm name"),
        ("robust(eglb", "unbalanced"),
        ("dqn:runs/x", "unknown algorithm kind 'dqn'"),
    ):
        with pytest.raises(InputError, match=message):
            [build(s) for s in split_specs(bad)]
