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
from eglb.envs.flow import FEASIBILITY_TOLERANCE
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
    """GLB-Dist: every gateway's whole load goes to its nearest region.

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

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        self.nearest = resolve_nearest(scenario, self.nearest_setting)
        assigned = np.zeros((scenario.n_regions, scenario.n_hours))
        np.add.at(assigned, self.nearest, scenario.workload)
        over = assigned > scenario.capacity * (1 + FEASIBILITY_TOLERANCE) + FEASIBILITY_TOLERANCE
        if over.any():
            i, t = np.argwhere(over)[0]
            raise InputError(
                f"GLB-Dist: hour {t} sends {assigned[i, t]:.6g} MW to region {scenario.regions[i]!r}, "
                f"above its capacity {scenario.capacity[i, t]:.6g} MW; choose other nearest regions"
            )

    def act(self, view: HourView) -> np.ndarray:
        scenario = view.scenario
        routing = np.zeros(scenario.mask.shape)
        routing[self.nearest, np.arange(scenario.n_gateways)] = scenario.workload[:, view.t]
        return routing


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
