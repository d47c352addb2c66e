"""eGLB-Off with deferrable jobs and model choice: the LP against an independent formulation, and its plan replayed."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.deliverable import check_deliverable, least_unfinished
from eglb.agents.flex_lp import JobPools
from eglb.agents.offline import EGLBOffline
from eglb.agents.replay import Replay
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.flexibility import Jobs, ModelChoice

from tests.flex_reference import flexible_optimum
from tests.helpers import random_knobs, random_scenario


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("masked", [False, True])
def test_the_lp_equals_an_independent_formulation(seed, masked):
    scenario = random_knobs(seed, masked=masked, n_models=2 + seed % 2)
    assert JobPools.of(scenario.jobs).count == scenario.jobs.count - 1  # the twins share their variables
    solution = EGLBOffline().solve(scenario)
    reference = flexible_optimum(scenario)
    assert solution.objective == pytest.approx(reference, rel=1e-7, abs=1e-6)
    assert solution.extra["solver_objective"] == pytest.approx(reference, rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_the_plan_replayed_through_the_environment_has_the_lp_objective(seed):
    scenario = random_knobs(seed, masked=seed % 2 == 0, n_models=3)
    solution = EGLBOffline().solve(scenario)
    played = rollout(Replay(solution, "eglb-off"), scenario)
    assert played.metrics.J == pytest.approx(solution.objective, rel=1e-9, abs=1e-7)
    assert -played.returns == pytest.approx(solution.objective, rel=1e-9, abs=1e-7)
    assert played.metrics.unfinished == pytest.approx(float(solution.knobs.unfinished.sum()), abs=1e-7)


def test_pools_split_back_into_each_jobs_own_limits():
    scenario = random_knobs(3, n_jobs=6)
    plan = EGLBOffline().solve(scenario).knobs
    jobs = scenario.jobs
    done = np.zeros(jobs.count)
    for t in range(scenario.n_hours):
        ids, work = plan.job_work_at(t)
        assert (work >= 0).all()
        assert (work.sum(axis=1) <= jobs.max_power[ids] * (1 + 1e-9) + 1e-12).all()
        assert (jobs.release[ids] <= t).all() and (jobs.deadline[ids] > t).all()
        assert not (work > 1e-12)[~jobs.regions[ids]].any()
        done[ids] += work.sum(axis=1)
    np.testing.assert_allclose(done + plan.unfinished, jobs.energy, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_no_jobs_and_one_model_is_the_core_model_exactly(seed):
    scenario = random_scenario(seed)
    empty = Jobs((), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros((0, scenario.n_regions), bool), np.zeros(0))
    single = ModelChoice(("only",), [1.0], [70.0], target=60.0)
    knobless = scenario.with_changes(jobs=empty, models=single)
    assert not knobless.flexible
    core, same = EGLBOffline().solve(scenario), EGLBOffline().solve(knobless)
    assert same.objective == core.objective
    np.testing.assert_array_equal(same.energy, core.energy)
    assert same.knobs is None


def test_the_accuracy_target_holds_when_missing_it_costs_more_than_it_saves():
    scenario = random_knobs(5, n_jobs=2, negative_prices=False)
    models = scenario.models
    averages = {}
    for penalty in (0.0, 1e4):
        priced = scenario.with_changes(
            models=ModelChoice(models.names, models.energy, models.accuracy, models.target, models.share, penalty)
        )
        load = EGLBOffline().solve(priced).knobs.model_load_total()
        averages[penalty] = float(models.accuracy @ load / load.sum())
    assert averages[1e4] == pytest.approx(models.target, abs=1e-6)  # exactly at the target: smaller is cheaper
    assert averages[0.0] == pytest.approx(models.accuracy[1], abs=1e-6)  # free to miss it: the small model throughout


def test_jobs_that_cannot_all_fit_are_reported_by_name_and_amount():
    scenario = random_knobs(2, n_jobs=4)
    jobs = scenario.jobs
    assert least_unfinished(scenario).sum() == pytest.approx(0.0, abs=1e-6)
    check_deliverable(scenario)
    # Every job alone fits its window, but four copies of the largest in one region do not.
    m = int(np.argmax(jobs.energy / (jobs.deadline - jobs.release)))
    one = np.zeros((4, scenario.n_regions), dtype=bool)
    one[:, jobs.home[m]] = True
    room = float(scenario.capacity[jobs.home[m], jobs.release[m] : jobs.deadline[m]].sum())
    power = room / (jobs.deadline[m] - jobs.release[m])
    crowd = Jobs(
        tuple(f"big{k}" for k in range(4)),
        np.full(4, 0.9 * room),
        np.full(4, jobs.release[m]),
        np.full(4, jobs.deadline[m]),
        np.full(4, power),
        one,
        np.full(4, jobs.home[m]),
    )
    crowded = scenario.with_changes(jobs=crowd, models=None, workload=scenario.workload * 0)
    with pytest.raises(
        InputError, match=r"at least 2\.7 MWh must be left undone|at least .* MWh must be left undone.*'big"
    ) as info:
        check_deliverable(crowded, "jobs.csv")
    assert "jobs.csv" in str(info.value)
    assert least_unfinished(crowded).sum() == pytest.approx(4 * 0.9 * room - room, rel=1e-6)
