"""Periodic evaluation during training: J / J(eGLB-Off) on held-out scenarios, the best model, and listeners.

The evaluator scores a policy on fixed held-out scenarios (never trained on), appends a row to the
run's history and tells every listener. Listeners write what users look at (``eval.csv``, TensorBoard
scalars, the learning curve), report to tuners (Ray Tune) or call user callbacks; the evaluator itself
writes nothing, so training imports no plotting and no tuner.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from eglb.agents.base import Policy
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.knob_policies import EGLBKnobs
from eglb.agents.offline import EGLBOffline
from eglb.agents.rollout import rollout
from eglb.envs.scenario import Scenario

#: A listener: called with the new row and the whole history after every evaluation.
Listener = Callable[[dict, list[dict]], None]


class PeriodicEvaluator:
    """Scores policies on fixed held-out scenarios and keeps the history of a run.

    Args:
        scenarios: the evaluation scenarios (never trained on).
        history: rows of earlier evaluations (a resumed run).
        listeners: called after every evaluation with (row, history).

    Rows hold ``steps``, ``ratio_to_offline`` (mean J / J(eGLB-Off) over the scenarios; ``ratio_K``
    scenario K's), ``eglb_ratio`` (the online expert's on the same scenarios), the mean ``cost`` (USD),
    ``par_water`` and ``par_carbon``, plus whatever the training loop adds (loss, steps per second, ...).
    """

    def __init__(self, scenarios: list[Scenario], history: list[dict] = (), listeners: list[Listener] = ()):
        self.scenarios = scenarios
        self.offline = np.array([EGLBOffline().solve(s).objective for s in scenarios])
        # The online expert is eGLB; on a scenario with knobs, eGLB with its knob rules (as the registry's "eglb").
        experts = [EGLBKnobs() if s.flexible else EGLBOnline() for s in scenarios]
        self.expert = float(np.mean([rollout(e, s).metrics.J for e, s in zip(experts, scenarios)] / self.offline))
        self.history = list(history)
        self.listeners = list(listeners)

    @property
    def best(self) -> float:
        """The best held-out ratio of an evaluation whose every action was finite."""
        return min((row["ratio_to_offline"] for row in self.history if not row.get("nonfinite_actions")), default=float("inf"))

    def score(self, policy: Policy) -> dict:
        """Mean J / J(eGLB-Off), Cost and PARs of ``policy`` over the evaluation scenarios (``ratio_K``:
        scenario K's), and the hours whose action held NaN or infinity (``nonfinite_actions``, summed over
        the scenarios)."""
        metrics, nonfinite = [], 0
        for scenario in self.scenarios:
            metrics.append(rollout(policy, scenario).metrics)
            summary = getattr(policy, "summary", None)
            nonfinite += (summary() if callable(summary) else {}).get("nonfinite_actions", 0)
        ratios = [m.J for m in metrics] / self.offline
        return {
            "nonfinite_actions": nonfinite,
            "ratio_to_offline": float(np.mean(ratios)),
            **{f"ratio_{k}": float(ratio) for k, ratio in enumerate(ratios)},
            "eglb_ratio": self.expert,
            "cost": float(np.mean([m.cost for m in metrics])),
            "par_water": float(np.mean([m.par_water for m in metrics])),
            "par_carbon": float(np.mean([m.par_carbon for m in metrics])),
        }

    def record(self, steps: int, policy: Policy, **extra) -> tuple[dict, bool]:
        """Score ``policy`` after ``steps`` training steps; returns (the row, whether it is the best so far).

        A policy that gave a non-finite action is never the best: its J is that of the fallback actions.
        """
        row = {"steps": int(steps), **self.score(policy), **extra}
        improved = row["ratio_to_offline"] < self.best and not row["nonfinite_actions"]
        self.history.append(row)
        for listener in self.listeners:
            listener(row, self.history)
        return row, improved


def write_evaluations(history: list[dict], scenarios: list[Scenario], path: Path) -> Path:
    """The history in stable-baselines3's ``evaluations.npz`` format (its EvalCallback's, which
    rl-zoo3's plotting scripts read): ``timesteps`` [n], ``results`` [n, scenarios] and ``ep_lengths``
    [n, scenarios]. A result is minus J / J(eGLB-Off) of one held-out scenario (SB3 plots rewards,
    higher is better: -1 is the hindsight optimum); an episode's length is its scenario's hours. Rows
    of runs from before per-scenario columns repeat the mean."""
    import io

    from eglb.envs.files import atomic_write

    results = np.array(
        [[-row.get(f"ratio_{k}", row["ratio_to_offline"]) for k in range(len(scenarios))] for row in history], dtype=float
    ).reshape(len(history), len(scenarios))
    buffer = io.BytesIO()
    np.savez(
        buffer,
        timesteps=np.array([int(row["steps"]) for row in history], dtype=np.int64),
        results=results,
        ep_lengths=np.tile([s.n_hours for s in scenarios], (len(history), 1)),
    )
    return atomic_write(Path(path), lambda tmp: tmp.write_bytes(buffer.getvalue()))


def tensorboard_listener(logger) -> Listener:
    """Held-out figures as TensorBoard scalars ``eval/...`` through the run's SB3 logger (the row's
    training step in ``time/total_timesteps``, by which a resume trims the logs)."""
    from eglb.training.run_log import STEP_COLUMN

    def record(row: dict, history: list[dict]) -> None:
        logger.record(STEP_COLUMN, row["steps"])
        for key in ("ratio_to_offline", "eglb_ratio", "cost", "par_water", "par_carbon"):
            logger.record(f"eval/{key}", row[key])
        logger.dump(row["steps"])

    return record


def log_hyperparameters(logger, hyperparameters: dict) -> None:
    """The run's settings in TensorBoard's HPARAMS tab, tied to the held-out ratio."""
    from stable_baselines3.common.logger import HParam

    logger.record(
        "hparams",
        HParam(hyperparameters, {"eval/ratio_to_offline": 0.0, "eval/eglb_ratio": 0.0}),
        exclude=("stdout", "log", "json", "csv"),
    )
    logger.dump(0)
