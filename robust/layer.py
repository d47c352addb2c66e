"""The robustification layer (SPEC section 6): let an ML policy act, with a guaranteed bound.

State S = (F, E): cumulative energy cost F (USD, at prices shifted by the floor) and footprints
E[k, i] ([2, N], water m^3 and carbon t). J(S) = F + sum_k mu_k max_i E[k, i]. The expert (eGLB,
dual mirror descent, by default; any online policy, e.g. RHC, when given) runs in a shadow copy, seeing the same hours and only its own actions. The
mismatch of the executed state S against the expert's S^E is

    Delta(S, S^E) = (F - F^E) + sum_k mu_k max_i (E[k, i] - E^E[k, i]).

At hour t, after advancing the expert, the layer plays x(theta) = theta x_ML + (1 - theta) x_E with
the largest theta in [0, 1] such that

    Delta(S_{t-1} + increment(x(theta)), S^E_t) <= lambda J(S^E_t) + B_t,

so that J(S_t) <= J(S^E_t) + Delta <= (1 + lambda) J(S^E_t) + B_t at every hour, whatever the ML
policy does. theta = 0 always qualifies; Delta is convex and piecewise linear in theta (a line plus
the maxima of N lines per footprint), so the largest admissible theta has a closed form: Delta is
evaluated at every breakpoint in [0, 1], and solved linearly on the segment where it crosses the
budget.

The check holds to the last rounding step. The layer keeps the gaps F - F^E and E - E^E as sums of
the hours' differences, so an hour where the expert's action is played leaves Delta exactly as it
was (and the budget never shrinks); a theta > 0 is played only if the Delta of the routing actually
executed, accumulated exactly as it will be stored, is within the budget. The closed form only
proposes theta; a proposal a rounding step too large is stepped back, down to the expert's action.

Prices are shifted by a floor p_min <= min p (default: the scenario's lowest price when negative,
else 0) so that every hour's cost is non-negative, which the argument needs; this changes every
policy's J by the same constant (p_min times the total load), and the guarantee holds for the
shifted objective. The reported ``bound`` is the same bound on the unshifted J.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eglb.agents.base import HourView, OfflineSolver, Policy
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.replay import Replay
from eglb.agents.shadow import ShadowExpert
from eglb.envs.errors import InputError
from eglb.envs.metrics import FootprintState
from eglb.envs.scenario import Scenario

SLACK_SCHEDULES = ("const", "sqrt", "linear")


@dataclass(frozen=True)
class Slack:
    """The non-decreasing slack B_t of hour t = 1..T: b, b*sqrt(t) or b*t (USD)."""

    b: float = 0.0
    schedule: str = "const"

    def __post_init__(self):
        if not np.isfinite(self.b) or self.b < 0:
            raise InputError(f"robust slack b must be a finite number >= 0, got {self.b}")
        if self.schedule not in SLACK_SCHEDULES:
            raise InputError(f"robust slack schedule must be one of {', '.join(SLACK_SCHEDULES)}, got {self.schedule!r}")

    def at(self, hour: int) -> float:
        """B_t for the t-th hour of the episode (t counts from 1)."""
        if self.schedule == "sqrt":
            return self.b * np.sqrt(hour)
        if self.schedule == "linear":
            return self.b * hour
        return self.b


def mismatch(gap_cost: float, gap_footprint: np.ndarray, weights: np.ndarray) -> float:
    """Delta(S, S^E) from the gaps F - F^E (USD) and E - E^E ([2, N]) between the two states."""
    return float(gap_cost + weights @ gap_footprint.max(axis=1))


def largest_admissible_theta(
    base: float, slope: float, offsets: np.ndarray, slopes: np.ndarray, weights: np.ndarray, budget: float
) -> float:
    """Largest theta in [0, 1] with  base + slope*theta + sum_k w_k max_i(offsets[k,i] + slopes[k,i]*theta) <= budget.

    The left side is convex and piecewise linear; its breakpoints are among the pairwise crossings
    of the lines within each k. It is evaluated at all of them (and at 0 and 1, in the same
    computation, so the ends are judged consistently); the admissible set is a prefix [0, theta*]
    of [0, 1], and theta* is solved linearly on the segment where the budget is crossed. Returns 0
    when theta = 0 exceeds the budget. The result is exact up to rounding: the caller checks the
    value it actually plays (:meth:`RobustPolicy.blend`).
    """
    rise = slopes[:, None, :] - slopes[:, :, None]
    # crossing[k, i, j] = theta where lines i and j of footprint k meet; parallel lines give -1 (dropped).
    crossing = np.divide(offsets[:, :, None] - offsets[:, None, :], rise, out=np.full(rise.shape, -1.0), where=rise != 0)
    thetas = np.concatenate([[0.0], np.sort(crossing[(crossing > 0) & (crossing < 1)]), [1.0]])
    lines = offsets[:, :, None] + slopes[:, :, None] * thetas  # [2, N, M]
    values = base + slope * thetas + weights @ lines.max(axis=1)
    above = values > budget
    if above[0]:
        return 0.0
    if not above.any():
        return 1.0
    last = int(np.argmax(above)) - 1  # values[last] <= budget < values[last + 1], last >= 0
    lo, hi, d_lo, d_hi = thetas[last], thetas[last + 1], values[last], values[last + 1]
    return float(min(max(lo + (budget - d_lo) * (hi - lo) / (d_hi - d_lo), lo), hi))


#: A candidate theta the exact check rejects is stepped back by steps that start at FIRST_BACK_OFF
#: of it and grow 16-fold: one or two steps when the closed form missed by a rounding step, and
#: within BACK_OFF_STEPS the steps sum past the candidate (1e-15 (16^14 - 1) / 15 > 1), so the
#: last resort is the expert's action (Delta flat up to rounding near the budget).
FIRST_BACK_OFF = 1e-15
BACK_OFF_STEPS = 14


def layer_features(
    scenario: Scenario, hour: int, expert_objective: float, slack: float, mismatch: np.ndarray, expert_energy: np.ndarray
) -> np.ndarray:
    """The layer's features at ``hour`` (:meth:`RobustPolicy.features`), float32 [3N + 1]: ``slack``
    (USD) and the weighted footprint ``mismatch`` [2, N] (USD) divided by the expert's J so far
    (``expert_objective``, USD) extrapolated to the episode, then the expert's region energies
    ``expert_energy`` [N] (MW) divided by the hour's capacity."""
    scale = max(expert_objective, 1e-9) / max(hour, 1) * scenario.n_hours
    capacity = np.maximum(scenario.capacity[:, min(hour, scenario.n_hours - 1)], 1e-12)
    return np.concatenate([[slack / scale], mismatch.ravel() / scale, expert_energy / capacity]).astype(np.float32)


class RobustPolicy(Policy):
    """An ML policy (any policy, or an offline solver replayed) made robust against the eGLB expert.

    Args:
        ml: the proposal policy (or OfflineSolver, solved at reset and replayed).
        lam: the budget lambda >= 0 (relative to the expert's J).
        slack: the slack schedule B_t.
        price_floor: p_min for the shifted objective; None for min(0, the scenario's lowest price).
        expert: the expert, any online policy run in a shadow copy (default eGLB with its default
            step size; ``rhc`` with a forecaster makes the bound hold against the forecast-driven
            controller).
        name: the label in tables.

    ``info`` each hour: ``theta`` (the share of the ML action played), ``delta`` (the mismatch after
    the hour), ``budget`` (lambda J(S^E_t) + B_t), ``slack`` (budget - delta), ``J`` and ``expert_J``
    (both on the shifted objective), ``bound`` ((1 + lambda) expert_J + B_t) and ``expert_energy``
    (the shadow expert's region energies [N]).
    """

    def __init__(
        self,
        ml: Policy | OfflineSolver,
        lam: float = 0.1,
        slack: Slack = Slack(),
        price_floor: float | None = None,
        expert: Policy | None = None,
        name: str | None = None,
    ):
        super().__init__()
        if not np.isfinite(lam) or lam < 0:
            raise InputError(f"robust lambda must be a finite number >= 0, got {lam}")
        if price_floor is not None and not np.isfinite(price_floor):
            raise InputError(f"robust price floor must be a finite number, got {price_floor}")
        if expert is not None and not isinstance(expert, Policy):
            raise InputError(f"the robust layer's expert must be an online policy, got {type(expert).__name__}")
        self.ml = ml
        self.lam = float(lam)
        self.slack = slack
        self.price_floor_setting = price_floor
        self.expert = expert
        self.name = name or f"robust({getattr(ml, 'name', 'ml')},lambda={lam:g})"

    @property
    def information(self) -> str:
        """The ML policy's (the default expert, eGLB, reads the present only)."""
        ml = getattr(self.ml, "information", Policy.information)
        expert = getattr(self.expert, "information", "present only") if self.expert is not None else "present only"
        return ml if expert == "present only" else f"{ml}; expert: {expert}"

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        floor = min(0.0, float(scenario.price.min())) if self.price_floor_setting is None else self.price_floor_setting
        if floor > scenario.price.min():
            raise InputError(f"robust price floor {floor} is above the scenario's lowest price {scenario.price.min()}")
        self.price_floor = floor
        self.shadow = ShadowExpert(self.expert if self.expert is not None else EGLBOnline(), floor)
        self.shadow.reset(scenario)
        self.proposer = Replay(self.ml.solve(scenario), self.name) if isinstance(self.ml, OfflineSolver) else self.ml
        self.proposer.reset(scenario)
        self.state = FootprintState.zeros(scenario.n_regions)  # executed, at shifted prices
        # The gaps F - F^E and E - E^E, accumulated from the hours' differences: an hour where the
        # expert's action is played adds exactly 0, so Delta never drifts by rounding.
        self.gap_cost = 0.0
        self.gap_footprint = np.zeros((2, scenario.n_regions))
        self.weights = scenario.footprint_weights
        self.thetas: list[float] = []
        self.load = 0.0
        self._delta = 0.0
        self._hour = 0

    def act(self, view: HourView) -> np.ndarray:
        self.begin_hour(view.t)
        return self.blend(view.t, self.proposer.act(view))

    def begin_hour(self, t: int) -> None:
        """Advance the shadow expert to hour t and fix the hour's budget lambda J(S^E_t) + B_t."""
        self._expert_routing = self.shadow.step(t)
        self._budget = self.lam * self.shadow.objective + self.slack.at(t + 1)

    def features(self) -> np.ndarray:
        """What a robustification-aware policy sees of the layer at the current hour, float32 [3N + 1]:
        the slack left (budget - the mismatch so far), the weighted footprint mismatch
        mu_k (E - E^E) [2N] and the expert's region energies / capacity [N]. Money is divided by
        the expert's J so far extrapolated to the whole episode, so the values stay near unit scale
        whatever the episode length."""
        return layer_features(
            self.scenario,
            self._hour,
            self.shadow.objective,
            self._budget - self._delta,
            self.weights[:, None] * self.gap_footprint,
            self._expert_routing.sum(axis=1),
        )

    @staticmethod
    def feature_names(regions: tuple[str, ...]) -> list[str]:
        """The name of every entry of :meth:`features`, in order."""
        mismatch = [f"robust_mismatch_{kind}[{r}]" for kind in ("water", "carbon") for r in regions]
        return ["robust_slack", *mismatch, *(f"expert_energy[{r}]" for r in regions)]

    def blend(self, t: int, proposal: np.ndarray) -> np.ndarray:
        """Play the largest admissible blend of ``proposal`` [N, J] and the expert's routing at hour t.

        A theta > 0 is played only if the mismatch of the state it actually produces (its routing's
        region energies, accumulated exactly as the executed state is) is within the budget; the
        closed form of :func:`largest_admissible_theta` proposes it, rounding can put it a step
        above, and then it is stepped back, down to the expert's action (theta = 0), which keeps
        Delta unchanged and so always fits.
        """
        expert_routing, budget = self._expert_routing, self._budget
        proposal = self.router.sanitize(proposal, t)
        price = self.shadow.prices[:, t]
        intensity = self.scenario.intensity[:, :, t]
        e_expert = self.shadow.energy
        expert_cost, expert_footprint = float(price @ e_expert), intensity * e_expert  # as the shadow added them

        def gaps(energy: np.ndarray) -> tuple[float, np.ndarray, float]:
            """The gaps and Delta after the hour if the region energies ``energy`` [N] are executed."""
            gap_cost = self.gap_cost + (float(price @ energy) - expert_cost)
            gap_footprint = self.gap_footprint + (intensity * energy - expert_footprint)
            return gap_cost, gap_footprint, mismatch(gap_cost, gap_footprint, self.weights)

        theta, routing, energy = 0.0, expert_routing, e_expert
        after = (self.gap_cost, self.gap_footprint, self._delta)  # the expert's hour leaves the gaps unchanged
        e_proposal = proposal.sum(axis=1)
        played = gaps(e_proposal)
        if played[2] <= budget:
            theta, routing, energy, after = 1.0, proposal, e_proposal, played
        else:
            e_change = e_proposal - e_expert
            # Delta(theta) = gap_cost + slope*theta + sum_k w_k max_i(gap_footprint + slopes*theta).
            slope, slopes = float(price @ e_change), intensity * e_change
            candidate = largest_admissible_theta(self.gap_cost, slope, self.gap_footprint, slopes, self.weights, budget)
            step = FIRST_BACK_OFF * candidate
            for _ in range(BACK_OFF_STEPS):
                if candidate <= 0.0:
                    break
                blended = candidate * proposal + (1 - candidate) * expert_routing
                blended_energy = blended.sum(axis=1)
                played = gaps(blended_energy)
                if played[2] <= budget:
                    theta, routing, energy, after = candidate, blended, blended_energy, played
                    break
                candidate, step = candidate - step, step * 16
        self.gap_cost, self.gap_footprint, self._delta = after
        self.state.add(float(price @ energy), intensity * energy)
        self.load += float(self.scenario.total_workload[t])
        self._hour = t + 1
        self.thetas.append(theta)
        self.info = {
            "theta": theta,
            "delta": self._delta,
            "budget": budget,
            "slack": budget - self._delta,
            "J": self.state.objective(self.weights),
            "expert_J": self.shadow.objective,
            "bound": budget + self.shadow.objective,
            "expert_energy": e_expert,
        }
        return routing

    def summary(self) -> dict:
        """Figures for the results tables: the bound on the unshifted J, and how much the ML was followed."""
        shift = self.price_floor * self.load  # J(unshifted) = J(shifted) + p_min * total load
        thetas = np.array(self.thetas)
        proposer = getattr(self.proposer, "summary", None)  # e.g. a learned policy's count of non-finite actions
        return {
            **(proposer() if callable(proposer) else {}),
            "bound": self.info["bound"] + shift if self.info else float("nan"),
            "expert_J": self.info["expert_J"] + shift if self.info else float("nan"),
            "followed_share": float(np.mean(thetas == 1.0)) if thetas.size else float("nan"),
            "mean_theta": float(thetas.mean()) if thetas.size else float("nan"),
            "lambda": self.lam,
            "price_floor": self.price_floor,
        }
