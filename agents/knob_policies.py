"""Online eGLB with the two other knobs, and the knobs' baselines (docs/model/flexibility.md, "Online").

:class:`EGLBKnobs` is eGLB's dual mirror descent (:class:`eglb.agents.eglb_online.EGLBOnline`) with a
dual price for every long-term constraint, each moved by its own hour's gradient in the same style:

* **footprints** (the 2N duals gamma of SPEC section 4): calibrated prices
  q[i] = p[i] + sum_k mu_k gamma[k, i] intensity[k, i], moved by the hour's weighted footprint of
  every MWh drawn (jobs included) minus the auxiliary target. The bound z_max uses capacity (every
  MWh a region may draw) instead of the receivable interactive load.
* **accuracy** (one dual nu >= 0, USD per accuracy point per MWh of class requests): each region
  serves its class with the model minimising q[i] energy[k] - nu (accuracy[k] - target); requests
  are routed at the resulting price per MWh of requests, (1 - share) q[i] + share * that minimum.
  nu <- max(0, nu + eta_nu * (the hour's accuracy deficit, sum_k load[k] (target - accuracy[k]))).
* **each job's work** (one dual rho[m], USD per MWh of its work): at its release rho[m] is the mean,
  over the last 24 observed hours, of the cheapest calibrated price among its allowed regions; each
  hour the job runs at full power if its cheapest price now (transfer included away from home) is
  at most rho[m], else it waits (doing only the must-run work the environment enforces);
  rho[m] <- rho[m] + eta_m (energy / window length - the hour's work): a job that waits grows more
  willing, one that runs ahead less.

Steps: gamma as EGLBOnline (eta_scale / (max z_max sqrt(T))); nu starts at ``accuracy_start`` x
nu_ref and moves by ``accuracy_eta`` x nu_ref / (g_ref sqrt(T)), where nu_ref = the mean of
p + mu_w w + mu_c c times (1 - the smallest energy) / (the accuracy spread) is about the dual at
which the small model breaks even, and g_ref = share x the largest hourly load x the accuracy
spread the largest hourly deficit; rho[m] moves by ``job_eta`` x its starting value / (max power
sqrt(window length)). The defaults (accuracy_start 0.5, accuracy_eta 5, job_eta 1) are the best of
a small grid on synthetic training seeds 1000 and 1001 (168 h, the default job stream, Llama 3.1
models at target 80); never tuned on 2024.

**Jobs first.** Each hour the jobs' work is placed before the requests: the must-run work, then
what the rule wants, cheapest first within capacity; the requests are then routed in the capacity
left (:meth:`eglb.envs.routing.Router.cheapest` with a capacity), giving up job work (the optional
part first) if the requests would not fit. Routing the requests first filled the cheap regions and
left deadline-bound jobs without room (about 10% of the jobs' work undone in the first tests).

The baselines replace one rule each (``jobs=``, ``models=``), the rest staying eGLB's:

* ``jobs="now"`` (**run-now**): every job runs at full power from its release, at home first
  (carbon- and price-agnostic, as schedulers without deferral do).
* ``jobs="cheapest-hours"`` (**deferral baseline**): at its release a job picks the ceil(energy /
  max power) hours of its window with the lowest forecast price plus weighted footprints,
  p + mu_w w + mu_c c, of its cheapest allowed region (the current hour observed, later hours from
  a forecaster: seasonal-naive by default) and runs at full power in them; the carbon-aware
  scheduling of Wiesner et al., "Let's Wait Awhile" (Middleware'21), with price and water added.
* ``models="large"`` (**always-large**): every request served by model 0 (the most accurate).
"""

from __future__ import annotations

import numpy as np
from eglb.agents.base import HourView
from eglb.agents.eglb_online import ETA_SCALE, EGLBOnline, default_eta
from eglb.envs.errors import InputError
from eglb.envs.flex_env import cheapest_models, place_work
from eglb.envs.flow import servable_scale
from eglb.envs.forecast import Forecaster, signal_columns
from eglb.envs.knob_state import HourDecision, KnobState
from eglb.envs.scenario import Scenario

JOB_RULES = ("dual", "now", "cheapest-hours")
MODEL_RULES = ("dual", "large")
JOB_ETA = 1.0
ACCURACY_ETA = 5.0
ACCURACY_START = 0.5


class EGLBKnobs(EGLBOnline):
    """eGLB with deferrable jobs and model choice (module docstring); eGLB itself without knobs.

    Args:
        jobs: the job rule, "dual", "now" or "cheapest-hours".
        models: the model rule, "dual" or "large".
        job_eta, accuracy_eta: multipliers of the job and accuracy dual steps.
        forecaster: the cheapest-hours rule's forecaster (default seasonal-naive, period 24 h).
        eta, eta_scale, z_max: as :class:`EGLBOnline`.
    """

    def __init__(
        self,
        jobs: str = "dual",
        models: str = "dual",
        job_eta: float = JOB_ETA,
        accuracy_eta: float = ACCURACY_ETA,
        accuracy_start: float = ACCURACY_START,
        forecaster: Forecaster | None = None,
        eta: float | None = None,
        eta_scale: float = ETA_SCALE,
        z_max: np.ndarray | None = None,
        name: str | None = None,
    ):
        if jobs not in JOB_RULES:
            raise InputError(f"job rule must be one of {', '.join(JOB_RULES)}, got {jobs!r}")
        if models not in MODEL_RULES:
            raise InputError(f"model rule must be one of {', '.join(MODEL_RULES)}, got {models!r}")
        for label, value in (("job_eta", job_eta), ("accuracy_eta", accuracy_eta)):
            if not np.isfinite(value) or value < 0:
                raise InputError(f"eGLB {label} must be a finite number >= 0, got {value}")
        default = {("dual", "dual"): "eglb", ("now", "dual"): "run-now", ("cheapest-hours", "dual"): "defer-cheapest"}
        label = name or default.get((jobs, models), f"eglb(jobs={jobs},models={models})")
        if models == "large" and jobs == "dual" and name is None:
            label = "always-large"
        super().__init__(eta=eta, eta_scale=eta_scale, z_max=z_max, name=label)
        self.job_rule, self.model_rule = jobs, models
        self.job_eta, self.accuracy_eta, self.accuracy_start = float(job_eta), float(accuracy_eta), float(accuracy_start)
        if forecaster is None and jobs == "cheapest-hours":
            from eglb.forecasts.naive import SeasonalNaiveForecaster

            forecaster = SeasonalNaiveForecaster(24)
        self.forecaster = forecaster

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        if not scenario.flexible:
            return
        if self.z_max_setting is None:  # every MWh a region may draw, jobs included
            self.z_max = scenario.footprint_weights[:, None] * (scenario.intensity * scenario.capacity[None]).max(axis=2)
            if self.eta_setting is None:
                self.eta = default_eta(self.z_max, scenario.n_hours, self.eta_scale)
        jobs, models = scenario.jobs, scenario.models
        self.rho = np.full(0 if jobs is None else jobs.count, np.nan)
        self.job_step = np.zeros_like(self.rho)
        self.planned: dict[int, np.ndarray] = {}
        self.nu = 0.0
        self.nu_eta = 0.0
        if models is not None and models.count > 1:
            spread = float(np.ptp(models.accuracy))
            full_price = scenario.price + scenario.mu_water * scenario.water + scenario.mu_carbon * scenario.carbon
            nu_ref = float(np.mean(np.abs(full_price))) * (1 - float(models.energy.min())) / spread if spread > 0 else 0.0
            g_ref = models.share * float(scenario.total_workload.max()) * spread
            self.nu = self.accuracy_start * nu_ref
            self.nu_eta = self.accuracy_eta * nu_ref / (g_ref * np.sqrt(scenario.n_hours)) if g_ref > 0 else 0.0

    def act(self, view: HourView):
        scenario = self.scenario
        if not scenario.flexible:
            return super().act(view)
        t, knobs = view.t, view.knobs
        q = self.prices(t, self.gamma)
        models = scenario.models
        request_price = q
        if models is not None and self.model_rule == "dual" and models.count > 1:
            best = (q[None, :] * models.energy[:, None] - self.nu * models.surplus[:, None]).min(axis=0)
            request_price = (1 - models.share) * q + models.share * best
        ids = knobs.pending(t)
        work = np.zeros((ids.size, scenario.n_regions))
        room = scenario.capacity[:, t]
        if ids.size:
            levels, order_price = self._job_levels(t, ids, q, knobs)
            work, room = self._reserve(t, ids, levels, order_price, knobs)
        routing = self.router.cheapest(request_price, t, room)
        requests = routing.sum(axis=1)
        model_load = None
        if models is not None and self.model_rule == "dual":
            model_load = cheapest_models(models, q, self.nu, requests)
        energy, model_load = knobs.interactive(t, routing, model_load)
        decision = HourDecision(routing, model_load, ids, work)
        self._learn_knobs(t, decision, energy, knobs)
        return decision

    def _reserve(self, t: int, ids: np.ndarray, levels: np.ndarray, price: np.ndarray, knobs: KnobState):
        """Jobs first: (their work [Q, N] MW, the capacity [N] MW left for the requests). The
        must-run work goes in first, then the rest the rule wants; whatever would leave the hour's
        requests unservable is given up (the rest first, then the must-run work, halving it)."""
        scenario = self.scenario
        capacity = scenario.capacity[:, t]
        most = np.minimum(scenario.jobs.max_power[ids], knobs.remaining[ids])
        must = np.minimum(knobs.must_run(t, ids), most)
        wanted = np.maximum(levels * most, must)
        share = np.divide(must, most, out=np.zeros_like(must), where=most > 0)
        first = place_work(knobs, t, ids, share, price, capacity)
        left = capacity - _energy_of(knobs, ids, first)
        extra = np.divide(np.maximum(wanted - first.sum(axis=1), 0.0), most, out=np.zeros_like(most), where=most > 0)
        both = first + place_work(knobs, t, ids, np.clip(extra, 0.0, 1.0), price, left)
        for work in (both, first, first * 0.5, first * 0.25, None):
            if work is None:
                return np.zeros_like(first), capacity
            room = np.maximum(capacity - _energy_of(knobs, ids, work), 0.0)
            if servable_scale(scenario.workload[:, t : t + 1], room[:, None], scenario.mask)[0] >= 1.0:
                return work, room
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------------------- jobs
    def _job_levels(self, t: int, ids: np.ndarray, q: np.ndarray, knobs: KnobState) -> tuple[np.ndarray, np.ndarray]:
        """(levels [Q] in [0, 1], the price order of regions [N]) of the hour's pending jobs."""
        scenario = self.scenario
        jobs = scenario.jobs
        if self.job_rule == "now":
            return np.ones(ids.size), np.zeros(scenario.n_regions)
        if self.job_rule == "cheapest-hours":
            score = self._score(t)
            levels = np.zeros(ids.size)
            for k, m in enumerate(ids):
                if m not in self.planned:
                    self.planned[m] = self._plan_hours(t, m)
                levels[k] = 1.0 if t in self.planned[m] else 0.0
            return levels, score
        fresh = ids[np.isnan(self.rho[ids])]
        if fresh.size:
            self._start_duals(t, fresh)
        cost = _cheapest_cost(jobs, ids, q)
        return (cost <= self.rho[ids]).astype(float), q

    def _start_duals(self, t: int, ids: np.ndarray) -> None:
        """rho at release: the mean cheapest calibrated price of the allowed regions over the last 24 h."""
        jobs = self.scenario.jobs
        first = max(0, t - 23)
        history = np.stack([self.prices(h, self.gamma) for h in range(first, t + 1)], axis=1)  # [N, H]
        for m in ids:
            self.rho[m] = float(history[jobs.regions[m]].min(axis=0).mean())
            self.job_step[m] = self.job_eta * abs(self.rho[m]) / (jobs.max_power[m] * np.sqrt(jobs.length[m]))

    def _score(self, t: int) -> np.ndarray:
        """[N] price plus weighted footprints of hour t (the cheapest-hours rule's criterion)."""
        s = self.scenario
        return s.price[:, t] + s.mu_water * s.water[:, t] + s.mu_carbon * s.carbon[:, t]

    def _plan_hours(self, t: int, m: int) -> set[int]:
        """The hours of job m's window with the lowest forecast score of its cheapest allowed region."""
        scenario, jobs = self.scenario, self.scenario.jobs
        stop = int(jobs.deadline[m])
        scores = [self._score(t)]
        if stop - t > 1:
            rows = self.forecaster.predict(scenario, t, stop - t - 1, np.random.default_rng(0))
            columns = signal_columns(scenario)
            price, carbon, water = (rows[:, columns[name]].T for name in ("price", "carbon", "water"))
            scores.append(price + scenario.mu_water * np.maximum(water, 0) + scenario.mu_carbon * np.maximum(carbon, 0))
        score = np.concatenate([s.reshape(scenario.n_regions, -1) for s in scores], axis=1)[jobs.regions[m]].min(axis=0)
        count = int(np.ceil(jobs.energy[m] / jobs.max_power[m] - 1e-9))
        chosen = np.argsort(score, kind="stable")[:count]
        return set((t + chosen).tolist())

    # ------------------------------------------------------------------------------------- learning
    def _learn_knobs(self, t: int, decision: HourDecision, interactive: np.ndarray, knobs: KnobState) -> None:
        scenario = self.scenario
        jobs = scenario.jobs
        energy = interactive.copy()
        ids, work = decision.job_ids, decision.job_work
        if ids is not None and ids.size:
            away = work.copy()
            away[np.arange(ids.size), jobs.home[ids]] = 0.0
            energy += work.sum(axis=0) + (jobs.away_overhead[ids][:, None] * away).sum(axis=0)
            if self.job_rule == "dual":
                rate = jobs.energy[ids] / jobs.length[ids]
                self.rho[ids] += self.job_step[ids] * (rate - work.sum(axis=1))
        self.learn(energy, t)
        models = scenario.models
        if models is not None and decision.model_load is not None and self.model_rule == "dual":
            deficit = -float(models.surplus @ decision.model_load.sum(axis=1))
            self.nu = max(0.0, self.nu + self.nu_eta * deficit)


def _cheapest_cost(jobs, ids: np.ndarray, q: np.ndarray) -> np.ndarray:
    """[Q] the cheapest price per MWh of work of each job now: q at home, q (1 + overhead) + transfer away."""
    away = q[None, :] * (1.0 + jobs.away_overhead[ids][:, None]) + jobs.away_usd[ids][:, None]
    away[np.arange(ids.size), jobs.home[ids]] = q[jobs.home[ids]]
    return np.where(jobs.regions[ids], away, np.inf).min(axis=1)


def _energy_of(knobs: KnobState, ids: np.ndarray, work: np.ndarray) -> np.ndarray:
    """[N] MW drawn by jobs ``ids`` doing ``work`` [Q, N]: 1 per MW at home, 1 + overhead away."""
    jobs = knobs.jobs
    factor = np.where(np.arange(work.shape[1])[None, :] == jobs.home[ids][:, None], 1.0, 1.0 + jobs.away_overhead[ids][:, None])
    return (work * factor).sum(axis=0)
