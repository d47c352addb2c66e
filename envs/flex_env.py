"""The environment with all three knobs: routing, deferrable jobs and model choice (docs/model/flexibility.md).

:class:`FlexGLBEnv` is :class:`eglb.envs.glb_env.GLBEnv` on scenarios with ``jobs`` and/or ``models``
(``gymnasium.make("GLB-Flex-v0", scenario=...)``). An episode plays the jobs whose whole window lies
in it (:meth:`Scenario.window`); every hour's decision is made feasible and deadlines are enforced by
:class:`eglb.envs.knob_state.KnobState`.

**Action**: the routing part of ``action_mode`` (GLBEnv's, first), then:

======================  =========================  ===============================================
mode                    entries                    meaning
======================  =========================  ===============================================
share                   Q*N, then K*N (in [0, 1])  each queue slot's work in each region as a share
                                                   of its max power (slot-major); each model's share
                                                   of each region's class requests (model-major)
routing                 Q, then K*N (in [-1, 1])   each slot's work level: (a + 1)/2 of the most it
                                                   can do, placed in its allowed regions cheapest
                                                   first (price, plus transfer price away from
                                                   home); model scores, a softmax (temperature as
                                                   the routing's) per region
dual                    Q, then 1 (in [-1, 1])     work levels as above, placed at the calibrated
                                                   prices of the duals; the accuracy dual
                                                   nu = (a + 1)/2 * penalty: each region serves its
                                                   class with the model minimising
                                                   q_i energy_k - nu (accuracy_k - target)
======================  =========================  ===============================================

The queue holds the Q pending jobs (released, unfinished, before their deadline) with the earliest
deadlines (ties by index); jobs beyond the Q slots get their must-run work only. Q is ``job_slots``
(default: the most jobs ever pending at once in the reference scenario, so none is left out); K is
the number of models (0 without a model choice: no model entries).

**Observation**: GLBEnv's, then per slot 7 numbers (1 if the slot holds a job; its work left at full
power, hours to its deadline and their difference (slack), all / 24 h; its max power / the scale's
gateway load; its must-run work / max power; its transfer price per MWh away / the price scale),
then 2 (the share of pending jobs beyond the slots; with models, the class's average accuracy so far
minus the target, / the models' accuracy spread; else 0).

**Reward**: minus the hour's increase of J, which now includes transfers, the penalty of work left
at deadlines and, at the last hour, that of the accuracy shortfall: an episode's return is -J.

**Info**: GLBEnv's, plus ``jobs`` (ids run), ``job_work`` [Q', N] MW, ``model_load`` [K, N] MW,
``transfer_cost`` and ``knob_penalty`` (USD), ``unfinished`` (MWh left at deadlines this hour) and
``forced`` (MWh of must-run work added to the action).

:meth:`FlexGLBEnv.step_decision` plays an :class:`eglb.envs.knob_state.HourDecision` directly: the
path of classical policies (``eglb.agents.rollout``).
"""

from __future__ import annotations

import numpy as np
from eglb.envs.actions import checked_action, price_from_dual_action
from eglb.envs.errors import InputError
from eglb.envs.glb_env import GLBEnv
from eglb.envs.knob_state import HourDecision, KnobState
from eglb.envs.scenario import Scenario
from gymnasium import spaces

SLOT_FEATURES = 7
GLOBAL_FEATURES = 2


def most_pending(scenario: Scenario) -> int:
    """The most jobs whose windows overlap one hour of ``scenario`` (0 without jobs)."""
    jobs = scenario.jobs
    if jobs is None or not jobs.count:
        return 0
    change = np.zeros(scenario.n_hours + 1)
    np.add.at(change, jobs.release, 1)
    np.add.at(change, jobs.deadline, -1)
    return int(np.cumsum(change).max())


class FlexGLBEnv(GLBEnv):
    """GLBEnv with deferrable jobs and model choice (module docstring).

    Args (beyond GLBEnv's):
        job_slots: Q, the jobs the action and observation show (default: :func:`most_pending` of
            the reference scenario, at least 1).
    """

    handles_knobs = True

    def __init__(self, scenario=None, *args, job_slots: int | None = None, **kwargs):
        super().__init__(scenario, *args, **kwargs)
        reference = self._pick(np.random.default_rng(0))
        if job_slots is None:
            job_slots = max(most_pending(reference), 1)
        if isinstance(job_slots, bool) or int(job_slots) != job_slots or job_slots < 0:
            raise InputError(f"argument 'job_slots' must be a whole number >= 0, got {job_slots}")
        self.job_slots = int(job_slots)
        self.n_models = 0 if reference.models is None else reference.models.count
        base = self.action_space
        q, n, k = self.job_slots, self.n_regions, self.n_models
        if self.action_mode == "share":
            extra = q * n + k * n
            low, high = 0.0, 1.0
        else:
            extra = q + (k * n if self.action_mode == "routing" else (1 if k else 0))
            low, high = -1.0, 1.0
        self.base_size = int(base.shape[0])
        self.action_space = spaces.Box(low, high, shape=(self.base_size + extra,), dtype=base.dtype)
        size = self.observation_space.shape[0] + q * SLOT_FEATURES + GLOBAL_FEATURES
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)
        slot_names = ("present", "work_left", "to_deadline", "slack", "max_power", "must_run", "away_price")
        self.observation_names = (
            list(self.observation_names)
            + [f"slot{s}.{name}" for s in range(q) for name in slot_names]
            + ["queue_overflow", "accuracy_gap"]
        )

    # --------------------------------------------------------------------------------- episode
    def _begin(self, scenario: Scenario, start: int, hours: int) -> None:
        models = 0 if scenario.models is None else scenario.models.count
        if models != self.n_models:
            raise InputError(f"scenario {scenario.name!r} has {models} models; this environment was built for {self.n_models}")
        super()._begin(scenario, start, hours)
        self.episode = scenario if (start, hours) == (0, scenario.n_hours) else scenario.window(start, start + hours)
        self.knobs = KnobState(self.episode)
        self._queue = self.knobs.pending(0)[: self.job_slots]

    def _observe(self) -> np.ndarray:
        base = super()._observe()
        if not hasattr(self, "knobs"):
            return base
        q = self.job_slots
        slots = np.zeros((q, SLOT_FEATURES), dtype=np.float32)
        k = min(self._step, self.hours - 1)
        pending = self.knobs.pending(k) if self._step < self.hours else np.zeros(0, dtype=int)
        self._queue = pending[:q]
        ids = self._queue
        if ids.size:
            jobs = self.episode.jobs
            power = jobs.max_power[ids]
            left = self.knobs.remaining[ids] / power
            to_deadline = (jobs.deadline[ids] - k).astype(float)
            scale = self.observation_scale
            slots[: ids.size] = np.column_stack(
                [
                    np.ones(ids.size),
                    left / 24,
                    to_deadline / 24,
                    (to_deadline - left) / 24,
                    power / scale.workload,
                    self.knobs.must_run(k, ids) / power,
                    jobs.away_usd[ids] / scale.price,
                ]
            )
        overflow = max(pending.size - q, 0) / max(pending.size, 1)
        models = self.episode.models
        gap = 0.0
        if models is not None and self.knobs.model_load.sum() > 0:
            load = self.knobs.model_load
            spread = max(float(np.ptp(models.accuracy)), 1e-9)
            gap = (float(models.accuracy @ load / load.sum()) - models.target) / spread
        return np.concatenate([base, slots.ravel(), np.array([overflow, gap], dtype=np.float32)])

    # --------------------------------------------------------------------------------- step
    def step(self, action):
        self._require_running()
        return self.step_decision(self.decide(action))

    def decoder_check(self, action) -> np.ndarray:
        return checked_action(action, self.action_space.shape, f"{self.action_mode} action", "routing part, then the knobs' part")

    def sync(self, t: int, state, knobs: KnobState) -> np.ndarray:
        """Put the episode at its hour t with a given cumulative state and job progress, and return the
        observation there: how a policy acting from outside (inside the robustification layer, or
        through ``eglb.agents.rollout``) sees what the environment would show it."""
        self.state = state.copy()
        self.knobs = knobs.copy()
        self._step, self.hour = t, self.start + t
        self._objective = self.state.objective(self._weights)
        return self._observe()

    def decide(self, action) -> HourDecision:
        """The decision ``action`` stands for at the current hour (what ``step`` would play), unplayed."""
        action = self.decoder_check(action)
        return self._knob_decision(action, self.decoder.decode(action[: self.base_size], self.hour))

    def step_decision(self, decision: HourDecision):
        """Play one hour's decision (made feasible by :meth:`KnobState.execute`)."""
        self._require_running()
        routing = self.router.sanitize(decision.routing, self.hour)
        decision = HourDecision(routing, decision.model_load, decision.job_ids, decision.job_work)
        outcome = self.knobs.execute(self._step, decision)
        done = outcome.decision
        # What the hour did with the knobs: the jobs run ([m] ids) and their work [m, N] MWh, the model
        # loads [K, N] MW, transfers and penalties (USD), work left undone at deadlines and forced (MWh).
        info = dict(jobs=done.job_ids, job_work=done.job_work, model_load=done.model_load)
        info.update(transfer_cost=outcome.transfer_cost, knob_penalty=outcome.penalty)
        info.update(unfinished=outcome.unfinished, forced=outcome.forced)
        return self._advance(routing, outcome.energy, outcome.transfer_cost + outcome.penalty, info)

    def _knob_decision(self, action: np.ndarray, routing: np.ndarray) -> HourDecision:
        """The knobs' part of an action (module docstring) as a decision for this hour."""
        q, n, k = self.job_slots, self.n_regions, self.n_models
        extra = np.asarray(action[self.base_size :], dtype=float)
        ids = self._queue
        t = self._step
        episode = self.episode
        requests = routing.sum(axis=1)
        if self.action_mode == "share":
            shares = np.nan_to_num(np.clip(extra[: q * n], 0.0, 1.0)).reshape(q, n)[: ids.size]
            work = shares * episode.jobs.max_power[ids][:, None] if ids.size else np.zeros((0, n))
            model_load = None
            if k:
                share = np.nan_to_num(np.clip(extra[q * n :], 0.0, 1.0)).reshape(k, n)
                model_load = share * (episode.models.share * requests)[None, :]
            return HourDecision(routing, model_load, ids, work)
        levels = (np.clip(np.nan_to_num(extra[:q]), -1.0, 1.0) + 1.0) / 2.0
        if self.action_mode == "dual":
            cost = price_from_dual_action(action[: self.base_size], episode, t)
        else:
            cost = episode.price[:, t]
        model_load = None
        if k and self.action_mode == "dual":
            nu = (float(np.clip(np.nan_to_num(extra[q]), -1.0, 1.0)) + 1.0) / 2.0 * episode.models.penalty
            model_load = cheapest_models(episode.models, cost, nu, requests)
        elif k:
            scores = self.routing_temperature * np.clip(np.nan_to_num(extra[q:]), -1.0, 1.0).reshape(k, n)
            weights = np.exp(scores - scores.max(axis=0, keepdims=True))
            model_load = weights / weights.sum(axis=0) * (episode.models.share * requests)[None, :]
        energy, _ = self.knobs.interactive(t, routing, model_load)
        spare = np.maximum(episode.capacity[:, t] - energy, 0.0)
        work = place_work(self.knobs, t, ids, levels[: ids.size], cost, spare)
        return HourDecision(routing, model_load, ids, work)


def cheapest_models(models, price: np.ndarray, nu: float, requests: np.ndarray) -> np.ndarray:
    """[K, N] model loads: every region serves its class requests with the model minimising
    price_i energy_k - nu (accuracy_k - target) (per MWh of requests)."""
    value = price[None, :] * models.energy[:, None] - nu * models.surplus[:, None]
    load = np.zeros((models.count, price.size))
    load[value.argmin(axis=0), np.arange(price.size)] = models.share * requests
    return load


def place_work(knobs: KnobState, t: int, ids: np.ndarray, levels: np.ndarray, price: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """[Q, N] MW: each job's ``levels`` share of the most it can do now, in deadline order, filled into
    its allowed regions in order of ``price`` (plus its transfer price away from home), within ``spare`` [N] MW."""
    jobs = knobs.jobs
    n = price.size
    work = np.zeros((ids.size, n))
    if not ids.size:
        return work
    amount = levels * np.minimum(jobs.max_power[ids], knobs.remaining[ids])
    spare = spare.astype(float).tolist()
    for q in np.flatnonzero(amount > 0):
        m = ids[q]
        home = int(jobs.home[m])
        cost = price + jobs.away_usd[m]
        cost[home] = price[home]
        overhead = 1.0 + jobs.away_overhead[m]
        left = float(amount[q])
        for i in np.argsort(cost, kind="stable"):
            if not jobs.regions[m, i] or spare[i] <= 0:
                continue
            factor = 1.0 if i == home else overhead
            take = min(left, spare[i] / factor)
            work[q, i] = take
            spare[i] -= take * factor
            left -= take
            if left <= 0:
                break
    return work
