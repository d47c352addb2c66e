"""Learned corrections to the online expert's dual prices ("residual" learning on eGLB).

The expert (dual mirror descent) keeps its own duals gamma_eGLB [2, N] and updates them every hour
with the footprint of what was actually played. A residual policy outputs a in [-1, 1]^(2N) and
plays the cheapest routing at the duals gamma_eGLB + RESIDUAL_SCALE * a. The action 0 is
therefore exactly the expert (tested), an untrained policy is the expert plus noise, and training
moves away from it where that pays. The policy observes the environment's observation plus
gamma_eGLB.

Training uses ``eglb.training.wrappers.ResidualDualEnv`` (a wrapper of a GLBEnv); evaluation uses
:class:`ResidualPolicy`; both go through :class:`ResidualDuals`, so they compute the same thing.
"""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.agents.eglb_online import EGLBOnline
from eglb.envs.actions import checked_action
from eglb.envs.scenario import Scenario

#: How far (in dual units, where the hindsight optimum's duals sum to 1 over regions) an action of
#: +-1 moves a region's dual away from the expert's.
RESIDUAL_SCALE = 0.25

_MEANING = "corrections of the expert's water then carbon duals of every region in [-1, 1]"


class ResidualDuals:
    """The expert's duals, corrected by actions and updated with what is played."""

    def reset(self, scenario: Scenario) -> None:
        self.expert = EGLBOnline()
        self.expert.reset(scenario)

    def features(self) -> np.ndarray:
        """The expert's current duals, float32 [2N], appended to observations."""
        return self.expert.gamma.ravel().astype(np.float32)

    @staticmethod
    def feature_names(regions: tuple[str, ...]) -> list[str]:
        """The name of every entry of :meth:`features`: ``expert_dual_water[R]`` then ``expert_dual_carbon[R]``."""
        return [f"expert_dual_{kind}[{r}]" for kind in ("water", "carbon") for r in regions]

    def routing(self, action: np.ndarray, t: int) -> np.ndarray:
        """The routing [N, J] of hour t for an action in [-1, 1]^(2N) (NaN counts as 0); the expert's
        duals then learn from it, as the expert would from its own."""
        action = checked_action(action, (self.expert.gamma.size,), "residual action", _MEANING)
        correction = np.clip(np.nan_to_num(action), -1.0, 1.0).reshape(self.expert.gamma.shape)
        gamma = self.expert.gamma + RESIDUAL_SCALE * correction
        routing = self.expert.router.cheapest(self.expert.prices(t, gamma), t)
        self.expert.learn(routing.sum(axis=1), t)
        return routing


class ResidualPolicy(Policy):
    """Evaluation side of residual learning: the learned corrections around the expert.

    Args:
        learned: a LearnedPolicy whose predictor gives the corrections; its observations get the
            expert's duals appended.
    """

    def __init__(self, learned, name: str):
        super().__init__()
        self.learned = learned
        self.name = name
        self.residual = ResidualDuals()
        learned.extra_features = self.residual.features

    @property
    def information(self) -> str:
        return self.learned.information  # the expert (eGLB) reads the present only

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        self.learned.reset(scenario)
        self.residual.reset(scenario)

    def act(self, view: HourView) -> np.ndarray:
        return self.residual.routing(self.learned.action(view), view.t)

    def summary(self) -> dict:
        return self.learned.summary()
