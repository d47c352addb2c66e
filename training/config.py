"""Training configuration: typed, frozen, validated, read from hyperparameter files, saved with every run.

Hyperparameters live in ``training/hyperparams/<algo>.yml`` (rl-baselines3-zoo style): a ``default``
block and per-scenario blocks (``synthetic``, ``eglb2022``, ``traces``) deep-merged over it; command-
line options win over both (``--timesteps``, ``--n-envs``, ``--set model.learning_rate=1e-4``). Every
value is checked against its field's type and range, whichever way it came in (file, ``--set``, a
run folder's ``config.yaml``), and an unknown key is an error that lists the known ones.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import yaml
from eglb.envs.artifacts import check_stamp, stamp
from eglb.envs.errors import InputError
from eglb.envs.limits import (
    MAX_GATEWAYS,
    MAX_JOB_SLOTS,
    MAX_LAYER_WIDTH,
    MAX_LAYERS,
    MAX_MODELS,
    MAX_REGIONS,
    MAX_ROWS,
    MAX_STEPS,
    check_size,
    check_widths,
)
from eglb.envs.observation import ObservationScale
from eglb.envs.rewards import REWARDS
from eglb.envs.synthetic import SELECTION_SEEDS
from eglb.envs.validation import (
    MAX_MAGNITUDE,
    MAX_SEED,
    check_fields,
    check_hours,
    check_range,
    check_unique,
    check_value,
    describe,
    typed_fields,
)
from eglb.importers.workload import MODEL_SOURCES
from eglb.training.algorithms import algorithm

CONFIG_FORMAT = "eglb-run-config"
CONFIG_VERSION = 1
SLACK_SCHEDULES = ("const", "sqrt", "linear")
#: Evaluations per run when ``eval_freq`` is "auto" (the default): about this many points on the curve.
EVALUATIONS_PER_RUN = 20
#: Longest episode or synthetic trace accepted (ten years of hours).
MAX_HOURS = 87_600


# ----------------------------------------------------------------------------------- the blocks
@dataclass(frozen=True)
class EnvConfig:
    """How the training environment is built (and how the trained policy observes and acts).

    Attributes:
        action_mode: "routing" or "dual" (see envs.actions; "share" is for replays, not learning).
        episode_hours: length of a training episode, hours.
        forecast_hours, forecast_noise: forecast window in the observation (hours, relative noise of
            the default noisy-truth forecast).
        forecaster: the forecaster of the observation's forecast window instead of the noisy truth,
            ``NAME[:key=value,...]`` (forecasts/spec.py: perfect, noisy, persistence, seasonal,
            learned:model=FOLDER), the same forecasters RHC and AFHC use; empty for the noisy truth.
        reward: "J" or "vs-expert" (see envs/rewards.py).
        reward_scale: multiplies the reward (USD -> reward units).
        routing_temperature: softmax temperature of the routing mode.
        residual: actions correct the eGLB expert's dual prices instead of setting them (``dual``
            mode only; see agents/residual.py): an untrained policy is the expert.
    """

    action_mode: str = "dual"
    episode_hours: int = 168
    forecast_hours: int = 0
    forecast_noise: float = 0.0
    forecaster: str = ""
    reward: str = "vs-expert"
    reward_scale: float = 1e-3
    routing_temperature: float = 5.0
    residual: bool = False

    def __post_init__(self):
        check_fields(self, "env.")
        if self.action_mode not in ("routing", "dual"):
            raise InputError(f"env.action_mode must be one of routing, dual, got {self.action_mode!r}")
        if self.reward not in REWARDS:
            raise InputError(f"env.reward must be one of {', '.join(REWARDS)}, got {self.reward!r}")
        if self.residual and self.action_mode != "dual":
            raise InputError("env.residual corrects the expert's dual prices: it needs env.action_mode 'dual'")
        check_range("env.episode_hours", self.episode_hours, 2, MAX_HOURS)
        check_range("env.forecast_hours", self.forecast_hours, 0, 168)
        check_range("env.forecast_noise", self.forecast_noise, 0, 10)
        if self.forecaster:
            from eglb.forecasts.spec import forecaster_from_spec

            if self.forecast_noise:
                raise InputError(
                    "env.forecaster and env.forecast_noise exclude each other: the noise belongs to the default forecast"
                )
            forecaster_from_spec(self.forecaster)  # a bad spec fails now
        check_range("env.reward_scale", self.reward_scale, 0, 1e6, low_open=True)
        check_range("env.routing_temperature", self.routing_temperature, 0, 1000, low_open=True)


@dataclass(frozen=True)
class RobustConfig:
    """Robustification-aware training: the layer inside the environment (robust/wrapper.py).

    Attributes:
        lam: the budget lambda (>= 0). b: the slack constant, USD (>= 0). slack: "const", "sqrt" or "linear".
    """

    lam: float = 0.1
    b: float = 0.0
    slack: str = "const"

    def __post_init__(self):
        check_fields(self, "robust.")
        check_range("robust.lam", self.lam, 0, MAX_MAGNITUDE)
        check_range("robust.b", self.b, 0, MAX_MAGNITUDE)
        if self.slack not in SLACK_SCHEDULES:
            raise InputError(f"robust.slack must be one of {', '.join(SLACK_SCHEDULES)}, got {self.slack!r}")


@dataclass(frozen=True)
class KnobConfig:
    """Deferrable jobs and model choice in the training and held-out scenarios (docs/model/flexibility.md):
    the environment is then :class:`eglb.envs.flex_env.FlexGLBEnv`.

    Attributes:
        jobs: "stream[:share=...,seed=...]" or a job list CSV, as ``--jobs`` (envs/knob_specs.py), or None.
        models: "PRESET:target=..." as ``--models``, or None.
        job_slots: Q, the pending jobs the observation and action show, fixed at training start
            (training/envs.py :func:`knob_shape`: FlexGLBEnv's default on the training source, the
            most jobs pending at once in the first synthetic episode or in the whole training hours
            of a trace; 0 without jobs) unless given (``--job-slots``); None until then.
        n_models: K, the models of the choice (0 without ``models``), fixed with ``job_slots``.
    """

    jobs: str | None = None
    models: str | None = None
    job_slots: int | None = None
    n_models: int | None = None

    def __post_init__(self):
        check_fields(self, "knobs.")
        if not (self.jobs or self.models):
            raise InputError("knobs: give jobs (--jobs) and/or models (--models)")
        if self.job_slots and not self.jobs:
            raise InputError(f"knobs.job_slots is {self.job_slots} without jobs (--jobs)")
        if self.job_slots is not None:
            check_range("knobs.job_slots", self.job_slots, 0, MAX_JOB_SLOTS)
        if self.n_models is not None:
            check_range("knobs.n_models", self.n_models, 0, MAX_MODELS)
        from eglb.envs.knob_specs import job_stream, model_choice

        # A bad spec fails now, not at the first episode (a job list is read with a scenario).
        if self.jobs:
            job_stream(self.jobs)
        if self.models:
            model_choice(self.models)


@dataclass(frozen=True)
class DataConfig:
    """Where training and evaluation traces come from.

    Attributes:
        traces: a folder (published layout or CSV format); None trains on synthetic traces (every
            episode a new seed above the held-out range).
        setting: "full" or "partial" mask.
        train_hours: (start, end) hours of the traces used for training windows (end -1: the last).
        eval_hours: (start, end) hours of the traces held out for evaluation (never trained on).
        eval_seeds: held-out synthetic seeds for evaluation (below envs.synthetic.HELD_OUT_SEEDS).
        eval_synthetic_hours: length of each held-out synthetic evaluation trace.
        regions, years, eval_years, eval_windows, workload: with the history folder as ``traces``:
            the regions (names, "complete14", "eglb2022" or a table), the training years (default
            2021-2022), the held-out selection years (default 2023; 2024 is for the final report
            only), how many windows of an episode's length of them evaluate the policy, and the
            gateway-load model.
        zones: with synthetic traces (``traces`` None): draw these history zones ("complete14" or
            zone names) from the history-calibrated generator (importers/synthetic.py), a new seed and
            start day per episode, with the ``workload`` model; None: the published-set generator.
    """

    traces: str | None = None
    setting: str = "full"
    train_hours: tuple[int, int] | None = None
    eval_hours: tuple[int, int] | None = None
    eval_seeds: tuple[int, ...] = SELECTION_SEEDS
    eval_synthetic_hours: int = 168
    regions: str | None = None
    years: str | None = None
    eval_years: str | None = None
    eval_windows: int = 8
    workload: str = "bloom"
    zones: str | None = None

    def __post_init__(self):
        check_fields(self, "data.")
        if self.setting not in ("full", "partial"):
            raise InputError(f"data.setting must be full or partial, got {self.setting!r}")
        check_hours("data.train_hours", self.train_hours)
        check_hours("data.eval_hours", self.eval_hours)
        if self.workload not in MODEL_SOURCES:
            raise InputError(f"data.workload must be one of {', '.join(MODEL_SOURCES)}, got {self.workload!r}")
        if not self.eval_seeds:
            raise InputError("data.eval_seeds must list at least one seed")
        check_unique("data.eval_seeds", self.eval_seeds)
        check_range("data.eval_synthetic_hours", self.eval_synthetic_hours, 1, MAX_HOURS)
        check_range("data.eval_windows", self.eval_windows, 1, 1000)


#: Most labelling processes of bc (each is a process of its own).
MAX_WORKERS = 256


@dataclass(frozen=True)
class ImitationSettings:
    """Hyperparameters of the imitation policy (the ``model`` block of ``bc.yml``).

    Attributes:
        episodes_per_iteration: training episodes rolled out per DAgger iteration.
        label_every: hours between labels within an episode.
        epochs: passes over all labels at each refit. learning_rate, batch_size, weight_decay: Adam.
        hidden: widths of the hidden layers (tanh).
        workers: processes solving the labelling LPs.
    """

    episodes_per_iteration: int = 100
    label_every: int = 8
    epochs: int = 60
    learning_rate: float = 1e-3
    batch_size: int = 256
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (256, 256)
    workers: int = 2

    def __post_init__(self):
        check_fields(self, "model.")
        for key in ("episodes_per_iteration", "label_every", "epochs", "batch_size"):
            check_range(f"model.{key}", getattr(self, key), 1, MAX_ROWS)
        check_range("model.workers", self.workers, 1, MAX_WORKERS)
        check_range("model.learning_rate", self.learning_rate, 0, 10, low_open=True)
        check_range("model.weight_decay", self.weight_decay, 0, 10)
        check_widths(self.hidden, "model.hidden")

    @classmethod
    def from_dict(cls, values: dict) -> ImitationSettings:
        return cls(**typed_fields(cls, dict(values), "model."))


# SB3 keyword arguments: ranges of the common ones (types come from the constructor's defaults).
_SB3_RANGES = {
    "learning_rate": (0, 10, True),
    "n_steps": (1, MAX_ROWS, False),
    "batch_size": (1, MAX_ROWS, False),
    "n_epochs": (1, MAX_ROWS, False),
    "gamma": (0, 1, True),
    "gae_lambda": (0, 1, False),
    "clip_range": (0, None, True),
    "vf_coef": (0, None, False),
    "max_grad_norm": (0, None, True),
    "buffer_size": (1, MAX_ROWS, False),
    "learning_starts": (0, None, False),
    "tau": (0, 1, True),
    "gradient_steps": (-1, MAX_ROWS, False),
    "policy_delay": (1, None, False),
    "target_policy_noise": (0, None, False),
    "target_noise_clip": (0, None, False),
    "action_noise_std": (0, None, False),
}
#: Our own keys understood in an SB3 model block, besides SB3's keyword arguments.
SB3_EXTRA_KEYS = {"policy": str, "action_noise_std": float, "policy_kwargs": dict}
_SB3_SKIP = {
    "self",
    "policy",
    "env",
    "seed",
    "device",
    "verbose",
    "tensorboard_log",
    "_init_setup_model",
    "action_noise",
    "replay_buffer_class",
    "replay_buffer_kwargs",
    "rollout_buffer_class",
    "rollout_buffer_kwargs",
}
POLICY_KWARGS = {
    "net_arch": list,
    "activation_fn": str,
    "log_std_init": float,
    "ortho_init": bool,
    "lstm_hidden_size": int,
    "n_lstm_layers": int,
    "shared_lstm": bool,
    "enable_critic_lstm": bool,
    "n_critics": int,
    "share_features_extractor": bool,
}


def check_sb3_model(name: str, model: dict) -> dict:
    """Check an SB3 ``model`` block against the algorithm's constructor: known keys, types, ranges."""
    from eglb.agents.sb3_policy import ACTIVATIONS, MAX_CRITICS, algorithm_class

    row = algorithm(name)
    parameters = inspect.signature(algorithm_class(row.cls).__init__).parameters
    known = {k: p.default for k, p in parameters.items() if k not in _SB3_SKIP}
    unknown = sorted(set(model) - set(known) - set(SB3_EXTRA_KEYS))
    if unknown:
        raise InputError(
            f"unknown {name} hyperparameter 'model.{unknown[0]}' (known: {', '.join(sorted(set(known) | set(SB3_EXTRA_KEYS)))})"
        )
    for key, value in model.items():
        where = f"model.{key}"
        if key in SB3_EXTRA_KEYS:
            check_value(where, value, SB3_EXTRA_KEYS[key])
        else:
            default = known[key]
            if isinstance(default, bool):
                check_value(where, value, bool)
            elif isinstance(default, int) and not isinstance(value, (list, tuple)):
                check_value(where, value, int if key not in ("learning_rate",) else float)
            elif isinstance(default, float):
                check_value(where, value, float)
            elif isinstance(default, str):
                check_value(where, value, float | str)
        if key in _SB3_RANGES and isinstance(value, (int, float)) and not isinstance(value, bool):
            low, high, low_open = _SB3_RANGES[key]
            check_range(where, value, low, high, low_open)
    kwargs = model.get("policy_kwargs") or {}
    unknown = sorted(set(kwargs) - set(POLICY_KWARGS))
    if unknown:
        raise InputError(f"unknown policy setting 'model.policy_kwargs.{unknown[0]}' (known: {', '.join(POLICY_KWARGS)})")
    for key, kind in POLICY_KWARGS.items():
        if key in kwargs:
            check_value(f"model.policy_kwargs.{key}", kwargs[key], kind)
    if kwargs.get("net_arch"):
        check_widths(kwargs["net_arch"], "model.policy_kwargs.net_arch")
    for key, high in (("lstm_hidden_size", MAX_LAYER_WIDTH), ("n_lstm_layers", MAX_LAYERS), ("n_critics", MAX_CRITICS)):
        if key in kwargs:
            check_size(kwargs[key], f"model.policy_kwargs.{key}", high)
    if "activation_fn" in kwargs and kwargs["activation_fn"] not in ACTIVATIONS:
        raise InputError(
            f"model.policy_kwargs.activation_fn must be one of {', '.join(ACTIVATIONS)}, got {kwargs['activation_fn']!r}"
        )
    return model


def check_model(name: str, model: dict) -> dict:
    """Check the ``model`` block of algorithm ``name`` (SB3 keyword arguments or the imitation settings)."""
    if not isinstance(model, dict):
        raise InputError(f"model must be a mapping of hyperparameters, got {describe(model)}")
    if algorithm(name).family == "imitation":
        ImitationSettings.from_dict(model)
        return model
    return check_sb3_model(name, model)


# ----------------------------------------------------------------------------------- the run
@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; saved as ``config.yaml`` in the run folder.

    Attributes:
        algo: a name of training.algorithms.ALGORITHMS.
        seed: seed of every random choice.
        timesteps: environment steps (hours) to train for.
        n_envs: parallel environments (subprocesses when > 1).
        eval_freq: environment steps between evaluations (0: about EVALUATIONS_PER_RUN evaluations per run).
        env: see EnvConfig.
        data: see DataConfig.
        model: algorithm hyperparameters (SB3 keyword arguments, or the imitation settings).
        observation_scale: fixed at the start of training from a reference scenario.
        scenario_shape: (regions, gateways) of the training scenarios.
        robust: the layer inside the training environment (None: plain training).
        knobs: deferrable jobs and model choice (None: neither, GLBEnv; written to ``config.yaml`` only when set).
        command: the command line.
    """

    algo: str
    seed: int = 0
    timesteps: int = 100_000
    n_envs: int = 1
    eval_freq: int = 0
    env: EnvConfig = field(default_factory=EnvConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: dict = field(default_factory=dict)
    observation_scale: ObservationScale | None = None
    scenario_shape: tuple[int, int] | None = None
    robust: RobustConfig | None = None
    command: str = ""
    knobs: KnobConfig | None = None

    def __post_init__(self):
        check_fields(self, "")
        row = algorithm(self.algo)
        check_range("seed", self.seed, 0, MAX_SEED)
        check_range("timesteps", self.timesteps, 1, MAX_STEPS)
        check_range("n_envs", self.n_envs, 1, 64)
        check_range("eval_freq", self.eval_freq, 0, 10**10)
        check_model(self.algo, self.model)
        if self.env.action_mode not in row.action_modes:
            raise InputError(
                f"{self.algo} trains on the {' or '.join(row.action_modes)} action; env.action_mode is {self.env.action_mode!r}"
            )
        if row.family == "imitation":
            every = ImitationSettings.from_dict(self.model).label_every
            if every > self.env.episode_hours:
                raise InputError(
                    f"model.label_every={every} labels no hour of a {self.env.episode_hours}-hour episode: "
                    "it must be <= env.episode_hours"
                )
            if self.env.residual:
                raise InputError("bc imitates the hindsight optimum's duals directly; env.residual is for RL algorithms")
            if self.robust is not None:
                raise InputError(
                    "--robust trains with the layer inside the environment: use an RL algorithm (ppo, sac, td3, a2c)"
                )
        if self.robust is not None and self.env.residual:
            raise InputError("--robust with env.residual is not supported: the layer already runs the expert")
        if self.knobs is not None:
            if row.family == "imitation":
                raise InputError(
                    "--jobs and --models train with an RL algorithm (ppo, sac, td3, a2c): bc imitates routing duals only"
                )
            if self.env.residual:
                raise InputError("--jobs and --models with env.residual are not supported: residual duals correct routing only")

    @property
    def evaluation_interval(self) -> int:
        """Environment steps between evaluations (``eval_freq``, or about EVALUATIONS_PER_RUN per run)."""
        return self.eval_freq or max(1, self.timesteps // EVALUATIONS_PER_RUN)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["data"]["train_hours"] = list(self.data.train_hours) if self.data.train_hours else None
        out["data"]["eval_hours"] = list(self.data.eval_hours) if self.data.eval_hours else None
        out["data"]["eval_seeds"] = list(self.data.eval_seeds)
        out["scenario_shape"] = list(self.scenario_shape) if self.scenario_shape else None
        if self.knobs is None:  # a run without knobs writes the config.yaml it always has
            del out["knobs"]
        return {**stamp(CONFIG_FORMAT, CONFIG_VERSION), **out}

    @classmethod
    def from_dict(cls, values: object, path: Path | str = "config") -> RunConfig:
        values = dict(check_stamp(values, CONFIG_FORMAT, CONFIG_VERSION, path))
        for key in ("format", "format_version", "package_version"):
            values.pop(key)
        try:
            values = typed_fields(_RunFields, values)
            values["env"] = EnvConfig(**typed_fields(EnvConfig, values.get("env") or {}, "env."))
            values["data"] = DataConfig(**typed_fields(DataConfig, values.get("data") or {}, "data."))
            if values.get("robust") is not None:
                values["robust"] = RobustConfig(**typed_fields(RobustConfig, values["robust"], "robust."))
            if values.get("knobs") is not None:
                values["knobs"] = KnobConfig(**typed_fields(KnobConfig, values["knobs"], "knobs."))
            if values.get("scenario_shape") is not None:
                shape = values["scenario_shape"]
                if len(shape) != 2:
                    raise InputError(f"scenario_shape must be [regions, gateways], got {list(shape)}")
                values["scenario_shape"] = (
                    check_size(shape[0], "scenario_shape[0] (regions)", MAX_REGIONS),
                    check_size(shape[1], "scenario_shape[1] (gateways)", MAX_GATEWAYS),
                )
            if values.get("observation_scale") is not None:
                scale = typed_fields(ObservationScale, values["observation_scale"], "observation_scale.")
                values["observation_scale"] = ObservationScale(**{k: float(v) for k, v in scale.items()})
            return cls(**values)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        except TypeError as exc:
            raise InputError(f"{path}: {exc}") from None

    def for_scenario(self, reference) -> RunConfig:
        """Fix the observation scale and the shape from a reference scenario (at training start)."""
        return replace(
            self,
            observation_scale=ObservationScale.from_scenario(reference),
            scenario_shape=(reference.n_regions, reference.n_gateways),
        )


@dataclass(frozen=True)
class _RunFields:
    """The plain-typed view of RunConfig's fields used to check a loaded mapping."""

    algo: str
    seed: int = 0
    timesteps: int = 1
    n_envs: int = 1
    eval_freq: int = 0
    env: dict | None = None
    data: dict | None = None
    model: dict | None = None
    observation_scale: dict | None = None
    scenario_shape: tuple[int, ...] | None = None
    robust: dict | None = None
    command: str = ""
    knobs: dict | None = None


# ----------------------------------------------------------------------------------- hyperparameters
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
    """The ``default`` block of the algorithm's file with the ``scenario_key`` block merged over it."""
    path = algorithm(algo).hyperparameter_file
    try:
        blocks = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read hyperparameters from {path}: {exc}") from None
    return deep_merge(blocks.get("default", {}) or {}, blocks.get(scenario_key, {}) or {})


def apply_sets(values: dict, assignments: list[str]) -> dict:
    """Apply ``key.sub=value`` assignments (values parsed as YAML, so numbers, booleans and lists work)."""
    out = values
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        parts = key.strip().split(".")
        if not sep or not key.strip() or not all(p.strip() for p in parts):
            raise InputError(f"--set expects KEY=VALUE (e.g. model.learning_rate=1e-4), got {assignment!r}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"--set {assignment!r}: the value is not valid YAML ({getattr(exc, 'problem', exc)})") from None
        if isinstance(value, str):
            try:  # YAML 1.1 reads 1e-4 as text; users mean a number
                value = float(value)
            except ValueError:
                pass
        nested: object = value
        for part in reversed(parts):
            nested = {part.strip(): nested}
        out = deep_merge(out, nested)
    return out


#: Keys a hyperparameter block (or --set) may hold at the top level.
BLOCK_KEYS = ("timesteps", "n_envs", "eval_freq", "env", "model")


def config_from_values(
    algo: str,
    values: dict,
    seed: int = 0,
    data: DataConfig = DataConfig(),
    robust: RobustConfig | None = None,
    command: str = "",
    knobs: KnobConfig | None = None,
) -> RunConfig:
    """A RunConfig from merged hyperparameter values (file blocks, CLI options and --set applied)."""
    algorithm(algo)
    unknown = sorted(set(values) - set(BLOCK_KEYS))
    if unknown:
        raise InputError(f"unknown configuration key {unknown[0]!r} (known: {', '.join(BLOCK_KEYS)})")
    if values.get("eval_freq") == "auto":
        values = {**values, "eval_freq": 0}
    env_values = values.get("env") or {}
    env = EnvConfig(**typed_fields(EnvConfig, env_values, "env."))
    check_value("model", values.get("model") or {}, dict)
    defaults = RunConfig.__dataclass_fields__
    return RunConfig(
        algo=algo,
        seed=seed,
        robust=robust,
        knobs=knobs,
        data=data,
        env=env,
        model=dict(values.get("model") or {}),
        command=command,
        timesteps=values.get("timesteps", defaults["timesteps"].default),
        n_envs=values.get("n_envs", defaults["n_envs"].default),
        eval_freq=values.get("eval_freq", defaults["eval_freq"].default),
    )


def policy_io(config: RunConfig):
    """How the policy of a run observes and acts (its policy card's ``io``), fixed at training start."""
    from eglb.agents.learned import PolicyIO

    if config.observation_scale is None or config.scenario_shape is None:
        raise InputError("the run's observation scale and scenario shape are fixed at training start (RunConfig.for_scenario)")
    if config.knobs is not None and (config.knobs.job_slots is None or config.knobs.n_models is None):
        raise InputError("the run's job slots and models are fixed at training start (training.envs.knob_shape)")
    env = config.env
    return PolicyIO(
        observation_scale=config.observation_scale,
        shape=tuple(config.scenario_shape),
        action_mode=env.action_mode,
        residual=env.residual,
        forecast_hours=env.forecast_hours,
        forecast_noise=env.forecast_noise,
        routing_temperature=env.routing_temperature,
        robust=asdict(config.robust) if config.robust else None,
        forecaster=env.forecaster,
        knobs={"job_slots": config.knobs.job_slots, "models": config.knobs.n_models} if config.knobs else None,
    )


def flat_hyperparameters(config: RunConfig) -> dict:
    """The run's settings as flat ``key.sub: value`` pairs of numbers, booleans and text (TensorBoard's hparams)."""
    out = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, (bool, int, float, str)):
            out[prefix] = value
        elif value is not None:
            out[prefix] = str(value)

    values = config.to_dict()
    for key in ("format", "format_version", "package_version", "command", "observation_scale"):
        values.pop(key, None)
    walk("", values)
    return out
