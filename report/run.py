"""Run a list of algorithms on one scenario and collect one result per algorithm."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from eglb.agents.base import OfflineSolver, Policy
from eglb.agents.offline import EGLBOffline
from eglb.agents.replay import Replay
from eglb.agents.rollout import rollout
from eglb.envs.metrics import Metrics
from eglb.envs.scenario import Scenario
from tqdm.auto import tqdm


@dataclass
class AlgorithmResult:
    """One algorithm's episode on a scenario.

    Attributes:
        name: the spec the user typed (or the policy's name).
        metrics: its metrics (from the environment's replay).
        energy: [N, T] executed region energies, MW.
        seconds: wall-clock time (solve plus replay for offline solvers).
        extra: algorithm-specific figures for the tables (e.g. the robust layer's bound).
        infos: the policy's per-hour info dicts.
        decision_seconds: time spent deciding (the policy's reset and every act; an offline solver's
            solve), the same measure for every algorithm.
        information: what the algorithm knew when it acted (its ``information``; "not declared" if it
            does not say).
        seed: the policy's training seed (one seed of a run group), None for an algorithm that is not trained.
    """

    name: str
    metrics: Metrics
    energy: np.ndarray
    seconds: float
    extra: dict = field(default_factory=dict)
    infos: list = field(default_factory=list)
    decision_seconds: float = 0.0
    information: str = "not declared"
    seed: int | None = None


def run_algorithm(spec: str, algorithm: Policy | OfflineSolver, scenario: Scenario) -> AlgorithmResult:
    """Play a policy, or solve and replay an offline solver, over the whole scenario."""
    start = time.perf_counter()
    if isinstance(algorithm, OfflineSolver):
        begin = time.perf_counter()
        solution = algorithm.solve(scenario)
        deciding = time.perf_counter() - begin
        episode = rollout(Replay(solution, spec), scenario)
        extra = {"solver_seconds": solution.seconds}
    else:
        episode = rollout(algorithm, scenario)
        deciding = episode.decision_seconds
        summary = getattr(algorithm, "summary", None)
        extra = summary() if callable(summary) else {}
        if extra.get("nonfinite_actions"):
            warnings.warn(
                f"{spec}: {extra['nonfinite_actions']} of {scenario.n_hours} hours of {scenario.name!r} gave a non-finite "
                "action (NaN or infinity), played as envs/actions.py documents; its J is not the policy's own "
                "(column nonfinite_actions)",
                stacklevel=2,
            )
    information = getattr(algorithm, "information", None) or "not declared"
    seconds = time.perf_counter() - start
    return AlgorithmResult(spec, episode.metrics, episode.energy, seconds, extra, episode.infos, deciding, information)


def run_algorithms(
    algorithms: list[tuple[str, Policy | OfflineSolver]],
    scenario: Scenario,
    progress: bool = True,
    reference: OfflineSolver | None = None,
) -> tuple[list[AlgorithmResult], float]:
    """Run every (name, algorithm) on ``scenario``; also return J of eGLB-Off (solved by ``reference``,
    default EGLBOffline(), if not among them)."""
    results = []
    for name, algorithm in tqdm(algorithms, desc="algorithms", unit="algo", disable=not progress):
        results.append(run_algorithm(name, algorithm, scenario))
    offline = next((r.metrics.J for r in results if r.name == "eglb-off"), None)
    if offline is None:
        offline = (reference or EGLBOffline()).solve(scenario).objective
    return results, offline
