"""Exact per-hour routing: cheapest routing against a generic LP, repair and sanitizing."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.flow import max_servable
from eglb.envs.routing import Router, fill_cheapest
from helpers import assert_feasible, random_scenario
from hypothesis import given
from hypothesis import strategies as st
from lp_reference import cheapest_hour_cost

scenarios = st.builds(
    random_scenario,
    seed=st.integers(0, 100_000),
    n_regions=st.integers(1, 6),
    n_gateways=st.integers(1, 6),
    hours=st.just(3),
    masked=st.booleans(),
    slack=st.sampled_from([0.0, 0.05, 0.5]),
    hourly_capacity=st.booleans(),
)


@given(scenario=scenarios, price_seed=st.integers(0, 1000), ties=st.booleans())
def test_cheapest_routing_is_feasible_and_optimal(scenario, price_seed, ties):
    rng = np.random.default_rng(price_seed)
    router = Router(scenario)
    for t in range(scenario.n_hours):
        price = rng.normal(0, 50, scenario.n_regions)
        if ties:
            price = np.round(price / 50)  # many equal prices
        routing = router.cheapest(price, t)
        assert_feasible(scenario, t, routing)
        expected = cheapest_hour_cost(scenario, t, price)
        assert float(price @ routing.sum(axis=1)) == pytest.approx(expected, rel=1e-9, abs=1e-9)
        np.testing.assert_allclose(router.cheapest_energy(price, t), routing.sum(axis=1), atol=1e-12)


def test_fill_cheapest_over_hours_equals_hour_by_hour():
    scenario = random_scenario(4, n_regions=6, n_gateways=3, hours=20, masked=False)
    price = np.random.default_rng(0).normal(size=(6, 20))
    batch = fill_cheapest(price, scenario.total_workload, scenario.capacity)
    for t in range(20):
        np.testing.assert_array_equal(
            batch[:, t], fill_cheapest(price[:, t], scenario.total_workload[t], scenario.capacity[:, t])
        )


@given(scenario=scenarios, seed=st.integers(0, 1000), concentrate=st.booleans())
def test_repair_gives_feasible_routings_and_keeps_feasible_ones(scenario, seed, concentrate):
    rng = np.random.default_rng(seed)
    router = Router(scenario)
    for t in range(scenario.n_hours):
        weights = rng.random(scenario.mask.shape) ** (8 if concentrate else 1) * scenario.mask
        weights[:, weights.sum(axis=0) == 0] = scenario.mask[:, weights.sum(axis=0) == 0]
        proposal = weights / weights.sum(axis=0) * scenario.workload[:, t]
        repaired = router.repair(proposal, t)
        assert_feasible(scenario, t, repaired)
        assert router.repair(repaired, t) is repaired  # a feasible routing passes through
        # Regions that were not overloaded are never emptied: repair only adds load to them.
        fits = proposal.sum(axis=1) <= scenario.capacity[:, t]
        assert np.all(repaired.sum(axis=1)[fits] >= proposal.sum(axis=1)[fits] - 1e-9)


@pytest.mark.parametrize("junk", [np.nan, np.inf, -np.inf, -5.0, 0.0, 1e308])
@pytest.mark.parametrize("masked", [False, True])
def test_sanitize_turns_anything_into_a_feasible_routing(junk, masked):
    scenario = random_scenario(9, n_regions=5, n_gateways=4, hours=4, masked=masked)
    router = Router(scenario)
    rng = np.random.default_rng(0)
    for t in range(4):
        raw = rng.random((5, 4)) * 3
        raw[rng.random((5, 4)) < 0.5] = junk
        assert_feasible(scenario, t, router.sanitize(raw, t))
        assert_feasible(scenario, t, router.sanitize(np.full(20, junk), t))


def test_sanitize_leaves_a_feasible_routing_alone():
    scenario = random_scenario(3, masked=True)
    router = Router(scenario)
    routing = router.cheapest(np.arange(scenario.n_regions, dtype=float), 1)
    np.testing.assert_array_equal(router.sanitize(routing, 1), routing)


@given(seed=st.integers(0, 10_000))
def test_max_servable_is_the_max_flow(seed):
    from scipy.optimize import linprog

    rng = np.random.default_rng(seed)
    n, c = rng.integers(1, 6, size=2)
    mask = rng.random((n, c)) < 0.5
    demand, capacity = rng.random(c) * 2, rng.random(n)
    pairs = np.argwhere(mask)
    if len(pairs) == 0:
        assert max_servable(demand, capacity, mask) == 0
        return
    a = np.zeros((n + c, len(pairs)))
    a[pairs[:, 0], np.arange(len(pairs))] = 1
    a[n + pairs[:, 1], np.arange(len(pairs))] = 1
    result = linprog(-np.ones(len(pairs)), A_ub=a, b_ub=np.r_[capacity, demand], method="highs")
    assert max_servable(demand, capacity, mask) == pytest.approx(-result.fun, abs=1e-9)
