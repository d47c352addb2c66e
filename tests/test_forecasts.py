"""Forecasters: exact values, no peeking at the future, the env's observation, errors, the learned model's folder."""

from __future__ import annotations

import json

import gymnasium
import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecast, NoisyTruthForecaster, PerfectForecaster, input_rows
from eglb.envs.glb_env import GLBEnv
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts.accuracy import forecast_errors
from eglb.forecasts.learned import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    LearnedForecasterConfig,
    load_learned_forecaster,
    train_learned_forecaster,
)
from eglb.forecasts.naive import PersistenceForecaster, SeasonalNaiveForecaster
from eglb.forecasts.spec import build_forecaster
from helpers import random_scenario

TINY = LearnedForecasterConfig(history_hours=48, horizon=12, hidden=(16,), steps=60, batch_size=64, max_samples=4000)


@pytest.fixture(scope="module")
def tiny_learned():
    return train_learned_forecaster([make_synthetic(1000, hours=200), make_synthetic(1001, hours=150, setting="partial")], TINY)


def rows_of(scenario):
    return input_rows(scenario, 0, scenario.n_hours)  # [T, 3N + J]


# ------------------------------------------------------------------------------------ exact values
def test_perfect_forecast_is_the_truth_and_repeats_the_last_hour():
    scenario = random_scenario(1, hours=10)
    truth = rows_of(scenario)
    got = PerfectForecaster().predict(scenario, 6, 5, None)
    np.testing.assert_array_equal(got, truth[[7, 8, 9, 9, 9]])
    forecast = PerfectForecaster().forecast(scenario, 2, 3)
    assert isinstance(forecast, Forecast)
    np.testing.assert_array_equal(forecast.price, scenario.price[:, 3:6])
    np.testing.assert_array_equal(forecast.carbon, scenario.carbon[:, 3:6])
    np.testing.assert_array_equal(forecast.water, scenario.water[:, 3:6])
    np.testing.assert_array_equal(forecast.workload, scenario.workload[:, 3:6])


def test_persistence_and_seasonal_naive_copy_the_right_past_hours():
    scenario = make_synthetic(3, hours=400)
    truth = rows_of(scenario)
    t, horizon = 200, 60
    np.testing.assert_array_equal(PersistenceForecaster().predict(scenario, t, horizon, None), np.repeat(truth[[t]], horizon, 0))
    daily = SeasonalNaiveForecaster(24).predict(scenario, t, horizon, None)
    weekly = SeasonalNaiveForecaster(168).predict(scenario, t, horizon, None)
    for k in range(1, horizon + 1):
        yesterday = t + k - 24 * ((k + 23) // 24)  # the latest hour <= t at the same hour of day
        np.testing.assert_array_equal(daily[k - 1], truth[yesterday])
        np.testing.assert_array_equal(weekly[k - 1], truth[t + k - 168])
    # Too little history for a week: a day back instead; for a day: the current hour.
    np.testing.assert_array_equal(SeasonalNaiveForecaster(168).predict(scenario, 30, 1, None)[0], truth[31 - 24])
    np.testing.assert_array_equal(SeasonalNaiveForecaster(24).predict(scenario, 5, 2, None), truth[[5, 5]])


def test_predict_episode_stacks_the_hourly_forecasts(tiny_learned):
    scenario = make_synthetic(7, hours=120, setting="partial")
    for forecaster in (PersistenceForecaster(), SeasonalNaiveForecaster(24), SeasonalNaiveForecaster(168), tiny_learned):
        batch = forecaster.predict_episode(scenario, 20, 30, 15, None)
        for k in (0, 7, 29):
            np.testing.assert_allclose(batch[k], forecaster.predict(scenario, 20 + k, 15, None), rtol=1e-6, atol=1e-9)


def test_noisy_truth_has_the_documented_noise_and_draws_in_order():
    scenario = make_synthetic(2, hours=300)
    forecaster = NoisyTruthForecaster(0.05)
    values = forecaster.predict_episode(scenario, 0, 250, 9, np.random.default_rng(4))
    truth = PerfectForecaster().predict_episode(scenario, 0, 250, 9)
    relative = values / truth - 1.0
    for lead in (1, 4, 9):
        assert relative[:, lead - 1].std() == pytest.approx(0.05 * np.sqrt(lead), rel=0.05)
        assert abs(relative[:, lead - 1].mean()) < 0.01 * np.sqrt(lead)
    # Hour by hour from one generator draws the same numbers as the whole episode at once.
    rng = np.random.default_rng(4)
    for k in range(3):
        np.testing.assert_array_equal(forecaster.predict(scenario, k, 9, rng), values[k])
    with pytest.raises(InputError, match="needs a random generator"):
        forecaster.predict(scenario, 0, 3, None)
    with pytest.raises(InputError, match="forecast noise"):
        NoisyTruthForecaster(-0.1)


# ------------------------------------------------------------------------------------ no peeking
def perturbed_future(scenario, t, seed=0):
    """The same scenario with every input of hours > t changed (still a valid scenario)."""
    rng = np.random.default_rng(seed)
    future = np.arange(scenario.n_hours) > t

    def change(values, factor):
        return np.where(future, values * factor, values)

    return scenario.with_changes(
        price=np.where(future, scenario.price + rng.normal(0, 50, scenario.price.shape), scenario.price),
        carbon=change(scenario.carbon, rng.uniform(0.2, 3, scenario.carbon.shape)),
        water=change(scenario.water, rng.uniform(0.2, 3, scenario.water.shape)),
        workload=change(scenario.workload, rng.uniform(0.1, 1, scenario.workload.shape)),
    )


@pytest.mark.parametrize("t", [0, 5, 23, 40, 170, 230])
def test_forecasters_never_read_the_hours_they_predict(t, tiny_learned):
    scenario = make_synthetic(11, hours=260, setting="partial")
    changed = perturbed_future(scenario, t, seed=t)
    assert not np.array_equal(rows_of(changed)[t + 1 :], rows_of(scenario)[t + 1 :])
    for forecaster in (PersistenceForecaster(), SeasonalNaiveForecaster(24), SeasonalNaiveForecaster(168), tiny_learned):
        assert not forecaster.clairvoyant
        np.testing.assert_array_equal(forecaster.predict(changed, t, 25, None), forecaster.predict(scenario, t, 25, None))
        start = max(0, t - 3)
        np.testing.assert_array_equal(
            forecaster.predict_episode(changed, start, t - start + 1, 25, None),
            forecaster.predict_episode(scenario, start, t - start + 1, 25, None),
        )
    # The oracles do read them (and say so): the perturbation is visible to a forecast that peeks.
    assert PerfectForecaster.clairvoyant and NoisyTruthForecaster.clairvoyant
    assert not np.array_equal(
        PerfectForecaster().predict(changed, t, 25, None), PerfectForecaster().predict(scenario, t, 25, None)
    )


# ------------------------------------------------------------------------------------ the environment
def old_forecast_rows(scenario, start, hours, forecast_hours, noise, rng, scale):
    """The environment's forecast block before forecasters existed (envs/observation.py at a38455b)."""
    stop = min(scenario.n_hours, start + hours + forecast_hours)
    seen = slice(start, stop)
    inputs = np.concatenate(
        [
            scenario.price[:, seen] / scale.price,
            scenario.carbon[:, seen] / scale.carbon,
            scenario.water[:, seen] / scale.water,
            scenario.workload[:, seen] / scale.workload,
        ]
    )
    lead = np.arange(1, forecast_hours + 1)
    hours_ahead = np.minimum(np.arange(hours)[:, None] + lead[None, :], stop - start - 1)
    values = inputs[:, hours_ahead].transpose(1, 2, 0)
    if noise > 0:
        values = values * (1.0 + rng.standard_normal(values.shape) * (noise * np.sqrt(lead))[None, :, None])
    return values.reshape(hours, -1).astype(np.float32)


@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_env_forecast_observation_is_unchanged_by_default(noise):
    scenario = make_synthetic(5, hours=40, setting="partial")
    env = GLBEnv(scenario, episode_hours=30, forecast_hours=5, forecast_noise=noise, action_mode="dual")
    n, j = scenario.n_regions, scenario.n_gateways
    begin, width = 4 * n + j + 3, 5 * (3 * n + j)
    obs, _ = env.reset(seed=9, options={"start": 10})
    expected = old_forecast_rows(scenario, 10, 30, 5, noise, gymnasium.utils.seeding.np_random(9)[0], env.observation_scale)
    env.action_space.seed(0)
    for k in range(30):
        np.testing.assert_allclose(obs[begin : begin + width], expected[k], rtol=2e-7, atol=0)
        obs, *_ = env.step(env.action_space.sample())


def test_env_observes_the_given_forecaster():
    scenario = make_synthetic(6, hours=48)
    env = GLBEnv(scenario, forecast_hours=3, forecaster=PersistenceForecaster())
    scale = env.observation_scale
    n, j = scenario.n_regions, scenario.n_gateways
    begin = 4 * n + j + 3
    obs, _ = env.reset(options={"start": 0})
    for t in range(4):
        forecast = obs[begin : begin + 3 * (3 * n + j)].reshape(3, 3 * n + j)
        np.testing.assert_allclose(forecast[:, :n], np.repeat(scenario.price[None, :, t] / scale.price, 3, 0), rtol=1e-6)
        np.testing.assert_allclose(
            forecast[:, 3 * n :], np.repeat(scenario.workload[None, :, t] / scale.workload, 3, 0), rtol=1e-6
        )
        obs, *_ = env.step(env.action_space.sample())
    with pytest.raises(InputError, match="either 'forecast_noise'"):
        GLBEnv(scenario, forecast_hours=3, forecast_noise=0.1, forecaster=PersistenceForecaster())
    with pytest.raises(InputError, match="must be an eglb.envs.forecast.Forecaster"):
        GLBEnv(scenario, forecast_hours=3, forecaster="persistence")


# ------------------------------------------------------------------------------------ errors
def test_forecast_errors_match_a_direct_computation():
    scenario = random_scenario(4, n_regions=3, n_gateways=2, hours=30, negative_prices=True)
    errors = forecast_errors(PersistenceForecaster(), [scenario], horizon=4, first_hour=5)
    truth = rows_of(scenario)
    lead = 3
    made = np.arange(5, 30 - 4)  # every forecast hour with a full horizon
    f, y = truth[made], truth[made + lead]
    price = np.abs(f[:, :3] - y[:, :3]).sum() / np.abs(y[:, :3]).sum()
    carbon = np.mean(np.abs(f[:, 3:6] - y[:, 3:6]) / y[:, 3:6])
    assert errors.at("price", lead) == pytest.approx(price, rel=1e-12)
    assert errors.at("carbon", lead) == pytest.approx(carbon, rel=1e-12)
    assert errors.forecasts == made.size
    perfect = forecast_errors(PerfectForecaster(), [scenario], horizon=4, first_hour=5)
    assert all(np.all(perfect.error[s] == 0) for s in perfect.error)
    with pytest.raises(InputError, match="too short"):
        forecast_errors(PerfectForecaster(), [scenario], horizon=30)


def test_every_measure_matches_a_direct_computation_on_any_series_subset(monkeypatch):
    import eglb.forecasts.accuracy as accuracy

    monkeypatch.setattr(accuracy, "CHUNK_HOURS", 7)  # several chunks, one of them short
    scenarios = [random_scenario(seed, n_regions=3, n_gateways=2, hours=40, negative_prices=True) for seed in (5, 6)]
    scenarios[0] = scenarios[0].with_changes(price=np.where(np.arange(40) % 9 == 0, 0.0, scenarios[0].price))
    errors = forecast_errors(SeasonalNaiveForecaster(24), scenarios, horizon=5, first_hour=24)
    lead, chosen = 4, ["r0", "r2"]
    f_all, y_all = [], []
    for scenario in scenarios:
        truth = rows_of(scenario)
        made = np.arange(24, 40 - 5)
        f_all.append(SeasonalNaiveForecaster(24).predict_episode(scenario, 24, made.size, 5, None)[:, lead - 1])
        y_all.append(truth[made + lead])
    f, y = np.concatenate(f_all), np.concatenate(y_all)
    price_f, price_y = f[:, [0, 2]], y[:, [0, 2]]
    both_zero = (price_f == 0) & (price_y == 0)
    smape = np.where(both_zero, 0.0, np.abs(price_f - price_y) / ((np.abs(price_f) + np.abs(price_y)) / 2 + both_zero))
    assert errors.measure("price", "sMAPE", chosen)[lead - 1] == pytest.approx(smape.mean(), rel=1e-12)
    assert errors.measure("price", "MAE", chosen)[lead - 1] == pytest.approx(np.abs(price_f - price_y).mean(), rel=1e-12)
    assert errors.measure("price", "scaled MAE")[lead - 1] == pytest.approx(
        np.abs(f[:, :3] - y[:, :3]).sum() / np.abs(y[:, :3]).sum(), rel=1e-12
    )
    carbon = np.abs(f[:, 3:6] - y[:, 3:6]) / y[:, 3:6]
    assert errors.measure("carbon", "MAPE")[lead - 1] == pytest.approx(carbon.mean(), rel=1e-12)
    assert errors.at("carbon", lead) == errors.measure("carbon", "MAPE")[lead - 1]
    assert errors.measure("workload", "MAE", ["g1"])[lead - 1] == pytest.approx(np.abs(f[:, 10] - y[:, 10]).mean(), rel=1e-12)
    assert errors.forecasts == 2 * 11
    with pytest.raises(InputError, match="no price series named 'r9'"):
        errors.measure("price", "MAE", ["r9"])
    with pytest.raises(InputError, match="same regions and gateways"):
        forecast_errors(PersistenceForecaster(), [scenarios[0], random_scenario(1, n_regions=2, hours=40)], horizon=2)


# ------------------------------------------------------------------------------------ learned
def test_learned_forecaster_round_trips_through_its_folder(tiny_learned, tmp_path):
    folder = tiny_learned.save(tmp_path / "forecaster")
    document = json.loads((folder / CONFIG_FILE).read_text())
    assert document["format_version"] == 1 and document["config"]["history_hours"] == 48
    assert document["training"]["scenarios"] == ["synthetic seed 1000 full", "synthetic seed 1001 partial"]
    loaded = load_learned_forecaster(folder)
    scenario = make_synthetic(3, hours=100)
    np.testing.assert_array_equal(loaded.predict(scenario, 60, 30, None), tiny_learned.predict(scenario, 60, 30, None))
    values = loaded.predict_episode(scenario, 0, 100, 30, None)
    assert np.all(values[:, :, 10:] >= 0)  # intensities and workloads
    # Beyond the trained horizon of 12 the last predicted day (here: all 12 hours) repeats.
    np.testing.assert_array_equal(values[:, 12:24], values[:, 0:12])
    assert build_forecaster("learned", {"model": str(folder)}).config == loaded.config


def test_learned_forecaster_folder_errors(tiny_learned, tmp_path):
    with pytest.raises(InputError, match="holds no learned forecaster"):
        load_learned_forecaster(tmp_path)
    folder = tiny_learned.save(tmp_path / "f")
    document = json.loads((folder / CONFIG_FILE).read_text())
    (folder / CONFIG_FILE).write_text(json.dumps(dict(document, format_version=99)))
    with pytest.raises(InputError, match="format_version 99 is not supported"):
        load_learned_forecaster(folder)
    (folder / CONFIG_FILE).write_text(json.dumps(dict(document, config=dict(document["config"], hidden=[8]))))
    with pytest.raises(InputError, match="do not fit the configuration"):
        load_learned_forecaster(folder)
    (folder / CONFIG_FILE).write_text("{not json")
    with pytest.raises(InputError, match="is not valid JSON: line 1"):
        load_learned_forecaster(folder)
    (folder / CONFIG_FILE).write_text(json.dumps(document))
    (folder / WEIGHTS_FILE).unlink()
    with pytest.raises(InputError, match="weights.pt not found"):
        load_learned_forecaster(folder)
    with pytest.raises(InputError, match="needs at least history_hours"):
        train_learned_forecaster([make_synthetic(1000, hours=50)], TINY)


@pytest.mark.slow
def test_learned_forecaster_beats_persistence_on_held_out_traces():
    learned = train_learned_forecaster([make_synthetic(seed, hours=2190) for seed in range(1000, 1004)])
    held_out = [make_synthetic(seed, hours=700) for seed in (0, 1)]
    ours = forecast_errors(learned, held_out, horizon=24)
    persistence = forecast_errors(PersistenceForecaster(), held_out, horizon=24)
    for signal in ("price", "carbon", "water", "workload"):
        assert ours.mean(signal, 24) < persistence.mean(signal, 24), signal


def test_training_command_writes_a_loadable_folder(tmp_path, capsys):
    from eglb.forecasts.train import main

    assert main(["--out", str(tmp_path / "fc"), "--seeds", "1000:1001", "--hours", "260", "--steps", "3"]) == 0
    assert load_learned_forecaster(tmp_path / "fc").training["scenarios"] == ["synthetic seed 1000 full"]
    assert main(["--out", str(tmp_path / "bad"), "--seeds", "5:7"]) == 2
    assert "training seeds must be a non-empty range at or above 1000" in capsys.readouterr().err


def test_forecaster_names_and_parameters():
    assert build_forecaster("noisy", {"noise": "0.3"}).noise == 0.3
    assert build_forecaster("seasonal", {"period": "168"}).name == "seasonal-week"
    assert build_forecaster("perfect").name == "perfect"
    with pytest.raises(InputError, match="unknown forecaster 'oracle'"):
        build_forecaster("oracle")
    with pytest.raises(InputError, match="takes no parameter period"):
        build_forecaster("noisy", {"period": "24"})
    with pytest.raises(InputError, match="noise='high': expected a number"):
        build_forecaster("noisy", {"noise": "high"})
    with pytest.raises(InputError, match="needs model=FOLDER"):
        build_forecaster("learned")
    with pytest.raises(InputError, match="forecast hour t=12"):
        PersistenceForecaster().forecast(random_scenario(0), 12, 3)


def test_learned_policies_see_the_forecaster_they_were_trained_with():
    """A run's env.forecaster reaches its training environment and its policy at evaluation alike."""
    from eglb.agents.base import HourView
    from eglb.agents.learned import LearnedPolicy
    from eglb.envs.glb_env import GLBEnv
    from eglb.envs.metrics import FootprintState
    from eglb.forecasts.naive import SeasonalNaiveForecaster
    from eglb.training.config import EnvConfig, RunConfig, policy_io

    scenario = make_synthetic(2, hours=96)
    config = RunConfig("bc", env=EnvConfig(forecast_hours=4, forecaster="seasonal", reward="J")).for_scenario(scenario)
    io = policy_io(config)
    assert io.forecaster == "seasonal"
    policy = LearnedPolicy(lambda obs: np.zeros(20), io, "probe")
    policy.reset(scenario)
    env = GLBEnv(scenario, forecast_hours=4, forecaster=SeasonalNaiveForecaster(), observation_scale=config.observation_scale)
    obs, _ = env.reset(seed=0)
    for t in range(30):
        view = HourView(scenario, t, FootprintState(env.state.cost, env.state.footprint.copy()))
        np.testing.assert_array_equal(policy.observe(view), obs)
        obs, *_ = env.step(env.action_space.sample())
    with pytest.raises(InputError, match="exclude each other"):
        EnvConfig(forecaster="seasonal", forecast_noise=0.1)
