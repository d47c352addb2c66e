"""A Markdown report of a sweep a reader can open: tables and the plots beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from eglb.envs.files import atomic_write_text
from eglb.envs.scenario import Scenario
from eglb.envs.shifts import SHIFTS


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _interval(row: dict, key: str, prefix: str | None = None) -> str:
    """``1.0350 [1.0300, 1.0410]`` when the row has the interval (``PREFIX_ci_low``, ``PREFIX_ci_high``;
    the prefix defaults to ``key``) of its value ``key``, else the value alone."""
    prefix = prefix or key
    low, high = row.get(f"{prefix}_ci_low"), row.get(f"{prefix}_ci_high")
    if low is None or high is None or low == high:
        return f"{row[key]:.4f}"
    return f"{row[key]:.4f} [{low:.4f}, {high:.4f}]"


def scenarios_line(scenarios: list[Scenario]) -> str:
    """What the scenarios are, in one sentence (their names, shape, mask and weights)."""
    first = scenarios[0]
    names = ", ".join(f"**{s.name}**" for s in scenarios)
    return (
        f"Scenario{'s' if len(scenarios) > 1 else ''}: {names} ({first.n_regions} regions, {first.n_gateways} gateways, "
        f"{first.n_hours} hours, {'full' if first.full_mask else 'partial'} mask, mu_w = {first.mu_water:g} USD/m^3, "
        f"mu_c = {first.mu_carbon:g} USD/t)."
    )


def write_report(
    path: Path,
    scenarios: list[Scenario],
    summary: list[dict],
    tradeoff: list[dict],
    ml: str,
    command: str,
    bounds: list[bool],
) -> Path:
    """report.md of the distribution-shift sweep.

    Args:
        scenarios: the unshifted scenarios. summary: per (shift, severity, algorithm) the mean J /
            J(eGLB-Off) over scenarios and seeds (with its interval when there are several).
        tradeoff: the lambda trade-off rows. bounds: for every robust run of the sweep (each played
            once), whether its J stayed within its bound.
    """
    algos = list(dict.fromkeys(r["algo"] for r in summary))
    shifts = list(dict.fromkeys(r["shift"] for r in summary))
    severities = sorted({r["severity"] for r in summary})
    top = max(severities)
    point = {(r["algo"], r["shift"], r["severity"]): r for r in summary}

    def ratio(algo, shift, severity):
        found = point.get((algo, shift, severity))
        return found["ratio_to_offline"] if found else float("nan")

    headline = []
    for a in algos:
        at_one = [ratio(a, s, 1.0) for s in shifts]
        at_top = [ratio(a, s, top) for s in shifts]
        headline.append(
            [
                f"`{a}`",
                point[(a, shifts[0], 0.0)].get("information", "not declared"),
                _interval(point[(a, shifts[0], 0.0)], "ratio_to_offline", "ratio"),
                f"{np.nanmean(at_one):.4f}",
                f"{np.nanmax(at_one):.4f}",
                f"{np.nanmean(at_top):.4f}",
            ]
        )
    per_shift = [
        [s] + [_interval(point[(a, s, 1.0)], "ratio_to_offline", "ratio") if (a, s, 1.0) in point else "-" for a in algos]
        for s in shifts
    ]
    curve = [
        [
            f"`{r['algo']}`",
            r.get("information", "not declared"),
            "-" if r["lambda"] is None else f"{r['lambda']:g}",
            _interval(r, "in_distribution"),
            _interval(r, "shifted_mean"),
            f"{r['shifted_worst']:.4f}",
        ]
        for r in tradeoff
    ]
    seeds = max((r.get("seeds", 1) for r in summary), default=1)
    over = f"{len(scenarios)} scenarios" + (f" and {seeds} training seeds" if seeds > 1 else "")
    averaging = (
        f" Each figure is the mean over the {over}, with its 95 % stratified-bootstrap interval in brackets."
        if len(scenarios) > 1 or seeds > 1
        else ""
    )
    text = (
        f"""# Learning-augmented against classical online algorithms under distribution shift

{scenarios_line(scenarios)}
Every figure is J / J(eGLB-Off) on the shifted trace: the objective relative to the hindsight optimum
of that same trace (1 is the best any algorithm can do; lower is better).{averaging} Command:

    {command}

## Headline

| algorithm | information | in distribution | mean over shifts (severity 1) | worst shift (severity 1) | mean over shifts (severity {top:g}) |
|---|---|---|---|---|---|
"""
        + "\n".join("| " + " | ".join(r) + " |" for r in headline)
        + f"""

![J / J(eGLB-Off) against severity](sweep.png)

## Every shift at severity 1

{_table(["shift"] + [f"`{a}`" for a in algos], per_shift)}

Shifts (see `envs/shifts.py` for their parameters):

{chr(10).join(f"- **{name}**: {SHIFTS[name][2]} (at severity 1)" for name in shifts)}

## Consistency and robustness of `robust({ml}, lambda)`

The robustification layer plays the ML proposal as far as the guarantee
J(robust) <= (1 + lambda) J(eGLB) + B_T allows (B = 0 here). Small lambda stays close to the expert
(robust, less consistent); large lambda follows the ML policy (consistent in distribution, exposed
under shift).

{_table(["policy", "information", "lambda", "in distribution", "mean over shifts", "worst shift"], curve)}

![consistency-robustness trade-off](tradeoff.png)

Guarantee check: {sum(bounds)} of {len(bounds)} robust runs in the sweep (each shifted trace, scenario and seed
once) stay within their bound (1 + lambda) J(eGLB) + B_T{" (all of them)" if all(bounds) else ""}.
"""
    )
    return atomic_write_text(path, text)


def write_benchmark_report(
    path: Path, scenario: Scenario, year: str, window_hours: int, summary: list[dict], seasons: list[dict], command: str
) -> Path:
    """report.md of the cross-year benchmark (eglb/benchmark.py): the table, the seasons, the plots."""
    windows = summary[0]["windows"] if summary else 0
    purpose = (
        "the test year: the final report, nothing is tuned on it"
        if str(year) == "2024"
        else "not the test year: a selection or analysis run"
    )
    headline = []
    for r in summary:
        runs = r.get("runs", r["windows"])  # windows x the seeds of a run group
        below = f"{r['below_eglb']} / {runs}" if "below_eglb" in r else "-"
        bound = f"{r['within_bound']} / {runs}" if "within_bound" in r else "-"
        headline.append(
            [
                f"`{r['algo']}`",
                r.get("information", "not declared"),
                r.get("trained_on") or "-",
                _interval(r, "ratio_to_offline", "ratio"),
                f"{r['ratio_worst']:.4f}",
                below,
                bound,
                f"{r['cost']:,.0f}",
                f"{r['par_water']:.3f}",
                f"{r['par_carbon']:.3f}",
                f"{r['ms_per_hour']:.2f}" if "ms_per_hour" in r else "-",
            ]
        )
    names = list(dict.fromkeys(s["season"] for s in seasons))
    matrix = []
    for r in summary:
        cells = []
        for name in names:
            found = [s for s in seasons if s["algo"] == r["algo"] and s["season"] == name]
            cells.append(f"{found[0]['ratio_to_offline']:.4f} ({found[0]['windows']})" if found else "-")
        labels = [f"`{r['algo']}`", r.get("information", "not declared"), r.get("trained_on") or "-"]
        matrix.append(labels + cells + [f"{r['ratio_to_offline']:.4f}"])
    notices = (scenario.metadata or {}).get("attribution", [])
    text = f"""# Cross-year benchmark on {year}

{scenario.n_regions} regions ({", ".join(scenario.regions)}), {windows} windows of {window_hours} hours of UTC {year}
({purpose}); mu_w = {scenario.mu_water:g} USD/m^3, mu_c = {scenario.mu_carbon:g} USD/t. Every figure is
J / J(eGLB-Off) of a window, eGLB-Off being the hindsight optimum of that window (1 is the best any
algorithm can do; lower is better), averaged over the windows. "information" is what each algorithm knew
when it acted ("oracle:" marks references that read the future); "ms / hour" its decision time per hour
(its reset and every hour's decision, or an offline solve, over the hours). Command:

    {command}

## Over the year

{
        _table(
            [
                "algorithm",
                "information",
                "trained on",
                "mean [95 % CI]",
                "worst window",
                "windows below eGLB",
                "robust: windows within bound",
                "Cost (US$)",
                "PAR water",
                "PAR carbon",
                "ms / hour",
            ],
            headline,
        )
    }

![J / J(eGLB-Off) per window](windows.png)

## By season (mean over the windows whose middle hour falls in the season; windows in brackets)

Policies trained on different years or seasons make this a real-shift matrix: training data by row,
test season by column.

{_table(["algorithm", "information", "trained on"] + names + ["year"], matrix)}

![each region's footprint as a share of the worst region's, mean over the windows](regions.png)

## Data

{chr(10).join(f"- {n}" for n in notices)}
"""
    return atomic_write_text(path, text)
