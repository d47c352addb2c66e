"""eGLB-Off with Hall's rows added lazily: exact against the transportation-form LP, a model linear in
hours and gateway classes, meaningful duals, and a time limit that ends in one clear line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import eglb.agents.offline as offline
import numpy as np
import pytest
from eglb.agents.offline import EGLBOffline
from eglb.agents.replay import Replay
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError, SolverError
from eglb.envs.flow import adjacency, augment, greedy_start, max_servable, residual_reach
from eglb.envs.routing import Router
from helpers import assert_feasible, random_scenario
from hypothesis import given
from hypothesis import strategies as st
from lp_reference import offline_optimum

from eglb.cli import run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_offline_classes import class_scenario  # noqa: E402  (the benchmark's scenario generator)


@given(
    seed=st.integers(0, 100_000),
    n_regions=st.integers(2, 6),
    n_gateways=st.integers(1, 12),
    hours=st.integers(1, 6),
    slack=st.sampled_from([0.0, 0.05, 0.5]),
    hourly=st.booleans(),
)
def test_objective_equals_the_transportation_lp_on_random_masks(seed, n_regions, n_gateways, hours, slack, hourly):
    scenario = random_scenario(
        seed, n_regions=n_regions, n_gateways=n_gateways, hours=hours, masked=True, slack=slack, hourly_capacity=hourly
    )
    reference = offline_optimum(scenario)
    with pytest.MonkeyPatch.context() as patch:  # every Hall row found lazily, even for few classes
        patch.setattr(offline, "FEW_CLASSES", 0)
        assert EGLBOffline().solve(scenario).objective == pytest.approx(reference, rel=1e-7, abs=1e-6)
    solution = EGLBOffline().solve(scenario)
    assert solution.objective == pytest.approx(reference, rel=1e-7, abs=1e-6)
    # The returned routing is feasible, gives the LP's energies, and replays to the same J.
    assert (solution.class_flow is None) == scenario.full_mask
    router = Router(scenario)
    for t in range(hours if solution.class_flow is not None else 0):
        routing = router.from_classes(solution.class_flow[t], t)
        assert_feasible(scenario, t, routing, tol=1e-8)
        np.testing.assert_allclose(routing.sum(axis=1), solution.energy[:, t], rtol=1e-7, atol=1e-8)
    assert rollout(Replay(solution, "eglb-off"), scenario).metrics.J == pytest.approx(solution.objective, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_duals_keep_their_meaning_with_many_classes(seed):
    scenario = random_scenario(seed, n_regions=8, n_gateways=20, hours=30, masked=True, slack=0.05)
    scenario = scenario.with_changes(mu_water=60.0, mu_carbon=1500.0)
    assert scenario.mask_classes.count > 10
    solution = EGLBOffline().solve(scenario)
    assert solution.extra["hall_rows"] > 0  # the mask binds: this exercises the added rows
    np.testing.assert_allclose(solution.duals.sum(axis=1), [1.0, 1.0], atol=1e-7)
    footprint = (scenario.intensity * solution.energy).sum(axis=2)
    for k in range(2):  # complementary slackness: only the worst regions carry dual weight
        priced = solution.duals[k] > 1e-6
        np.testing.assert_allclose(footprint[k][priced], footprint[k].max(), rtol=1e-6)
    # The duals price the LP: the weighted-dual relaxation's hourly minimum, summed, is the optimum
    # (strong duality with the Hall rows' multipliers folded into the exact per-hour routing).
    weights = scenario.footprint_weights[:, None]
    calibrated = scenario.price + (weights[:, :, None] * solution.duals[:, :, None] * scenario.intensity).sum(axis=0)
    router = Router(scenario)
    lagrangian = sum(float(calibrated[:, t] @ router.cheapest_energy(calibrated[:, t], t)) for t in range(30))
    assert lagrangian == pytest.approx(solution.objective, rel=1e-7)


def test_model_is_linear_in_hours_and_classes():
    # Columns are N*T + 2 whatever the mask; Hall rows stay a few per hour as hours and classes grow
    # (the rows of every union of class neighbourhoods would be up to 2^K per hour).
    n = 20
    for n_classes in (3, 12, 40):
        per_hour = []
        for hours in (24, 96):
            scenario = class_scenario(n, n_classes, hours, seed=n_classes, neighbourhood=(2, 6))
            assert scenario.mask_classes.count == n_classes
            extra = EGLBOffline().solve(scenario).extra
            assert extra["columns"] == n * hours + 2
            assert extra["rows"] == hours + 2 * n + extra["hall_rows"]
            per_hour.append(extra["hall_rows"] / hours)
        assert 0 < min(per_hour) and max(per_hour) <= 8, (n_classes, per_hour)


def test_full_mask_needs_no_hall_rows(published_full):
    solution = EGLBOffline().solve(published_full)
    assert solution.class_flow is None and "hall_rows" not in solution.extra and solution.extra["solves"] == 1


@pytest.mark.parametrize("setting, value", [("full", 623661.35), ("partial", 629943.21)])
def test_published_optimum_is_unchanged(setting, value, request):
    solution = EGLBOffline().solve(request.getfixturevalue(f"published_{setting}"))
    assert solution.objective == pytest.approx(value, abs=0.01)


@given(seed=st.integers(0, 100_000), n_regions=st.integers(1, 7), n_columns=st.integers(1, 9))
def test_max_flow_and_its_minimum_cut(seed, n_regions, n_columns):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_regions, n_columns)) < 0.4
    mask[rng.integers(n_regions, size=n_columns), np.arange(n_columns)] = True
    demand = rng.random(n_columns) * rng.choice([0.0, 1.0, 2.0], n_columns)
    supply = rng.random(n_regions) * rng.choice([0.0, 1.0, 2.0], n_regions)
    regions_of, columns_of = adjacency(mask)
    eps = 1e-12
    x, res, free = greedy_start(demand.tolist(), supply.tolist(), regions_of, eps)
    augment(x, res, free, regions_of, eps, columns_of)
    flow = np.array(x)
    assert np.all(flow >= 0) and not flow[~mask].any()
    assert np.all(flow.sum(axis=1) <= supply + 1e-12)
    np.testing.assert_allclose(flow.sum(axis=0) + res, demand, atol=1e-12)
    routed = flow.sum()
    assert routed == pytest.approx(max_servable(demand, supply, mask), abs=1e-9)  # the existing augmenting paths
    if sum(res) > eps:
        # Max-flow min-cut: the regions R reached from unserved columns receive less than the
        # columns living inside R need, short by exactly what is left unrouted.
        inside_r = np.isin(np.arange(n_regions), residual_reach(x, res, regions_of, columns_of, eps))
        inside = ~(mask & ~inside_r[:, None]).any(axis=0)
        assert demand[inside].sum() - supply[inside_r].sum() == pytest.approx(sum(res), abs=1e-9)


def test_time_limit_ends_in_a_solver_error_on_one_line(capsys):
    scenario = random_scenario(1, n_regions=6, n_gateways=9, hours=24, masked=True)

    def main(argv):
        EGLBOffline(time_limit=1e-9).solve(scenario)
        return 0

    assert run_cli(main, []) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "time limit of 1e-09 s" in err and "random 1" in err


def test_time_limit_inside_highs(monkeypatch):
    # HiGHS itself reports the limit (its clock is handed the seconds left).
    monkeypatch.setattr(offline._Clock, "left", lambda self, doing: 1e-12)
    scenario = random_scenario(2, n_regions=6, n_gateways=9, hours=24, masked=True)
    with pytest.raises(SolverError, match=r"stopped at its time limit of 30 s while HiGHS was solving"):
        EGLBOffline(time_limit=30).solve(scenario)


def test_bad_settings_are_clear_errors():
    with pytest.raises(InputError, match="method must be .auto. or one of"):
        EGLBOffline(method="simplex")
    with pytest.raises(InputError, match="time_limit must be a positive number"):
        EGLBOffline(time_limit=0)
    assert EGLBOffline(time_limit=None).solve(random_scenario(0)).status == "optimal"


def test_time_limit_counts_highs_clock_across_solves():
    # One HiGHS instance keeps one clock over all the loop's solves: a limit of "seconds left"
    # must be added to what that clock already shows, or a late re-solve stops at once.
    scenario = class_scenario(20, 12, 96, seed=3, neighbourhood=(2, 6))
    clock = offline._Clock(scenario.name, None, 0.0)
    model = offline._EnergyModel(scenario, np.zeros((2, 20)), offline.METHODS["highs-ds"], clock)
    for _ in range(3):
        model.highs.clearSolver()
        model.run()
    assert offline._HallCuts(scenario, clock).add_violated(model)  # the re-solve has work to do
    spent = model.highs.getRunTime()  # three cold solves: the warm re-solve needs far less
    clock.limit, clock.deadline = spent, time.perf_counter() + spent
    model.run()
    assert model.solves == 4
