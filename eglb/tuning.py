"""Hyperparameter search as a function: ``tune(config)`` runs Ray Tune trials of :func:`eglb.train`.

    base = eglb.training_config("ppo", timesteps=200_000)
    outcome = eglb.tune(eglb.TuneConfig(base, space="sweeps/spaces/ppo.yml", samples=8, scheduler="asha"))
    print(outcome.best["folder"])          # a run folder: evaluate.py --algos ppo:FOLDER

``train.py --tune SPACE.yml --samples N [--scheduler asha] [--ray ADDRESS]`` is a thin wrapper. Every
trial is ``base`` with the sampled dotted keys set (as ``--set`` would), trained by :func:`eglb.train`
into its own run folder; see sweeps/tune.py for storage, early stopping, failures and resuming.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eglb.cluster import check_ray_address
from eglb.envs.errors import InputError
from eglb.envs.validation import check_fields, check_range, typed_arguments
from eglb.trainer import cpus_per_run, default_run_name, train, vary
from eglb.training.config import RunConfig
from eglb.training.run_folder import RunFolder, check_run_name

#: Most points one search may draw.
MAX_SAMPLES = 10_000


@dataclass(frozen=True)
class TuneConfig:
    """A search.

    Attributes:
        base: the configuration every trial starts from (:func:`eglb.training_config`).
        space: the search space file (sweeps/spaces/ALGO.yml ships one per algorithm).
        samples: points drawn from the space. scheduler: "fifo" or "asha" (early stopping on the
            held-out J / J(eGLB-Off)).
        storage: a folder (default runs/) or a URI Ray's storage accepts. name: the experiment's
            folder under it (default tune-ALGO-DATA-sSEED).
        address: the Ray to run on: None or "local" starts one for the search; "auto" or an
            address joins a running cluster.
        grace_evaluations: evaluations before ASHA may stop a trial. max_failures: restarts of a trial.
        verbose: Tune's status tables in the terminal. out: the local folder of the trials table when
            ``storage`` is a URI (``out/name/trials.*``).
    """

    base: RunConfig
    space: str | Path
    samples: int = 8
    scheduler: str = "fifo"
    storage: str | Path = "runs"
    name: str | None = None
    address: str | None = None
    grace_evaluations: int = 2
    max_failures: int = 2
    verbose: bool = False
    out: str | Path = "runs"

    def __post_init__(self):
        check_fields(self)
        check_range("TuneConfig.samples (--samples)", self.samples, 1, MAX_SAMPLES)
        check_range("TuneConfig.grace_evaluations", self.grace_evaluations, 2, 1000)
        check_range("TuneConfig.max_failures", self.max_failures, 0, 100)
        check_ray_address(self.address)
        from eglb.sweeps.tune import SCHEDULERS  # Ray's import: a search needs it anyway

        if self.scheduler not in SCHEDULERS:
            raise InputError(f"TuneConfig.scheduler (--scheduler) must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}")
        if self.name is not None:
            check_run_name(self.name)


def trial_runner(base: RunConfig, callbacks: tuple[Callable[[dict], None], ...] = ()) -> Callable:
    """The trial of one sampled point: ``base`` varied by it, trained into ``folder`` (continued from its
    last checkpoint if it has one), every evaluation's row reported. Subprocesses start with spawn:
    forking a Ray worker, which runs threads of its own, is unsafe."""

    def run(params: dict, folder: Path, report: Callable[[dict], None]) -> None:
        resume = folder.is_dir() and bool(RunFolder(folder).checkpoints())
        config = vary(base, params)
        train(None if resume else config, folder, resume=resume, callbacks=[report, *callbacks], start_method="spawn")

    return run


def check_space(base: RunConfig, space) -> int:
    """Every key and every example value of the space must make a valid configuration; returns the
    CPUs a trial needs (the most any of them asks)."""
    cpus = cpus_per_run(base)
    for key, values in space.examples.items():
        if key in ("n_envs", "model.workers"):
            raise InputError(
                f"{space.where(key)}: {key} sets the CPUs a trial reserves: give it with --n-envs or --set, not in the space"
            )
        for value in values:
            try:
                cpus = max(cpus, cpus_per_run(vary(base, {key: value})))
            except InputError as exc:
                raise InputError(f"{space.where(key)}: {exc}") from None
    return cpus


@typed_arguments
def tune(config: TuneConfig, callbacks: tuple[Callable[[dict], None], ...] = ()):
    """Run (or resume) the search on Ray; returns sweeps.tune.TuneOutcome (trials best first, the
    best trial's run folder in ``outcome.best["folder"]``) and writes ``trials.json/.csv`` beside
    the run folders (in ``storage/name``, or ``out/name`` with a URI storage).

    ``callbacks`` get every evaluation's row inside the trials (they run in Ray workers)."""
    from eglb.report.tables import write_rows
    from eglb.sweeps.ray_map import ray_session
    from eglb.sweeps.spaces import load_space
    from eglb.sweeps.tune import TuneSettings, run_tune

    space = load_space(config.space)
    cpus = check_space(config.base, space)
    name = check_run_name(config.name or "tune-" + default_run_name(config.base))
    evaluations = -(-config.base.timesteps // config.base.evaluation_interval)
    settings = TuneSettings(
        samples=config.samples,
        scheduler=config.scheduler,
        storage=config.storage,
        name=name,
        cpus_per_trial=cpus,
        seed=config.base.seed,
        grace_evaluations=config.grace_evaluations,
        max_evaluations=max(config.grace_evaluations, evaluations),
        max_failures=config.max_failures,
        verbose=int(config.verbose),
    )
    with ray_session(config.address):
        outcome = run_tune(trial_runner(config.base, tuple(callbacks)), space, settings)
    out = Path(settings.experiment) if not settings.is_uri else Path(config.out) / name
    outcome.files = write_rows(outcome.trials, out, "trials")
    return outcome


def tune_seeds(group, seeds: tuple[int, ...], address: str | None = None, verbose: bool = False) -> None:
    """Train ``seeds`` of a run group (training/run_group.py) as Ray Tune trials, one per seed, into
    the group's ``seed-K`` run folders; a folder with a checkpoint is continued.

    Tune's own state (``group/tune``) is scratch: it is cleared at every start, because the run
    folders themselves hold everything a resume needs (a lost trial restarts from its last checkpoint)."""
    import shutil

    from eglb.sweeps.ray_map import ray_session
    from eglb.sweeps.spaces import seed_space
    from eglb.sweeps.tune import TuneSettings, run_tune

    path = Path(group.path).resolve()
    settings = TuneSettings(
        samples=1,
        storage=str(path),
        name="tune",
        cpus_per_trial=cpus_per_run(group.config),
        seed=0,
        max_evaluations=max(2, -(-group.config.timesteps // group.config.evaluation_interval)),
        verbose=int(verbose),
        runs=str(path),
        folder_key="seed",
    )
    shutil.rmtree(path / settings.name, ignore_errors=True)
    timesteps = group.config.timesteps

    def run(params: dict, folder: Path, report: Callable[[dict], None]) -> None:
        again = folder.is_dir() and bool(RunFolder(folder).checkpoints())
        config = None if again else group.member_config(int(params["seed"]))
        reported: list[dict] = []
        summary = train(
            config,
            folder,
            resume=again,
            timesteps=timesteps if again else None,
            callbacks=[report, reported.append],
            start_method="spawn",
        )
        if not reported and summary.history:  # a run that had nothing left to train still reports where it stands
            report(summary.history[-1])

    with ray_session(address):
        run_tune(run, seed_space(seeds), settings)
