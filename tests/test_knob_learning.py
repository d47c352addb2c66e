"""Learned policies on the environment with knobs: SB3 trains on it, and the trained model plays alone and inside the layer."""

from __future__ import annotations

import pytest
from eglb.agents.knob_learned import FlexActionPolicy
from eglb.agents.knob_policies import EGLBKnobs
from eglb.agents.rollout import rollout
from eglb.envs.flex_env import FlexGLBEnv
from eglb.robust.knob_layer import KnobRobustPolicy
from stable_baselines3 import PPO

from tests.helpers import random_knobs


def test_a_model_trained_on_the_flexible_environment_plays_alone_and_inside_the_layer():
    scenario = random_knobs(3, n_jobs=6, n_models=2, hours=12)

    def make_env(s):
        return FlexGLBEnv(s, action_mode="dual", job_slots=4, reward_scale=1e-3)

    model = PPO("MlpPolicy", make_env(scenario), n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128)
    learned = FlexActionPolicy(lambda obs: model.predict(obs, deterministic=True)[0], make_env, "ppo")
    alone = rollout(learned, scenario)
    assert -alone.returns == pytest.approx(alone.metrics.J, rel=1e-9)
    # Played by hand in its own environment, the same actions give the same J.
    env = make_env(scenario)
    obs, _ = env.reset(options={"start": 0})
    total = 0.0
    for _ in range(scenario.n_hours):
        obs, reward, terminated, _, _ = env.step(model.predict(obs, deterministic=True)[0])
        total += reward / env.reward_scale
    assert -total == pytest.approx(alone.metrics.J, rel=1e-9)
    layer = KnobRobustPolicy(learned, lam=0.05)
    robust = rollout(layer, scenario)
    expert = rollout(EGLBKnobs(), scenario)
    assert robust.metrics.J <= layer.summary()["bound"] + 1e-7 * abs(expert.metrics.J)
    assert robust.metrics.unfinished <= expert.metrics.unfinished + 1e-9
