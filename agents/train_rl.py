"""Training loop of the stable-baselines3 agents: periodic evaluation, checkpoints, resume, progress."""

from __future__ import annotations

import time
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from tqdm.auto import tqdm

from agents.config import RunConfig
from agents.evaluator import PeriodicEvaluator
from agents.learned import learned_policy
from agents.run_logging import run_logger
from agents.sb3_agents import Sb3Predictor, build_model, load_model, save_model
from agents.training_env import vector_env
from envs.files import atomic_write
from envs.scenario import Scenario


class EvaluateAndCheckpoint(BaseCallback):
    """Every ``eval_freq`` environment steps: score on held-out traces, keep the best model, checkpoint."""

    def __init__(self, config: RunConfig, evaluator: PeriodicEvaluator, folder: Path):
        super().__init__()
        self.config, self.evaluator, self.folder = config, evaluator, folder
        self.next_eval = None

    def _on_training_start(self) -> None:
        self.next_eval = (self.num_timesteps // self.config.eval_freq + 1) * self.config.eval_freq
        self._since = (time.perf_counter(), self.num_timesteps)

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.config.eval_freq
            self.evaluate()
        return True

    def evaluate(self) -> None:
        """Score the current model, log, keep it if best, and checkpoint."""
        since_time, since_steps = getattr(self, "_since", (time.perf_counter(), self.num_timesteps))
        rate = (self.num_timesteps - since_steps) / max(time.perf_counter() - since_time, 1e-9)
        policy = learned_policy(Sb3Predictor(self.model), self.config, self.config.algo)
        ratio, improved = self.evaluator.record(self.num_timesteps, policy, steps_per_second=rate)
        self.logger.record("eval/ratio_to_offline", ratio)
        self.logger.record("time/steps_per_second", rate)
        self.logger.dump(self.num_timesteps)
        if improved:
            save_model(self.model, self.folder / "best_model.zip")
        checkpoint(self.model, self.folder)
        self._since = (time.perf_counter(), self.num_timesteps)


class ProgressBar(BaseCallback):
    def __init__(self, total: int):
        super().__init__()
        self.total = total

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, initial=self.num_timesteps, desc="training steps", unit="step")

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        return True

    def _on_training_end(self) -> None:
        self.bar.close()


def checkpoint(model, folder: Path) -> None:
    """The model (and the replay buffer of off-policy algorithms), written atomically."""
    target = folder / "checkpoint"
    target.mkdir(parents=True, exist_ok=True)
    save_model(model, target / "model.zip")
    if hasattr(model, "replay_buffer") and model.replay_buffer is not None:
        atomic_write(target / "replay_buffer.pkl", lambda tmp: model.save_replay_buffer(tmp))


def train_rl(config: RunConfig, training: Scenario | None, evaluator: PeriodicEvaluator, folder: Path,
             resuming: bool, progress: bool = True) -> None:
    """Train ``config.algo`` for ``config.timesteps`` environment steps (in total, across resumes)."""
    env = vector_env(config, training, config.seed)
    saved = folder / "checkpoint" / "model.zip"
    if resuming and saved.is_file():
        model = load_model(config.algo, saved, env=env)
        buffer = folder / "checkpoint" / "replay_buffer.pkl"
        if buffer.is_file() and hasattr(model, "load_replay_buffer"):
            model.load_replay_buffer(buffer)
    else:
        model = build_model(config.algo, env, config.model, config.seed)
    model.set_logger(run_logger(folder))
    evaluate = EvaluateAndCheckpoint(config, evaluator, folder)
    callbacks = [evaluate] + ([ProgressBar(config.timesteps)] if progress else [])
    remaining = config.timesteps - model.num_timesteps
    if remaining > 0:
        model.learn(remaining, callback=CallbackList(callbacks), reset_num_timesteps=False)
    if not evaluator.history or evaluator.history[-1]["steps"] < model.num_timesteps:
        evaluate.init_callback(model)
        evaluate.evaluate()
    save_model(model, folder / "model.zip")
    env.close()
