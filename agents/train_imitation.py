"""Training loop of the imitation policy (DAgger on eGLB-Off duals), with checkpoints and resume."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from tqdm.auto import tqdm

from agents.config import RunConfig
from agents.evaluator import PeriodicEvaluator
from agents.imitation import DAggerTrainer, ImitationSettings, NetworkPredictor, label_pool, save_network
from agents.learned import learned_policy
from agents.run_logging import run_logger
from agents.training_env import make_env
from envs.scenario import Scenario


def train_imitation(config: RunConfig, training: Scenario | None, evaluator: PeriodicEvaluator, folder: Path,
                    resuming: bool, progress: bool = True) -> None:
    """Run DAgger iterations until ``config.timesteps`` environment hours have been rolled out.

    After every iteration the network is scored on the held-out scenarios (best.pt keeps the best),
    saved as model.pt, and the trainer state (dataset, weights, optimizer, counters) is
    checkpointed, so an interrupted run resumes at the next iteration.
    """
    settings = ImitationSettings.from_dict(config.model)
    env = make_env(replace(config, env=replace(config.env, reward="J")), training, seed=config.seed)
    trainer = DAggerTrainer(env, settings, config.seed)
    checkpoint = folder / "checkpoint"
    if resuming and (checkpoint / "trainer.pt").is_file():
        trainer.load_checkpoint(checkpoint)
    per_iteration = settings.episodes_per_iteration * config.env.episode_hours
    iterations = max(1, math.ceil(config.timesteps / per_iteration))
    logger = run_logger(folder)
    with label_pool(settings.workers) as pool:
        for _ in tqdm(range(trainer.iteration, iterations), desc="DAgger iterations", disable=not progress,
                      initial=trainer.iteration, total=iterations):
            stats = trainer.run_iteration(pool)
            policy = learned_policy(NetworkPredictor(trainer.network), config, "bc")
            ratio, improved = evaluator.record(trainer.steps, policy, loss=stats["loss"], labels=stats["labels"],
                                               steps_per_second=stats["steps_per_second"])
            if improved:
                save_network(trainer.network, folder / "best.pt")
            save_network(trainer.network, folder / "model.pt")
            trainer.save_checkpoint(checkpoint)
            for key, value in stats.items():
                logger.record(f"train/{key}", value)
            logger.record("eval/ratio_to_offline", ratio)
            logger.dump(trainer.steps)
    logger.close()
