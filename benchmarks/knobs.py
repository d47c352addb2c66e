"""What the other two knobs are worth: deferrable jobs and model choice, for every algorithm (docs/model/flexibility.md).

For each scenario (the published set, two weeks of 2024 history with the 14 complete zones), with a
calibrated job stream (envs/job_stream.py, seeded) and the Llama 3.1 70B / 8B model choice at an
average accuracy target of 80 (MMLU), every algorithm runs on the four knob variants of
:func:`eglb.envs.knob_specs.variant`: spatial routing alone (jobs run now, the 70B model), plus
deferral, plus model choice, and both. The tables give J, the energy cost and the worst region's
water and carbon footprints of spatial routing alone, and the change each knob brings.

    python benchmarks/knobs.py                 # the tables of `make figures` (sections knobs, knobs-frontier)
    python benchmarks/knobs.py --quick         # 48 hours of the published set: a smoke run
    python benchmarks/knobs.py --cases 1 --no-frontier   # one scenario's runs (several such commands run side by side)

Each algorithm's four runs on a full-size scenario are kept in results/figures/knobs-runs/ (JSON) and
reused by the next call, so an interrupted section resumes and the scenarios can be measured in
parallel processes; delete the folder to measure again.

The online algorithms see only the present (eGLB) or seasonal-naive forecasts (RHC, AFHC): the
strongest baselines with the same information; eGLB-Off is the hindsight optimum (an oracle).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from common import markdown_table

TARGET = 80.0  # MMLU points: 74.6% of the class's requests on the 70B model at the least
MODELS = "llama3.1-batch128"
ALGOS = ("eglb-off", "eglb", "defer-cheapest", "rhc:w=24", "afhc:w=6")
LABELS = {
    "eglb-off": "eGLB-Off (oracle)",
    "eglb": "eGLB",
    "defer-cheapest": "eGLB, jobs at the cheapest hours",
    "rhc:w=24": "RHC w=24",
    "afhc:w=6": "AFHC w=6",
}
#: Weeks of the test year 2024 (start hours): mid January and mid July.
WEEKS_2024 = ((14 * 24, 21 * 24), (196 * 24, 203 * 24))
#: Transfer price out of a region, USD/GB (FLEXIBILITY.md section 4, green-dcc matrices: 0.02 from
#: US and EU regions, about 0.09 from the others).
US_EU = ("US-", "CA-", "DE-", "Texas", "Virginia", "Georgia", "Nevada", "Germany", "Belgium", "Netherlands", "Denmark")


#: The finished runs of full-size scenarios (module docstring).
RUNS = Path(__file__).resolve().parents[1] / "results" / "figures" / "knobs-runs"
#: What a table row needs of one run's metrics.
FIELDS = ("J", "cost_total", "worst_water", "worst_carbon", "unfinished", "accuracy")


def usd_per_gb(regions) -> tuple[float, ...]:
    return tuple(0.02 if r.startswith(US_EU) else 0.09 for r in regions)


def utc_offsets(scenario) -> tuple[float, ...]:
    """Each region's UTC offset (hours, at the scenario's first hour) from the region tables; 0 if unknown."""
    from eglb.importers.regions import select_regions
    from eglb.importers.sites import utc_offsets as offsets

    try:
        regions = select_regions(list(scenario.regions))
    except Exception:  # regions not in the shipped tables (synthetic): UTC
        return tuple(0.0 for _ in scenario.regions)
    return tuple(float(offsets(scenario.timestamps[:1], r.timezone)[0]) if r.timezone else 0.0 for r in regions)


def with_knobs(scenario, seed: int):
    from eglb.envs.job_stream import JobStream
    from eglb.envs.knob_specs import model_choice

    stream = JobStream(usd_per_gb=usd_per_gb(scenario.regions), utc_offsets=utc_offsets(scenario))
    return stream.draw(scenario, seed).with_changes(models=model_choice(f"{MODELS}:target={TARGET:g}"))


def scenarios(quick: bool = False):
    from eglb.envs.eglb2022 import load_eglb2022

    published = load_eglb2022()
    if quick:
        return [("published, 48 h", with_knobs(published.window(0, 48), 0))]
    from eglb.importers.history import load_history

    cases = [("published (457 h)", with_knobs(published, 0))]
    for k, hours in enumerate(WEEKS_2024):
        week = load_history(years=2024, hours=hours)
        first = str(week.timestamps[0].astype("datetime64[D]"))
        cases.append((f"2024 week from {first} (14 zones)", with_knobs(week, 1 + k)))
    return cases


def run(algo: str, scenario) -> dict[str, float]:
    """What the tables need of one algorithm's metrics on one scenario, played through the environment."""
    from eglb.agents.base import OfflineSolver
    from eglb.agents.replay import Replay
    from eglb.agents.rollout import rollout

    from eglb.registry import build

    policy = build(algo)
    if isinstance(policy, OfflineSolver):
        policy = Replay(policy.solve(scenario), algo)
    m = rollout(policy, scenario).metrics
    values = (m.J, m.cost_total, m.region_water.max(), m.region_carbon.max(), m.unfinished, m.accuracy)
    return dict(zip(FIELDS, map(float, values)))


def variant_runs(label: str, algo: str, scenario, keep: bool) -> dict[str, dict[str, float]]:
    """The algorithm's metrics on the four knob variants, read from RUNS when measured before (``keep``)."""
    from eglb.envs.files import atomic_write_json, read_json
    from eglb.envs.knob_specs import VARIANTS, variant

    path = RUNS / (re.sub(r"[^\w.-]+", "_", f"{label}__{algo}") + ".json")
    if keep and path.is_file():
        return read_json(path, "knob runs")
    print(f"[knobs] {label}: {algo} ...", file=sys.stderr, flush=True)
    runs = {v: run(algo, variant(scenario, v)) for v in VARIANTS}
    if keep:
        RUNS.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, runs)
    return runs


def knob_tables(quick: bool = False, algos=ALGOS, cases: tuple[int, ...] | None = None) -> str:
    from eglb.envs.knob_specs import VARIANTS

    out = []
    for k, (label, scenario) in enumerate(scenarios(quick)):
        if cases is not None and k not in cases:
            continue
        rows = []
        for algo in algos:
            metrics = variant_runs(label, algo, scenario, keep=not quick)
            base = metrics["spatial"]
            row = [
                LABELS.get(algo, algo),
                f"{base['J']:,.0f}",
                f"{base['cost_total']:,.0f}",
                f"{base['worst_water']:,.0f}",
                f"{base['worst_carbon']:,.1f}",
            ]
            for v in VARIANTS[1:]:
                m = metrics[v]
                row.append(" / ".join(_pct(m[f], base[f]) for f in ("J", "cost_total", "worst_water", "worst_carbon")))
            both = metrics["both"]
            row.append(f"{both['unfinished']:.2g} MWh, {both['accuracy']:.2f}")
            rows.append(row)
        jobs = scenario.jobs
        out.append(
            markdown_table(
                f"{label}: {jobs.count} jobs, {jobs.energy.sum():,.0f} MWh of deferrable work next to "
                f"{scenario.workload.sum():,.0f} MWh of requests; models {MODELS} at target {TARGET:g}",
                [
                    "algorithm",
                    "spatial alone: J (USD)",
                    "energy cost (USD)",
                    "worst water (m3)",
                    "worst carbon (t)",
                    "+ deferral: J / cost / water / carbon",
                    "+ model choice",
                    "both knobs",
                    "both: work undone, accuracy",
                ],
                rows,
            )
        )
    return "\n".join(out)


def frontier(quick: bool = False) -> str:
    """eGLB-Off's cost against the worst region's footprints as the weights mu vary, without and with the knobs."""
    from eglb.agents.offline import EGLBOffline
    from eglb.envs.knob_specs import variant
    from eglb.envs.metrics import metrics_from_energy

    _, scenario = scenarios(quick)[0]
    rows = []
    for factor in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0):
        row = [f"{factor:g} x (60, 1500)"]
        for name in ("spatial", "both"):
            case = variant(scenario, name).with_changes(mu_water=60.0 * factor, mu_carbon=1500.0 * factor)
            plan = EGLBOffline().solve(case).knobs
            m = metrics_from_energy(case, plan.region_energy, plan.transfer_cost, plan.unfinished, plan.model_load_total())
            row += [f"{m.cost_total + m.transfer_cost:,.0f}", f"{m.region_water.max():,.0f}", f"{m.region_carbon.max():,.1f}"]
        rows.append(row)
    return markdown_table(
        f"The equity frontier of eGLB-Off on {scenario.name.split(' [')[0]}: money spent (energy and transfers, USD) against the worst "
        "region's water (m3) and carbon (t), as the weights mu = (mu_w, mu_c) vary",
        ["mu", "spatial alone: cost", "worst water", "worst carbon", "both knobs: cost", "worst water", "worst carbon"],
        rows,
    )


def _pct(value: float, base: float) -> str:
    return f"{100 * (value / base - 1):+.1f}%" if base else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="48 hours of the published set (a smoke run)")
    parser.add_argument("--algos", default=",".join(ALGOS), help="algorithms (registry specs)")
    parser.add_argument("--cases", help="comma-separated scenario indices (0 the published set, 1 and 2 the 2024 weeks)")
    parser.add_argument("--no-frontier", action="store_true", help="skip the frontier table")
    args = parser.parse_args(argv)
    cases = tuple(int(k) for k in args.cases.split(",")) if args.cases else None
    print(knob_tables(args.quick, tuple(a for a in args.algos.split(",") if a), cases))
    if not args.no_frontier:
        print(frontier(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
