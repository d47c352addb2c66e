"""Robustification-aware training: the layer inside the environment.

The agent's action (``routing`` or ``dual`` mode) is decoded into a proposal; the layer blends it
with the shadow expert's routing as far as the guarantee allows, and the environment executes the
blend, so the agent is rewarded for what is actually played and learns to spend the budget. The
observation is the environment's plus the layer's features (``RobustPolicy.features``: the slack,
the footprint mismatch against the expert, the expert's action).

:class:`KnobRobustTrainingEnv` does the same on a scenario with deferrable jobs or model choice: the
agent acts in :class:`eglb.envs.flex_env.FlexGLBEnv`'s own action, the environment decodes it into the
hour's decision, :class:`eglb.robust.knob_layer.KnobRobustPolicy` blends it with eGLB's (progress
dominance and the budget, docs/model/flexibility.md) and the environment plays the blend.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.actions import ActionDecoder, shares_from_routing
from eglb.envs.flex_env import FlexGLBEnv
from eglb.envs.glb_env import GLBEnv
from eglb.envs.rewards import hour_reward
from eglb.robust.knob_layer import KnobRobustPolicy
from eglb.robust.layer import RobustPolicy, Slack
from gymnasium import spaces


class _Proposal(Policy):
    """Stands in for the ML policy inside the layer: the training agent proposes from outside."""

    name = "agent"

    def act(self, view):  # pragma: no cover - the wrapper calls blend() directly
        raise RuntimeError("the robust training wrapper proposes through blend()")


class RobustTrainingEnv(gym.Env):
    """A GLBEnv whose actions pass through the robustification layer.

    Args:
        env: a GLBEnv in ``share`` mode (it executes the blended routing).
        action_mode: the agent's action mode ("routing" or "dual").
        lam, slack: the layer's budget and slack schedule.
        reward: "J" (minus the executed hour's increase of J) or "vs-expert" (that minus the
            expert's, both on the layer's shifted prices, so the price shift cancels).
        routing_temperature: softmax temperature of the routing mode.
    """

    metadata = {"render_modes": []}

    def __init__(
        self, env: GLBEnv, action_mode: str, lam: float, slack: Slack, reward: str = "vs-expert", routing_temperature: float = 5.0
    ):
        if env.action_mode != "share":
            raise ValueError("the inner environment must execute routings (action_mode='share')")
        self.env = env
        self.action_mode = action_mode
        self.layer = RobustPolicy(_Proposal(), lam=lam, slack=slack)
        self.reward_mode = reward
        self.temperature = routing_temperature
        n = env.n_regions
        self.action_space = ActionDecoder.space(action_mode, n, env.n_gateways)
        extra = 3 * n + 1
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(env.observation_space.shape[0] + extra,), dtype=np.float32)
        #: The names of the observation: the environment's, then the layer's features.
        self.observation_names = env.observation_names + RobustPolicy.feature_names(env.region_names)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        base = self.env
        window = base.scenario.window(base.start, base.start + base.hours)
        self.layer.reset(window)
        self.decoder = ActionDecoder(self.action_mode, self.layer.router, self.temperature)
        self.window = window
        self._step = 0
        self.layer.begin_hour(0)
        return np.concatenate([obs, self.layer.features()]), info

    def step(self, action):
        k = self._step
        before, expert_before = self.layer.state.objective(self.layer.weights), self.layer.shadow.objective
        routing = self.layer.blend(k, self.decoder.decode(action, k))
        obs, reward, terminated, truncated, info = self.env.step(shares_from_routing(routing, self.window.workload[:, k]))
        if self.reward_mode == "vs-expert":
            reward = hour_reward(
                self.layer.info["J"] - before, self.env.reward_scale, self.layer.shadow.objective - expert_before
            )
        info.update({key: self.layer.info[key] for key in ("theta", "delta", "budget", "slack", "expert_J")})
        self._step += 1
        if not terminated:
            self.layer.begin_hour(self._step)
        return np.concatenate([obs, self.layer.features()]), reward, terminated, truncated, info


class KnobRobustTrainingEnv(gym.Env):
    """A FlexGLBEnv whose decisions pass through :class:`KnobRobustPolicy` (module docstring).

    Args:
        env: a FlexGLBEnv in the agent's action mode ("routing" or "dual"): it decodes the agent's
            action (:meth:`FlexGLBEnv.decide`) and plays the blended decision (:meth:`FlexGLBEnv.step_decision`).
        lam, slack: the layer's budget and slack schedule.
        reward: "J" (the environment's: minus the executed hour's increase of J) or "vs-expert" (the
            layer's increase of J minus the expert's, both on the layer's shifted prices; with knobs the
            two draw different energies, so the shift cancels only up to the price floor times the
            difference, and is 0 without negative prices).
    """

    metadata = {"render_modes": []}

    def __init__(self, env: FlexGLBEnv, lam: float, slack: Slack, reward: str = "vs-expert"):
        if env.action_mode == "share":
            raise ValueError("the agent acts in the routing or dual mode of the knob environment")
        self.env = env
        self.layer = KnobRobustPolicy(_Proposal(), lam=lam, slack=slack)
        self.reward_mode = reward
        self.action_space = env.action_space
        extra = 3 * env.n_regions + 1
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(env.observation_space.shape[0] + extra,), dtype=np.float32)
        #: The names of the observation: the environment's, then the layer's features.
        self.observation_names = env.observation_names + RobustPolicy.feature_names(env.region_names)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self.layer.reset(self.env.episode)
        self.layer.begin_hour(0)
        self._objectives = (0.0, 0.0)  # the layer's J and the expert's so far (shifted prices)
        return np.concatenate([obs, self.layer.features()]), info

    def step(self, action):
        env, layer = self.env, self.layer
        t = env._step
        proposal = env.decide(action)
        played = layer.blend_decision(HourView(env.episode, t, env.state, env.knobs), proposal)
        obs, reward, terminated, truncated, info = env.step_decision(played)
        objective, expert = layer.info["J"], layer.info["expert_J"]
        if self.reward_mode == "vs-expert":
            reward = hour_reward(objective - self._objectives[0], env.reward_scale, expert - self._objectives[1])
        self._objectives = (objective, expert)
        info.update({key: layer.info[key] for key in ("theta", "delta", "budget", "slack", "expert_J")})
        if not terminated:
            layer.begin_hour(t + 1)
        return np.concatenate([obs, layer.features()]), reward, terminated, truncated, info
