"""The robustification layer's cost per hour, next to the expert alone (measured in the same run).

robust(glb-cost) runs three things each hour: the shadow expert (eGLB), the ML proposal
(GLB-Cost here) and the blend (sanitizing the proposal, the exact largest admissible theta, the
bookkeeping). The layer's own overhead is robust - expert - ML.
"""

from __future__ import annotations

from bench_online import alone
from common import best_time, print_table, published_or_synthetic
from eglb.agents.baselines import glb_cost
from eglb.agents.eglb_online import EGLBOnline
from eglb.robust.layer import RobustPolicy


def main() -> str:
    rows = []
    for setting in ("full", "partial"):
        scenario = published_or_synthetic(setting)
        hours = scenario.n_hours
        expert = best_time(lambda: alone(EGLBOnline(), scenario)) / hours
        ml = best_time(lambda: alone(glb_cost(), scenario)) / hours
        for lam in (0.0, 0.05, 1.0):
            robust = best_time(lambda: alone(RobustPolicy(glb_cost(), lam=lam), scenario)) / hours
            overhead = robust - expert - ml
            rows.append(
                [
                    setting,
                    f"{lam:g}",
                    f"{expert * 1e6:.0f} us",
                    f"{ml * 1e6:.0f} us",
                    f"{robust * 1e6:.0f} us",
                    f"{overhead * 1e6:.0f} us",
                    f"{overhead / expert:.2f}x",
                ]
            )
    return print_table(
        f"Robustification layer per hour ({hours} hours of {scenario.name.split()[0]}, best of 5)",
        ["mask", "lambda", "expert alone", "ML alone", "robust(ML)", "layer overhead", "overhead / expert"],
        rows,
    )


if __name__ == "__main__":
    main()
