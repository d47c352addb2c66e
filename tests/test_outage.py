"""A region with zero capacity (the outage shift): every algorithm routes around it where the mask
allows, and the load no routing can serve is shed once, before the algorithms run, and reported.

The shed load is checked against an independent LP (the maximum flow of every hour), every action
of every registered classical algorithm against the hour's constraints.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.agents.base import OfflineSolver, Policy
from eglb.agents.baselines import Nearest
from eglb.agents.replay import Replay
from eglb.agents.rollout import rollout
from eglb.envs.flow import servable_scale, servable_workload
from eglb.envs.shifts import apply_shift, parse_shift
from eglb.envs.synthetic import make_synthetic
from helpers import assert_feasible
from hypothesis import given
from hypothesis import strategies as st
from lp_reference import max_flow

from eglb.cli import evaluate
from eglb.registry import CLASSICAL, build

#: Outages of the published regions: Virginia alone (the default), and two regions at once under
#: the partial mask, which leaves gateways 8 and 9 only Nevada (load is shed there, not elsewhere).
OUTAGES = [("full", "outage:start=0.5,end=0.6"), ("partial", "outage:regions=Japan+Singapore,start=0.25,end=0.75")]


class Recorder(Policy):
    """Plays ``inner`` and keeps every routing it returned."""

    def __init__(self, inner: Policy):
        super().__init__()
        self.inner, self.name = inner, inner.name

    def reset(self, scenario):
        super().reset(scenario)
        self.inner.reset(scenario)
        self.routings = []

    def act(self, view):
        routing = self.inner.act(view)
        self.routings.append(np.array(routing, dtype=float))
        return routing


def outage_case(setting: str, shift: str):
    base = make_synthetic(2, hours=48, setting=setting)
    return base, apply_shift(base, parse_shift(shift))


def shed_by_lp(workload: np.ndarray, capacity: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[T] the load (MW) no routing can serve in each hour: demand minus the LP's maximum flow."""
    return np.array([workload[:, t].sum() - max_flow(workload[:, t], capacity[:, t], mask) for t in range(workload.shape[1])])


@pytest.mark.parametrize("setting, shift", OUTAGES)
def test_the_outage_sheds_exactly_what_no_routing_can_serve(setting, shift):
    base, shifted = outage_case(setting, shift)
    scenario = shifted.scenario
    shed = shed_by_lp(base.workload, scenario.capacity, scenario.mask)
    assert shifted.unserved == pytest.approx(shed.sum(), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(base.total_workload - scenario.total_workload, shed, atol=1e-9)
    if setting == "partial":
        assert shifted.unserved > 1.0  # this outage must shed, or the test shows nothing


@pytest.mark.parametrize("setting, shift", OUTAGES)
@pytest.mark.parametrize(
    "spec", [*CLASSICAL, "rhc:w=6", "afhc:w=4", "robust(glb-dist,lambda=0.05)", "robust(glb-cost,lambda=0)", "robust(eglb-off)"]
)
def test_every_algorithm_routes_around_a_region_with_zero_capacity(spec, setting, shift):
    _, shifted = outage_case(setting, shift)
    scenario = shifted.scenario
    algorithm = build(spec)
    policy = Replay(algorithm.solve(scenario), spec) if isinstance(algorithm, OfflineSolver) else algorithm
    recorder = Recorder(policy)
    executed = rollout(recorder, scenario)
    down = scenario.capacity == 0
    assert down.any()
    for t, routing in enumerate(recorder.routings):
        assert_feasible(scenario, t, routing)
        assert np.all(routing.sum(axis=1)[down[:, t]] == 0.0), (t, routing.sum(axis=1))
    # Every algorithm serves all of the load that was not shed, and nothing in the regions that are down.
    np.testing.assert_allclose(executed.energy.sum(axis=0), scenario.total_workload, rtol=1e-9, atol=1e-12)
    assert np.all(executed.energy[down] == 0.0)


def test_glb_dist_reroutes_exactly_the_load_of_its_region_that_is_down():
    base, shifted = outage_case(*OUTAGES[0])
    scenario = shifted.scenario
    virginia = scenario.regions.index("Virginia")
    down = scenario.capacity[virginia] == 0
    policy = Nearest()
    energy = rollout(policy, scenario).energy
    up = ~down
    np.testing.assert_allclose(energy[:, up], scenario.workload[:, up])  # nearest everywhere else
    assert policy.summary()["rerouted_mwh"] == pytest.approx(scenario.workload[virginia, down].sum(), rel=1e-12)
    unshifted = Nearest()
    rollout(unshifted, base)
    assert unshifted.summary() == {}


@given(seed=st.integers(0, 100_000), n=st.integers(1, 5), j=st.integers(1, 12), hours=st.integers(1, 4))
def test_servable_workload_is_the_max_flow_and_keeps_every_gateway_its_uniform_share(seed, n, j, hours):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, j)) < 0.5
    mask[rng.integers(n, size=j), np.arange(j)] = True
    capacity = rng.random((n, hours)) * (rng.random((n, hours)) < 0.7)  # some regions down
    workload = rng.random((j, hours)) * rng.choice([0.0, 1.0, 3.0], size=(j, 1))
    served = servable_workload(workload, capacity, mask)
    scale = servable_scale(workload, capacity, mask)
    assert np.all(served <= workload * (1 + 1e-12))
    # The uniform share is found to FEASIBILITY_TOLERANCE (bisection with more than 10 classes).
    assert np.all(served >= workload * scale[None, :] - 1e-9 * np.maximum(1.0, workload.sum(axis=0)))
    for t in range(hours):
        most = max_flow(workload[:, t], capacity[:, t], mask)
        assert served[:, t].sum() == pytest.approx(most, rel=1e-9, abs=1e-9)
        assert max_flow(served[:, t], capacity[:, t], mask) == pytest.approx(served[:, t].sum(), rel=1e-9, abs=1e-9)


def test_the_documented_outage_example_runs_and_reports_the_shed_load(tmp_path):
    out = tmp_path / "outage"
    args = ["--shift", "outage:start=0.5,end=0.6", "--synthetic-hours", "96", "--setting", "partial", "--no-progress"]
    assert evaluate.main([*args, "--out", str(out)]) == 0
    rows = json.loads((out / "results.json").read_text())
    assert {row["algo"] for row in rows} >= {"glb-dist", "eglb", "eglb-off"}
    base = make_synthetic(0, hours=96, setting="partial")
    shifted = apply_shift(base, parse_shift("outage:start=0.5,end=0.6"))
    for row in rows:
        assert row["served_mwh"] == pytest.approx(shifted.scenario.total_workload.sum(), rel=1e-12)
        assert row.get("unserved_mwh", 0.0) == pytest.approx(shifted.unserved, abs=1e-9)


@pytest.fixture(scope="module")
def learned_run(tmp_path_factory):
    from test_learning import short_run

    return short_run(tmp_path_factory.mktemp("outage-learned"), "bc", 24)


@pytest.mark.parametrize("setting, shift", OUTAGES)
@pytest.mark.parametrize("wrap", ["{}", "robust({},lambda=0.1)"])
def test_a_learned_policy_routes_around_a_region_with_zero_capacity(learned_run, wrap, setting, shift):
    _, shifted = outage_case(setting, shift)
    scenario = shifted.scenario
    recorder = Recorder(build(wrap.format(f"bc:{learned_run}")))
    executed = rollout(recorder, scenario)
    down = scenario.capacity == 0
    for t, routing in enumerate(recorder.routings):
        assert_feasible(scenario, t, routing)
        assert np.all(routing.sum(axis=1)[down[:, t]] == 0.0)
    np.testing.assert_allclose(executed.energy.sum(axis=0), scenario.total_workload, rtol=1e-9, atol=1e-12)
