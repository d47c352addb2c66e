"""RHC and AFHC with deferrable jobs and model choice: both knobs in the window LP (docs/model/flexibility.md).

A forecast-driven controller plans the window [t, stop) with eGLB-Off (:mod:`eglb.agents.horizon`:
hour t true, later hours forecast, a tail rule for the hours after it). With knobs the window
scenario also carries:

* **the jobs known at hour t**: those released and unfinished (jobs released later are unknown), each
  with its remaining work, its deadline cut at the window's end, and the work it can still do after
  the window (alone, within capacity) as ``carry_mwh``: work the plan may leave for later, priced at
  ``carry_usd`` = the median over the window of the job's cheapest allowed price, what waiting is
  expected to cost. Work that cannot wait is due in the window (at the penalty if missed). So the
  window LP chooses the hours and regions of the work that cannot wait, and takes more where the
  window is cheaper than usual.
* **the model choice** with the target the rest of the horizon needs: the accuracy surplus so far
  S (point MWh, negative when behind) is made up over the requests the window stands for, so the
  window's target is target - S x (its share of the remaining hours) / (its class requests); with the
  seasonal tail the window stands for all remaining hours (share 1). Clipped to the models' range.

The plan's first hour (RHC; AFHC plays each controller's planned hours) is played as an
:class:`eglb.envs.knob_state.HourDecision`: requests routed on the true hour at the planned region
loads (:func:`eglb.agents.horizon.route_energy`), each region's model shares of the plan applied to its
true class requests, and the planned job work (the environment then enforces the must-run work).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from eglb.agents.horizon import WindowPlanner, route_energy
from eglb.envs.flexibility import WORK_TOLERANCE, Jobs, ModelChoice, spare_capacity
from eglb.envs.knob_state import HourDecision, KnobState
from eglb.envs.routing import Router
from eglb.envs.scenario import Scenario


class KnobWindow:
    """Plans windows of a scenario with knobs (module docstring) with a :class:`WindowPlanner`."""

    def __init__(self, planner: WindowPlanner, scenario: Scenario):
        self.planner = planner
        self.scenario = scenario
        self.bare = scenario.with_changes(jobs=None, models=None)  # the knobs are added per window

    def plan(self, t: int, stop: int, footprint: np.ndarray, knobs: KnobState, rng: np.random.Generator):
        """(the window's eGLB-Off solution, the global ids of its jobs [Q]) for hours t .. stop-1."""
        scenario, planner = self.scenario, self.planner
        remaining, width = scenario.n_hours - t, stop - t
        tail = stop < scenario.n_hours and planner.tail == "seasonal"
        window = planner.window_scenario(self.bare, t, stop, rng, tail)
        initial = np.asarray(footprint, dtype=float)
        share = 1.0
        if stop < scenario.n_hours and planner.tail == "prorate":
            initial = initial * (width / remaining)
        if stop < scenario.n_hours and not tail:
            share = width / remaining
        ids = knobs.pending(t)
        changes = {}
        if ids.size:
            changes["jobs"] = self._jobs(window, t, stop, ids, knobs)
        if scenario.models is not None and scenario.models.count > 1:
            changes["models"] = self._models(window, knobs, share)
        if changes:
            window = window.with_changes(**changes)
        solution = planner.solver.solve(window, initial_footprint=initial)
        planner.solves += 1
        planner.solve_seconds += solution.seconds
        return solution, ids

    def _jobs(self, window: Scenario, t: int, stop: int, ids: np.ndarray, knobs: KnobState) -> Jobs:
        jobs = self.scenario.jobs
        remaining = knobs.remaining[ids]
        cut = np.minimum(jobs.deadline[ids], stop)
        later = knobs.deliverable(ids, stop, self.scenario.n_hours)  # alone, after the window
        carry = np.minimum(remaining, later)
        bare = Jobs(
            tuple(jobs.names[m] for m in ids),
            remaining,
            np.zeros(ids.size),
            cut - t,
            jobs.max_power[ids],
            jobs.regions[ids],
            jobs.home[ids],
            jobs.away_usd[ids],
            jobs.away_overhead[ids],
            jobs.penalty,
            carry_mwh=remaining,
        )
        # What must be done in the window cannot exceed what the window can give each job alone
        # (forecast load may leave less than the truth will): the excess is carried too.
        classes = window.mask_classes
        spare = spare_capacity(bare, window.capacity, classes.mask, classes.demand(window.workload))
        for q in range(ids.size):
            room = spare[bare.regions[q].tobytes()][: int(cut[q] - t)]
            can = float(np.minimum(room, jobs.max_power[ids[q]]).sum()) * (1 - 1e-9)
            carry[q] = max(carry[q], remaining[q] - can)
        carry = np.clip(carry, 0.0, remaining)
        width = stop - t
        price = window.price[:, :width]
        value = np.array([float(np.median(price[jobs.regions[m]].min(axis=0))) for m in ids])
        return replace(bare, carry_mwh=carry, carry_usd=np.maximum(value, 0.0))

    def _models(self, window: Scenario, knobs: KnobState, share: float) -> ModelChoice:
        models = self.scenario.models
        surplus = float(models.surplus @ knobs.model_load)
        requests = models.share * float(window.workload.sum())
        target = models.target - surplus * share / requests if requests > 0 else models.target
        target = float(np.clip(target, models.accuracy.min(), models.accuracy.max()))
        return ModelChoice(models.names, models.energy, models.accuracy, target, models.share, models.penalty)

    def decision(self, router: Router, t: int, solution, ids: np.ndarray, h: int, knobs: KnobState) -> HourDecision:
        """Hour t played from hour ``h`` of a window plan (``ids``: the plan's jobs, global indices)."""
        routing = route_energy(router, t, solution.energy[:, h])
        plan = solution.knobs
        model_load = None
        models = self.scenario.models
        if plan is not None and plan.model_load is not None and models is not None and models.count > 1:
            planned = plan.model_load[:, :, h]
            total = planned.sum(axis=0)
            shares = np.divide(planned, total, out=np.eye(models.count)[:, :1].repeat(total.size, axis=1), where=total > 0)
            model_load = shares * (models.share * routing.sum(axis=1))[None, :]
        job_ids, work = None, None
        if plan is not None and plan.job_hours is not None and ids.size:
            index, work = plan.job_work_at(h)
            job_ids = ids[index]
            keep = knobs.remaining[job_ids] > WORK_TOLERANCE
            job_ids, work = job_ids[keep], work[keep]
        return HourDecision(routing, model_load, job_ids, work)


def rhc_decision(controller, view) -> HourDecision:
    """RHC's hour on a scenario with knobs: plan [t, t + w) from the state reached, play its first hour."""
    t = view.t
    window = controller.knob_window
    stop = min(controller.scenario.n_hours, t + controller.window)
    solution, ids = window.plan(t, stop, view.state.footprint, view.knobs, controller.rng)
    return window.decision(controller.router, t, solution, ids, 0, view.knobs)


class FixedHorizons:
    """AFHC's w fixed-horizon controllers on a scenario with knobs, each with its own state: its
    cumulative footprint and cost and its own jobs' progress (a :class:`KnobState` of its own
    decisions, executed as the environment would)."""

    def __init__(self, controller, knobs: KnobState):
        w, n = controller.window, controller.scenario.n_regions
        self.controller = controller
        self.footprints = np.zeros((w, 2, n))
        self.costs = np.zeros(w)
        self.states = [knobs.copy() for _ in range(w)]
        self.plans: list[tuple | None] = [None] * w
        self.starts = [0] * w

    def decision(self, t: int) -> HourDecision:
        """The average of the w controllers' decisions for hour t (each advances its own state)."""
        controller = self.controller
        scenario, w, window = controller.scenario, controller.window, controller.knob_window
        played = []
        for k in range(w):
            if (t - k) % w == 0 or self.plans[k] is None:
                stop = t + w if (t - k) % w == 0 else t + (k - t) % w
                self.plans[k] = window.plan(t, min(stop, scenario.n_hours), self.footprints[k], self.states[k], controller.rng)
                self.starts[k] = t
            solution, ids = self.plans[k]
            decision = window.decision(controller.router, t, solution, ids, t - self.starts[k], self.states[k])
            outcome = self.states[k].execute(t, decision)
            self.footprints[k] += scenario.intensity[:, :, t] * outcome.energy
            self.costs[k] += float(scenario.price[:, t] @ outcome.energy) + outcome.transfer_cost + outcome.penalty
            played.append(outcome.decision)
        return average_decision(played, scenario)


def average_decision(decisions: list[HourDecision], scenario: Scenario) -> HourDecision:
    """The mean of several decisions of one hour (routing, model loads, job work by job id)."""
    count = len(decisions)
    routing = sum(d.routing for d in decisions) / count
    loads = [d.model_load for d in decisions if d.model_load is not None]
    model_load = sum(loads) / count if loads else None
    ids = np.unique(np.concatenate([d.job_ids for d in decisions if d.job_ids is not None] or [np.zeros(0, int)])).astype(int)
    work = np.zeros((ids.size, scenario.n_regions))
    for d in decisions:
        if d.job_ids is not None and len(d.job_ids):
            np.add.at(work, np.searchsorted(ids, d.job_ids), d.job_work)
    return HourDecision(routing, model_load, ids, work / count)
