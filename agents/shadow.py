"""The expert run in a shadow copy: it sees the same hours and only its own actions.

The expert is eGLB by default, or any online policy (RHC with a forecaster, a learned policy, ...):
the layer's guarantee holds against whatever runs here, because the shadow copy plays the expert's
own actions from its own state.
"""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.agents.eglb_online import EGLBOnline
from eglb.envs.metrics import FootprintState
from eglb.envs.scenario import Scenario


class ShadowExpert:
    """Advances an expert policy hour by hour and keeps its own cumulative state.

    Args:
        expert: the expert, any online :class:`Policy` (default: eGLB with its default step size).
        price_floor: prices are measured as ``p - price_floor`` in the state (SPEC section 6 shifts
            prices so that every hour's cost is non-negative); 0 measures plain prices.
    """

    def __init__(self, expert: Policy | None = None, price_floor: float = 0.0):
        self.expert = expert if expert is not None else EGLBOnline()
        self.price_floor = float(price_floor)

    def reset(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.expert.reset(scenario)
        self.state = FootprintState.zeros(scenario.n_regions)
        self.objective = 0.0
        self.prices = scenario.price - self.price_floor  # [N, T], the prices the state is measured at
        self.energy = np.zeros(scenario.n_regions)

    def step(self, t: int) -> np.ndarray:
        """The expert's routing [N, J] for hour t; its state (and ``energy`` [N]) then include that hour."""
        scenario = self.scenario
        routing = self.expert.act(HourView(scenario, t, self.state))
        self.energy = routing.sum(axis=1)
        self.state.add(float(self.prices[:, t] @ self.energy), scenario.intensity[:, :, t] * self.energy)
        self.objective = self.state.objective(scenario.footprint_weights)
        return routing


class KnobShadowExpert:
    """The shadow copy on a scenario with deferrable jobs or model choice: eGLB with its knob rules
    (:class:`eglb.agents.knob_policies.EGLBKnobs`) played in its own FlexGLBEnv, so its ``objective``
    is J with transfers and the knobs' penalties (plain prices), as the training environment's."""

    def reset(self, scenario: Scenario) -> None:
        from eglb.agents.knob_policies import EGLBKnobs
        from eglb.agents.knob_rollout import KnobEpisode

        self.expert = EGLBKnobs()
        self.expert.reset(scenario)
        self.episode = KnobEpisode(scenario)
        self.objective = 0.0

    def step(self, t: int):
        """The expert's decision for hour t, played; ``objective`` then includes that hour."""
        decision = self.expert.act(self.episode.view(t))
        _, info = self.episode.step(t, decision)
        self.objective = float(info["J"])
        return decision
