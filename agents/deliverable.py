"""Whether all jobs of a scenario fit together: the infeasibility report of a job list (docs/model/flexibility.md).

Each job alone is checked when a scenario is built (:meth:`eglb.envs.flexibility.Jobs.check_scenario`);
together they compete for the same capacity, with the interactive load routed around them, which is
an LP: eGLB-Off on the scenario with every price and footprint weight set to 0 and a penalty of
1 per MWh of unfinished work finds the least work that must be left undone. When it is more than
:data:`TOLERANCE` the job list is refused, naming the jobs short in that schedule and by how much
(another schedule with the same total may leave other jobs short: the total is what is certain).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from eglb.agents.offline import EGLBOffline
from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario

#: MWh of unfinished work tolerated (solver noise).
TOLERANCE = 1e-6

#: Jobs named in the message at most.
NAMED = 10


def least_unfinished(scenario: Scenario) -> np.ndarray:
    """[M] MWh each job leaves undone in a schedule that leaves the least work undone in total."""
    jobs = scenario.jobs
    if jobs is None or not jobs.count:
        return np.zeros(0)
    bare = replace(jobs, away_usd=None, penalty=1.0)
    check = scenario.with_changes(
        price=np.zeros_like(scenario.price),
        mu_water=0.0,
        mu_carbon=0.0,
        models=None,
        jobs=bare,
        name=f"{scenario.name} (deliverability)",
    )
    return EGLBOffline().solve(check).knobs.unfinished


def check_deliverable(scenario: Scenario, source: str = "") -> None:
    """Raise InputError when the scenario's jobs cannot all be done within capacity (module docstring)."""
    short = least_unfinished(scenario)
    total = float(short.sum()) if short.size else 0.0
    if total <= TOLERANCE:
        return
    jobs = scenario.jobs
    order = np.argsort(-short, kind="stable")
    named = [f"{jobs.names[m]!r} {short[m]:.6g} MWh" for m in order[:NAMED] if short[m] > TOLERANCE]
    more = int((short > TOLERANCE).sum()) - len(named)
    where = f"{source}: " if source else ""
    raise InputError(
        f"{where}the jobs cannot all be done by their deadlines within capacity (with the interactive load served): "
        f"at least {total:.6g} MWh must be left undone; short in the best schedule: {', '.join(named)}"
        + (f" and {more} more" if more > 0 else "")
    )
