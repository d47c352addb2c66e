"""Replaying an offline solution through the environment, hour by hour."""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView, OfflineSolution, Policy
from eglb.envs.routing import split_energy


class Replay(Policy):
    """Plays the routing of an :class:`OfflineSolution` (it must be for the episode's scenario)."""

    def __init__(self, solution: OfflineSolution, name: str):
        super().__init__()
        self.solution = solution
        self.name = name

    def act(self, view: HourView) -> np.ndarray:
        class_flow = self.solution.class_flow
        if class_flow is not None:
            return self.router.from_classes(class_flow[view.t], view.t)
        return split_energy(self.solution.energy[:, view.t], view.scenario.workload[:, view.t])
