"""Training environments built from a run configuration (picklable factories for vector envs)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
from eglb.agents.residual import MEANING as RESIDUAL_MEANING
from eglb.envs.actions import MEANINGS
from eglb.envs.errors import InputError
from eglb.envs.flex_env import FlexGLBEnv
from eglb.envs.glb_env import GLBEnv, StepChecks
from eglb.envs.knob_specs import with_knobs
from eglb.envs.scenario import Scenario
from eglb.envs.synthetic import SyntheticSource
from eglb.envs.validation import typed_fields
from eglb.forecasts.spec import forecaster_from_spec
from eglb.importers.synthetic import HistorySyntheticSource
from eglb.robust.layer import Slack
from eglb.robust.wrapper import KnobRobustTrainingEnv, RobustTrainingEnv
from eglb.training.config import RunConfig
from eglb.training.wrappers import ExpertBaselineReward, ResidualDualEnv, WorkerErrors

#: Ready-to-train environment ids (registered by the API package, eglb/environments.py) and the
#: hyperparameter block of the data each uses.
VARIANTS = {"GLB-Synthetic-v0": "synthetic", "GLB-Eglb2022-v0": "eglb2022"}
#: File in the run folder where a failing subprocess worker leaves its message.
WORKER_REPORT = ".worker-error"


def variant_config(env_id: str, **changes) -> RunConfig:
    """The run configuration behind a registered id (PPO's environment block for that data, the
    observation scale of the id's reference data); ``changes`` override environment settings."""
    from dataclasses import replace

    from eglb.training.config import DataConfig, EnvConfig, load_hyperparams

    if env_id not in VARIANTS:
        raise InputError(f"unknown environment id {env_id!r} (ready-to-train ids: {', '.join(VARIANTS)})")
    block = VARIANTS[env_id]
    try:
        changes = typed_fields(EnvConfig, changes)
    except InputError as exc:
        raise InputError(f"gymnasium.make({env_id!r}): {exc}") from None
    env = EnvConfig(**{**load_hyperparams("ppo", block)["env"], **changes})
    if block == "synthetic":
        from eglb.envs.synthetic import make_synthetic

        reference = make_synthetic(0, hours=457)
        config = RunConfig("ppo", env=env, data=DataConfig())
    else:
        from eglb.envs.eglb2022 import load_eglb2022

        reference = load_eglb2022().window(0, 304)
        config = RunConfig("ppo", env=env, data=DataConfig(traces="eglb-2022", train_hours=(0, 304)))
    return replace(config.for_scenario(reference), data=config.data)


def variant_policy_io(env_id: str):
    """How a policy trained on a registered id observes and acts (SB3 models trained on it elsewhere)."""
    from eglb.training.config import policy_io

    return policy_io(variant_config(env_id))


def make_env(config: RunConfig, scenario: Scenario | None, seed: int | None, render_mode: str | None = None) -> gym.Env:
    """One training environment: random windows of ``scenario`` (or, when None, a new synthetic trace
    per episode: from the history-calibrated generator when ``data.zones`` is set) of
    ``env.episode_hours`` hours; residual actions, the robustification layer or the vs-expert reward
    as the configuration says; GLBEnv's step checks outermost (envs.glb_env.StepChecks)."""
    env_config = config.env
    source = scenario if scenario is not None else synthetic_source(config)
    settings = dict(
        episode_hours=env_config.episode_hours,
        random_start=scenario is not None,
        # The plain layer and residual duals execute routings; the knob layer blends the environment's own decisions.
        action_mode="share" if (config.robust and config.knobs is None) or env_config.residual else env_config.action_mode,
        forecast_hours=env_config.forecast_hours,
        forecast_noise=env_config.forecast_noise,
        forecaster=forecaster_from_spec(env_config.forecaster),
        reward_scale=env_config.reward_scale,
        observation_scale=config.observation_scale,
        routing_temperature=env_config.routing_temperature,
        render_mode=render_mode,
    )
    knobs = config.knobs
    if knobs is None:
        env: gym.Env = GLBEnv(source, **settings)
    else:  # a given scenario has its knobs already (eglb.trainer.scenarios_for); a synthetic one gets them per episode
        source = source if scenario is not None else KnobSource(source, knobs.jobs, knobs.models)
        env = FlexGLBEnv(source, job_slots=knobs.job_slots, **settings)
    if env_config.residual:
        env = ResidualDualEnv(env)
    if config.robust is not None and knobs is not None:
        env = KnobRobustTrainingEnv(env, config.robust.lam, Slack(config.robust.b, config.robust.slack), env_config.reward)
    elif config.robust is not None:
        env = RobustTrainingEnv(
            env,
            env_config.action_mode,
            config.robust.lam,
            Slack(config.robust.b, config.robust.slack),
            env_config.reward,
            env_config.routing_temperature,
        )
    elif env_config.reward == "vs-expert":
        env = ExpertBaselineReward(env)
    if env_config.residual:
        env = StepChecks(env, "residual action", RESIDUAL_MEANING)
    else:
        env = StepChecks(env, f"{env_config.action_mode} action", MEANINGS[env_config.action_mode])
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


def knob_shape(config: RunConfig, scenario: Scenario | None) -> RunConfig:
    """``config`` with its knobs' job slots and models fixed (training start): those of FlexGLBEnv
    built on the training source (``scenario``, or None for synthetic traces), whose default job slots
    are the most jobs pending at once in its first scenario (the whole training scenario, or the first
    synthetic episode); job slots given (``--job-slots``) are kept; no slots without jobs. Unchanged
    without knobs or once fixed."""
    from dataclasses import replace

    knobs = config.knobs
    if knobs is None or knobs.n_models is not None:
        return config
    source = scenario if scenario is not None else KnobSource(synthetic_source(config), knobs.jobs, knobs.models)
    slots = knobs.job_slots if knobs.job_slots is not None else None if knobs.jobs else 0
    env = FlexGLBEnv(source, episode_hours=config.env.episode_hours, job_slots=slots)
    return replace(config, knobs=replace(knobs, job_slots=env.job_slots, n_models=env.n_models))


def synthetic_source(config: RunConfig):
    """A new synthetic trace per episode: from the history-calibrated generator when ``data.zones`` is set."""
    hours = config.env.episode_hours
    if config.data.zones:
        return HistorySyntheticSource(hours=hours, zones=config.data.zones, workload=config.data.workload)
    return SyntheticSource(hours=hours, setting=config.data.setting)


class KnobSource:
    """A scenario source with deferrable jobs and/or model choice added to every scenario it draws
    (``--jobs``/``--models`` as in evaluate.py: envs/knob_specs.py); a job list is checked job by job."""

    def __init__(self, source, jobs: str | None, models: str | None):
        self.source, self.jobs, self.models = source, jobs, models

    def __call__(self, rng) -> Scenario:
        return with_knobs(self.source(rng), self.jobs, self.models)


class EnvFactory:
    """A picklable ``() -> env`` for SB3's vector environments (one distinct seed per worker).

    Args:
        report: set for subprocess workers: where a user mistake inside the worker is written.
    """

    def __init__(self, config: RunConfig, scenario: Scenario | None, seed: int, report: Path | None = None):
        self.config, self.scenario, self.seed, self.report = config, scenario, seed, report

    def __call__(self) -> gym.Env:
        from stable_baselines3.common.monitor import Monitor

        env = Monitor(make_env(self.config, self.scenario, self.seed))
        return WorkerErrors(env, self.report) if self.report is not None else env


def vector_env(config: RunConfig, scenario: Scenario | None, seed: int, folder: Path, start_method: str = "fork"):
    """SB3 vector environment of ``config.n_envs`` workers (subprocesses when more than one).

    The first environment is built in this process first, so a mistake in the configuration or the
    data is reported here, before any worker starts. ``start_method``: "fork" (fast to start) or
    "spawn" (safe inside processes with threads of their own, such as Ray workers).
    """
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    make_env(config, scenario, seed).close()
    if config.n_envs == 1:
        return DummyVecEnv([EnvFactory(config, scenario, seed)])
    report = Path(folder) / WORKER_REPORT
    report.unlink(missing_ok=True)
    factories = [EnvFactory(config, scenario, seed + 1000 * k, report) for k in range(config.n_envs)]
    return SubprocVecEnv(factories, start_method=start_method)


def worker_failure(folder: Path) -> InputError:
    """The error to raise when a subprocess worker stopped: its own message if it left one."""
    report = Path(folder) / WORKER_REPORT
    if report.is_file():
        message = report.read_text(encoding="utf-8").strip()
        report.unlink(missing_ok=True)
        return InputError(f"a training environment worker stopped: {message}")
    return InputError("a training environment worker stopped unexpectedly; rerun with --n-envs 1 to see the error")


def close_vector_env(env) -> None:
    """Close a vector environment, also when some of its workers have already stopped."""
    try:
        env.close()
    except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
        for process in getattr(env, "processes", []):
            process.terminate()
