"""Learning agents and train.py: each algorithm trains briefly, reloads and acts identically, and a
short imitation run really improves J; every user mistake is one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import evaluate
import train
from agents.config import DataConfig, EnvConfig, RunConfig, apply_sets, load_hyperparams
from agents.learned import load_learned
from agents.rollout import rollout
from envs.errors import InputError
from envs.synthetic import make_synthetic

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "ppo": ["--set", "model.n_steps=64", "--set", "model.batch_size=64", "--set", "model.n_epochs=2"],
    "a2c": ["--set", "model.n_steps=8"],
    "sac": ["--set", "model.learning_starts=50", "--set", "model.batch_size=32"],
    "td3": ["--set", "model.learning_starts=50", "--set", "model.batch_size=32"],
    "recurrent-ppo": ["--set", "model.n_steps=32", "--set", "model.batch_size=32", "--set", "model.n_epochs=1"],
    "bc": ["--set", "model.episodes_per_iteration=3", "--set", "model.epochs=3", "--set", "model.workers=1"],
}


def short_run(tmp_path: Path, algo: str, timesteps: int, *extra: str) -> Path:
    args = ["--algo", algo, "--synthetic", "--timesteps", str(timesteps), "--eval-freq", str(max(timesteps // 2, 1)),
            "--n-envs", "1", "--set", "env.episode_hours=24", "--eval-seeds", "0", "--out", str(tmp_path),
            "--name", algo, "--no-progress", *TINY[algo], *extra]
    assert train.main(args) == 0
    return tmp_path / algo


@pytest.mark.parametrize("algo", ["ppo", "a2c", "sac", "td3", "recurrent-ppo", "bc"])
def test_each_algorithm_trains_saves_and_reloads_identically(tmp_path, algo, capsys):
    folder = short_run(tmp_path, algo, 72 if algo == "bc" else 200)
    for name in ("config.yaml", "command.txt", "eval.csv", "learning_curve.png", "results.json", "summary.json"):
        assert (folder / name).is_file(), name
    assert list((folder / "tb").glob("events.out.tfevents.*"))
    assert (folder / "progress.csv").read_text().strip()
    config = RunConfig.from_dict(yaml.safe_load((folder / "config.yaml").read_text()))
    assert config.algo == algo and config.scenario_shape == (10, 10) and config.observation_scale is not None
    scenario = make_synthetic(7, hours=36)
    first = rollout(load_learned(algo, folder), scenario)
    again = rollout(load_learned(algo, folder), scenario)
    np.testing.assert_array_equal(first.energy, again.energy)
    assert first.metrics.J == pytest.approx(-first.returns, rel=1e-10)
    # The run's results compare it with the classical algorithms on the held-out trace.
    rows = json.loads((folder / "results.json").read_text())
    assert {r["algo"] for r in rows} == {f"{algo}:{folder}", "eglb", "eglb-off", "glb-cost"}
    # evaluate.py takes it as KIND:RUN_FOLDER.
    assert evaluate.main(["--synthetic-hours", "30", "--algos", f"{algo}:{folder},eglb", "--no-progress"]) == 0
    assert f"{algo}:{folder}" in capsys.readouterr().out


def test_sb3_model_reloads_with_identical_actions(tmp_path):
    from agents.sb3_agents import build_model, load_model, save_model
    from agents.training_env import make_env

    config = RunConfig("td3", env=EnvConfig(episode_hours=24)).for_scenario(make_synthetic(0, hours=24))
    env = make_env(config, None, seed=0)
    model = build_model("td3", env, {"learning_starts": 20, "batch_size": 16}, seed=0)
    model.learn(60)
    save_model(model, tmp_path / "m.zip")
    loaded = load_model("td3", tmp_path / "m.zip")
    observations = np.stack([env.observation_space.sample() for _ in range(20)])
    np.testing.assert_array_equal(model.predict(observations, deterministic=True)[0], loaded.predict(observations, deterministic=True)[0])


def test_a_short_imitation_run_improves_J(tmp_path):
    from agents.imitation import DualNetwork, NetworkPredictor
    from agents.learned import LearnedPolicy
    from agents.offline import EGLBOffline

    folder = short_run(tmp_path, "bc", 3 * 6 * 48, "--set", "env.episode_hours=48", "--set", "model.episodes_per_iteration=6",
                       "--set", "model.epochs=40", "--set", "model.label_every=4")
    trained = load_learned("bc", folder)
    config = RunConfig.from_dict(yaml.safe_load((folder / "config.yaml").read_text()))
    import torch

    torch.manual_seed(0)
    untrained = LearnedPolicy(NetworkPredictor(DualNetwork(trained.builder.size, 10, (256, 256))), config.env,
                              config.observation_scale, (10, 10), "untrained")
    scenario = make_synthetic(11, hours=48)
    offline = EGLBOffline().solve(scenario).objective
    before = rollout(untrained, scenario).metrics.J / offline
    after = rollout(trained, scenario).metrics.J / offline
    assert after < before - 0.02, (before, after)


def test_resume_continues_an_interrupted_run(tmp_path):
    folder = short_run(tmp_path, "bc", 24 * 3)
    steps = [int(line.split(",")[0]) for line in (folder / "eval.csv").read_text().splitlines()[1:]]
    assert train.main(["--resume", str(folder), "--timesteps", str(24 * 3 * 2), "--no-progress"]) == 0
    later = [int(line.split(",")[0]) for line in (folder / "eval.csv").read_text().splitlines()[1:]]
    assert later[: len(steps)] == steps and later[-1] == 144
    assert (folder / "progress-2.csv").is_file()
    assert yaml.safe_load((folder / "config.yaml").read_text())["timesteps"] == 144


def test_configuration_merges_defaults_scenario_blocks_and_overrides():
    synthetic, published = load_hyperparams("bc", "synthetic"), load_hyperparams("bc", "eglb2022")
    assert synthetic["env"]["episode_hours"] == 168 and published["env"]["episode_hours"] == 96
    assert published["model"]["hidden"] == synthetic["model"]["hidden"]  # deep merge keeps the rest
    changed = apply_sets(synthetic, ["model.learning_rate=1e-4", "env.forecast_hours=3", "model.hidden=[64, 64]"])
    assert changed["model"]["learning_rate"] == 1e-4 and changed["env"]["forecast_hours"] == 3
    assert changed["model"]["hidden"] == [64, 64] and changed["model"]["epochs"] == synthetic["model"]["epochs"]
    config = RunConfig("ppo", env=EnvConfig(forecast_hours=2), data=DataConfig(train_hours=(0, 300), eval_hours=(300, 457)))
    config = config.for_scenario(make_synthetic(0, hours=10))
    assert RunConfig.from_dict(yaml.safe_load(yaml.safe_dump(config.to_dict()))) == config
    with pytest.raises(InputError, match="env.action_mode must be one of"):
        EnvConfig(action_mode="psychic")


def run_cli(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--algo is required"),
        (["--algo", "dqn"], "argument --algo: invalid choice"),
        (["--algo", "ppo", "--hours", "0:10"], "--hours and --eval-hours select hours of --traces"),
        (["--algo", "ppo", "--set", "model"], "--set expects KEY=VALUE"),
        (["--algo", "ppo", "--set", "modle.gamma=0.9"], "unknown configuration key 'modle'"),
        (["--algo", "ppo", "--set", "env.action_mode=psychic"], "env.action_mode must be one of"),
        (["--algo", "ppo", "--timesteps", "0"], "timesteps must be a positive integer"),
        (["--algo", "ppo", "--eval-seeds", "5000"], "--eval-seeds must be held-out seeds"),
        (["--resume", "/nonexistent/run"], "run folder /nonexistent/run does not exist"),
        (["--algo", "ppo", "--torch-threads", "0"], "--torch-threads must be >= 1"),
        (["--algo", "bc", "--robust", "0.1"], "use an RL algorithm"),
        (["--algo", "bc", "--set", "env.residual=true"], "env.residual is for RL algorithms"),
        (["--algo", "ppo", "--set", "env.residual=true", "--robust", "0.1"], "--robust with env.residual is not supported"),
        (["--algo", "ppo", "--robust", "lots"], "--robust must look like LAMBDA, LAMBDA,B or"),
        (["--algo", "ppo", "--robust", "0.1,2,cubic"], "--robust must look like LAMBDA, LAMBDA,B or"),
    ],
)
def test_train_mistakes_give_one_line(args, message):
    done = run_cli("train.py", "--no-progress", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_trace_windows_must_not_overlap_and_must_fit(published_path, tmp_path):
    done = run_cli("train.py", "--algo", "bc", "--traces", str(published_path), "--hours", "0:300", "--eval-hours", "200:457",
                   "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 2 and "training hours 0:300 and evaluation hours 200:457 overlap" in done.stderr
    done = run_cli("train.py", "--algo", "bc", "--traces", str(published_path), "--hours", "0:50", "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 2 and "longer than the 50 training hours" in done.stderr


def test_existing_folders_and_incompatible_models_are_clear(tmp_path):
    folder = short_run(tmp_path, "bc", 24)
    done = run_cli("train.py", "--algo", "bc", "--out", str(tmp_path), "--name", "bc", "--no-progress")
    assert done.returncode == 2 and "exists: continue it with --resume" in done.stderr
    small = tmp_path / "small"
    from helpers import random_scenario

    from envs.csv_format import save_scenario

    save_scenario(random_scenario(0, n_regions=3, n_gateways=2, hours=5), small)
    done = run_cli("evaluate.py", "--traces", str(small), "--algos", f"bc:{folder}", "--no-progress")
    assert done.returncode == 2 and "was trained for 10 regions x 10 gateways" in done.stderr
    done = run_cli("evaluate.py", "--algos", f"ppo:{folder}", "--no-progress")
    assert done.returncode == 2 and "holds a bc run, not ppo" in done.stderr
    done = run_cli("evaluate.py", "--algos", f"bc:{tmp_path / 'nothing'}", "--no-progress")
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_robustification_aware_training_keeps_the_guarantee(tmp_path):
    from robust.layer import RobustPolicy

    folder = short_run(tmp_path, "ppo", 128, "--robust", "0.05,10,sqrt")
    config = RunConfig.from_dict(yaml.safe_load((folder / "config.yaml").read_text()))
    assert config.robust is not None and (config.robust.lam, config.robust.b, config.robust.slack) == (0.05, 10, "sqrt")
    policy = load_learned("ppo", folder)
    assert isinstance(policy, RobustPolicy)  # the layer comes back with the policy trained inside it
    scenario = make_synthetic(3, hours=48)
    episode = rollout(policy, scenario)
    assert episode.metrics.J <= policy.summary()["bound"] * (1 + 1e-12)
    thetas = [info["theta"] for info in episode.infos]
    assert min(thetas) >= 0 and max(thetas) <= 1
    from agents.training_env import make_env
    from robust.wrapper import RobustTrainingEnv

    env = make_env(config, None, seed=1)
    assert isinstance(env, RobustTrainingEnv)
    obs, _ = env.reset(seed=1)
    assert obs.shape == env.observation_space.shape == (93 + 31,)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert {"theta", "slack", "expert_J"} <= set(info)


@pytest.mark.slow
def test_ppo_training_improves_J_on_a_fixed_scenario(tmp_path):
    """A real RL run (a few minutes): PPO on the dual action beats its untrained self clearly."""
    folder = tmp_path / "ppo"
    args = ["--algo", "ppo", "--synthetic", "--timesteps", "60000", "--eval-freq", "20000", "--eval-seeds", "0",
            "--set", "env.episode_hours=48", "--set", "env.residual=false", "--out", str(tmp_path), "--name", "ppo", "--no-progress"]
    assert train.main(args) == 0
    history = [float(line.split(",")[1]) for line in (folder / "eval.csv").read_text().splitlines()[1:]]
    from agents.learned import learned_policy
    from agents.offline import EGLBOffline
    from agents.sb3_agents import Sb3Predictor, build_model
    from agents.training_env import make_env

    config = RunConfig.from_dict(yaml.safe_load((folder / "config.yaml").read_text()))
    untrained = build_model("ppo", make_env(config, None, seed=0), config.model, seed=0)
    scenario = make_synthetic(0, hours=48)
    offline = EGLBOffline().solve(scenario).objective
    before = rollout(learned_policy(Sb3Predictor(untrained), config, "untrained"), scenario).metrics.J / offline
    after = rollout(load_learned("ppo", folder), scenario).metrics.J / offline
    assert after < before - 0.03 and min(history) == pytest.approx(after, rel=1e-9)


def test_residual_learning_starts_from_the_expert(tmp_path):
    from agents.eglb_online import EGLBOnline
    from agents.learned import learned_policy
    from agents.residual import ResidualDualEnv, ResidualPolicy
    from agents.training_env import make_env

    config = RunConfig("ppo", env=EnvConfig(episode_hours=24, residual=True)).for_scenario(make_synthetic(0, hours=24))
    zero = learned_policy(lambda obs: np.zeros(20), config, "zero")
    assert isinstance(zero, ResidualPolicy)
    scenario = make_synthetic(5, hours=48, setting="partial")
    np.testing.assert_array_equal(rollout(zero, scenario).energy, rollout(EGLBOnline(), scenario).energy)
    env = make_env(config, None, seed=0)
    assert isinstance(env.env, ResidualDualEnv) and env.observation_space.shape == (93 + 20,)
    obs, _ = env.reset(seed=0)
    _, _, _, _, info = env.step(np.full(20, np.nan))  # junk actions count as 0: the expert's routing
    assert np.isfinite(info["energy"]).all()
    folder = short_run(tmp_path, "ppo", 128, "--set", "env.residual=true")
    policy = load_learned("ppo", folder)
    assert isinstance(policy, ResidualPolicy)
    np.testing.assert_array_equal(rollout(policy, scenario.window(0, 24)).energy, rollout(load_learned("ppo", folder), scenario.window(0, 24)).energy)
    with pytest.raises(InputError, match="needs env.action_mode 'dual'"):
        EnvConfig(action_mode="routing", residual=True)
