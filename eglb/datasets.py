"""Offline datasets in the Minari format: trajectories of a policy on a task's training split.

    eglb-datasets --task history14-2024-weekly-v1 --policy eglb-off --episodes 50
    eglb-datasets --task synthetic-457-v1 --policy rhc:w=24,forecaster=seasonal,tail=seasonal --name rhc

(``eglb-datasets`` is ``python -m eglb.cli.datasets``.)

Each episode is one ``episode_hours`` window of the task's training split, drawn by the task's
environment ``eglb/TASK-vN`` (seeded), played by the policy through the ``share`` action mode:
observations are the environment's, actions the share of each gateway's load served in each region
(region-major [N*J]), rewards minus the hour's increase of J in USD (an episode's return is -J).
The hindsight optimum (``eglb-off``) is solved on each episode's window before it is played.

The dataset's ``ref_min_score`` and ``ref_max_score`` are the mean returns of GLB-Cost and eGLB-Off
on the same episodes, so ``100 * minari.get_normalized_score(dataset, returns)`` is the task's score
(:mod:`eglb.scores`) of a mean return. Datasets are written under ``--root`` (default
``$MINARI_DATASETS_PATH``, else Minari's ``~/.minari/datasets``), never into the repository: on the
history tasks they derive from Electricity Maps data under ODbL (share-alike). Load one with
``minari.load_dataset("eglb/TASK/POLICY-vN")``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eglb.envs.errors import InputError
from eglb.registry import AlgorithmOptions, build
from eglb.scores import OPTIMUM, REFERENCE
from eglb.tasks import task

#: Most episodes a dataset may hold (a year of hourly steps per episode stays far below memory).
MAX_EPISODES = 10_000


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset: ``policy`` on ``episodes`` training episodes of ``task``.

    Attributes:
        task: the task id. policy: an algorithm spec (eglb-off, eglb, rhc:..., a run folder...).
        name: the dataset's policy name in its id (default: the spec's kind, e.g. ``rhc``).
        episodes: how many episodes. seed: seed of the first episode's draw (episode k uses seed + k).
        root: folder of the Minari datasets (None: $MINARI_DATASETS_PATH or Minari's default).
        overwrite: replace an existing dataset of the same id.
    """

    task: str
    policy: str = OPTIMUM
    name: str | None = None
    episodes: int = 20
    seed: int = 0
    root: str | None = None
    overwrite: bool = False

    def __post_init__(self):
        object.__setattr__(self, "task", task(self.task).id)
        if not isinstance(self.policy, str) or not self.policy:
            raise InputError(f"policy must be an algorithm spec, got {self.policy!r}")
        name = self.name or re.split(r"[:(]", self.policy)[0]
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise InputError(f"dataset name {name!r}: use lowercase letters, digits, '-' and '_' (e.g. --name rhc)")
        object.__setattr__(self, "name", name)
        for label, value, low in (("episodes", self.episodes, 1), ("seed", self.seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InputError(f"{label} must be an integer >= {low}, got {value!r}")
        if self.episodes > MAX_EPISODES:
            raise InputError(f"episodes must be at most {MAX_EPISODES}, got {self.episodes}")

    @property
    def dataset_id(self) -> str:
        chosen = task(self.task)
        return f"eglb/{chosen.name}/{self.name}-v{chosen.version}"


def _play(policy, window, env, seed: int):
    """Play ``policy`` over the episode window through ``env`` (reset to this window): a Minari
    EpisodeBuffer of observations [T+1, D], actions [T, N*J], rewards, terminations, truncations."""
    from minari.data_collector.episode_buffer import EpisodeBuffer

    from eglb.agents.base import HourView
    from eglb.envs.actions import shares_from_routing

    base = env.unwrapped
    observations, actions, rewards, terminations, truncations = [env.last_observation], [], [], [], []
    policy.reset(window)
    for t in range(window.n_hours):
        action = shares_from_routing(policy.act(HourView(window, t, base.state)), window.workload[:, t])
        observation, reward, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        actions.append(action)
        rewards.append(float(reward))
        terminations.append(bool(terminated))
        truncations.append(bool(truncated))
    return EpisodeBuffer(
        seed=seed,
        observations=np.asarray(observations, dtype=env.observation_space.dtype),
        actions=np.asarray(actions, dtype=env.action_space.dtype),
        rewards=rewards,
        terminations=terminations,
        truncations=truncations,
    )


def _policy_for(spec: str, options: AlgorithmOptions, window):
    """A Policy for one episode: offline solvers are solved on the window and replayed."""
    from eglb.agents.base import OfflineSolver
    from eglb.agents.replay import Replay

    algorithm = build(spec, options)
    return Replay(algorithm.solve(window), spec) if isinstance(algorithm, OfflineSolver) else algorithm


def make_dataset(config: DatasetConfig, options: AlgorithmOptions | None = None, progress: bool = False):
    """Collect the episodes and write the dataset; returns the loaded :class:`minari.MinariDataset`."""
    import gymnasium as gym
    import minari
    from tqdm.auto import tqdm

    from eglb.envs.shifts import ShiftedScenario
    from eglb.evaluation import run_case

    options = options or AlgorithmOptions()
    build(config.policy, options)  # a bad spec fails before anything is collected
    if config.root is not None:
        os.environ["MINARI_DATASETS_PATH"] = str(Path(config.root).resolve())
    if config.dataset_id in minari.list_local_datasets():
        if not config.overwrite:
            raise InputError(f"dataset {config.dataset_id} exists (under {datasets_root()}): pass --overwrite to replace it")
        minari.delete_dataset(config.dataset_id)
    env = gym.make(f"eglb/{config.task}", action_mode="share")
    buffers, anchors = [], []
    for episode in tqdm(range(config.episodes), desc=config.dataset_id, unit="episode", disable=not progress):
        observation, _ = env.reset(seed=config.seed + episode)
        env.last_observation = observation
        base = env.unwrapped
        window = base.scenario.window(base.start, base.start + base.hours)
        buffers.append(_play(_policy_for(config.policy, options, window), window, env, config.seed + episode))
        results, offline_J = run_case([REFERENCE], options, ShiftedScenario(window))
        anchors.append((results[0].metrics.J, offline_J))
    J_ref, J_opt = np.mean(anchors, axis=0)
    chosen = task(config.task)
    dataset = minari.create_dataset_from_buffers(
        dataset_id=config.dataset_id,
        buffer=buffers,
        env=env.spec,
        eval_env=env.spec,
        algorithm_name=config.policy,
        author="eglb",
        author_email="see the project's README",
        code_permalink="https://github.com/eglb/eglb (eglb/datasets.py)",
        ref_min_score=-float(J_ref),
        ref_max_score=-float(J_opt),
        description=(
            f"{config.policy} on {config.episodes} training episodes of {chosen.id} (seeds {config.seed}..{config.seed + config.episodes - 1}): "
            f"{chosen.summary}. Actions: shares of each gateway's load per region (region-major); reward: minus the "
            "hour's increase of J (USD). ref_min_score / ref_max_score: mean returns of GLB-Cost / eGLB-Off on the same episodes."
        ),
        data_format="arrow",
    )
    env.close()
    return dataset


def datasets_root() -> str:
    return os.environ.get("MINARI_DATASETS_PATH", str(Path.home() / ".minari" / "datasets"))
