"""Learned policies at inference: the policy card of a run folder, its weights, and acting through the env.

A run folder written by training holds ``policy.json`` (the *policy card*: how the policy observes and
acts, and its network's architecture, stamped with a format and package version) and the weights
``best_policy.pt`` (best on the held-out traces) and ``policy.pt`` (latest), plain torch state dicts
loaded with ``weights_only=True``. Nothing in a run folder is unpickled: loading a policy runs no code
from the folder. :func:`load_predictor` rebuilds the network from the card and loads the weights.

Runs trained with the robustification layer inside the environment are composed with their layer by
``eglb.robust.learned``; this module knows nothing of the layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.actions import ACTION_MODES, ActionDecoder
from eglb.envs.artifacts import check_stamp, stamp
from eglb.envs.errors import InputError, existing_folder
from eglb.envs.files import atomic_write_json, load_tensors, read_json
from eglb.envs.limits import (
    MAX_GATEWAYS,
    MAX_JOB_SLOTS,
    MAX_MODELS,
    MAX_OBSERVATION,
    MAX_REGIONS,
    check_parameters,
    check_size,
    check_widths,
    mlp_parameters,
)
from eglb.envs.observation import EpisodeObserver, ObservationBuilder, ObservationScale
from eglb.envs.scenario import Scenario

CARD_FILE = "policy.json"
CARD_FORMAT = "eglb-policy"
CARD_VERSION = 1
#: Weight files of a run folder, in order of preference.
WEIGHT_FILES = ("best_policy.pt", "policy.pt")


@dataclass(frozen=True)
class PolicyIO:
    """How a learned policy observes and acts; fixed when training starts.

    Attributes:
        action_mode: "routing" or "dual" (see envs.actions).
        residual: actions correct the eGLB expert's duals (agents/residual.py).
        forecast_hours, forecast_noise: the forecast window of the observation.
        routing_temperature: softmax temperature of the ``routing`` mode.
        observation_scale: divisors of the observation (envs.observation.ObservationScale).
        shape: (regions, gateways) the policy was trained for.
        robust: the layer trained inside the environment, {"lam", "b", "slack"}, or None.
        forecaster: the forecaster of the forecast window (forecasts/spec.py), empty for the noisy truth.
        knobs: trained on :class:`eglb.envs.flex_env.FlexGLBEnv`: {"job_slots": Q, "models": K}; the
            observation and action are that environment's (agents/knob_learned.py); None: GLBEnv's.
    """

    observation_scale: ObservationScale
    shape: tuple[int, int]
    action_mode: str = "dual"
    residual: bool = False
    forecast_hours: int = 0
    forecast_noise: float = 0.0
    routing_temperature: float = 5.0
    robust: dict | None = field(default=None)
    forecaster: str = ""
    knobs: dict | None = field(default=None)

    def extra_features(self) -> int:
        """Observation entries appended to the environment's: the expert's duals (residual) or the layer's features."""
        n = self.shape[0]
        return 2 * n if self.residual else (3 * n + 1 if self.robust else 0)

    def observation_size(self) -> int:
        builder = ObservationBuilder(
            self.shape[0], self.shape[1], self.observation_scale, self.forecast_hours, self.forecast_noise
        )
        return builder.size + self.knob_features() + self.extra_features()

    def knob_features(self) -> int:
        """Observation entries of the job slots and the accuracy gap (envs/flex_env.py; 0 without knobs)."""
        from eglb.envs.flex_env import GLOBAL_FEATURES, SLOT_FEATURES

        return 0 if self.knobs is None else self.knobs["job_slots"] * SLOT_FEATURES + GLOBAL_FEATURES

    def action_size(self) -> int:
        """Entries of the policy's action: the routing part, then the knobs' part (envs/flex_env.py)."""
        n, j = self.shape
        base = 2 * n if self.action_mode == "dual" else n * j
        if self.knobs is None:
            return base
        q, k = self.knobs["job_slots"], self.knobs["models"]
        return base + q + (k * n if self.action_mode == "routing" else (1 if k else 0))


@dataclass(frozen=True)
class PolicyCard:
    """What a run folder says about its policy (``policy.json``).

    Attributes:
        algo: the training algorithm's name (e.g. "ppo", "bc").
        network: the architecture: {"kind": "dual-mlp", ...} or {"kind": "sb3", ...}.
        io: how the policy observes and acts.
    """

    algo: str
    network: dict
    io: PolicyIO

    def to_dict(self) -> dict:
        io = asdict(self.io)
        io["shape"] = list(self.io.shape)
        if self.io.knobs is None:  # a card without knobs is the card it always was
            del io["knobs"]
        return {**stamp(CARD_FORMAT, CARD_VERSION), "algo": self.algo, "network": self.network, "io": io}

    def save(self, folder: Path) -> Path:
        return atomic_write_json(Path(folder) / CARD_FILE, self.to_dict())

    @classmethod
    def from_dict(cls, values: object, path: Path | str) -> PolicyCard:
        values = check_stamp(values, CARD_FORMAT, CARD_VERSION, path)
        try:
            io = dict(values["io"])
            io["observation_scale"] = ObservationScale.from_dict(io["observation_scale"])
            shape = io["shape"]
            if not isinstance(shape, (list, tuple)) or len(shape) != 2:
                raise InputError(f"io.shape must be [regions, gateways], got {shape!r}")
            io["shape"] = (
                check_size(shape[0], "io.shape[0] (regions)", MAX_REGIONS),
                check_size(shape[1], "io.shape[1] (gateways)", MAX_GATEWAYS),
            )
            io["forecast_hours"] = check_size(io.get("forecast_hours", 0), "io.forecast_hours", 168, low=0)
            if io.get("knobs") is not None:
                knobs = dict(io["knobs"])
                if set(knobs) != {"job_slots", "models"}:
                    raise InputError(f"io.knobs must hold job_slots and models, got {sorted(knobs)}")
                io["knobs"] = {
                    "job_slots": check_size(knobs["job_slots"], "io.knobs.job_slots", MAX_JOB_SLOTS, low=0),
                    "models": check_size(knobs["models"], "io.knobs.models", MAX_MODELS, low=0),
                }
            card = cls(algo=str(values["algo"]), network=dict(values["network"]), io=PolicyIO(**io))
        except (KeyError, TypeError, ValueError, InputError) as exc:
            raise InputError(f"{path} is not a valid policy card: {exc}") from None
        _check_io(card.io, path)
        _check_network(card, path)
        return card

    @classmethod
    def load(cls, folder: Path | str) -> PolicyCard:
        folder = existing_folder(folder, "run folder")
        path = folder / CARD_FILE
        if not path.is_file():
            raise InputError(f"{folder} is not a run folder with a trained policy: it has no {CARD_FILE}")
        return cls.from_dict(read_json(path, "policy card"), path)


def _check_network(card: PolicyCard, path) -> None:
    """The network's sizes: bounded (envs/limits.py) and matching the io, before anything is built."""
    network, io = card.network, card.io
    try:
        size = check_size(network.get("observation_size"), "network.observation_size", MAX_OBSERVATION)
        if size != io.observation_size():
            raise InputError(f"the network takes {size} inputs but the observation settings in io give {io.observation_size()}")
        outputs = io.action_size()
        kind = network.get("kind")
        if kind == "dual-mlp":
            if io.action_mode != "dual" or network.get("n_regions") != io.shape[0] or io.knobs is not None:
                raise InputError(
                    f"a dual-mlp network acts on the dual prices of io.shape[0] = {io.shape[0]} regions, got {network!r}"
                )
            hidden = check_widths(network.get("hidden"), "network.hidden")
            check_parameters(mlp_parameters((size, *hidden, outputs)), "the network")
        elif kind == "sb3":
            from eglb.agents.sb3_policy import check_sizes

            check_sizes(network, outputs)
        else:
            raise InputError(f"unknown network kind {kind!r} (expected dual-mlp or sb3)")
    except InputError as exc:
        raise InputError(f"{path} is not a valid policy card: {exc}") from None


def _check_io(io: PolicyIO, path) -> None:
    if io.action_mode not in ACTION_MODES or io.action_mode == "share":
        raise InputError(f"{path}: io.action_mode must be 'routing' or 'dual', got {io.action_mode!r}")
    if io.robust is not None and not {"lam", "b", "slack"} <= set(io.robust):
        raise InputError(f"{path}: io.robust must hold lam, b and slack, got {io.robust!r}")


class LearnedPolicy(Policy):
    """Observes as in training, asks ``predict(obs) -> action`` and decodes the action to a routing.

    Args:
        predict: maps an observation (float32 [D]) to an action of ``io.action_mode``; it may have a
            ``reset()`` method (recurrent policies), called at the start of every episode.
        io: how the policy observes and acts.
        name: the label in tables. seed: seed of the forecast noise, if any.

    A scenario in other units than the policy's observation scale is refused at reset
    (:meth:`ObservationScale.check_units`). An action with a NaN or infinite entry (a network that
    overflowed) is played as the action mode documents it (envs/actions.py: a NaN dual counts as 0,
    an infinite one as the bound), but never silently: ``nonfinite_actions`` counts the hours of the
    episode where it happened, and :meth:`summary` puts the count in the results rows.
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], io: PolicyIO, name: str, seed: int = 0):
        super().__init__()
        if io.knobs is not None:
            raise InputError(
                f"policy {name!r} acts through FlexGLBEnv (io.knobs): build it with eglb.robust.learned.learned_policy"
            )
        self.extra_features: Callable[[], np.ndarray] | None = None  # appended to observations (residual, robust-aware)
        self.predict = predict
        self.io = io
        self.shape = tuple(io.shape)
        from eglb.forecasts.spec import forecaster_from_spec

        self.builder = ObservationBuilder(
            io.shape[0],
            io.shape[1],
            io.observation_scale,
            io.forecast_hours,
            io.forecast_noise,
            forecaster_from_spec(io.forecaster),
        )
        self.name = name
        self.seed = seed

    @property
    def information(self) -> str:
        return information(self.io, self.builder.forecaster)

    def reset(self, scenario: Scenario) -> None:
        if (scenario.n_regions, scenario.n_gateways) != self.shape:
            raise InputError(
                f"policy {self.name!r} was trained for {self.shape[0]} regions x {self.shape[1]} gateways; "
                f"scenario {scenario.name!r} has {scenario.n_regions} x {scenario.n_gateways}"
            )
        self.io.observation_scale.check_units(scenario, f"policy {self.name!r}")
        super().reset(scenario)
        self.nonfinite_actions = 0
        self.observer = EpisodeObserver(self.builder, scenario, 0, scenario.n_hours, np.random.default_rng(self.seed))
        self.decoder = ActionDecoder(self.io.action_mode, self.router, self.io.routing_temperature)
        if hasattr(self.predict, "reset"):
            self.predict.reset()

    def observe(self, view: HourView) -> np.ndarray:
        """The observation the policy sees at ``view.t``."""
        obs = self.observer.observe(view.t, view.state.footprint)
        return obs if self.extra_features is None else np.concatenate([obs, self.extra_features()])

    def action(self, view: HourView) -> np.ndarray:
        """The predictor's action for hour ``view.t``, counted in ``nonfinite_actions`` if it holds NaN or infinity."""
        action = self.predict(self.observe(view))
        try:
            finite = bool(np.isfinite(np.asarray(action, dtype=float)).all())
        except (TypeError, ValueError):  # not numbers at all: the decoder says what was expected
            finite = True
        self.nonfinite_actions += not finite
        return action

    def act(self, view: HourView) -> np.ndarray:
        return self.decoder.decode(self.action(view), view.t)

    def summary(self) -> dict:
        """For the results rows: hours of the episode whose action held NaN or infinity."""
        return {"nonfinite_actions": self.nonfinite_actions}


def information(io: PolicyIO, forecaster) -> str:
    """What a learned policy knows (tables' information column): its observation's forecast window,
    "present only" without one (the default noisy truth is an oracle)."""
    if not io.forecast_hours:
        return "present only"
    return f"{forecaster.information}, {io.forecast_hours} h window"


def policy_from_predictor(predict: Callable[[np.ndarray], np.ndarray], io: PolicyIO, name: str, seed: int = 0) -> Policy:
    """The policy of a trained predictor: plain, or its corrections around the eGLB expert (residual runs)."""
    policy = LearnedPolicy(predict, io, name, seed)
    if io.residual:
        from eglb.agents.residual import ResidualPolicy

        return ResidualPolicy(policy, name)
    return policy


def weights_path(folder: Path | str, which: str = "best") -> Path:
    """The best weights of a run if periodic evaluation saved them ("best"), else the latest ("latest")."""
    folder = Path(folder)
    names = WEIGHT_FILES if which == "best" else WEIGHT_FILES[1:]
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"run folder {folder} has no trained weights yet ({' or '.join(names)})")


def load_predictor(card: PolicyCard, path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """Rebuild the card's network and load its weights (a torch state dict, ``weights_only=True``)."""
    state = load_tensors(path)
    if not isinstance(state, dict):
        raise InputError(f"{path} does not hold a state dict of weights")
    if card.network["kind"] == "dual-mlp":  # the card's sizes were checked on load (_check_network)
        from eglb.agents.dual_network import DualNetwork, NetworkPredictor

        spec = card.network
        network = DualNetwork(int(spec["observation_size"]), int(spec["n_regions"]), tuple(int(h) for h in spec["hidden"]))
        _load_state(network, state, path)
        return NetworkPredictor(network)
    from eglb.agents.sb3_policy import Sb3Predictor, build_policy

    policy = build_policy(card.network, path.parent / CARD_FILE)
    _load_state(policy, state, path)
    policy.set_training_mode(False)
    return Sb3Predictor(policy)


def _load_state(module, state: dict, path: Path) -> None:
    try:
        module.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as exc:
        raise InputError(f"weights in {path} do not fit the network of its policy card: {str(exc).splitlines()[0]}") from None
