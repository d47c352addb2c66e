"""The robustification layer on scenarios with deferrable jobs and model choice (docs/model/flexibility.md, "The layer").

Without knobs :class:`KnobRobustPolicy` is :class:`eglb.robust.layer.RobustPolicy` exactly. With
knobs, feasibility depends on the past: a job's work left depends on what was run, so the expert's
action (computed on the expert's own shadow state) need not fit the executed state. The layer keeps
its guarantee with one more rule, **progress dominance**: after every hour every job's work done is
at least the shadow expert's.

State S = (F, E, D): F the money (energy at prices shifted by the floor, transfers, penalties of work
left at deadlines), E the footprints [2, N], D the accuracy deficit so far (point MWh, sum of
load_k (target - accuracy_k)); J(S) = F + sum_k mu_k max_i E[k, i] + pi_a max(0, D) at the end.
The mismatch adds the accuracy term as one more maximum, over {D - D^E, 0}:

    Delta(S, S^E) = (F - F^E) + sum_k mu_k max_i (E[k, i] - E^E[k, i]) + pi_a max(0, D - D^E),

and J(S + Z) <= J(S^E + Z) + Delta for any common increment Z, as in SPEC section 6.

At hour t the shadow expert (eGLB with knobs, :class:`eglb.agents.knob_policies.EGLBKnobs`) acts on
its own state. Its executed decision, with each job's work cut to the work the executed state has
left, is the fallback x_E; the ML proposal is executed on a copy of the real state (made feasible,
deadlines enforced), x_ML. The layer plays x(theta) = theta x_ML + (1 - theta) x_E with the largest
theta in [0, 1] such that

1. every job's work done stays at least the expert's: work_m(theta) >= left_m - left^E_m (linear);
2. Delta(S_{t-1} + increment(theta), S^E_t) <= lambda (F^E_t + sum_k mu_k max_i E^E[k, i]_t) + B_t.

theta = 0 always qualifies: by (1) before the hour each job has at most the expert's work left, so
the fallback runs each job at most as much as the expert, draws at most the expert's energy in every
region, pays at most its transfers and leaves at most its work undone, with the same routing and
models (same D increment): Delta does not grow, while the budget does not shrink (the accuracy
term, which can fall, is left out of it). Every blend is feasible (both actions are, for the same
state, and the constraints are convex), and every increment is linear in theta, so Delta(theta) is
convex and piecewise linear: the largest admissible theta is found as without knobs
(:func:`eglb.robust.layer.largest_admissible_theta`, the accuracy row padded with zeros).

**Guarantee**, on every input sequence and for every ML policy, at every hour and at the end:
J(robust) <= (1 + lambda) J(expert) + B_T on the shifted objective, and no job ever has more work left than under the expert, so the robust policy never
leaves more work undone at a deadline than the expert. It does not promise more: the ML policy is
held back (theta < 1) whenever it would run a job less than the expert has so far, even if it could
still finish it later. With knobs the total energy differs between policies (models, transfer
energy), so the shift is no longer the same constant for all: on plain prices the bound reads
J(robust) <= (1 + lambda) J_shifted(expert) + B_T + p_min E(robust), p_min <= 0 the floor and E the
MWh drawn (``summary()["bound"]``); with no negative price p_min = 0 and the two objectives agree.
"""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView, OfflineSolver, Policy
from eglb.agents.knob_policies import EGLBKnobs
from eglb.agents.knob_rollout import run_now
from eglb.agents.replay import Replay
from eglb.envs.errors import InputError
from eglb.envs.knob_state import HourDecision, KnobState
from eglb.envs.metrics import FootprintState
from eglb.envs.scenario import Scenario
from eglb.robust.layer import RobustPolicy, largest_admissible_theta, layer_features


class KnobRobustPolicy(RobustPolicy):
    """:class:`RobustPolicy` that also plays scenarios with knobs (module docstring); arguments as RobustPolicy."""

    def reset(self, scenario: Scenario) -> None:
        self.knobs_on = scenario.flexible
        if not self.knobs_on:
            super().reset(scenario)
            return
        Policy.reset(self, scenario)
        floor = min(0.0, float(scenario.price.min())) if self.price_floor_setting is None else self.price_floor_setting
        if floor > scenario.price.min():
            raise InputError(f"robust price floor {floor} is above the scenario's lowest price {scenario.price.min()}")
        self.price_floor = floor
        self.prices = scenario.price - floor
        if self.expert is not None and not isinstance(self.expert, EGLBKnobs):
            # The guarantee's fallback is built from eGLB's decisions on its own job progress.
            raise InputError(
                f"{self.name}: with deferrable jobs or model choice the layer's expert is eGLB (expert=eglb or none), "
                f"got {getattr(self.expert, 'name', type(self.expert).__name__)!r}"
            )
        self.expert_policy = self.expert if self.expert is not None else EGLBKnobs()
        self.expert_policy.reset(scenario)
        self.shadow_knobs = KnobState(scenario)
        self.expert_state = FootprintState.zeros(scenario.n_regions)
        self.expert_deficit = 0.0
        self.proposer = Replay(self.ml.solve(scenario), self.name) if isinstance(self.ml, OfflineSolver) else self.ml
        self.proposer.reset(scenario)
        self.state = FootprintState.zeros(scenario.n_regions)
        self.deficit = 0.0
        self.weights = scenario.footprint_weights
        self.accuracy_weight = 0.0 if scenario.models is None else scenario.models.penalty
        self.thetas: list[float] = []
        self.load = 0.0
        self.energy_total = 0.0  # MWh drawn, executed and by the expert: the price shift is floor x this
        self.expert_energy_total = 0.0
        self._delta = 0.0
        self._hour = 0  # hours played

    def act(self, view: HourView):
        if not self.knobs_on:
            return super().act(view)
        self.begin_hour(view.t)
        return self.blend_decision(view, self.proposer.act(view))

    def begin_hour(self, t: int) -> None:
        """Play the expert's hour t on its own state (it does not depend on what is executed), before
        the ML policy proposes: :meth:`features` then show it, as RobustPolicy's do."""
        if not self.knobs_on:
            return super().begin_hour(t)
        scenario = self.scenario
        expert_view = HourView(scenario, t, self.expert_state, self.shadow_knobs)
        expert_out = self.shadow_knobs.execute(
            t, _as_decision(self.expert_policy.act(expert_view), self.shadow_knobs, t, self.router)
        )
        self.expert_state.add(self._money(t, expert_out), scenario.intensity[:, :, t] * expert_out.energy)
        self.expert_deficit += self._deficit(expert_out.decision)
        self.expert_energy_total += float(expert_out.energy.sum())
        self._expert_out = expert_out

    def features(self) -> np.ndarray:
        """RobustPolicy's features (same layout and names) on the knob state: the slack left, the
        weighted footprint mismatch against the expert [2N] and the expert's region energies of the
        hour begun / capacity [N], money divided by the expert's J so far extrapolated to the episode."""
        if not self.knobs_on:
            return super().features()
        e, t = self.expert_state, self._hour
        return layer_features(
            self.scenario,
            t,
            self._j(e.cost, e.footprint, self.expert_deficit),
            self._budget(t) - self._delta,
            self.weights[:, None] * (self.state.footprint - e.footprint),
            self._expert_out.energy,
        )

    def blend_decision(self, view: HourView, proposal) -> HourDecision:
        """Play the largest admissible blend of ``proposal`` (a decision or a routing) and the expert's
        decision of the hour begun (:meth:`begin_hour`) on the executed state ``view.knobs``."""
        scenario, t, knobs = self.scenario, view.t, view.knobs
        expert_out, e_state = self._expert_out, self.expert_state
        # The fallback: the expert's decision executed here (each job's work cut to what is left here).
        fallback_out = knobs.copy().execute(t, expert_out.decision)
        proposal = _as_decision(proposal, knobs, t, self.router)
        proposal_out = knobs.copy().execute(t, proposal)
        theta = self._theta(t, knobs, fallback_out, proposal_out)
        played = fallback_out.decision if theta == 0.0 else _blend(theta, proposal_out.decision, fallback_out.decision, scenario)
        outcome = knobs.copy().execute(t, played)
        self.state.add(self._money(t, outcome), scenario.intensity[:, :, t] * outcome.energy)
        self.deficit += self._deficit(outcome.decision)
        self.load += float(scenario.total_workload[t])
        self.energy_total += float(outcome.energy.sum())
        self._delta = self._mismatch(self.state.cost, self.state.footprint, self.deficit)
        self.thetas.append(theta)
        self._hour = t + 1
        budget = self._budget(t)
        expert_j = self._j(e_state.cost, e_state.footprint, self.expert_deficit)
        self.info = {
            "theta": theta,
            "delta": self._delta,
            "budget": budget,
            "slack": budget - self._delta,
            "J": self._j(self.state.cost, self.state.footprint, self.deficit),
            "expert_J": expert_j,
            "bound": budget + expert_j,
            "expert_energy": expert_out.energy,
        }
        return outcome.decision

    def summary(self) -> dict:
        """As :meth:`RobustPolicy.summary`; with knobs the total energy differs between policies, so the
        shift back to plain prices is the price floor times each one's own energy."""
        if not self.knobs_on:
            return super().summary()
        thetas = np.array(self.thetas)
        return {
            "bound": self.info["bound"] + self.price_floor * self.energy_total if self.info else float("nan"),
            "expert_J": self.info["expert_J"] + self.price_floor * self.expert_energy_total if self.info else float("nan"),
            "followed_share": float(np.mean(thetas == 1.0)) if thetas.size else float("nan"),
            "mean_theta": float(thetas.mean()) if thetas.size else float("nan"),
            "lambda": self.lam,
            "price_floor": self.price_floor,
        }

    # ------------------------------------------------------------------------------------- pieces
    def _money(self, t: int, outcome) -> float:
        """Shifted energy cost, transfers and penalties of unfinished work (the accuracy term is D's)."""
        return float(self.prices[:, t] @ outcome.energy) + outcome.transfer_cost + outcome.penalty - outcome.accuracy_penalty

    def _deficit(self, decision: HourDecision) -> float:
        models = self.scenario.models
        if models is None or decision.model_load is None:
            return 0.0
        return -float(models.surplus @ decision.model_load.sum(axis=1))

    def _j(self, cost: float, footprint: np.ndarray, deficit: float) -> float:
        return float(cost + self.weights @ footprint.max(axis=1) + self.accuracy_weight * max(0.0, deficit))

    def _mismatch(self, cost: float, footprint: np.ndarray, deficit: float) -> float:
        e = self.expert_state
        return float(
            cost
            - e.cost
            + self.weights @ (footprint - e.footprint).max(axis=1)
            + self.accuracy_weight * max(0.0, deficit - self.expert_deficit)
        )

    def _budget(self, t: int) -> float:
        e = self.expert_state
        return self.lam * float(e.cost + self.weights @ e.footprint.max(axis=1)) + self.slack.at(t + 1)

    def _theta(self, t: int, knobs: KnobState, fallback, proposal) -> float:
        """The largest admissible theta (module docstring, conditions 1 and 2)."""
        scenario = self.scenario
        # 1. Progress: work_m(theta) >= left_m - left^E_m after the hour, for every job.
        theta_max = 1.0
        m = scenario.jobs.count if scenario.jobs is not None else 0
        if m:
            w_e = _work_by_job(fallback.decision, m)
            w_ml = _work_by_job(proposal.decision, m)
            need = knobs.remaining - self.shadow_knobs.remaining
            lower = w_ml < w_e
            if lower.any():
                room = (w_e[lower] - need[lower]) / (w_e[lower] - w_ml[lower])
                theta_max = float(np.clip(room.min(), 0.0, 1.0)) * (1 - 1e-12)
        if theta_max <= 0.0:
            return 0.0
        # 2. The budget, with the accuracy deficit as a third row [D - D^E, 0, ..., 0].
        n = scenario.n_regions
        intensity = scenario.intensity[:, :, t]
        money_e, money_ml = self._money(t, fallback), self._money(t, proposal)
        e = self.expert_state
        base = self.state.cost + money_e - e.cost
        slope = money_ml - money_e
        offsets = np.zeros((3, n))
        slopes = np.zeros((3, n))
        offsets[:2] = self.state.footprint + intensity * fallback.energy - e.footprint
        slopes[:2] = intensity * (proposal.energy - fallback.energy)
        d_e, d_ml = self._deficit(fallback.decision), self._deficit(proposal.decision)
        offsets[2, 0] = self.deficit + d_e - self.expert_deficit
        slopes[2, 0] = d_ml - d_e
        weights = np.r_[self.weights, self.accuracy_weight]
        theta = largest_admissible_theta(base, slope, offsets, slopes, weights, self._budget(t))
        return min(theta, theta_max)


def _as_decision(action, knobs: KnobState, t: int, router) -> HourDecision:
    """A policy's answer as a decision: a plain routing runs its jobs now (as the rollout does)."""
    if isinstance(action, HourDecision):
        return action
    return run_now(knobs, t, router.sanitize(action, t))


def _work_by_job(decision: HourDecision, count: int) -> np.ndarray:
    work = np.zeros(count)
    if decision.job_ids is not None and len(decision.job_ids):
        np.add.at(work, decision.job_ids, decision.job_work.sum(axis=1))
    return work


def _blend(theta: float, a: HourDecision, b: HourDecision, scenario: Scenario) -> HourDecision:
    """theta a + (1 - theta) b, job work matched by job id."""
    model_load = None
    if a.model_load is not None and b.model_load is not None:
        model_load = theta * a.model_load + (1 - theta) * b.model_load
    ids = np.unique(np.concatenate([d.job_ids for d in (a, b) if d.job_ids is not None] or [np.zeros(0, int)])).astype(int)
    work = np.zeros((ids.size, scenario.n_regions))
    for weight, d in ((theta, a), (1 - theta, b)):
        if d.job_ids is not None and len(d.job_ids):
            np.add.at(work, np.searchsorted(ids, d.job_ids), weight * d.job_work)
    return HourDecision(theta * a.routing + (1 - theta) * b.routing, model_load, ids, work)
