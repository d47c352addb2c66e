"""Independent reference computations for tests: plain LPs over gateway-level variables (scipy)."""

from __future__ import annotations

import numpy as np
from eglb.envs.scenario import Scenario
from scipy.optimize import linprog


def cheapest_hour_cost(scenario: Scenario, t: int, price: np.ndarray) -> float:
    """min sum_ij price[i] x[i, j] over feasible routings of hour t, by a generic LP."""
    n, j = scenario.mask.shape
    pairs = np.argwhere(scenario.mask)
    cost = price[pairs[:, 0]]
    a_eq = np.zeros((j, len(pairs)))
    a_eq[pairs[:, 1], np.arange(len(pairs))] = 1
    a_ub = np.zeros((n, len(pairs)))
    a_ub[pairs[:, 0], np.arange(len(pairs))] = 1
    result = linprog(
        cost, A_ub=a_ub, b_ub=scenario.capacity[:, t], A_eq=a_eq, b_eq=scenario.workload[:, t], bounds=(0, None), method="highs"
    )
    assert result.status == 0, result.message
    return float(result.fun)


def offline_optimum(scenario: Scenario) -> float:
    """min J over all feasible routing trajectories, as one dense-indexed LP over x[i, j, t]."""
    n, j = scenario.mask.shape
    t_count = scenario.n_hours
    pairs = np.argwhere(scenario.mask)
    p = len(pairs)
    nvar = p * t_count + 2
    cost = np.concatenate(
        [np.concatenate([scenario.price[pairs[:, 0], t] for t in range(t_count)]), [scenario.mu_water, scenario.mu_carbon]]
    )
    rows_eq, rhs_eq, rows_ub, rhs_ub = [], [], [], []
    for t in range(t_count):
        for g in range(j):
            row = np.zeros(nvar)
            row[t * p + np.flatnonzero(pairs[:, 1] == g)] = 1
            rows_eq.append(row)
            rhs_eq.append(scenario.workload[g, t])
        for i in range(n):
            row = np.zeros(nvar)
            row[t * p + np.flatnonzero(pairs[:, 0] == i)] = 1
            rows_ub.append(row)
            rhs_ub.append(scenario.capacity[i, t])
    for k, intensity in enumerate((scenario.water, scenario.carbon)):
        for i in range(n):
            row = np.zeros(nvar)
            for t in range(t_count):
                idx = t * p + np.flatnonzero(pairs[:, 0] == i)
                row[idx] = intensity[i, t]
            row[p * t_count + k] = -1
            rows_ub.append(row)
            rhs_ub.append(0.0)
    result = linprog(
        cost,
        A_ub=np.array(rows_ub),
        b_ub=rhs_ub,
        A_eq=np.array(rows_eq),
        b_eq=rhs_eq,
        bounds=[(0, None)] * (p * t_count) + [(None, None)] * 2,
        method="highs",
    )
    assert result.status == 0, result.message
    return float(result.fun)


def max_flow(demand: np.ndarray, capacity: np.ndarray, mask: np.ndarray) -> float:
    """The most of ``demand`` [J] (MW) that ``capacity`` [N] can serve under ``mask`` [N, J], by a generic LP."""
    n, j = mask.shape
    pairs = np.argwhere(mask)
    if len(pairs) == 0:
        return 0.0
    a_ub = np.zeros((n + j, len(pairs)))
    a_ub[pairs[:, 0], np.arange(len(pairs))] = 1
    a_ub[n + pairs[:, 1], np.arange(len(pairs))] = 1
    result = linprog(-np.ones(len(pairs)), A_ub=a_ub, b_ub=np.r_[capacity, demand], bounds=(0, None), method="highs")
    assert result.status == 0, result.message
    return float(-result.fun)
