"""Training as a function: ``train(config, folder, callbacks=...)`` runs a whole training run and returns its summary.

``train.py`` is a thin wrapper of :func:`training_config` and :func:`train`; tuners call them
directly (``callbacks`` receive every periodic evaluation's row).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario
from eglb.envs.validation import typed_arguments
from eglb.training.algorithms import algorithm
from eglb.training.config import (
    DataConfig,
    KnobConfig,
    RobustConfig,
    RunConfig,
    apply_sets,
    config_from_values,
    load_hyperparams,
)
from eglb.training.run_folder import check_run_name, open_run

#: Most threads torch may start (it starts them all, whatever the CPUs).
MAX_TORCH_THREADS = 256
#: Called after every periodic evaluation with its row: ``steps``, ``ratio_to_offline`` (held-out
#: J / J(eGLB-Off)), ``eglb_ratio`` (the online expert's), ``cost``, ``par_water``, ``par_carbon``, ...
Callback = Callable[[dict], None]


def scenario_key(traces: str | None) -> str:
    """The hyperparameter block for the training data: synthetic, eglb2022, history or traces."""
    if not traces:
        return "synthetic"
    from eglb.envs.eglb2022 import is_eglb2022_folder
    from eglb.scenarios import is_history_folder

    if is_history_folder(traces):
        return "history"
    return "eglb2022" if is_eglb2022_folder(Path(traces)) else "traces"


@typed_arguments
def training_config(
    algo: str,
    *,
    data: DataConfig = DataConfig(),  # noqa: B008  (frozen: an immutable default)
    seed: int = 0,
    timesteps: int | None = None,
    n_envs: int | None = None,
    eval_freq: int | None = None,
    sets: Sequence[str] = (),
    robust: RobustConfig | None = None,
    command: str = "",
    knobs: KnobConfig | None = None,
) -> RunConfig:
    """A run configuration: the algorithm's hyperparameter file (default block and the block of the
    data), then the given options, then ``sets`` (``"model.learning_rate=1e-4"``, ...), all checked.
    ``knobs``: deferrable jobs and/or model choice (``--jobs``, ``--models``): the environment is FlexGLBEnv."""
    algorithm(algo)
    values = load_hyperparams(algo, scenario_key(data.traces))
    options = {k: v for k, v in (("timesteps", timesteps), ("n_envs", n_envs), ("eval_freq", eval_freq)) if v is not None}
    values = apply_sets({**values, **options}, list(sets))
    if (robust is not None or knobs is not None) and not any(s.strip().startswith("env.residual") for s in sets):
        # The layer runs the expert itself, and residual duals correct routing only (not the knobs):
        # residual learning is a default only of plain training.
        values = apply_sets(values, ["env.residual=false"])
    config = config_from_values(algo, values, seed=seed, data=data, robust=robust, command=command, knobs=knobs)
    # Held-out synthetic traces are as long as a training episode.
    return replace(config, data=replace(config.data, eval_synthetic_hours=config.env.episode_hours))


@typed_arguments
def vary(config: RunConfig, values: dict[str, object]) -> RunConfig:
    """``config`` with dotted keys set (``{"model.learning_rate": 1e-4}``, the keys of ``--set`` and of
    search spaces), checked like a loaded configuration; held-out synthetic traces follow
    ``env.episode_hours`` as in :func:`training_config`."""
    from eglb.training.config import BLOCK_KEYS, deep_merge

    merged = config.to_dict()
    for key, value in values.items():
        parts = str(key).split(".")
        if parts[0] not in BLOCK_KEYS or not all(parts):
            raise InputError(f"unknown configuration key {key!r}: keys start with one of {', '.join(BLOCK_KEYS)} (as with --set)")
        nested: object = value
        for part in reversed(parts):
            nested = {part: nested}
        merged = deep_merge(merged, nested)
    try:
        varied = RunConfig.from_dict(merged, "varied")
    except InputError as exc:
        raise InputError(str(exc).removeprefix("varied: ")) from None
    if config.data.eval_synthetic_hours == config.env.episode_hours:
        varied = replace(varied, data=replace(varied.data, eval_synthetic_hours=varied.env.episode_hours))
    return varied


def cpus_per_run(config: RunConfig) -> int:
    """CPUs a run keeps busy: its environments (RL) or its labelling processes (bc)."""
    if algorithm(config.algo).family == "imitation":
        from eglb.training.config import ImitationSettings

        return ImitationSettings.from_dict(config.model).workers
    return config.n_envs


def scenarios_for(config: RunConfig) -> tuple[Scenario | None, list[Scenario], Scenario]:
    """(training scenario, or None for synthetic traces; the held-out evaluation scenarios; the
    reference scenario the observation scale is measured on).

    With knobs (``config.knobs``) every scenario gets them as ``evaluate.py --jobs/--models`` gives
    them (the reference too: a job stream adds capacity); the held-out ones must be deliverable (as
    in evaluate.py), while a training scenario's undeliverable work is only penalized, as in any
    episode (not checked: an LP over all its hours). Synthetic training episodes get them per episode
    (training/envs.py ``KnobSource``)."""
    from eglb.envs.knob_specs import with_knobs
    from eglb.scenarios import checked_knobs

    training, evaluation, reference = plain_scenarios_for(config)
    knobs = config.knobs
    if knobs is None:
        return training, evaluation, reference
    flexible = None if training is None else with_knobs(training, knobs.jobs, knobs.models)
    evaluation = [checked_knobs(s, knobs.jobs, knobs.models) for s in evaluation]
    return flexible, evaluation, flexible if reference is training else with_knobs(reference, knobs.jobs, knobs.models)


def plain_scenarios_for(config: RunConfig) -> tuple[Scenario | None, list[Scenario], Scenario]:
    """:func:`scenarios_for` without the knobs."""
    from eglb.envs.synthetic import HELD_OUT_SEEDS, make_synthetic
    from eglb.envs.traces import load_traces

    data = config.data
    if data.traces is not None and scenario_key(data.traces) == "history":
        return history_scenarios(config)
    if data.regions or data.years or data.eval_years:
        raise InputError("--regions, --years and --eval-years select the history folder's data: give it with --traces")
    if data.zones and data.traces is not None:
        raise InputError(
            "--zones picks zones of the history-calibrated synthetic generator (--synthetic); "
            "for the history folder itself use --regions"
        )
    if data.traces is None:
        if any(not 0 <= s < HELD_OUT_SEEDS for s in data.eval_seeds):
            raise InputError(f"--eval-seeds must be held-out seeds in 0..{HELD_OUT_SEEDS - 1} (training draws above)")
        if data.zones:
            from eglb.importers.synthetic import make_history_synthetic

            if data.setting != "full":
                raise InputError(
                    "the history-calibrated generator has the full mask: --setting partial does not apply to --zones"
                )
            evaluation = [
                make_history_synthetic(seed, hours=data.eval_synthetic_hours, zones=data.zones, workload=data.workload)
                for seed in data.eval_seeds
            ]
            # A whole calendar year of seed 0 as the reference of the observation scale: every season.
            year = make_history_synthetic(0, hours=8760, zones=data.zones, start="2022-01-01T00", workload=data.workload)
            return None, evaluation, year
        evaluation = [make_synthetic(seed, hours=data.eval_synthetic_hours, setting=data.setting) for seed in data.eval_seeds]
        return None, evaluation, make_synthetic(0, hours=457, setting=data.setting)
    scenario = load_traces(data.traces, data.setting)
    t = scenario.n_hours
    train = data.train_hours or (0, (2 * t) // 3)
    train = (train[0], t if train[1] == -1 else train[1])
    held = data.eval_hours or (train[1], t)
    held = (held[0], t if held[1] == -1 else held[1])
    for name, (first, last) in (("training", train), ("evaluation", held)):
        if not 0 <= first < last <= t:
            raise InputError(f"{name} hours {first}:{last} are not inside the traces' 0:{t} hours")
    if max(train[0], held[0]) < min(train[1], held[1]):
        raise InputError(f"training hours {train[0]}:{train[1]} and evaluation hours {held[0]}:{held[1]} overlap")
    training = scenario.window(*train)
    if config.env.episode_hours > training.n_hours:
        raise InputError(
            f"env.episode_hours={config.env.episode_hours} is longer than the {training.n_hours} training hours; "
            "use --set env.episode_hours=H with a smaller H"
        )
    return training, [scenario.window(*held)], training


def history_scenarios(config: RunConfig) -> tuple[Scenario, list[Scenario], Scenario]:
    """Training years as one scenario (random windows of it are the episodes) and ``eval_windows``
    evenly spaced episode-long windows of the selection years (2024 stays the test year)."""
    from eglb.importers.history import HELD_OUT_YEARS, parse_years
    from eglb.scenarios import ScenarioConfig, history_scenario, named_windows

    data = config.data
    if data.train_hours or data.eval_hours:
        raise InputError(
            "--hours and --eval-hours select hours of a trace folder; with the history folder choose "
            "--years (training) and --eval-years (held-out selection)"
        )
    train_years, eval_years = parse_years(data.years or "2021-2022"), parse_years(data.eval_years or "2023")
    for option, years in (("--years", train_years), ("--eval-years", eval_years)):
        test = sorted(set(years) & set(HELD_OUT_YEARS))
        if test:
            raise InputError(
                f"{option} includes {test[0]}, the test year: train and select on other years "
                "(evaluate.py --benchmark history reports the test year)"
            )
    if set(train_years) & set(eval_years):
        raise InputError(f"training years {data.years or '2021-2022'} and evaluation years {data.eval_years or '2023'} overlap")
    source = ScenarioConfig(
        traces=data.traces, regions=data.regions, workload=data.workload, seed=config.seed, setting=data.setting
    )
    training = history_scenario(source, years=f"{train_years[0]}-{train_years[-1]}")
    # The held-out windows do not depend on the training seed (gateway loads of seed 0): every seed of
    # a run group is selected, and compared with the classical algorithms, on the same windows.
    held = history_scenario(replace(source, seed=0), years=f"{eval_years[0]}-{eval_years[-1]}")
    hours = config.env.episode_hours
    if hours > min(training.n_hours, held.n_hours):
        raise InputError(f"env.episode_hours={hours} is longer than the history years chosen")
    starts = np.linspace(0, held.n_hours - hours, data.eval_windows).astype(int)
    return training, named_windows(held, hours, starts), training


def default_run_name(config: RunConfig) -> str:
    if config.data.traces is None:
        data = "synthetic-history" if config.data.zones else "synthetic"
    else:
        data = Path(config.data.traces).name
    robust = f"-robust{config.robust.lam:g}" if config.robust else ""
    knobs = "-knobs" if config.knobs else ""
    return check_run_name(f"{config.algo}-{data}{knobs}{robust}-s{config.seed}")


@dataclass(repr=False)
class TrainingSummary:
    """What a training run did.

    Attributes:
        folder: the run folder. algo: the algorithm. steps: environment steps trained in total.
        seconds: wall-clock time of this call. history: every periodic evaluation's row.
        best_ratio: the best held-out J / J(eGLB-Off). expert_ratio: eGLB's on the same traces.
        rows: the trained policy next to eglb, eglb-off and glb-cost on each held-out trace.
        means: mean J / J(eGLB-Off) over the held-out traces per algorithm.
    """

    folder: Path
    algo: str
    steps: int
    seconds: float
    history: list[dict]
    best_ratio: float
    expert_ratio: float
    rows: list[dict] = field(default_factory=list)
    means: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"TrainingSummary({self.algo} in {self.folder}: {self.steps:,} steps, {self.seconds:.0f} s, "
            f"best held-out J / J(eGLB-Off) {self.best_ratio:.4f}, eGLB's {self.expert_ratio:.4f})"
        )

    def __str__(self) -> str:
        means = ", ".join(f"{k} {v:.4f}" for k, v in self.means.items())
        return f"{self!r}\nmean J / J(eGLB-Off) over the held-out traces: {means}"


@typed_arguments
def train(
    config: RunConfig | None = None,
    folder: str | Path | None = None,
    *,
    resume: bool = False,
    timesteps: int | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool = False,
    torch_threads: int = 1,
    out: str | Path = "runs",
    label_mapper=None,
    start_method: str = "fork",
) -> TrainingSummary:
    """Train a policy into a run folder and compare it with the classical algorithms on held-out traces.

    Args:
        config: the run's configuration (:func:`training_config`); None with ``resume``.
        folder: the run folder (default ``out/ALGO-DATA-sSEED``); with ``resume``, the run to continue.
        resume: continue the run in ``folder`` from its last complete checkpoint (its config is reused).
        timesteps: with ``resume``, a new total of environment steps (to extend a finished run).
        callbacks: called with every periodic evaluation's row.
        progress: show progress bars. torch_threads: threads torch may use.
        label_mapper: how bc's labelling LPs are mapped (default: a local process pool; sweeps.ray_map.RayMapper: Ray tasks).
        start_method: how subprocess environments and the labelling pool start: "fork", or "spawn"
            inside processes that run threads of their own (Ray workers, Tune trials).
    """
    import torch

    from eglb.report.plots import plot_learning_curve
    from eglb.training.config import flat_hyperparameters
    from eglb.training.envs import knob_shape
    from eglb.training.evaluator import PeriodicEvaluator, log_hyperparameters, tensorboard_listener, write_evaluations
    from eglb.training.run_log import run_logger

    if not 1 <= torch_threads <= MAX_TORCH_THREADS:
        raise InputError(f"torch_threads (--torch-threads) must be in 1..{MAX_TORCH_THREADS}, got {torch_threads}")
    if start_method not in ("fork", "spawn", "forkserver"):
        raise InputError(f"start_method must be fork, spawn or forkserver, got {start_method!r}")
    if resume:
        if folder is None:
            raise InputError("resume needs the run folder")
    elif config is None:
        raise InputError("train needs a configuration (training_config(...)) or resume=True with a run folder")
    else:
        folder = Path(out) / default_run_name(config) if folder is None else Path(folder)
    start = time.perf_counter()
    # A new run's data is checked before its folder is made: a mistake in it leaves nothing behind.
    scenarios = None if resume else scenarios_for(config)
    with open_run(folder, new=not resume) as run:
        if resume:
            config = run.read_config()
            if timesteps is not None:
                config = replace(config, timesteps=timesteps)
            scenarios = scenarios_for(config)
        training, evaluation, reference = scenarios
        checkpoint = run.trim_to_checkpoint() if resume else None
        if not resume:
            config = knob_shape(config.for_scenario(reference), training)
        run.write_config(config)
        torch.set_num_threads(torch_threads)
        logger = run_logger(run.path)
        log_hyperparameters(logger, flat_hyperparameters(config))

        def write_history(row: dict, history: list[dict]) -> None:
            run.write_eval_history(history)
            write_evaluations(history, evaluation, run.path / "evaluations.npz")
            plot_learning_curve(history, run.path / "learning_curve.png", f"Learning curve ({run.path.name})")

        listeners = [write_history, tensorboard_listener(logger)] + [
            lambda row, history, cb=cb: cb(dict(row)) for cb in callbacks
        ]
        if progress:
            print(
                f"run folder {run.path} ({'resuming' if resume else 'new'}): {config.algo}, {config.timesteps:,} steps, "
                f"{'synthetic traces' if training is None else training.name + ' training hours'}"
            )
        evaluator = PeriodicEvaluator(evaluation, history=run.eval_history(), listeners=listeners)
        if evaluator.history:  # a resumed run's history was trimmed to its checkpoint
            write_evaluations(evaluator.history, evaluation, run.path / "evaluations.npz")
        if algorithm(config.algo).family == "imitation":
            from eglb.training.dagger import train_imitation

            train_imitation(config, training, evaluator, run, logger, checkpoint, progress, label_mapper, start_method)
        else:
            from eglb.training.rl import train_rl

            train_rl(config, training, evaluator, run, logger, checkpoint, progress, start_method)
        logger.close()
        seconds = time.perf_counter() - start
        # summary.json reports every start's training time (a resumed run's earlier starts included).
        rows, means = compare_on_held_out(config, run.path, evaluation, run.training_seconds())
    history = evaluator.history
    return TrainingSummary(
        Path(folder),
        config.algo,
        int(history[-1]["steps"]) if history else 0,
        seconds,
        history,
        evaluator.best,
        evaluator.expert,
        rows,
        means,
    )


def compare_on_held_out(
    config: RunConfig, folder: Path, evaluation: list[Scenario], seconds: float | None
) -> tuple[list[dict], dict]:
    """The trained policy next to eglb, eglb-off and glb-cost on the held-out scenarios: results.* and summary.*.

    ``seconds``: the run's training time over all its starts (None: not recorded by an older checkpoint).
    """
    from eglb.registry import build
    from eglb.report.run import run_algorithms
    from eglb.report.tables import result_rows, write_rows

    specs = [f"{config.algo}:{folder}", "eglb", "eglb-off", "glb-cost"]
    rows = []
    for scenario in evaluation:
        results, offline = run_algorithms([(spec, build(spec)) for spec in specs], scenario, progress=False)
        results[0].seed = config.seed
        rows += result_rows(results, scenario, offline)
    means = {spec: float(np.mean([r["ratio_to_offline"] for r in rows if r["algo"] == spec])) for spec in specs}
    summary = [
        {
            "algo": spec,
            "mean_ratio_to_offline": value,
            "training_seconds": seconds if spec == specs[0] else None,
            **(
                {"nonfinite_actions": sum(r.get("nonfinite_actions", 0) for r in rows if r["algo"] == spec)}
                if spec == specs[0]
                else {}
            ),
        }
        for spec, value in means.items()
    ]
    write_rows(rows, folder, "results")
    write_rows(summary, folder, "summary")
    return rows, means
