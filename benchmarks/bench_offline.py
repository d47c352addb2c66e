"""eGLB-Off solve time on the published data (T = 457), full and partial mask.

Baseline measured in the same run: the plain sparse LP over gateway-level variables x[i, j, t]
(one per allowed region-gateway pair and hour), built directly and solved by the same HiGHS; the
published implementation, which compiles the same LP through a modelling layer, needs about 150 s
(SPEC section 7).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from common import best_time, print_table, published_or_synthetic
from eglb.agents.offline import EGLBOffline
from scipy.optimize import linprog


def gateway_level_lp(scenario) -> float:
    """min J over x[p, t], p an allowed (region, gateway) pair: conservation, capacity, max rows."""
    n, t_count = scenario.price.shape
    region, gateway = np.nonzero(scenario.mask)
    pairs = region.size
    hours = np.repeat(np.arange(t_count), pairs)
    var_region, var_gateway = np.tile(region, t_count), np.tile(gateway, t_count)
    index = np.arange(pairs * t_count)
    j = scenario.n_gateways
    a_eq = sp.csr_matrix((np.ones(index.size), (hours * j + var_gateway, index)), shape=(t_count * j, index.size + 2))
    a_cap = sp.csr_matrix((np.ones(index.size), (hours * n + var_region, index)), shape=(t_count * n, index.size + 2))
    a_max = sp.csr_matrix(
        (
            np.r_[scenario.water[var_region, hours], scenario.carbon[var_region, hours], -np.ones(2 * n)],
            (
                np.r_[var_region, n + var_region, np.arange(2 * n)],
                np.r_[index, index, np.repeat([index.size, index.size + 1], n)],
            ),
        ),
        shape=(2 * n, index.size + 2),
    )
    cost = np.r_[scenario.price[var_region, hours], scenario.mu_water, scenario.mu_carbon]
    bounds = [(0, None)] * index.size + [(None, None)] * 2
    result = linprog(
        cost,
        A_ub=sp.vstack([a_cap, a_max]).tocsr(),
        b_ub=np.r_[scenario.capacity.T.ravel(), np.zeros(2 * n)],
        A_eq=a_eq.tocsr(),
        b_eq=scenario.workload.T.ravel(),
        bounds=bounds,
        method="highs-ds",
    )
    assert result.status == 0, result.message
    return float(result.fun)


def main() -> str:
    rows = []
    for setting in ("full", "partial"):
        scenario = published_or_synthetic(setting)
        solver = EGLBOffline()
        ours = best_time(lambda: solver.solve(scenario), repeats=5)
        value = solver.solve(scenario).objective
        start = time.perf_counter()
        baseline_value = gateway_level_lp(scenario)
        baseline = time.perf_counter() - start
        assert abs(value - baseline_value) <= 1e-6 * value, (value, baseline_value)
        rows.append(
            [
                setting,
                f"{ours * 1000:.0f} ms",
                f"{baseline:.2f} s",
                f"{baseline / ours:.1f}x",
                f"{150 / ours:,.0f}x",
                f"{value:,.1f}",
            ]
        )
    return print_table(
        f"eGLB-Off on {scenario.name.split()[0]} (T = {scenario.n_hours}), best of 5",
        ["mask", "eGLB-Off", "gateway-level LP", "speed-up", "vs published ~150 s", "J"],
        rows,
    )


if __name__ == "__main__":
    main()
