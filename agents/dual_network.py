"""The imitation policy's network: an MLP from the observation to the dual prices of the hindsight optimum.

The network maps an observation [D] to gamma in (0, 1)^(2N) (water duals, then carbon duals), the
prices at which the online expert's exact routing routine follows the hindsight optimum; it acts
through the environment's ``dual`` action. Training (DAgger on eGLB-Off labels) lives in
``training/dagger.py``; this module is what inference needs.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from eglb.envs.actions import action_from_dual


class DualNetwork(nn.Module):
    """MLP from an observation [D] to dual prices gamma [2N] in (0, 1), tanh hidden layers.

    Args:
        observation_size: D. n_regions: N. hidden: widths of the hidden layers.
    """

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

    def spec(self) -> dict:
        """The architecture as JSON-ready data (the ``network`` entry of a policy card)."""
        return {
            "kind": "dual-mlp",
            "observation_size": self.observation_size,
            "n_regions": self.n_regions,
            "hidden": list(self.hidden),
        }


class NetworkPredictor:
    """``observation -> dual action`` of a DualNetwork (the action box of the ``dual`` mode)."""

    def __init__(self, network: DualNetwork):
        self.network = network.eval()

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            gamma = self.network(torch.as_tensor(observation, dtype=torch.float32)[None])[0].numpy().astype(float)
        n = self.network.n_regions
        return action_from_dual(gamma[:n], gamma[n:])
