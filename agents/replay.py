"""Replaying an offline solution through the environment, hour by hour."""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView, OfflineSolution, Policy
from eglb.envs.knob_state import HourDecision
from eglb.envs.routing import split_energy


class Replay(Policy):
    """Plays the routing of an :class:`OfflineSolution` (it must be for the episode's scenario), with
    its models and job work when it has knobs."""

    def __init__(self, solution: OfflineSolution, name: str):
        super().__init__()
        self.solution = solution
        self.name = name

    def act(self, view: HourView) -> np.ndarray | HourDecision:
        class_flow = self.solution.class_flow
        if class_flow is not None:
            routing = self.router.from_classes(class_flow[view.t], view.t)
        else:
            routing = split_energy(self.solution.energy[:, view.t], view.scenario.workload[:, view.t])
        knobs = self.solution.knobs
        if knobs is None:
            return routing
        ids, work = knobs.job_work_at(view.t) if knobs.job_hours is not None else (None, None)
        model_load = None if knobs.model_load is None else knobs.model_load[:, :, view.t]
        return HourDecision(routing, model_load, ids, work)
