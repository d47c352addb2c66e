"""The Gymnasium environment of equity-aware geographical load balancing."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
from eglb.envs.actions import ActionDecoder, checked_action
from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster
from eglb.envs.metrics import FootprintState, objective
from eglb.envs.observation import EpisodeObserver, ObservationBuilder, ObservationScale
from eglb.envs.rewards import hour_reward
from eglb.envs.routing import Router
from eglb.envs.scenario import Scenario
from eglb.envs.validation import check_range, typed_arguments
from gymnasium import spaces

#: Longest forecast window (a year of hours) and largest relative forecast noise an environment takes.
MAX_FORECAST_HOURS = 8784
MAX_FORECAST_NOISE = 10.0
#: Why a step is refused (GLBEnv and StepChecks).
RESET_FIRST = "call reset() before step()"
EPISODE_OVER = "the episode has ended; call reset()"
#: A scenario source: given the environment's random generator, the scenario of the next episode.
ScenarioSource = Callable[[np.random.Generator], Scenario]


class GLBEnv(gym.Env):
    """Route every gateway's AI workload to data centers, hour by hour, fairly.

    ## Description

    A fleet of AI inference servers spans N regions; J gateways receive the load. Every hour the agent
    decides how much of each gateway's load each region serves. Electricity costs money, emits carbon
    and consumes water, at prices and intensities that vary by region and hour. The objective of
    equity-aware geographical load balancing (eGLB, SPEC section 2) is

        J = sum_i E_i + mu_w * max_i W_i + mu_c * max_i C_i,

    the total energy cost plus weighted penalties on the worst region's cumulative water and carbon
    footprint: sending all load where it is cheapest piles the footprint onto a few regions.

    ## Action space

    Set by ``action_mode`` (details in :mod:`eglb.envs.actions`); every action yields a feasible routing:

    - ``"routing"``: ``Box(-1, 1, (J*N,), float32)``: per-gateway scores over regions, gateway-major;
      a masked softmax gives each gateway's split, then capacity is repaired.
    - ``"dual"``: ``Box(-1, 1, (2N,), float32)``: water then carbon dual prices, mapped to [0, 1];
      the routing is the cheapest one for the calibrated prices (the online expert's routine).
    - ``"share"``: ``Box(0, 1, (N*J,), float64)``: region-major shares of each gateway's load, i.e.
      the routing divided by the workload (how classical policies and replays act).

    ## Observation space

    ``Box(-inf, inf, (D,), float32)`` with D = 8N + J + 3 + H(3N + J) for a forecast window of H hours:
    the hour's prices, intensities, workloads and capacities, time of day, the fraction of the
    episode left, the optional forecast, and the equity state (each region's cumulative weighted
    water and carbon footprint and its distance to the current maximum). Layout and scaling:
    :mod:`eglb.envs.observation`.

    ## Rewards

    Minus the increase of J during the hour, times ``reward_scale``: the energy cost of the hour plus
    mu_w (mu_c) times the increase of the largest cumulative water (carbon) footprint. With
    ``reward_scale=1`` an episode's undiscounted return is exactly -J.

    ## Starting state

    Zero footprints at the first hour of the episode's window.

    ## Episode end

    ``terminated`` is True after the last hour of the window (the clock is part of the observation);
    the environment never truncates. Wrap it in ``gymnasium.wrappers.TimeLimit`` for shorter episodes.

    ## Information

    ``step`` returns ``info`` with ``hour`` (index into the scenario), ``routing`` [N, J] MW,
    ``energy`` [N] MW, per-region ``cost`` [N] USD, ``water`` [N] m^3 and ``carbon`` [N] t of the
    hour, the reward terms ``energy_cost``, ``water_penalty`` and ``carbon_penalty`` (USD, unscaled,
    summing to the hour's increase of J) and ``J`` so far. ``reset`` returns ``hour`` and ``start``.

    ## Arguments

    - ``scenario``: a :class:`~eglb.envs.scenario.Scenario`, a sequence of them (each episode draws one),
      or a callable ``rng -> Scenario`` (a new trace per episode, e.g.
      :class:`~eglb.envs.synthetic.SyntheticSource`). Default: the embedded synthetic scenario, seed 0.
    - ``episode_hours``: length of an episode window (default: the whole scenario).
    - ``random_start``: draw the window's start uniformly from the environment's generator (else 0).
      ``reset(options={"start": k})`` fixes it and ``reset(options={"scenario": s})`` runs a given
      scenario of the same shape.
    - ``action_mode``: ``"routing"`` (default), ``"dual"`` or ``"share"``.
    - ``forecast_hours``, ``forecast_noise``: forecast window length and its noise (see
      :class:`~eglb.envs.observation.ObservationBuilder`).
    - ``forecaster``: an :class:`~eglb.envs.forecast.Forecaster` making the forecast observation instead
      of the noisy truth (e.g. ``eglb.forecasts.PersistenceForecaster()``, or the learned forecaster the
      forecast-driven controllers use), so that learned policies and classical controllers see the
      same information; ``forecast_noise`` must then be 0. Default: the noisy truth.
    - ``reward_scale``: factor applied to rewards (1: the return is -J in USD).
    - ``observation_scale``: an :class:`~eglb.envs.observation.ObservationScale` or its dict (default:
      measured on the first scenario); keep it fixed between training and evaluation.
    - ``routing_temperature``: softmax temperature of the ``routing`` mode.
    - ``render_mode``: ``"ansi"`` renders the current hour as text; ``"rgb_array"`` as a picture
      (uint8 [360, 640, 3]: per-region load against capacity, and cumulative weighted water and carbon
      footprints against the worst region's, the level the equity penalty charges; envs/render.py).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    #: Whether the class plays deferrable jobs and model choice (envs/flex_env.py's FlexGLBEnv does).
    handles_knobs = False

    @typed_arguments
    def __init__(
        self,
        scenario: Scenario | Sequence[Scenario] | ScenarioSource | None = None,
        episode_hours: int | None = None,
        random_start: bool = False,
        action_mode: str = "routing",
        forecast_hours: int = 0,
        forecast_noise: float = 0.0,
        reward_scale: float = 1.0,
        observation_scale: ObservationScale | dict | None = None,
        routing_temperature: float = 5.0,
        render_mode: str | None = None,
        forecaster: Forecaster | None = None,
    ):
        if scenario is None:
            from eglb.envs.synthetic import make_synthetic

            scenario = make_synthetic(seed=0)
        self._pick, reference = _scenario_picker(scenario)
        self._refuse_knobs(reference)
        self.n_regions = reference.n_regions
        self.n_gateways = reference.n_gateways
        if episode_hours is not None and episode_hours < 1:
            raise InputError(f"argument 'episode_hours' must be a positive integer, got {episode_hours}")
        check_range("argument 'forecast_hours'", forecast_hours, high=MAX_FORECAST_HOURS)
        check_range("argument 'forecast_noise'", forecast_noise, high=MAX_FORECAST_NOISE)
        self.episode_hours = None if episode_hours is None else int(episode_hours)
        self.random_start = bool(random_start)
        if not np.isfinite(reward_scale) or reward_scale <= 0:
            raise InputError(f"argument 'reward_scale' must be > 0, got {reward_scale}")
        self.reward_scale = float(reward_scale)
        self.action_mode = action_mode
        self.routing_temperature = float(routing_temperature)
        self.action_space = ActionDecoder.space(action_mode, self.n_regions, self.n_gateways)
        if observation_scale is None:
            observation_scale = ObservationScale.from_scenario(reference)
        elif isinstance(observation_scale, dict):
            observation_scale = ObservationScale.from_dict(observation_scale)
        self.observation_scale = observation_scale
        self._observer = ObservationBuilder(
            self.n_regions, self.n_gateways, observation_scale, forecast_hours, forecast_noise, forecaster
        )
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(self._observer.size,), dtype=np.float32)
        #: The name of every entry of this environment's observation, e.g. "price[Texas]",
        #: "forecast+2.water[Japan]", "carbon_gap[Nevada]". Wrappers that append to the observation
        #: (the training ids' expert duals, the robust layer's features) append their names: read
        #: ``env.get_wrapper_attr("observation_names")`` on a wrapped environment.
        self.observation_names = self._observer.names(reference.regions, reference.gateways)
        self.region_names = tuple(reference.regions)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InputError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self._renderer = None
        self._decoders: dict[int, tuple[Scenario, ActionDecoder]] = {}
        self.scenario: Scenario | None = None
        self.state: FootprintState | None = None

    # --------------------------------------------------------------------------------- episode
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if options is not None and not isinstance(options, dict):
            raise InputError(f"reset options must be a dict with 'start' and/or 'scenario', got {type(options).__name__}")
        options = options or {}
        unknown = sorted(set(options) - {"start", "scenario"})
        if unknown:
            raise InputError(
                f"unknown reset option {unknown[0]!r}: options are 'start' (an hour index) and 'scenario' (a Scenario)"
            )
        scenario = options.get("scenario")
        if scenario is None:
            scenario = self._pick(self.np_random)
        elif not isinstance(scenario, Scenario):
            raise InputError(f"reset option 'scenario' must be a Scenario, got {type(scenario).__name__}")
        self._refuse_knobs(scenario)
        if (scenario.n_regions, scenario.n_gateways) != (self.n_regions, self.n_gateways):
            raise InputError(
                f"scenario {scenario.name!r} has {scenario.n_regions} regions and {scenario.n_gateways} gateways; "
                f"this environment was built for {self.n_regions} and {self.n_gateways}"
            )
        hours = self.episode_hours or scenario.n_hours
        if hours > scenario.n_hours:
            raise InputError(f"episode_hours={hours} is longer than scenario {scenario.name!r} ({scenario.n_hours} hours)")
        if "start" in options:
            start = options["start"]
            if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
                raise InputError(f"reset option 'start' must be a whole hour index, got {start!r}")
            start = int(start)
            if not 0 <= start <= scenario.n_hours - hours:
                raise InputError(f"start hour {start} leaves no room for a {hours}-hour episode in {scenario.n_hours} hours")
        elif self.random_start:
            start = int(self.np_random.integers(0, scenario.n_hours - hours + 1))
        else:
            start = 0
        self._begin(scenario, start, hours)
        return self._observe(), {"hour": start, "start": start}

    def _refuse_knobs(self, scenario: Scenario) -> None:
        if scenario.flexible and not self.handles_knobs:
            raise InputError(
                f"scenario {scenario.name!r} has deferrable jobs or a model choice: play it in "
                "eglb.envs.flex_env.FlexGLBEnv (GLBEnv would ignore them)"
            )

    def _begin(self, scenario: Scenario, start: int, hours: int) -> None:
        self.scenario = scenario
        self.decoder = self._decoder_for(scenario)
        self.router = self.decoder.router
        self.start = start
        self.hours = hours
        self.hour = start
        window = slice(start, start + hours)
        # Hour-major copies: a step reads one contiguous row of each.
        self._price = np.ascontiguousarray(scenario.price[:, window].T)  # [H, N]
        self._intensity = np.ascontiguousarray(scenario.intensity[:, :, window].transpose(2, 0, 1))  # [H, 2, N]
        self._episode_observer = EpisodeObserver(self._observer, scenario, start, hours, self.np_random)
        self._weights = scenario.footprint_weights
        self.state = FootprintState.zeros(self.n_regions)
        self._objective = 0.0
        self._step = 0
        self._last_info: dict | None = None

    def _decoder_for(self, scenario: Scenario) -> ActionDecoder:
        cached = self._decoders.get(id(scenario))
        if cached is not None and cached[0] is scenario:
            return cached[1]
        decoder = ActionDecoder(self.action_mode, Router(scenario), self.routing_temperature)
        if len(self._decoders) > 64:
            self._decoders.clear()
        self._decoders[id(scenario)] = (scenario, decoder)
        return decoder

    def _observe(self) -> np.ndarray:
        return self._episode_observer.observe(self._step, self.state.footprint)

    # --------------------------------------------------------------------------------- step
    def step(self, action):
        self._require_running()
        routing = self.decoder.decode(self.decoder.check(action), self.hour)
        return self._advance(routing, routing.sum(axis=1))

    def _require_running(self) -> None:
        if self.state is None:
            raise gym.error.ResetNeeded(RESET_FIRST)
        if self._step >= self.hours:
            raise gym.error.ResetNeeded(EPISODE_OVER)

    def _advance(self, routing: np.ndarray, energy: np.ndarray, knob_cost: float = 0.0, knob_info: dict | None = None):
        """Play the hour: region energies ``energy`` [N] MW (the routing's, plus what the knobs of
        envs/flex_env.py add) and ``knob_cost`` USD beyond their energy cost (transfers, penalties)."""
        k = self._step
        cost = self._price[k] * energy
        footprint = self._intensity[k] * energy  # [2, N]
        energy_cost = float(cost.sum())
        state = self.state
        peak_before = state.footprint.max(axis=1)
        state.add(energy_cost + knob_cost, footprint)
        previous, self._objective = self._objective, objective(state.cost, state.footprint, self._weights)
        penalty = self._weights * (state.footprint.max(axis=1) - peak_before)
        info = {
            "hour": self.hour,
            "routing": routing,
            "energy": energy,
            "cost": cost,
            "water": footprint[0],
            "carbon": footprint[1],
            "energy_cost": energy_cost,
            "water_penalty": float(penalty[0]),
            "carbon_penalty": float(penalty[1]),
            "J": self._objective,
        }
        if knob_info:
            info.update(knob_info)
        self._last_info = info
        self._step += 1
        self.hour += 1
        terminated = self._step == self.hours
        reward = hour_reward(self._objective - previous, self.reward_scale)
        return self._observe(), reward, terminated, False, info

    # --------------------------------------------------------------------------------- render
    def render(self):
        if self.render_mode is None:
            return None
        if self.state is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        title = f"{self.scenario.name}: hour {self.hour} of {self.start}..{self.start + self.hours - 1}, J so far {self._objective:,.0f} USD"
        energy = self._last_info["energy"] if self._last_info else np.zeros(self.n_regions)
        if self.render_mode == "rgb_array":
            if self._renderer is None or self._renderer.regions != self.scenario.regions:
                from eglb.envs.render import FrameRenderer

                self._renderer = FrameRenderer(self.scenario.regions)
            capacity = self.scenario.capacity[:, min(self.hour, self.scenario.n_hours - 1)]
            return self._renderer.frame(title, energy, capacity, self._weights[:, None] * self.state.footprint)
        lines = [title]
        lines.append(f"{'region':<14}{'load MW':>9}{'water m3':>12}{'carbon t':>12}")
        for i, name in enumerate(self.scenario.regions):
            lines.append(f"{name:<14}{energy[i]:>9.3f}{self.state.water[i]:>12.1f}{self.state.carbon[i]:>12.2f}")
        return "\n".join(lines) + "\n"


class StepChecks(gym.Wrapper):
    """GLBEnv's own step checks for an environment composed of wrappers (training/envs.py puts it
    outermost): no step before reset() or after the episode ended (terminated or truncated), and an
    action of real numbers of the outer action space's shape; a wrapper underneath that acts on the
    action or reads the next hour before GLBEnv sees it (the residual duals, the robust layer, the
    shadow expert) can rely on both. ``what`` and ``meaning`` name the action in error messages."""

    def __init__(self, env: gym.Env, what: str = "action", meaning: str | None = None):
        super().__init__(env)
        space = self.action_space
        self.what, self.meaning = what, meaning or f"values in [{space.low.min():g}, {space.high.max():g}]"
        self._live: bool | None = None  # None: never reset

    def reset(self, **kwargs):
        self._live = None
        result = self.env.reset(**kwargs)
        self._live = True
        return result

    def step(self, action):
        if not self._live:
            raise gym.error.ResetNeeded(RESET_FIRST if self._live is None else EPISODE_OVER)
        action = checked_action(action, self.action_space.shape, self.what, self.meaning)
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._live = not (terminated or truncated)
        return obs, reward, terminated, truncated, info


def _scenario_picker(source) -> tuple[Callable[[np.random.Generator], Scenario], Scenario]:
    """Normalize the ``scenario`` argument into (pick(rng) -> Scenario, a reference scenario)."""
    if isinstance(source, Scenario):
        return (lambda rng: source), source
    if callable(source):
        reference = source(np.random.default_rng(0))
        if not isinstance(reference, Scenario):
            raise InputError(f"the scenario source returned {type(reference).__name__}, expected a Scenario")
        return source, reference
    try:
        scenarios = list(source)
    except TypeError:
        raise InputError(
            f"argument 'scenario' must be a Scenario, a sequence of them or a callable rng -> Scenario, got {type(source).__name__}"
        ) from None
    if not scenarios or not all(isinstance(s, Scenario) for s in scenarios):
        raise InputError("argument 'scenario' must be a non-empty sequence of Scenario objects")
    shapes = {(s.n_regions, s.n_gateways) for s in scenarios}
    if len(shapes) > 1:
        raise InputError(f"all scenarios of an environment need the same regions x gateways, got {sorted(shapes)}")
    if len(scenarios) == 1:
        return _scenario_picker(scenarios[0])
    return (lambda rng: scenarios[int(rng.integers(len(scenarios)))]), scenarios[0]
