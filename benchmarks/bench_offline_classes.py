"""eGLB-Off with a partial mask of many gateway classes: time and peak memory against the previous method.

N = 100 regions, K in (3, 10, 50) gateway classes with random neighbourhoods (3..20 regions each),
T in (168, 457, 1000, 2000) hours; signals from the calibrated synthetic generator (ten 10-region
draws side by side), capacity 1 MW per region, every class's load a share of the capacity of its
regions (up to 95 % of it at the peak), so every hour is feasible and Hall's condition binds often.

Ours: :class:`eglb.agents.offline.EGLBOffline` (variables e[i, t], Hall rows added lazily, warm-started
dual simplex; with at most 5 classes every union's rows are added up front). Baseline measured in
the same run: the previous method (Hall rows over every union of class neighbourhoods for K <= 10,
the per-hour transportation form on classes above), one LP through scipy's linprog with dual
simplex, capped: it runs only where its predicted memory stays
under 8 GB and its predicted time under the cap (time ~ T^2 from the previous size of the same K),
and HiGHS stops it at the cap. Every measurement runs in a fresh process so that peak memory (the
process's peak resident set, HiGHS included) belongs to that solve alone; the table gives the rise
of the peak over the resident set after building the scenario. Times are CPU seconds of the solve
(wall-clock in brackets: on a shared machine the CPU time is the steadier measure), speed-ups are
ratios of CPU time. Both methods' objectives are checked against each other wherever both finish.

    python benchmarks/bench_offline_classes.py            # full grid, about 15 minutes on 2 cores
    python benchmarks/bench_offline_classes.py --quick    # T in (168, 457)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from common import print_table, tiled_synthetic
from eglb.envs.scenario import Scenario
from scipy.optimize import linprog

N_REGIONS = 100
CLASSES = (3, 10, 50)
HOURS = (168, 457, 1000, 2000)
BASELINE_CAP_SECONDS = 300.0
BASELINE_MEMORY_CAP_GB = 8.0


def class_scenario(
    n_regions: int, n_classes: int, hours: int, seed: int = 0, utilization: float = 0.95, neighbourhood: tuple[int, int] = (3, 20)
) -> Scenario:
    """A feasible scenario with ``n_classes`` gateways of distinct random neighbourhoods (one class each).

    Each region's capacity (1 MW) is split among the classes that may use it in random shares; a
    class's load is ``utilization`` times its shares at the peak, times a workload trace in
    [0.3, 1]: the routing that gives every class its shares serves every hour.
    """
    rng = np.random.default_rng(seed)
    signals = tiled_synthetic(n_regions, hours, seed)
    mask = np.zeros((n_regions, n_classes), dtype=bool)
    seen: set[bytes] = set()
    for c in range(n_classes):
        while True:
            column = np.zeros(n_regions, dtype=bool)
            column[rng.choice(n_regions, rng.integers(neighbourhood[0], neighbourhood[1] + 1), replace=False)] = True
            if column.tobytes() not in seen:
                break
        seen.add(column.tobytes())
        mask[:, c] = column
    weights = rng.random((n_regions, n_classes)) * mask
    total = weights.sum(axis=1, keepdims=True)
    share = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    capacity = np.ones(n_regions)
    peak = utilization * share.T @ capacity
    trace = signals.workload[rng.integers(n_regions, size=n_classes)] * (1 + 0.1 * rng.standard_normal((n_classes, hours)))
    names = [f"gateway-{c}" for c in range(n_classes)]
    return Scenario(
        regions=signals.regions,
        gateways=names,
        timestamps=signals.timestamps,
        price=signals.price,
        carbon=signals.carbon,
        water=signals.water,
        workload=peak[:, None] * np.clip(trace, 0.3, 1.0),
        capacity=capacity,
        mask=mask,
        name=f"classes N={n_regions} K={n_classes} T={hours}",
    )


def previous_method(scenario: Scenario, time_limit: float) -> float:
    """The previous eGLB-Off LP: e[i, t] with Hall rows over every union of class neighbourhoods
    (K <= 10), else x[i, c, t] on allowed (region, class) pairs; one linprog solve. Returns J."""
    classes = scenario.mask_classes
    n, hours = scenario.price.shape
    k = classes.count
    demand = classes.demand(scenario.workload)
    if k <= 10:
        index = np.arange(n * hours)
        a_eq = sp.csr_matrix((np.ones(n * hours), (np.tile(np.arange(hours), n), index)), shape=(hours, n * hours))
        b_eq = scenario.total_workload
        var_region, var_hour = np.repeat(np.arange(n), hours), np.tile(np.arange(hours), n)
        cost, upper = scenario.price.ravel(), scenario.capacity.ravel()
        neighbourhoods = [int(sum(1 << int(i) for i in np.flatnonzero(classes.mask[:, c]))) for c in range(k)]
        unions = set()
        for subset in range(1, 2**k):
            union = 0
            for c in range(k):
                if subset >> c & 1:
                    union |= neighbourhoods[c]
            unions.add(union)
        rows, cols, rhs = [], [], []
        for union in sorted(unions - {(1 << n) - 1}):
            inside = [c for c in range(k) if neighbourhoods[c] & ~union == 0]
            regions = np.array([i for i in range(n) if union >> i & 1])
            rows.append(np.tile(len(rhs) * hours + np.arange(hours), regions.size))
            cols.append((regions[:, None] * hours + np.arange(hours)[None, :]).ravel())
            rhs.append(-demand[inside].sum(axis=0))
        rows = np.concatenate(rows)
        a_ub = sp.csr_matrix((-np.ones(rows.size), (rows, np.concatenate(cols))), shape=(len(rhs) * hours, n * hours))
        b_ub = np.concatenate(rhs)
    else:
        region, klass = np.nonzero(classes.mask)
        pairs = region.size
        var_hour = np.repeat(np.arange(hours), pairs)
        var_region, var_class = np.tile(region, hours), np.tile(klass, hours)
        index = np.arange(pairs * hours)
        cost, upper = scenario.price[var_region, var_hour], np.full(index.size, np.inf)
        a_eq = sp.csr_matrix((np.ones(index.size), (var_hour * k + var_class, index)), shape=(hours * k, index.size))
        b_eq = demand.T.ravel()
        a_ub = sp.csr_matrix((np.ones(index.size), (var_hour * n + var_region, index)), shape=(hours * n, index.size))
        b_ub = scenario.capacity.T.ravel()
    columns = cost.size
    footprint = sp.csr_matrix(
        (
            np.r_[scenario.water[var_region, var_hour], scenario.carbon[var_region, var_hour], -np.ones(2 * n)],
            (
                np.r_[var_region, n + var_region, np.arange(2 * n)],
                np.r_[np.arange(columns), np.arange(columns), columns + np.repeat([0, 1], n)],
            ),
        ),
        shape=(2 * n, columns + 2),
    )
    a_ub = sp.vstack([sp.hstack([a_ub, sp.csr_matrix((a_ub.shape[0], 2))]), footprint]).tocsr()
    a_eq = sp.hstack([a_eq, sp.csr_matrix((a_eq.shape[0], 2))]).tocsr()
    bounds = np.column_stack([np.r_[np.zeros(columns), -np.inf, -np.inf], np.r_[upper, np.inf, np.inf]])
    result = linprog(
        np.r_[cost, scenario.footprint_weights],
        A_ub=a_ub,
        b_ub=np.r_[b_ub, np.zeros(2 * n)],
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs-ds",
        options={"time_limit": time_limit},
    )
    if result.status == 1:
        raise TimeoutError
    assert result.status == 0, result.message
    return float(result.fun)


def measure_one(method: str, n_classes: int, hours: int, time_limit: float) -> dict:
    """Build the scenario and solve it in this process; seconds, CPU seconds and memory in bytes."""
    from eglb.agents.offline import EGLBOffline
    from eglb.envs.errors import SolverError

    scenario = class_scenario(N_REGIONS, n_classes, hours)
    _reset_peak()  # the peak of building the scenario and of the imports is not the solve's
    before = _resident_bytes()
    start, cpu = time.perf_counter(), time.process_time()
    out: dict = {"finished": True}
    try:
        if method == "ours":
            solution = EGLBOffline(time_limit=time_limit).solve(scenario)
            out.update(objective=solution.objective, hall_rows=solution.extra["hall_rows"], solves=solution.extra["solves"])
        else:
            out.update(objective=previous_method(scenario, time_limit))
    except (TimeoutError, SolverError):
        out["finished"] = False
    out.update(
        seconds=time.perf_counter() - start,
        cpu=time.process_time() - cpu,
        peak=_peak_bytes(),
        before=before,
    )
    return out


def _reset_peak() -> None:
    """Reset the kernel's peak resident size of this process (Linux: writing 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_bytes() -> int:
    """Peak resident size since the last reset (VmHWM), else since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _resident_bytes() -> int:
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * resource.getpagesize()


def run(method: str, n_classes: int, hours: int, time_limit: float) -> dict:
    """``measure_one`` in a fresh interpreter (peak memory of that solve alone)."""
    command = [sys.executable, __file__, "--one", method, str(n_classes), str(hours), str(time_limit)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0]) if len(x) > 1 else float("nan")


def main(quick: bool = False) -> str:
    hours_list = HOURS[:2] if quick else HOURS
    ours, previous = {}, {}
    for k in CLASSES:
        for hours in hours_list:
            ours[k, hours] = run("ours", k, hours, 1800.0)
            print(f"  K={k} T={hours}: ours {ours[k, hours]['seconds']:.2f} s", file=sys.stderr, flush=True)
            earlier = [h for h in hours_list if h < hours and previous.get((k, h), {}).get("finished")]
            if earlier:
                last = previous[k, earlier[-1]]
                growth = hours / earlier[-1]
                predicted_seconds, predicted_gb = last["seconds"] * growth**2, (last["peak"] - last["before"]) * growth / 1e9
            else:
                predicted_seconds = predicted_gb = 0.0
            if any(not previous.get((k, h), {"finished": True})["finished"] for h in hours_list if h < hours):
                previous[k, hours] = {"skipped": "smaller T already hit the cap"}
            elif predicted_gb > BASELINE_MEMORY_CAP_GB:
                previous[k, hours] = {"skipped": f"predicted {predicted_gb:.0f} GB"}
            elif predicted_seconds > 4 * BASELINE_CAP_SECONDS:
                previous[k, hours] = {"skipped": f"predicted {predicted_seconds:,.0f} s"}
            else:
                previous[k, hours] = run("previous", k, hours, BASELINE_CAP_SECONDS)
                both = previous[k, hours]
                if both["finished"]:
                    assert abs(both["objective"] - ours[k, hours]["objective"]) <= 1e-6 * abs(both["objective"]), (k, hours)
            print(f"  K={k} T={hours}: previous {previous[k, hours]}", file=sys.stderr, flush=True)

    def gigabytes(result):
        return f"{(result['peak'] - result['before']) / 1e9:.2f} GB"

    def seconds(result):
        return f"{result['cpu']:.2f} s ({result['seconds']:.2f} s)"

    rows = []
    for (k, hours), result in ours.items():
        base = previous[k, hours]
        if "skipped" in base:
            base_time, base_memory, ratio = f"not run ({base['skipped']})", "", ""
        elif not base["finished"]:
            base_time, base_memory = f"> {BASELINE_CAP_SECONDS:.0f} s wall (cap)", gigabytes(base)
            ratio = f"> {BASELINE_CAP_SECONDS / result['seconds']:.0f}x (wall)"
        else:
            base_time, base_memory, ratio = seconds(base), gigabytes(base), f"{base['cpu'] / result['cpu']:.1f}x"
        rows.append(
            [k, hours, seconds(result), gigabytes(result), result["hall_rows"], result["solves"], base_time, base_memory, ratio]
        )
    table = print_table(
        f"eGLB-Off, N = {N_REGIONS}, K gateway classes with random neighbourhoods: CPU time (wall), peak memory",
        ["K", "T", "ours", "ours memory", "Hall rows", "LP solves", "previous", "previous memory", "speed-up (CPU)"],
        rows,
    )
    lines = ["growth of our CPU time and memory (log-log slope):"]
    for k in CLASSES:
        points = [ours[k, h] for h in hours_list]
        lines.append(
            f"K = {k}: time ~ T^{slope(hours_list, [r['cpu'] for r in points]):.2f}, "
            f"memory ~ T^{slope(hours_list, [r['peak'] - r['before'] for r in points]):.2f}"
        )
    for hours in hours_list:
        points = [ours[k, hours] for k in CLASSES]
        lines.append(
            f"T = {hours}: time ~ K^{slope(CLASSES, [r['cpu'] for r in points]):.2f}, "
            f"memory ~ K^{slope(CLASSES, [r['peak'] - r['before'] for r in points]):.2f}"
        )
    print("\n" + "\n  ".join(lines))
    return table + "\n" + "; ".join(lines[1:]) + " (" + lines[0].rstrip(":") + ")\n"


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        print(json.dumps(measure_one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))))
    else:
        main(quick="--quick" in sys.argv)
