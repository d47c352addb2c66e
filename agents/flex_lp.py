"""The knobs' part of eGLB-Off's LP: model choice and deferrable jobs (docs/model/flexibility.md, "The LP").

:class:`eglb.agents.offline.EGLBOffline` builds its LP over the region request loads e[i, t] (the
routing side, in MW at model 0; without knobs these are the region energies) and the epigraph
variables u_w, u_c. A :class:`KnobBlock` adds the columns and rows of the knobs:

* **Model choice** (K models): y[k, i, t] >= 0, the class requests region i serves with model k >= 1
  in hour t (MW at model 0), with sum_k y[k, i, t] <= share * e[i, t]; they change the region's
  energy by (energy[k] - 1) y[k, i, t]. One row keeps the class's average accuracy at the target,
  sum_k (acc[k] - acc[0]) y[k, i, t] + delta >= (target - acc[0]) * share * total requests,
  with the shortfall delta >= 0 charged ``penalty`` USD per point and MWh (written through hourly
  sums g[t], so that no row holds every y).
* **Jobs**, grouped into pools of identical jobs (below): r[p, t] in [0, max power], the work of
  pool p in hour t of its window, drawn at home; the work left undone v[p] >= 0 with
  sum_t r[p, t] + v[p] (+ carried work, a planner's, Jobs.carry_mwh) = energy, charged ``penalty``
  USD per MWh. One column per pool-hour and no row: the power limit is the column's bound.
* **Moves.** Work leaves home per *group* g (the pools of one home, allowed set and transfer terms):
  M[g, t] >= 0 with M[g, t] <= sum_{p in g} r[p, t], leaving home's energy at ``away_usd`` USD per
  MWh. It arrives per *cluster* (the groups of one allowed set and overhead, whatever their home):
  f[i, t] >= 0 into allowed region i, drawing (1 + ``away_overhead``) MWh per MWh, with
  sum_i f[i, t] = sum_g M[g, t]. No group may send work to its own home: by Hall's theorem for this
  transport (every group reaches every allowed region but its home) that is exactly
  f[h, t] <= sum_{g: home_g != h} M[g, t] for each home h, one row per home and hour (with two or
  more destinations every group reaches any larger set). Within a group every pool has the same
  terms, so any split of the moved work among its pools is a per-pool schedule of the same cost:
  exact. (A flow per home, region and hour was 6 times the columns for the same optimum.)
* Every region's energy E[i, t] = e[i, t] + sum_k (energy[k] - 1) y[k, i, t] + home work - moved
  out + arrivals (a balance row per region and hour) is charged its price and footprints (the max
  rows) and bounded by capacity; e keeps no price or footprint of its own then. Only E enters the
  2N max rows: every other column touches a few rows.

The request loads keep their bound e <= receivable (capacity included) and the mask's Hall rows, so
the routing part and its cutting-plane loop are unchanged, and without knobs the LP is today's.

**Pools.** Jobs with the same release, deadline, home, allowed regions, duration at full power
(energy / max power) and transfer terms per MWh share their variables: any pooled schedule splits
into per-job schedules in proportion to max power (each job then gets the pool's work times
max_power_m / max_power_pool per hour, within its own max power, and exactly its energy because
all have the same duration), and every cost is the same per MWh for all of them. Without the equal
duration pooling would be a relaxation: two jobs of 2 hours, one needing 2 MWh at 1 MW and one
needing nothing, would pool into 2 MWh at 2 MW, which a single hour could do.

Sizes: columns N T (E) + (K-1) N T + T + 1 (models) + pool-hours + pools + (groups + regions) x
their active hours (moves); rows N T (balance) + N T + T + 1 (models) + pools + (groups + homes + 1)
x active hours (moves): linear in jobs x window hours and in hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from eglb.envs.flexibility import Jobs, window_hours
from eglb.envs.flow import augment, flow_eps, greedy_start
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
        carried = np.divide(jobs.carry_mwh, jobs.energy, out=np.zeros(jobs.count), where=jobs.energy > 0)
        keys = np.column_stack(
            [
                carried,
                jobs.carry_usd,
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


def _moves(moved: np.ndarray, arrive: np.ndarray, homes: list[int]) -> np.ndarray:
    """[G, R, H] who moves where: group g's moved work [G, H] sent to the destinations [R, H] that
    receive it, never to its own home (destination index ``homes[g]``); the LP's Hall rows make
    it possible (a max-flow per hour; the rest of a solver-noise shortfall spread evenly)."""
    groups, regions, hours = moved.shape[0], arrive.shape[0], moved.shape[1]
    out = np.zeros((groups, regions, hours))
    regions_of = [[i for i in range(regions) if i != homes[g]] for g in range(groups)]
    for t in range(hours):
        supply = moved[:, t]
        if supply.sum() <= 0:
            continue
        eps = flow_eps(float(supply.sum()))
        x, res, free = greedy_start(supply.tolist(), arrive[:, t].tolist(), regions_of, eps)
        augment(x, res, free, regions_of, eps)
        flow = np.array(x).T  # [G, R]
        for g in np.flatnonzero(np.array(res) > 0):
            flow[g, regions_of[g]] += res[g] / max(len(regions_of[g]), 1)
        out[:, :, t] = flow
    return out


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
        # E[i, t]: every MWh drawn in region i at hour t, within capacity; it carries the price and the
        # footprints (the max rows), so each other column touches only its region-hours' balance rows
        # E - e - sum of contributions = 0 (rows with few entries: both simplex and interior point
        # slow down a lot when every job column enters the 2N max rows).
        cells = np.arange(n * hours)
        self.energy_at = self._new_columns(scenario.price.ravel(), 0.0, scenario.capacity.ravel())
        self.balance_at = self._new_rows(np.zeros(cells.size), np.zeros(cells.size))
        intensity = scenario.intensity.reshape(2, -1)
        for k in range(2):
            self._entries.append((hours + k * n + cells // hours, self.energy_at + cells, intensity[k]))
        self._entries.append((self.balance_at + cells, self.energy_at + cells, np.ones(cells.size)))
        self._entries.append((self.balance_at + cells, cells, -np.ones(cells.size)))  # e[i, t]
        models, jobs = scenario.models, scenario.jobs
        self.models_at = None
        if models is not None and models.count > 1:
            self._add_models()
        if jobs is not None and jobs.count:
            self._add_jobs(jobs)

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
        """Columns that put ``value`` MWh per unit into region-hour ``cell`` (= i*T + t) (its balance row)."""
        value = np.broadcast_to(value, cell.shape).astype(float)
        self._entries.append((self.balance_at + cell, column, -value))

    # ------------------------------------------------------------------------------------- models
    def _add_models(self) -> None:
        s = self.scenario
        models = s.models
        n, hours, extra = self.n, self.hours, s.models.count - 1
        cells = np.arange(n * hours)
        factor = models.energy[1:] - 1.0  # MWh per MWh of requests moved off model 0
        start = self._new_columns(np.zeros(extra * n * hours), 0.0, np.full(extra * n * hours, INF))
        columns = start + np.arange(extra * n * hours).reshape(extra, -1)
        self.models_at = start
        for k in range(extra):
            self._energy(cells, columns[k], np.full(cells.size, factor[k]))
        # Shares: sum_k y[k, i, t] - share * e[i, t] <= 0.
        rows = self._new_rows(np.full(n * hours, -INF), np.zeros(n * hours)) + cells
        self._entries.append((np.tile(rows, extra), columns.ravel(), np.ones(columns.size)))
        self._entries.append((rows, cells, np.full(cells.size, -models.share)))
        # Accuracy: sum (acc_k - acc_0) y + delta >= (target - acc_0) share R, delta charged its penalty;
        # through hourly sums g[t] = sum_{k, i} (acc_k - acc_0) y[k, i, t] (free columns, one row each),
        # so that no row holds every y (a row that long slowed the dual simplex several times over).
        gain = np.repeat(models.accuracy[1:] - models.accuracy[0], n * hours)
        hourly = self._new_columns(np.zeros(hours), -INF, np.full(hours, INF)) + np.arange(hours)
        sums = self._new_rows(np.zeros(hours), np.zeros(hours)) + np.arange(hours)
        self._entries.append((sums[np.tile(cells % hours, extra)], columns.ravel(), gain))
        self._entries.append((sums, hourly, -np.ones(hours)))
        delta = self._new_columns(np.array([models.penalty]), 0.0, np.array([INF]))
        requests = models.share * float(s.workload.sum())
        row = self._new_rows(np.array([(models.target - models.accuracy[0]) * requests]), np.array([INF]))
        self._entries.append((np.full(hours + 1, row), np.r_[hourly, delta], np.ones(hours + 1)))

    # ------------------------------------------------------------------------------------- jobs
    def _add_jobs(self, jobs: Jobs) -> None:
        hours = self.hours
        pools = self.pools = JobPools.of(jobs)
        first = pools.first
        release, deadline, home = jobs.release[first], jobs.deadline[first], jobs.home[first]
        owner, hour = window_hours(release, deadline)  # pool-hours
        self.pool_hours = (owner, hour)
        # r[p, t]: the pool's work, all of it drawn at home (away work is moved by the class columns).
        home_cell = home[owner] * hours + hour
        r = self._new_columns(np.zeros(owner.size), 0.0, pools.max_power[owner])
        self.r_columns = r + np.arange(owner.size)
        self._energy(home_cell, self.r_columns, 1.0)
        # v[p]: work left undone, and sum_t r + v = energy.
        v = self._new_columns(np.full(pools.count, jobs.penalty), 0.0, np.full(pools.count, INF))
        self.v_columns = v + np.arange(pools.count)
        done = self._new_rows(pools.energy, pools.energy)
        self._entries.append((done + owner, self.r_columns, np.ones(owner.size)))
        self._entries.append((done + np.arange(pools.count), self.v_columns, np.ones(pools.count)))
        carry = np.bincount(pools.of_job, weights=jobs.carry_mwh, minlength=pools.count)
        carried = np.flatnonzero(carry > 0)
        if carried.size:  # work a planner may leave for after its window, at its price (Jobs.carry_mwh)
            c = self._new_columns(jobs.carry_usd[first[carried]], 0.0, carry[carried]) + np.arange(carried.size)
            self._entries.append((done + carried, c, np.ones(carried.size)))
        self._add_moves(jobs, owner, hour)

    def _add_moves(self, jobs: Jobs, owner: np.ndarray, hour: np.ndarray) -> None:
        """Work moved away from home (module docstring, "Moves")."""
        hours, pools = self.hours, self.pools
        first = pools.first
        home, allowed = jobs.home[first], jobs.regions[first]
        usd, overhead = jobs.away_usd[first], jobs.away_overhead[first]
        group_key = np.column_stack([home, usd, overhead, allowed])
        _, group_of = np.unique(group_key, axis=0, return_inverse=True)
        group_of = group_of.reshape(-1)
        groups = [np.flatnonzero(group_of == g) for g in range(int(group_of.max()) + 1 if group_of.size else 0)]
        cluster_key = np.array([np.r_[overhead[g[0]], allowed[g[0]]] for g in groups]).reshape(len(groups), -1)
        _, cluster_of = np.unique(cluster_key, axis=0, return_inverse=True) if groups else (None, np.zeros(0, int))
        cluster_of = np.asarray(cluster_of).reshape(-1)
        pool_group = np.empty(pools.count, dtype=int)
        for g, members in enumerate(groups):
            pool_group[members] = g
        self.clusters = []
        for c in range(int(cluster_of.max()) + 1 if cluster_of.size else 0):
            member_groups = np.flatnonzero(cluster_of == c)
            p0 = groups[member_groups[0]][0]
            regions = np.flatnonzero(allowed[p0])
            if regions.size < 2:
                continue  # pinned: nowhere to go
            kappa = float(overhead[p0])
            in_cluster = np.flatnonzero(np.isin(pool_group[owner], member_groups))
            t_active = np.unique(hour[in_cluster])
            at = np.full(hours, -1)
            at[t_active] = np.arange(t_active.size)
            # Work balance: sum_i f[i, t] - sum_g M[g, t] = 0.
            balance = self._new_rows(np.zeros(t_active.size), np.zeros(t_active.size))
            # f[i, t]: work arriving in region i, drawing 1 + overhead MWh per MWh there.
            dest, when = np.repeat(regions, t_active.size), np.tile(t_active, regions.size)
            f = self._new_columns(np.zeros(dest.size), 0.0, np.full(dest.size, INF)) + np.arange(dest.size)
            self._energy(dest * hours + when, f, 1.0 + kappa)
            self._entries.append((balance + at[when], f, np.ones(f.size)))
            group_cols = []
            for g in member_groups:
                pools_g = groups[g]
                k = np.flatnonzero(np.isin(owner, pools_g))
                t_g = np.unique(hour[k])
                h = int(home[pools_g[0]])
                # M[g, t]: work of group g moved out of home h (costs its transfer price), at most its work.
                m_cols = self._new_columns(np.full(t_g.size, usd[pools_g[0]]), 0.0, np.full(t_g.size, INF)) + np.arange(t_g.size)
                self._energy(h * hours + t_g, m_cols, -1.0)
                limit = self._new_rows(np.full(t_g.size, -INF), np.zeros(t_g.size))
                row_of = np.full(hours, -1)
                row_of[t_g] = limit + np.arange(t_g.size)
                self._entries.append((row_of[t_g], m_cols, np.ones(t_g.size)))
                self._entries.append((row_of[hour[k]], self.r_columns[k], -np.ones(k.size)))
                self._entries.append((balance + at[t_g], m_cols, -np.ones(t_g.size)))
                group_cols.append((g, h, t_g, m_cols))
            # Nobody moves to its own home: arrivals in a home region come from the other groups,
            # f[h, t] - sum_{g: home_g != h} M[g, t] <= 0 (Hall's condition of this transport; with
            # two or more destinations every group can reach one, so one row per home suffices).
            for h in np.unique([gc[1] for gc in group_cols]):
                rows = self._new_rows(np.full(t_active.size, -INF), np.zeros(t_active.size))
                f_home = f[dest == h]
                self._entries.append((rows + np.arange(t_active.size), f_home, np.ones(f_home.size)))
                for _, h2, t_g, m_cols in group_cols:
                    if h2 != h:
                        self._entries.append((rows + at[t_g], m_cols, -np.ones(m_cols.size)))
            self.clusters.append((regions, t_active, f, kappa, [(groups[g], h, t_g, m_cols) for g, h, t_g, m_cols in group_cols]))

    # ------------------------------------------------------------------------------------- assembly
    def extend(self, matrix: sp.csc_matrix, cost, col_lower, col_upper, row_lower, row_upper):
        """The core LP (matrix and bounds) with this block's columns and rows added; the request loads
        e lose their price and footprint terms, which E carries."""
        rows, cols = self.core_rows + self.n_rows, self.core_columns + self.n_columns
        core = matrix.tocoo()
        keep = ~((core.col < self.n * self.hours) & (core.row >= self.hours) & (core.row < self.hours + 2 * self.n))
        core = sp.coo_matrix((core.data[keep], (core.row[keep], core.col[keep])), shape=core.shape)
        cost = np.concatenate([np.zeros(self.n * self.hours), cost[self.n * self.hours :]])
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
        jobs, pools = self.scenario.jobs, self.pools
        n, hours = self.n, self.hours
        owner, hour = self.pool_hours
        r = values[self.r_columns]
        home = jobs.home[pools.first]
        energy = np.zeros((n, hours))
        np.add.at(energy, (home[owner], hour), r)
        at_home = np.ones(owner.size)  # share of each pool-hour's work done at home
        rows, cells, amounts = [], [], []  # work moved away, per pool-hour and destination
        transfer = 0.0
        for regions, t_active, f_cols, kappa, group_cols in self.clusters:
            arrive = values[f_cols].reshape(regions.size, t_active.size)
            energy[np.ix_(regions, t_active)] += (1.0 + kappa) * arrive
            moved = np.zeros((len(group_cols), hours))
            for k, (members, h, t_g, m_cols) in enumerate(group_cols):
                moved[k, t_g] = values[m_cols]
                energy[h, t_g] -= values[m_cols]
                transfer += float(jobs.away_usd[pools.first[members[0]]] * values[m_cols].sum())
            split = _moves(moved[:, t_active], arrive, [int(np.flatnonzero(regions == gc[1])[0]) for gc in group_cols])
            for k, (members, _h, _t_g, _m) in enumerate(group_cols):
                inside = np.flatnonzero(np.isin(owner, members))
                work = np.zeros(hours)
                np.add.at(work, hour[inside], r[inside])
                share = np.zeros((regions.size, hours))  # of the group's work of each hour, moved to each region
                share[:, t_active] = np.divide(split[k], work[t_active], out=np.zeros_like(split[k]), where=work[t_active] > 0)
                share /= np.maximum(share.sum(axis=0), 1.0)  # solver noise above the hour's work
                at_home[inside] = 1.0 - share.sum(axis=0)[hour[inside]]
                rows.append(np.repeat(owner[inside], regions.size))
                cells.append((regions[None, :] * hours + hour[inside][:, None]).ravel())
                amounts.append((r[inside][:, None] * share[:, hour[inside]].T).ravel())
        # Each pool's work per (region, hour), then each job's: its share of its pool (JobPools).
        pool_work = sp.coo_matrix(
            (
                np.concatenate([r * at_home, *amounts]),
                (np.concatenate([owner, *rows]), np.concatenate([home[owner] * hours + hour, *cells])),
            ),
            shape=(pools.count, n * hours),
        ).tocsr()
        job_work = (sp.diags(pools.share) @ pool_work[pools.of_job]).tocoo()  # [M, N*T]
        region, t = np.divmod(job_work.col, hours)
        job_hours = sp.coo_matrix((job_work.data, (t, job_work.row * n + region)), shape=(hours, jobs.count * n)).tocsr()
        unfinished = values[self.v_columns][pools.of_job] * pools.share
        return job_hours, unfinished, transfer, np.maximum(energy, 0.0)

    def metrics(self, plan: KnobPlan) -> Metrics:
        """The metrics (J included) of a plan, computed by the one metrics function."""
        return metrics_from_energy(
            self.scenario, plan.region_energy, plan.transfer_cost, plan.unfinished, plan.model_load_total()
        )
