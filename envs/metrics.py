"""The eGLB objective and the reported metrics: the one place they are computed.

The environment's reward, the offline solvers' reported values, the robustification layer's budget
and every evaluation table call :func:`objective` (J of a cumulative state) or
:func:`metrics_from_energy` (all metrics of a trajectory). SPEC section 2:

    J = sum_i E_i + mu_w * max_i W_i + mu_c * max_i C_i
    Cost = sum_i E_i / N,  PAR(water) = max_i W_i / mean_i W_i,  PAR(carbon) likewise.

Footprints travel as one [2, N] array, row 0 water (m^3) and row 1 carbon (t), weighted by
``scenario.footprint_weights`` = (mu_w, mu_c): the E[k, i] of SPEC section 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eglb.envs.scenario import Scenario


def objective(cost: float, footprint: np.ndarray, weights: np.ndarray) -> float:
    """J of a cumulative state: energy cost plus the weighted worst regional footprints.

    Args:
        cost: cumulative energy cost over all regions, USD.
        footprint: [2, N] cumulative water (m^3) and carbon (t) footprint per region.
        weights: [2] mu_w (USD/m^3) and mu_c (USD/t).
    """
    return float(cost + weights @ footprint.max(axis=1))


@dataclass
class FootprintState:
    """The cumulative state S = (F, E) of a trajectory (SPEC section 6), advanced hour by hour.

    Attributes:
        cost: cumulative energy cost F over all regions, USD.
        footprint: [2, N] cumulative water (m^3) and carbon (t) footprint per region.
    """

    cost: float
    footprint: np.ndarray

    @classmethod
    def zeros(cls, n_regions: int) -> FootprintState:
        return cls(0.0, np.zeros((2, n_regions)))

    @property
    def water(self) -> np.ndarray:
        return self.footprint[0]

    @property
    def carbon(self) -> np.ndarray:
        return self.footprint[1]

    def add(self, cost: float, footprint: np.ndarray) -> None:
        """Add one hour's energy cost (USD, all regions) and footprint [2, N]."""
        self.cost += cost
        self.footprint += footprint

    def objective(self, weights: np.ndarray) -> float:
        """J of this state for footprint weights [2] (mu_w, mu_c)."""
        return objective(self.cost, self.footprint, weights)

    def copy(self) -> FootprintState:
        return FootprintState(self.cost, self.footprint.copy())


def peak_to_average(values: np.ndarray) -> float:
    """max / mean of regional totals; 1.0 is perfectly equal (also when every total is 0)."""
    mean = float(np.mean(values))
    return float(np.max(values)) / mean if mean > 0 else 1.0


@dataclass(frozen=True)
class Metrics:
    """Everything reported for one trajectory. Arrays are [N] per-region totals over the horizon.

    Attributes:
        J: eGLB objective, USD.
        cost: mean regional energy cost sum_i E_i / N, USD (the published "Cost (US$)").
        cost_total: sum_i E_i, USD.
        par_water, par_carbon: peak-to-average ratios of the regional footprints.
        region_cost: [N] E_i, USD. region_water: [N] W_i, m^3. region_carbon: [N] C_i, t.
    """

    J: float
    cost: float
    cost_total: float
    par_water: float
    par_carbon: float
    region_cost: np.ndarray
    region_water: np.ndarray
    region_carbon: np.ndarray


def metrics_from_energy(scenario: Scenario, energy: np.ndarray) -> Metrics:
    """Metrics of a trajectory of region energies ``energy`` [N, T] (MW per hour) over ``scenario``."""
    energy = np.asarray(energy, dtype=float)
    if energy.shape != scenario.price.shape:
        raise ValueError(f"energy has shape {energy.shape}, expected {scenario.price.shape} (regions x hours)")
    region_cost = (scenario.price * energy).sum(axis=1)
    footprint = (scenario.intensity * energy).sum(axis=2)
    cost_total = float(region_cost.sum())
    return Metrics(
        J=objective(cost_total, footprint, scenario.footprint_weights),
        cost=cost_total / scenario.n_regions,
        cost_total=cost_total,
        par_water=peak_to_average(footprint[0]),
        par_carbon=peak_to_average(footprint[1]),
        region_cost=region_cost,
        region_water=footprint[0],
        region_carbon=footprint[1],
    )


def metrics_from_routing(scenario: Scenario, routing: np.ndarray) -> Metrics:
    """Metrics of a routing trajectory ``routing`` [T, N, J] (MW)."""
    return metrics_from_energy(scenario, np.asarray(routing, dtype=float).sum(axis=2).T)
