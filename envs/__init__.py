"""Scenarios, data loaders and the Gymnasium environment of equity-aware geographical load balancing.

``gymnasium.make("eglb.envs:GLB-v0")`` builds :class:`GLBEnv` on the embedded synthetic scenario; pass
``scenario=...`` and the other arguments of :class:`GLBEnv` as keyword arguments.
"""

import gymnasium
from eglb.envs.errors import InputError
from eglb.envs.glb_env import GLBEnv
from eglb.envs.metrics import FootprintState, Metrics, metrics_from_energy, metrics_from_routing, objective
from eglb.envs.scenario import Scenario, hourly_timestamps

__all__ = [
    "GLBEnv",
    "FootprintState",
    "InputError",
    "Metrics",
    "Scenario",
    "hourly_timestamps",
    "metrics_from_energy",
    "metrics_from_routing",
    "objective",
]

if "GLB-v0" not in gymnasium.registry:
    gymnasium.register(id="GLB-v0", entry_point="eglb.envs.glb_env:GLBEnv")
if "GLB-Flex-v0" not in gymnasium.registry:  # deferrable jobs and model choice (envs/flex_env.py)
    gymnasium.register(id="GLB-Flex-v0", entry_point="eglb.envs.flex_env:FlexGLBEnv")

if __name__ != "eglb.envs":  # the folder envs/ is the package eglb.envs, never a top-level envs
    raise ImportError(f"import eglb.envs, not {__name__} (the repository's folders are mapped into the eglb package)")
