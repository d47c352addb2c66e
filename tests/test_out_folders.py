"""No command overwrites results silently, and none writes into a training run folder (issue 17, cause 2).

A folder already holding what a command would write is refused unless the user passes --overwrite
(``overwrite=True``); results of other commands beside them are kept; a run folder is always refused.
The checks run before anything is computed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from eglb.envs.errors import InputError
from test_learning import short_run

import eglb
from eglb.benchmark import BenchmarkConfig, benchmark
from eglb.evaluation import EvaluationConfig, SweepConfig, evaluate, sweep
from eglb.leaderboard import LeaderboardConfig, leaderboard
from eglb.scenarios import ScenarioConfig

TINY = ScenarioConfig(synthetic_hours=24)


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    return short_run(tmp_path_factory.mktemp("runs"), "bc", 24)


@pytest.fixture
def no_computation(monkeypatch):
    """Fail the test if a scenario is built: the refusal must come before any computation."""

    def refuse(*args, **kwargs):
        raise AssertionError("a scenario was built before the output folder was checked")

    monkeypatch.setattr("eglb.evaluation.build_scenarios", refuse)
    monkeypatch.setattr("eglb.benchmark.history_scenario", refuse)


def test_evaluate_refuses_a_training_run_folder_even_with_overwrite(run_folder, run_cli):
    before = fingerprint(run_folder)
    for extra in ([], ["--overwrite"]):
        done = run_cli(
            "evaluate.py", "--synthetic-hours", "24", "--algos", "glb-cost", "--out", str(run_folder), "--no-progress", *extra
        )
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert f"--out {run_folder} is a training run folder (it has config.yaml)" in done.stderr
        assert f"--out {run_folder / 'evaluation'}" in done.stderr
    assert fingerprint(run_folder) == before
    with pytest.raises(InputError, match="is a training run folder"):
        eglb.evaluate(EvaluationConfig(algos=("glb-cost",), scenario=TINY, out=str(run_folder), overwrite=True))
    assert fingerprint(run_folder) == before


def test_a_run_folder_is_recognised_by_its_card_or_checkpoints_alone(tmp_path, no_computation):
    for name in ("policy.json", "checkpoint-24"):
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir()
        (folder / name).mkdir() if name.startswith("checkpoint") else (folder / name).write_text("{}")
        with pytest.raises(InputError, match="is a training run folder"):
            evaluate(EvaluationConfig(algos=("glb-cost",), scenario=TINY, out=str(folder), overwrite=True))


def test_evaluate_refuses_to_replace_results_unless_told(tmp_path, run_cli):
    out = tmp_path / "results"
    args = ["evaluate.py", "--synthetic-hours", "24", "--algos", "glb-cost", "--out", str(out), "--no-progress"]
    assert run_cli(*args).returncode == 0
    before = fingerprint(out)
    done = run_cli(*args[:4], "eglb", *args[5:])
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert f"--out {out} already holds results (results.json, results.csv, regions.png, ...): pass --overwrite" in done.stderr
    assert fingerprint(out) == before
    done = run_cli(*args[:4], "eglb", *args[5:], "--overwrite")
    assert done.returncode == 0, done.stderr
    assert [row["algo"] for row in json.loads((out / "results.json").read_text())] == ["eglb"]


def test_results_of_other_commands_beside_are_kept(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "sweep.json").write_text("[]")
    (out / "notes.txt").write_text("mine")
    evaluate(EvaluationConfig(algos=("glb-cost",), scenario=TINY, out=str(out)))
    assert (out / "sweep.json").read_text() == "[]" and (out / "notes.txt").read_text() == "mine"
    assert (out / "results.json").is_file()


@pytest.mark.parametrize("kind", ["evaluate", "sweep", "benchmark", "leaderboard"])
def test_every_command_that_writes_results_refuses_before_computing(tmp_path, kind, no_computation, small_history, monkeypatch):
    out = tmp_path / "results"
    out.mkdir()
    held = {"evaluate": "summary.csv", "sweep": "tradeoff.json", "benchmark": "seasons.json", "leaderboard": "leaderboard.json"}[
        kind
    ]
    (out / held).write_text("earlier results")
    config = EvaluationConfig(algos=("glb-cost",), scenario=TINY, out=str(out))
    with pytest.raises(InputError, match=rf"already holds results \({held}\): pass --overwrite"):
        if kind == "evaluate":
            evaluate(config)
        elif kind == "sweep":
            sweep(SweepConfig(config, shifts=("surge",), lambdas=(0.0,)))
        elif kind == "leaderboard":
            monkeypatch.setattr("eglb.leaderboard.run_task", lambda *a, **k: pytest.fail("the task ran before the check"))
            leaderboard(LeaderboardConfig("synthetic-457-v1", algos=("glb-cost",), out=str(out)))
        else:
            benchmark(
                BenchmarkConfig(
                    EvaluationConfig(algos=("glb-cost",), scenario=ScenarioConfig(traces=str(small_history)), out=str(out))
                )
            )
    assert (out / held).read_text() == "earlier results"


def test_the_sweep_replaces_its_results_when_told(tmp_path):
    out = tmp_path / "sweep"
    config = EvaluationConfig(algos=("glb-cost",), scenario=TINY, out=str(out))
    sweep(SweepConfig(config, shifts=("surge",), severities=(1.0,), lambdas=(0.0,)))
    with pytest.raises(InputError, match="already holds results"):
        sweep(SweepConfig(config, shifts=("surge",), severities=(1.0,), lambdas=(0.0,)))
    overwrite = EvaluationConfig(algos=("glb-cost",), scenario=TINY, out=str(out), overwrite=True)
    assert sweep(SweepConfig(overwrite, shifts=("surge",), severities=(1.0,), lambdas=(0.0,))).files


def test_the_forecaster_trainer_refuses_to_replace_a_forecaster_or_fill_a_run_folder(tmp_path, run_folder, capsys):
    from eglb.forecasts.train import main

    args = ["--seeds", "1000:1001", "--hours", "260", "--steps", "2"]
    assert main(["--out", str(tmp_path / "fc"), *args]) == 0
    before = fingerprint(tmp_path / "fc")
    assert main(["--out", str(tmp_path / "fc"), *args, "--seed", "1"]) == 2
    assert "already holds results (forecaster.json, weights.pt): pass --overwrite" in capsys.readouterr().err
    assert fingerprint(tmp_path / "fc") == before
    assert main(["--out", str(tmp_path / "fc"), *args, "--seed", "1", "--overwrite"]) == 0
    assert fingerprint(tmp_path / "fc") != before
    run_before = fingerprint(run_folder)
    assert main(["--out", str(run_folder), *args, "--overwrite"]) == 2
    assert "is a training run folder" in capsys.readouterr().err
    assert fingerprint(run_folder) == run_before


def test_the_tail_fitter_refuses_to_replace_a_tail(tmp_path, capsys):
    from eglb.forecasts.train_tail import main

    args = ["--synthetic", "1000:1001", "--synthetic-hours", "100", "--out", str(tmp_path / "tail")]
    assert main(args) == 0
    before = fingerprint(tmp_path / "tail")
    assert main([*args, "--seed", "1"]) == 2
    assert "already holds results (tail.json, profile.npz): pass --overwrite" in capsys.readouterr().err
    assert fingerprint(tmp_path / "tail") == before
    assert main([*args, "--seed", "1", "--overwrite"]) == 0 and fingerprint(tmp_path / "tail") != before
