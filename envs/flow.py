"""Flows on a bipartite graph of gateway columns and regions: augmenting paths, max-flow, minimum cuts and Hall's condition.

The low-level pieces shared by the scenario's feasibility check and the exact routing routines: a
column (a gateway or a class of gateways with the same allowed regions) sends its demand to the
regions a mask allows, within their capacity. Everything here works on plain arrays and lists, so
both :mod:`eglb.envs.scenario` and :mod:`eglb.envs.routing` build on it.
"""

from __future__ import annotations

from collections import deque

import numpy as np

#: Relative and absolute slack allowed when checking that demand fits in capacity (MW).
FEASIBILITY_TOLERANCE = 1e-9

#: Up to this many distinct gateway neighbourhoods (classes) Hall's condition is enumerated over all
#: 2^K - 1 sets of classes; above it feasibility is checked by max-flow.
MAX_HALL_CLASSES = 10


def adjacency(mask: np.ndarray) -> tuple[list[list[int]], list[list[int]]]:
    """For a [N, C] mask: the regions each column may use, and the columns each region may serve."""
    regions_of = [np.flatnonzero(mask[:, c]).tolist() for c in range(mask.shape[1])]
    columns_of = [np.flatnonzero(mask[i]).tolist() for i in range(mask.shape[0])]
    return regions_of, columns_of


def augment(x: list, res: list, free: list, regions_of: list, eps: float, columns_of: list | None = None) -> None:
    """Push residual demand of columns into regions' spare capacity along augmenting paths.

    A path starts at a column c with residual demand, enters a region i it may use, and either ends
    there (if i has spare capacity) or moves some column c' already served by i elsewhere, and so
    on (Edmonds-Karp: breadth-first, so paths are shortest). Stops when no path is left, at which
    point the pushed amount is the maximum flow (max-flow min-cut). Plain lists, because these
    problems are small and numpy's per-call overhead would dominate.

    Args:
        x: N lists of C floats, the current flow on columns (gateways or gateway classes), MW;
            updated in place.
        res: C floats, demand not yet routed; updated in place.
        free: N floats, capacity still free in regions that may receive more; updated in place.
            Regions with no free capacity only relay (they keep their total).
        regions_of: for each column, the regions it may use (``adjacency(mask)[0]``).
        eps: amounts at or below this are treated as zero (MW).
        columns_of: for each region, the columns it may serve (``adjacency(mask)[1]``); when given, a
            region's flows are scanned only there (much faster with many columns), else over all columns.
    """
    n_regions, cols = len(x), range(len(res))
    while True:
        sources = [c for c in cols if res[c] > eps]
        if not sources or max(free) <= eps:
            return
        via_col = [-1] * n_regions  # region -> column it was reached from
        via_region = [-2] * len(res)  # column -> region it was reached from (-1: a source)
        for c in sources:
            via_region[c] = -1
        queue = deque(sources)
        end = -1
        while queue and end < 0:
            c = queue.popleft()
            for i in regions_of[c]:
                if via_col[i] != -1:
                    continue
                via_col[i] = c
                if free[i] > eps:
                    end = i
                    break
                row = x[i]
                for c2 in cols if columns_of is None else columns_of[i]:
                    if via_region[c2] == -2 and row[c2] > eps:
                        via_region[c2] = i
                        queue.append(c2)
        if end < 0:
            return
        amount = free[end]
        i = end
        while True:
            c = via_col[i]
            r = via_region[c]
            if r == -1:
                amount = min(amount, res[c])
                break
            amount = min(amount, x[r][c])
            i = r
        free[end] -= amount
        i = end
        while True:
            c = via_col[i]
            x[i][c] += amount
            r = via_region[c]
            if r == -1:
                res[c] -= amount
                break
            x[r][c] -= amount
            i = r


def flow_eps(total: float) -> float:
    return FEASIBILITY_TOLERANCE * max(float(total), 1.0) * 1e-3


def max_servable(demand: np.ndarray, capacity: np.ndarray, mask: np.ndarray) -> float:
    """The largest load (MW) of ``demand`` [C] that fits ``capacity`` [N] under ``mask`` [N, C]."""
    regions_of, columns_of = adjacency(mask)
    eps = flow_eps(float(np.sum(demand)))
    # A greedy first flow (most constrained columns first) leaves few augmenting paths to search.
    x, res, free = greedy_start(demand, capacity, regions_of, eps)
    augment(x, res, free, regions_of, eps, columns_of)
    return float(np.sum(x))


def hall_sets(class_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every non-empty set S of gateway classes, and the regions that may serve S.

    Returns 0/1 float matrices: subsets [2^K - 1, K] and reachable [2^K - 1, N]. A load d [K] is
    servable within capacity M [N] iff subsets @ d <= reachable @ M (Hall's condition for flows).
    """
    k = class_mask.shape[1]
    subsets = ((np.arange(1, 2**k)[:, None] >> np.arange(k)) & 1).astype(float)
    reachable = ((subsets @ class_mask.T.astype(float)) > 0).astype(float)
    return subsets, reachable


def servable_scale(workload: np.ndarray, capacity: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[T] the largest s <= 1 such that s * workload[:, t] can be served in hour t.

    Args:
        workload: [J, T] MW. capacity: [N, T] MW. mask: [N, J] bool (every gateway allowed somewhere).
    """
    columns, of_gateway = np.unique(mask.T, axis=0, return_inverse=True)
    demand = np.zeros((len(columns), workload.shape[1]))
    np.add.at(demand, of_gateway.reshape(-1), workload)
    if len(columns) <= MAX_HALL_CLASSES:
        subsets, reachable = hall_sets(columns.T)
        need, have = subsets @ demand, reachable @ capacity
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(need > 0, have / need, np.inf)
        return np.minimum(1.0, ratio.min(axis=0))
    scale = np.ones(workload.shape[1])
    for t in range(workload.shape[1]):
        lo, hi = 0.0, 1.0
        if max_servable(demand[:, t], capacity[:, t], columns.T) >= demand[:, t].sum() * (1 - FEASIBILITY_TOLERANCE):
            continue
        for _ in range(50):  # bisection on the scale: max-flow tells whether s * d fits
            mid = (lo + hi) / 2
            need = mid * demand[:, t].sum() * (1 - FEASIBILITY_TOLERANCE)
            fits = max_servable(mid * demand[:, t], capacity[:, t], columns.T) >= need
            lo, hi = (mid, hi) if fits else (lo, mid)
        scale[t] = lo
    return scale


def servable_workload(workload: np.ndarray, capacity: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[J, T] the most of ``workload`` that can be served hour by hour: what a shift that removes
    capacity (or adds load) keeps, the rest being shed.

    Every gateway first keeps the same share s_t of its load (``servable_scale``); then the rest of
    the demand is pushed along augmenting paths until none is left, so each hour serves the
    maximum flow (max-flow min-cut: no load is shed that some routing could serve), and a gateway
    whose regions have room keeps more than s_t. Gateways with the same allowed regions (a class)
    keep the same share of their load.

    Args:
        workload: [J, T] MW. capacity: [N, T] MW. mask: [N, J] bool.
    """
    scale = servable_scale(workload, capacity, mask)
    served = workload * scale[None, :]
    columns, of_gateway = np.unique(mask.T, axis=0, return_inverse=True)
    if len(columns) == 1:  # one class (the full mask): the uniform share already fills what it can reach
        return served
    of_gateway = of_gateway.reshape(-1)
    regions_of, columns_of = adjacency(columns.T)
    for t in np.flatnonzero(scale < 1.0):
        demand = np.zeros(len(columns))
        np.add.at(demand, of_gateway, workload[:, t])
        eps = flow_eps(float(demand.sum()))
        # The uniform share is a feasible flow to start from: route it, then push the rest.
        x, res, free = greedy_start((scale[t] * demand).tolist(), capacity[:, t].tolist(), regions_of, eps)
        augment(x, res, free, regions_of, eps, columns_of)  # whatever of the share greedy left, first
        res = [r + (1 - scale[t]) * d for r, d in zip(res, demand)]
        augment(x, res, free, regions_of, eps, columns_of)
        kept = np.divide(np.sum(x, axis=0), demand, out=np.zeros(len(columns)), where=demand > 0)
        served[:, t] = workload[:, t] * np.minimum(kept, 1.0)[of_gateway]
    return served


def receivable(capacity: np.ndarray, mask: np.ndarray, workload: np.ndarray) -> np.ndarray:
    """[N, T] the most energy (MW) each region can receive in each hour of a feasible routing.

    ``min(capacity[i, t], load at hour t of the gateways the mask lets region i serve)``: the
    max-flow into region i alone, which a feasible routing attains when the hour is servable (fill
    region i first, then route the rest: the hour's region energies form a polymatroid's base
    polytope, and the greedy vertex that takes region i first gives it exactly this).

    Args:
        capacity: [N, T] MW. mask: [N, J] bool. workload: [J, T] MW.
    """
    return np.minimum(capacity, mask.astype(float) @ workload)


def greedy_start(demand: list, supply: list, regions_of: list, eps: float) -> tuple[list, list, list]:
    """A first flow for :func:`augment`: columns with the fewest regions first, each filling its regions in turn.

    Returns (x, residual demand, free supply), in :func:`augment`'s list layout. Serving the most
    constrained columns first leaves few augmenting paths to find.
    """
    n_columns = len(demand)
    x = [[0.0] * n_columns for _ in supply]
    res = [float(v) for v in demand]
    free = [float(v) for v in supply]
    for c in sorted(range(n_columns), key=lambda c: len(regions_of[c])):
        need = res[c]
        for i in regions_of[c]:
            if need <= eps:
                break
            room = free[i]
            if room > eps:
                amount = need if need < room else room
                x[i][c] += amount
                free[i] = room - amount
                need -= amount
        res[c] = need
    return x, res, free


def residual_reach(x: list, res: list, regions_of: list, columns_of: list, eps: float) -> list[int]:
    """The regions reachable in the residual graph from the columns with unrouted demand (sorted).

    After a maximum flow (:func:`augment` has found no path) these regions R are the minimum cut:
    R is the neighbourhood of the columns reached, every region in R is full, and the columns whose
    allowed regions all lie in R need more than R received: Hall's condition fails for R by the
    largest margin of any set (max-flow min-cut).
    """
    reached_region = [False] * len(x)
    reached_column = [res[c] > eps for c in range(len(res))]
    queue = deque(c for c in range(len(res)) if reached_column[c])
    while queue:
        c = queue.popleft()
        for i in regions_of[c]:
            if reached_region[i]:
                continue
            reached_region[i] = True
            row = x[i]
            for c2 in columns_of[i]:
                if not reached_column[c2] and row[c2] > eps:
                    reached_column[c2] = True
                    queue.append(c2)
    return [i for i in range(len(x)) if reached_region[i]]
