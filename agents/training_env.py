"""Training environments built from a run configuration (picklable factories for vector envs)."""

from __future__ import annotations

import gymnasium as gym

from agents.config import RunConfig
from agents.shadow import ShadowExpert
from envs.glb_env import GLBEnv
from envs.scenario import Scenario
from envs.synthetic import SyntheticSource


class ExpertBaselineReward(gym.Wrapper):
    """Adds back the eGLB expert's hourly increase of J, so the return is J(eGLB) - J (scaled).

    The expert runs in a shadow copy on the episode's hours and sees only its own actions, so its J
    does not depend on the agent: the wrapper changes every episode's return by a constant and
    leaves the optimal policy unchanged, while removing most of the return's variance across
    traces. ``info["expert_J"]`` reports the expert's J so far.
    """

    def __init__(self, env: GLBEnv):
        super().__init__(env)
        self.shadow = ShadowExpert()

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        base = self.env.unwrapped
        self.shadow.reset(base.scenario.window(base.start, base.start + base.hours))
        self._step = 0
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        before = self.shadow.objective
        self.shadow.step(self._step)
        self._step += 1
        info["expert_J"] = self.shadow.objective
        return obs, reward + self.env.unwrapped.reward_scale * (self.shadow.objective - before), terminated, truncated, info


def make_env(config: RunConfig, scenario: Scenario | None, seed: int) -> gym.Env:
    """One training environment: random windows (or new synthetic traces) of episode_hours hours,
    with the robustification layer inside when ``config.robust`` is set."""
    env_config = config.env
    source = scenario if scenario is not None else SyntheticSource(hours=env_config.episode_hours, setting=config.data.setting)
    env = GLBEnv(
        source,
        episode_hours=env_config.episode_hours,
        random_start=scenario is not None,
        action_mode="share" if config.robust or env_config.residual else env_config.action_mode,
        forecast_hours=env_config.forecast_hours,
        forecast_noise=env_config.forecast_noise,
        reward_scale=env_config.reward_scale,
        observation_scale=config.observation_scale,
        routing_temperature=env_config.routing_temperature,
    )
    if env_config.residual:
        from agents.residual import ResidualDualEnv

        env = ResidualDualEnv(env)
    if config.robust is not None:
        from robust.layer import Slack
        from robust.wrapper import RobustTrainingEnv

        env = RobustTrainingEnv(env, env_config.action_mode, config.robust.lam, Slack(config.robust.b, config.robust.slack),
                                env_config.reward, env_config.routing_temperature)
    elif env_config.reward == "vs-expert":
        env = ExpertBaselineReward(env)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    return env


class EnvFactory:
    """A picklable ``() -> env`` for SB3's vector environments (one distinct seed per worker)."""

    def __init__(self, config: RunConfig, scenario: Scenario | None, seed: int):
        self.config, self.scenario, self.seed = config, scenario, seed

    def __call__(self) -> gym.Env:
        from stable_baselines3.common.monitor import Monitor

        return Monitor(make_env(self.config, self.scenario, self.seed))


def vector_env(config: RunConfig, scenario: Scenario | None, seed: int):
    """SB3 vector environment of ``config.n_envs`` workers (subprocesses when more than one)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    factories = [EnvFactory(config, scenario, seed + 1000 * k) for k in range(config.n_envs)]
    if config.n_envs > 1:
        return SubprocVecEnv(factories, start_method="fork")
    return DummyVecEnv(factories)
