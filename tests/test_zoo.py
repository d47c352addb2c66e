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
            str(ZOO_FOLDER / "ppo.yml"),
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
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(tmp_path.glob("ppo/GLB-Synthetic-v0_*/GLB-Synthetic-v0.zip"))
