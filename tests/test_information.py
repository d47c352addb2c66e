"""Every row says what the algorithm knew and how long it took to decide; the default algorithm sets."""

from __future__ import annotations

import time

import numpy as np
import pytest
from eglb.agents.base import HourView, Policy
from eglb.agents.learned import LearnedPolicy, PolicyIO
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.observation import ObservationScale
from eglb.envs.synthetic import make_synthetic
from eglb.report.run import run_algorithm
from eglb.report.tables import result_rows
from eglb.robust.layer import RobustPolicy
from helpers import random_scenario

from eglb.evaluation import FORECAST_CONTROLLERS, SEASONAL_CONTROLLERS, EvaluationConfig, default_algos, evaluate
from eglb.registry import CLASSICAL, AlgorithmOptions, build
from eglb.scenarios import ScenarioConfig

MARKET_RHC = "rhc:w=12,forecaster=market,base=seasonal,tail=seasonal"


@pytest.mark.parametrize(
    "spec, information",
    [
        ("glb-cost", "present only"),
        ("glb-carbon", "present only"),
        ("glb-water", "present only"),
        ("glb-dist", "present only"),
        ("eglb", "present only"),
        ("eglb-off", "oracle: hindsight (the whole episode)"),
        (MARKET_RHC, "published prices + seasonal-day forecasts, 12 h window"),
        ("afhc:w=6,forecaster=market,base=persistence", "published prices + persistence forecasts, 6 h window"),
        ("rhc:w=24,forecaster=seasonal,period=168", "seasonal-week forecasts, 24 h window"),
        ("rhc:w=72,forecaster=perfect,tail=prorate", "oracle: perfect forecasts, 72 h window"),
        ("rhc:w=24,forecaster=noisy,noise=0.1", "oracle: noisy(0.1) forecasts, 24 h window"),
        ("rhc:w=24,forecaster=market,base=perfect", "oracle: published prices + perfect forecasts, 24 h window"),
        ("robust(glb-cost,lambda=0.1)", "present only"),
        (f"robust({MARKET_RHC},lambda=0.1)", "published prices + seasonal-day forecasts, 12 h window"),
    ],
)
def test_every_algorithm_says_what_it_knows(spec, information):
    assert build(spec, AlgorithmOptions()).information == information


def test_learned_policies_say_what_their_observation_shows():
    scenario = make_synthetic(0, hours=24)
    scale = ObservationScale.from_scenario(scenario)
    shape = (scenario.n_regions, scenario.n_gateways)

    def policy(**io):
        return LearnedPolicy(lambda obs: np.zeros(2 * shape[0]), PolicyIO(scale, shape, **io), "learned")

    assert policy().information == "present only"
    assert policy(forecast_hours=24).information == "oracle: perfect forecasts, 24 h window"  # the default truth
    assert policy(forecast_hours=24, forecast_noise=0.1).information == "oracle: noisy(0.1) forecasts, 24 h window"
    assert policy(forecast_hours=12, forecaster="market").information == "published prices + seasonal-day forecasts, 12 h window"
    assert RobustPolicy(policy(forecast_hours=6, forecaster="persistence")).information == "persistence forecasts, 6 h window"


class Sleeper(Policy):
    """Routes like GLB-Cost after sleeping: a known decision time."""

    name = "sleeper"
    pause = 0.004

    def reset(self, scenario):
        super().reset(scenario)
        time.sleep(self.pause)

    def act(self, view: HourView) -> np.ndarray:
        time.sleep(self.pause)
        return self.router.cheapest(view.scenario.price[:, view.t], view.t)


def test_decision_time_counts_reset_and_every_act_and_nothing_else():
    scenario = random_scenario(2, hours=20)
    episode = rollout(Sleeper(), scenario)
    assert (scenario.n_hours + 1) * Sleeper.pause <= episode.decision_seconds < episode.seconds
    result = run_algorithm("sleeper", Sleeper(), scenario)
    row = result_rows([result], scenario, offline_J=result.metrics.J)[0]
    assert row["ms_per_hour"] == pytest.approx(1000 * result.decision_seconds / scenario.n_hours)
    assert row["ms_per_hour"] >= 1000 * Sleeper.pause * (scenario.n_hours + 1) / scenario.n_hours
    assert row["information"] == "not declared"  # a policy of one's own that does not say
    offline = run_algorithm("eglb-off", build("eglb-off"), scenario)
    solve = offline.extra["solver_seconds"]
    assert solve <= offline.decision_seconds < offline.seconds  # the offline solve, not its replay


def test_the_default_set_has_rhc_and_afhc_with_the_information_there_is():
    assert default_algos([make_synthetic(0, hours=24)]) == (*CLASSICAL, *FORECAST_CONTROLLERS)
    assert default_algos([random_scenario(0)]) == (*CLASSICAL, *SEASONAL_CONTROLLERS)  # regions r0.. have no market
    assert all("forecaster=seasonal" in spec and "market" not in spec for spec in SEASONAL_CONTROLLERS)
    result = evaluate(EvaluationConfig(scenario=ScenarioConfig(synthetic=(3, 4), synthetic_hours=30)))
    assert [r["algo"] for r in result.summary] == [*CLASSICAL, *FORECAST_CONTROLLERS]
    for row in result.summary:
        assert row["information"] == build(row["algo"]).information and row["ms_per_hour"] > 0
    rhc = next(r for r in result.summary if r["algo"] == FORECAST_CONTROLLERS[0])
    assert rhc["ratio_to_offline"] < next(r for r in result.summary if r["algo"] == "glb-cost")["ratio_to_offline"]


def test_a_benchmark_on_regions_without_markets_fails_before_the_first_window(small_history):
    from eglb.benchmark import BenchmarkConfig, benchmark

    scenario = ScenarioConfig(traces=str(small_history), regions=str(small_history / "my_regions.csv"), years="2021")
    with pytest.raises(InputError, match="no market rule for region 'Dallas'.*columns market and published"):
        benchmark(BenchmarkConfig(EvaluationConfig(scenario=scenario), window_hours=24, windows=(0,)))
