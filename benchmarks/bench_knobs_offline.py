"""eGLB-Off with deferrable jobs: solve time and LP size against today's LP on the same horizon.

The 14 complete history zones (2023, full mask), a calibrated job stream (envs/job_stream.py, share
0.5, seed 0) cut to a given number of jobs (the first released), and the Llama 3.1 model choice.
Baseline measured in the same run: today's LP (no jobs, no model choice) on the same hours. The LP
grows linearly in jobs x window hours and in hours (columns and nonzeros are printed: HiGHS's memory
follows them). eGLB-Off solves the knobs' LP by interior point (its default with knobs) and today's
LP by dual simplex (its default without): each as a user gets it.

    python benchmarks/bench_knobs_offline.py            # 1 week with 250, 1000 and 2000 jobs; 2 and 4 weeks with 1000 a week
    python benchmarks/bench_knobs_offline.py --quick    # 1 week, 250 jobs
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np
from common import print_table

#: The case also solved by dual simplex: a week with a thousand jobs.
SIMPLEX_CASE = (1, 1000)


def scenario(weeks: int, jobs: int, models: bool = True):
    from eglb.envs.job_stream import JobStream
    from eglb.envs.knob_specs import model_choice
    from eglb.importers.history import load_history

    base = load_history(years=2023, hours=(0, 168 * weeks))
    drawn = JobStream(deferrable_share=0.5).draw(base, seed=0)
    order = np.argsort(drawn.jobs.release, kind="stable")
    keep = np.zeros(drawn.jobs.count, dtype=bool)
    keep[order[:jobs]] = True
    cut = drawn.with_changes(jobs=drawn.jobs.subset(keep), models=model_choice("llama3.1-batch128:target=80") if models else None)
    return base, cut


def timed(solver, case) -> tuple[float, float, dict, float]:
    """Wall and CPU seconds of one solve (the CPU time is what a machine shared with other work still
    measures fairly: HiGHS runs on one thread here), the solver's figures and Python's peak MB."""
    tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    solution = solver.solve(case)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, cpu, solution.extra, peak / 2**20


def main(quick: bool = False) -> str:
    from eglb.agents.offline import EGLBOffline

    before = os.getloadavg()
    cases = [(1, 250)] if quick else [(1, 250), (1, 1000), (1, 2000), (2, 2000), (4, 4000)]
    rows = []
    solver = EGLBOffline()
    for weeks, jobs in cases:
        base, case = scenario(weeks, jobs)
        today, today_cpu, _, _ = timed(solver, base)
        seconds, cpu, extra, memory = timed(solver, case)
        # Dual simplex (the default without knobs) on the knobs' LP, once: why interior point is the default with knobs.
        simplex = f"{timed(EGLBOffline(method='highs-ds'), case)[1]:.1f} s" if (weeks, jobs) == SIMPLEX_CASE else ""
        job_hours = int(case.jobs.length.sum())
        rows.append(
            [
                f"{weeks * 168}",
                f"{case.jobs.count:,}",
                f"{job_hours:,}",
                f"{extra['columns']:,}",
                f"{extra['nonzeros']:,}",
                f"{extra['nonzeros'] / (job_hours + 14 * 168 * weeks):.1f}",
                f"{memory:,.0f} MB",
                f"{today:.2f} s ({today_cpu:.2f} s)",
                f"{seconds:.1f} s ({cpu:.1f} s)",
                f"{cpu / today_cpu:,.0f}x",
                simplex,
            ]
        )
    after = os.getloadavg()
    return print_table(
        "eGLB-Off with jobs and model choice, 14 history zones (2023), against today's LP on the same hours "
        f"(load average before {before[0]:.1f}, after {after[0]:.1f} on {os.cpu_count()} cores: wall times scale with it)",
        [
            "hours",
            "jobs",
            "job-hours",
            "LP columns",
            "nonzeros",
            "nonzeros per job-hour + region-hour",
            "Python peak",
            "today's LP: wall (CPU)",
            "with knobs: wall (CPU)",
            "ratio (CPU)",
            "with knobs by dual simplex: CPU",
        ],
        rows,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one week, 250 jobs")
    main(parser.parse_args().quick)
