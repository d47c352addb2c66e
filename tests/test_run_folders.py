"""Run folders and loaded files: nothing a user loads runs code, neighbours and kills lose nothing, every
mistake is one clear line."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock
from eglb.robust.learned import load_learned
from test_learning import short_run

from eglb.cli import train

ROOT = Path(__file__).resolve().parents[1]


class _Payload:
    """Unpickling this creates a file: proof that a loader executed code from the data."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_weights_that_would_run_code_are_refused_without_running_it(tmp_path):
    folder = short_run(tmp_path, "bc", 24)
    marker = tmp_path / "pwned"
    for name in ("best_policy.pt", "policy.pt"):
        with open(folder / name, "wb") as handle:
            pickle.dump({"state": _Payload(marker)}, handle)
    with pytest.raises(InputError, match="cannot read weights"):
        load_learned(folder)
    assert not marker.exists()


def test_a_checkpoint_that_would_run_code_is_refused_on_resume(tmp_path, run_cli):
    folder = short_run(tmp_path, "ppo", 128)
    marker = tmp_path / "pwned"
    state = next(folder.glob("checkpoint-*/state.pt"))
    with open(state, "wb") as handle:
        pickle.dump({"state_dicts": _Payload(marker)}, handle)
    done = run_cli("train.py", "--resume", str(folder), "--timesteps", "256", "--no-progress")
    assert done.returncode == 2 and "cannot read a checkpoint from" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_a_foreign_sb3_zip_needs_the_explicit_opt_in(tmp_path, run_cli):
    import gymnasium as gym
    from stable_baselines3 import PPO

    import eglb  # noqa: F401  (registers the ready-to-train ids)

    model = PPO("MlpPolicy", gym.make("GLB-Synthetic-v0"), n_steps=64, batch_size=64, n_epochs=1, seed=0)
    model.learn(64)
    model.save(tmp_path / "model.zip")
    spec = f"sb3:ppo:{tmp_path / 'model.zip'}"
    done = run_cli("evaluate.py", "--synthetic-hours", "30", "--algos", spec, "--no-progress")
    assert done.returncode == 2 and "--allow-pickle" in done.stderr and "execute code" in done.stderr
    done = run_cli("evaluate.py", "--synthetic-hours", "30", "--algos", f"{spec},eglb", "--allow-pickle", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert spec in done.stdout


def test_saved_files_carry_versions_checked_on_load(tmp_path):
    folder = short_run(tmp_path, "bc", 24)
    card = json.loads((folder / "policy.json").read_text())
    assert card["format"] == "eglb-policy" and card["format_version"] == 1 and card["package_version"]
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert config["format"] == "eglb-run-config" and config["package_version"]
    (folder / "policy.json").write_text(json.dumps({**card, "format_version": 99}))
    with pytest.raises(InputError, match="reads up to format 1: upgrade eglb"):
        load_learned(folder)
    (folder / "policy.json").write_text(json.dumps({"hello": "world"}))
    with pytest.raises(InputError, match="no format stamp"):
        load_learned(folder)
    (folder / "policy.json").write_bytes(b"\xff\xfe not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_learned(folder)


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "-rf", ""])
def test_run_names_are_plain_folder_names(tmp_path, name, run_cli):
    done = run_cli("train.py", "--algo", "bc", "--out", str(tmp_path / "runs"), f"--name={name}", "--no-progress")
    assert done.returncode == 2 and "--name must be a plain folder name" in done.stderr
    assert not (tmp_path / "escape").exists()


def test_symbolic_links_in_a_run_folder_are_refused(tmp_path, run_cli):
    folder = short_run(tmp_path, "bc", 24)
    outside = tmp_path / "outside.csv"
    os.symlink(outside, folder / "progress-2.csv")  # a dangling link: writing through it would create outside.csv
    done = run_cli("train.py", "--resume", str(folder), "--timesteps", "48", "--no-progress")
    assert done.returncode == 2 and "is a symbolic link" in done.stderr
    assert not outside.exists()


def test_a_second_process_on_the_same_folder_is_refused(tmp_path, run_cli):
    folder = short_run(tmp_path, "bc", 24)
    with exclusive_lock(folder, "a test holding the run"):
        done = run_cli("train.py", "--resume", str(folder), "--timesteps", "48", "--no-progress")
        assert done.returncode == 2 and "is in use by a test holding the run" in done.stderr
        out = tmp_path / "results"
        out.mkdir()
        with exclusive_lock(out, "another evaluation"):
            done = run_cli("evaluate.py", "--synthetic-hours", "24", "--algos", "glb-cost", "--out", str(out), "--no-progress")
            assert done.returncode == 2 and "in use by another evaluation" in done.stderr


def test_a_failed_start_is_cleaned_and_a_leftover_one_reused(tmp_path):
    leftover = tmp_path / "bc"
    leftover.mkdir()
    (leftover / "config.yaml").write_text("half written")
    (leftover / "command.txt").write_text("python train.py ...")
    short_run(tmp_path, "bc", 24)  # a folder holding only a failed start's files is reused
    assert (leftover / "policy.json").is_file()


def test_resume_after_kill_9_trims_what_came_after_the_last_checkpoint(tmp_path):
    """A real kill -9 in the middle of training, then --resume: no duplicated evaluation rows, no
    temporary files, no unfinished checkpoints; the history ends where the training ends."""
    args = [
        sys.executable,
        "train.py",
        "--algo",
        "bc",
        "--synthetic",
        "--timesteps",
        str(24 * 3 * 40),
        "--eval-freq",
        "72",
        "--set",
        "env.episode_hours=24",
        "--eval-seeds",
        "0",
        "--out",
        str(tmp_path),
        "--name",
        "bc",
        "--no-progress",
        "--set",
        "model.episodes_per_iteration=3",
        "--set",
        "model.epochs=3",
        "--set",
        "model.workers=1",
    ]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = tmp_path / "bc"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(folder.glob("checkpoint-*/checkpoint.json"))) == 0:
        time.sleep(0.05)
    time.sleep(0.7)  # land somewhere in the middle of the next iterations
    process.send_signal(signal.SIGKILL)
    process.wait()
    # What a kill can leave behind, whatever the moment: an unfinished checkpoint, a temporary file,
    # an evaluation row that the last checkpoint does not cover.
    (folder / "checkpoint-999999").mkdir(exist_ok=True)
    (folder / ".eval.csv.abc.tmp").write_text("partial")
    rows = (folder / "eval.csv").read_text().splitlines()
    (folder / "eval.csv").write_text("\n".join(rows + [rows[-1].replace(rows[-1].split(",")[0], "999999", 1)]) + "\n")
    assert train.main(["--resume", str(folder), "--timesteps", str(24 * 3 * 4), "--no-progress"]) == 0
    steps = [int(line.split(",")[0]) for line in (folder / "eval.csv").read_text().splitlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] >= 24 * 3 * 4 and 999999 not in steps
    assert not list(folder.rglob(".*.tmp")) and not (folder / "checkpoint-999999").exists()
    assert len(list(folder.glob("checkpoint-*"))) == 1


def test_a_mistake_inside_a_subprocess_worker_is_one_line(tmp_path, monkeypatch):
    """SubprocVecEnv workers have no error channel: the worker's message still reaches the user."""
    from eglb.envs.glb_env import GLBEnv

    parent = os.getpid()
    original = GLBEnv.step

    def failing_step(self, action):
        if os.getpid() != parent and self._step == 5:
            raise InputError("file traces.csv, line 7: the worker found a bad value")
        return original(self, action)

    monkeypatch.setattr(GLBEnv, "step", failing_step)
    with pytest.raises(InputError, match="a training environment worker stopped: file traces.csv, line 7"):
        short_run(tmp_path, "ppo", 256, "--n-envs", "2")


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--algo is required"),
        (["--algo", "dqn"], "argument --algo: invalid choice"),
        (["--algo", "ppo", "--hours", "0:10"], "--hours and --eval-hours select hours of --traces"),
        (["--algo", "ppo", "--set", "model"], "--set expects KEY=VALUE"),
        (["--algo", "ppo", "--set", "modle.gamma=0.9"], "unknown configuration key 'modle'"),
        (["--algo", "ppo", "--set", "env.action_mode=psychic"], "env.action_mode must be one of"),
        (["--algo", "ppo", "--timesteps", "0"], "timesteps must be >= 1"),
        (["--algo", "ppo", "--set", "timesteps=true"], "timesteps must be a whole number, got true"),
        (["--algo", "ppo", "--set", "timesteps=1.5"], "timesteps must be a whole number, got 1.5"),
        (["--algo", "bc", "--set", "model.epochs=-1"], "model.epochs must be >= 1, got -1"),
        (["--algo", "bc", "--set", "model.hidden=[64, -2]"], "model.hidden[1] must be a whole number from 1 to 16,384, got -2"),
        (["--algo", "bc", "--set", "model.epoch=3"], "unknown configuration key 'model.epoch'"),
        (["--algo", "ppo", "--set", "model.n_stepz=64"], "unknown ppo hyperparameter 'model.n_stepz'"),
        (["--algo", "ppo", "--set", "model.n_steps=lots"], "model.n_steps must be a whole number, got 'lots'"),
        (["--algo", "ppo", "--set", "model.gamma=1.5"], "model.gamma must be <= 1"),
        (["--algo", "ppo", "--set", "model.learning_rate=-1"], "model.learning_rate must be > 0"),
        (["--algo", "ppo", "--set", "model.policy_kwargs.activation_fn=sine"], "activation_fn must be one of"),
        (["--algo", "ppo", "--set", "env.routing_temperature=0"], "env.routing_temperature must be > 0"),
        (["--algo", "ppo", "--set", "env.episode_hours=1e9"], "env.episode_hours must be a whole number"),
        (["--algo", "ppo", "--set", "env.episode_hours=1000000000"], "env.episode_hours must be <= 87600"),
        (["--algo", "ppo", "--set", "env.reward_scale=nan"], "env.reward_scale must be a finite number"),
        (["--algo", "ppo", "--n-envs", "500"], "n_envs must be <= 64"),
        (["--algo", "ppo", "--eval-seeds", "5000"], "--eval-seeds must be held-out seeds"),
        (["--algo", "ppo", "--eval-seeds", "9-3"], "runs backwards"),
        (["--resume", "/nonexistent/run"], "run folder /nonexistent/run does not exist"),
        (["--resume", str(Path(__file__).parent)], "is not a run folder: it has no config.yaml"),
        (["--resume", __file__], "is a file, not a folder"),
        (["--algo", "ppo", "--torch-threads", "0"], "--torch-threads must be >= 1"),
        (["--algo", "bc", "--robust", "0.1"], "use an RL algorithm"),
        (["--algo", "bc", "--set", "env.residual=true"], "env.residual is for RL algorithms"),
        (["--algo", "ppo", "--set", "env.residual=true", "--robust", "0.1"], "--robust with env.residual is not supported"),
        (["--algo", "ppo", "--robust", "lots"], "--robust must look like LAMBDA, LAMBDA,B or"),
        (["--algo", "ppo", "--robust", "0.1,2,cubic"], "--robust must look like LAMBDA, LAMBDA,B or"),
        (["--algo", "ppo", "--robust", "nan"], "--robust must look like LAMBDA, LAMBDA,B or"),
    ],
)
def test_train_mistakes_give_one_line(args, message, tmp_path, run_cli):
    done = run_cli("train.py", "--no-progress", "--out", str(tmp_path), *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not list(tmp_path.iterdir())


def test_corrupt_or_foreign_files_in_a_run_folder_are_one_line(tmp_path, run_cli):
    folder = short_run(tmp_path, "bc", 24)
    (folder / "config.yaml").write_bytes(b"\xff\xfe\x00 not yaml")
    done = run_cli("train.py", "--resume", str(folder), "--no-progress")
    assert done.returncode == 2 and "config.yaml is not valid YAML" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    (folder / "config.yaml").write_text("format: something-else\n")
    done = run_cli("train.py", "--resume", str(folder), "--no-progress")
    assert done.returncode == 2 and "expected an eglb file of format 'eglb-run-config'" in done.stderr
    (folder / "best_policy.pt").write_bytes(b"garbage")
    done = run_cli("evaluate.py", "--synthetic-hours", "24", "--algos", f"bc:{folder}", "--no-progress")
    assert done.returncode == 2 and "cannot read weights" in done.stderr and len(done.stderr.strip().splitlines()) == 1
