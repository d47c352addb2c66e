"""eGLB online: one whole episode on the published data (T = 457), full and partial mask.

Timed two ways: the algorithm alone (reset, then ``act`` for every hour) and through the
environment (``rollout``: observation, repair, metrics). Baseline measured in the same run: the
same dual mirror descent with its two per-hour problems (the routing and the auxiliary step)
solved as plain LPs by HiGHS, as the published implementation does (it adds a modelling layer on
top: 26..32 ms per hour, 12..15 s per episode, SPEC section 7).
"""

from __future__ import annotations

import numpy as np
from common import best_time, print_table, published_or_synthetic
from eglb.agents.base import HourView
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.rollout import rollout
from eglb.envs.metrics import FootprintState
from scipy.optimize import linprog


class LPStepEGLB(EGLBOnline):
    """Dual mirror descent whose per-hour routing and auxiliary step are generic LP solves."""

    def act(self, view):
        scenario, t = view.scenario, view.t
        intensity = scenario.intensity[:, :, t]
        q = scenario.price[:, t] + (self._weights * self.gamma * intensity).sum(axis=0)
        region, gateway = np.nonzero(scenario.mask)
        n, j = scenario.mask.shape
        a_eq = np.zeros((j, region.size))
        a_eq[gateway, np.arange(region.size)] = 1
        a_ub = np.zeros((n, region.size))
        a_ub[region, np.arange(region.size)] = 1
        flows = linprog(
            q[region], A_ub=a_ub, b_ub=scenario.capacity[:, t], A_eq=a_eq, b_eq=scenario.workload[:, t], method="highs"
        ).x
        routing = np.zeros((n, j))
        routing[region, gateway] = flows
        z = np.zeros((2, n))
        for k in range(2):  # min s - gamma.z  s.t. z_i <= s, 0 <= z <= z_max
            result = linprog(
                np.r_[1.0, -self.gamma[k]],
                A_ub=np.c_[-np.ones(n), np.eye(n)],
                b_ub=np.zeros(n),
                bounds=[(0, None)] + [(0, m) for m in self.z_max[k]],
                method="highs",
            )
            z[k] = result.x[1:]
        footprint = self._weights * intensity * routing.sum(axis=1)
        self.gamma = self.gamma + self.eta * (footprint - z)
        return routing


def alone(policy, scenario):
    state = FootprintState.zeros(scenario.n_regions)
    policy.reset(scenario)
    for t in range(scenario.n_hours):
        policy.act(HourView(scenario, t, state))


def main() -> str:
    rows = []
    for setting in ("full", "partial"):
        scenario = published_or_synthetic(setting)
        ours = best_time(lambda: alone(EGLBOnline(), scenario), repeats=5)
        through_env = best_time(lambda: rollout(EGLBOnline(), scenario), repeats=3)
        baseline = best_time(lambda: alone(LPStepEGLB(), scenario), repeats=1)
        J = rollout(EGLBOnline(), scenario).metrics.J
        J_lp = rollout(LPStepEGLB(), scenario).metrics.J
        assert abs(J - J_lp) <= 1e-6 * J, (J, J_lp)  # the same algorithm
        per_hour = ours / scenario.n_hours * 1e6
        rows.append(
            [
                setting,
                f"{ours * 1000:.1f} ms",
                f"{per_hour:.0f} us",
                f"{through_env * 1000:.0f} ms",
                f"{baseline:.2f} s",
                f"{baseline / ours:.0f}x",
                f"{13.5 / ours:,.0f}x",
            ]
        )
    return print_table(
        f"eGLB online, one {scenario.n_hours}-hour episode on {scenario.name.split()[0]}",
        ["mask", "episode", "per hour", "through env", "per-hour LPs", "speed-up", "vs published ~13.5 s"],
        rows,
    )


if __name__ == "__main__":
    main()
