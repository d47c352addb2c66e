"""Running a policy through the environment: the one path from a policy to its metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.agents.knob_rollout import KnobEpisode
from eglb.envs.actions import checked_action, shares_from_routing
from eglb.envs.glb_env import GLBEnv
from eglb.envs.metrics import Metrics, metrics_from_energy
from eglb.envs.scenario import Scenario
from tqdm.auto import tqdm

#: What a policy's act() returns, for error messages.
ROUTING = "MW of each gateway's load served in each region, regions x gateways"


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


class _PlainEpisode:
    """One episode of a scenario without knobs in a :class:`GLBEnv` (``share`` actions)."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.env = GLBEnv(scenario, action_mode="share")
        self.env.reset(options={"start": 0})

    def view(self, t: int) -> HourView:
        return HourView(self.scenario, t, self.env.state)

    def step(self, t: int, routing: np.ndarray) -> tuple[float, dict]:
        _, reward, _, _, info = self.env.step(shares_from_routing(routing, self.scenario.workload[:, t]))
        return reward, info

    def metrics(self, energy: np.ndarray) -> Metrics:
        return metrics_from_energy(self.scenario, energy)


def rollout(policy: Policy, scenario: Scenario, progress: bool = False) -> Rollout:
    """Play ``policy`` over every hour of ``scenario`` in a :class:`GLBEnv` (``share`` actions); a
    scenario with deferrable jobs or model choice in a FlexGLBEnv (:class:`eglb.agents.knob_rollout.KnobEpisode`)."""
    start = time.perf_counter()
    episode = KnobEpisode(scenario) if scenario.flexible else _PlainEpisode(scenario)
    begin = time.perf_counter()
    policy.reset(scenario)
    deciding = time.perf_counter() - begin
    energy = np.empty((scenario.n_regions, scenario.n_hours))
    infos: list[dict] = []
    total = 0.0
    hours = range(scenario.n_hours)
    shape = (scenario.n_regions, scenario.n_gateways)
    for t in tqdm(hours, desc=policy.name, leave=False, disable=not progress, unit="h"):
        begin = time.perf_counter()
        action = policy.act(episode.view(t))
        deciding += time.perf_counter() - begin
        if not scenario.flexible:  # a knob policy's action is checked by its episode
            action = checked_action(action, shape, f"the routing {policy.name} gave for hour {t}", ROUTING, exact=True)
        reward, info = episode.step(t, action)
        energy[:, t] = info["energy"]
        infos.append(dict(policy.info))
        total += reward
    return Rollout(policy.name, energy, episode.metrics(energy), total, infos, time.perf_counter() - start, deciding)
