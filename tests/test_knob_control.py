"""RHC and AFHC with deferrable jobs and model choice in their window LP."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from eglb.agents.offline import EGLBOffline
from eglb.agents.rhc import controller_from_spec
from eglb.agents.rollout import rollout

from tests.helpers import random_knobs


def _released_at_start(scenario):
    return scenario.with_changes(jobs=replace(scenario.jobs, release=np.zeros(scenario.jobs.count, dtype=int)))


@pytest.mark.parametrize("seed", range(3))
def test_rhc_with_perfect_forecasts_over_the_whole_horizon_attains_the_optimum(seed):
    scenario = _released_at_start(random_knobs(seed, n_jobs=5, masked=seed == 1, n_models=2))
    optimum = EGLBOffline().solve(scenario).objective
    played = rollout(controller_from_spec(f"rhc:w={scenario.n_hours},forecaster=perfect"), scenario)
    assert played.metrics.J == pytest.approx(optimum, rel=1e-7)


@pytest.mark.parametrize(
    "spec", ["rhc:w=3,forecaster=seasonal,tail=seasonal", "rhc:w=3,tail=prorate", "afhc:w=3,forecaster=persistence"]
)
def test_forecast_controllers_with_knobs_finish_their_jobs(spec):
    scenario = random_knobs(4, n_jobs=6, n_models=2, hours=10)
    played = rollout(controller_from_spec(spec), scenario)
    optimum = EGLBOffline().solve(scenario).objective
    assert played.metrics.J >= optimum * (1 - 1e-9)
    assert played.metrics.unfinished <= 1e-6
    assert -played.returns == pytest.approx(played.metrics.J, rel=1e-9)
    assert played.infos[-1]["solves"] >= scenario.n_hours
