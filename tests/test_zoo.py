"""rl-baselines3-zoo trains on our registered ids with the shipped hyperparameter files."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from eglb.training.algorithms import ALGORITHMS
from eglb.training.config import check_sb3_model
from eglb.training.envs import VARIANTS
from eglb.training.zoo import ZOO_FOLDER, zoo_text


@pytest.mark.parametrize("algo", [a for a, row in ALGORITHMS.items() if row.family == "sb3"])
def test_shipped_zoo_files_are_generated_from_ours_and_valid(algo):
    path = ZOO_FOLDER / f"{algo}.yml"
    assert path.read_text() == zoo_text(algo), f"{path} is stale: run python -m eglb.training.zoo"
    blocks = yaml.safe_load(path.read_text())
    assert set(blocks) == set(VARIANTS)
    for block in blocks.values():
        model = {k: v for k, v in block.items() if k not in ("n_timesteps", "n_envs", "policy_kwargs", "noise_type", "noise_std")}
        check_sb3_model(algo, model)


#: rl-zoo3's algorithm names of our SB3 algorithms (its ``--algo``, and the module's name in eglb.zoo).
ZOO_NAMES = {"ppo": "ppo", "a2c": "a2c", "sac": "sac", "td3": "td3", "ppo_lstm": "recurrent-ppo"}


def test_the_installed_package_holds_the_zoo_settings_for_every_sb3_algorithm():
    import importlib

    assert sorted(ZOO_NAMES.values()) == sorted(a for a, row in ALGORITHMS.items() if row.family == "sb3")
    for module, algo in ZOO_NAMES.items():
        settings = importlib.import_module(f"eglb.zoo.{module}").hyperparams
        assert settings == yaml.safe_load((ZOO_FOLDER / f"{algo}.yml").read_text())
        assert set(settings) == set(VARIANTS)


def test_rl_zoo3_trains_on_the_recommended_id(tmp_path):
    pytest.importorskip("rl_zoo3")
    import eglb  # noqa: F401

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rl_zoo3.train",
            "--algo",
            "ppo",
            "--env",
            "GLB-Synthetic-v0",
            "--gym-packages",
            "eglb",
            "-conf",
            "eglb.zoo.ppo",  # from the installed package, run from a folder without our files
            "-n",
            "128",
            "--eval-freq",
            "64",
            "--eval-episodes",
            "1",
            "-f",
            str(tmp_path),
            "--seed",
            "0",
            "-params",
            "n_steps:64",
            "batch_size:64",
            "n_epochs:1",
            "n_envs:1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(tmp_path.glob("ppo/GLB-Synthetic-v0_*/GLB-Synthetic-v0.zip"))
    # It trained with our settings (gamma 1 and the 256-256 network are ours, not rl-zoo3's defaults).
    assert "Loading hyperparameters from: eglb.zoo.ppo" in done.stdout
    assert "('gamma', 1.0)" in done.stdout and "net_arch=[256, 256]" in done.stdout, done.stdout[-3000:]
