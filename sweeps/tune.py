"""Ray Tune trials of our own training function: each trial a normal run folder, reported at every evaluation.

The trainable is a small adapter: Tune samples a point of the search space (dotted keys, see
sweeps/spaces.py), and the caller's ``trial(params, folder, report)`` trains one run into ``folder``
calling ``report(row)`` after every periodic evaluation (the row of training/evaluator.py). The
adapter passes each row to Tune, whose scheduler (ASHA with ``scheduler="asha"``) stops trials whose
held-out J / J(eGLB-Off) lags behind at the same number of evaluations.

Where things go. ``storage`` is a folder (default) or any URI Ray's storage takes (``s3://...``,
``gs://...``). Tune keeps its experiment state in ``storage/name``. With a folder (local, or a
filesystem shared by the cluster's nodes) every trial trains straight into
``storage/name/runs/trial-ID``, a run folder that loads with ``ALGO:FOLDER``; with a URI it trains in
its working folder and hands the run folder to Tune as a checkpoint at every evaluation (and once at
the end), which Tune uploads to ``storage/name/TRIAL/checkpoint_*``.

Failures. A trial whose worker or node is lost is started again (``max_failures``) and continues its
run folder from the last complete checkpoint (the caller's ``trial`` resumes a folder that has one;
with a URI the folder comes back from Tune's checkpoint). An interrupted tune (Ctrl-C, a lost head
process) is resumed by running it again with the same storage and name: finished trials are kept,
unfinished ones continue.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eglb.envs.errors import InputError
from eglb.sweeps.spaces import SearchSpace
from ray import tune

#: The metric trials are compared on: held-out J / J(eGLB-Off), lower is better.
METRIC = "ratio_to_offline"
SCHEDULERS = ("fifo", "asha")
#: Marks the report that uploads a finished run folder (URI storage): it repeats the last evaluation.
FINAL = "run_folder_final"
#: trial(params, folder, report): train one run into folder, calling report(row) after each evaluation.
TrialFunction = Callable[[dict, Path, Callable[[dict], None]], None]


@dataclass(frozen=True)
class TuneSettings:
    """How trials run.

    Attributes:
        samples: points drawn from the space (each grid value is run ``samples`` times).
        scheduler: "fifo" (every trial runs to its end) or "asha" (early stopping on the held-out ratio).
        storage: a folder or a URI Ray's storage accepts. name: the experiment's folder under it.
        cpus_per_trial: CPUs each trial reserves (its environments, or bc's labelling processes).
        seed: seed of the sampling of the space.
        grace_evaluations: evaluations every trial gets before ASHA may stop it (>= 2: a trial stopped
            then has a complete checkpoint). max_evaluations: ASHA's horizon (evaluations per run).
        max_failures: restarts of a trial after a lost worker or an error.
        verbose: Tune's console output (0 silent, 1 status tables).
        runs: the folder of the trials' run folders (None: ``experiment/runs``; folder storage only).
        folder_key: name each trial's run folder after this parameter (``seed`` -> ``seed-3``, the
            members of a run group) instead of the trial's id (``trial-ID``).
    """

    samples: int = 8
    scheduler: str = "fifo"
    storage: str = "runs"
    name: str = "tune"
    cpus_per_trial: float = 1
    seed: int = 0
    grace_evaluations: int = 2
    max_evaluations: int = 20
    max_failures: int = 2
    verbose: int = 0
    runs: str | None = None
    folder_key: str | None = None

    def __post_init__(self):
        if self.samples < 1:
            raise InputError(f"--samples must be >= 1, got {self.samples}")
        if self.scheduler not in SCHEDULERS:
            raise InputError(f"--scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}")
        if self.cpus_per_trial <= 0 or self.grace_evaluations < 2 or self.max_evaluations < self.grace_evaluations:
            raise InputError("tune settings need cpus_per_trial > 0 and 2 <= grace_evaluations <= max_evaluations")

    @property
    def is_uri(self) -> bool:
        return "://" in self.storage

    @property
    def experiment(self) -> str:
        """Where Tune keeps the experiment (a folder path or a URI)."""
        if self.is_uri:
            return f"{self.storage.rstrip('/')}/{self.name}"
        return str(Path(self.storage).resolve() / self.name)


@dataclass
class TuneOutcome:
    """trials: one row per trial (``trial_id``, ``status``, ``folder``, the sampled parameters,
    ``best_ratio``, ``last_ratio``, ``evaluations``, ``steps``), best first; best: the best trial's row;
    experiment: where Tune keeps its state."""

    trials: list[dict]
    best: dict
    experiment: str
    files: list[Path] = field(default_factory=list)


def _metrics(row: dict) -> dict:
    return {k: v.item() if hasattr(v, "item") else v for k, v in row.items()}  # numpy scalars as plain numbers


def folder_name(params: dict, trial_id: str, key: str | None) -> str:
    """A trial's run folder: ``KEY-VALUE`` of its parameter ``key``, or ``trial-ID``."""
    return f"{key}-{params[key]}" if key is not None else f"trial-{trial_id}"


def make_trainable(trial: TrialFunction, runs: Path | None, key: str | None = None) -> Callable[[dict], None]:
    """The Tune function trainable around ``trial``; ``runs``: the folder of run folders (None with a
    URI storage); ``key``: the parameter that names each run folder (None: the trial id)."""

    def trainable(params: dict) -> None:
        context = tune.get_context()
        if runs is not None:
            folder = runs / folder_name(params, context.get_trial_id(), key)
            trial(params, folder, lambda row: tune.report(_metrics(row)))
            return
        folder = Path.cwd() / "run"
        saved = tune.get_checkpoint()
        if saved is not None:
            with saved.as_directory() as path:
                shutil.copytree(path, folder, dirs_exist_ok=True)
        last: dict = {}

        def report(row: dict) -> None:
            last.update(_metrics(row))
            tune.report(dict(last), checkpoint=tune.Checkpoint.from_directory(folder))

        trial(params, folder, report)
        if last:  # the finished run folder (results, summary), after the last evaluation's report
            tune.report({**last, FINAL: 1}, checkpoint=tune.Checkpoint.from_directory(folder))

    return trainable


def run_tune(trial: TrialFunction, space: SearchSpace, settings: TuneSettings) -> TuneOutcome:
    """Run (or resume) the trials on the connected Ray; return them, best first."""
    experiment = settings.experiment
    runs = None if settings.is_uri else Path(settings.runs).resolve() if settings.runs else Path(experiment) / "runs"
    # Run folders go up as checkpoints at every evaluation by design: Tune's warning about it is noise.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    trainable = tune.with_resources(make_trainable(trial, runs, settings.folder_key), {"cpu": settings.cpus_per_trial})
    if tune.Tuner.can_restore(experiment):
        tuner = tune.Tuner.restore(experiment, trainable, resume_unfinished=True, resume_errored=True)
    else:
        scheduler = None
        if settings.scheduler == "asha":
            # max_t one past the last evaluation: a trial that reaches its end finishes its run folder
            # (final checkpoint, results) instead of being stopped at its last report.
            scheduler = tune.schedulers.ASHAScheduler(
                time_attr="training_iteration",
                max_t=settings.max_evaluations + 1,
                grace_period=settings.grace_evaluations,
                reduction_factor=2,
            )
        tuner = tune.Tuner(
            trainable,
            param_space=dict(space.domains),
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode="min",
                num_samples=settings.samples,
                scheduler=scheduler,
                search_alg=tune.search.BasicVariantGenerator(random_state=settings.seed),
            ),
            run_config=tune.RunConfig(
                name=settings.name,
                storage_path=settings.storage if settings.is_uri else str(Path(settings.storage).resolve()),
                failure_config=tune.FailureConfig(max_failures=settings.max_failures),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                verbose=settings.verbose,
            ),
        )
    grid = tuner.fit()
    trials = []
    for result in grid:
        frame = result.metrics_dataframe
        if frame is not None and FINAL in frame:
            frame = frame[frame[FINAL] != 1]
        history = [] if frame is None or METRIC not in frame else [v for v in frame[METRIC].tolist() if not math.isnan(v)]
        metrics = result.metrics or {}
        trial_id = metrics.get("trial_id") or Path(result.path).name
        if runs is not None:
            folder = str(runs / folder_name(result.config or {}, trial_id, settings.folder_key))
        else:
            scheme = settings.storage.split("://", 1)[0]
            folder = (
                f"{scheme}://{result.checkpoint.path.lstrip('/') if scheme != 'file' else result.checkpoint.path}"
                if result.checkpoint
                else None
            )
        trials.append(
            {
                "trial_id": trial_id,
                "status": "error" if result.error else "done",
                "folder": folder,
                **{f"param.{k}": v for k, v in (result.config or {}).items()},
                "best_ratio": min(history) if history else None,
                "last_ratio": history[-1] if history else None,
                "evaluations": len(history),
                "steps": metrics.get("steps"),
            }
        )
    ranked = sorted(trials, key=lambda r: (r["best_ratio"] is None, r["best_ratio"] if r["best_ratio"] is not None else 0))
    if not ranked or ranked[0]["best_ratio"] is None:
        errors = [str(r.error).strip().splitlines()[-1] for r in grid if r.error]
        raise InputError("no trial reported an evaluation" + (f": {errors[0]}" if errors else ""))
    return TuneOutcome(ranked, ranked[0], experiment)
