"""The imitation policy ("ML optimizer"): a network that predicts the hindsight optimum's dual prices.

What it learns. At any hour t of an episode, with cumulative footprints E_t, the best possible
continuation is eGLB-Off on the remaining hours started from E_t; its LP duals gamma*(t) (one
distribution over regions per footprint, see agents/offline.py) are the prices that make the
cheapest routing at q = p + mu_c gamma_c c + mu_w gamma_w w follow that continuation. The network
maps the observation (the hour's inputs, time, the equity state) to gamma in [0, 1]^(2N) and acts
through the environment's ``dual`` action, i.e. the online expert's own exact routing routine.

Why duals rather than routings: 2N numbers instead of N*J, every prediction is turned into a
feasible and locally optimal routing by the exact routine, and with the true duals this routing
is within 0.1 % of eGLB-Off (measured on synthetic and published traces); small errors in the
duals cost little, while errors in a routing would be paid directly.

How it learns: DAgger (Ross, Gordon, Bagnell 2011). Iteration 0 follows the hindsight optimum's
own duals; later iterations follow the current network, so the labels cover the states the
network actually reaches. Every ``label_every`` hours (random offset) the remaining-horizon LP is
solved from the visited state and its duals become the label; the network is refit on all labels
so far (mean squared error on gamma). The labelling LPs run in a process pool.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, fields
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from agents.offline import EGLBOffline
from envs.actions import action_from_dual
from envs.errors import InputError
from envs.files import atomic_write
from envs.scenario import Scenario


@dataclass(frozen=True)
class ImitationSettings:
    """Hyperparameters of the imitation policy (the ``model`` block of ``bc.yml``).

    Attributes:
        episodes_per_iteration: training episodes rolled out per DAgger iteration.
        label_every: hours between labels within an episode.
        epochs: passes over all labels at each refit. learning_rate, batch_size, weight_decay: Adam.
        hidden: widths of the hidden layers (tanh).
        workers: processes solving the labelling LPs.
    """

    episodes_per_iteration: int = 100
    label_every: int = 8
    epochs: int = 60
    learning_rate: float = 1e-3
    batch_size: int = 256
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (256, 256)
    workers: int = 2

    @classmethod
    def from_dict(cls, values: dict) -> ImitationSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise InputError(f"unknown bc hyperparameter {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
        values = dict(values)
        if "hidden" in values:
            values["hidden"] = tuple(int(h) for h in values["hidden"])
        return cls(**values)


class DualNetwork(nn.Module):
    """MLP from an observation [D] to dual prices gamma [2N] in (0, 1)."""

    def __init__(self, observation_size: int, n_regions: int, hidden: tuple[int, ...]):
        super().__init__()
        layers, width = [], observation_size
        for size in hidden:
            layers += [nn.Linear(width, size), nn.Tanh()]
            width = size
        layers.append(nn.Linear(width, 2 * n_regions))
        self.body = nn.Sequential(*layers)
        self.observation_size = observation_size
        self.n_regions = n_regions
        self.hidden = tuple(hidden)

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(observation))


class NetworkPredictor:
    """``obs -> dual action`` of a DualNetwork, for LearnedPolicy."""

    def __init__(self, network: DualNetwork):
        self.network = network.eval()

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            gamma = self.network(torch.as_tensor(observation, dtype=torch.float32)[None])[0].numpy().astype(float)
        n = self.network.n_regions
        return action_from_dual(gamma[:n], gamma[n:])


def save_network(network: DualNetwork, path: Path) -> Path:
    """Save the network's weights and architecture atomically."""
    buffer = io.BytesIO()
    torch.save({"state": network.state_dict(), "observation_size": network.observation_size,
                "n_regions": network.n_regions, "hidden": list(network.hidden)}, buffer)
    return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))


def load_network(path: Path) -> NetworkPredictor:
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        network = DualNetwork(saved["observation_size"], saved["n_regions"], tuple(saved["hidden"]))
        network.load_state_dict(saved["state"])
    except (OSError, RuntimeError, KeyError, EOFError) as exc:
        raise InputError(f"cannot load an imitation policy from {path}: {exc}") from None
    return NetworkPredictor(network)


def _label(job: tuple[Scenario, np.ndarray]) -> np.ndarray:
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
    def load(cls, path: Path) -> Dataset:
        with np.load(path) as data:
            return cls(data["observations"], data["labels"])


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
        self.network = DualNetwork(base.observation_space.shape[0], base.n_regions, settings.hidden)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
        self.dataset = Dataset(np.zeros((0, base.observation_space.shape[0]), np.float32), np.zeros((0, 2 * base.n_regions)))
        self.iteration = 0
        self.steps = 0

    def collect(self, episodes: int, follow_network: bool, pool) -> tuple[np.ndarray, np.ndarray]:
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
            done = False
            k = 0
            while not done:
                if k % self.settings.label_every == offset:
                    observations.append(obs)
                    jobs.append((window.window(k, window.n_hours), base.state.footprint.copy()))
                obs, _, done, _, _ = self.env.step(predictor(obs) if follow_network else fixed)
                k += 1
            self.steps += k
        labels = np.array(pool.map(_label, jobs, chunksize=4) if pool else [_label(j) for j in jobs])
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

    def run_iteration(self, pool) -> dict:
        """One DAgger iteration; returns figures for the logs."""
        start = time.perf_counter()
        steps_before = self.steps
        observations, labels = self.collect(self.settings.episodes_per_iteration, self.iteration > 0, pool)
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
        folder.mkdir(parents=True, exist_ok=True)
        self.dataset.save(folder / "dataset.npz")
        buffer = io.BytesIO()
        torch.save({"network": self.network.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "iteration": self.iteration, "steps": self.steps, "rng": self.rng.bit_generator.state}, buffer)
        atomic_write(folder / "trainer.pt", lambda tmp: tmp.write_bytes(buffer.getvalue()))

    def load_checkpoint(self, folder: Path) -> None:
        saved = torch.load(folder / "trainer.pt", map_location="cpu", weights_only=False)
        self.network.load_state_dict(saved["network"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.iteration, self.steps = saved["iteration"], saved["steps"]
        self.rng.bit_generator.state = saved["rng"]
        self.dataset = Dataset.load(folder / "dataset.npz")


def label_pool(workers: int):
    """A process pool for labelling LPs, or (one worker) a context giving None: label in-process."""
    return get_context("fork").Pool(workers) if workers > 1 else contextlib.nullcontext()
