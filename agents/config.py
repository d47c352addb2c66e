"""Training configuration: typed, frozen, read from YAML hyperparameter files, saved with every run.

Hyperparameters live in ``agents/hyperparams/<algo>.yml`` (rl-baselines3-zoo style): a ``default``
block and per-scenario blocks (``synthetic``, ``eglb2022``, ``traces``) deep-merged over it;
command-line options win over both (``--timesteps``, ``--n-envs``, ``--set model.learning_rate=1e-4``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import yaml

from envs.actions import ACTION_MODES
from envs.errors import InputError
from envs.observation import ObservationScale

HYPERPARAMS = Path(__file__).with_name("hyperparams")
ALGOS = ("ppo", "sac", "td3", "a2c", "recurrent-ppo", "bc")
REWARDS = ("J", "vs-expert")


@dataclass(frozen=True)
class EnvConfig:
    """How the training environment is built (and how the trained policy observes and acts).

    Attributes:
        action_mode: "routing", "dual" or "share" (see envs.actions).
        episode_hours: length of a training episode.
        forecast_hours, forecast_noise: forecast window in the observation.
        reward: "J" (minus the hour's increase of J) or "vs-expert" (that minus the same for the
            eGLB expert run in a shadow copy on the same hours: the return becomes J(eGLB) - J,
            the same objective up to a constant per episode, with far less variance).
        reward_scale: multiplies the reward.
        routing_temperature: softmax temperature of the routing mode.
        residual: actions correct the eGLB expert's dual prices instead of setting them (``dual``
            mode only; see agents/residual.py): an untrained policy is the expert.
    """

    action_mode: str = "dual"
    episode_hours: int = 168
    forecast_hours: int = 0
    forecast_noise: float = 0.0
    reward: str = "vs-expert"
    reward_scale: float = 1e-3
    routing_temperature: float = 5.0
    residual: bool = False

    def __post_init__(self):
        if self.action_mode not in ACTION_MODES:
            raise InputError(f"env.action_mode must be one of {', '.join(ACTION_MODES)}, got {self.action_mode!r}")
        if self.reward not in REWARDS:
            raise InputError(f"env.reward must be one of {', '.join(REWARDS)}, got {self.reward!r}")
        if self.residual and self.action_mode != "dual":
            raise InputError("env.residual corrects the expert's dual prices: it needs env.action_mode 'dual'")
        if int(self.episode_hours) != self.episode_hours or self.episode_hours < 2:
            raise InputError(f"env.episode_hours must be an integer >= 2, got {self.episode_hours}")


@dataclass(frozen=True)
class RobustConfig:
    """Robustification-aware training: the layer inside the environment (robust/wrapper.py).

    Attributes:
        lam: the budget lambda. b: the slack constant. slack: "const", "sqrt" or "linear".
    """

    lam: float = 0.1
    b: float = 0.0
    slack: str = "const"


@dataclass(frozen=True)
class DataConfig:
    """Where training and evaluation traces come from.

    Attributes:
        traces: a folder (published layout or CSV format); None trains on synthetic traces (every
            episode a new seed above the held-out range).
        setting: "full" or "partial" mask.
        train_hours: (start, end) hours of the traces used for training windows.
        eval_hours: (start, end) hours of the traces held out for evaluation (never trained on).
        eval_seeds: held-out synthetic seeds for evaluation (below envs.synthetic.HELD_OUT_SEEDS).
        eval_synthetic_hours: length of each held-out synthetic evaluation trace.
    """

    traces: str | None = None
    setting: str = "full"
    train_hours: tuple[int, int] | None = None
    eval_hours: tuple[int, int] | None = None
    eval_seeds: tuple[int, ...] = (0, 1, 2)
    eval_synthetic_hours: int = 168


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; saved as ``config.yaml`` in the run folder.

    Attributes:
        algo: one of ALGOS. seed: seed of every random choice. timesteps: environment steps to
        train for. n_envs: parallel environments (subprocesses when > 1). eval_freq: environment
        steps between evaluations. env, data: see EnvConfig and DataConfig. model: algorithm
        hyperparameters (SB3 keyword arguments, or the imitation settings). observation_scale:
        fixed at the start of training from a reference scenario. scenario_shape: (regions,
        gateways) of the training scenarios. robust: the layer inside the training environment
        (None: plain training). command: the command line.
    """

    algo: str
    seed: int = 0
    timesteps: int = 100_000
    n_envs: int = 2
    eval_freq: int = 10_000
    env: EnvConfig = field(default_factory=EnvConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: dict = field(default_factory=dict)
    observation_scale: ObservationScale | None = None
    scenario_shape: tuple[int, int] | None = None
    robust: RobustConfig | None = None
    command: str = ""

    def to_dict(self) -> dict:
        out = asdict(self)
        out["data"]["train_hours"] = list(self.data.train_hours) if self.data.train_hours else None
        out["data"]["eval_hours"] = list(self.data.eval_hours) if self.data.eval_hours else None
        out["data"]["eval_seeds"] = list(self.data.eval_seeds)
        out["scenario_shape"] = list(self.scenario_shape) if self.scenario_shape else None
        return out

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        try:
            values = dict(values)
            values["env"] = EnvConfig(**values.get("env", {}))
            data = dict(values.get("data", {}))
            for key in ("train_hours", "eval_hours"):
                data[key] = tuple(data[key]) if data.get(key) else None
            data["eval_seeds"] = tuple(data.get("eval_seeds", (0, 1, 2)))
            values["data"] = DataConfig(**data)
            if values.get("robust") is not None:
                values["robust"] = RobustConfig(**values["robust"])
            if values.get("scenario_shape") is not None:
                values["scenario_shape"] = tuple(int(v) for v in values["scenario_shape"])
            if values.get("observation_scale") is not None:
                values["observation_scale"] = ObservationScale.from_dict(values["observation_scale"])
            return cls(**values)
        except TypeError as exc:
            raise InputError(f"run configuration: {exc}") from None

    def for_scenario(self, reference) -> RunConfig:
        """Fix the observation scale and the shape from a reference scenario (at training start)."""
        return replace(self, observation_scale=ObservationScale.from_scenario(reference),
                       scenario_shape=(reference.n_regions, reference.n_gateways))


def deep_merge(base: dict, update: dict) -> dict:
    """``base`` with ``update`` merged in, recursively for nested dicts."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_hyperparams(algo: str, scenario_key: str) -> dict:
    """The ``default`` block of ``<algo>.yml`` with the ``scenario_key`` block merged over it."""
    if algo not in ALGOS:
        raise InputError(f"--algo must be one of {', '.join(ALGOS)}, got {algo!r}")
    path = HYPERPARAMS / f"{algo}.yml"
    blocks = yaml.safe_load(path.read_text()) or {}
    return deep_merge(blocks.get("default", {}), blocks.get(scenario_key, {}) or {})


def apply_sets(values: dict, assignments: list[str]) -> dict:
    """Apply ``key.sub=value`` assignments (values parsed as YAML, so numbers and lists work)."""
    out = values
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set expects KEY=VALUE (e.g. model.learning_rate=1e-4), got {assignment!r}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"--set {assignment!r}: the value is not valid YAML ({exc.problem})") from None
        if isinstance(value, str):
            try:  # YAML 1.1 reads 1e-4 as text; users mean a number
                value = float(value)
            except ValueError:
                pass
        nested: dict = value
        for part in reversed(key.strip().split(".")):
            nested = {part: nested}
        out = deep_merge(out, nested)
    return out


def known_keys() -> set[str]:
    """Top-level keys a hyperparameter block may hold."""
    return {f.name for f in fields(RunConfig)} - {"algo", "command", "observation_scale", "data", "seed", "robust", "scenario_shape"}
