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

import json
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from eglb.agents.base import HourView, Policy
from eglb.envs.actions import ACTION_MODES, ActionDecoder
from eglb.envs.artifacts import check_stamp, stamp
from eglb.envs.errors import InputError, existing_folder
from eglb.envs.files import atomic_write_json
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

    def extra_features(self) -> int:
        """Observation entries appended to the environment's: the expert's duals (residual) or the layer's features."""
        n = self.shape[0]
        return 2 * n if self.residual else (3 * n + 1 if self.robust else 0)

    def observation_size(self) -> int:
        builder = ObservationBuilder(
            self.shape[0], self.shape[1], self.observation_scale, self.forecast_hours, self.forecast_noise
        )
        return builder.size + self.extra_features()


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
        return {**stamp(CARD_FORMAT, CARD_VERSION), "algo": self.algo, "network": self.network, "io": io}

    def save(self, folder: Path) -> Path:
        return atomic_write_json(Path(folder) / CARD_FILE, self.to_dict())

    @classmethod
    def from_dict(cls, values: object, path: Path | str) -> PolicyCard:
        values = check_stamp(values, CARD_FORMAT, CARD_VERSION, path)
        try:
            io = dict(values["io"])
            io["observation_scale"] = ObservationScale.from_dict(io["observation_scale"])
            io["shape"] = tuple(int(v) for v in io["shape"])
            card = cls(algo=str(values["algo"]), network=dict(values["network"]), io=PolicyIO(**io))
        except (KeyError, TypeError, ValueError, InputError) as exc:
            raise InputError(f"{path} is not a valid policy card: {exc}") from None
        _check_io(card.io, path)
        return card

    @classmethod
    def load(cls, folder: Path | str) -> PolicyCard:
        folder = existing_folder(folder, "run folder")
        path = folder / CARD_FILE
        if not path.is_file():
            raise InputError(f"{folder} is not a run folder with a trained policy: it has no {CARD_FILE}")
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path} is not valid JSON: {exc}") from None
        return cls.from_dict(values, path)


def _check_io(io: PolicyIO, path) -> None:
    if io.action_mode not in ACTION_MODES or io.action_mode == "share":
        raise InputError(f"{path}: io.action_mode must be 'routing' or 'dual', got {io.action_mode!r}")
    if len(io.shape) != 2 or min(io.shape) < 1:
        raise InputError(f"{path}: io.shape must be [regions, gateways], got {list(io.shape)}")
    if io.robust is not None and not {"lam", "b", "slack"} <= set(io.robust):
        raise InputError(f"{path}: io.robust must hold lam, b and slack, got {io.robust!r}")


class LearnedPolicy(Policy):
    """Observes as in training, asks ``predict(obs) -> action`` and decodes the action to a routing.

    Args:
        predict: maps an observation (float32 [D]) to an action of ``io.action_mode``; it may have a
            ``reset()`` method (recurrent policies), called at the start of every episode.
        io: how the policy observes and acts.
        name: the label in tables. seed: seed of the forecast noise, if any.
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], io: PolicyIO, name: str, seed: int = 0):
        super().__init__()
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
        """The observation's forecast window: "present only" without one (the default noisy truth is an oracle)."""
        if not self.io.forecast_hours:
            return "present only"
        return f"{self.builder.forecaster.information}, {self.io.forecast_hours} h window"

    def reset(self, scenario: Scenario) -> None:
        if (scenario.n_regions, scenario.n_gateways) != self.shape:
            raise InputError(
                f"policy {self.name!r} was trained for {self.shape[0]} regions x {self.shape[1]} gateways; "
                f"scenario {scenario.name!r} has {scenario.n_regions} x {scenario.n_gateways}"
            )
        super().reset(scenario)
        self.observer = EpisodeObserver(self.builder, scenario, 0, scenario.n_hours, np.random.default_rng(self.seed))
        self.decoder = ActionDecoder(self.io.action_mode, self.router, self.io.routing_temperature)
        if hasattr(self.predict, "reset"):
            self.predict.reset()

    def observe(self, view: HourView) -> np.ndarray:
        """The observation the policy sees at ``view.t``."""
        obs = self.observer.observe(view.t, view.state.footprint)
        return obs if self.extra_features is None else np.concatenate([obs, self.extra_features()])

    def act(self, view: HourView) -> np.ndarray:
        return self.decoder.decode(self.predict(self.observe(view)), view.t)


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


def load_tensors(path: Path, what: str = "weights"):
    """A torch file of tensors, state dicts and plain values, loaded with ``weights_only=True``: a file
    that holds anything else (a pickled object that would run code) is refused, as is a corrupt one."""
    import torch

    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols before refusing them
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds on a corrupt or foreign file
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read {what} from {path}: {message}") from None


def load_predictor(card: PolicyCard, path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """Rebuild the card's network and load its weights (a torch state dict, ``weights_only=True``)."""
    state = load_tensors(path)
    if not isinstance(state, dict):
        raise InputError(f"{path} does not hold a state dict of weights")
    kind = card.network.get("kind")
    expected = card.io.observation_size()
    if card.network.get("observation_size") != expected:
        raise InputError(
            f"policy card of {path.parent}: the network takes {card.network.get('observation_size')} inputs but the "
            f"observation settings give {expected}"
        )
    if kind == "dual-mlp":
        from eglb.agents.dual_network import DualNetwork, NetworkPredictor

        try:
            network = DualNetwork(
                int(card.network["observation_size"]),
                int(card.network["n_regions"]),
                tuple(int(h) for h in card.network["hidden"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"policy card of {path.parent}: bad dual-mlp network {card.network!r} ({exc})") from None
        _load_state(network, state, path)
        return NetworkPredictor(network)
    if kind == "sb3":
        from eglb.agents.sb3_policy import Sb3Predictor, build_policy

        policy = build_policy(card.network, path.parent / CARD_FILE)
        _load_state(policy, state, path)
        policy.set_training_mode(False)
        return Sb3Predictor(policy)
    raise InputError(f"policy card of {path.parent}: unknown network kind {kind!r} (expected dual-mlp or sb3)")


def _load_state(module, state: dict, path: Path) -> None:
    try:
        module.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as exc:
        raise InputError(f"weights in {path} do not fit the network of its policy card: {str(exc).splitlines()[0]}") from None
