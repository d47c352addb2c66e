"""The equity-oblivious baselines of SPEC section 4.

GLB-Cost, GLB-Carbon and GLB-Water minimise one signal hour by hour (the per-hour LP is separable,
so this is the whole-horizon optimum of that signal); GLB-Dist serves every gateway from its
nearest region.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario

SIGNALS = ("price", "carbon", "water")


class CheapestSignal(Policy):
    """Route every hour to minimise ``signal`` ("price", "carbon" or "water") summed over regions."""

    information = "present only"

    def __init__(self, signal: str, name: str):
        super().__init__()
        if signal not in SIGNALS:
            raise InputError(f"signal must be one of {', '.join(SIGNALS)}, got {signal!r}")
        self.signal = signal
        self.name = name

    def act(self, view: HourView) -> np.ndarray:
        return self.router.cheapest(getattr(view.scenario, self.signal)[:, view.t], view.t)


def glb_cost() -> CheapestSignal:
    return CheapestSignal("price", "glb-cost")


def glb_carbon() -> CheapestSignal:
    return CheapestSignal("carbon", "glb-carbon")


def glb_water() -> CheapestSignal:
    return CheapestSignal("water", "glb-water")


class Nearest(Policy):
    """GLB-Dist: every gateway's whole load goes to its nearest region, as far as that region's
    capacity allows.

    Load a region cannot take (an outage leaves it zero capacity, or several gateways share a
    nearest region) is routed as every algorithm's infeasible routing is (``Router.repair``): to
    regions with spare capacity that the mask allows. ``summary()`` reports how much was rerouted.

    Args:
        nearest: for each gateway, the name or index of its nearest region. Default: the region
            with the gateway's name (co-located, as in the published set), else region j.
    """

    name = "glb-dist"

    information = "present only"

    def __init__(self, nearest: Sequence[str | int] | None = None, name: str = "glb-dist"):
        super().__init__()
        self.nearest_setting = None if nearest is None else list(nearest)
        self.name = name
        self.rerouted = 0.0  # MWh served elsewhere than at the nearest regions in the episode

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        self.nearest = resolve_nearest(scenario, self.nearest_setting)
        self.rerouted = 0.0

    def act(self, view: HourView) -> np.ndarray:
        scenario, t = view.scenario, view.t
        gateways = np.arange(scenario.n_gateways)
        routing = np.zeros(scenario.mask.shape)
        routing[self.nearest, gateways] = scenario.workload[:, t]
        repaired = self.router.repair(routing, t)  # the same array when every nearest region has room
        rerouted = 0.0 if repaired is routing else float((routing - repaired).clip(min=0.0).sum())
        self.rerouted += rerouted
        self.info = {"rerouted": rerouted}
        return repaired

    def summary(self) -> dict:
        """The load (MWh) served elsewhere than at the gateways' nearest regions, when there was any."""
        return {"rerouted_mwh": self.rerouted} if self.rerouted > 0 else {}


def resolve_nearest(scenario: Scenario, nearest: Sequence[str | int] | None) -> np.ndarray:
    """[J] region index of each gateway's nearest region, checked against the mask."""
    if nearest is None:
        by_name = {name: i for i, name in enumerate(scenario.regions)}
        if all(g in by_name for g in scenario.gateways):
            index = [by_name[g] for g in scenario.gateways]
        elif scenario.n_gateways <= scenario.n_regions:
            index = list(range(scenario.n_gateways))
        else:
            raise InputError(
                "GLB-Dist needs the nearest region of every gateway (--nearest): the gateways are not named after regions"
            )
    else:
        if len(nearest) != scenario.n_gateways:
            raise InputError(f"--nearest lists {len(nearest)} regions, expected one per gateway ({scenario.n_gateways})")
        index = []
        for gateway, region in zip(scenario.gateways, nearest):
            if isinstance(region, (int, np.integer)) or str(region).isdigit():
                k = int(region)
                if not 0 <= k < scenario.n_regions:
                    raise InputError(f"--nearest: region index {k} for gateway {gateway!r} is not in 0..{scenario.n_regions - 1}")
            elif region in scenario.regions:
                k = scenario.regions.index(region)
            else:
                raise InputError(f"--nearest: unknown region {region!r} for gateway {gateway!r}")
            index.append(k)
    index = np.array(index, dtype=int)
    allowed = scenario.mask[index, np.arange(scenario.n_gateways)]
    if not allowed.all():
        j = int(np.argmin(allowed))
        raise InputError(
            f"GLB-Dist: the mask does not let region {scenario.regions[index[j]]!r} serve gateway {scenario.gateways[j]!r}"
        )
    return index
