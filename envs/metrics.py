"""The eGLB objective and the reported metrics: the one place they are computed.

The environment's reward, the offline solvers' reported values, the robustification layer's budget
and every evaluation table call :func:`objective` (J of a cumulative state) or
:func:`metrics_from_energy` (all metrics of a trajectory). SPEC section 2:

    J = sum_i E_i + mu_w * max_i W_i + mu_c * max_i C_i
    Cost = sum_i E_i / N,  PAR(water) = max_i W_i / mean_i W_i,  PAR(carbon) likewise.

Footprints travel as one [2, N] array, row 0 water (m^3) and row 1 carbon (t), weighted by
``scenario.footprint_weights`` = (mu_w, mu_c): the E[k, i] of SPEC section 6.

With deferrable jobs and model choice (docs/model/flexibility.md) the region energies include the
jobs' energy, and three money terms join the energy cost in J: checkpoint transfers, work left
undone at deadlines and the accuracy shortfall (:func:`knob_costs`). Without them all three are 0
and every number is the core model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eglb.envs.flexibility import Jobs, ModelChoice
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
        transfer_cost: checkpoint transfers of jobs run away from home, USD (in J, not in ``cost``).
        unfinished: work left undone at the jobs' deadlines, MWh (a violation).
        unfinished_penalty: its price in J, USD.
        accuracy: the model-choice class's average accuracy (NaN without a model choice).
        accuracy_penalty: the price in J of the average accuracy below its target, USD.
    """

    J: float
    cost: float
    cost_total: float
    par_water: float
    par_carbon: float
    region_cost: np.ndarray
    region_water: np.ndarray
    region_carbon: np.ndarray
    transfer_cost: float = 0.0
    unfinished: float = 0.0
    unfinished_penalty: float = 0.0
    accuracy: float = float("nan")
    accuracy_penalty: float = 0.0


def unfinished_penalty(jobs: Jobs | None, unfinished: np.ndarray | float) -> float:
    """USD charged for ``unfinished`` MWh of work ([M] per job, or a total) left at the deadlines."""
    if jobs is None:
        return 0.0
    return float(jobs.penalty * np.sum(unfinished))


def accuracy_shortfall(models: ModelChoice, model_load: np.ndarray) -> float:
    """Accuracy points below the target times MWh of class requests (>= 0), for ``model_load`` [K]
    MWh of class requests (at model 0) served by each model."""
    return max(0.0, -float(models.surplus @ np.asarray(model_load, dtype=float)))


def knob_costs(scenario: Scenario, unfinished: np.ndarray | None, model_load: np.ndarray | None) -> tuple[float, float, float]:
    """(unfinished MWh, their penalty USD, the accuracy penalty USD) of a finished trajectory.

    Args:
        unfinished: [M] MWh of each job's work left at its deadline (None: no jobs).
        model_load: [K] MWh of the class's requests (at model 0) served by each model over the
            horizon (None: all by model 0).
    """
    left = 0.0 if unfinished is None else float(np.sum(unfinished))
    models = scenario.models
    if models is None:
        accuracy = 0.0
    else:
        load = model_load if model_load is not None else np.eye(models.count)[0] * models.share * scenario.workload.sum()
        accuracy = models.penalty * accuracy_shortfall(models, load)
    return left, unfinished_penalty(scenario.jobs, left), accuracy


def average_accuracy(models: ModelChoice | None, model_load: np.ndarray | None) -> float:
    """The class's request-weighted average accuracy (NaN without a model choice or requests)."""
    if models is None:
        return float("nan")
    if model_load is None:
        return float(models.accuracy[0])
    total = float(np.sum(model_load))
    return float(models.accuracy @ model_load / total) if total > 0 else float("nan")


def metrics_from_energy(
    scenario: Scenario,
    energy: np.ndarray,
    transfer_cost: float = 0.0,
    unfinished: np.ndarray | None = None,
    model_load: np.ndarray | None = None,
) -> Metrics:
    """Metrics of a trajectory of region energies ``energy`` [N, T] (MW per hour) over ``scenario``.

    Args:
        energy: [N, T] every MWh drawn in each region and hour (interactive load at the models
            that served it, plus jobs and their transfers' energy).
        transfer_cost: USD of checkpoint transfers (jobs only).
        unfinished: [M] MWh of each job's work left at its deadline (jobs only; None: none).
        model_load: [K] MWh of class requests served by each model (model choice only; None: all
            by model 0).
    """
    energy = np.asarray(energy, dtype=float)
    if energy.shape != scenario.price.shape:
        raise ValueError(f"energy has shape {energy.shape}, expected {scenario.price.shape} (regions x hours)")
    region_cost = (scenario.price * energy).sum(axis=1)
    footprint = (scenario.intensity * energy).sum(axis=2)
    cost_total = float(region_cost.sum())
    extra = {}
    money = cost_total
    if scenario.flexible:
        left, left_penalty, accuracy_penalty = knob_costs(scenario, unfinished, model_load)
        extra = {
            "transfer_cost": float(transfer_cost),
            "unfinished": left,
            "unfinished_penalty": left_penalty,
            "accuracy": average_accuracy(scenario.models, model_load),
            "accuracy_penalty": accuracy_penalty,
        }
        money = cost_total + float(transfer_cost) + left_penalty + accuracy_penalty
    return Metrics(
        J=objective(money, footprint, scenario.footprint_weights),
        cost=cost_total / scenario.n_regions,
        cost_total=cost_total,
        par_water=peak_to_average(footprint[0]),
        par_carbon=peak_to_average(footprint[1]),
        region_cost=region_cost,
        region_water=footprint[0],
        region_carbon=footprint[1],
        **extra,
    )


def metrics_from_routing(scenario: Scenario, routing: np.ndarray) -> Metrics:
    """Metrics of a routing trajectory ``routing`` [T, N, J] (MW)."""
    return metrics_from_energy(scenario, np.asarray(routing, dtype=float).sum(axis=2).T)
