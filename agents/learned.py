"""Learned policies acting through the common policy interface, and loading them from run folders.

A run folder (written by train.py) holds ``config.yaml`` and the model: ``best_model.zip`` /
``model.zip`` for stable-baselines3 algorithms, ``best.pt`` / ``model.pt`` for the imitation
policy. :func:`load_learned` prefers the best model found by periodic evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from agents.base import HourView, Policy
from agents.config import EnvConfig, RunConfig
from envs.actions import ActionDecoder
from envs.errors import InputError
from envs.observation import EpisodeObserver, ObservationBuilder, ObservationScale
from envs.scenario import Scenario

MODEL_FILES = {"bc": ("best.pt", "model.pt")}
SB3_FILES = ("best_model.zip", "model.zip")


class LearnedPolicy(Policy):
    """Observes as in training, asks ``predict(obs) -> action`` and decodes the action to a routing.

    Args:
        predict: maps an observation (float32 [D]) to an action of ``env.action_mode``; it may have a
            ``reset()`` method (recurrent policies), called at the start of every episode.
        env: the training environment's configuration (observation and action settings).
        scale: the observation scale fixed at training time.
        shape: (regions, gateways) the policy was trained for.
        name: the label in tables. seed: seed of the forecast noise, if any.
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], env: EnvConfig, scale: ObservationScale,
                 shape: tuple[int, int], name: str, seed: int = 0):
        super().__init__()
        self.extra_features: Callable[[], np.ndarray] | None = None  # appended to observations (robust-aware runs)
        self.predict = predict
        self.env_config = env
        self.shape = tuple(shape)
        self.builder = ObservationBuilder(shape[0], shape[1], scale, env.forecast_hours, env.forecast_noise)
        self.name = name
        self.seed = seed

    def reset(self, scenario: Scenario) -> None:
        if (scenario.n_regions, scenario.n_gateways) != self.shape:
            raise InputError(
                f"policy {self.name!r} was trained for {self.shape[0]} regions x {self.shape[1]} gateways; "
                f"scenario {scenario.name!r} has {scenario.n_regions} x {scenario.n_gateways}"
            )
        super().reset(scenario)
        self.observer = EpisodeObserver(self.builder, scenario, 0, scenario.n_hours, np.random.default_rng(self.seed))
        self.decoder = ActionDecoder(self.env_config.action_mode, self.router, self.env_config.routing_temperature)
        if hasattr(self.predict, "reset"):
            self.predict.reset()

    def observe(self, view: HourView) -> np.ndarray:
        """The observation the policy sees at ``view.t``."""
        obs = self.observer.observe(view.t, view.state.footprint)
        return obs if self.extra_features is None else np.concatenate([obs, self.extra_features()])

    def act(self, view: HourView) -> np.ndarray:
        return self.decoder.decode(self.predict(self.observe(view)), view.t)


def read_run_config(folder: Path) -> RunConfig:
    """The configuration of a run folder, with a clear error if it is not one."""
    folder = Path(folder)
    path = folder / "config.yaml"
    if not folder.is_dir():
        raise InputError(f"run folder {folder} does not exist")
    if not path.is_file():
        raise InputError(f"{folder} is not a run folder: it has no config.yaml")
    try:
        return RunConfig.from_dict(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {exc}") from None


def model_path(folder: Path, algo: str) -> Path:
    """The best model of a run if periodic evaluation saved one, else the final model."""
    for name in MODEL_FILES.get(algo, SB3_FILES):
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    raise InputError(f"run folder {folder} has no trained model yet ({' or '.join(MODEL_FILES.get(algo, SB3_FILES))})")


def load_learned(kind: str, folder: str | Path, options=None, name: str | None = None) -> Policy:
    """The policy of a run folder as a :class:`LearnedPolicy` (``kind`` must match the run's algo)."""
    folder = Path(folder)
    config = read_run_config(folder)
    if config.algo != kind:
        raise InputError(f"{folder} holds a {config.algo} run, not {kind} (use {config.algo}:{folder})")
    if config.observation_scale is None or config.scenario_shape is None:
        raise InputError(f"{folder}/config.yaml has no observation scale or scenario shape; the run never started")
    device = getattr(options, "device", "cpu")
    env = config.env
    if getattr(options, "forecast_noise", None) is not None:
        env = replace(env, forecast_noise=options.forecast_noise)
    path = model_path(folder, kind)
    if kind == "bc":
        from agents.imitation import load_network

        predict = load_network(path)
    else:
        from agents.sb3_agents import Sb3Predictor, load_model

        predict = Sb3Predictor(load_model(kind, path, device))
    return learned_policy(predict, replace(config, env=env), name or f"{kind}:{folder}")


def learned_policy(predict: Callable[[np.ndarray], np.ndarray], config: RunConfig, name: str) -> Policy:
    """The policy of a trained predictor; runs trained with the layer inside get the layer around them."""
    policy = LearnedPolicy(predict, config.env, config.observation_scale, config.scenario_shape, name, config.seed)
    if config.env.residual:
        from agents.residual import ResidualPolicy

        return ResidualPolicy(policy, name)
    if config.robust is None:
        return policy
    from robust.layer import RobustPolicy, Slack

    layer = RobustPolicy(policy, lam=config.robust.lam, slack=Slack(config.robust.b, config.robust.slack), name=name)
    policy.extra_features = layer.features
    return layer
