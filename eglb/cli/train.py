"""Train a policy on traces: reinforcement learning (stable-baselines3) or imitation of eGLB-Off.

    python train.py --algo bc --synthetic                          # imitation, new synthetic trace per episode
    python train.py --algo sac --synthetic --timesteps 200000 --n-envs 2
    python train.py --algo ppo --traces ../shared/data/eglb-2022 --hours 0:300 --eval-hours 300:457
    python train.py --resume runs/ppo-synthetic-s0                   # continue an interrupted run
    python train.py --algo bc --synthetic --seeds 0-2 --name bc3     # three seeds in a run group runs/bc3/seed-K
    python train.py --algo bc --synthetic --seeds 0-2 --ray          # the seeds as Ray Tune trials
    python train.py --algo bc --synthetic --ray                      # DAgger's labelling LPs as Ray tasks
    python train.py --algo ppo --synthetic --tune sweeps/spaces/ppo.yml --samples 8 --scheduler asha --ray auto
    python train.py --algo ppo --synthetic --jobs stream --models llama3.1-batch128:target=80   # FlexGLBEnv

Every run gets a folder (``--out``, default runs/) with config.yaml (the exact configuration),
command.txt, the policy card and weights (policy.json, policy.pt, best_policy.pt), TensorBoard logs
(tb/) and progress.csv, eval.csv, a learning curve (learning_curve.png: J / J(eGLB-Off) on the
held-out traces against training steps) and results.json/.csv comparing the trained policy with the
classical algorithms on the held-out traces. Evaluate it later with
``python evaluate.py --algos ppo:runs/NAME,eglb,...``.

``--seeds 0-2`` trains one run per seed into a run group (runs/NAME/seed-0, ...; eglb/groups.py),
one after another or, with ``--ray``, as Ray Tune trials; the group folder adds the learning curves'
mean with a 95 % band and the held-out results over seeds x traces (mean and IQM with 95 %
bootstrap intervals). ``evaluate.py --algos ppo:runs/NAME`` evaluates every seed of it, and
``--resume runs/NAME`` continues the unfinished seeds.

``--tune SPACE.yml`` runs Ray Tune trials instead (sweeps/spaces/ALGO.yml ships a space per
algorithm; the format is in sweeps/spaces.py): each trial is a run folder under
``STORAGE/NAME/runs/``, the best one is reported, and running the same command again resumes an
interrupted search.
"""

from __future__ import annotations

import sys
from pathlib import Path

from eglb.cli import ArgumentParser, add_knob_options, add_ray_option, parse_hours, parse_seeds, require_with, run_cli, smoke
from eglb.cluster import mapper_for
from eglb.envs.errors import InputError
from eglb.envs.limits import MAX_JOB_SLOTS
from eglb.evaluation import command_line, summary_text
from eglb.groups import seeds_label, train_seeds
from eglb.importers.workload import MODEL_SOURCES
from eglb.scenarios import is_history_folder
from eglb.trainer import MAX_TORCH_THREADS, train, training_config
from eglb.training.algorithms import ALGOS
from eglb.training.config import DataConfig, KnobConfig, RobustConfig
from eglb.training.run_folder import check_run_name
from eglb.training.run_group import is_run_group
from eglb.tuning import TuneConfig, tune

#: Labelling LPs per Ray task with --ray: None groups them into a few tasks per CPU of the cluster (one
#: LP per task costs more in Ray's overhead than it gains; benchmarks/bench_ray.py).
LABELS_PER_TASK = None


#: What a new run's configuration is made of (argparse destinations): none of it applies to --resume.
RUN_OPTIONS = [
    "algo", "traces", "synthetic", "setting", "hours", "eval_hours", "regions", "years", "eval_years", "eval_windows",
    "workload", "zones", "eval_seeds", "seed", "n_envs", "eval_freq", "set", "robust", "out", "name", "jobs", "models", "job_slots",
]  # fmt: skip


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="train.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--algo", choices=ALGOS, help="algorithm to train")
    data = parser.add_argument_group("data")
    source = data.add_mutually_exclusive_group()
    source.add_argument("--traces", metavar="DIR", help="train on random windows of these traces' training hours")
    source.add_argument("--synthetic", action="store_true", help="train on synthetic traces, a new seed per episode (default)")
    data.add_argument("--setting", choices=("full", "partial"), default=None, help="mask (default full)")
    data.add_argument("--hours", metavar="START:END", help="training hours of --traces (default: the first two thirds)")
    data.add_argument("--eval-hours", metavar="START:END", help="held-out evaluation hours of --traces (default: the rest)")
    data.add_argument(
        "--regions",
        help="with the history folder: region names, complete14 (default) or eglb2022 (the published regions' stand-ins)",
    )
    data.add_argument("--years", help="with the history folder: training years (default 2021-2022)")
    data.add_argument(
        "--eval-years", help="with the history folder: held-out selection years (default 2023; 2024 is the test year)"
    )
    data.add_argument(
        "--eval-windows", type=int, help="with the history folder: held-out windows of an episode's length (default 8)"
    )
    data.add_argument(
        "--workload",
        choices=MODEL_SOURCES,
        help="with the history folder or --zones: gateway-load model (default bloom)",
    )
    data.add_argument(
        "--zones",
        help="with --synthetic: draw these history zones from the generator calibrated on the "
        "2021-2022 history (complete14 or zone names; default: the published-set generator)",
    )
    data.add_argument("--eval-seeds", metavar="S1,S2,...", help="held-out synthetic seeds for evaluation (default 0,1,2)")
    add_knob_options(data)  # the training and held-out scenarios get them: the environment is FlexGLBEnv
    data.add_argument(
        "--job-slots",
        type=int,
        metavar="Q",
        help="with --jobs: pending jobs the policy sees and acts on, earliest deadlines first (default: the most "
        "pending at once in the training data)",
    )
    run = parser.add_argument_group("run")
    run.add_argument("--timesteps", type=int, help="environment steps to train for (default: the hyperparameter file's)")
    run.add_argument("--seed", type=int, help="seed of every random choice (default 0)")
    run.add_argument(
        "--seeds",
        metavar="SEEDS",
        help="train one run per seed (0-2, 0,3,7) into a run group: --name's folder holds seed-K run folders "
        "and the report across seeds (with --ray: the seeds as Ray Tune trials)",
    )
    run.add_argument("--n-envs", type=int, help="parallel environments (subprocesses when > 1)")
    run.add_argument("--eval-freq", type=int, help="environment steps between evaluations (default: about 20 per run)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter, e.g. --set model.learning_rate=1e-4 --set env.episode_hours=96",
    )
    run.add_argument(
        "--robust",
        metavar="LAMBDA[,B[,SCHEDULE]]",
        help="robustification-aware training: the layer with this lambda (slack b, schedule const|sqrt|linear) inside the environment",
    )
    run.add_argument("--out", default="runs", metavar="DIR", help="parent folder of run folders (default runs/)")
    run.add_argument("--name", help="run folder name (default: ALGO-DATA-sSEED)")
    run.add_argument(
        "--resume", metavar="RUN", help="continue the run in this folder from its last checkpoint (its config is reused)"
    )
    run.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="threads torch may use (default 1: faster for these small networks on a shared CPU)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_ray_option(run, "bc's labelling LPs (with --tune or --seeds: the trials)")
    search = parser.add_argument_group("hyperparameter search (Ray Tune)")
    search.add_argument(
        "--tune", metavar="SPACE.yml", help="run trials over this search space (dotted keys as --set; see sweeps/spaces/)"
    )
    search.add_argument("--samples", type=int, default=8, help="points drawn from the space (default 8)")
    search.add_argument(
        "--scheduler",
        choices=("fifo", "asha"),
        default="fifo",
        help="asha: stop trials whose held-out J / J(eGLB-Off) lags (default fifo: run every trial to its end)",
    )
    search.add_argument(
        "--storage",
        metavar="DIR_OR_URI",
        help="where trials and Tune's state go: a folder shared by the cluster's nodes or a URI "
        "such as s3://bucket/path (default --out)",
    )
    return parser


def parse_robust(text: str) -> RobustConfig:
    """'LAMBDA[,B[,SCHEDULE]]' into the layer's settings."""
    parts = [p.strip() for p in text.split(",")]
    usage = f"--robust must look like LAMBDA, LAMBDA,B or LAMBDA,B,const|sqrt|linear with numbers >= 0, got {text!r}"
    try:
        lam, b = float(parts[0]), float(parts[1]) if len(parts) > 1 else 0.0
    except ValueError:
        raise InputError(usage) from None
    schedule = parts[2] if len(parts) > 2 else "const"
    if len(parts) > 3 or not lam >= 0 or not b >= 0 or schedule not in ("const", "sqrt", "linear"):
        raise InputError(usage)
    return RobustConfig(lam=lam, b=b, slack=schedule)


def knob_config(jobs: str | None, models: str | None, job_slots: int | None = None) -> KnobConfig | None:
    """``--jobs``/``--models``/``--job-slots`` as the run's knobs (None without any); a job list's path
    is stored absolute, as ``--traces``, so the run folder rebuilds its scenarios from anywhere."""
    if job_slots is not None and not jobs:
        raise InputError("--job-slots sets how many of the --jobs the policy sees: give --jobs")
    if job_slots is not None and not 0 <= job_slots <= MAX_JOB_SLOTS:
        raise InputError(f"--job-slots must be in 0..{MAX_JOB_SLOTS:,}, got {job_slots}")
    if not (jobs or models):
        return None
    if jobs and not (jobs == "stream" or jobs.startswith("stream:")):
        if not Path(jobs).is_file():
            raise InputError(f"--jobs {jobs!r} is neither 'stream[:...]' nor an existing job list file")
        jobs = str(Path(jobs).resolve())
    return KnobConfig(jobs=jobs, models=models, job_slots=job_slots)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.torch_threads <= MAX_TORCH_THREADS:
        raise InputError(f"--torch-threads must be in 1..{MAX_TORCH_THREADS}, got {args.torch_threads}")
    progress = not args.no_progress
    if args.tune and args.resume:
        raise InputError("--tune starts or resumes a search by its --name; --resume continues one run")
    if not args.tune and (args.storage or args.samples != 8 or args.scheduler != "fifo"):
        raise InputError("--samples, --scheduler and --storage go with --tune SPACE.yml")
    if args.seeds and (args.seed is not None or args.tune or args.resume):
        raise InputError(
            "--seeds trains a run group: it goes without --seed, --tune and --resume (resume a group with --resume GROUP)"
        )
    # --resume reuses the run's config.yaml: anything that would change it is refused, not ignored.
    require_with(parser, args, RUN_OPTIONS, not args.resume, "to start a run: --resume continues one with its own config.yaml")
    history = bool(args.traces) and is_history_folder(args.traces)
    require_with(parser, args, ["eval_windows"], history, "with the history folder (--traces)")
    require_with(parser, args, ["eval_seeds"], not args.traces, "with synthetic training, not with --traces")
    require_with(parser, args, ["workload"], history or bool(args.zones), "with the history folder (--traces) or --zones")
    if args.resume and is_run_group(args.resume):
        group = train_seeds(
            folder=args.resume,
            resume=True,
            timesteps=args.timesteps,
            progress=progress,
            torch_threads=args.torch_threads,
            address=args.ray,
        )
        return print_group(group)
    if args.resume:
        with mapper_for(args.ray, items_per_task=LABELS_PER_TASK) as labels:
            summary = train(
                folder=args.resume,
                resume=True,
                timesteps=smoke.resumed_timesteps(args.timesteps) if smoke.enabled() else args.timesteps,
                progress=progress,
                torch_threads=args.torch_threads,
                label_mapper=labels,
            )
    else:
        if args.algo is None:
            raise InputError("--algo is required (or --resume RUN)")
        if not args.traces and (args.hours or args.eval_hours):
            raise InputError("--hours and --eval-hours select hours of --traces; synthetic training draws new traces")
        data = DataConfig(
            traces=str(Path(args.traces).resolve()) if args.traces else None,
            setting=args.setting or "full",
            train_hours=parse_hours(args.hours) if args.hours else None,
            eval_hours=parse_hours(args.eval_hours, "--eval-hours") if args.eval_hours else None,
            eval_seeds=parse_seeds(args.eval_seeds, "--eval-seeds") if args.eval_seeds else DataConfig.eval_seeds,
            regions=args.regions,
            years=args.years,
            eval_years=args.eval_years,
            eval_windows=DataConfig.eval_windows if args.eval_windows is None else args.eval_windows,
            workload=args.workload or DataConfig.workload,
            zones=args.zones,
        )
        seeds = parse_seeds(args.seeds, "--seeds") if args.seeds else None
        config = training_config(
            args.algo,
            data=data,
            seed=seeds[0] if seeds else args.seed or 0,
            timesteps=args.timesteps,
            n_envs=args.n_envs,
            eval_freq=args.eval_freq,
            sets=args.set,
            robust=parse_robust(args.robust) if args.robust else None,
            command=command_line("train.py", argv),
            knobs=knob_config(args.jobs, args.models, args.job_slots),
        )
        if smoke.enabled():
            config = smoke.training(config)
        if args.tune:
            return run_search(args, config)
        folder = Path(args.out) / check_run_name(args.name) if args.name is not None else None
        if seeds:
            group = train_seeds(
                config, seeds, folder, out=args.out, progress=progress, torch_threads=args.torch_threads, address=args.ray
            )
            return print_group(group)
        with mapper_for(args.ray, items_per_task=LABELS_PER_TASK) as labels:
            summary = train(
                config, folder, progress=progress, torch_threads=args.torch_threads, out=args.out, label_mapper=labels
            )
    print("mean J / J(eGLB-Off) over the held-out traces: " + ", ".join(f"{k} {v:.4f}" for k, v in summary.means.items()))
    print(f"trained in {summary.seconds:.0f} s; results in {summary.folder}")
    return 0


def print_group(group) -> int:
    """The report of a run group in the terminal."""
    print(f"held-out J / J(eGLB-Off) of {group.folder}, {summary_text(group.rows, group.summary)}")
    trained = f"trained seeds {seeds_label(group.trained)}" if group.trained else "every seed was already trained"
    print(
        f"{trained} in {group.seconds:.0f} s; results in {group.folder} (evaluate every seed with --algos {group.algo}:{group.folder})"
    )
    return 0


def run_search(args, config) -> int:
    outcome = tune(
        TuneConfig(
            config,
            space=args.tune,
            samples=smoke.samples(args.samples) if smoke.enabled() else args.samples,
            scheduler=args.scheduler,
            storage=args.storage or args.out,
            name=args.name,
            address=args.ray,
            verbose=not args.no_progress,
            out=args.out,
        )
    )
    print(f"{len(outcome.trials)} trials in {outcome.experiment}; held-out J / J(eGLB-Off), best first:")
    for row in outcome.trials:
        params = ", ".join(
            f"{k.removeprefix('param.')}={v:.4g}" if isinstance(v, float) else f"{k.removeprefix('param.')}={v}"
            for k, v in row.items()
            if k.startswith("param.")
        )
        best = f"{row['best_ratio']:.4f}" if row["best_ratio"] is not None else "none"
        print(f"  {best}  {row['evaluations']:>3} evaluations  {params}  {row['folder']}")
    print(f"best trial: {outcome.best['folder']} (evaluate it with --algos {config.algo}:{outcome.best['folder']})")
    print("wrote " + ", ".join(str(p) for p in outcome.files))
    return 0


def run() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    run()
