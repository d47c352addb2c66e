"""The one objective/metrics module, against a direct computation written independently."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.metrics import FootprintState, metrics_from_energy, metrics_from_routing, objective
from helpers import random_scenario


def direct(scenario, routing):
    """Plain loops over the definitions of SPEC section 2."""
    n = scenario.n_regions
    e_cost, w_tot, c_tot = [0.0] * n, [0.0] * n, [0.0] * n
    for t in range(scenario.n_hours):
        for i in range(n):
            e = sum(routing[t][i][j] for j in range(scenario.n_gateways))
            e_cost[i] += scenario.price[i, t] * e
            w_tot[i] += scenario.water[i, t] * e
            c_tot[i] += scenario.carbon[i, t] * e
    J = sum(e_cost) + scenario.mu_water * max(w_tot) + scenario.mu_carbon * max(c_tot)
    par = lambda v: max(v) / (sum(v) / n)  # noqa: E731
    return J, sum(e_cost) / n, par(w_tot), par(c_tot)


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_a_direct_computation(seed):
    scenario = random_scenario(seed, n_regions=5, n_gateways=4, hours=9)
    rng = np.random.default_rng(seed)
    routing = rng.random((9, 5, 4)) * scenario.mask
    J, cost, par_w, par_c = direct(scenario, routing.tolist())
    m = metrics_from_routing(scenario, routing)
    assert m.J == pytest.approx(J, rel=1e-12)
    assert m.cost == pytest.approx(cost, rel=1e-12)
    assert m.par_water == pytest.approx(par_w, rel=1e-12)
    assert m.par_carbon == pytest.approx(par_c, rel=1e-12)
    assert m.cost_total == pytest.approx(cost * 5, rel=1e-12)
    np.testing.assert_allclose(m.region_water, (scenario.water * routing.sum(axis=2).T).sum(axis=1))


def test_footprint_state_accumulates_to_the_same_objective():
    scenario = random_scenario(11, hours=7)
    energy = np.random.default_rng(1).random((scenario.n_regions, 7))
    state = FootprintState.zeros(scenario.n_regions)
    for t in range(7):
        state.add(float(scenario.price[:, t] @ energy[:, t]), scenario.intensity[:, :, t] * energy[:, t])
    assert state.objective(scenario.footprint_weights) == pytest.approx(metrics_from_energy(scenario, energy).J, rel=1e-12)
    assert objective(0.0, np.zeros((2, 3)), np.array([60.0, 1500.0])) == 0.0


def test_par_of_all_zero_footprints_is_one_and_shape_is_checked():
    scenario = random_scenario(2)
    m = metrics_from_energy(scenario, np.zeros((scenario.n_regions, scenario.n_hours)))
    assert (m.J, m.par_water, m.par_carbon) == (0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="energy has shape"):
        metrics_from_energy(scenario, np.zeros((2, 2)))
