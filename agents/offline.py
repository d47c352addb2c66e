"""eGLB-Off: the hindsight optimum as a linear program, built as sparse matrices and solved by HiGHS.

SPEC section 4. With epigraph variables u_k >= (cumulative footprint k of every region):

    min  sum_{i,t} p[i,t] e[i,t] + mu_w u_w + mu_c u_c
    s.t. e_t is a feasible hour (below), for every t
         E0[k, i] + sum_t intensity[k, i, t] e[i, t] <= u_k      for k in (water, carbon), every i

* Full mask: only the region energies matter: N*T variables e[i, t] in [0, capacity[i, t]] with
  sum_i e[i, t] = workload total of hour t.
* With a mask of few distinct gateway neighbourhoods (at most MAX_HALL_CLASSES classes, see
  ``Scenario.mask_classes``): still N*T variables e[i, t], with Hall's rows saying the routing
  exists (each union R of class neighbourhoods receives at least the load that can only go to R);
  the routing of each hour is then recovered by max-flow. On the published partial mask that is 6
  unions and an LP about 8 times faster than the transportation form.
* Otherwise the per-hour transportation form on gateway classes (gateways with identical mask
  columns merged): variables x[i, c, t] for allowed pairs, one conservation row per class and
  hour, one capacity row per region and hour.

``E0`` is an optional starting footprint (the state of a partly played episode): the solver then
gives the optimum of the remaining hours from that state, which is what imitation learning labels.

The duals of the 2N max rows, divided by (mu_w, mu_c), are returned: per footprint a distribution
over regions, the prices an online policy would ideally charge (``OfflineSolution.duals``).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from agents.base import OfflineSolution, OfflineSolver
from envs.errors import SolverError
from envs.metrics import objective
from envs.routing import Router
from envs.scenario import Scenario

#: Up to this many gateway classes the masked LP uses Hall's rows over e[i, t] (2^K unions to list).
MAX_HALL_CLASSES = 10

_STATUS = {0: "optimal", 1: "iteration or time limit reached", 2: "infeasible", 3: "unbounded", 4: "numerical difficulties"}


class EGLBOffline(OfflineSolver):
    """The hindsight-optimal routing of a whole scenario.

    Args:
        method: the scipy HiGHS method ("highs-ds" dual simplex, "highs-ipm" interior point,
            "highs" to let HiGHS choose). Dual simplex is fastest on these problems.
        time_limit: seconds before the solve is abandoned (an error, never a partial answer).
        name: the label in tables.
    """

    name = "eglb-off"

    def __init__(self, method: str = "highs-ds", time_limit: float | None = None, name: str = "eglb-off"):
        self.method = method
        self.time_limit = time_limit
        self.name = name

    def solve(self, scenario: Scenario, initial_footprint: np.ndarray | None = None) -> OfflineSolution:
        """Solve over all hours of ``scenario``.

        Args:
            initial_footprint: [2, N] water (m^3) and carbon (t) already accumulated before the
                scenario's first hour (default zeros).
        """
        start = time.perf_counter()
        n = scenario.n_regions
        initial = np.zeros((2, n)) if initial_footprint is None else np.asarray(initial_footprint, dtype=float)
        if initial.shape != (2, n):
            raise ValueError(f"initial_footprint has shape {initial.shape}, expected (2, {n})")
        if scenario.full_mask or scenario.mask_classes.count <= MAX_HALL_CLASSES:
            problem = _energy_problem(scenario)
        else:
            problem = _class_problem(scenario)
        cost, footprint_rows, a_eq, b_eq, a_ub, b_ub, upper, unpack = problem
        weights = scenario.footprint_weights
        n_flow = cost.size
        c = np.concatenate([cost, weights])
        # Max rows: footprint of region i minus u_k <= -E0[k, i].
        epigraph = sp.csr_matrix(
            (-np.ones(2 * n), (np.arange(2 * n), n_flow + np.repeat([0, 1], n))), shape=(2 * n, n_flow + 2)
        )
        max_rows = sp.hstack([footprint_rows, sp.csr_matrix((2 * n, 2))]) + epigraph
        if a_ub is not None:
            a_ub = sp.vstack([sp.hstack([a_ub, sp.csr_matrix((a_ub.shape[0], 2))]), max_rows]).tocsr()
            b_ub = np.concatenate([b_ub, -initial.ravel()])
        else:
            a_ub, b_ub = max_rows.tocsr(), -initial.ravel()
        a_eq = sp.hstack([a_eq, sp.csr_matrix((a_eq.shape[0], 2))]).tocsr()
        bounds = np.column_stack([np.zeros(n_flow + 2), np.concatenate([upper, [np.inf, np.inf]])])
        bounds[-2:, 0] = -np.inf
        options = {"time_limit": float(self.time_limit)} if self.time_limit else {}
        result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method=self.method, options=options)
        if result.status != 0 or result.x is None:
            raise SolverError(
                f"eGLB-Off on {scenario.name!r}: HiGHS stopped with status {result.status} "
                f"({_STATUS.get(result.status, 'unknown')}): {result.message}"
            )
        flows = np.maximum(result.x[:n_flow], 0.0)  # clip solver noise of order 1e-12 below bounds
        energy, class_flow = unpack(flows)
        marginals = -result.ineqlin.marginals[-2 * n :].reshape(2, n)
        duals = np.divide(marginals, weights[:, None], out=np.zeros_like(marginals), where=weights[:, None] > 0)
        footprint = initial + (scenario.intensity * energy).sum(axis=2)
        value = objective(float((scenario.price * energy).sum()), footprint, weights)
        return OfflineSolution(
            energy=energy,
            class_flow=class_flow,
            objective=value,
            duals=np.maximum(duals, 0.0),
            status=_STATUS[0],
            seconds=time.perf_counter() - start,
            extra={"solver_objective": float(result.fun), "iterations": int(getattr(result, "nit", -1))},
        )


def _energy_problem(scenario: Scenario):
    """Variables e[i, t] (region-major: index i*T + t), plus Hall rows when there is a mask.

    With a mask, e_t is the region side of a feasible routing exactly when, for every set S of
    gateway classes, the regions allowed to serve S receive at least S's load (Gale's theorem with
    equal totals). Only sets R that are unions of class neighbourhoods matter, with the load of
    every class whose neighbourhood lies inside R: sum_{i in R} e[i, t] >= load(R, t).
    """
    n, t_count = scenario.price.shape
    index = np.arange(n * t_count)
    a_eq = sp.csr_matrix((np.ones(n * t_count), (np.tile(np.arange(t_count), n), index)), shape=(t_count, n * t_count))
    rows = np.concatenate([np.repeat(np.arange(n), t_count), n + np.repeat(np.arange(n), t_count)])
    footprint_rows = sp.csr_matrix(
        (scenario.intensity.reshape(2, -1).ravel(), (rows, np.tile(index, 2))), shape=(2 * n, n * t_count)
    )
    a_ub = b_ub = None
    if not scenario.full_mask:
        a_ub, b_ub = _hall_rows(scenario)

    def unpack(flows):
        energy = flows.reshape(n, t_count)
        if scenario.full_mask:
            return energy, None
        router = Router(scenario)
        return energy, np.stack([router.classes_for_energy(energy[:, t], t) for t in range(t_count)])

    return (scenario.price.ravel(), footprint_rows, a_eq, scenario.total_workload, a_ub, b_ub,
            scenario.capacity.ravel(), unpack)


def _hall_rows(scenario: Scenario) -> tuple[sp.csr_matrix, np.ndarray]:
    """-sum_{i in R} e[i, t] <= -load(R, t) for every union R of class neighbourhoods but all regions."""
    classes = scenario.mask_classes
    n, t_count = scenario.price.shape
    neighbourhoods = [int(sum(1 << int(i) for i in np.flatnonzero(classes.mask[:, c]))) for c in range(classes.count)]
    everything = (1 << n) - 1
    unions = set()
    for subset in range(1, 2**classes.count):
        union = 0
        for c in range(classes.count):
            if subset >> c & 1:
                union |= neighbourhoods[c]
        unions.add(union)
    demand = classes.demand(scenario.workload)
    hours = np.arange(t_count)
    row_ids, col_ids, rhs = [], [], []
    for union in sorted(unions - {everything}):
        inside = [c for c in range(classes.count) if neighbourhoods[c] & ~union == 0]
        regions = np.array([i for i in range(n) if union >> i & 1])
        base = len(rhs) * t_count
        row_ids.append(np.tile(base + hours, regions.size))
        col_ids.append((regions[:, None] * t_count + hours[None, :]).ravel())
        rhs.append(-demand[inside].sum(axis=0))
    rows = np.concatenate(row_ids)
    matrix = sp.csr_matrix((-np.ones(rows.size), (rows, np.concatenate(col_ids))), shape=(len(rhs) * t_count, n * t_count))
    return matrix, np.concatenate(rhs)


def _class_problem(scenario: Scenario):
    """Variables x[p, t] for allowed (region, class) pairs p (hour-major: index t*P + p)."""
    classes = scenario.mask_classes
    n, t_count = scenario.price.shape
    region, klass = np.nonzero(classes.mask)
    pairs = region.size
    hours = np.repeat(np.arange(t_count), pairs)  # hour of each variable
    var_region = np.tile(region, t_count)
    var_class = np.tile(klass, t_count)
    index = np.arange(pairs * t_count)
    cost = scenario.price[var_region, hours]
    demand = classes.demand(scenario.workload)  # [K, T]
    a_eq = sp.csr_matrix((np.ones(index.size), (hours * classes.count + var_class, index)), shape=(t_count * classes.count, index.size))
    b_eq = demand.T.ravel()
    a_cap = sp.csr_matrix((np.ones(index.size), (hours * n + var_region, index)), shape=(t_count * n, index.size))
    b_cap = scenario.capacity.T.ravel()
    footprint_rows = sp.csr_matrix(
        (
            np.concatenate([scenario.water[var_region, hours], scenario.carbon[var_region, hours]]),
            (np.concatenate([var_region, n + var_region]), np.tile(index, 2)),
        ),
        shape=(2 * n, index.size),
    )

    def unpack(flows):
        class_flow = np.zeros((t_count, n, classes.count))
        class_flow[hours, var_region, var_class] = flows
        return class_flow.sum(axis=2).T, class_flow

    return cost, footprint_rows, a_eq, b_eq, a_cap, b_cap, np.full(index.size, np.inf), unpack
