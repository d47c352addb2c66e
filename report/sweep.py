"""The distribution-shift sweep: algorithms x shifts x severities, and the consistency-robustness
trade-off of the robustification layer as lambda varies."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from tqdm.auto import tqdm

from agents.registry import AlgorithmOptions
from envs.scenario import Scenario
from envs.shifts import SHIFTS, ShiftSpec, apply_shift
from report.run import run_algorithms
from report.tables import result_rows

SEVERITIES = (0.0, 0.5, 1.0, 2.0)
LAMBDAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass
class SweepResult:
    """rows: one per (shift, severity, algorithm); tradeoff: one per lambda (plus the ML alone
    and the expert), with J / J(eGLB-Off) in distribution and over the shifts at severity 1."""

    rows: list[dict]
    tradeoff: list[dict]
    ml: str


def shifted(scenario: Scenario, name: str, severity: float, seed: int):
    return apply_shift(scenario, ShiftSpec(name, {"severity": severity}), seed)


def run_sweep(scenario: Scenario, specs: list[str], options: AlgorithmOptions, shifts: tuple[str, ...] | list[str] = tuple(SHIFTS),
              severities=SEVERITIES, ml: str = "glb-cost", lambdas=LAMBDAS, seed: int = 0, progress: bool = True) -> SweepResult:
    """Run every algorithm on every shift and severity, then the lambda trade-off of robust(ml)."""
    rows = []
    cases = [(name, severity) for name in shifts for severity in severities]
    baseline = None
    for name, severity in tqdm(cases, desc="sweep", unit="case", disable=not progress):
        if severity == 0 and baseline is not None:  # every shift at severity 0 is the unshifted scenario
            case_rows = [dict(r, shift=name) for r in baseline]
        else:
            case = shifted(scenario, name, severity, seed)
            results, offline = run_algorithms(specs, case.scenario, replace(options, forecast_noise=case.forecast_noise), progress=False)
            case_rows = [dict(r, shift=name, severity=severity) for r in result_rows(results, case.scenario, offline)]
            if severity == 0:
                baseline = case_rows
        rows.extend(case_rows)
    tradeoff = tradeoff_curve(scenario, ml, lambdas, shifts, options, seed, progress)
    return SweepResult(rows, tradeoff, ml)


def tradeoff_curve(scenario: Scenario, ml: str, lambdas, shifts, options: AlgorithmOptions, seed: int, progress: bool) -> list[dict]:
    """J / J(eGLB-Off) of robust(ml, lambda) in distribution and on every shift at severity 1."""
    specs = [ml, "eglb"] + [f"robust({ml},lambda={lam:g})" for lam in lambdas]
    scenarios = [("in distribution", scenario, None)]
    for name in shifts:
        case = shifted(scenario, name, 1.0, seed)
        scenarios.append((name, case.scenario, case.forecast_noise))
    ratios = {spec: {} for spec in specs}
    for label, case, noise in tqdm(scenarios, desc="lambda trade-off", unit="case", disable=not progress):
        results, offline = run_algorithms(specs, case, replace(options, forecast_noise=noise), progress=False)
        for result in results:
            ratios[result.name][label] = result.metrics.J / offline
    out = []
    for spec in specs:
        shifted_ratios = [v for k, v in ratios[spec].items() if k != "in distribution"]
        out.append({
            "algo": spec,
            "lambda": next((lam for lam in lambdas if spec == f"robust({ml},lambda={lam:g})"), None),
            "in_distribution": ratios[spec]["in distribution"],
            "shifted_mean": float(np.mean(shifted_ratios)) if shifted_ratios else float("nan"),
            "shifted_worst": float(np.max(shifted_ratios)) if shifted_ratios else float("nan"),
            **{f"shift_{k}": v for k, v in ratios[spec].items() if k != "in distribution"},
        })
    return out
