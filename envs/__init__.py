"""Scenarios, data loaders and the Gymnasium environment of equity-aware geographical load balancing.

``gymnasium.make("envs:GLB-v0")`` builds :class:`GLBEnv` on the embedded synthetic scenario; pass
``scenario=...`` and the other arguments of :class:`GLBEnv` as keyword arguments.
"""

import gymnasium

from envs.errors import InputError
from envs.glb_env import GLBEnv
from envs.metrics import FootprintState, Metrics, metrics_from_energy, metrics_from_routing, objective
from envs.scenario import Scenario, hourly_timestamps

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
    gymnasium.register(id="GLB-v0", entry_point="envs.glb_env:GLBEnv")
