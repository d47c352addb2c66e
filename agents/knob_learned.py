"""A policy that acts through :class:`eglb.envs.flex_env.FlexGLBEnv`'s actions: learned policies on scenarios with knobs.

A model trained on ``GLB-Flex-v0`` (e.g. with Stable-Baselines3) maps the environment's observation
to an action; :class:`FlexActionPolicy` turns it into an online :class:`eglb.agents.base.Policy`: each
hour it puts its own copy of the environment at the hour's state (:meth:`FlexGLBEnv.sync`), asks the
model, and returns the decision the action stands for (:meth:`FlexGLBEnv.decide`). So it plays
through ``eglb.agents.rollout`` and inside the robustification layer like any policy, seeing what
the environment shows even when the layer changed the past.

:func:`knob_policy` is the policy of a run trained by ``train.py --jobs/--models`` (its policy card's
``io.knobs``): the environment is rebuilt from the card, never unpickled.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.errors import InputError
from eglb.envs.flex_env import FlexGLBEnv
from eglb.envs.scenario import Scenario


class FlexActionPolicy(Policy):
    """Acts with ``predict(observation) -> action`` through a FlexGLBEnv built by ``make_env(scenario)``.

    Args:
        predict: the model, observation (float32 [D]) -> action (the environment's action space).
        make_env: builds the environment the model was trained in, for a scenario (same action mode,
            job slots and observation scale).
        name: the label in tables.
    """

    def __init__(
        self, predict: Callable[[np.ndarray], np.ndarray], make_env: Callable[[Scenario], FlexGLBEnv], name: str = "learned"
    ):
        super().__init__()
        self.predict = predict
        self.make_env = make_env
        self.name = name
        self.seed = 0  # of the observation's forecast noise, if any
        self.extra_features: Callable[[], np.ndarray] | None = None  # appended to observations (robust-aware runs)

    def reset(self, scenario: Scenario) -> None:
        super().reset(scenario)
        self.env = self.make_env(scenario)
        self.env.reset(seed=self.seed, options={"scenario": scenario, "start": 0})
        self.nonfinite_actions = 0
        if hasattr(self.predict, "reset"):
            self.predict.reset()

    def act(self, view: HourView):
        # A scenario without knobs plays through GLBEnv's loop (no job progress): the queue stays empty.
        knobs = view.knobs if view.knobs is not None else self.env.knobs
        observation = self.env.sync(view.t, view.state, knobs)
        if self.extra_features is not None:  # the robust layer's features (robust/learned.py)
            observation = np.concatenate([observation, self.extra_features()])
        action = self.predict(observation)
        try:
            self.nonfinite_actions += not bool(np.isfinite(np.asarray(action, dtype=float)).all())
        except (TypeError, ValueError):  # not numbers at all: the environment says what was expected
            pass
        decision = self.env.decide(action)
        return decision if view.knobs is not None else decision.routing

    def summary(self) -> dict:
        """For the results rows: hours of the episode whose action held NaN or infinity."""
        return {"nonfinite_actions": self.nonfinite_actions}


def knob_policy(predict: Callable[[np.ndarray], np.ndarray], io, name: str, seed: int = 0) -> FlexActionPolicy:
    """The policy of a predictor trained on FlexGLBEnv with the settings of ``io`` (an
    :class:`eglb.agents.learned.PolicyIO` with ``knobs``); a scenario of another shape, other units
    or another number of models than it was trained for is refused at reset."""
    from eglb.forecasts.spec import forecaster_from_spec

    def make_env(scenario: Scenario) -> FlexGLBEnv:
        if (scenario.n_regions, scenario.n_gateways) != tuple(io.shape):
            raise InputError(
                f"policy {name!r} was trained for {io.shape[0]} regions x {io.shape[1]} gateways; "
                f"scenario {scenario.name!r} has {scenario.n_regions} x {scenario.n_gateways}"
            )
        io.observation_scale.check_units(scenario, f"policy {name!r}")
        models = 0 if scenario.models is None else scenario.models.count
        if models != io.knobs["models"]:
            raise InputError(
                f"policy {name!r} was trained with a choice of {io.knobs['models']} models (--models); "
                f"scenario {scenario.name!r} has {models}"
            )
        return FlexGLBEnv(
            scenario,
            action_mode=io.action_mode,
            job_slots=io.knobs["job_slots"],
            forecast_hours=io.forecast_hours,
            forecast_noise=io.forecast_noise,
            forecaster=forecaster_from_spec(io.forecaster),
            observation_scale=io.observation_scale,
            routing_temperature=io.routing_temperature,
        )

    from eglb.agents.learned import information

    policy = FlexActionPolicy(predict, make_env, name)
    policy.seed = seed
    policy.information = information(io, forecaster_from_spec(io.forecaster))
    return policy
