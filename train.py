"""Train a policy on traces: reinforcement learning (stable-baselines3) or imitation of eGLB-Off.

    python train.py --algo bc --synthetic                          # imitation, new synthetic trace per episode
    python train.py --algo sac --synthetic --timesteps 200000 --n-envs 2
    python train.py --algo ppo --traces ../shared/data/eglb-2022 --hours 0:300 --eval-hours 300:457
    python train.py --resume runs/ppo-synthetic-s0                   # continue an interrupted run

Every run gets a folder (``--out``, default runs/) with config.yaml (the exact configuration),
command.txt, the model (and best model), TensorBoard logs and progress.csv, eval.csv, a learning
curve (learning_curve.png: J / J(eGLB-Off) on the held-out traces against training steps) and
results.json/.csv comparing the trained policy with the classical algorithms on the held-out traces.
Evaluate it later with ``python evaluate.py --algos ppo:runs/NAME,eglb,...``.
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

import yaml

from agents.config import ALGOS, DataConfig, EnvConfig, RobustConfig, RunConfig, apply_sets, known_keys, load_hyperparams
from envs.cli import ArgumentParser, parse_hours, run_cli
from envs.errors import InputError
from envs.files import atomic_write_text


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
    data.add_argument("--eval-seeds", metavar="S1,S2,...", help="held-out synthetic seeds for evaluation (default 0,1,2)")
    run = parser.add_argument_group("run")
    run.add_argument("--timesteps", type=int, help="environment steps to train for (default: the hyperparameter file's)")
    run.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    run.add_argument("--n-envs", type=int, help="parallel environments (subprocesses when > 1)")
    run.add_argument("--eval-freq", type=int, help="environment steps between evaluations")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a hyperparameter, e.g. --set model.learning_rate=1e-4 --set env.episode_hours=96")
    run.add_argument("--robust", metavar="LAMBDA[,B[,SCHEDULE]]",
                     help="robustification-aware training: the layer with this lambda (slack b, schedule const|sqrt|linear) inside the environment")
    run.add_argument("--out", default="runs", metavar="DIR", help="parent folder of run folders (default runs/)")
    run.add_argument("--name", help="run folder name (default: ALGO-DATA-sSEED)")
    run.add_argument("--resume", metavar="RUN", help="continue the run in this folder (its config is reused)")
    run.add_argument("--torch-threads", type=int, default=1,
                     help="threads torch may use (default 1: faster for these small networks on a shared CPU)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


# ----------------------------------------------------------------------------------- configuration
def scenario_key(args) -> str:
    if not args.traces:
        return "synthetic"
    from envs.eglb2022 import is_eglb2022_folder

    return "eglb2022" if is_eglb2022_folder(Path(args.traces)) else "traces"


def config_from_args(args, argv: list[str]) -> RunConfig:
    if args.algo is None:
        raise InputError("--algo is required (or --resume RUN)")
    values = load_hyperparams(args.algo, scenario_key(args))
    cli = {k: v for k, v in (("timesteps", args.timesteps), ("n_envs", args.n_envs), ("eval_freq", args.eval_freq)) if v is not None}
    values = apply_sets({**values, **cli}, args.set)
    unknown = set(values) - known_keys()
    if unknown:
        raise InputError(f"unknown configuration key {sorted(unknown)[0]!r} (known: {', '.join(sorted(known_keys()))})")
    for key in ("timesteps", "n_envs", "eval_freq"):
        if key in values and (not isinstance(values[key], int) or values[key] < 1):
            raise InputError(f"{key} must be a positive integer, got {values[key]!r}")
    if args.robust and not any(a.strip().startswith("env.residual") for a in args.set):
        # The layer runs the expert itself; residual learning is a default only of plain training.
        values = apply_sets(values, ["env.residual=false"])
    try:
        env = EnvConfig(**values.get("env", {}))
    except TypeError as exc:
        raise InputError(f"env settings: {exc}") from None
    data = DataConfig(
        traces=str(Path(args.traces).resolve()) if args.traces else None,
        setting=args.setting or "full",
        train_hours=parse_hours(args.hours) if args.hours else None,
        eval_hours=parse_hours(args.eval_hours) if args.eval_hours else None,
        eval_seeds=tuple(_seeds(args.eval_seeds)) if args.eval_seeds else DataConfig.eval_seeds,
        eval_synthetic_hours=env.episode_hours,
    )
    if not args.traces and (args.hours or args.eval_hours):
        raise InputError("--hours and --eval-hours select hours of --traces; synthetic training draws new traces")
    if args.algo == "bc" and env.residual:
        raise InputError("bc imitates the hindsight optimum's duals directly; env.residual is for RL algorithms")
    robust = None
    if args.robust:
        if args.algo == "bc":
            raise InputError("--robust trains with the layer inside the environment: use an RL algorithm (ppo, sac, td3, a2c)")
        robust = parse_robust(args.robust)
        if env.residual:
            raise InputError("--robust with env.residual is not supported: the layer already runs the expert")
    return RunConfig(
        algo=args.algo, seed=args.seed, robust=robust, timesteps=values.get("timesteps", RunConfig.timesteps),
        n_envs=values.get("n_envs", RunConfig.n_envs), eval_freq=values.get("eval_freq", RunConfig.eval_freq),
        env=env, data=data, model=values.get("model", {}),
        command="python train.py " + " ".join(shlex.quote(a) for a in argv),
    )


def parse_robust(text: str) -> RobustConfig:
    """'LAMBDA[,B[,SCHEDULE]]' into the layer's settings."""
    parts = [p.strip() for p in text.split(",")]
    usage = f"--robust must look like LAMBDA, LAMBDA,B or LAMBDA,B,const|sqrt|linear with numbers >= 0, got {text!r}"
    try:
        lam, b = float(parts[0]), float(parts[1]) if len(parts) > 1 else 0.0
    except ValueError:
        raise InputError(usage) from None
    schedule = parts[2] if len(parts) > 2 else "const"
    if len(parts) > 3 or lam < 0 or b < 0 or schedule not in ("const", "sqrt", "linear"):
        raise InputError(usage)
    return RobustConfig(lam=lam, b=b, slack=schedule)


def _seeds(text: str) -> list[int]:
    from envs.synthetic import HELD_OUT_SEEDS

    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise InputError(f"--eval-seeds must be comma-separated integers, got {text!r}") from None
    if any(not 0 <= s < HELD_OUT_SEEDS for s in seeds):
        raise InputError(f"--eval-seeds must be held-out seeds in 0..{HELD_OUT_SEEDS - 1} (training draws above)")
    return seeds


def scenarios_for(config: RunConfig):
    """(training scenario or None for synthetic, evaluation scenarios, reference for the scales)."""
    from envs.synthetic import make_synthetic
    from envs.traces import load_traces

    data = config.data
    if data.traces is None:
        evaluation = [make_synthetic(seed, hours=data.eval_synthetic_hours, setting=data.setting) for seed in data.eval_seeds]
        return None, evaluation, make_synthetic(0, hours=457, setting=data.setting)
    scenario = load_traces(data.traces, data.setting)
    t = scenario.n_hours
    train = data.train_hours or (0, (2 * t) // 3)
    held = data.eval_hours or (train[1] if train[1] != -1 else t, t)
    train = (train[0], t if train[1] == -1 else train[1])
    held = (held[0], t if held[1] == -1 else held[1])
    if max(train[0], held[0]) < min(train[1], held[1]):
        raise InputError(f"training hours {train[0]}:{train[1]} and evaluation hours {held[0]}:{held[1]} overlap")
    training = scenario.window(*train)
    if config.env.episode_hours > training.n_hours:
        raise InputError(
            f"env.episode_hours={config.env.episode_hours} is longer than the {training.n_hours} training hours; "
            "use --set env.episode_hours=H with a smaller H"
        )
    return training, [scenario.window(*held)], training


# ----------------------------------------------------------------------------------- the run folder
def prepare_run(args, argv) -> tuple[RunConfig, Path, bool]:
    if args.resume:
        folder = Path(args.resume)
        from agents.learned import read_run_config

        config = read_run_config(folder)
        if args.timesteps:
            config = replace(config, timesteps=args.timesteps)
            write_config(config, folder)
        return config, folder, True
    config = config_from_args(args, argv)
    data = "synthetic" if config.data.traces is None else Path(config.data.traces).name
    robust = f"-robust{config.robust.lam:g}" if config.robust else ""
    name = args.name or f"{config.algo}-{data}{robust}-s{config.seed}"
    folder = Path(args.out) / name
    if folder.exists():
        raise InputError(f"run folder {folder} exists: continue it with --resume {folder} or choose another --name")
    return config, folder, False


def write_config(config: RunConfig, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
    atomic_write_text(folder / "command.txt", config.command + "\n")


# ----------------------------------------------------------------------------------- training
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.torch_threads < 1:
        raise InputError(f"--torch-threads must be >= 1, got {args.torch_threads}")
    config, folder, resuming = prepare_run(args, argv)
    training, evaluation, reference = scenarios_for(config)
    import torch  # after every check: a mistake is reported before torch takes seconds to load

    torch.set_num_threads(args.torch_threads)
    if not resuming:
        config = config.for_scenario(reference)
        write_config(config, folder)
    from agents.evaluator import PeriodicEvaluator

    print(f"run folder {folder} ({'resuming' if resuming else 'new'}): {config.algo}, {config.timesteps:,} steps, "
          f"{'synthetic traces' if training is None else training.name + ' training hours'}")
    evaluator = PeriodicEvaluator(evaluation, folder)
    start = time.perf_counter()
    if config.algo == "bc":
        from agents.train_imitation import train_imitation

        train_imitation(config, training, evaluator, folder, resuming, progress=not args.no_progress)
    else:
        from agents.train_rl import train_rl

        train_rl(config, training, evaluator, folder, resuming, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    summarize(config, folder, evaluation, seconds)
    return 0


def summarize(config: RunConfig, folder: Path, evaluation, seconds: float) -> None:
    """Compare the trained policy with the classical algorithms on the held-out scenarios."""
    import numpy as np

    from report.run import run_algorithms
    from report.tables import format_table, result_rows, write_rows

    specs = [f"{config.algo}:{folder}", "eglb", "eglb-off", "glb-cost"]
    rows = []
    for scenario in evaluation:
        results, offline = run_algorithms(specs, scenario, progress=False)
        for row in result_rows(results, scenario, offline):
            rows.append({"scenario": scenario.name, **row})
    means = {spec: float(np.mean([r["ratio_to_offline"] for r in rows if r["algo"] == spec])) for spec in specs}
    summary = [{"algo": spec, "mean_ratio_to_offline": value, "training_seconds": seconds if spec == specs[0] else None}
               for spec, value in means.items()]
    write_rows(rows, folder, "results")
    write_rows(summary, folder, "summary")
    print(format_table([r for r in rows if r["scenario"] == evaluation[0].name]))
    print("mean J / J(eGLB-Off) over the held-out traces: " + ", ".join(f"{k} {v:.4f}" for k, v in means.items()))
    print(f"trained in {seconds:.0f} s; results in {folder}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
