"""RHC and AFHC speed: one 457-hour episode with w = 24 on the published data, full and partial mask.

Every hour RHC solves one small eGLB-Off LP (24 hours x 10 regions) through ``EGLBOffline.solve``;
AFHC re-plans one of its w controllers per hour (w LPs at hour 0) and routes all w plans on the
true hour. Timed alone (reset, then ``act`` for every hour) and through the environment
(``eglb.agents.rollout``). Baselines measured in the same run: the whole-horizon eGLB-Off LP (one solve of
all 457 hours) and an eGLB episode (dual mirror descent, closed forms, no LP).

    python benchmarks/bench_rhc.py
"""

from __future__ import annotations

from common import best_time, print_table, published_or_synthetic
from eglb.agents.base import HourView
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.offline import EGLBOffline
from eglb.agents.rhc import controller_from_spec
from eglb.agents.rollout import rollout
from eglb.envs.metrics import FootprintState

SPECS = (
    "rhc:w=24,forecaster=perfect,tail=prorate",
    "rhc:w=24,forecaster=seasonal,tail=prorate",
    "rhc:w=24,forecaster=seasonal,tail=seasonal",
    "afhc:w=24,forecaster=seasonal,tail=prorate",
)


def alone(policy, scenario) -> None:
    """Reset, then one ``act`` per hour with the state of the actions taken."""
    state = FootprintState.zeros(scenario.n_regions)
    policy.reset(scenario)
    for t in range(scenario.n_hours):
        energy = policy.act(HourView(scenario, t, state)).sum(axis=1)
        state.add(float(scenario.price[:, t] @ energy), scenario.intensity[:, :, t] * energy)


def main() -> str:
    rows = []
    for setting in ("full", "partial"):
        scenario = published_or_synthetic(setting)
        offline = best_time(lambda scenario=scenario: EGLBOffline().solve(scenario), repeats=3)
        online = best_time(lambda scenario=scenario: alone(EGLBOnline(), scenario), repeats=3)
        for spec in SPECS:
            policy = controller_from_spec(spec)
            episode = best_time(lambda policy=policy, scenario=scenario: alone(policy, scenario), repeats=2)
            solves, lp_seconds = policy.planner.solves, policy.planner.solve_seconds
            through_env = rollout(controller_from_spec(spec), scenario).seconds
            rows.append(
                [
                    setting,
                    spec,
                    f"{episode:.2f} s",
                    f"{through_env:.2f} s",
                    f"{1000 * episode / scenario.n_hours:.1f} ms",
                    solves,
                    f"{1000 * lp_seconds / solves:.2f} ms",
                    f"{episode / offline:.1f}x",
                    f"{episode / online:.0f}x",
                ]
            )
        rows.append(
            [
                setting,
                "baselines",
                f"eGLB-Off {offline:.2f} s",
                "",
                f"eGLB {1e6 * online / scenario.n_hours:.0f} us",
                "",
                "",
                "",
                "",
            ]
        )
    return print_table(
        f"Forecast-driven control, one {scenario.n_hours}-hour episode on {scenario.name.split()[0]} (best of 2)",
        ["mask", "controller", "episode", "through env", "per hour", "LPs", "per LP", "vs eGLB-Off LP", "vs eGLB"],
        rows,
    )


if __name__ == "__main__":
    main()
