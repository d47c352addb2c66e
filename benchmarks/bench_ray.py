"""Ray against this machine's sequential path, in the same run: the shift sweep, a DAgger labelling
pass, and Ray's own cost per task.

    python benchmarks/bench_ray.py [--cpus 2] [--out results/bench_ray]

- Shift sweep: ``eglb.sweep`` (every shift at severities 0.5, 1, 2 and the lambda trade-off) of
  eglb, glb-cost and robust(glb-cost) on a 168-hour synthetic trace, sequential (the default path)
  and on a local Ray of ``--cpus`` workers; the whole call and its mapped phase (the cases) timed.
- DAgger labelling: the remaining-horizon LPs of 24 episodes of 168 hours labelled every 8 hours,
  as bc's first iteration collects them, solved in a loop and as Ray tasks (1, 4 and 16 LPs per task).
- Ray's cost per task: an empty task's round trip, and its throughput cost in a batch of 400.
- The ceiling on a shared machine: the labels on a local process pool of as many workers (what bc
  uses without --ray). When other work holds the cores, neither gets 2x; Ray is then judged against it.

The machine is shared: the load average before and after is printed and written with the table
(compare ratios from quiet runs). Sequential and Ray runs alternate, best of ``--repeats``. Ray's start
and its workers' first imports (once per run) are reported apart, not in the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from common import print_table
from eglb.envs.files import atomic_write_text

import eglb


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


class TimedMapper:
    """A mapper that adds up the seconds spent inside it (the mapped phase of a sweep)."""

    def __init__(self, mapper):
        self.mapper, self.seconds, self.items = mapper, 0.0, 0

    def __call__(self, function, items):
        seconds, results = timed(lambda: self.mapper(function, items))
        self.seconds += seconds
        self.items += len(items)
        return results


def without_timings(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if "seconds" not in k} for row in rows]


def sweep_config(out: Path) -> eglb.SweepConfig:
    evaluation = eglb.EvaluationConfig(
        algos=("eglb", "glb-cost", "robust(glb-cost,lambda=0.05)"),
        scenario=eglb.ScenarioConfig(synthetic=(3,), synthetic_hours=168),
        out=str(out),
        overwrite=True,  # the same folders every repeat
    )
    return eglb.SweepConfig(evaluation, severities=(0.5, 1.0, 2.0))


def labelling_jobs(episodes: int = 24) -> list:
    """The labelling jobs of bc's first DAgger iteration (following the hindsight optimum), as collected."""
    from eglb.training.config import ImitationSettings
    from eglb.training.dagger import DAggerTrainer
    from eglb.training.envs import make_env

    from eglb.trainer import scenarios_for, vary

    config = vary(eglb.training_config("bc"), {"model.episodes_per_iteration": episodes})
    config = config.for_scenario(scenarios_for(config)[2])
    env = make_env(config, None, seed=0)
    trainer = DAggerTrainer(env, ImitationSettings.from_dict(config.model), seed=0)
    jobs: list = []
    trainer.collect(episodes, follow_network=False, mapper=lambda function, items: jobs.extend(items) or [[0.0]] * len(items))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (default 2)")
    parser.add_argument("--out", default="results/bench_ray", help="folder of the Markdown table")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each, the best kept (default 2)")
    args = parser.parse_args()
    out = Path(args.out)
    load_before = os.getloadavg()

    import ray
    from eglb.sweeps.ray_map import RayMapper, ray_session
    from eglb.training.dagger import label, local_mapper

    jobs = labelling_jobs()
    local_labels = [label(job) for job in jobs]
    started = time.perf_counter()
    with ray_session(num_cpus=args.cpus):
        ray_start = time.perf_counter() - started
        # Warm workers (modules imported), as on a cluster whose workers outlive one task.
        warm = time.perf_counter()
        tiny = eglb.EvaluationConfig(
            algos=("eglb",), scenario=eglb.ScenarioConfig(synthetic_hours=24), out=str(out / "warm-up"), overwrite=True
        )
        eglb.sweep(eglb.SweepConfig(tiny, shifts=("surge",), lambdas=(0.0,)), RayMapper())
        RayMapper()(label, jobs[: 2 * args.cpus])
        warm_up = time.perf_counter() - warm
        # Sequential and Ray alternate, best of ``repeats`` each: the machine is shared, and its
        # load moves between phases.
        sweep_local = sweep_ray = labels_local = labels_pool = float("inf")
        sequential_cases = ray_cases = float("inf")
        labels_ray = dict.fromkeys((1, 4, 16, None), float("inf"))
        for _ in range(args.repeats):
            sequential = TimedMapper(lambda function, items: [function(item) for item in items])
            seconds, local_result = timed(lambda mapper=sequential: eglb.sweep(sweep_config(out / "sweep-local"), mapper))
            sweep_local, sequential_cases = min(sweep_local, seconds), min(sequential_cases, sequential.seconds)
            on_ray = TimedMapper(RayMapper())
            seconds, ray_result = timed(lambda mapper=on_ray: eglb.sweep(sweep_config(out / "sweep-ray"), mapper))
            sweep_ray, ray_cases = min(sweep_ray, seconds), min(ray_cases, on_ray.seconds)
            assert without_timings(ray_result.rows) == without_timings(local_result.rows), "Ray's sweep differs"
            labels_local = min(labels_local, timed(lambda: [label(job) for job in jobs])[0])
            with local_mapper(args.cpus) as pool:  # today's default for bc: a fork pool of model.workers
                labels_pool = min(labels_pool, timed(lambda pool=pool: pool(label, jobs))[0])
            for size in labels_ray:
                seconds, ray_labels = timed(lambda size=size: RayMapper(items_per_task=size)(label, jobs))
                labels_ray[size] = min(labels_ray[size], seconds)
                assert all((a == b).all() for a, b in zip(local_labels, ray_labels)), "Ray's labels differ"
        round_trips = []
        for _ in range(30):
            seconds, _ = timed(lambda: RayMapper()(abs, [0]))
            round_trips.append(seconds)
        batch, _ = timed(lambda: RayMapper()(abs, list(range(400))))
        cpus = int(ray.cluster_resources().get("CPU", 0))
    load_after = os.getloadavg()

    per_case = sequential_cases / sequential.items
    per_label = labels_local / len(jobs)
    rows = (
        [
            [
                "shift sweep, whole call",
                f"{sequential.items} cases",
                f"{sweep_local:.2f} s",
                f"{sweep_ray:.2f} s",
                f"{sweep_local / sweep_ray:.2f}x",
            ],
            [
                "shift sweep, mapped cases",
                f"{per_case * 1e3:.0f} ms per case",
                f"{sequential_cases:.2f} s",
                f"{ray_cases:.2f} s",
                f"{sequential_cases / ray_cases:.2f}x",
            ],
        ]
        + [
            [
                f"DAgger labels, {size or 'auto: ' + str(-(-len(jobs) // (4 * cpus)))} per task",
                f"{len(jobs)} LPs, {per_label * 1e3:.1f} ms each",
                f"{labels_local:.2f} s",
                f"{labels_ray[size]:.2f} s",
                f"{labels_local / labels_ray[size]:.2f}x",
            ]
            for size in (1, 4, 16, None)
        ]
        + [
            [
                f"DAgger labels, local process pool of {args.cpus} (4 per chunk)",
                f"{len(jobs)} LPs",
                f"{labels_local:.2f} s",
                f"{labels_pool:.2f} s (pool)",
                f"{labels_local / labels_pool:.2f}x",
            ]
        ]
    )
    overhead = [
        ["empty task, round trip (median of 30)", f"{statistics.median(round_trips) * 1e3:.1f} ms"],
        ["empty task in a batch of 400 (throughput cost)", f"{batch / 400 * 1e3:.2f} ms"],
        [f"Ray start ({cpus} CPUs, once per run)", f"{ray_start:.1f} s"],
        ["first tasks of fresh workers (imports; once per worker)", f"{warm_up:.1f} s"],
    ]
    header = ["work", "size", "sequential", f"Ray, {cpus} workers", "speed-up"]
    print_table("Ray against the sequential path (same run)", header, rows)
    print_table("Ray's own cost", ["what", "time"], overhead)
    averages = lambda values: ", ".join(f"{v:.2f}" for v in values)  # noqa: E731
    load = f"load average (1, 5, 15 min) before {averages(load_before)}; after {averages(load_after)}"
    print(f"\n{load} on {os.cpu_count()} cores")
    table = lambda head, body: "\n".join(
        ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]  # noqa: E731
        + ["| " + " | ".join(map(str, r)) + " |" for r in body]
    )
    text = (
        f"# Ray against the sequential path\n\n`python benchmarks/bench_ray.py --cpus {args.cpus} --repeats {args.repeats}`; "
        f"{load} on {os.cpu_count()} cores.\n\n{table(header, rows)}\n\n{table(['what', 'time'], overhead)}\n"
    )
    path = atomic_write_text(out / "bench_ray.md", text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
