"""A scenario with knobs in a rollout (docs/model/flexibility.md).

:func:`eglb.agents.rollout.rollout` plays a flexible scenario through :class:`KnobEpisode`, the
:class:`eglb.envs.flex_env.FlexGLBEnv` side of its loop: each hour the policy's decision (an
:class:`eglb.envs.knob_state.HourDecision`, or a plain routing, whose knobs take their defaults:
:func:`run_now`) is played by :meth:`FlexGLBEnv.step_decision`, which makes it feasible and enforces
the deadlines. The metrics come from :func:`eglb.envs.metrics.metrics_from_energy` with the episode's
transfers, unfinished work and model loads.
"""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView
from eglb.envs.flex_env import FlexGLBEnv, place_work
from eglb.envs.knob_state import HourDecision, KnobState
from eglb.envs.metrics import Metrics, metrics_from_energy
from eglb.envs.scenario import Scenario


def run_now(knobs: KnobState, t: int, routing: np.ndarray, model_load: np.ndarray | None = None) -> HourDecision:
    """The decision that runs every pending job at full power now, at home first, then in its other
    allowed regions in index order (the carbon- and price-agnostic default), within spare capacity."""
    ids = knobs.pending(t)
    energy, _ = knobs.interactive(t, routing, model_load)
    spare = np.maximum(knobs.scenario.capacity[:, t] - energy, 0.0)
    work = place_work(knobs, t, ids, np.ones(ids.size), np.zeros(energy.size), spare)
    return HourDecision(routing, model_load, ids, work)


class KnobEpisode:
    """One episode of a scenario with knobs, as the rollout's loop steps it."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.env = FlexGLBEnv(scenario, action_mode="share", job_slots=0)
        self.env.reset(options={"start": 0})

    def view(self, t: int) -> HourView:
        return HourView(self.scenario, t, self.env.state, self.env.knobs)

    def step(self, t: int, action) -> tuple[float, dict]:
        """Play the policy's answer at hour t: (reward, the environment's info)."""
        env = self.env
        decision = action if isinstance(action, HourDecision) else run_now(env.knobs, t, env.router.sanitize(action, t))
        _, reward, _, _, info = env.step_decision(decision)
        return reward, info

    def metrics(self, energy: np.ndarray) -> Metrics:
        knobs, scenario = self.env.knobs, self.scenario
        return metrics_from_energy(
            scenario,
            energy,
            knobs.transfer_cost,
            knobs.unfinished if scenario.jobs is not None else None,
            knobs.model_load if scenario.models is not None else None,
        )
