"""Periodic evaluation during training: J / J(eGLB-Off) on held-out scenarios, best-model
selection, ``eval.csv`` and the learning-curve PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agents.base import Policy
from agents.eglb_online import EGLBOnline
from agents.offline import EGLBOffline
from agents.rollout import rollout
from envs.files import atomic_write
from envs.scenario import Scenario


class PeriodicEvaluator:
    """Scores policies on fixed held-out scenarios and keeps the history of a run.

    Args:
        scenarios: the evaluation scenarios (never trained on).
        folder: the run folder (``eval.csv`` and ``learning_curve.png`` are written there).
    """

    def __init__(self, scenarios: list[Scenario], folder: Path):
        self.scenarios = scenarios
        self.folder = Path(folder)
        self.offline = np.array([EGLBOffline().solve(s).objective for s in scenarios])
        self.expert = float(np.mean([rollout(EGLBOnline(), s).metrics.J for s in scenarios] / self.offline))
        path = self.folder / "eval.csv"
        self.history = pd.read_csv(path).to_dict("records") if path.is_file() else []

    @property
    def best(self) -> float:
        return min((row["ratio_to_offline"] for row in self.history), default=float("inf"))

    def score(self, policy: Policy) -> float:
        """Mean J / J(eGLB-Off) of ``policy`` over the evaluation scenarios."""
        return float(np.mean([rollout(policy, s).metrics.J for s in self.scenarios] / self.offline))

    def record(self, steps: int, policy: Policy, **extra) -> tuple[float, bool]:
        """Score ``policy`` after ``steps`` training steps; returns (ratio, whether it is the best so far)."""
        ratio = self.score(policy)
        improved = ratio < self.best
        self.history.append({"steps": int(steps), "ratio_to_offline": ratio, "eglb_ratio": self.expert, **extra})
        atomic_write(self.folder / "eval.csv", lambda tmp: pd.DataFrame(self.history).to_csv(tmp, index=False))
        self.plot()
        return ratio, improved

    def plot(self) -> None:
        from report.plots import plt, save_figure

        frame = pd.DataFrame(self.history)
        figure, ax = plt.subplots(figsize=(7, 4))
        ax.plot(frame["steps"], frame["ratio_to_offline"], marker="o", label="learned policy")
        ax.axhline(self.expert, color="tab:red", linestyle="--", label=f"eGLB online ({self.expert:.4f})")
        ax.axhline(1.0, color="black", linewidth=0.8, label="eGLB-Off (hindsight optimum)")
        ax.set_xlabel("training steps (environment hours)")
        ax.set_ylabel("J / J(eGLB-Off) on held-out traces")
        ax.set_title(f"Learning curve ({self.folder.name})")
        ax.grid(alpha=0.3)
        ax.legend()
        save_figure(figure, self.folder / "learning_curve.png")
