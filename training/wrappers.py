"""Gymnasium wrappers used in training: the vs-expert reward, residual actions, and worker errors."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
from eglb.agents.residual import ResidualDuals
from eglb.agents.shadow import KnobShadowExpert, ShadowExpert
from eglb.envs.actions import shares_from_routing
from eglb.envs.errors import InputError, SolverError
from eglb.envs.rewards import hour_reward
from gymnasium import spaces


class ExpertBaselineReward(gym.Wrapper):
    """The "vs-expert" reward (envs/rewards.py): the return becomes (J(eGLB) - J) times the scale.

    The expert runs in a shadow copy on the episode's hours and sees only its own actions.
    ``info["expert_J"]`` reports the expert's J so far.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        # With deferrable jobs or model choice the expert plays them too (its J has their costs).
        self.shadow = KnobShadowExpert() if env.unwrapped.handles_knobs else ShadowExpert()

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        base = self.env.unwrapped
        self.shadow.reset(base.scenario.window(base.start, base.start + base.hours))
        self._step = 0
        self._objective = 0.0
        return obs, info

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        expert_before = self.shadow.objective
        self.shadow.step(self._step)
        self._step += 1
        increase, self._objective = info["J"] - self._objective, info["J"]
        info["expert_J"] = self.shadow.objective
        reward = hour_reward(increase, self.env.unwrapped.reward_scale, self.shadow.objective - expert_before)
        return obs, reward, terminated, truncated, info


class ResidualDualEnv(gym.Wrapper):
    """A GLBEnv (in ``share`` mode, to execute the routing) whose actions correct the expert's duals
    (agents/residual.py); the observation gets the expert's duals appended."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        if env.unwrapped.action_mode != "share":
            raise ValueError("the inner environment must execute routings (action_mode='share')")
        n = env.unwrapped.n_regions
        self.residual = ResidualDuals()
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2 * n,), dtype=np.float32)
        size = env.observation_space.shape[0] + 2 * n
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)
        #: The names of the observation: the inner environment's, then the expert's duals.
        self.observation_names = env.get_wrapper_attr("observation_names") + ResidualDuals.feature_names(
            env.unwrapped.region_names
        )

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        base = self.env.unwrapped
        self.residual.reset(base.scenario.window(base.start, base.start + base.hours))
        self._step = 0
        return np.concatenate([obs, self.residual.features()]), info

    def step(self, action):
        routing = self.residual.routing(action, self._step)
        workload = self.env.unwrapped.scenario.workload[:, self.env.unwrapped.hour]
        obs, reward, terminated, truncated, info = self.env.step(shares_from_routing(routing, workload))
        self._step += 1
        return np.concatenate([obs, self.residual.features()]), reward, terminated, truncated, info


class WorkerErrors(gym.Wrapper):
    """Inside a subprocess worker: a user mistake is written to ``report`` and the worker stops.

    SubprocVecEnv workers have no error channel: an exception prints a traceback from the child and
    the parent sees a closed pipe. This wrapper writes the one-line message to a file the parent
    reads (see training/envs.py ``worker_failure``) and ends the worker quietly.
    """

    def __init__(self, env: gym.Env, report: Path):
        super().__init__(env)
        self.report = Path(report)

    def _guard(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except (InputError, SolverError) as exc:
            self.report.write_text(str(exc), encoding="utf-8")
            os._exit(2)

    def reset(self, **kwargs):
        return self._guard(self.env.reset, **kwargs)

    def step(self, action):
        return self._guard(self.env.step, action)
