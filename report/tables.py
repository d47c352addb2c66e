"""Result rows: the terminal table and the results.json / results.csv files (written atomically)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.files import atomic_write, atomic_write_json
from eglb.envs.scenario import Scenario
from eglb.report.run import AlgorithmResult
from eglb.report.statistics import aggregate, rows_matrix

COLUMNS = ("algo", "cost", "par_water", "par_carbon", "J", "ratio_to_offline")
#: Columns of text, aligned left in the terminal tables.
TEXT_COLUMNS = ("algo", "information", "trained_on")


def result_rows(results: list[AlgorithmResult], scenario: Scenario, offline_J: float, unserved: float = 0.0) -> list[dict]:
    """One JSON-ready dict per algorithm: the scenario's name, the policy's training seed (None for an
    algorithm that is not trained), the metrics, J / J(eGLB-Off), what it knew, its decision time per
    hour (ms: reset and every act, or an offline solve, over the hours) and per-region totals.

    When a shift shed load (``unserved`` MWh > 0), every row also says how much load was served and
    how much was not: J compares algorithms on the load that was served.
    """
    rows = []
    for result in results:
        m = result.metrics
        row = {
            "algo": result.name,
            "scenario": scenario.name,
            "seed": result.seed,
            "cost": m.cost,
            "par_water": m.par_water,
            "par_carbon": m.par_carbon,
            "J": m.J,
            "ratio_to_offline": m.J / offline_J if offline_J > 0 else float("nan"),
            "cost_total": m.cost_total,
            "seconds": result.seconds,
            "information": result.information,
            "ms_per_hour": 1000.0 * result.decision_seconds / scenario.n_hours,
            "region_cost": dict(zip(scenario.regions, m.region_cost.tolist())),
            "region_water": dict(zip(scenario.regions, m.region_water.tolist())),
            "region_carbon": dict(zip(scenario.regions, m.region_carbon.tolist())),
        }
        if scenario.flexible:  # deferrable jobs and model choice (docs/model/flexibility.md)
            row.update(
                transfer_usd=m.transfer_cost,
                unfinished_mwh=m.unfinished,
                unfinished_usd=m.unfinished_penalty,
                accuracy=m.accuracy,
                accuracy_penalty_usd=m.accuracy_penalty,
            )
        if unserved > 0:
            row["served_mwh"] = float(scenario.total_workload.sum())
            row["unserved_mwh"] = float(unserved)
        row.update(result.extra)
        rows.append(row)
    return rows


def ratio_columns(rows: list[dict], task: str = "scenario", seed: int = 0) -> dict:
    """One algorithm's J / J(eGLB-Off) over its rows (training seeds x ``task``s: scenarios, windows):
    the mean and the interquartile mean, each with its 95 % stratified-bootstrap interval
    (report/statistics.py), the spread and the worst row, and how many seeds and tasks."""
    matrix, seeds, tasks = rows_matrix(rows, "ratio_to_offline", task)
    out = {"ratio_to_offline": float(matrix.mean())}
    if np.isfinite(matrix).all():
        found = aggregate(matrix, seed=seed)
        out.update(
            ratio_ci_low=found.mean_ci[0],
            ratio_ci_high=found.mean_ci[1],
            ratio_iqm=found.iqm,
            ratio_iqm_ci_low=found.iqm_ci[0],
            ratio_iqm_ci_high=found.iqm_ci[1],
        )
    out.update(ratio_std=float(matrix.std()), ratio_worst=float(matrix.max()), seeds=len(seeds))
    return out


def mean_rows(rows: list[dict], task: str = "scenario") -> list[dict]:
    """Per algorithm, the mean of the headline columns over its rows (seeds x scenarios), with the
    interval, IQM, spread and worst of the ratio (:func:`ratio_columns`)."""
    algos = list(dict.fromkeys(r["algo"] for r in rows))
    out = []
    for algo in algos:
        mine = [r for r in rows if r["algo"] == algo]
        row = {"algo": algo, **{c: float(np.mean([r[c] for r in mine])) for c in COLUMNS[1:]}}
        if all("information" in r for r in mine):
            row["information"] = mine[0]["information"]
            row["ms_per_hour"] = float(np.mean([r["ms_per_hour"] for r in mine]))
        if any("unserved_mwh" in r for r in mine):
            row["unserved_mwh"] = float(np.mean([r.get("unserved_mwh", 0.0) for r in mine]))
        if any("nonfinite_actions" in r for r in mine):  # hours with a NaN or infinite action, over all scenarios
            row["nonfinite_actions"] = int(sum(r.get("nonfinite_actions", 0) for r in mine))
        row.update(ratio_columns(mine, task))
        row["scenarios"] = len({r[task] for r in mine})
        out.append(row)
    return out


def with_intervals(rows: list[dict]) -> list[dict]:
    """Rows with the printable columns ``ratio_ci`` and ``ratio_iqm_ci`` (``[low, high]``) for the terminal."""
    out = []
    for row in rows:
        row = dict(row)
        for key in ("ratio", "ratio_iqm"):
            low, high = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
            if low is not None and high is not None:
                row[f"{key}_ci"] = f"[{low:.4f}, {high:.4f}]"
        out.append(row)
    return out


#: The columns of a terminal summary over seeds and scenarios: mean, its interval, IQM, its interval.
INTERVAL_COLUMNS = ("ratio_ci", "ratio_iqm", "seeds")


def flat_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows with the per-region dicts spread into columns such as ``water_Texas``."""
    flat = []
    for row in rows:
        out = {}
        for key, value in row.items():
            if isinstance(value, dict):
                prefix = key.removeprefix("region_")
                out.update({f"{prefix}_{region}": v for region, v in value.items()})
            else:
                out[key] = value
        flat.append(out)
    return pd.DataFrame(flat)


def format_table(
    rows: list[dict],
    extra_columns: tuple[str, ...] = (),
    columns: tuple[str, ...] = COLUMNS,
    formats: dict[str, str] | None = None,
) -> str:
    """A plain-text table of ``columns`` (default the headline ones) plus any extras present; ``formats``
    adds format strings for columns of one's own. Hours with a non-finite action are shown wherever
    a row has any."""
    columns = list(columns) + [c for c in extra_columns if any(c in r for r in rows)]
    if any(r.get("nonfinite_actions") for r in rows) and "nonfinite_actions" not in columns:
        columns.append("nonfinite_actions")
    headers = {
        "algo": "algorithm",
        "cost": "Cost (US$)",
        "par_water": "PAR water",
        "par_carbon": "PAR carbon",
        "J": "J (US$)",
        "ratio_to_offline": "J / J(eGLB-Off)",
        "ratio_ci": "95 % CI",
        "ratio_iqm": "IQM",
        "ratio_iqm_ci": "IQM 95 % CI",
        "ms_per_hour": "ms / hour",
    }
    formats = {
        "cost": "{:,.0f}",
        "J": "{:,.0f}",
        "bound": "{:,.0f}",
        "par_water": "{:.3f}",
        "par_carbon": "{:.3f}",
        "ratio_to_offline": "{:.4f}",
        "followed_share": "{:.3f}",
        "mean_theta": "{:.3f}",
        "ratio_std": "{:.4f}",
        "ratio_worst": "{:.4f}",
        "ratio_iqm": "{:.4f}",
        "unserved_mwh": "{:,.1f}",
        "ms_per_hour": "{:.2f}",
        **(formats or {}),
    }
    cells = [[headers.get(c, c) for c in columns]]
    for row in rows:
        line = []
        for c in columns:
            value = row.get(c, "")
            if isinstance(value, float):
                value = formats.get(c, "{:.4g}").format(value)
            line.append(str(value))
        cells.append(line)
    widths = [max(len(r[k]) for r in cells) for k in range(len(columns))]
    text = []
    for k, line in enumerate(cells):
        text.append(
            "  ".join(v.ljust(w) if columns[i] in TEXT_COLUMNS else v.rjust(w) for i, (v, w) in enumerate(zip(line, widths)))
        )
        if k == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)


def write_rows(rows: list[dict], out: Path, stem: str = "results") -> list[Path]:
    """Write ``<stem>.json`` (the rows) and ``<stem>.csv`` (flattened) into ``out``, atomically."""
    out = Path(out)
    json_path = atomic_write_json(out / f"{stem}.json", rows)
    csv_path = atomic_write(out / f"{stem}.csv", lambda tmp: flat_frame(rows).to_csv(tmp, index=False))
    return [json_path, csv_path]
