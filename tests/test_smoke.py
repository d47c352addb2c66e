"""EGLB_SMOKE=1 shrinks the programs' budgets (the documentation test runs every command with it):
only shorter, never longer, the meaning kept, and announced."""

from __future__ import annotations

import json

import pytest

from eglb.benchmark import BenchmarkConfig
from eglb.cli import evaluate, smoke
from eglb.evaluation import EvaluationConfig, SweepConfig
from eglb.scenarios import ScenarioConfig
from eglb.trainer import training_config


@pytest.mark.parametrize(
    "given, expected",
    [
        # synthetic: the first two seeds, at most 48 hours, a window shortened from its start
        (dict(synthetic=tuple(range(3, 1000)), synthetic_hours=168), dict(synthetic=(3, 4), synthetic_hours=48, hours=None)),
        (dict(synthetic=(7,), synthetic_hours=2190, hours=(0, 720)), dict(synthetic=(7,), synthetic_hours=48, hours=(0, 48))),
        (dict(synthetic=(7,), synthetic_hours=457, hours=(100, 200)), dict(synthetic_hours=148, hours=(100, 148))),
        (dict(synthetic=(7,), synthetic_hours=24), dict(synthetic_hours=24, hours=None)),  # never lengthened
        (dict(synthetic=(7,), synthetic_hours=457, hours=(10, 20)), dict(synthetic_hours=48, hours=(10, 20))),
        # a folder: its first 48 hours, or the first 48 of the window given (-1: to the end)
        (dict(traces="somewhere"), dict(hours=(0, 48))),
        (dict(traces="somewhere", hours=(300, 457)), dict(hours=(300, 348))),
        (dict(traces="somewhere", hours=(4000, -1)), dict(hours=(4000, 4048))),
    ],
)
def test_scenarios_are_shortened_never_lengthened(given, expected):
    shrunk = smoke.scenario(ScenarioConfig(**given))
    for key, value in expected.items():
        assert getattr(shrunk, key) == value, key


def test_sweep_and_benchmark_keep_their_first_values(tmp_path):
    sweep = smoke.sweep(SweepConfig(EvaluationConfig(), severities=(0.0, 0.5, 1.0, 2.0), lambdas=(0.0, 0.1, 1.0)))
    assert sweep.severities == (0.0, 0.5) and sweep.lambdas == (0.0, 0.1)
    history = tmp_path / "history"  # what marks a history folder: its three folders and an hourly carbon file
    (history / "carbon" / "ZONE" / "2021").mkdir(parents=True)
    (history / "carbon" / "ZONE" / "2021" / "ZONE_2021_hourly.csv").write_text("")
    for name in ("price", "weather"):
        (history / name).mkdir()
    evaluation = EvaluationConfig(scenario=ScenarioConfig(traces=str(history)))
    every = smoke.benchmark(BenchmarkConfig(evaluation))
    assert (every.windows, every.window_hours) == ((0, 1), 48)
    picked = smoke.benchmark(BenchmarkConfig(evaluation, windows=(5, 7, 9), window_hours=24))
    assert (picked.windows, picked.window_hours) == ((5, 7), 24)


def test_the_frontier_keeps_its_first_weight_factors(tmp_path, monkeypatch):
    monkeypatch.setenv("EGLB_SMOKE", "1")
    args = ["--frontier", "--scales", "0,1,4", "--algos", "glb-cost", "--synthetic", "100", "--synthetic-hours", "48"]
    assert evaluate.main([*args, "--out", str(tmp_path / "frontier")]) == 0
    rows = json.loads((tmp_path / "frontier" / "frontier.json").read_text())
    assert sorted({r["scale"] for r in rows}) == [0.0, 1.0]


def test_training_budgets_are_capped_and_announced(capsys):
    bc = smoke.training(training_config("bc"))
    assert (bc.timesteps, bc.eval_freq, bc.n_envs, bc.env.episode_hours) == (48, 48, 1, 24)
    assert (bc.data.eval_seeds, bc.data.eval_synthetic_hours, bc.data.eval_windows) == ((0,), 24, 1)
    assert (bc.model["episodes_per_iteration"], bc.model["epochs"], bc.model["workers"]) == (2, 2, 1)
    assert "EGLB_SMOKE=1: a smoke run" in capsys.readouterr().err
    ppo = smoke.training(training_config("ppo"))
    assert (ppo.model["n_steps"], ppo.model["batch_size"]) == (32, 32)
    assert ppo.model["learning_rate"] == training_config("ppo").model["learning_rate"]  # what is not a budget stays
    small = smoke.training(training_config("bc", timesteps=10, sets=["env.episode_hours=12"]))
    assert (small.timesteps, small.env.episode_hours) == (10, 12)  # never lengthened
    assert smoke.resumed_timesteps(10**6) == 96 and smoke.resumed_timesteps(None) is None
    assert smoke.samples(32) == 2 and smoke.samples(1) == 1


def test_evaluate_honours_the_variable_only_when_set(tmp_path, monkeypatch, capsys):
    argv = ["--synthetic", "3-999", "--synthetic-hours", "72", "--algos", "glb-cost", "--no-progress"]
    monkeypatch.setenv("EGLB_SMOKE", "1")
    assert evaluate.main([*argv, "--out", str(tmp_path / "smoke")]) == 0
    rows = json.loads((tmp_path / "smoke" / "results.json").read_text())
    assert [r["scenario"] for r in rows] == ["synthetic seed 3 full", "synthetic seed 4 full"]
    assert "EGLB_SMOKE=1: a smoke run" in capsys.readouterr().err
    monkeypatch.setenv("EGLB_SMOKE", "0")
    assert evaluate.main(["--synthetic", "3-5", "--synthetic-hours", "72", "--algos", "glb-cost", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "smoke" not in captured.err and "3 scenarios of 72 hours" in captured.out
