"""Observation names match the observation exactly: for every registered id, action mode and
observation option, and for the wrappers that append to it (expert duals, the robust layer)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from eglb.envs.eglb2022 import default_data_path
from eglb.envs.synthetic import make_synthetic
from eglb.training.config import EnvConfig, RobustConfig, RunConfig
from eglb.training.envs import VARIANTS, make_env

import eglb  # noqa: F401  (registers the ids)

IDS = ["GLB-v0", *VARIANTS]
OPTIONS = {
    "GLB-v0": [{}, {"action_mode": "dual"}, {"action_mode": "share"}, {"forecast_hours": 3}],
    "variant": [
        {},
        {"forecast_hours": 2},
        {"residual": False},
        {"residual": False, "action_mode": "routing"},
        {"reward": "J", "forecast_hours": 1},
    ],
}


def names_of(env) -> list[str]:
    return env.get_wrapper_attr("observation_names")


def check_names(env, names: list[str]) -> np.ndarray:
    """Length and uniqueness against the space and real observations; returns the observation after one step."""
    assert all(isinstance(n, str) for n in names) and len(set(names)) == len(names)
    obs, _ = env.reset(seed=0)
    assert len(names) == env.observation_space.shape[0] == obs.shape[0]
    env.action_space.seed(0)
    obs, *_ = env.step(env.action_space.sample())
    assert obs.shape[0] == len(names)
    return obs


CASES = [(env_id, option) for env_id in IDS for option in OPTIONS["GLB-v0" if env_id == "GLB-v0" else "variant"]]


@pytest.mark.parametrize("env_id, option", CASES, ids=[f"{i}-{o}" for i, o in CASES])
def test_every_registered_id_names_its_observation(env_id, option):
    if env_id == "GLB-Eglb2022-v0" and not (default_data_path() / "AI_workload.csv").is_file():
        pytest.skip("published data set not found (set EGLB2022_DATA)")
    env = gym.make(env_id, **option)
    names = names_of(env)
    obs = check_names(env, names)
    base = env.unwrapped
    assert names[: len(base.observation_names)] == base.observation_names  # wrappers append
    assert obs[names.index("hour_sin")] == pytest.approx(
        np.sin(2 * np.pi * (base.scenario.timestamps[base.hour].astype("datetime64[h]").astype(int) % 24) / 24), abs=1e-6
    )
    if any(n.startswith("expert_dual_") for n in names):
        gamma = env.get_wrapper_attr("residual").expert.gamma
        last = base.region_names[-1]
        assert obs[names.index(f"expert_dual_water[{base.region_names[0]}]")] == np.float32(gamma[0, 0])
        assert obs[names.index(f"expert_dual_carbon[{last}]")] == np.float32(gamma[1, -1])
        assert len(names) == len(base.observation_names) + 2 * base.n_regions
    else:
        assert names == base.observation_names
    env.close()


@pytest.mark.parametrize("action_mode", ["routing", "dual"])
def test_the_robust_training_environment_names_the_layer_features(action_mode):
    reference = make_synthetic(0, hours=48)
    config = RunConfig(
        "ppo", env=EnvConfig(action_mode=action_mode, episode_hours=24, forecast_hours=1), robust=RobustConfig(lam=0.1)
    ).for_scenario(reference)
    env = make_env(config, reference, seed=0)
    names = env.observation_names  # env.unwrapped is the robust environment itself
    assert env.unwrapped.observation_names == names
    obs = check_names(env, names)
    features = env.layer.features()
    assert obs[names.index("robust_slack")] == features[0]
    assert obs[names.index(f"robust_mismatch_carbon[{reference.regions[-1]}]")] == features[2 * reference.n_regions]
    assert obs[names.index(f"expert_energy[{reference.regions[0]}]")] == features[2 * reference.n_regions + 1]
    assert names[-1] == f"expert_energy[{reference.regions[-1]}]"
