"""The robustification layer once feasibility depends on the past: its bound, progress dominance, any ML proposal."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.base import Policy
from eglb.agents.knob_policies import EGLBKnobs
from eglb.agents.rollout import rollout
from eglb.envs.knob_state import HourDecision
from eglb.robust.knob_layer import KnobRobustPolicy
from eglb.robust.layer import Slack
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import random_knobs, random_scenario


class Adversary(Policy):
    """Random decisions: routings, model loads and job work anywhere (NaN and negatives included),
    often doing nothing for the jobs (deferring all of them)."""

    name = "adversary"

    def __init__(self, seed: int):
        super().__init__()
        self.seed = seed

    def reset(self, scenario):
        super().reset(scenario)
        self.rng = np.random.default_rng(self.seed)

    def act(self, view):
        s, t, rng = view.scenario, view.t, self.rng
        routing = rng.random(s.mask.shape) * s.mask
        routing *= s.workload[:, t] / np.maximum(routing.sum(axis=0), 1e-12)
        ids = view.knobs.pending(t)
        work = rng.exponential(0.3, (ids.size, s.n_regions)) * (rng.random() < 0.5)
        work[rng.random(work.shape) < 0.1] = np.nan
        load = rng.random((s.models.count, s.n_regions)) * (np.arange(s.models.count) > 0)[:, None] * 10
        return HourDecision(routing, load, ids, work)


class Watched(KnobRobustPolicy):
    """The layer, checking progress dominance at the start of every hour: the executed state (the
    environment's) has no job with more work left than the shadow expert's."""

    def act(self, view):
        if getattr(self, "knobs_on", False) and view.t > 0:
            excess = view.knobs.remaining - self.shadow_knobs.remaining
            self.worst_excess = max(getattr(self, "worst_excess", 0.0), float(excess.max(initial=0.0)))
        return super().act(view)


@given(seed=st.integers(0, 1000), lam=st.sampled_from([0.0, 0.05, 0.5]), b=st.sampled_from([0.0, 50.0]))
def test_the_layer_keeps_its_bound_and_the_experts_progress_against_any_proposal(seed, lam, b):
    scenario = random_knobs(seed % 5, n_jobs=5, masked=seed % 2 == 0, n_models=2)
    layer = Watched(Adversary(seed), lam=lam, slack=Slack(b, "sqrt"))
    played = rollout(layer, scenario)
    # Progress dominance after every hour, not only at the end.
    assert getattr(layer, "worst_excess", 0.0) <= 1e-9
    expert = rollout(EGLBKnobs(), scenario)
    for info in played.infos:
        assert info["delta"] <= info["budget"] + 1e-7 * max(1.0, info["budget"])
        assert info["J"] <= info["bound"] + 1e-7 * max(1.0, info["bound"])
    # The shadow expert is eGLB itself: its J (shifted back by the floor times its energy) is eGLB's.
    floor = layer.price_floor
    assert layer.summary()["expert_J"] == pytest.approx(expert.metrics.J, rel=1e-9)
    assert layer.expert_energy_total == pytest.approx(expert.energy.sum(), rel=1e-12)
    shifted_expert = expert.metrics.J - floor * expert.energy.sum()
    slack = Slack(b, "sqrt").at(scenario.n_hours)
    assert played.metrics.J - floor * played.energy.sum() <= (1 + lam) * shifted_expert + slack + 1e-7 * shifted_expert
    assert played.metrics.J <= layer.summary()["bound"] + 1e-7 * abs(shifted_expert)
    # Progress dominance: never more work left at a deadline than the expert leaves.
    assert played.metrics.unfinished <= expert.metrics.unfinished + 1e-9


class Recorder(Policy):
    """Plays ``inner`` and records each job's work left at the start of every hour."""

    def __init__(self, inner: Policy):
        super().__init__()
        self.inner, self.name, self.left = inner, inner.name, []

    def reset(self, scenario):
        super().reset(scenario)
        self.inner.reset(scenario)

    def act(self, view):
        self.left.append(view.knobs.remaining.copy())
        return self.inner.act(view)


def test_the_adversary_alone_falls_behind_the_expert_so_dominance_is_not_free():
    """Played alone, the adversary has some job with more work left than eGLB at some hour: the
    per-hour dominance the layer keeps is a real constraint on what it plays."""
    excess = 0.0
    for seed in range(3):
        scenario = random_knobs(seed, n_jobs=5, n_models=2)
        alone, expert = Recorder(Adversary(seed)), Recorder(EGLBKnobs())
        rollout(alone, scenario), rollout(expert, scenario)
        excess = max(excess, max(float((a - e).max(initial=0.0)) for a, e in zip(alone.left, expert.left)))
    assert excess > 1e-3


def test_the_layer_lets_a_good_proposal_act_and_is_the_plain_layer_without_knobs():
    scenario = random_knobs(1, n_jobs=5)
    free = rollout(KnobRobustPolicy(EGLBKnobs(jobs="now"), lam=10.0), scenario)
    assert np.mean([i["theta"] for i in free.infos]) > 0.9
    plain = random_scenario(1)
    from eglb.agents.baselines import glb_cost
    from eglb.robust.layer import RobustPolicy

    a = rollout(KnobRobustPolicy(glb_cost(), lam=0.1), plain)
    b = rollout(RobustPolicy(glb_cost(), lam=0.1), plain)
    np.testing.assert_array_equal(a.energy, b.energy)
    assert a.metrics.J == b.metrics.J


def test_an_expert_other_than_eglb_is_refused_on_a_scenario_with_knobs():
    from eglb.envs.errors import InputError

    from eglb.registry import build

    scenario = random_knobs(0, n_jobs=3)
    with pytest.raises(InputError, match=r"with deferrable jobs or model choice the layer's expert is eGLB.*'glb-cost'"):
        rollout(build("robust(eglb-off,lambda=0.1,expert=glb-cost)"), scenario)
    rollout(build("robust(eglb-off,lambda=0.1,expert=eglb)"), scenario)  # eGLB itself is accepted
