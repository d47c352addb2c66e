"""eGLB online: dual mirror descent (SPEC section 4), the expert of the robustification layer.

Dual prices gamma [2, N] (water row, carbon row; dimensionless: the share of mu_k charged to each
region's footprint) start at 0. Every hour, knowing only the present:

1. q[i] = p[i] + sum_k mu_k gamma[k, i] intensity[k, i]      (calibrated price, USD/MWh)
2. route the cheapest way at q (full mask: sort and fill; with a mask: greedy with augmenting
   paths, exact; :class:`eglb.envs.routing.Router`)
3. z = argmin_{0 <= z <= z_max} sum_k ||z_k||_inf - gamma . z, in closed form per footprint k:
   z[k, i] = min(s, z_max[k, i]) where gamma[k, i] > 0 (else 0), s from {0} U {z_max[k, i]}
4. gamma <- gamma + eta (b - z), b[k, i] = mu_k intensity[k, i] e[i] (the hour's weighted footprint).

Defaults, both settable:

* ``z_max[k, i] = mu_k * max_t (receivable[i, t] * intensity[k, i, t])``, where
  ``receivable[i, t] = min(capacity[i, t], sum of the workload of the gateways the mask lets
  region i serve at hour t)`` is the most energy region i can take in hour t in any feasible
  routing (the rank of {i} in the hour's polymatroid: the greedy routing that fills i first
  attains it). So every b_t lies in the box [0, z_max], and the box is as small as the hours allow:
  it does not grow with capacity that no load can reach. (The nominal bound mu_k * max capacity *
  max intensity scales with capacity: with every published capacity x1000 it shrank the step
  1000-fold and eGLB stayed at GLB-Cost, 2.66 x OPT.)
* ``eta = eta_scale / (G sqrt(T))`` with ``G = max_k,i z_max[k, i]`` (USD per hour) and T the
  episode length: the textbook O(1/sqrt(T)) step of mirror descent (Balseiro, Lu, Mirrokni 2021),
  made dimensionless by the size of a dual gradient, so gamma moves by O(1/sqrt(T)) per hour. The
  constant ``eta_scale = 0.25`` minimises J / J(eGLB-Off) on synthetic training seeds for
  T = 168, 457 and 2190 alike (docs/results/published.md, "eGLB's step size"), which is what the 1/sqrt(T) law predicts.

Consequences of the rule: where capacity never exceeds the load that can reach a region (the
published setting, M = 1 MW), z_max is the nominal bound and nothing changes; scaling every
capacity beyond the peak load (x10, x1000) gives the same z_max, the same steps and the same
routing, as it is the same problem. The ratio to eGLB-Off still differs between x1 and x10 because
the problems differ: with capacity that never binds, each hour's cheapest routing sends all load
to one region, and dual mirror descent pays more for that (about 1.18 x OPT on the published data
with capacity x10, against 1.03 at x1).
"""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.actions import calibrated_price
from eglb.envs.errors import InputError
from eglb.envs.flow import receivable
from eglb.envs.scenario import Scenario


def receivable_energy(scenario: Scenario) -> np.ndarray:
    """[N, T] the most energy (MW) region i can receive in hour t of a feasible routing (:func:`eglb.envs.flow.receivable`)."""
    return receivable(scenario.capacity, scenario.mask, scenario.workload)


def default_z_max(scenario: Scenario) -> np.ndarray:
    """[2, N] per-hour bound of each region's weighted footprint, USD (see the module docstring)."""
    bound = (scenario.intensity * receivable_energy(scenario)[None]).max(axis=2)
    return scenario.footprint_weights[:, None] * bound


#: The default multiplier of the step size (see the module docstring).
ETA_SCALE = 0.25


def default_eta(z_max: np.ndarray, hours: int, eta_scale: float = ETA_SCALE) -> float:
    """eta_scale / (max z_max * sqrt(hours)), per USD of weighted footprint per hour."""
    size = float(z_max.max())
    return eta_scale / (size * np.sqrt(hours)) if size > 0 else 0.0


def auxiliary_target(gamma: np.ndarray, z_max: np.ndarray) -> np.ndarray:
    """argmin over 0 <= z <= z_max of sum_k ||z_k||_inf - gamma[k] . z_k (closed form, [2, N])."""
    positive = gamma > 0
    # Candidate infinity norms s: 0 and every bound; z(s) caps the regions with gamma > 0 at s.
    levels = np.concatenate([np.zeros((z_max.shape[0], 1)), z_max], axis=1)  # [2, N+1]
    z = np.where(positive[:, None, :], np.minimum(levels[:, :, None], z_max[:, None, :]), 0.0)  # [2, N+1, N]
    value = z.max(axis=2) - np.einsum("ksn,kn->ks", z, gamma)
    best = value.argmin(axis=1)
    return z[np.arange(z.shape[0]), best]


class EGLBOnline(Policy):
    """Dual mirror descent for eGLB; see the module docstring.

    Args:
        eta: step size (per USD of weighted footprint per hour); None for the default above.
        eta_scale: multiplies the default step size (ignored when ``eta`` is given).
        z_max: [2, N] bound of the auxiliary variable (USD per hour); None for the default.
        name: the label in tables.
    """

    name = "eglb"
    information = "present only"

    def __init__(
        self, eta: float | None = None, eta_scale: float = ETA_SCALE, z_max: np.ndarray | None = None, name: str = "eglb"
    ):
        super().__init__()
        if eta is not None and (not np.isfinite(eta) or eta < 0):
            raise InputError(f"eGLB step size eta must be a finite number >= 0, got {eta}")
        if not np.isfinite(eta_scale) or eta_scale < 0:
            raise InputError(f"eGLB eta_scale must be a finite number >= 0, got {eta_scale}")
        self.eta_setting = eta
        self.eta_scale = eta_scale
        self.z_max_setting = None if z_max is None else np.asarray(z_max, dtype=float)
        self.name = name

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        n = scenario.n_regions
        if self.z_max_setting is not None:
            if self.z_max_setting.shape != (2, n) or (self.z_max_setting < 0).any():
                raise InputError(f"eGLB z_max must be a [2, {n}] array of numbers >= 0")
            self.z_max = self.z_max_setting
        else:
            self.z_max = default_z_max(scenario)
        self.eta = self.eta_setting if self.eta_setting is not None else default_eta(self.z_max, scenario.n_hours, self.eta_scale)
        self.gamma = np.zeros((2, n))
        self._weights = scenario.footprint_weights[:, None]

    def act(self, view: HourView) -> np.ndarray:
        routing = self.router.cheapest(self.prices(view.t, self.gamma), view.t)
        self.learn(routing.sum(axis=1), view.t)
        return routing

    def prices(self, t: int, gamma: np.ndarray) -> np.ndarray:
        """Calibrated prices q [N] (USD/MWh) of hour t at duals gamma [2, N] (steps 1 of SPEC 4)."""
        scenario = self.scenario
        intensity = scenario.intensity[:, :, t]
        return calibrated_price(
            scenario.price[:, t], intensity[0], intensity[1], gamma[0], gamma[1], scenario.mu_water, scenario.mu_carbon
        )

    def learn(self, energy: np.ndarray, t: int) -> None:
        """Steps 3 and 4 of SPEC 4: move the duals by the hour's weighted footprint of ``energy`` [N]."""
        footprint = self._weights * self.scenario.intensity[:, :, t] * energy
        self.gamma = self.gamma + self.eta * (footprint - auxiliary_target(self.gamma, self.z_max))
