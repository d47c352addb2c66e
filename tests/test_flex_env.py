"""The environment with deferrable jobs and model choice: checkers, deadlines enforced on any action, the return is -J."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from eglb.agents.knob_policies import EGLBKnobs
from eglb.agents.offline import EGLBOffline
from eglb.agents.replay import Replay
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.flex_env import FlexGLBEnv, most_pending
from eglb.envs.flexibility import WORK_TOLERANCE
from eglb.envs.glb_env import GLBEnv
from eglb.envs.knob_state import HourDecision, KnobState
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from tests.helpers import random_knobs


@pytest.mark.parametrize("mode", ["routing", "dual", "share"])
def test_the_environment_passes_both_checkers(mode):
    scenario = random_knobs(1, n_jobs=4, hours=10)
    gym_check_env(FlexGLBEnv(scenario, action_mode=mode, render_mode="ansi"))
    sb3_check_env(FlexGLBEnv(scenario, action_mode=mode, episode_hours=6, random_start=True), warn=False)


def test_the_registered_id_and_the_spaces():
    scenario = random_knobs(2, n_jobs=5, n_models=3)
    env = gymnasium.make("GLB-Flex-v0", scenario=scenario, action_mode="dual", job_slots=3)
    inner = env.unwrapped
    n = scenario.n_regions
    assert env.action_space.shape == (2 * n + 3 + 1,)
    base = GLBEnv(scenario.with_changes(jobs=None, models=None)).observation_space.shape[0]
    assert env.observation_space.shape == (base + 3 * 7 + 2,)
    assert len(inner.observation_names) == env.observation_space.shape[0]
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape
    assert FlexGLBEnv(scenario).job_slots == most_pending(scenario)


def test_the_plain_environment_refuses_a_scenario_with_knobs():
    scenario = random_knobs(0)
    with pytest.raises(InputError, match="FlexGLBEnv"):
        GLBEnv(scenario)
    env = GLBEnv(scenario.with_changes(jobs=None, models=None))
    with pytest.raises(InputError, match="FlexGLBEnv"):
        env.reset(options={"scenario": scenario})


def _random_decision(rng: np.random.Generator, scenario, t: int, knobs: KnobState, hostile: bool) -> HourDecision:
    n, j = scenario.mask.shape
    routing = rng.random((n, j)) * scenario.mask
    routing *= scenario.workload[:, t] / np.maximum(routing.sum(axis=0), 1e-12)
    ids = np.concatenate([knobs.pending(t), rng.integers(-3, scenario.jobs.count + 3, 2)])
    work = rng.exponential(0.5, (ids.size, n))
    model_load = rng.random((scenario.models.count, n))
    if hostile:
        work[rng.random(work.shape) < 0.2] = np.nan
        work[rng.random(work.shape) < 0.1] = -1.0
        work[rng.random(work.shape) < 0.05] = np.inf
        model_load[0, 0] = np.nan
    return HourDecision(routing, model_load, ids, work)


@given(seed=st.integers(0, 10_000), hostile=st.booleans())
def test_every_executed_hour_is_feasible_and_keeps_each_job_finishable_or_reports_it(seed, hostile):
    scenario = random_knobs(seed % 7, n_jobs=6, masked=seed % 2 == 0)
    rng = np.random.default_rng(seed)
    env = FlexGLBEnv(scenario, action_mode="share", job_slots=0)
    env.reset(options={"start": 0})
    jobs, knobs = scenario.jobs, env.knobs
    done = np.zeros(jobs.count)
    reported = 0.0
    total_reward = 0.0
    for t in range(scenario.n_hours):
        before = knobs.remaining.copy()
        _, reward, _, _, info = env.step_decision(_random_decision(rng, scenario, t, knobs, hostile))
        total_reward += reward
        ids, work = info["jobs"], info["job_work"]
        assert np.isfinite(work).all() and (work >= 0).all()
        assert (work.sum(axis=1) <= jobs.max_power[ids] * (1 + 1e-12) + 1e-12).all()
        assert not work[~jobs.regions[ids]].any()
        assert ((jobs.release[ids] <= t) & (jobs.deadline[ids] > t)).all()
        assert (info["energy"] <= scenario.capacity[:, t] * (1 + 1e-9) + 1e-9).all()
        load = info["model_load"]
        np.testing.assert_allclose(load.sum(axis=0), scenario.models.share * info["routing"].sum(axis=1), rtol=1e-9, atol=1e-12)
        done[ids] += work.sum(axis=1)
        np.testing.assert_allclose(before - knobs.remaining, np.bincount(ids, work.sum(axis=1), jobs.count), atol=1e-12)
        # Every job still open can be finished alone, unless the hour's spare capacity in its regions ran out.
        open_ = np.flatnonzero((jobs.deadline > t + 1) & (jobs.release <= t) & (knobs.remaining > WORK_TOLERANCE))
        if open_.size:
            stuck = knobs.remaining[open_] > knobs.later(t, open_) + 1e-9
            spare = scenario.capacity[:, t] - info["energy"]
            for m in open_[stuck]:
                assert spare[jobs.regions[m]].max() <= 1e-9, f"job {m} left unfinishable with capacity to spare"
        reported += info["unfinished"]
    np.testing.assert_allclose(done + knobs.unfinished, jobs.energy, atol=1e-9)
    assert reported == pytest.approx(knobs.unfinished.sum(), abs=1e-12)
    assert -total_reward == pytest.approx(env._objective, rel=1e-12)


@pytest.mark.parametrize("rule", [{}, {"jobs": "now"}, {"jobs": "cheapest-hours"}, {"models": "large"}])
@pytest.mark.parametrize("seed", range(3))
def test_online_policies_keep_every_job_finishable_and_return_minus_j(rule, seed):
    scenario = random_knobs(seed, n_jobs=6, masked=seed == 1)
    played = rollout(EGLBKnobs(**rule), scenario)
    assert played.metrics.unfinished <= 1e-9
    assert -played.returns == pytest.approx(played.metrics.J, rel=1e-9)
    offline = EGLBOffline().solve(scenario).objective
    assert played.metrics.J >= offline * (1 - 1e-9)
    if rule.get("models") == "large":
        assert played.metrics.accuracy == scenario.models.accuracy[0]


def test_share_actions_carry_a_decision_exactly():
    scenario = random_knobs(4, n_jobs=5)
    plan = EGLBOffline().solve(scenario)
    replay = Replay(plan, "off")
    replay.reset(scenario)
    env = FlexGLBEnv(scenario, action_mode="share")
    env.reset(options={"start": 0})
    n, k = scenario.n_regions, scenario.models.count
    total = 0.0
    for t in range(scenario.n_hours):
        decision = replay.act(_view(scenario, t, env))
        queue = env._queue
        shares = np.zeros((env.job_slots, n))
        if decision.job_ids is not None:
            for q, m in enumerate(queue):
                hit = np.flatnonzero(decision.job_ids == m)
                if hit.size:
                    shares[q] = decision.job_work[hit[0]] / scenario.jobs.max_power[m]
        requests = decision.routing.sum(axis=1)
        model = np.divide(decision.model_load, scenario.models.share * requests, out=np.zeros((k, n)), where=requests > 0)
        routing_share = np.divide(
            decision.routing, scenario.workload[:, t], out=np.zeros_like(decision.routing), where=scenario.workload[:, t] > 0
        )
        action = np.concatenate([routing_share.ravel(), shares.ravel(), model.ravel()])
        _, reward, _, _, _ = env.step(action)
        total += reward
    assert -total == pytest.approx(plan.objective, rel=1e-9)


def _view(scenario, t, env):
    from eglb.agents.base import HourView

    return HourView(scenario, t, env.state, env.knobs)
