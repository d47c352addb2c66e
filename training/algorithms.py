"""The table of training algorithms: adding one is a row here plus a hyperparameter file.

Each row names the algorithm as users type it (``--algo``), its family (``sb3``: a stable-baselines3
or sb3-contrib class trained by ``training/rl.py``; ``imitation``: DAgger on eGLB-Off duals in
``training/dagger.py``), the class (``module:Class``), its default SB3 policy, the hyperparameter file
in ``training/hyperparams/`` and the action modes it may train on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eglb.envs.errors import InputError

HYPERPARAMS = Path(__file__).with_name("hyperparams")


@dataclass(frozen=True)
class Algorithm:
    """One trainable algorithm.

    Attributes:
        name: as typed by users. family: "sb3" or "imitation". cls: "module:Class" of SB3 algorithms.
        policy: the default SB3 policy name. hyperparameters: file name in training/hyperparams.
        action_modes: action modes it trains on. off_policy: has a replay buffer (checkpointed).
        recurrent: keeps a hidden state between steps.
    """

    name: str
    family: str
    cls: str | None
    policy: str | None
    hyperparameters: str
    action_modes: tuple[str, ...] = ("dual", "routing")
    off_policy: bool = False
    recurrent: bool = False

    @property
    def hyperparameter_file(self) -> Path:
        return HYPERPARAMS / self.hyperparameters


ALGORITHMS = {
    a.name: a
    for a in (
        Algorithm("ppo", "sb3", "stable_baselines3:PPO", "MlpPolicy", "ppo.yml"),
        Algorithm("a2c", "sb3", "stable_baselines3:A2C", "MlpPolicy", "a2c.yml"),
        Algorithm("sac", "sb3", "stable_baselines3:SAC", "MlpPolicy", "sac.yml", off_policy=True),
        Algorithm("td3", "sb3", "stable_baselines3:TD3", "MlpPolicy", "td3.yml", off_policy=True),
        Algorithm("recurrent-ppo", "sb3", "sb3_contrib:RecurrentPPO", "MlpLstmPolicy", "recurrent-ppo.yml", recurrent=True),
        Algorithm("bc", "imitation", None, None, "bc.yml", action_modes=("dual",)),
    )
}
ALGOS = tuple(ALGORITHMS)


def algorithm(name: str) -> Algorithm:
    """The row of ``name``, or a clear error listing the known names."""
    if name not in ALGORITHMS:
        raise InputError(f"unknown algorithm {name!r}: --algo must be one of {', '.join(ALGOS)}")
    return ALGORITHMS[name]
