"""Reinforcement-learning agents through stable-baselines3: building, saving and loading models."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from envs.errors import InputError
from envs.files import atomic_write

ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu")


def algorithm_class(algo: str):
    """The SB3 (or sb3-contrib) class of an algorithm name."""
    from stable_baselines3 import A2C, PPO, SAC, TD3

    classes = {"ppo": PPO, "sac": SAC, "td3": TD3, "a2c": A2C}
    if algo == "recurrent-ppo":
        from sb3_contrib import RecurrentPPO

        return RecurrentPPO
    if algo not in classes:
        raise InputError(f"no stable-baselines3 algorithm named {algo!r}")
    return classes[algo]


def _policy_kwargs(values: dict) -> dict:
    import torch.nn as nn

    kwargs = dict(values)
    activation = kwargs.pop("activation_fn", None)
    if activation is not None:
        table = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU}
        if activation not in table:
            raise InputError(f"model.policy_kwargs.activation_fn must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        kwargs["activation_fn"] = table[activation]
    return kwargs


def build_model(algo: str, env, params: dict, seed: int, device: str = "cpu"):
    """A new SB3 model for ``env`` from the hyperparameters ``params`` (the YAML ``model`` block).

    Besides SB3's own keyword arguments, ``policy`` (default MlpPolicy / MlpLstmPolicy),
    ``policy_kwargs.activation_fn`` as a name, and ``action_noise_std`` (Gaussian exploration noise
    for TD3 and SAC, in action units) are understood.
    """
    from stable_baselines3.common.noise import NormalActionNoise

    params = dict(params)
    policy = params.pop("policy", "MlpLstmPolicy" if algo == "recurrent-ppo" else "MlpPolicy")
    if "policy_kwargs" in params:
        params["policy_kwargs"] = _policy_kwargs(params["policy_kwargs"])
    noise = params.pop("action_noise_std", None)
    if noise:
        size = env.action_space.shape[0]
        params["action_noise"] = NormalActionNoise(np.zeros(size), float(noise) * np.ones(size))
    try:
        return algorithm_class(algo)(policy, env, seed=seed, device=device, verbose=0, **params)
    except TypeError as exc:
        raise InputError(f"hyperparameters of {algo}: {exc}") from None


def save_model(model, path: Path) -> Path:
    """Save an SB3 model to ``path`` atomically."""
    buffer = io.BytesIO()
    model.save(buffer)
    return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))


def load_model(algo: str, path: Path, device: str = "cpu", env=None):
    """Load an SB3 model, with a clear error for a file that is not one."""
    try:
        return algorithm_class(algo).load(path, env=env, device=device)
    except (ValueError, KeyError, OSError) as exc:
        raise InputError(f"cannot load a {algo} model from {path}: {exc}") from None


class Sb3Predictor:
    """Deterministic actions of an SB3 model, keeping the LSTM state of recurrent policies."""

    def __init__(self, model):
        self.model = model
        self.recurrent = hasattr(model.policy, "lstm_actor")
        self.reset()

    def reset(self) -> None:
        self.state = None
        self.episode_start = np.ones((1,), dtype=bool)

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        if self.recurrent:
            action, self.state = self.model.predict(observation, state=self.state, episode_start=self.episode_start,
                                                    deterministic=True)
            self.episode_start = np.zeros((1,), dtype=bool)
            return action
        return self.model.predict(observation, deterministic=True)[0]
