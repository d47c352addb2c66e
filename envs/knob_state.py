"""Playing the knobs hour by hour: the jobs' progress, the models' load, and what an hour's decision does.

An hour's decision (:class:`HourDecision`) routes the requests (as without knobs), says which models
serve each region's class requests and how much work each pending job does where. :class:`KnobState`
keeps an episode's progress and turns any decision into a feasible one (:meth:`KnobState.execute`):

1. the routing must be feasible already (the environment's action decoders make it so);
2. model loads: non-finite and negative entries become 0 and every region's column is rescaled to
   its class requests (a region with none left is served by model 0); a region whose energy would
   exceed its capacity (models above energy 1) moves load back to model 0;
3. job work: entries for jobs not pending, regions not allowed, non-finite or negative values become
   0; each job's total is cut to min(max power, remaining work); each region's job energy (away
   work with its transfer overhead) is cut to the capacity the interactive energy leaves;
4. **deadlines enforced**: every pending job then does at least its *must-run* work,
   ``max(0, remaining - the most it could still do after this hour)`` where the most it could do in
   a later hour is min(max power, its home's capacity + its other allowed regions' capacity / (1 +
   overhead)): capacity the operator knows, ignoring what other load may take then. The top-up goes
   home first, then to the allowed regions in order of the hour's price, within spare capacity.

A decision that is feasible passes unchanged. So after every hour every unfinished job can still be
finished alone (its remaining work fits the capacity of its remaining hours), unless the hour's
spare capacity could not hold its must-run work; then the shortfall shows at the deadline: work left
undone there is a violation, reported in ``unfinished`` and charged ``jobs.penalty`` USD per MWh.
The average accuracy's shortfall is charged at the last hour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eglb.envs.flexibility import WORK_TOLERANCE
from eglb.envs.metrics import accuracy_shortfall
from eglb.envs.scenario import Scenario


@dataclass
class HourDecision:
    """One hour of a flexible scenario.

    Attributes:
        routing: [N, J] MW of requests (at model 0) of every gateway served in every region.
        model_load: [K, N] MW of each region's class requests served by each model (None: model 0).
        job_ids: [Q] int, the jobs given work (None: none).
        job_work: [Q, N] MW of work of each of them in each region.
    """

    routing: np.ndarray
    model_load: np.ndarray | None = None
    job_ids: np.ndarray | None = None
    job_work: np.ndarray | None = None


@dataclass
class HourOutcome:
    """What an executed hour did.

    Attributes:
        decision: the executed (feasible) decision.
        energy: [N] MW drawn in every region (interactive at its models, jobs and transfers).
        transfer_cost: USD of checkpoint transfers this hour.
        unfinished: MWh left undone by jobs whose deadline is the end of this hour.
        penalty: USD charged this hour: unfinished work, and at the last hour the accuracy shortfall.
        forced: MWh of work added to meet must-run amounts.
        accuracy_penalty: the part of ``penalty`` charged for the accuracy shortfall (last hour only).
    """

    decision: HourDecision
    energy: np.ndarray
    transfer_cost: float
    unfinished: float
    penalty: float
    forced: float
    accuracy_penalty: float = 0.0


class KnobState:
    """An episode's progress on a flexible scenario (module docstring).

    Attributes:
        remaining: [M] MWh of each job's work not done yet.
        unfinished: [M] MWh left undone at each past deadline.
        model_load: [K] MWh of class requests served by each model so far.
        transfer_cost: USD of checkpoint transfers so far.
        penalty: USD of penalties so far.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.jobs = scenario.jobs
        self.models = scenario.models
        m = 0 if self.jobs is None else self.jobs.count
        self.remaining = np.zeros(m) if self.jobs is None else self.jobs.energy.astype(float).copy()
        self.unfinished = np.zeros(m)
        self.model_load = np.zeros(0 if self.models is None else self.models.count)
        self.transfer_cost = 0.0
        self.penalty = 0.0
        if self.jobs is not None and m:
            self._running = _running_deliverable(scenario)
            self._later = self._running[np.cumsum(self.jobs.length)[self.jobs.hours[0]] - 1] - self._running
            self._offset = np.cumsum(self.jobs.length) - self.jobs.length
            self._due = [np.flatnonzero(self.jobs.deadline == t + 1) for t in range(scenario.n_hours)]

    def copy(self) -> KnobState:
        other = object.__new__(KnobState)
        other.__dict__.update(self.__dict__)
        for name in ("remaining", "unfinished", "model_load"):
            setattr(other, name, getattr(self, name).copy())
        return other

    # ------------------------------------------------------------------------------------- jobs
    def pending(self, t: int) -> np.ndarray:
        """[Q] the jobs that may run at hour t and have work left, by deadline then index."""
        jobs = self.jobs
        if jobs is None or not jobs.count:
            return np.zeros(0, dtype=int)
        ids = np.flatnonzero((jobs.release <= t) & (jobs.deadline > t) & (self.remaining > WORK_TOLERANCE))
        return ids[np.argsort(jobs.deadline[ids], kind="stable")]

    def later(self, t: int, ids: np.ndarray) -> np.ndarray:
        """[Q] MWh each job could still do alone in the hours after t of its window (capacity only)."""
        return self._later[self._offset[ids] + (t - self.jobs.release[ids])]

    def deliverable(self, ids: np.ndarray, start: int, stop: int) -> np.ndarray:
        """[Q] MWh each job could do alone in hours start..stop-1 of its window (capacity only)."""
        jobs = self.jobs
        first = np.clip(start, jobs.release[ids], jobs.deadline[ids])
        last = np.clip(stop, jobs.release[ids], jobs.deadline[ids])
        base = self._offset[ids] - jobs.release[ids]
        before = np.where(first > jobs.release[ids], self._running[np.maximum(base + first - 1, 0)], 0.0)
        upto = np.where(last > jobs.release[ids], self._running[np.maximum(base + last - 1, 0)], 0.0)
        return np.maximum(upto - before, 0.0)

    def must_run(self, t: int, ids: np.ndarray) -> np.ndarray:
        """[Q] MW of work each pending job must do at hour t to stay finishable (module docstring)."""
        if ids.size == 0:
            return np.zeros(0)
        need = np.maximum(self.remaining[ids] - self.later(t, ids), 0.0)
        return np.minimum(need, np.minimum(self.jobs.max_power[ids], self.remaining[ids]))

    # ------------------------------------------------------------------------------------- execution
    def interactive(self, t: int, routing: np.ndarray, model_load: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(energy [N] of the requests at their models, the cleaned model loads [K, N]) of hour t."""
        requests = routing.sum(axis=1)
        models = self.models
        if models is None:
            return requests, None
        share = models.share * requests
        k = models.count
        if model_load is None:
            load = np.zeros((k, requests.size))
            load[0] = share
        else:
            load = np.asarray(model_load, dtype=float).reshape(k, requests.size)
            load = np.where(np.isfinite(load) & (load > 0), load, 0.0)
            column = load.sum(axis=0)
            if not np.abs(column - share).max() <= 1e-12 * max(float(share.sum()), 1.0):
                scale = np.divide(share, column, out=np.zeros_like(share), where=column > 0)
                load = load * scale
                load[0] += np.where(column > 0, 0.0, share)
        energy = requests + (models.energy - 1.0) @ load
        capacity = self.scenario.capacity[:, t]
        over = energy - capacity
        if (over > 1e-12 * np.maximum(capacity, 1.0)).any():  # models above energy 1: back to model 0 where needed
            big = models.energy > 1.0
            extra = (models.energy[big] - 1.0) @ load[big]
            keep = np.where(over > 0, np.clip(1.0 - over / np.maximum(extra, 1e-300), 0.0, 1.0), 1.0)
            moved = load[big] * (1.0 - keep)
            load[big] -= moved
            load[0] += moved.sum(axis=0)
            energy = requests + (models.energy - 1.0) @ load
        return energy, load

    def execute(self, t: int, decision: HourDecision) -> HourOutcome:
        """Make ``decision`` feasible for hour t (module docstring), play it and advance the state."""
        scenario = self.scenario
        energy, load = self.interactive(t, decision.routing, decision.model_load)
        if load is not None:
            self.model_load += load.sum(axis=1)
        ids, work, transfer, forced = self._jobs(t, decision, energy)
        total = energy.copy()
        if ids.size:
            home = self.jobs.home[ids]
            away = work.copy()
            away[np.arange(ids.size), home] = 0.0
            total += work.sum(axis=0) + (self.jobs.away_overhead[ids][:, None] * away).sum(axis=0)
            self.remaining[ids] = np.maximum(self.remaining[ids] - work.sum(axis=1), 0.0)
        unfinished, penalty = 0.0, 0.0
        if self.jobs is not None and self.jobs.count:
            due = self._due[t]
            left = self.remaining[due]
            late = left > WORK_TOLERANCE
            if late.any():
                self.unfinished[due[late]] = left[late]
                unfinished = float(left[late].sum())
                penalty += self.jobs.penalty * unfinished
        accuracy = 0.0
        if t == scenario.n_hours - 1 and self.models is not None:
            accuracy = self.models.penalty * accuracy_shortfall(self.models, self.model_load)
            penalty += accuracy
        self.transfer_cost += transfer
        self.penalty += penalty
        executed = HourDecision(decision.routing, load, ids, work)
        return HourOutcome(executed, total, transfer, unfinished, penalty, forced, accuracy)

    def _jobs(self, t: int, decision: HourDecision, interactive: np.ndarray):
        """The executed job work of hour t: (ids [Q], work [Q, N] MW, transfer USD, forced MWh)."""
        jobs = self.jobs
        pending = self.pending(t)
        if pending.size == 0:
            return pending, np.zeros((0, interactive.size)), 0.0, 0.0
        n = interactive.size
        work = np.zeros((pending.size, n))
        if decision.job_ids is not None and decision.job_work is not None and len(decision.job_ids):
            given = np.asarray(decision.job_ids).reshape(-1)
            proposal = np.asarray(decision.job_work, dtype=float).reshape(given.size, n)
            position = np.searchsorted(pending, given, sorter=np.argsort(pending))
            order = np.argsort(pending)
            position = np.clip(position, 0, pending.size - 1)
            rows = order[position]
            known = pending[rows] == given
            np.add.at(work, rows[known], np.where(np.isfinite(proposal[known]) & (proposal[known] > 0), proposal[known], 0.0))
        allowed = jobs.regions[pending]
        work = np.where(allowed, work, 0.0)
        limit = np.minimum(jobs.max_power[pending], self.remaining[pending])
        total = work.sum(axis=1)
        work *= np.minimum(1.0, np.divide(limit, total, out=np.ones_like(total), where=total > limit))[:, None]
        # Energy per MW of work in each region: 1 at home, 1 + overhead away.
        factor = 1.0 + np.where(np.arange(n)[None, :] == jobs.home[pending][:, None], 0.0, jobs.away_overhead[pending][:, None])
        spare = np.maximum(self.scenario.capacity[:, t] - interactive, 0.0)
        demand = (work * factor).sum(axis=0)
        work *= np.minimum(1.0, np.divide(spare, demand, out=np.ones_like(demand), where=demand > spare))[None, :]
        spare = np.maximum(spare - (work * factor).sum(axis=0), 0.0)
        # Must-run top-up, home first then by the hour's price.
        need = self.must_run(t, pending) - work.sum(axis=1)
        forced = 0.0
        short = np.flatnonzero(need > WORK_TOLERANCE)
        if short.size:
            by_price = np.argsort(self.scenario.price[:, t], kind="stable")
            for q in short:
                order = np.r_[jobs.home[pending[q]], by_price[by_price != jobs.home[pending[q]]]]
                room = jobs.max_power[pending[q]] - work[q].sum()
                left = min(need[q], room)
                for i in order:
                    if left <= WORK_TOLERANCE:
                        break
                    if not allowed[q, i] or spare[i] <= 0:
                        continue
                    amount = min(left, spare[i] / factor[q, i])
                    work[q, i] += amount
                    spare[i] -= amount * factor[q, i]
                    left -= amount
                    forced += amount
        away = work.copy()
        away[np.arange(pending.size), jobs.home[pending]] = 0.0
        transfer = float(jobs.away_usd[pending] @ away.sum(axis=1))
        active = work.sum(axis=1) > 0
        return pending[active], work[active], transfer, forced

    def summary(self) -> dict:
        """Totals for the metrics: unfinished [M], model loads [K], transfer USD."""
        return {"unfinished": self.unfinished.copy(), "model_load": self.model_load.copy(), "transfer_cost": self.transfer_cost}


def _running_deliverable(scenario: Scenario) -> np.ndarray:
    """[L] for every hour of every job's window (job-major, as ``Jobs.hours``): the most work the job
    could do alone from the start of its window up to and including that hour (capacity only)."""
    jobs = scenario.jobs
    owner, hour = jobs.hours
    capacity = scenario.capacity
    sets, set_of = np.unique(jobs.regions, axis=0, return_inverse=True)
    allowed = sets.astype(float) @ capacity  # [S, T]
    at_home = capacity[jobs.home[owner], hour]
    elsewhere = allowed[set_of.reshape(-1)[owner], hour] - at_home
    per_hour = np.minimum(jobs.max_power[owner], at_home + elsewhere / (1.0 + jobs.away_overhead[owner]))
    running = np.cumsum(per_hour)
    start = np.cumsum(jobs.length) - jobs.length  # first entry of each job's window
    before = np.where(start > 0, running[np.maximum(start - 1, 0)], 0.0)
    return running - before[owner]
