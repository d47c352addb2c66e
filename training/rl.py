"""Training loop of the stable-baselines3 agents: periodic evaluation, best weights, checkpoints, resume, progress."""

from __future__ import annotations

import time

from eglb.agents.learned import PolicyCard
from eglb.agents.sb3_policy import Sb3Predictor
from eglb.envs.scenario import Scenario
from eglb.robust.learned import learned_policy
from eglb.training.callbacks import PeriodicCallback
from eglb.training.config import RunConfig, policy_io
from eglb.training.envs import close_vector_env, vector_env, worker_failure
from eglb.training.evaluator import PeriodicEvaluator
from eglb.training.run_folder import RunFolder
from eglb.training.sb3 import build_model, network_spec, restore_state, save_policy_weights, save_state
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from tqdm.auto import tqdm


class EvaluateAndCheckpoint(PeriodicCallback):
    """Every ``evaluation_interval`` environment steps: score on held-out traces, keep the best weights, checkpoint."""

    def __init__(self, config: RunConfig, evaluator: PeriodicEvaluator, run: RunFolder):
        super().__init__(config.evaluation_interval)
        self.config, self.evaluator, self.run = config, evaluator, run

    def _on_training_start(self) -> None:
        super()._on_training_start()
        self._since = (time.perf_counter(), self.num_timesteps)

    def evaluate(self) -> None:
        """Score the current policy, keep it if best, save the latest weights and checkpoint."""
        since_time, since_steps = getattr(self, "_since", (time.perf_counter(), self.num_timesteps))
        rate = (self.num_timesteps - since_steps) / max(time.perf_counter() - since_time, 1e-9)
        policy = learned_policy(Sb3Predictor(self.model.policy), policy_io(self.config), self.config.algo, self.config.seed)
        _, improved = self.evaluator.record(self.num_timesteps, policy, steps_per_second=rate)
        folder = self.run.path
        if improved:
            save_policy_weights(self.model, folder / "best_policy.pt")
        save_policy_weights(self.model, folder / "policy.pt")
        checkpoint = self.run.checkpoint_folder(self.num_timesteps)
        save_state(self.model, checkpoint)
        self.run.finish_checkpoint(checkpoint, self.num_timesteps, eval_rows=len(self.evaluator.history))
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


def train_rl(
    config: RunConfig,
    training: Scenario | None,
    evaluator: PeriodicEvaluator,
    run: RunFolder,
    logger,
    checkpoint=None,
    progress: bool = True,
    start_method: str = "fork",
) -> None:
    """Train ``config.algo`` for ``config.timesteps`` environment steps in total (across resumes).

    Args:
        training: the training scenario (random windows), or None for a new synthetic trace per episode.
        checkpoint: the (info, folder) to resume from, or None for a new run.
        logger: the run's SB3 logger (CSV + TensorBoard).
        start_method: how subprocess environments start ("fork", or "spawn" inside Ray workers).
    """
    steps = checkpoint[0]["steps"] if checkpoint else 0
    # A resumed run draws other episodes than its first start: the environments' seed moves with the steps.
    env = vector_env(config, training, config.seed + steps, run.path, start_method)
    try:
        model = build_model(config.algo, env, config.model, config.seed)
        if checkpoint:
            restore_state(model, checkpoint[1])
        PolicyCard(config.algo, network_spec(config.algo, model, config.model), policy_io(config)).save(run.path)
        model.set_logger(logger)
        evaluate = EvaluateAndCheckpoint(config, evaluator, run)
        callbacks = [evaluate] + ([ProgressBar(config.timesteps)] if progress else [])
        remaining = config.timesteps - model.num_timesteps
        try:
            if remaining > 0:
                model.learn(remaining, callback=CallbackList(callbacks), reset_num_timesteps=False)
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise worker_failure(run.path) from None
        if not evaluator.history or evaluator.history[-1]["steps"] < model.num_timesteps:
            evaluate.init_callback(model)
            evaluate.evaluate()
    finally:
        close_vector_env(env)
