"""eGLB-Off with deferrable jobs: solve time, LP size and peak memory against today's LP on the same horizon.

The 14 complete history zones (2023 from January 1, full mask) with a calibrated job stream
(envs/job_stream.py, seed 0) drawn over the whole horizon at a given expected rate of jobs a week
(the stream's ``deferrable_share`` set to give that rate; its default share gives about 1,600 a week
on these zones), and the Llama 3.1 model choice. Baseline measured in the same run: today's LP (no
jobs, no model choice) on the same hours. eGLB-Off solves the knobs' LP by interior point (its
default with knobs) and today's LP by dual simplex (its default without): each as a user gets it.

Every case runs in its own process, one after the other, so that its peak resident memory (the
process's, HiGHS included) is its own. CPU seconds stand beside wall seconds: the machine may be shared.

    python benchmarks/bench_knobs_offline.py            # 1 week at 1,000 jobs a week and at the default rate; 4 and 13 weeks at 1,000
    python benchmarks/bench_knobs_offline.py --year     # and the whole year 2023 at 1,000 jobs a week (about an hour of CPU)
    python benchmarks/bench_knobs_offline.py --quick    # 1 week at 250 jobs a week
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from common import print_table

#: Expected jobs a week of the cases; None is the stream's default share.
RATE = 1000
#: (weeks, jobs a week or None for the default share, also by dual simplex)
CASES = [(1, RATE, True), (1, None, False), (4, RATE, False), (13, RATE, False)]
YEAR = (52, RATE, False)  # 52 weeks stand for all 8,760 hours of 2023
QUICK = [(1, 250, False)]


def scenario(weeks: int, per_week: float | None, models: bool = True):
    """(today's scenario, the one with jobs and model choice) over ``weeks`` weeks of 2023 (52: the year)."""
    from eglb.envs.job_stream import JobStream
    from eglb.envs.knob_specs import model_choice
    from eglb.importers.history import load_history

    base = load_history(years=2023, hours=(0, 8760 if weeks >= 52 else 168 * weeks))
    stream = JobStream()
    if per_week is not None:
        # The stream draws deferrable_share / (1 - share) x the interactive MWh of jobs of mean_energy MWh each.
        mean_energy = stream.mean_gpus() * stream.gpu_kw / 1000 * sum(stream.duration_hours) / 2
        ratio = per_week * base.n_hours / 168 * mean_energy / float(base.workload.sum())
        stream = JobStream(deferrable_share=ratio / (1 + ratio))
    drawn = stream.draw(base, seed=0)
    return base, drawn.with_changes(models=model_choice("llama3.1-batch128:target=80") if models else None)


def timed(solver, case) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    solution = solver.solve(case)
    return {"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu, **solution.extra}


def run_case(weeks: int, per_week: float | None, method: str) -> dict:
    """One case in this process: today's LP, then the knobs' LP by ``method`` ("auto" or "highs-ds")."""
    from eglb.agents.offline import EGLBOffline

    base, case = scenario(weeks, per_week)
    today = timed(EGLBOffline(), base)
    knobs = timed(EGLBOffline(method=method, time_limit=None), case)
    return {
        "hours": case.n_hours,
        "jobs": case.jobs.count,
        "job_hours": int(case.jobs.length.sum()),
        "today": today,
        "knobs": knobs,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_process(weeks: int, per_week: float | None, method: str = "auto") -> dict:
    """``run_case`` in a fresh Python process (its peak memory is the case's own)."""
    args = [sys.executable, __file__, "--case", str(weeks), "default" if per_week is None else str(per_week), method]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"case {weeks} weeks, {per_week} jobs a week failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(quick: bool = False, year: bool = False) -> str:
    before = os.getloadavg()
    cases = QUICK if quick else CASES + ([YEAR] if year else [])
    rows, growth = [], []
    for weeks, per_week, simplex in cases:
        result = in_process(weeks, per_week)
        today, knobs = result["today"], result["knobs"]
        by_simplex = f"{in_process(weeks, per_week, 'highs-ds')['knobs']['cpu']:.1f} s" if simplex else ""
        if per_week == RATE:
            growth.append((result["job_hours"], knobs["cpu"]))
        rows.append(
            [
                f"{result['hours']:,}",
                "default" if per_week is None else f"{per_week:,}",
                f"{result['jobs']:,}",
                f"{result['job_hours']:,}",
                f"{knobs['columns']:,}",
                f"{knobs['rows']:,}",
                f"{knobs['nonzeros']:,}",
                f"{knobs['nonzeros'] / result['job_hours']:.1f}",
                f"{result['peak_mb']:,.0f} MB",
                f"{today['cpu']:.2f} s",
                f"{knobs['cpu']:.1f} s",
                f"{knobs['wall']:.1f} s",
                f"{knobs['cpu'] / today['cpu']:,.0f}x",
                by_simplex,
            ]
        )
    after = os.getloadavg()
    table = print_table(
        "eGLB-Off with jobs and model choice, 14 history zones (2023), against today's LP on the same hours "
        f"(CPU seconds; load average before {before[0]:.1f}, after {after[0]:.1f} on {os.cpu_count()} cores)",
        [
            "hours",
            "jobs a week",
            "jobs",
            "job-hours",
            "LP columns",
            "LP rows",
            "nonzeros",
            "nonzeros per job-hour",
            "peak memory",
            "today's LP",
            "with knobs",
            "with knobs (wall)",
            "ratio",
            "with knobs by dual simplex",
        ],
        rows,
    )
    if len(growth) > 1:
        size, cpu = np.log(np.array(growth)).T
        line = f"growth at {RATE:,} jobs a week: solve CPU ~ (job-hours)^{np.polyfit(size, cpu, 1)[0]:.2f}"
        print(line)
        table += f"\n{line}\n"
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one week at 250 jobs a week")
    parser.add_argument("--year", action="store_true", help="add the year 2023 at 1,000 jobs a week (about an hour of CPU)")
    parser.add_argument("--case", nargs=3, metavar=("WEEKS", "PER_WEEK", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        weeks, per_week, method = args.case
        print(json.dumps(run_case(int(weeks), None if per_week == "default" else float(per_week), method)))
    else:
        main(args.quick, args.year)
