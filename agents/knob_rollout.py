"""Running a policy on a scenario with knobs: the path from a policy to its metrics (docs/model/flexibility.md).

The same as :func:`eglb.agents.rollout.rollout` (which calls this for flexible scenarios), through
:class:`eglb.envs.flex_env.FlexGLBEnv`: each hour the policy's decision (an
:class:`eglb.envs.knob_state.HourDecision`, or a plain routing, whose knobs take their defaults:
:func:`run_now`) is played by :meth:`FlexGLBEnv.step_decision`, which makes it feasible and enforces
the deadlines. The metrics come from :func:`eglb.envs.metrics.metrics_from_energy` with the episode's
transfers, unfinished work and model loads.
"""

from __future__ import annotations

import time

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.flex_env import FlexGLBEnv, place_work
from eglb.envs.knob_state import HourDecision, KnobState
from eglb.envs.metrics import Metrics, metrics_from_energy
from eglb.envs.scenario import Scenario
from tqdm.auto import tqdm


def run_now(knobs: KnobState, t: int, routing: np.ndarray, model_load: np.ndarray | None = None) -> HourDecision:
    """The decision that runs every pending job at full power now, at home first, then in its other
    allowed regions in index order (the carbon- and price-agnostic default), within spare capacity."""
    ids = knobs.pending(t)
    energy, _ = knobs.interactive(t, routing, model_load)
    spare = np.maximum(knobs.scenario.capacity[:, t] - energy, 0.0)
    work = place_work(knobs, t, ids, np.ones(ids.size), np.zeros(energy.size), spare)
    return HourDecision(routing, model_load, ids, work)


def knob_rollout(
    policy: Policy, scenario: Scenario, progress: bool = False
) -> tuple[np.ndarray, Metrics, float, list[dict], float]:
    """Play ``policy`` over every hour of a scenario with knobs: (energy [N, T] MW, metrics, the
    environment's return, the policy's per-hour infos, the seconds spent deciding: ``reset`` and every
    ``act``), what :class:`eglb.agents.rollout.Rollout` holds."""
    env = FlexGLBEnv(scenario, action_mode="share", job_slots=0)
    env.reset(options={"start": 0})
    begin = time.perf_counter()
    policy.reset(scenario)
    deciding = time.perf_counter() - begin
    energy = np.empty((scenario.n_regions, scenario.n_hours))
    infos: list[dict] = []
    total = 0.0
    for t in tqdm(range(scenario.n_hours), desc=policy.name, leave=False, disable=not progress, unit="h"):
        begin = time.perf_counter()
        decision = policy.act(HourView(scenario, t, env.state, env.knobs))
        deciding += time.perf_counter() - begin
        if not isinstance(decision, HourDecision):
            decision = run_now(env.knobs, t, env.router.sanitize(decision, t))
        _, reward, _, _, info = env.step_decision(decision)
        energy[:, t] = info["energy"]
        infos.append(dict(policy.info))
        total += reward
    knobs = env.knobs
    metrics = metrics_from_energy(
        scenario,
        energy,
        knobs.transfer_cost,
        knobs.unfinished if scenario.jobs is not None else None,
        knobs.model_load if scenario.models is not None else None,
    )
    return energy, metrics, total, infos, deciding
