"""stable-baselines3 models in training: building them, exporting the policy, checkpoints without pickle.

SB3's own ``save``/``load`` pickle parts of the model; nothing here does. The policy is exported as
its card entry (``network_spec``) plus a torch state dict; a checkpoint is a torch file of state
dicts and counters (loadable with ``weights_only=True``) and, for off-policy algorithms, the replay
buffer's arrays in a ``.npz`` (loaded without ``allow_pickle``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from eglb.agents.sb3_policy import algorithm_class, policy_kwargs
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write, load_arrays, load_tensors
from eglb.envs.limits import MAX_ELEMENTS
from eglb.training.algorithms import algorithm


def build_model(algo: str, env, params: dict, seed: int, device: str = "cpu"):
    """A new SB3 model for ``env`` from the hyperparameters ``params`` (the YAML ``model`` block).

    Besides SB3's own keyword arguments, ``policy`` (default: the algorithm table's),
    ``policy_kwargs.activation_fn`` as a name, and ``action_noise_std`` (Gaussian exploration noise
    for TD3 and SAC, in action units) are understood.
    """
    from stable_baselines3.common.noise import NormalActionNoise

    row = algorithm(algo)
    params = dict(params)
    policy = params.pop("policy", row.policy)
    if "policy_kwargs" in params:
        params["policy_kwargs"] = policy_kwargs(params["policy_kwargs"])
    # The rollout or replay buffer SB3 allocates at once: bounded before it is asked for.
    steps = params.get("buffer_size", 1_000_000) if row.off_policy else params.get("n_steps", 2048) * getattr(env, "num_envs", 1)
    numbers = steps * (2 * env.observation_space.shape[0] + env.action_space.shape[0])
    if numbers > MAX_ELEMENTS:
        raise InputError(
            f"hyperparameters of {algo}: a buffer of {steps:,} steps of these observations holds {numbers:,} numbers; "
            f"at most {MAX_ELEMENTS:,} (lower model.buffer_size or model.n_steps)"
        )
    noise = params.pop("action_noise_std", None)
    if noise:
        size = env.action_space.shape[0]
        params["action_noise"] = NormalActionNoise(np.zeros(size), float(noise) * np.ones(size))
    try:
        return algorithm_class(row.cls)(policy, env, seed=seed, device=device, verbose=0, **params)
    except (TypeError, ValueError, AssertionError) as exc:
        raise InputError(f"hyperparameters of {algo}: {exc}") from None


def network_spec(algo: str, model, params: dict) -> dict:
    """The ``network`` entry of the policy card: enough to rebuild the policy for inference."""
    row = algorithm(algo)
    action = model.action_space
    return {
        "kind": "sb3",
        "algorithm": row.cls,
        "policy": params.get("policy", row.policy),
        "policy_kwargs": dict(params.get("policy_kwargs") or {}),
        "observation_size": int(model.observation_space.shape[0]),
        "action": {"low": float(np.min(action.low)), "high": float(np.max(action.high)), "size": int(action.shape[0])},
    }


def save_torch(data, path: Path) -> Path:
    """``torch.save`` through a temporary file (atomic)."""
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))


def save_policy_weights(model, path: Path) -> Path:
    """The policy's weights only (a state dict), for inference."""
    return save_torch(model.policy.state_dict(), path)


def _resolve(model, dotted: str):
    target = model
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


_BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def save_state(model, folder: Path) -> None:
    """Everything training needs to continue: networks, optimizers, counters, random state (state.pt),
    and the replay buffer of off-policy algorithms (replay_buffer.npz)."""
    names, variables = model._get_torch_save_params()
    state = {
        "state_dicts": {name: _resolve(model, name).state_dict() for name in names},
        "variables": {name: _resolve(model, name).detach().clone() for name in variables},
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(getattr(model, "_n_updates", 0)),
        "episode_num": int(getattr(model, "_episode_num", 0)),
        "torch_rng": torch.get_rng_state(),
    }
    save_torch(state, Path(folder) / "state.pt")
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        arrays = {name: getattr(buffer, name) for name in _BUFFER_ARRAYS if getattr(buffer, name, None) is not None}
        arrays["position"] = np.array([buffer.pos, int(buffer.full)])
        data = io.BytesIO()
        np.savez(data, **arrays)
        atomic_write(Path(folder) / "replay_buffer.npz", lambda tmp: tmp.write_bytes(data.getvalue()))


def restore_state(model, folder: Path) -> None:
    """Load what :func:`save_state` wrote into a freshly built model of the same configuration."""
    path = Path(folder) / "state.pt"
    state = load_tensors(path, "a checkpoint")
    try:
        for name, values in state["state_dicts"].items():
            _resolve(model, name).load_state_dict(values)
        for name, value in state["variables"].items():
            _resolve(model, name).data.copy_(value)
        model.num_timesteps = int(state["num_timesteps"])
        model._n_updates = int(state["n_updates"])
        model._episode_num = int(state["episode_num"])
        torch.set_rng_state(state["torch_rng"])
    except Exception as exc:  # a corrupt, foreign or mismatched checkpoint: torch raises many kinds
        raise InputError(f"cannot resume from {path}: {str(exc).splitlines()[0]}") from None
    buffer_path = Path(folder) / "replay_buffer.npz"
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None and buffer_path.is_file():
        shapes = {name: getattr(buffer, name).shape for name in _BUFFER_ARRAYS if getattr(buffer, name, None) is not None}
        arrays = load_arrays(
            buffer_path, "a replay buffer", {**shapes, "position": (2,)}, max(int(np.prod(s)) for s in shapes.values())
        )
        for name in shapes:
            getattr(buffer, name)[...] = arrays[name]
        position, full = (int(v) for v in arrays["position"])
        if not 0 <= position < buffer.buffer_size or full not in (0, 1):
            raise InputError(
                f"cannot resume the replay buffer from {buffer_path}: position {position}, full {full} do not fit its size"
            )
        buffer.pos, buffer.full = position, bool(full)
