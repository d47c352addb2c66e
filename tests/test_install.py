"""The package installs from a clean clone: a wheel built from ``git archive HEAD`` holds every module
the command-line programs import and every data file, and both programs and the API run from another
directory. The fast test installs the wheel alone (its dependencies are this environment's); the slow
one installs it with its dependencies into a new virtual environment, as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

API_CHECK = """
import json, sys
from pathlib import Path
import eglb
from eglb.sweeps.spaces import space_file
assert Path(eglb.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), eglb.__file__
scenario = eglb.ScenarioConfig(synthetic=(1, 2), synthetic_hours=24)
result = eglb.evaluate(eglb.EvaluationConfig(algos=("eglb", "eglb-off"), scenario=scenario))
config = eglb.training_config("ppo")  # reads the installed hyperparameter file
assert space_file("ppo").is_file() and config.model["n_steps"] > 0
from eglb.zoo.ppo import hyperparams  # rl-zoo3's -conf eglb.zoo.ppo, from the installed package
assert hyperparams["GLB-Synthetic-v0"]["n_steps"] == config.model["n_steps"]
print(json.dumps({"rows": len(result.rows), "eglb_off": [r["ratio_to_offline"] for r in result.rows if r["algo"] == "eglb-off"]}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of the committed tree (``git archive HEAD``), as a clean clone would build it."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (found,) = (work / "dist").glob("eglb-*.whl")
    return found


def check_installed(bin_dir: Path, python: Path, site: Path, env: dict, cwd: Path) -> None:
    """Both console scripts and the API run from ``cwd`` (not the repository) on the installed package,
    although ``cwd`` holds a user's own envs/, agents/ and training/ folders (the names RL code uses)."""
    for folder in ("envs", "agents", "training", "robust"):
        (cwd / folder).mkdir()
        (cwd / folder / "__init__.py").write_text("raise RuntimeError('the user's own package was imported')\n")
    (cwd / "envs" / "glb_env.py").write_text("class SomethingElse: pass\n")
    (cwd / "train.py").write_text("raise RuntimeError('the user's own train.py was imported')\n")
    run = lambda *args: subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)  # noqa: E731
    evaluated = run(
        bin_dir / "eglb-evaluate",
        "--synthetic",
        "0-1",
        "--synthetic-hours",
        "24",
        "--algos",
        "eglb,glb-cost",
        "--no-progress",
        "--out",
        "evaluation",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert len(json.loads((cwd / "evaluation" / "results.json").read_text())) == 4
    trained = run(
        bin_dir / "eglb-train",
        "--algo",
        "bc",
        "--synthetic",
        "--timesteps",
        "24",
        "--eval-freq",
        "24",
        "--set",
        "env.episode_hours=24",
        "--eval-seeds",
        "0",
        "--set",
        "model.episodes_per_iteration=1",
        "--set",
        "model.epochs=1",
        "--set",
        "model.workers=1",
        "--out",
        "runs",
        "--name",
        "bc",
        "--no-progress",
    )
    assert trained.returncode == 0, trained.stderr
    assert (cwd / "runs" / "bc" / "results.json").is_file()
    api = run(python, "-c", API_CHECK, site)
    assert api.returncode == 0, api.stderr
    figures = json.loads(api.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 4 and figures["eglb_off"] == [1.0, 1.0]


def test_the_wheel_holds_every_module_and_file_and_runs_from_elsewhere(wheel, tmp_path):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    committed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    mapped = ("envs/", "importers/", "forecasts/", "agents/", "robust/", "training/", "report/", "sweeps/")
    shipped = [f"eglb/{f}" for f in committed if f.startswith(mapped)] + [f for f in committed if f.startswith("eglb/")]
    assert sorted(set(shipped) - names) == []  # every module and data file of the packages, under eglb/
    top_level = {name.split("/")[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"eglb"}, top_level
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "eglb-train = eglb.cli.train:run" in scripts and "eglb-evaluate = eglb.cli.evaluate:run" in scripts
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    check_installed(site / "bin", Path(sys.executable), site, env, elsewhere)


@pytest.mark.slow
def test_the_wheel_installs_with_its_dependencies_in_a_new_environment(wheel, tmp_path):
    """``pip install`` of the wheel in a new virtual environment (no system site packages): the
    dependencies come from the package index (ray[tune] included; torch is the CPU build pip takes
    for ``torch>=2.3,<2.14`` here), then both programs and the API run from another directory."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True, text=True, timeout=1800
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    ).stdout
    versions = {p["name"].lower(): p["version"] for p in json.loads(listed)}
    assert "ray" in versions and "+cpu" in versions["torch"], versions.get("torch")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    site = next((venv / "lib").glob("python3*/site-packages"))
    check_installed(venv / "bin", python, site, env, elsewhere)
