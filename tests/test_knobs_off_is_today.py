"""With no jobs and one model every algorithm gives today's results exactly (issue 21).

"Today" is the code path of a scenario without knobs: the classes that existed before the knobs
(EGLBOnline, RobustPolicy, the window controllers on the core model) on the plain scenario. The
knob-aware versions the registry builds now (EGLBKnobs, KnobRobustPolicy, the knob baselines) run on
the same scenario given an empty job list and a single model; J, the energy and the return must be
equal to the last bit, not approximately.
"""

from __future__ import annotations

import numpy as np
import pytest
from eglb.agents.base import OfflineSolver
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.replay import Replay
from eglb.agents.rollout import rollout
from eglb.envs.flexibility import Jobs, ModelChoice
from eglb.robust.layer import RobustPolicy

from eglb.registry import AlgorithmOptions, build
from tests.helpers import random_scenario

#: Every algorithm of the registry (classical, knob baselines, forecast control, the layer), with
#: the policy "today" played on the plain scenario (None: the same spec, which has no knob-specific class).
TODAY = {
    "glb-cost": None,
    "glb-carbon": None,
    "glb-water": None,
    "glb-dist": None,
    "eglb-off": None,
    "eglb": lambda: EGLBOnline(),
    "run-now": lambda: EGLBOnline(),
    "always-large": lambda: EGLBOnline(),
    "defer-cheapest": lambda: EGLBOnline(),
    "rhc:w=4": None,
    "afhc:w=3": None,
    "robust(eglb-off,lambda=0.1)": lambda: RobustPolicy(build("eglb-off"), lam=0.1),
    "robust(glb-cost,lambda=0.5,b=10)": None,
}


def _knobless(scenario):
    n = scenario.n_regions
    empty = Jobs((), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros((0, n), bool), np.zeros(0))
    return scenario.with_changes(jobs=empty, models=ModelChoice(("only",), [1.0], [70.0], target=60.0))


def _play(policy, scenario):
    if isinstance(policy, OfflineSolver):
        policy = Replay(policy.solve(scenario), "offline")
    return rollout(policy, scenario)


@pytest.mark.parametrize("spec", list(TODAY))
@pytest.mark.parametrize("seed", [0, 1])
def test_no_jobs_and_one_model_give_todays_result_exactly(spec, seed):
    scenario = random_scenario(seed, masked=seed == 1)
    knobless = _knobless(scenario)
    assert not knobless.flexible
    # GLB-Dist's nearest region of each gateway: its first allowed one (the gateways are not named after regions).
    options = AlgorithmOptions(nearest=tuple(scenario.regions[k] for k in scenario.mask.argmax(axis=0)))
    today = (TODAY[spec] or (lambda: build(spec, options)))()
    before, after = _play(today, scenario), _play(build(spec, options), knobless)
    assert after.metrics.J == before.metrics.J
    assert after.returns == before.returns
    np.testing.assert_array_equal(after.energy, before.energy)
    assert after.metrics.transfer_cost == 0.0 and after.metrics.unfinished == 0.0


def test_the_knobs_do_change_the_result_when_there_are_jobs():
    """The comparison above can fail: one job that must run changes J (so equality is not vacuous)."""
    scenario = random_scenario(0, masked=False)
    n = scenario.n_regions
    one = Jobs(("a",), [0.5], [0], [scenario.n_hours], [0.5], np.ones((1, n), bool), [0])
    with_job = scenario.with_changes(jobs=one, capacity=scenario.capacity + 0.5)
    assert with_job.flexible
    plain = _play(build("eglb"), scenario.with_changes(capacity=scenario.capacity + 0.5))
    assert _play(build("eglb"), with_job).metrics.J > plain.metrics.J
