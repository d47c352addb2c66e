"""A policy that acts through :class:`eglb.envs.flex_env.FlexGLBEnv`'s actions: learned policies on scenarios with knobs.

A model trained on ``GLB-Flex-v0`` (e.g. with Stable-Baselines3) maps the environment's observation
to an action; :class:`FlexActionPolicy` turns it into an online :class:`eglb.agents.base.Policy`: each
hour it puts its own copy of the environment at the hour's state (:meth:`FlexGLBEnv.sync`), asks the
model, and returns the decision the action stands for (:meth:`FlexGLBEnv.decide`). So it plays
through ``eglb.agents.rollout`` and inside the robustification layer like any policy, seeing what
the environment shows even when the layer changed the past.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.flex_env import FlexGLBEnv
from eglb.envs.scenario import Scenario


class FlexActionPolicy(Policy):
    """Acts with ``predict(observation) -> action`` through a FlexGLBEnv built by ``make_env(scenario)``.

    Args:
        predict: the model, observation (float32 [D]) -> action (the environment's action space).
        make_env: builds the environment the model was trained in, for a scenario (same action mode,
            job slots and observation scale).
        name: the label in tables.
    """

    def __init__(
        self, predict: Callable[[np.ndarray], np.ndarray], make_env: Callable[[Scenario], FlexGLBEnv], name: str = "learned"
    ):
        super().__init__()
        self.predict = predict
        self.make_env = make_env
        self.name = name

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        self.env = self.make_env(scenario)
        self.env.reset(options={"scenario": scenario, "start": 0})

    def act(self, view: HourView):
        observation = self.env.sync(view.t, view.state, view.knobs)
        return self.env.decide(self.predict(observation))
