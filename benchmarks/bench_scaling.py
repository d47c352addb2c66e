"""How eGLB-Off and eGLB online scale with regions N and hours T (full mask, tiled synthetic).

For every N in (10, 50, 100) and T in (457, 2190, 8760): the offline solve time and one online
episode (the algorithm alone). Baselines measured in the same run: the gateway-level LP at
N = 10, T = 457 (it needs about 100 s at T = 2190), and the growth exponent of each column
(time ~ (N*T)^k).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from bench_offline import gateway_level_lp
from bench_online import alone
from common import print_table, tiled_synthetic
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.offline import EGLBOffline

SIZES_N = (10, 50, 100)
SIZES_T = (457, 2190, 8760)


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


def main(quick: bool = False) -> str:
    rows, points = [], []
    sizes_t = SIZES_T[:2] if quick else SIZES_T
    for n in SIZES_N:
        for hours in sizes_t:
            scenario = tiled_synthetic(n, hours)
            offline_seconds, solution = timed(lambda: EGLBOffline().solve(scenario))
            online_seconds, _ = timed(lambda: alone(EGLBOnline(), scenario))
            baseline = ""
            if n == 10 and hours == 457:
                lp_seconds, value = timed(lambda: gateway_level_lp(scenario))
                assert abs(value - solution.objective) <= 1e-6 * value
                baseline = f"{lp_seconds:.1f} s ({lp_seconds / offline_seconds:.0f}x)"
            points.append((n * hours, offline_seconds, online_seconds))
            rows.append(
                [
                    n,
                    hours,
                    f"{n * hours:,}",
                    f"{offline_seconds:.2f} s",
                    baseline,
                    f"{online_seconds:.2f} s",
                    f"{online_seconds / hours * 1e6:.0f} us",
                ]
            )
            print(f"  N={n} T={hours}: offline {offline_seconds:.2f} s, online {online_seconds:.2f} s", file=sys.stderr)
    size, offline, online = (np.array(v) for v in zip(*points))
    slope_off = np.polyfit(np.log(size), np.log(offline), 1)[0]
    slope_on = np.polyfit(np.log(size), np.log(online), 1)[0]
    table = print_table(
        "Scaling, full mask, tiled synthetic scenarios",
        ["N", "T", "N*T", "eGLB-Off", "gateway-level LP", "eGLB episode", "eGLB per hour"],
        rows,
    )
    growth = f"growth: eGLB-Off time ~ (N*T)^{slope_off:.2f}, eGLB episode time ~ (N*T)^{slope_on:.2f}"
    print("\n" + growth)
    return table + "\n" + growth + "\n"


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
