"""The two interfaces every algorithm implements.

* :class:`Policy` acts online, one hour at a time: it is reset with the episode's scenario and asked
  for a routing each hour. It must use only the inputs of hours up to the current one (a policy with
  a forecast window says so and reads it through its observation builder); classical policies,
  learned policies and the robustification layer are all policies.
* :class:`OfflineSolver` sees the whole scenario at once (the hindsight optimum). Its solution
  becomes a policy through :class:`eglb.agents.replay.Replay`, so offline results are replayed through
  the environment and measured by the same metrics code as everything else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from eglb.envs.metrics import FootprintState
from eglb.envs.routing import Router
from eglb.envs.scenario import Scenario


@dataclass(frozen=True)
class HourView:
    """What a policy is given at hour ``t``.

    Attributes:
        scenario: the episode's scenario (read hours <= t only, unless the policy declares a
            forecast).
        t: the hour, an index into ``scenario``.
        state: cumulative cost and footprints [2, N] of the actions actually executed before t.
    """

    scenario: Scenario
    t: int
    state: FootprintState


class Policy(ABC):
    """An online policy: reset per episode, then one routing per hour.

    Attributes:
        name: the label used in tables and plots.
        info: a dict a policy may update at every hour; the rollout records it.
        information: what the policy knows when it acts, for tables ("present only", "published prices
            + seasonal-day forecasts, 24 h window", "oracle: ..."); a policy that does not say is
            "not declared".
    """

    name: str = "policy"
    information: str = "not declared"

    def __init__(self) -> None:
        self.info: dict = {}

    def reset(self, scenario: Scenario) -> None:
        """Start an episode over ``scenario`` (its first hour is hour 0)."""
        self.scenario = scenario
        self.router = Router(scenario)
        self.info = {}

    @abstractmethod
    def act(self, view: HourView) -> np.ndarray:
        """The routing [N, J] (MW) for hour ``view.t``; it should be feasible (it is repaired if not)."""


@dataclass
class OfflineSolution:
    """A solution of the whole horizon.

    Attributes:
        energy: [N, T] region energies, MW.
        class_flow: [T, N, K] routing on gateway classes (MW, see ``Scenario.mask_classes``) for
            masked scenarios, else None (with the full mask any split of ``energy`` is feasible).
        objective: the solver's optimal objective J, USD.
        duals: [2, N] the optimal dual prices of the max constraints divided by (mu_w, mu_c): for
            each footprint a distribution over regions (sums to 1) saying how much each region's
            footprint is worth at the optimum. Zeros for a footprint whose weight is 0.
        status: the solver's status message.
        seconds: wall-clock solve time (model building included).
    """

    energy: np.ndarray
    class_flow: np.ndarray | None
    objective: float
    duals: np.ndarray
    status: str
    seconds: float
    extra: dict = field(default_factory=dict)


class OfflineSolver(ABC):
    """An algorithm that sees the whole scenario."""

    name: str = "offline"
    information: str = "oracle: hindsight (the whole episode)"

    @abstractmethod
    def solve(self, scenario: Scenario) -> OfflineSolution:
        """Solve over all of ``scenario``'s hours."""
