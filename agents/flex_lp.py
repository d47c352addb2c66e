"""The knobs' part of eGLB-Off's LP: model choice and deferrable jobs (docs/model/flexibility.md, "The LP").

:class:`eglb.agents.offline.EGLBOffline` builds its LP over the region request loads e[i, t] (the
routing side, in MW at model 0; without knobs these are the region energies) and the epigraph
variables u_w, u_c. A :class:`KnobBlock` adds the columns and rows of the knobs:

* **Model choice** (K models): y[k, i, t] >= 0, the class requests region i serves with model k >= 1
  in hour t (MW at model 0), with sum_k y[k, i, t] <= share * e[i, t]; they change the region's
  energy by (energy[k] - 1) y[k, i, t]. One row keeps the class's average accuracy at the target,
  sum_k (acc[k] - acc[0]) y[k, i, t] + delta >= (target - acc[0]) * share * total requests,
  with the shortfall delta >= 0 charged ``penalty`` USD per point and MWh.
* **Jobs**, grouped into pools of identical jobs (below): h[p, t] >= 0, the work of pool p at home in
  hour t, and a[p, t] >= 0 its work away from home, h + a <= max power, for t in its window; the
  work left undone v[p] >= 0 with sum_t (h + a) + v = energy, charged ``penalty`` USD per MWh; away
  work costs ``away_usd`` USD per MWh and draws (1 + ``away_overhead``) MWh per MWh in the regions
  it goes to: flows f[c, i, t] >= 0 of class c (the jobs of one home and one set of allowed
  regions) into each allowed region i other than home, sum_i f[c, i, t] = sum_{p in c} (1 + overhead_p) a[p, t].
* Every region's energy, e[i, t] + sum_k (energy[k] - 1) y[k, i, t] + home work + flows in, is
  charged its price and footprints (the max rows) and kept within capacity (a row per region and hour,
  added only when the knobs can push energy above e's own bound: jobs, or a model above energy 1).

The request loads keep their bound e <= receivable (capacity included) and the mask's Hall rows, so
the routing part and its cutting-plane loop are unchanged, and without knobs the LP is today's.

**Pools.** Jobs with the same release, deadline, home, allowed regions, duration at full power
(energy / max power) and transfer terms per MWh share their variables: any pooled schedule splits
into per-job schedules in proportion to max power (each job then gets the pool's work times
max_power_m / max_power_pool per hour, within its own max power, and exactly its energy because
all have the same duration), and every cost is the same per MWh for all of them. Without the equal
duration pooling would be a relaxation: two jobs of 2 hours, one needing 2 MWh at 1 MW and one
needing nothing, would pool into 2 MWh at 2 MW, which a single hour could do.

Sizes: columns (K-1) N T + 1 + 2 (pool-hours) + pools + (away class-hours x regions); rows N T
(model shares) + 1 + N T (capacity) + pool-hours (power) + pools + class-hours: linear in jobs and
hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from eglb.envs.flexibility import Jobs, window_hours
from eglb.envs.metrics import Metrics, metrics_from_energy
from eglb.envs.scenario import Scenario

INF = np.inf


@dataclass(frozen=True)
class JobPools:
    """Jobs grouped into pools of interchangeable jobs (module docstring, "Pools").

    Attributes:
        of_job: [M] pool of each job.
        first: [P] one job of each pool (its release, deadline, home, regions, rates).
        energy: [P] MWh. max_power: [P] MW (sums over the pool's jobs).
        share: [M] each job's share of its pool (max_power_m / max_power_pool).
    """

    of_job: np.ndarray
    first: np.ndarray
    energy: np.ndarray
    max_power: np.ndarray
    share: np.ndarray

    @classmethod
    def of(cls, jobs: Jobs) -> JobPools:
        duration = np.divide(jobs.energy, jobs.max_power)
        keys = np.column_stack(
            [
                jobs.release.astype(float),
                jobs.deadline.astype(float),
                jobs.home.astype(float),
                duration,
                jobs.away_usd,
                jobs.away_overhead,
                jobs.regions.astype(float),
            ]
        )
        _, first, of_job = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        of_job = of_job.reshape(-1)
        count = first.size
        energy = np.bincount(of_job, weights=jobs.energy, minlength=count)
        power = np.bincount(of_job, weights=jobs.max_power, minlength=count)
        return cls(of_job, first, energy, power, jobs.max_power / power[of_job])

    @property
    def count(self) -> int:
        return self.first.size


@dataclass
class KnobPlan:
    """The knobs' part of a solution, per job and hour (what :class:`eglb.agents.replay.Replay` plays).

    Attributes:
        model_load: [K, N, T] MW of class requests each model serves in each region and hour (None:
            no model choice). Row 0 is model 0's.
        job_work: [M, N, T] MW of each job's work in each region and hour (None: no jobs), kept as a
            sparse matrix: ``job_work_at(t)`` gives hour t's [M, N].
        unfinished: [M] MWh left undone at each deadline.
        region_energy: [N, T] every MWh drawn in each region (interactive at its models, jobs with
            their transfer energy).
        transfer_cost: USD of checkpoint transfers.
    """

    model_load: np.ndarray | None
    job_hours: sp.csr_matrix | None  # [T, M*N]
    unfinished: np.ndarray | None
    region_energy: np.ndarray
    transfer_cost: float
    n_jobs: int
    n_regions: int

    def job_work_at(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(job indices [Q], their work [Q, N] MW) of the jobs that run in hour t."""
        row = self.job_hours.getrow(t) if self.job_hours is not None else None
        if row is None or row.nnz == 0:
            return np.zeros(0, dtype=int), np.zeros((0, self.n_regions))
        job, region = np.divmod(row.indices, self.n_regions)
        ids = np.unique(job)
        work = np.zeros((ids.size, self.n_regions))
        work[np.searchsorted(ids, job), region] = row.data
        return ids, work

    def model_load_total(self) -> np.ndarray | None:
        """[K] MWh of class requests served by each model over the horizon."""
        return None if self.model_load is None else self.model_load.sum(axis=(1, 2))


class KnobBlock:
    """The columns and rows the knobs add to eGLB-Off's LP (module docstring)."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        n, hours = scenario.price.shape
        self.n, self.hours = n, hours
        self.core_columns = n * hours + 2
        self.core_rows = hours + 2 * n
        self._columns: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (cost, lower, upper)
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []  # (lower, upper)
        self._entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (row, column, value)
        self._energy_entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (region*T + t, column, MWh per unit)
        models, jobs = scenario.models, scenario.jobs
        self.models_at = self.jobs_at = None
        if models is not None and models.count > 1:
            self._add_models()
        if jobs is not None and jobs.count:
            self._add_jobs(jobs)
        needs_capacity = jobs is not None and jobs.count or (models is not None and models.energy.max() > 1)
        if needs_capacity:
            self._add_capacity_rows()

    # ------------------------------------------------------------------------------------- layout
    @property
    def n_columns(self) -> int:
        return sum(c[0].size for c in self._columns)

    @property
    def n_rows(self) -> int:
        return sum(r[0].size for r in self._rows)

    def _new_columns(self, cost, lower, upper) -> int:
        start = self.core_columns + self.n_columns
        self._columns.append(
            (np.asarray(cost, float), np.broadcast_to(lower, np.shape(cost)).astype(float), np.asarray(upper, float))
        )
        return start

    def _new_rows(self, lower, upper) -> int:
        start = self.core_rows + self.n_rows
        self._rows.append((np.asarray(lower, float), np.asarray(upper, float)))
        return start

    def _energy(self, cell: np.ndarray, column: np.ndarray, value: np.ndarray) -> None:
        """Columns that put ``value`` MWh per unit into region-hour ``cell`` (= i*T + t): price and footprint terms."""
        s = self.scenario
        value = np.broadcast_to(value, cell.shape).astype(float)
        self._energy_entries.append((cell, column, value))
        intensity = s.intensity.reshape(2, -1)
        for k in range(2):
            self._entries.append((self.hours + k * self.n + cell // self.hours, column, intensity[k, cell] * value))

    # ------------------------------------------------------------------------------------- models
    def _add_models(self) -> None:
        s = self.scenario
        models = s.models
        n, hours, extra = self.n, self.hours, s.models.count - 1
        cells = np.arange(n * hours)
        factor = models.energy[1:] - 1.0  # MWh per MWh of requests moved off model 0
        cost = (factor[:, None] * s.price.ravel()[None, :]).ravel()
        start = self._new_columns(cost, 0.0, np.full(extra * n * hours, INF))
        columns = start + np.arange(extra * n * hours).reshape(extra, -1)
        self.models_at = start
        for k in range(extra):
            self._energy(cells, columns[k], np.full(cells.size, factor[k]))
        # Shares: sum_k y[k, i, t] - share * e[i, t] <= 0.
        rows = self._new_rows(np.full(n * hours, -INF), np.zeros(n * hours)) + cells
        self._entries.append((np.tile(rows, extra), columns.ravel(), np.ones(columns.size)))
        self._entries.append((rows, cells, np.full(cells.size, -models.share)))
        # Accuracy: sum (acc_k - acc_0) y + delta >= (target - acc_0) share R, delta charged its penalty.
        delta = self._new_columns(np.array([models.penalty]), 0.0, np.array([INF]))
        requests = models.share * float(s.workload.sum())
        row = self._new_rows(np.array([(models.target - models.accuracy[0]) * requests]), np.array([INF]))
        gain = np.repeat(models.accuracy[1:] - models.accuracy[0], n * hours)
        self._entries.append((np.full(columns.size + 1, row), np.r_[columns.ravel(), delta], np.r_[gain, 1.0]))

    # ------------------------------------------------------------------------------------- jobs
    def _add_jobs(self, jobs: Jobs) -> None:
        s = self.scenario
        hours = self.hours
        pools = self.pools = JobPools.of(jobs)
        first = pools.first
        release, deadline, home = jobs.release[first], jobs.deadline[first], jobs.home[first]
        allowed = jobs.regions[first]
        away = allowed.copy()
        away[np.arange(first.size), home] = False
        has_away = away.any(axis=1)
        owner, hour = window_hours(release, deadline)  # pool-hours
        self.pool_hours = (owner, hour)
        # h[p, t]: work at home, price of home.
        home_cell = home[owner] * hours + hour
        h = self._new_columns(s.price.ravel()[home_cell], 0.0, pools.max_power[owner])
        h_cols = h + np.arange(owner.size)
        self._energy(home_cell, h_cols, 1.0)
        # a[p, t]: work away (pools with somewhere to go), its transfer price per MWh.
        with_away = np.flatnonzero(has_away[owner])
        a_owner = owner[with_away]
        a = self._new_columns(jobs.away_usd[first][a_owner], 0.0, pools.max_power[a_owner])
        a_cols = a + np.arange(with_away.size)
        # h + a <= max power.
        power = self._new_rows(np.full(with_away.size, -INF), pools.max_power[a_owner]) + np.arange(with_away.size)
        self._entries.append((np.r_[power, power], np.r_[h_cols[with_away], a_cols], np.ones(2 * with_away.size)))
        # v[p]: unfinished work, and sum_t (h + a) + v = energy.
        v = self._new_columns(np.full(pools.count, jobs.penalty), 0.0, np.full(pools.count, INF))
        done = self._new_rows(pools.energy, pools.energy)
        self._entries.append((done + owner, h_cols, np.ones(owner.size)))
        self._entries.append((done + a_owner, a_cols, np.ones(a_owner.size)))
        self._entries.append((done + np.arange(pools.count), v + np.arange(pools.count), np.ones(pools.count)))
        self.job_columns = (h_cols, a_cols, with_away, v)
        # Away classes: one per (home, allowed set) among pools that can go away.
        class_key = np.column_stack([home, allowed]).astype(np.int64)
        _, class_of = np.unique(class_key, axis=0, return_inverse=True)
        class_of = class_of.reshape(-1)
        flows = []
        overhead = 1.0 + jobs.away_overhead[first]
        for c in np.unique(class_of[has_away]):
            members = np.flatnonzero(class_of == c)
            active = np.zeros(hours, dtype=bool)
            for p in members:
                active[release[p] : deadline[p]] = True
            t_active = np.flatnonzero(active)
            regions = np.flatnonzero(away[members[0]])
            # Rows: sum_i f[c, i, t] - sum_p (1 + overhead_p) a[p, t] = 0, one per active hour.
            rows = self._new_rows(np.zeros(t_active.size), np.zeros(t_active.size))
            row_of_hour = np.full(hours, -1)
            row_of_hour[t_active] = rows + np.arange(t_active.size)
            f_cells = (regions[:, None] * hours + t_active[None, :]).ravel()  # region-major
            f = self._new_columns(s.price.ravel()[f_cells], 0.0, np.full(f_cells.size, INF))
            f_cols = f + np.arange(f_cells.size)
            self._energy(f_cells, f_cols, 1.0)
            self._entries.append((row_of_hour[f_cells % hours], f_cols, np.ones(f_cols.size)))
            in_class = np.isin(a_owner, members)
            self._entries.append((row_of_hour[hour[with_away][in_class]], a_cols[in_class], -overhead[a_owner[in_class]]))
            flows.append((members, regions, t_active, f_cols))
        self.flows = flows

    # ------------------------------------------------------------------------------------- capacity
    def _add_capacity_rows(self) -> None:
        s = self.scenario
        cells = np.arange(self.n * self.hours)
        rows = self._new_rows(np.full(cells.size, -INF), s.capacity.ravel())
        self._entries.append((rows + cells, cells, np.ones(cells.size)))  # e[i, t]
        for cell, column, value in self._energy_entries:
            self._entries.append((rows + cell, column, value))

    # ------------------------------------------------------------------------------------- assembly
    def extend(self, matrix: sp.csc_matrix, cost, col_lower, col_upper, row_lower, row_upper):
        """The core LP (matrix and bounds) with this block's columns and rows added."""
        rows, cols = self.core_rows + self.n_rows, self.core_columns + self.n_columns
        core = matrix.tocoo()
        r = np.concatenate([core.row] + [e[0] for e in self._entries])
        c = np.concatenate([core.col] + [e[1] for e in self._entries])
        v = np.concatenate([core.data] + [e[2] for e in self._entries])
        full = sp.csc_matrix((v, (r, c)), shape=(rows, cols))
        pieces = list(zip(*self._columns)) if self._columns else [[], [], []]
        rpieces = list(zip(*self._rows)) if self._rows else [[], []]
        return (
            full,
            np.concatenate([cost, *pieces[0]]),
            np.concatenate([col_lower, *pieces[1]]),
            np.concatenate([col_upper, *pieces[2]]),
            np.concatenate([row_lower, *rpieces[0]]),
            np.concatenate([row_upper, *rpieces[1]]),
        )

    def read(self, values: np.ndarray, request_load: np.ndarray) -> KnobPlan:
        """The knobs' plan of an LP solution ``values`` (every column), given its request loads [N, T]."""
        s = self.scenario
        n, hours = self.n, self.hours
        values = np.maximum(np.asarray(values), 0.0)
        energy = request_load.copy()
        model_load = None
        if self.models_at is not None:
            extra = s.models.count - 1
            y = values[self.models_at : self.models_at + extra * n * hours].reshape(extra, n, hours)
            class_load = s.models.share * request_load
            # Solver noise can put y a hair above the share: scale back so model 0's load stays >= 0.
            over = np.maximum(y.sum(axis=0) / np.maximum(class_load, 1e-300), 1.0)
            y = y / over
            model_load = np.concatenate([(class_load - y.sum(axis=0))[None], y])
            energy = energy + np.tensordot(s.models.energy[1:] - 1.0, y, axes=1)
        elif s.models is not None:
            model_load = (s.models.share * request_load)[None]
        job_hours, unfinished, transfer = None, None, 0.0
        jobs = s.jobs
        if jobs is not None and jobs.count:
            job_hours, unfinished, transfer, job_energy = self._read_jobs(values)
            energy = energy + job_energy
        elif jobs is not None:
            unfinished = np.zeros(0)
        return KnobPlan(model_load, job_hours, unfinished, energy, transfer, 0 if jobs is None else jobs.count, n)

    def _read_jobs(self, values: np.ndarray):
        s, jobs, pools = self.scenario, self.scenario.jobs, self.pools
        n, hours = self.n, self.hours
        owner, hour = self.pool_hours
        h_cols, a_cols, with_away, v = self.job_columns
        h = values[h_cols]
        a = np.zeros(owner.size)
        a[with_away] = values[a_cols]
        home = jobs.home[pools.first]
        # Work of each pool per (region, hour): home directly, away split as its class's flows.
        pool_work = sp.coo_matrix((h, (owner, home[owner] * hours + hour)), shape=(pools.count, n * hours)).tocsr()
        energy = np.zeros((n, hours))
        np.add.at(energy, (home[owner], hour), h)
        transfer = float(jobs.away_usd[pools.first][owner] @ a)
        for members, regions, t_active, f_cols in self.flows:
            f = values[f_cols].reshape(regions.size, t_active.size)
            energy[np.ix_(regions, t_active)] += f
            split = np.zeros((regions.size, hours))
            total = f.sum(axis=0)
            split[:, t_active] = np.divide(f, total, out=np.full(f.shape, 1.0 / regions.size), where=total > 0)
            in_class = np.isin(owner, members) & (a > 0)
            k = np.flatnonzero(in_class)
            rows = np.repeat(owner[k], regions.size)
            cols = (regions[None, :] * hours + hour[k][:, None]).ravel()
            data = (a[k][:, None] * split[:, hour[k]].T).ravel()
            pool_work = pool_work + sp.coo_matrix((data, (rows, cols)), shape=pool_work.shape).tocsr()
        # Per job: its pool's work times its share; as [T, M*N] rows for hour-by-hour replay.
        job_work = sp.diags(pools.share) @ pool_work[pools.of_job]  # [M, N*T]
        coo = job_work.tocoo()
        region, t = np.divmod(coo.col, hours)
        job_hours = sp.coo_matrix((coo.data, (t, coo.row * n + region)), shape=(hours, jobs.count * n)).tocsr()
        unfinished = values[v + np.arange(pools.count)][pools.of_job] * pools.share
        return job_hours, unfinished, transfer, energy

    def metrics(self, plan: KnobPlan) -> Metrics:
        """The metrics (J included) of a plan, computed by the one metrics function."""
        return metrics_from_energy(
            self.scenario, plan.region_energy, plan.transfer_cost, plan.unfinished, plan.model_load_total()
        )
