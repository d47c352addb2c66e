"""An independent formulation of eGLB-Off with deferrable jobs and model choice, for tests (scipy linprog).

Written from docs/model/flexibility.md, not from agents/flex_lp.py: gateway-level routing x[i, j, t],
one work variable per job, region and hour w[m, i, t] (no pools, no classes, no region-energy
columns), model loads y[k, i, t], and the objective written out term by term.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from eglb.envs.scenario import Scenario
from scipy.optimize import linprog


class _Rows:
    def __init__(self):
        self.rows, self.cols, self.vals, self.rhs = [], [], [], []

    def add(self, entries: dict[int, float], rhs: float) -> None:
        k = len(self.rhs)
        for col, val in entries.items():
            self.rows.append(k)
            self.cols.append(col)
            self.vals.append(val)
        self.rhs.append(rhs)

    def matrix(self, columns: int):
        return sp.csr_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.rhs), columns)), np.array(self.rhs)


def flexible_optimum(scenario: Scenario) -> float:
    """min J (cost + transfers + penalties + mu_w max W + mu_c max C) over every feasible plan."""
    n, j = scenario.mask.shape
    hours = scenario.n_hours
    jobs, models = scenario.jobs, scenario.models
    index: dict[tuple, int] = {}
    cost: list[float] = []
    bounds: list[tuple] = []

    def column(key, c, low=0.0, high=None):
        index[key] = len(cost)
        cost.append(c)
        bounds.append((low, high))

    for t in range(hours):
        for i in range(n):
            for g in range(j):
                if scenario.mask[i, g]:
                    column(("x", i, g, t), 0.0)
    k_models = 1 if models is None else models.count
    for k in range(1, k_models):
        for i in range(n):
            for t in range(hours):
                column(("y", k, i, t), 0.0)
    m_jobs = 0 if jobs is None else jobs.count
    for m in range(m_jobs):
        for t in range(jobs.release[m], jobs.deadline[m]):
            for i in np.flatnonzero(jobs.regions[m]):
                column(("w", m, i, t), jobs.away_usd[m] if i != jobs.home[m] else 0.0)
        column(("v", m), jobs.penalty)
    if k_models > 1:
        column(("delta",), models.penalty)
    for name, weight in (("Uw", scenario.mu_water), ("Uc", scenario.mu_carbon)):
        column((name,), weight, None, None)

    def energy(i: int, t: int) -> dict[int, float]:
        """Every MWh drawn in region i at hour t, as {column: MWh per unit}."""
        terms: dict[int, float] = {}
        for g in range(j):
            if scenario.mask[i, g]:
                terms[index[("x", i, g, t)]] = 1.0
        for k in range(1, k_models):
            terms[index[("y", k, i, t)]] = models.energy[k] - 1.0
        for m in range(m_jobs):
            key = ("w", m, i, t)
            if key in index:
                terms[index[key]] = 1.0 if i == jobs.home[m] else 1.0 + jobs.away_overhead[m]
        return terms

    ub, eq = _Rows(), _Rows()
    footprint = {("Uw", i): {} for i in range(n)} | {("Uc", i): {} for i in range(n)}
    for t in range(hours):
        for g in range(j):
            eq.add({index[("x", i, g, t)]: 1.0 for i in range(n) if scenario.mask[i, g]}, scenario.workload[g, t])
        for i in range(n):
            requests = {index[("x", i, g, t)]: 1.0 for g in range(j) if scenario.mask[i, g]}
            ub.add(requests, scenario.capacity[i, t])
            if k_models > 1:
                share = {c: -models.share for c in requests}
                share.update({index[("y", k, i, t)]: 1.0 for k in range(1, k_models)})
                ub.add(share, 0.0)
            terms = energy(i, t)
            ub.add(terms, scenario.capacity[i, t])
            for c, mwh in terms.items():
                cost[c] += scenario.price[i, t] * mwh
                for name, intensity in (("Uw", scenario.water), ("Uc", scenario.carbon)):
                    footprint[(name, i)][c] = footprint[(name, i)].get(c, 0.0) + intensity[i, t] * mwh
    for (name, _region), terms in footprint.items():
        ub.add({**terms, index[(name,)]: -1.0}, 0.0)
    for m in range(m_jobs):
        for t in range(jobs.release[m], jobs.deadline[m]):
            ub.add({index[("w", m, i, t)]: 1.0 for i in np.flatnonzero(jobs.regions[m])}, jobs.max_power[m])
        done = {c: 1.0 for key, c in index.items() if key[0] == "w" and key[1] == m}
        done[index[("v", m)]] = 1.0
        eq.add(done, jobs.energy[m])
    if k_models > 1:
        requests = models.share * float(scenario.workload.sum())
        row = {
            index[("y", k, i, t)]: -(models.accuracy[k] - models.accuracy[0])
            for k in range(1, k_models)
            for i in range(n)
            for t in range(hours)
        }
        row[index[("delta",)]] = -1.0
        ub.add(row, -(models.target - models.accuracy[0]) * requests)
    a_ub, b_ub = ub.matrix(len(cost))
    a_eq, b_eq = eq.matrix(len(cost))
    result = linprog(np.array(cost), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    assert result.status == 0, result.message
    return float(result.fun)
