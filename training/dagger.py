"""Training the imitation policy ("ML optimizer"): DAgger on the hindsight optimum's dual prices.

What it learns. At any hour t of an episode, with cumulative footprints E_t, the best possible
continuation is eGLB-Off on the remaining hours started from E_t; its LP duals gamma*(t) (one
distribution over regions per footprint, see agents/offline.py) are the prices that make the cheapest
routing at q = p + mu_c gamma_c c + mu_w gamma_w w follow that continuation. The network
(agents/dual_network.py) maps the observation to gamma in [0, 1]^(2N) and acts through the
environment's ``dual`` action, the online expert's own exact routing routine.

Why duals rather than routings: 2N numbers instead of N*J, every prediction is turned into a
feasible and locally optimal routing by the exact routine, and with the true duals this routing is
close to eGLB-Off (docs/algorithms/learned.md, "The imitation policy"); small errors in the duals cost little, while
errors in a routing would be paid directly.

How it learns: DAgger (Ross, Gordon, Bagnell 2011). Iteration 0 follows the hindsight optimum's own
duals; later iterations follow the current network, so the labels cover the states the network
actually reaches. Every ``label_every`` hours (random offset) the remaining-horizon LP is solved from
the visited state and its duals become the label; the network is refit on all labels so far (mean
squared error on gamma). The labelling LPs are independent: they run in a process pool, or on Ray
(any ``map`` callable can be given).
"""

from __future__ import annotations

import contextlib
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from eglb.agents.dual_network import DualNetwork, NetworkPredictor
from eglb.agents.learned import PolicyCard
from eglb.agents.offline import EGLBOffline
from eglb.envs.actions import action_from_dual
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write, atomic_write_json, load_arrays, load_tensors, read_json
from eglb.envs.limits import MAX_ELEMENTS, MAX_ROWS, MAX_STEPS, check_size
from eglb.envs.scenario import Scenario
from eglb.robust.learned import learned_policy
from eglb.training.config import ImitationSettings, RunConfig, policy_io
from eglb.training.envs import make_env
from eglb.training.evaluator import PeriodicEvaluator
from eglb.training.run_folder import RunFolder
from eglb.training.sb3 import save_torch
from tqdm.auto import tqdm

#: A labelling job: the remaining hours of an episode and the footprint [2, N] accumulated before them.
LabelJob = tuple[Scenario, np.ndarray]
#: Maps the labelling function over jobs, keeping their order (a process pool's map, Ray tasks, ...).
Mapper = Callable[[Callable[[LabelJob], np.ndarray], list[LabelJob]], list[np.ndarray]]


def label(job: LabelJob) -> np.ndarray:
    """The dual prices [2N] of the remaining-horizon eGLB-Off from the job's state."""
    remaining, footprint = job
    return EGLBOffline().solve(remaining, initial_footprint=footprint).duals.ravel()


@dataclass
class Dataset:
    """Observations [M, D] and dual labels [M, 2N] gathered so far."""

    observations: np.ndarray
    labels: np.ndarray

    def extend(self, observations: np.ndarray, labels: np.ndarray) -> Dataset:
        return Dataset(np.concatenate([self.observations, observations]), np.concatenate([self.labels, labels]))

    def save(self, path: Path) -> Path:
        buffer = io.BytesIO()
        np.savez(buffer, observations=self.observations, labels=self.labels)
        return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))

    @classmethod
    def load(cls, path: Path, observation_size: int, label_size: int, max_rows: int) -> Dataset:
        """The dataset saved in ``path``: [M, observation_size] and [M, label_size] with M <= max_rows, finite."""
        arrays = load_arrays(
            path,
            "a DAgger dataset",
            {"observations": (None, observation_size), "labels": (None, label_size)},
            max_elements=min(max_rows * max(observation_size, label_size), MAX_ELEMENTS),
        )
        if len(arrays["observations"]) != len(arrays["labels"]):
            raise InputError(
                f"cannot use a DAgger dataset from {path}: {len(arrays['observations'])} observations but {len(arrays['labels'])} labels"
            )
        return cls(arrays["observations"], arrays["labels"])


class DAggerTrainer:
    """Collect, label and refit, one DAgger iteration at a time.

    Args:
        env: a training environment in ``dual`` action mode (its episodes are the training traces).
        settings: ImitationSettings. seed: seed of the network and of the label offsets.
    """

    def __init__(self, env, settings: ImitationSettings, seed: int):
        if env.unwrapped.action_mode != "dual":
            raise InputError("bc imitates the hindsight optimum's duals: env.action_mode must be 'dual'")
        self.env = env
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        base = env.unwrapped
        size = base.observation_space.shape[0]
        self.network = DualNetwork(size, base.n_regions, settings.hidden)
        self.optimizer = torch.optim.Adam(
            self.network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        self.dataset = Dataset(np.zeros((0, size), np.float32), np.zeros((0, 2 * base.n_regions)))
        self.iteration = 0
        self.steps = 0

    def collect(self, episodes: int, follow_network: bool, mapper: Mapper) -> tuple[np.ndarray, np.ndarray]:
        """Roll out ``episodes`` episodes and label every ``label_every``-th visited state."""
        base = self.env.unwrapped
        predictor = NetworkPredictor(self.network)
        observations, jobs = [], []
        for _ in range(episodes):
            obs, _ = self.env.reset(seed=int(self.rng.integers(2**31 - 1)))
            window = base.scenario.window(base.start, base.start + base.hours)
            if not follow_network:
                duals = EGLBOffline().solve(window).duals
                fixed = action_from_dual(duals[0], duals[1])
            offset = int(self.rng.integers(self.settings.label_every))
            done, k = False, 0
            while not done:
                if k % self.settings.label_every == offset:
                    observations.append(obs)
                    jobs.append((window.window(k, window.n_hours), base.state.footprint.copy()))
                obs, _, done, _, _ = self.env.step(predictor(obs) if follow_network else fixed)
                k += 1
            self.steps += k
        labels = np.array(mapper(label, jobs))
        return np.array(observations, dtype=np.float32), labels

    def fit(self) -> float:
        """Refit on every label so far; returns the last epoch's mean squared error."""
        settings = self.settings
        x = torch.as_tensor(self.dataset.observations)
        y = torch.as_tensor(self.dataset.labels, dtype=torch.float32)
        generator = torch.Generator().manual_seed(int(self.rng.integers(2**31 - 1)))
        self.network.train()
        loss_value = float("nan")
        for _ in range(settings.epochs):
            order = torch.randperm(len(x), generator=generator)
            total = 0.0
            for start in range(0, len(x), settings.batch_size):
                batch = order[start : start + settings.batch_size]
                loss = ((self.network(x[batch]) - y[batch]) ** 2).mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                total += loss.item() * len(batch)
            loss_value = total / len(x)
        self.network.eval()
        return loss_value

    def run_iteration(self, mapper: Mapper) -> dict:
        """One DAgger iteration; returns figures for the logs."""
        start = time.perf_counter()
        steps_before = self.steps
        observations, labels = self.collect(self.settings.episodes_per_iteration, self.iteration > 0, mapper)
        self.dataset = self.dataset.extend(observations, labels)
        collected = time.perf_counter() - start
        loss = self.fit()
        self.iteration += 1
        return {
            "iteration": self.iteration,
            "labels": len(self.dataset.labels),
            "loss": loss,
            "steps_per_second": (self.steps - steps_before) / max(collected, 1e-9),
            "seconds": time.perf_counter() - start,
        }

    # ------------------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, folder: Path) -> None:
        """Dataset (npz), weights and optimizer (torch state dicts) and counters and random state (JSON)."""
        self.dataset.save(folder / "dataset.npz")
        save_torch({"network": self.network.state_dict(), "optimizer": self.optimizer.state_dict()}, folder / "trainer.pt")
        atomic_write_json(
            folder / "trainer.json", {"iteration": self.iteration, "steps": self.steps, "rng": self.rng.bit_generator.state}
        )

    def load_checkpoint(self, folder: Path) -> None:
        saved = load_tensors(folder / "trainer.pt", "a checkpoint")
        counters = read_json(folder / "trainer.json", "checkpoint's counters")
        try:
            self.network.load_state_dict(saved["network"])
            self.optimizer.load_state_dict(saved["optimizer"])
            self.iteration = check_size(counters.get("iteration"), "iteration", MAX_ROWS, low=0)
            self.steps = check_size(counters.get("steps"), "steps", MAX_STEPS, low=0)
            self.rng.bit_generator.state = counters["rng"]
        except Exception as exc:  # a corrupt or foreign checkpoint: torch and numpy raise many kinds
            raise InputError(f"cannot resume from {folder}: {str(exc).splitlines()[0]}") from None
        # At most one label per hour rolled out.
        self.dataset = Dataset.load(folder / "dataset.npz", self.network.observation_size, 2 * self.network.n_regions, self.steps)


@contextlib.contextmanager
def local_mapper(workers: int, start_method: str = "fork"):
    """A process pool's ordered map for the labelling LPs, or the plain in-process map for one worker."""
    if workers <= 1:
        yield lambda function, jobs: [function(job) for job in jobs]
        return
    with get_context(start_method).Pool(workers) as pool:
        yield lambda function, jobs: pool.map(function, jobs, chunksize=4)


def train_imitation(
    config: RunConfig,
    training: Scenario | None,
    evaluator: PeriodicEvaluator,
    run: RunFolder,
    logger,
    checkpoint=None,
    progress: bool = True,
    mapper: Mapper | None = None,
    start_method: str = "fork",
) -> None:
    """Run DAgger iterations until ``config.timesteps`` environment hours have been rolled out.

    After every iteration the network is scored on the held-out scenarios (best_policy.pt keeps the
    best), saved as policy.pt, and the trainer state (dataset, weights, optimizer, counters) is
    checkpointed, so an interrupted run resumes at the next iteration.

    Args:
        mapper: how labelling LPs are mapped (default: a local process pool of ``model.workers``).
        start_method: how that pool's processes start ("fork", or "spawn" inside Ray workers).
    """
    settings = ImitationSettings.from_dict(config.model)
    env = make_env(replace(config, env=replace(config.env, reward="J")), training, seed=config.seed)
    trainer = DAggerTrainer(env, settings, config.seed)
    if checkpoint:
        trainer.load_checkpoint(checkpoint[1])
    PolicyCard("bc", trainer.network.spec(), policy_io(config)).save(run.path)
    per_iteration = settings.episodes_per_iteration * config.env.episode_hours
    iterations = max(1, math.ceil(config.timesteps / per_iteration))
    with contextlib.nullcontext(mapper) if mapper else local_mapper(settings.workers, start_method) as labels:
        for _ in tqdm(
            range(trainer.iteration, iterations),
            desc="DAgger iterations",
            disable=not progress,
            initial=trainer.iteration,
            total=iterations,
        ):
            stats = trainer.run_iteration(labels)
            policy = learned_policy(NetworkPredictor(trainer.network), policy_io(config), "bc", config.seed)
            for key, value in stats.items():
                logger.record(f"train/{key}", value)
            _, improved = evaluator.record(
                trainer.steps, policy, loss=stats["loss"], labels=stats["labels"], steps_per_second=stats["steps_per_second"]
            )
            if improved:
                save_torch(trainer.network.state_dict(), run.path / "best_policy.pt")
            save_torch(trainer.network.state_dict(), run.path / "policy.pt")
            folder = run.checkpoint_folder(trainer.steps)
            trainer.save_checkpoint(folder)
            run.finish_checkpoint(folder, trainer.steps, eval_rows=len(evaluator.history))
