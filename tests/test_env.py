"""The Gymnasium environment: API conformance, exact return, feasibility, determinism, vector envs."""

from __future__ import annotations

import eglb.envs  # noqa: F401  (registers GLB-v0)
import gymnasium as gym
import numpy as np
import pytest
from eglb.envs.actions import action_from_dual, calibrated_price, shares_from_routing
from eglb.envs.errors import InputError
from eglb.envs.glb_env import GLBEnv
from eglb.envs.metrics import metrics_from_energy
from eglb.envs.routing import Router
from eglb.envs.synthetic import SyntheticSource, make_synthetic
from gymnasium.utils.env_checker import check_env as gym_check_env
from helpers import assert_feasible, random_scenario
from hypothesis import given
from hypothesis import strategies as st
from lp_reference import cheapest_hour_cost
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

MODES = ("routing", "dual", "share")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("setting", ["full", "partial"])
def test_passes_gymnasium_and_sb3_checkers(mode, setting):
    scenario = make_synthetic(0, hours=60, setting=setting)
    gym_check_env(GLBEnv(scenario, action_mode=mode, forecast_hours=3, forecast_noise=0.1, render_mode="ansi"))
    sb3_check_env(GLBEnv(scenario, action_mode=mode, episode_hours=24, random_start=True), warn=False)


def test_registered_id_makes_the_default_environment():
    env = gym.make("eglb.envs:GLB-v0")
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape == (8 * 10 + 10 + 3,)
    assert env.unwrapped.scenario.n_hours == 457
    env = gym.make("eglb.envs:GLB-v0", scenario=make_synthetic(1, hours=10), action_mode="dual", render_mode="ansi")
    env.reset(seed=1)
    env.step(env.action_space.sample())
    assert "Texas" in env.render()


def run_episode(env, actions):
    obs, _ = env.reset(seed=3)
    total, energies, done, k = 0.0, [], False, 0
    while not done:
        obs, reward, done, truncated, info = env.step(actions(env, k))
        assert not truncated
        total += reward
        energies.append(info["energy"])
        terms = info["energy_cost"] + info["water_penalty"] + info["carbon_penalty"]
        assert -reward / env.reward_scale == pytest.approx(terms, rel=1e-9, abs=1e-6)
        k += 1
    return total, np.array(energies).T, info


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("masked", [False, True])
def test_return_is_exactly_minus_J(mode, masked):
    scenario = random_scenario(21, n_regions=5, n_gateways=4, hours=30, masked=masked)
    env = GLBEnv(scenario, action_mode=mode)
    env.action_space.seed(0)
    total, energy, info = run_episode(env, lambda e, k: e.action_space.sample())
    J = metrics_from_energy(scenario, energy).J
    assert -total == pytest.approx(J, rel=1e-10)
    assert info["J"] == pytest.approx(J, rel=1e-12)


def test_reward_scale_scales_the_return():
    scenario = make_synthetic(2, hours=24)
    rewards = []
    for scale in (1.0, 1e-4):
        env = GLBEnv(scenario, reward_scale=scale)
        env.action_space.seed(5)
        rewards.append(run_episode(env, lambda e, k: e.action_space.sample())[0])
    assert rewards[1] == pytest.approx(rewards[0] * 1e-4, rel=1e-12)


actions = st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=64)


@given(values=actions, mode=st.sampled_from(MODES), masked=st.booleans(), seed=st.integers(0, 50))
def test_every_action_gives_a_feasible_routing(values, mode, masked, seed):
    scenario = random_scenario(seed, n_regions=4, n_gateways=3, hours=4, masked=masked, slack=0.05)
    env = GLBEnv(scenario, action_mode=mode)
    env.reset(seed=seed)
    size = env.action_space.shape[0]
    for t in range(4):
        action = np.resize(np.array(values, dtype=np.float64), size)
        _, reward, _, _, info = env.step(action)
        assert np.isfinite(reward)
        assert_feasible(scenario, t, info["routing"])


def test_dual_action_routes_at_the_calibrated_prices():
    scenario = random_scenario(8, n_regions=5, n_gateways=4, hours=5, masked=True)
    env = GLBEnv(scenario, action_mode="dual")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for t in range(5):
        gamma_w, gamma_c = rng.random(5), rng.random(5)
        _, _, _, _, info = env.step(action_from_dual(gamma_w, gamma_c))
        q = calibrated_price(
            scenario.price[:, t],
            scenario.water[:, t],
            scenario.carbon[:, t],
            gamma_w,
            gamma_c,
            scenario.mu_water,
            scenario.mu_carbon,
        )
        assert q @ info["energy"] == pytest.approx(cheapest_hour_cost(scenario, t, q), rel=1e-9, abs=1e-9)


def test_share_action_replays_a_feasible_routing_exactly():
    scenario = random_scenario(12, masked=True)
    router = Router(scenario)
    env = GLBEnv(scenario, action_mode="share")
    env.reset()
    for t in range(scenario.n_hours):
        routing = router.cheapest(scenario.carbon[:, t], t)
        _, _, _, _, info = env.step(shares_from_routing(routing, scenario.workload[:, t]))
        np.testing.assert_allclose(info["routing"], routing, rtol=1e-15, atol=1e-15)


def test_observation_holds_inputs_time_and_equity_state():
    scenario = make_synthetic(4, hours=30)
    env = GLBEnv(scenario, forecast_hours=2)
    scale = env.observation_scale
    n, j = 10, 10
    obs, _ = env.reset(options={"start": 0})
    np.testing.assert_allclose(obs[:n], scenario.price[:, 0] / scale.price, rtol=1e-6)
    np.testing.assert_allclose(obs[3 * n : 3 * n + j], scenario.workload[:, 0] / scale.workload, rtol=1e-6)
    assert obs[4 * n + j + 2] == 1.0  # the whole episode is left
    forecast = obs[4 * n + j + 3 : 4 * n + j + 3 + 2 * (3 * n + j)].reshape(2, 3 * n + j)
    np.testing.assert_allclose(forecast[1, :n], scenario.price[:, 2] / scale.price, rtol=1e-6)
    weights = scenario.footprint_weights
    for _ in range(5):
        obs, _, _, _, _ = env.step(env.action_space.sample())
    state = env.state
    equity = obs[-4 * n :].reshape(4, n)
    expected = np.array(
        [weights[0] * state.water / (scale.footprint_water * 30), weights[1] * state.carbon / (scale.footprint_carbon * 30)]
    )
    np.testing.assert_allclose(equity[:2], expected, rtol=1e-5)
    np.testing.assert_allclose(equity[2:], expected.max(axis=1, keepdims=True) - expected, rtol=1e-5, atol=1e-7)
    assert obs[4 * n + j + 2] == pytest.approx(25 / 30)


def trajectory(env, seed, steps=15):
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [obs, info["start"]]
    for _ in range(steps):
        obs, reward, *_ = env.step(env.action_space.sample())
        out += [obs, reward]
    return out


def test_deterministic_for_a_seed_with_random_starts_sources_and_noise():
    make = lambda: GLBEnv(SyntheticSource(hours=48), episode_hours=20, random_start=True, forecast_hours=3, forecast_noise=0.2)  # noqa: E731
    a, b = trajectory(make(), 7), trajectory(make(), 7)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = trajectory(make(), 8)
    assert not np.array_equal(a[0], c[0])


def test_episodes_draw_windows_and_scenarios():
    scenarios = [make_synthetic(s, hours=40) for s in range(3)]
    env = GLBEnv(scenarios, episode_hours=10, random_start=True)
    seen_starts, seen_names = set(), set()
    for seed in range(30):
        _, info = env.reset(seed=seed)
        seen_starts.add(info["start"])
        seen_names.add(env.unwrapped.scenario.name)
    assert len(seen_starts) > 5 and len(seen_names) == 3
    env.reset(options={"start": 30})
    for _ in range(9):
        assert not env.step(env.action_space.sample())[2]
    assert env.step(env.action_space.sample())[2]
    with pytest.raises(gym.error.ResetNeeded):
        env.step(env.action_space.sample())
    with pytest.raises(InputError, match="start hour 35 leaves no room"):
        env.reset(options={"start": 35})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"action_mode": "teleport"}, "action mode must be one of"),
        ({"episode_hours": 0}, "'episode_hours' must be a positive integer"),
        ({"reward_scale": 0}, "'reward_scale' must be > 0"),
        ({"forecast_hours": -1}, "'forecast_hours' must be an integer >= 0"),
        ({"scenario": 5}, "argument 'scenario' must be"),
        ({"scenario": []}, "non-empty sequence"),
        ({"render_mode": "human"}, "render_mode must be one of"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        GLBEnv(**{"scenario": make_synthetic(0, hours=5), **kwargs})


def test_episode_longer_than_the_scenario_and_other_shapes_are_rejected():
    env = GLBEnv(make_synthetic(0, hours=5), episode_hours=6)
    with pytest.raises(InputError, match="longer than scenario"):
        env.reset()
    env = GLBEnv(make_synthetic(0, hours=5))
    with pytest.raises(InputError, match="this environment was built for 10 and 10"):
        env.reset(options={"scenario": random_scenario(0)})


def make_env():
    return GLBEnv(make_synthetic(0, hours=48), episode_hours=12, random_start=True)


@pytest.mark.parametrize("vector", ["gym-sync", "gym-async", "sb3-dummy", "sb3-subproc"])
def test_works_in_vector_environments(vector):
    if vector.startswith("gym"):
        cls = gym.vector.SyncVectorEnv if vector == "gym-sync" else gym.vector.AsyncVectorEnv
        venv = cls([make_env, make_env])
        obs, _ = venv.reset(seed=0)
        for _ in range(13):
            obs, reward, terminated, truncated, info = venv.step(venv.action_space.sample())
        assert obs.shape == (2, make_env().observation_space.shape[0]) and reward.shape == (2,)
    else:
        cls = DummyVecEnv if vector == "sb3-dummy" else SubprocVecEnv
        venv = cls([make_env, make_env])
        venv.seed(0)
        obs = venv.reset()
        for _ in range(13):
            obs, reward, done, info = venv.step(np.stack([venv.action_space.sample() for _ in range(2)]))
        assert obs.shape[0] == 2 and done.shape == (2,)
    venv.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", [None, 0.5, "left", [1.0, 2.0]])
def test_malformed_actions_say_what_is_expected(mode, action):
    env = GLBEnv(make_synthetic(0, hours=5), action_mode=mode)
    env.reset(seed=0)
    with pytest.raises(InputError, match=rf"{mode} action must be an array of shape \({env.action_space.shape[0]},\)"):
        env.step(action)


@pytest.mark.parametrize("action", [None, {"a": 1}, "left", [1.0, 2.0]])
def test_the_training_ids_say_what_action_is_expected(action):
    import eglb  # noqa: F401  (registers the ready-to-train ids)

    env = gym.make("GLB-Synthetic-v0", episode_hours=5)
    env.reset(seed=0)
    with pytest.raises(
        InputError, match=r"residual action must be an array of shape \(20,\) of real numbers \(corrections of the expert's"
    ):
        env.step(action)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"strat": 1}, "unknown reset option 'strat'"),
        ({"start": 1.5}, "reset option 'start' must be a whole hour index"),
        ({"start": 400}, "start hour 400 leaves no room"),
        ({"scenario": "synthetic"}, "reset option 'scenario' must be a Scenario"),
        ([("start", 1)], "reset options must be a dict"),
    ],
)
def test_bad_reset_options_are_clear(options, message):
    env = GLBEnv(make_synthetic(0, hours=10), episode_hours=5)
    with pytest.raises(InputError, match=message):
        env.reset(seed=0, options=options)


@pytest.mark.parametrize("temperature", [5.0, 800.0, 1e6])
def test_routing_is_finite_and_feasible_at_any_temperature(temperature):
    scenario = random_scenario(4, n_regions=5, n_gateways=4, hours=6, masked=True)
    env = GLBEnv(scenario, action_mode="routing", routing_temperature=temperature)
    env.reset(seed=0)
    env.action_space.seed(0)
    for t in range(scenario.n_hours):
        _, reward, _, _, info = env.step(env.action_space.sample())
        assert np.isfinite(reward)
        assert_feasible(scenario, t, info["routing"])


def test_observation_names_follow_the_layout():
    scenario = make_synthetic(0, hours=10)
    env = GLBEnv(scenario, forecast_hours=2)
    names = env.observation_names
    assert len(names) == env.observation_space.shape[0] == len(set(names))
    obs, _ = env.reset(seed=0)
    scale = env.observation_scale
    assert obs[names.index("price[Germany]")] == pytest.approx(scenario.price[4, 0] / scale.price, rel=1e-6)
    assert obs[names.index("workload[Japan]")] == pytest.approx(scenario.workload[8, 0] / scale.workload, rel=1e-6)
    assert obs[names.index("forecast+2.carbon[Texas]")] == pytest.approx(scenario.carbon[0, 2] / scale.carbon, rel=1e-6)
    assert obs[names.index("episode_left")] == 1.0 and names[-1] == "carbon_gap[Singapore]"


@pytest.mark.parametrize("vector", ["gymnasium", "sb3"])
def test_rgb_array_frames_through_vector_envs(vector):
    import eglb  # noqa: F401  (registers the ready-to-train ids)

    if vector == "sb3":
        from stable_baselines3.common.env_util import make_vec_env

        envs_ = make_vec_env("GLB-Synthetic-v0", n_envs=2, seed=0)  # SB3 passes render_mode="rgb_array"
        envs_.reset()
        envs_.step(np.stack([envs_.action_space.sample() for _ in range(2)]))
        frames = envs_.get_images()
    else:
        envs_ = gym.make_vec("GLB-Synthetic-v0", num_envs=2, vectorization_mode="sync", render_mode="rgb_array")
        envs_.reset(seed=0)
        envs_.step(envs_.action_space.sample())
        frames = envs_.render()
    assert len(frames) == 2 and all(f.shape == (360, 640, 3) and f.dtype == np.uint8 for f in frames)
    assert frames[0].std() > 10  # a picture, not a blank
    envs_.close()
    env = GLBEnv(make_synthetic(0, hours=5), render_mode="ansi")
    env.reset(seed=0)
    assert "Texas" in env.render()
