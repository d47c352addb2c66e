"""Forecast-driven control against dual mirror descent: J / J(eGLB-Off) of RHC and AFHC.

For every data set, forecaster, window w in {1, 6, 24, 72} and tail rule (RHC: prorate, and for the
perfect, seasonal-day and learned forecasters also none and seasonal; AFHC: prorate) one episode
through the environment (``eglb.agents.rollout``), next to eGLB (dual mirror descent, its default step)
and eGLB-Off (the hindsight optimum, the denominator). A noise sweep of the noisy-truth forecaster
(RHC, prorate tail, w = 6 and 24) gives the ratio as a function of forecast error. Data: the
published set (full and partial mask, 457 hours) and held-out synthetic seeds 3..5 shortened to 336
hours (two weeks: the sweep runs ~85 episodes per data set, so shorter synthetic traces keep it near
half an hour on 2 cores), and, when the history folder is present, two weeks of 2023 of the 14
complete zones (the selection year: 2024 stays the test year). The learned forecaster is loaded from ``--model`` (trained there first if
absent: synthetic seeds 1000..1007).

Writes ``ratios.json`` (every episode), ``ratios.md`` (the tables) and ``ratios.png`` (ratio against
window and against forecast error) into ``--out``; every write is atomic.

    python benchmarks/bench_forecast_control.py [--out results/forecast-control] [--jobs 2] [--quick]
    python benchmarks/bench_forecast_control.py --render results/forecast-control   # tables and plot again
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
from common import learned_forecaster
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.offline import EGLBOffline
from eglb.agents.rhc import controller_from_spec, parse_controller_spec
from eglb.agents.rollout import rollout
from eglb.envs.eglb2022 import default_data_path, load_eglb2022
from eglb.envs.files import atomic_write, atomic_write_json, atomic_write_text
from eglb.envs.forecast import SIGNALS
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts.accuracy import forecast_errors
from eglb.forecasts.spec import build_forecaster

WINDOWS = (1, 6, 24, 72)
SWEEP_NOISE = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
SWEEP_WINDOWS = (6, 24)
#: Held-out synthetic seeds: 0..2 select checkpoints in training (train.py's --eval-seeds), so they are not held out.
SYNTHETIC_SEEDS = (3, 4, 5)
SYNTHETIC_HOURS = 336
#: Weeks of real history (the 14 complete zones, 2023: the selection year, never the test year 2024).
HISTORY_YEAR, HISTORY_WEEKS = "2023", (8, 30)
#: Prefix of the tasks of other policies run next to the controllers (``--also``).
ALSO = "also:"
#: The forecasters for which all three tail rules are compared (the others run with the prorate tail).
TAIL_STUDY = ("perfect", "seasonal-day", "learned")


def forecaster_specs(model: Path) -> dict[str, str]:
    """Label -> the forecaster part of a controller spec."""
    return {
        "perfect": "forecaster=perfect",
        "noisy(0.1)": "forecaster=noisy,noise=0.1",
        "persistence": "forecaster=persistence",
        "seasonal-day": "forecaster=seasonal",
        "seasonal-week": "forecaster=seasonal,period=168",
        "learned": f"forecaster=learned,model={model}",
    }


@lru_cache(maxsize=8)
def scenario_of(data: str):
    kind, _, arg = data.partition(":")
    if kind == "published":
        return load_eglb2022(default_data_path(), arg)
    if kind == "history":  # a week of the selection year 2023, the 14 complete zones
        from eglb.importers.paths import default_history_path

        from eglb.scenarios import ScenarioConfig, history_scenario

        week = int(arg)
        return history_scenario(
            ScenarioConfig(traces=str(default_history_path())), years=HISTORY_YEAR, hours=(week * 168, (week + 1) * 168)
        )
    return make_synthetic(int(arg), hours=SYNTHETIC_HOURS)


def run(task: tuple[str, str]) -> dict:
    """One episode: (data set, spec) -> its row. Runs in a worker process."""
    data, spec = task
    scenario = scenario_of(data)
    if spec == "eglb-off":
        solution = EGLBOffline().solve(scenario)
        return {"data": data, "spec": spec, "J": solution.objective, "seconds": solution.seconds}
    if spec.startswith(ALSO):
        from eglb.registry import build

        policy = build(spec[len(ALSO) :])
    else:
        policy = EGLBOnline() if spec == "eglb" else controller_from_spec(spec)
    result = rollout(policy, scenario)
    row = {"data": data, "spec": spec, "J": result.metrics.J, "seconds": result.seconds}
    if spec != "eglb" and not spec.startswith(ALSO):
        kind, params = parse_controller_spec(spec)
        info = result.infos[-1]
        row.update(kind=kind, w=int(params["w"]), tail=params["tail"], solves=info["solves"], solve_seconds=info["solve_seconds"])
    return row


def tasks_for(data_sets: list[str], forecasters: dict[str, str], windows, quick: bool, also=()) -> list[tuple[str, str]]:
    specs = []
    for w in windows:
        for label, forecaster in forecasters.items():
            tails = ("none", "prorate", "seasonal") if label in TAIL_STUDY and not quick else ("prorate",)
            specs += [f"rhc:w={w},{forecaster},tail={tail}" for tail in tails]
            specs.append(f"afhc:w={w},{forecaster},tail=prorate")
    for w in SWEEP_WINDOWS:
        specs += [f"rhc:w={w},forecaster=noisy,noise={noise},tail=prorate" for noise in SWEEP_NOISE if noise not in (0.0, 0.1)]
    # Other policies (--also) run where they fit: a policy trained on the published regions cannot act on 14 zones.
    tasks = [
        (data, spec)
        for data in data_sets
        for spec in ["eglb-off", "eglb"] + ([] if data.startswith("history") else [ALSO + a for a in also]) + specs
    ]
    return sorted(tasks, key=_expected_cost, reverse=True)  # longest first, so that the workers finish together


def _expected_cost(task: tuple[str, str]) -> float:
    if ":" not in task[1] or task[1].startswith(ALSO):
        return 0.0
    kind, params = parse_controller_spec(task[1])
    return (2.0 if kind == "afhc" else 1.0) * (10 + int(params["w"]))


def label_of(spec: str, forecasters: dict[str, str]) -> str:
    for label, part in sorted(forecasters.items(), key=lambda item: -len(item[1])):  # the most specific first
        if f",{part}," in f",{spec},".replace(":", ","):
            return label
    return spec


def mean_error(forecaster_spec: str, scenarios, horizon: int) -> float:
    """Mean forecast error over the four signals and leads 1..horizon (fractions; see forecasts.accuracy)."""
    params = dict(part.split("=", 1) for part in forecaster_spec.split(","))
    name = params.pop("forecaster")
    first_hour = min(168, min(s.n_hours for s in scenarios) - horizon - 24)  # a week of history where there is room
    errors = forecast_errors(build_forecaster(name, params), scenarios, horizon, first_hour, rng=np.random.default_rng(0))
    return float(np.mean([errors.mean(signal, horizon) for signal in SIGNALS]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/forecast-control")
    parser.add_argument("--model", default=None, help="learned forecaster folder (default results/forecasters/learned)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--quick", action="store_true", help="prorate tail only, published full and one synthetic seed")
    parser.add_argument("--render", metavar="DIR", help="write ratios.md and ratios.png again from DIR/ratios.json")
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="SPEC",
        help="another policy to run next to the controllers (e.g. bc:runs/bc, robust(bc:runs/bc,lambda=0.05))",
    )
    args = parser.parse_args()
    if args.render:
        render(Path(args.render))
        return
    out = Path(args.out)
    model = Path(args.model or "results/forecasters/learned").resolve()
    learned_forecaster(model)  # trained once here, loaded by the workers
    forecasters = forecaster_specs(model)
    published = (default_data_path() / "AI_workload.csv").is_file()
    data_sets = (["published:full", "published:partial"] if published else []) + [f"synthetic:{s}" for s in SYNTHETIC_SEEDS]
    from eglb.importers.history import is_history_folder
    from eglb.importers.paths import default_history_path

    if is_history_folder(default_history_path()):
        data_sets += [f"history:{week}" for week in HISTORY_WEEKS]
    if args.quick:
        data_sets = data_sets[:1] + [f"synthetic:{SYNTHETIC_SEEDS[0]}"]
    tasks = tasks_for(data_sets, forecasters, WINDOWS, args.quick, args.also)
    print(f"{len(tasks)} episodes on {', '.join(data_sets)} with {args.jobs} workers", flush=True)
    begin = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for k, row in enumerate(pool.map(run, tasks, chunksize=1), 1):
            rows.append(row)
            if k % 20 == 0:
                print(f"  {k}/{len(tasks)} episodes, {time.perf_counter() - begin:.0f} s", flush=True)
    optimum = {row["data"]: row["J"] for row in rows if row["spec"] == "eglb-off"}
    for row in rows:
        row["ratio"] = row["J"] / optimum[row["data"]]
        row["forecaster"] = label_of(row["spec"], forecasters)
    errors = {}
    for data in data_sets:
        scenarios = [scenario_of(data)]
        for label, part in forecasters.items():
            errors[(data, label)] = mean_error(part, scenarios, 23)
        for noise in SWEEP_NOISE[1:]:
            errors[(data, f"noisy({noise:g})")] = mean_error(f"forecaster=noisy,noise={noise}", scenarios, 23)
    atomic_write_json(
        out / "ratios.json",
        {
            "episodes": rows,
            "forecast_error_1_23": {f"{d} {f}": e for (d, f), e in errors.items()},
            "seconds": time.perf_counter() - begin,
        },
    )
    render(out)
    print(f"wrote {out}/ratios.md, ratios.json, ratios.png in {time.perf_counter() - begin:.0f} s")


def render(out: Path) -> None:
    """Tables (ratios.md) and plot (ratios.png) from the episodes in ``out``/ratios.json."""
    document = json.loads((out / "ratios.json").read_text())
    rows = document["episodes"]
    errors = {tuple(key.split(" ", 1)): value for key, value in document["forecast_error_1_23"].items()}
    data_sets = list(dict.fromkeys(row["data"] for row in rows))
    forecasters = list(dict.fromkeys(label for _, label in errors if not label.startswith("noisy(") or label == "noisy(0.1)"))
    text = markdown(rows, data_sets, forecasters, errors)
    atomic_write_text(out / "ratios.md", text)
    plot(rows, data_sets, forecasters, errors, out / "ratios.png")
    print(text)


def _ratio(rows, data_sets, forecaster: str | None = None, spec_part: str | None = None, **fields) -> float:
    """Mean ratio over ``data_sets`` of the rows whose ``fields`` match (and forecaster label, or a spec fragment)."""
    values = [
        row["ratio"]
        for row in rows
        if row["data"] in data_sets
        and all(row.get(key) == value for key, value in fields.items())
        and (forecaster is None or row["forecaster"] == forecaster)
        and (spec_part is None or f"{spec_part}," in row["spec"] + ",")
    ]
    return float(np.mean(values)) if values else float("nan")


def _error(errors: dict, members: list[str], label: str) -> float:
    """The mean forecast error of ``label`` over the data sets ``members`` (nan where not measured)."""
    return float(np.mean([errors.get((d, label), np.nan) for d in members]))


def _sweep_part(noise: float) -> str:
    return "forecaster=perfect" if noise == 0 else f"forecaster=noisy,noise={noise}"


def groups_of(data_sets: list[str]) -> dict[str, list[str]]:
    """Table sections: each published setting alone, the synthetic seeds together (mean ratio)."""
    groups = {d: [d] for d in data_sets if d.startswith("published")}
    synthetic = [d for d in data_sets if d.startswith("synthetic")]
    if synthetic:
        seeds = ", ".join(d.split(":")[1] for d in synthetic)
        groups[f"held-out synthetic (seeds {seeds}, {SYNTHETIC_HOURS} h; mean ratio)"] = synthetic
    history = [d for d in data_sets if d.startswith("history")]
    if history:
        weeks = ", ".join(d.split(":")[1] for d in history)
        groups[f"real history, 14 zones, weeks {weeks} of {HISTORY_YEAR} (mean ratio)"] = history
    return groups


def markdown(rows, data_sets, forecasters, errors) -> str:
    lines = [
        "# Forecast-driven control: J / J(eGLB-Off)",
        "",
        "RHC and AFHC for windows w and forecasters, with the tail rule for the hours after the window; "
        "eGLB is dual mirror descent with its default step. Lower is better; 1 is the hindsight optimum; "
        "bold: better than eGLB. 'forecast error' is the mean over the four signals of the error over leads 1..23 "
        "(MAPE; scaled MAE for prices) on the same data.",
    ]
    for title, members in groups_of(data_sets).items():
        eglb = _ratio(rows, members, spec="eglb")
        lines += [
            "",
            f"## {title}",
            "",
            f"eGLB (dual mirror descent): **{eglb:.4f}**",
            "",
            *[
                f"`{spec[len(ALSO) :]}`: **{_ratio(rows, members, spec=spec):.4f}**  "
                for spec in dict.fromkeys(row["spec"] for row in rows if row["spec"].startswith(ALSO) and row["data"] in members)
            ],
            "",
            "| controller | tail | forecaster | forecast error | " + " | ".join(f"w={w}" for w in WINDOWS) + " |",
            "|---|---|---|---|" + "---|" * len(WINDOWS),
        ]
        for kind, tail in (("rhc", "none"), ("rhc", "prorate"), ("rhc", "seasonal"), ("afhc", "prorate")):
            for label in forecasters:
                values = [_ratio(rows, members, forecaster=label, kind=kind, tail=tail, w=w) for w in WINDOWS]
                if all(np.isnan(values)):
                    continue
                cells = ["" if np.isnan(v) else (f"**{v:.4f}**" if v < eglb else f"{v:.4f}") for v in values]
                error = _error(errors, members, label)
                lines.append(f"| {kind} | {tail} | {label} | {100 * error:.1f} % | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Noise sweep (RHC, prorate tail, noisy-truth forecaster):",
            "",
            "| noise | forecast error | " + " | ".join(f"w={w}" for w in SWEEP_WINDOWS) + " |",
            "|---|---|" + "---|" * len(SWEEP_WINDOWS),
        ]
        for noise in SWEEP_NOISE:
            cells = [_ratio(rows, members, spec_part=_sweep_part(noise), kind="rhc", tail="prorate", w=w) for w in SWEEP_WINDOWS]
            error = 0.0 if noise == 0 else _error(errors, members, f"noisy({noise:g})")
            lines.append(f"| {noise:g} | {100 * error:.1f} % | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
    speed = [r for r in rows if r.get("kind") == "rhc" and r.get("w") == 24 and r.get("tail") == "prorate"]
    speed = [r for r in speed if r["forecaster"] == "perfect" and r["data"].startswith("published")]
    if speed:
        lines += [
            "",
            "## Speed (RHC, w = 24, prorate, perfect forecasts, one 457-hour episode through the environment)",
            "",
            "Measured inside this run, two episodes at a time: see benchmarks/bench_rhc.py for timings on their own.",
            "",
            "| data | episode | LPs | per LP |",
            "|---|---|---|---|",
        ]
        for r in speed:
            per_lp = 1000 * r["solve_seconds"] / r["solves"]
            lines.append(f"| {r['data']} | {r['seconds']:.2f} s | {r['solves']} | {per_lp:.2f} ms |")
    return "\n".join(lines) + "\n"


def plot(rows, data_sets, forecasters, errors, path: Path) -> None:
    """Per data group: J / J(eGLB-Off) against the window (left) and against forecast error (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    groups = groups_of(data_sets)
    fig, axes = plt.subplots(len(groups), 2, figsize=(12, 4.5 * len(groups)), squeeze=False)
    for (title, members), (left, right) in zip(groups.items(), axes):
        eglb = _ratio(rows, members, spec="eglb")
        for label in forecasters:
            values = [_ratio(rows, members, forecaster=label, kind="rhc", tail="prorate", w=w) for w in WINDOWS]
            left.plot(WINDOWS, values, marker="o", label=f"RHC {label}")
        afhc = [_ratio(rows, members, forecaster="perfect", kind="afhc", w=w) for w in WINDOWS]
        left.plot(WINDOWS, afhc, marker="s", linestyle="--", color="black", label="AFHC perfect")
        left.axhline(eglb, color="grey", linestyle=":", label="eGLB (dual mirror descent)")
        left.set(
            xscale="log",
            xticks=WINDOWS,
            xticklabels=[str(w) for w in WINDOWS],
            xlabel="window w (hours)",
            ylabel="J / J(eGLB-Off)",
            title=f"{title}\nratio against window (RHC: prorate tail)",
        )
        left.xaxis.set_minor_formatter(NullFormatter())
        left.legend(fontsize=7)
        for w in SWEEP_WINDOWS:
            points = [
                (
                    0.0 if noise == 0 else _error(errors, members, f"noisy({noise:g})"),
                    _ratio(rows, members, spec_part=_sweep_part(noise), kind="rhc", tail="prorate", w=w),
                )
                for noise in SWEEP_NOISE
            ]
            right.plot(*zip(*points), marker="o", label=f"RHC w={w}, noisy truth (noise 0..{SWEEP_NOISE[-1]:g})")
            for label in ("persistence", "seasonal-day", "learned"):
                error = _error(errors, members, label)
                value = _ratio(rows, members, forecaster=label, kind="rhc", tail="prorate", w=w)
                right.scatter([error], [value], marker="x", color="black")
                right.annotate(f"{label} w={w}", (error, value), fontsize=7, xytext=(3, 3), textcoords="offset points")
        right.axhline(eglb, color="grey", linestyle=":", label="eGLB")
        right.set(
            xlabel="mean forecast error over leads 1..23 (MAPE; scaled MAE for prices)",
            ylabel="J / J(eGLB-Off)",
            title=f"{title}\nratio against forecast error (RHC, prorate tail)",
        )
        right.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    atomic_write(path.with_suffix(".pdf"), lambda tmp: fig.savefig(tmp, format="pdf"))  # for papers
    plt.close(fig)


if __name__ == "__main__":
    main()
