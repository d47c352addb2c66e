"""Feasible routings of one hour: the cheapest routing for given region prices, and repair.

A routing ``x`` of an hour is an [N, J] array (MW): ``x[i, j]`` is the load of gateway j served in
region i. It is feasible when ``x >= 0``, ``x[i, j] = 0`` where the mask forbids it, every column
sums to the gateway's workload and every row sums to at most the region's capacity.

Two problems are solved here, both exactly:

* ``cheapest``: minimise ``sum_ij q[i] x[i, j]`` over feasible routings (the per-hour step of every
  price-driven policy: GLB-Cost/Carbon/Water, the eGLB expert, the ``dual`` action). Because the
  cost depends on the region only, the reachable region-energy vectors form a polymatroid's base
  polytope and the greedy algorithm is optimal: fill regions in increasing q, each as far as the
  mask lets the remaining load reach it. With the full mask that is a sort and a cumulative sum;
  with a mask each region is filled by augmenting paths (a max-flow step), on gateway classes.
* ``repair``: turn a routing that meets the workload and the mask but may overload regions into a
  feasible one, changing it only where regions are overloaded.
"""

from __future__ import annotations

import numpy as np
from eglb.envs.flow import FEASIBILITY_TOLERANCE, adjacency, augment, flow_eps
from eglb.envs.scenario import Scenario


def fill_cheapest(price: np.ndarray, total: np.ndarray | float, capacity: np.ndarray) -> np.ndarray:
    """Full-mask cheapest energy: fill regions in increasing price up to capacity.

    Args:
        price: [N] or [N, T] region prices (any unit; only the order matters).
        total: scalar or [T] total load to place, MW.
        capacity: same shape as ``price``, MW.
    Returns:
        energy, same shape as ``price``, MW; ties are broken by region index.
    """
    order = np.argsort(price, axis=0, kind="stable")
    if price.ndim == 1:  # one hour: plain fancy indexing is several times cheaper
        capacity_sorted = capacity[order]
        filled = np.clip(total - (np.cumsum(capacity_sorted) - capacity_sorted), 0.0, capacity_sorted)
        energy = np.empty_like(filled)
        energy[order] = filled
        return energy
    capacity_sorted = np.take_along_axis(capacity, order, axis=0)
    before = np.cumsum(capacity_sorted, axis=0) - capacity_sorted
    filled = np.clip(total - before, 0.0, capacity_sorted)
    energy = np.empty_like(filled)
    np.put_along_axis(energy, order, filled, axis=0)
    return energy


def split_energy(energy: np.ndarray, workload: np.ndarray) -> np.ndarray:
    """Full-mask routing [N, J] that gives each region ``energy`` [N] in proportion to every gateway.

    ``energy`` must sum to ``workload.sum()``; each gateway's load is spread over regions in the
    same shares, so every column sums to its workload.
    """
    total = workload.sum()
    if total <= 0:
        return np.zeros((energy.size, workload.size))
    return np.outer(energy, workload / total)


def cheapest_on_classes(
    price: np.ndarray, demand: np.ndarray, capacity: np.ndarray, mask: np.ndarray, links: tuple[list, list] | None = None
) -> np.ndarray:
    """Masked cheapest routing on columns (gateway classes): greedy fill with augmenting paths.

    Regions are taken in increasing price; each first takes what its own columns still need, then
    more by moving columns of fuller, cheaper regions onto it (augmenting paths), which is the
    polymatroid greedy step f(R + i) - f(R).

    Args:
        price: [N] region prices. demand: [C] column loads, MW. capacity: [N] MW.
        mask: [N, C] bool. links: ``adjacency(mask)`` if already known.
    Returns:
        flow [N, C], MW. Raises RuntimeError if the demand cannot be served (the scenario check
        rules that out for every hour of a valid scenario).
    """
    regions_of, columns_of = links or adjacency(mask)
    n, c = mask.shape
    x = [[0.0] * c for _ in range(n)]
    res = [float(v) for v in demand]
    room_of = capacity.tolist()
    remaining = sum(res)
    eps = flow_eps(remaining)
    free = [0.0] * n
    for i in np.argsort(price, kind="stable").tolist():
        if remaining <= eps:
            break
        room = room_of[i]
        row = x[i]
        for k in columns_of[i]:
            if res[k] > eps and room > eps:
                amount = min(res[k], room)
                row[k] += amount
                res[k] -= amount
                room -= amount
                remaining -= amount
        if room > eps and remaining > eps:
            free[i] = room
            augment(x, res, free, regions_of, eps)
            free[i] = 0.0
            remaining = sum(res)
    if sum(res) > FEASIBILITY_TOLERANCE * max(float(np.sum(demand)), 1.0):
        raise RuntimeError(f"demand {np.sum(demand)} MW cannot be served under this mask and capacity")
    return np.array(x)


class Router:
    """Exact per-hour routing for one scenario (cheapest routing, repair, sanitizing)."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.full_mask = scenario.full_mask
        self.classes = scenario.mask_classes
        self._class_share = None
        self._class_links = adjacency(self.classes.mask)
        # Region totals above this are overloads (capacity plus the feasibility tolerance), [N, T].
        self._capacity_limit = scenario.capacity * (1 + FEASIBILITY_TOLERANCE) + FEASIBILITY_TOLERANCE * 1e-3
        self._gateway_links = adjacency(scenario.mask)
        if not self.full_mask:
            # Share of each gateway in its class, per hour: splits class flows back to gateways.
            class_load = self.classes.demand(scenario.workload)[self.classes.of_gateway]
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(class_load > 0, scenario.workload / class_load, 0.0)
            self._class_share = share  # [J, T]

    def cheapest_energy(self, price: np.ndarray, t: int) -> np.ndarray:
        """Region energies [N] (MW) of the cheapest routing for prices ``price`` [N] at hour t."""
        scenario = self.scenario
        if self.full_mask:
            return fill_cheapest(price, scenario.total_workload[t], scenario.capacity[:, t])
        return self._cheapest_classes(price, t).sum(axis=1)

    def cheapest(self, price: np.ndarray, t: int, capacity: np.ndarray | None = None) -> np.ndarray:
        """The cheapest feasible routing [N, J] (MW) for region prices ``price`` [N] at hour t, within
        ``capacity`` [N] MW if given (less than the scenario's: room kept for deferrable jobs; the
        hour's load must still fit it) or the scenario's capacity."""
        scenario = self.scenario
        room = scenario.capacity[:, t] if capacity is None else capacity
        if self.full_mask:
            energy = fill_cheapest(price, scenario.total_workload[t], room)
            return split_energy(energy, scenario.workload[:, t])
        return self.from_classes(self._cheapest_classes(price, t, room), t)

    def classes_for_energy(self, energy: np.ndarray, t: int) -> np.ndarray:
        """A class routing [N, K] (MW) at hour t whose region totals are ``energy`` [N].

        ``energy`` must be reachable (e.g. an LP solution); solver noise of order 1e-9 is absorbed by
        placing any load left over where capacity remains.
        """
        scenario = self.scenario
        x = np.zeros(self.classes.mask.shape).tolist()
        res = self.classes.demand(scenario.workload[:, t]).tolist()
        eps = flow_eps(scenario.total_workload[t])
        capacity = scenario.capacity[:, t]
        target = np.minimum(np.maximum(energy, 0.0), capacity)
        augment(x, res, target.tolist(), self._class_links[0], eps)
        if sum(res) > eps:
            augment(x, res, np.maximum(capacity - np.sum(x, axis=1), 0.0).tolist(), self._class_links[0], eps)
        return np.array(x)

    def from_classes(self, class_flow: np.ndarray, t: int) -> np.ndarray:
        """Split a routing on gateway classes [N, K] into gateways [N, J] in proportion to their load."""
        return class_flow[:, self.classes.of_gateway] * self._class_share[:, t]

    def _cheapest_classes(self, price: np.ndarray, t: int, capacity: np.ndarray | None = None) -> np.ndarray:
        scenario = self.scenario
        demand = self.classes.demand(scenario.workload[:, t])
        room = scenario.capacity[:, t] if capacity is None else capacity
        return cheapest_on_classes(price, demand, room, self.classes.mask, self._class_links)

    def repair(self, routing: np.ndarray, t: int) -> np.ndarray:
        """Make a routing that meets workload and mask respect capacity too.

        Overloaded regions are scaled down to capacity; the load they shed is placed in regions with
        spare capacity (in proportion to the spare capacity with the full mask, by augmenting paths
        with a mask). A routing that already fits is returned unchanged.
        """
        scenario = self.scenario
        energy = routing.sum(axis=1)
        if (energy <= self._capacity_limit[:, t]).all():
            return routing
        capacity = scenario.capacity[:, t]
        fixed = routing * np.minimum(1.0, capacity / np.maximum(energy, 1e-300))[:, None]
        residual = np.maximum(scenario.workload[:, t] - fixed.sum(axis=0), 0.0)
        spare = np.maximum(capacity - fixed.sum(axis=1), 0.0)
        if self.full_mask:
            fixed += np.outer(spare / spare.sum(), residual)
        else:
            x, res, free = fixed.tolist(), residual.tolist(), spare.tolist()
            augment(x, res, free, self._gateway_links[0], flow_eps(scenario.total_workload[t]))
            fixed = np.array(x)
        return fixed

    def sanitize(self, routing: np.ndarray, t: int) -> np.ndarray:
        """Any array of N*J numbers (NaN, infinities, negatives, wrong totals) to a feasible routing.

        Non-finite, negative and masked-out entries become 0; each gateway's column is rescaled to its
        workload (a column with nothing left is spread evenly over its allowed regions); then capacity
        is repaired. A feasible routing passes through unchanged.
        """
        scenario = self.scenario
        mask = scenario.mask
        x = np.asarray(routing, dtype=float).reshape(mask.shape)
        workload = scenario.workload[:, t]
        if np.isfinite(x).all() and 0 <= x.min() and x.max() < 1e300 and (self.full_mask or not x[~mask].any()):
            column = x.sum(axis=0)
        else:
            x = np.where(np.isfinite(x) & (x > 0) & mask, x, 0.0)
            with np.errstate(over="ignore"):  # huge entries: the column test fails and they are rescaled
                column = x.sum(axis=0)
        if not np.abs(column - workload).max() <= 1e-12 * scenario.total_workload[t] + 1e-15:
            peak = x.max(axis=0)
            empty = ~(peak > 0)
            x = np.where(empty, mask, x / np.where(empty, 1.0, peak))
            x = x * (workload / x.sum(axis=0))
        return self.repair(x, t)
