"""Running a policy through the environment: the one path from a policy to its metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.actions import shares_from_routing
from eglb.envs.glb_env import GLBEnv
from eglb.envs.metrics import Metrics, metrics_from_energy
from eglb.envs.scenario import Scenario
from tqdm.auto import tqdm


@dataclass
class Rollout:
    """A policy's episode.

    Attributes:
        name: the policy's label.
        energy: [N, T] executed region energies, MW.
        metrics: computed by :func:`eglb.envs.metrics.metrics_from_energy` from ``energy``.
        returns: the environment's undiscounted return (equals -metrics.J).
        infos: the policy's per-hour ``info`` dicts (empty dicts for policies that report nothing).
        seconds: wall-clock time of the episode.
        decision_seconds: the time spent deciding: the policy's ``reset`` and every ``act`` (not the
            environment's step); divided by the hours, the decision time per hour every table reports.
    """

    name: str
    energy: np.ndarray
    metrics: Metrics
    returns: float
    infos: list[dict]
    seconds: float
    decision_seconds: float


def rollout(policy: Policy, scenario: Scenario, progress: bool = False) -> Rollout:
    """Play ``policy`` over every hour of ``scenario`` in a :class:`GLBEnv` (``share`` actions)."""
    start = time.perf_counter()
    env = GLBEnv(scenario, action_mode="share")
    env.reset(options={"start": 0})
    begin = time.perf_counter()
    policy.reset(scenario)
    deciding = time.perf_counter() - begin
    energy = np.empty((scenario.n_regions, scenario.n_hours))
    infos: list[dict] = []
    total = 0.0
    hours = range(scenario.n_hours)
    for t in tqdm(hours, desc=policy.name, leave=False, disable=not progress, unit="h"):
        begin = time.perf_counter()
        routing = policy.act(HourView(scenario, t, env.state))
        deciding += time.perf_counter() - begin
        _, reward, _, _, info = env.step(shares_from_routing(routing, scenario.workload[:, t]))
        energy[:, t] = info["energy"]
        infos.append(dict(policy.info))
        total += reward
    metrics = metrics_from_energy(scenario, energy)
    return Rollout(policy.name, energy, metrics, total, infos, time.perf_counter() - start, deciding)
