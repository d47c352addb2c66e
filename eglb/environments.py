"""Ready-to-train environment ids: the settings our own training uses, registered with Gymnasium.

``GLB-v0`` (registered by ``import envs``) is the raw environment: routing actions, rewards in USD,
one fixed synthetic trace. It learns nothing in a short budget. The ids here are what to train on:

=====================  ======================================================================
id                     what it is
=====================  ======================================================================
GLB-Synthetic-v0       a new calibrated synthetic trace every episode, one week (168 h) per
                       episode, dual-price actions as corrections of the eGLB expert's duals
                       (residual: the action 0 is eGLB), reward = the expert's hourly J increase
                       minus the agent's, in thousands of USD. Recommended.
GLB-Eglb2022-v0        the published 10-region data set (found through $EGLB2022_DATA or
                       ../shared/data/eglb-2022), random 96-hour windows of its first 304
                       hours (the rest is held out), the same actions and reward.
=====================  ======================================================================

``import eglb`` registers them; ``gymnasium.make("eglb:GLB-Synthetic-v0")`` imports and makes in one
step, and rl-zoo3 finds them with ``--gym-packages eglb``. Keyword arguments of ``gymnasium.make``
(``render_mode``, ``seed``, and the environment block's settings such as ``episode_hours``) are
passed on; an unknown one is an error that lists the known ones.
"""

from __future__ import annotations

import gymnasium as gym

from eglb.envs.validation import check_value
from eglb.training.envs import VARIANTS, variant_config, variant_policy_io

__all__ = ["VARIANTS", "make_variant", "register", "variant_config", "variant_policy_io"]


def make_variant(env_id: str, render_mode: str | None = None, seed: int | None = None, **changes) -> gym.Env:
    """Build a registered variant (the entry point of the ids); ``seed`` seeds its first reset and its
    action space, ``changes`` are settings of the environment block (training.config.EnvConfig)."""
    from eglb.training.envs import make_env

    config = variant_config(env_id, **changes)
    scenario = None
    if VARIANTS[env_id] == "eglb2022":
        from eglb.envs.eglb2022 import load_eglb2022

        scenario = load_eglb2022().window(0, 304)
    return make_env(config, scenario, seed=check_value("seed", seed, int | None), render_mode=render_mode)


def register() -> None:
    for env_id in VARIANTS:
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=make_variant, kwargs={"env_id": env_id})
