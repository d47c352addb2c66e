"""eGLB's defaults follow what a region can actually receive, so its ratio to eGLB-Off holds at every capacity scale."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.eglb_online import EGLBOnline, default_z_max, receivable_energy
from eglb.agents.offline import EGLBOffline
from eglb.agents.rollout import rollout
from eglb.envs.synthetic import make_synthetic
from helpers import random_scenario
from scipy.optimize import linprog

SCALES = (1, 10, 1000)


def most_energy_lp(scenario, i: int, t: int) -> float:
    """max sum_j x[i, j] over feasible routings of hour t, by a generic LP over gateway-level flows."""
    pairs = np.argwhere(scenario.mask)
    n, j = scenario.mask.shape
    a_eq = np.zeros((j, len(pairs)))
    a_eq[pairs[:, 1], np.arange(len(pairs))] = 1
    a_ub = np.zeros((n, len(pairs)))
    a_ub[pairs[:, 0], np.arange(len(pairs))] = 1
    result = linprog(
        -(pairs[:, 0] == i).astype(float),
        A_ub=a_ub,
        b_ub=scenario.capacity[:, t],
        A_eq=a_eq,
        b_eq=scenario.workload[:, t],
        bounds=(0, None),
        method="highs",
    )
    assert result.status == 0, result.message
    return -float(result.fun)


@pytest.mark.parametrize("seed", range(4))
def test_receivable_energy_is_the_most_a_feasible_routing_gives_a_region(seed):
    scenario = random_scenario(
        seed, n_regions=5, n_gateways=4, hours=5, masked=seed % 2 == 0, slack=1.5, hourly_capacity=seed > 1
    )
    receivable = receivable_energy(scenario)
    expected = np.array([[most_energy_lp(scenario, i, t) for t in range(5)] for i in range(5)])
    np.testing.assert_allclose(receivable, expected, rtol=1e-9, atol=1e-9)
    # z_max is the largest weighted footprint of one region in one hour, over the feasible routings.
    weights = np.array([scenario.mu_water, scenario.mu_carbon])[:, None]
    expected_z_max = weights * (scenario.intensity * expected).max(axis=2)
    np.testing.assert_allclose(default_z_max(scenario), expected_z_max, rtol=1e-9, atol=1e-9)


def test_z_max_is_the_nominal_bound_where_capacity_is_reachable():
    # Published-like capacity (1 MW, below the load that can reach any region): the rule changes nothing.
    for setting in ("full", "partial"):
        scenario = make_synthetic(5, hours=48, setting=setting)
        nominal = scenario.footprint_weights[:, None] * scenario.capacity.max(axis=1) * scenario.intensity.max(axis=2)
        np.testing.assert_array_equal(default_z_max(scenario), nominal)


def scaled(scenario, factor):
    return scenario.with_changes(capacity=scenario.capacity * factor)


def ratios(scenario) -> dict[int, float]:
    """J(eGLB) / J(eGLB-Off) at each capacity scale."""
    out = {}
    for factor in SCALES:
        bigger = scaled(scenario, factor)
        out[factor] = rollout(EGLBOnline(), bigger).metrics.J / EGLBOffline().solve(bigger).objective
    return out


def assert_scale_free(by_scale: dict[int, float], ceiling: float) -> None:
    # Beyond the peak load (x10, x1000) capacity never binds: it is one problem, and eGLB must act
    # identically (the nominal bound gave 1.19 and 2.66 on the published full setting). Between x1
    # and x10 the problem itself changes (each hour's cheapest routing goes to a single region), so
    # the ratio is only bounded there.
    assert by_scale[1000] == pytest.approx(by_scale[10], rel=1e-9)
    assert 1.0 <= min(by_scale.values()) and max(by_scale.values()) <= ceiling, by_scale


@pytest.mark.parametrize("setting", ["full", "partial"])
def test_ratio_holds_across_capacity_scales_on_published_data(setting, request):
    scenario = request.getfixturevalue(f"published_{setting}")
    by_scale = ratios(scenario)
    assert by_scale[1] == pytest.approx(1.0279, abs=5e-4)  # the x1 figure of docs/results/published.md, unchanged by the rule
    assert_scale_free(by_scale, ceiling=1.2)


@pytest.mark.parametrize("setting", ["full", "partial"])
@pytest.mark.parametrize("seed", [3, 4])
def test_ratio_holds_across_capacity_scales_on_synthetic_data(seed, setting):
    assert_scale_free(ratios(make_synthetic(seed, hours=457, setting=setting)), ceiling=1.3)


def test_z_max_and_step_do_not_grow_with_unreachable_capacity():
    scenario = make_synthetic(6, hours=96, setting="partial")
    policies = []
    for factor in (10, 1000):
        policy = EGLBOnline()
        policy.reset(scaled(scenario, factor))
        policies.append(policy)
    np.testing.assert_array_equal(policies[0].z_max, policies[1].z_max)
    assert policies[0].eta == policies[1].eta
    # A region the mask lets reach only three gateways cannot take more than their load.
    japan = scenario.regions.index("Japan")
    reachable = scenario.workload[[3, 8, 9]].sum(axis=0)
    assert policies[0].z_max[1, japan] <= scenario.mu_carbon * (scenario.carbon[japan] * reachable).max() * (1 + 1e-12)
