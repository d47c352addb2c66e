"""stable-baselines3 policies at inference, rebuilt from a policy card and plain weights (no pickle).

An SB3 ``model.zip`` stores spaces, schedules and keyword arguments as pickled Python objects, and
unpickling runs whatever code the file names. Our own runs never need that: the policy card says
which SB3 algorithm and policy class, the network's keyword arguments (as JSON) and the sizes of the
observation and action boxes, so the policy is rebuilt here and only its weights (a torch state
dict) are loaded, with ``weights_only=True``. A foreign zip (a model trained elsewhere) can only be
loaded through SB3 itself, which unpickles: :func:`load_foreign_zip` refuses unless the caller opts
in explicitly.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.limits import (
    MAX_LAYER_WIDTH,
    MAX_LAYERS,
    MAX_OBSERVATION,
    check_parameters,
    check_size,
    check_widths,
    mlp_parameters,
)

#: Modules whose algorithm classes a policy card may name (nothing else is imported from a card).
ALGORITHM_MODULES = ("stable_baselines3", "sb3_contrib")
ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu")
#: Most critics of an off-policy algorithm (SB3's default is 2).
MAX_CRITICS = 16


def algorithm_class(path: str):
    """The SB3 algorithm class named ``module:Class`` (e.g. ``stable_baselines3:PPO``), from the allowed modules."""
    from stable_baselines3.common.base_class import BaseAlgorithm

    module, _, name = str(path).partition(":")
    if module not in ALGORITHM_MODULES or not name.isidentifier():
        raise InputError(f"unknown SB3 algorithm {path!r} (expected stable_baselines3:NAME or sb3_contrib:NAME)")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseAlgorithm)):
        raise InputError(f"{path!r} is not a stable-baselines3 algorithm")
    return cls


def policy_kwargs(values: dict) -> dict:
    """SB3 ``policy_kwargs`` from their JSON form (the activation function by name)."""
    import torch.nn as nn

    kwargs = dict(values)
    activation = kwargs.pop("activation_fn", None)
    if activation is not None:
        table = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU}
        if activation not in table:
            raise InputError(f"policy_kwargs.activation_fn must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        kwargs["activation_fn"] = table[activation]
    return kwargs


def check_sizes(network: dict, outputs: int) -> None:
    """Bound every size of a card's SB3 network before it is built (envs/limits.py): its observation
    and action sizes (the action must have ``outputs`` entries), its layers, LSTM and critics, and the
    parameters of all its networks together (an upper estimate)."""
    inputs = check_size(network.get("observation_size"), "network.observation_size", MAX_OBSERVATION)
    action = network.get("action")
    if not isinstance(action, dict) or action.get("size") != outputs:
        raise InputError(f"network.action must be a box of {outputs} entries (the io's action), got {action!r}")
    kwargs = network.get("policy_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise InputError(f"network.policy_kwargs must be a mapping, got {kwargs!r}")
    arch = kwargs.get("net_arch", [64, 64])
    chains = list(arch.values()) if isinstance(arch, dict) else [arch]
    widths = [check_widths(chain, "network.policy_kwargs.net_arch") if chain != [] else () for chain in chains]
    lstm = check_size(kwargs.get("lstm_hidden_size", 256), "network.policy_kwargs.lstm_hidden_size", MAX_LAYER_WIDTH)
    layers = check_size(kwargs.get("n_lstm_layers", 1), "network.policy_kwargs.n_lstm_layers", MAX_LAYERS)
    critics = check_size(kwargs.get("n_critics", 2), "network.policy_kwargs.n_critics", MAX_CRITICS)
    per_network = max(mlp_parameters((inputs + outputs, *chain, outputs)) for chain in widths)
    recurrent = 2 * layers * 4 * lstm * (inputs + lstm + 2) if "lstm" in str(network.get("policy", "")).lower() else 0
    check_parameters(per_network * (2 * critics + 2) + recurrent, "the SB3 network")


def spaces_of(network: dict):
    """The observation and action boxes a card's SB3 network was trained on."""
    from gymnasium import spaces

    action = network["action"]
    observation = spaces.Box(-np.inf, np.inf, shape=(int(network["observation_size"]),), dtype=np.float32)
    return observation, spaces.Box(float(action["low"]), float(action["high"]), shape=(int(action["size"]),), dtype=np.float32)


def build_policy(network: dict, where: Path | str):
    """A fresh SB3 policy of the card's architecture (weights still to be loaded)."""
    try:
        cls = algorithm_class(network["algorithm"])
        policy_class = cls.policy_aliases[network["policy"]]
        observation, action = spaces_of(network)
        return policy_class(observation, action, lambda _: 0.0, **policy_kwargs(network.get("policy_kwargs", {})))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{where}: cannot rebuild the SB3 policy of {network!r}: {exc}") from None


class Sb3Predictor:
    """Deterministic actions of an SB3 policy (or model), keeping the LSTM state of recurrent policies."""

    def __init__(self, policy):
        self.policy = policy
        self.recurrent = hasattr(getattr(policy, "policy", policy), "lstm_actor")
        self.reset()

    def reset(self) -> None:
        self.state = None
        self.episode_start = np.ones((1,), dtype=bool)

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        if self.recurrent:
            action, self.state = self.policy.predict(
                observation, state=self.state, episode_start=self.episode_start, deterministic=True
            )
            self.episode_start = np.zeros((1,), dtype=bool)
            return action
        return self.policy.predict(observation, deterministic=True)[0]


def load_foreign_zip(algorithm: str, path: Path | str, allow_pickle: bool):
    """An SB3 model saved elsewhere (``model.save``), loaded by SB3 itself.

    SB3 unpickles parts of the zip, which can execute code: only with ``allow_pickle=True`` (the
    ``--allow-pickle`` flag of evaluate.py), for files you trust.
    """
    path = Path(path)
    if not allow_pickle:
        raise InputError(
            f"{path} is a stable-baselines3 zip, and loading one unpickles Python objects, which can execute code "
            "from the file: pass --allow-pickle (allow_pickle=True) only for a file you trust"
        )
    if not path.is_file():
        raise InputError(f"SB3 model file {path} does not exist")
    try:
        return algorithm_class(algorithm).load(path, device="cpu")
    except (ValueError, KeyError, OSError, EOFError) as exc:
        raise InputError(f"cannot load a {algorithm} model from {path}: {exc}") from None
