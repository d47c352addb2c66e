"""eGLB-Off: the hindsight optimum as a linear program over region energies, solved by HiGHS.

SPEC section 4. With epigraph variables u_k >= (cumulative footprint k of every region):

    min  sum_{i,t} p[i,t] e[i,t] + mu_w u_w + mu_c u_c
    s.t. e_t is the region side of a feasible routing of hour t, for every t
         E0[k, i] + sum_t intensity[k, i, t] e[i, t] <= u_k      for k in (water, carbon), every i

The variables are the N*T region energies e[i, t] and the two u_k, whatever the mask; the model
has one equality row per hour (sum_i e[i, t] = the hour's load), the 2N max rows and bounds
0 <= e[i, t] <= receivable[i, t] (capacity, or the load the mask lets reach region i if smaller:
:func:`eglb.envs.flow.receivable`). With the full mask that is the whole problem.

With a mask, e_t is the region side of a feasible routing exactly when Hall's condition holds
(Gale's theorem with equal totals): every set R of regions receives at least the load of the
gateway classes whose allowed regions all lie in R,

    sum_{i in R} e[i, t] >= load(R, t).

There are up to 2^N such rows per hour, almost none of them binding, so they are added lazily
(a cutting-plane loop, exact): solve; check every hour's e_t by max-flow (classes to regions, each
region taking e[i, t]); where the flow falls short, the minimum cut names the most violated R
(:func:`eglb.envs.flow.residual_reach`); add its row for that hour and for every other hour it
violates; re-solve from the previous basis (dual simplex, warm start); stop when every hour routes.
With at most FEW_CLASSES gateway classes the rows of every union of class neighbourhoods (at most
2^K - 1 per hour) go in before the first solve, which then usually needs no second one.
The last LP is a relaxation of the true one whose optimum is feasible for it, so it is the true
optimum, and its duals (zero on the rows never added) are true duals. The flows of the last check
are the routing returned. The model grows linearly in T and in the number of gateway classes
(N*T columns, T + 2N rows, plus the rows that bind or were violated on the way: a few per hour);
the exhaustive rows over every union of class neighbourhoods grew as 2^K and the per-hour
transportation form as classes x T variables with a superlinear solve.

``E0`` is an optional starting footprint (the state of a partly played episode): the solver then
gives the optimum of the remaining hours from that state, which is what imitation learning labels.

The duals of the 2N max rows, divided by (mu_w, mu_c), are returned: per footprint a distribution
over regions, the prices an online policy would ideally charge (``OfflineSolution.duals``).

A time limit (default :data:`DEFAULT_TIME_LIMIT` seconds, for the whole loop) ends a solve with
:class:`eglb.envs.errors.SolverError`, never with a partial answer.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from eglb.agents.base import OfflineSolution, OfflineSolver
from eglb.agents.flex_lp import KnobBlock
from eglb.envs.errors import InputError, SolverError
from eglb.envs.flow import adjacency, augment, flow_eps, greedy_start, hall_sets, receivable, residual_reach
from eglb.envs.metrics import objective
from eglb.envs.scenario import Scenario

# HiGHS's own bindings (the solver scipy's linprog runs on): its incremental API re-solves from the
# last basis after adding Hall's rows, which linprog cannot (cold re-solves are 2-4x slower).
from highspy import _core as highs

#: Seconds a solve may take before it ends with a SolverError (model building and checks included).
DEFAULT_TIME_LIMIT = 1800.0

#: HiGHS settings for each ``method`` (the names of scipy's linprog methods).
METHODS = {
    "highs-ds": {"solver": "simplex", "simplex_strategy": 1},  # dual simplex: fastest here, and warm starts
    "highs-ipm": {"solver": "ipm"},
    "highs": {"solver": "choose"},
}

#: Up to this many gateway classes every union of their neighbourhoods gets its rows before the first
#: solve (at most 2^K - 1 per hour; the published partial mask has 5 classes and 6 such unions).
FEW_CLASSES = 5

#: A Hall row is violated when it falls short by more than this share of the hour's load (MW/MW);
#: HiGHS itself meets rows to about 1e-9.
CUT_TOLERANCE = 1e-9

#: Load (share of the hour's) that may stay unrouted after the last check before it is an error.
UNROUTED_TOLERANCE = 1e-6

#: How many hours the flow check handles between two looks at the clock.
_CLOCK_EVERY = 64


class EGLBOffline(OfflineSolver):
    """The hindsight-optimal routing of a whole scenario.

    Args:
        method: "auto" (the default: "highs-ds" without knobs, "highs-ipm" with deferrable jobs or
            model choice), "highs-ds" (dual simplex: fastest on the core model, and the only method
            that re-solves from the previous basis when Hall rows are added), "highs-ipm" (interior
            point, then crossover to a vertex: on the knobs' LP, with tens of thousands of job-hour
            columns, several times faster than dual simplex: benchmarks/bench_knobs_offline.py) or
            "highs" (HiGHS chooses).
        time_limit: seconds before the solve is abandoned with a SolverError (never a partial
            answer); None for no limit.
        name: the label in tables.
    """

    name = "eglb-off"

    def __init__(self, method: str = "auto", time_limit: float | None = DEFAULT_TIME_LIMIT, name: str = "eglb-off"):
        if method != "auto" and method not in METHODS:
            raise InputError(f"eGLB-Off method must be 'auto' or one of {sorted(METHODS)}, got {method!r}")
        if time_limit is not None and not (np.isfinite(time_limit) and time_limit > 0):
            raise InputError(f"eGLB-Off time_limit must be a positive number of seconds or None, got {time_limit}")
        self.method = method
        self.time_limit = time_limit
        self.name = name

    def solve(self, scenario: Scenario, initial_footprint: np.ndarray | None = None) -> OfflineSolution:
        """Solve over all hours of ``scenario``.

        Args:
            initial_footprint: [2, N] water (m^3) and carbon (t) already accumulated before the
                scenario's first hour (default zeros).
        Raises:
            SolverError: HiGHS did not reach an optimum, or the time limit passed.
        """
        start = time.perf_counter()
        n = scenario.n_regions
        initial = np.zeros((2, n)) if initial_footprint is None else np.asarray(initial_footprint, dtype=float)
        if initial.shape != (2, n):
            raise ValueError(f"initial_footprint has shape {initial.shape}, expected (2, {n})")
        clock = _Clock(scenario.name, self.time_limit, start)
        block = KnobBlock(scenario) if scenario.flexible else None
        method = self.method if self.method != "auto" else ("highs-ipm" if block is not None else "highs-ds")
        model = _EnergyModel(scenario, initial, METHODS[method], clock, block)
        hall = None if scenario.full_mask else _HallCuts(scenario, clock)
        if hall is not None:
            hall.add_every_union(model)
        model.run()
        while hall is not None and hall.add_violated(model):
            model.run()
        energy = model.energy()
        weights = scenario.footprint_weights
        marginals = -model.max_row_duals().reshape(2, n)
        duals = np.divide(marginals, weights[:, None], out=np.zeros_like(marginals), where=weights[:, None] > 0)
        knobs = None
        if block is None:
            footprint = initial + (scenario.intensity * energy).sum(axis=2)
            value = objective(float((scenario.price * energy).sum()), footprint, weights)
        else:
            knobs = block.read(model.values(), energy)
            value = _knob_objective(block, knobs, initial)
        extra = {
            "solver_objective": model.objective(),
            "iterations": model.iterations,
            "solves": model.solves,
            "columns": model.highs.getNumCol(),
            "rows": model.highs.getNumRow(),
            "nonzeros": model.highs.getNumNz(),
        }
        if hall is not None:
            extra.update(hall_rows=hall.rows, hall_sets=len(hall.sets))
        return OfflineSolution(
            energy=energy,
            class_flow=None if hall is None else hall.class_flow,
            objective=value,
            duals=np.maximum(duals, 0.0),
            status="optimal",
            seconds=time.perf_counter() - start,
            extra=extra,
            knobs=knobs,
        )


def _knob_objective(block: KnobBlock, knobs, initial: np.ndarray) -> float:
    """J of a plan with knobs, from the given starting footprint ``initial`` [2, N]."""
    metrics = block.metrics(knobs)
    footprint = initial + np.stack([metrics.region_water, metrics.region_carbon])
    money = metrics.cost_total + metrics.transfer_cost + metrics.unfinished_penalty + metrics.accuracy_penalty
    return objective(money, footprint, block.scenario.footprint_weights)


class _Clock:
    """The solve's deadline: seconds left for HiGHS, and a one-line SolverError when it has passed."""

    def __init__(self, scenario_name: str, limit: float | None, start: float):
        self.scenario_name = scenario_name
        self.limit = limit
        self.deadline = None if limit is None else start + limit

    def left(self, doing: str) -> float:
        if self.deadline is None:
            return float("inf")
        left = self.deadline - time.perf_counter()
        if left <= 0:
            self.expired(doing)
        return left

    def expired(self, doing: str):
        raise SolverError(
            f"eGLB-Off on {self.scenario_name!r} stopped at its time limit of {self.limit:g} s while {doing}; "
            f"give it more time (evaluate.py --time-limit, EGLBOffline(time_limit=...)) or solve fewer hours"
        )


class _EnergyModel:
    """The LP over e[i, t] (column i*T + t) and (u_w, u_c), kept in one HiGHS instance so that
    rows added later re-solve from the last basis. Rows: T hourly totals, 2N max rows, Hall rows."""

    def __init__(self, scenario: Scenario, initial: np.ndarray, settings: dict, clock: _Clock, block: KnobBlock | None = None):
        n, hours = scenario.price.shape
        self.n, self.hours, self.clock = n, hours, clock
        columns = n * hours + 2
        index = np.arange(n * hours)
        rows = np.concatenate([np.tile(np.arange(hours), n), hours + np.arange(2 * n).repeat(hours), hours + np.arange(2 * n)])
        cols = np.concatenate([index, index, index, n * hours + np.repeat([0, 1], n)])
        values = np.concatenate([np.ones(n * hours), scenario.intensity.reshape(2, -1).ravel(), -np.ones(2 * n)])
        matrix = sp.csc_matrix((values, (rows, cols)), shape=(hours + 2 * n, columns))
        upper = receivable(scenario.capacity, scenario.mask, scenario.workload)
        bounds = (
            np.concatenate([scenario.price.ravel(), scenario.footprint_weights]),
            np.concatenate([np.zeros(n * hours), [-highs.kHighsInf, -highs.kHighsInf]]),
            np.concatenate([upper.ravel(), [highs.kHighsInf, highs.kHighsInf]]),
            np.concatenate([scenario.total_workload, np.full(2 * n, -highs.kHighsInf)]),
            np.concatenate([scenario.total_workload, -initial.ravel()]),
        )
        if block is not None:  # the knobs' columns and rows (agents/flex_lp.py)
            matrix, *bounds = block.extend(matrix, *bounds)  # its infinite bounds are HiGHS's kHighsInf (inf)
        columns, row_count = matrix.shape[1], matrix.shape[0]
        lp = highs.HighsLp()
        lp.num_col_, lp.num_row_ = columns, row_count
        lp.col_cost_, lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_ = bounds
        lp.a_matrix_.format_ = highs.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = columns, row_count
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        self.highs = highs._Highs()  # the plain solver: no callbacks, no banner
        self.highs.setOptionValue("output_flag", False)
        for key, value in settings.items():
            self.highs.setOptionValue(key, value)
        self._check(self.highs.passModel(lp), "loading the model")
        self.iterations = 0
        self.solves = 0
        self._solution = None

    def run(self) -> None:
        # HiGHS's clock runs on across the solves of one instance: its limit is that clock plus what is left.
        left = self.clock.left("preparing a solve")
        self.highs.setOptionValue("time_limit", float(min(self.highs.getRunTime() + left, 1e300)))
        self.highs.run()
        status = self.highs.getModelStatus()
        info = self.highs.getInfo()
        self.iterations += int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
        self.solves += 1
        if status == highs.HighsModelStatus.kTimeLimit:
            self.clock.expired(f"HiGHS was solving (after {self.solves} solves)")
        if status != highs.HighsModelStatus.kOptimal:
            text = " ".join(str(self.highs.modelStatusToString(status)).split())
            raise SolverError(f"eGLB-Off on {self.clock.scenario_name!r}: HiGHS stopped with status {text!r}")
        self._solution = self.highs.getSolution()

    def values(self) -> np.ndarray:
        """Every column's value in the last solution."""
        return np.asarray(self._solution.col_value)

    def energy(self) -> np.ndarray:
        """[N, T] the last solution's region energies, MW (solver noise below 0 clipped)."""
        values = np.asarray(self._solution.col_value)[: self.n * self.hours]
        return np.maximum(values, 0.0).reshape(self.n, self.hours)

    def max_row_duals(self) -> np.ndarray:
        """[2N] HiGHS's duals of the max rows (<= 0: the objective's change per unit of right-hand side)."""
        return np.asarray(self._solution.row_dual)[self.hours : self.hours + 2 * self.n]

    def objective(self) -> float:
        return float(self.highs.getInfo().objective_function_value)

    def add_lower_rows(self, lower: np.ndarray, starts: np.ndarray, columns: np.ndarray) -> None:
        """Add rows sum_{k in row} e[column k] >= lower (CSR layout: ``starts`` into ``columns``)."""
        count = lower.size
        status = self.highs.addRows(
            count,
            lower,
            np.full(count, highs.kHighsInf),
            columns.size,
            starts.astype(np.int32),
            columns.astype(np.int32),
            np.ones(columns.size),
        )
        self._check(status, "adding Hall rows")

    def _check(self, status, doing: str) -> None:
        if status == highs.HighsStatus.kError:
            raise SolverError(f"eGLB-Off on {self.clock.scenario_name!r}: HiGHS failed while {doing}")


class _HallCuts:
    """Hall's rows of a masked scenario, found and added as the LP violates them (module docstring).

    Attributes:
        sets: the region sets R met so far, as sorted index arrays; ``members`` [S, N] and
            ``inside`` [S, K] say which regions each contains and which classes lie inside it.
        rows: Hall rows in the model.
        class_flow: [T, N, K] the routing of the last check (valid once ``add_violated`` is False).
    """

    def __init__(self, scenario: Scenario, clock: _Clock):
        classes = scenario.mask_classes
        self.clock = clock
        self.hours = scenario.n_hours
        self.n = scenario.n_regions
        self.class_mask = classes.mask
        self.links = adjacency(classes.mask)
        self.demand = classes.demand(scenario.workload)  # [K, T]
        self.demand_lists = self.demand.T.tolist()
        self.tolerance = CUT_TOLERANCE * np.maximum(scenario.total_workload, 1.0)
        self.eps = [flow_eps(total) for total in scenario.total_workload]
        self.capacity = scenario.capacity
        self.sets: list[np.ndarray] = []
        self._index: dict[bytes, int] = {}
        self.members = np.zeros((0, self.n))
        self.inside = np.zeros((0, classes.count), dtype=bool)
        self.in_model = np.zeros((0, self.hours), dtype=bool)
        self.rows = 0
        self.class_flow = np.zeros((self.hours, self.n, classes.count))
        self._checked = np.full((self.n, self.hours), np.nan)  # e_t of the last successful check per hour

    def add_every_union(self, model: _EnergyModel) -> None:
        """With at most FEW_CLASSES classes, add the rows of every union of class neighbourhoods at
        every hour up front (at most 2^K - 1 rows per hour): one solve instead of several."""
        if self.class_mask.shape[1] > FEW_CLASSES:
            return
        _, reachable = hall_sets(self.class_mask)
        unions = np.unique(reachable.astype(bool), axis=0)
        for member in unions[~unions.all(axis=1)]:  # all regions: the hour's total, already a row
            self._set_index(np.flatnonzero(member).tolist())
        self._add_rows(model, np.ones((len(self.sets), self.hours), dtype=bool))

    def add_violated(self, model: _EnergyModel) -> bool:
        """Check the model's solution; add the Hall rows it violates. False when every hour routes."""
        energy = model.energy()
        wanted = np.zeros((len(self.sets), self.hours), dtype=bool)
        if self.sets:  # the sets met before, at every hour at once
            wanted = (self.members @ energy - self.inside.astype(float) @ self.demand < -self.tolerance) & ~self.in_model
        suspect = ~wanted.any(axis=0) & ~(energy == self._checked).all(axis=0)
        for count, t in enumerate(np.flatnonzero(suspect)):
            if count % _CLOCK_EVERY == 0:
                self.clock.left("checking the hours' routings")
            regions = self._route(energy[:, t], t)
            if regions is None:
                continue
            k = self._set_index(regions)
            if k == wanted.shape[0]:  # a new set: its rows wherever the solution violates it
                violated = self.members[k] @ energy - self.inside[k].astype(float) @ self.demand < -self.tolerance
                wanted = np.vstack([wanted, violated & ~self.in_model[k]])
            wanted[k, t] = True
        if not wanted.any():
            return False
        self._add_rows(model, wanted)
        return True

    def _route(self, energy: np.ndarray, t: int) -> list[int] | None:
        """Route hour t's classes into ``energy`` [N]; None if it routes, else the violated set's regions."""
        regions_of, columns_of = self.links
        eps = self.eps[t]
        x, res, free = greedy_start(self.demand_lists[t], energy.tolist(), regions_of, eps)
        if sum(res) > eps:
            augment(x, res, free, regions_of, eps, columns_of)
        if sum(res) > eps:
            regions = residual_reach(x, res, regions_of, columns_of, eps)
            k = self._index.get(self._key(regions))
            if k is None or not self.in_model[k, t]:
                return regions
            # The row is in the model and met to the solver's tolerance: place the crumbs left over
            # where capacity remains, as the routing does for any LP solution.
            augment(x, res, np.maximum(self.capacity[:, t] - np.sum(x, axis=1), 0.0).tolist(), regions_of, eps, columns_of)
            if sum(res) > UNROUTED_TOLERANCE * max(sum(self.demand_lists[t]), 1.0):
                raise SolverError(
                    f"eGLB-Off on {self.clock.scenario_name!r}: HiGHS's solution leaves {sum(res):.3g} MW of hour {t} "
                    f"unroutable under the mask (numerical trouble; rescale the workload and capacities)"
                )
        self.class_flow[t] = x
        self._checked[:, t] = energy
        return None

    def _key(self, regions: list[int]) -> bytes:
        return np.packbits(np.isin(np.arange(self.n), regions)).tobytes()

    def _set_index(self, regions: list[int]) -> int:
        key = self._key(regions)
        if key not in self._index:
            member = np.isin(np.arange(self.n), regions)
            self._index[key] = len(self.sets)
            self.sets.append(np.asarray(regions))
            self.members = np.vstack([self.members, member.astype(float)])
            inside = ~(self.class_mask & ~member[:, None]).any(axis=0)  # classes with every allowed region in R
            self.inside = np.vstack([self.inside, inside])
            self.in_model = np.vstack([self.in_model, np.zeros(self.hours, dtype=bool)])
        return self._index[key]

    def _add_rows(self, model: _EnergyModel, wanted: np.ndarray) -> None:
        which, hours = np.nonzero(wanted)
        sizes = np.array([self.sets[k].size for k in which])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        columns = np.concatenate([self.sets[k] * self.hours + t for k, t in zip(which, hours)])
        lower = (self.inside[which].astype(float) * self.demand[:, hours].T).sum(axis=1)
        model.add_lower_rows(lower, starts, columns)
        self.in_model[which, hours] = True
        self.rows += which.size
