"""The tools users already have: an SB3 callback, in-memory policies and models in eglb.evaluate,
SB3's evaluations.npz, and the equity trade-off frontier."""

from __future__ import annotations

import json

import gymnasium
import numpy as np
import pytest
from eglb.agents.baselines import glb_cost
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.offline import EGLBOffline
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.metrics import metrics_from_energy
from eglb.envs.synthetic import make_synthetic
from eglb.training.callbacks import EGLBEvalCallback
from stable_baselines3 import PPO
from stable_baselines3.common.logger import configure

import eglb
from eglb.cli import evaluate
from eglb.registry import sb3_policy


@pytest.fixture(scope="module")
def model():
    import eglb  # noqa: F401  (registers the ids)

    return PPO("MlpPolicy", gymnasium.make("GLB-Synthetic-v0", episode_hours=24), n_steps=32, batch_size=32, n_epochs=1, seed=0)


def test_the_callback_logs_the_held_out_ratio_to_sb3s_logger(model, tmp_path):
    scenarios = [make_synthetic(seed, hours=24) for seed in (0, 1)]
    callback = EGLBEvalCallback("GLB-Synthetic-v0", eval_freq=32, scenarios=scenarios)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(64, callback=callback)
    assert [row["steps"] for row in callback.history] == [32, 64]
    import pandas as pd

    logged = pd.read_csv(tmp_path / "progress.csv")
    assert logged["eval/ratio_to_offline"].dropna().tolist() == pytest.approx([r["ratio_to_offline"] for r in callback.history])
    # The ratio is the current policy's own J over eGLB-Off's, recomputed outside the callback (the
    # rows above were measured before PPO's last update; score the weights as they are now).
    row = callback.evaluate()
    policy = sb3_policy(model)
    ratios = [rollout(policy, s).metrics.J / EGLBOffline().solve(s).objective for s in scenarios]
    assert row["ratio_to_offline"] == pytest.approx(np.mean(ratios), rel=1e-9)
    expert = [rollout(EGLBOnline(), s).metrics.J / EGLBOffline().solve(s).objective for s in scenarios]
    assert row["eglb_ratio"] == pytest.approx(np.mean(expert), rel=1e-9)
    assert callback.best == min(r["ratio_to_offline"] for r in callback.history)


def test_the_callback_refuses_settings_that_do_not_fit(model):
    with pytest.raises(InputError, match="env_id must be one of"):
        EGLBEvalCallback("CartPole-v1")
    with pytest.raises(InputError, match="eval_freq must be"):
        EGLBEvalCallback(eval_freq=0)
    small = PPO("MlpPolicy", gymnasium.make("CartPole-v1"), n_steps=32, batch_size=32)
    with pytest.raises(InputError, match="the model observes"):
        small.learn(32, callback=EGLBEvalCallback(eval_freq=32, scenarios=[make_synthetic(0, hours=24)]))


def test_evaluate_takes_policies_and_sb3_models_in_memory(model):
    mine = glb_cost()
    mine.name = "my-glb-cost"
    config = eglb.EvaluationConfig(
        algos=(model, mine, "glb-cost", EGLBOffline()), scenario=eglb.ScenarioConfig(synthetic=(100,), synthetic_hours=24)
    )
    assert [eglb.registry.label(a) for a in config.algos] == ["sb3:PPO", "my-glb-cost", "glb-cost", "eglb-off"]
    rows = {r["algo"]: r for r in eglb.evaluate(config).rows}
    assert rows["my-glb-cost"]["J"] == rows["glb-cost"]["J"]  # the object acts as its named twin
    scenario = make_synthetic(100, hours=24)
    episode = rollout(sb3_policy(model, "GLB-Synthetic-v0"), scenario)
    assert rows["sb3:PPO"]["J"] == pytest.approx(metrics_from_energy(scenario, episode.energy).J, rel=1e-12)
    with pytest.raises(InputError, match="lists an algorithm twice"):
        eglb.EvaluationConfig(algos=(mine, mine))
    with pytest.raises(InputError, match="a spec string, a Policy"):
        eglb.EvaluationConfig(algos=(42,))


def test_runs_write_evaluations_npz_in_sb3s_format(tmp_path):
    from eglb.cli import train

    args = ["--algo", "bc", "--synthetic", "--timesteps", "48", "--eval-freq", "24", "--set", "env.episode_hours=24"]
    args += ["--set", "model.episodes_per_iteration=1", "--set", "model.epochs=2", "--set", "model.workers=1"]
    assert train.main(args + ["--eval-seeds", "0,2", "--out", str(tmp_path), "--name", "bc", "--no-progress"]) == 0
    with np.load(tmp_path / "bc" / "evaluations.npz") as saved:
        assert set(saved.files) == {"timesteps", "results", "ep_lengths"}
        assert saved["timesteps"].tolist() == [24, 48]
        assert saved["results"].shape == saved["ep_lengths"].shape == (2, 2) and (saved["ep_lengths"] == 24).all()
        history = [line.split(",") for line in (tmp_path / "bc" / "eval.csv").read_text().splitlines()]
        column = history[0].index("ratio_to_offline")
        # What SB3's and rl-zoo3's plots read: the mean over episodes of each evaluation.
        assert (-saved["results"].mean(axis=1)).tolist() == pytest.approx([float(r[column]) for r in history[1:]], rel=1e-12)


def test_the_frontier_puts_eglb_off_below_every_algorithm(tmp_path, capsys):
    out = tmp_path / "frontier"
    args = ["--frontier", "--scales", "0,1,4", "--algos", "glb-cost,eglb", "--synthetic", "100", "--synthetic-hours", "48"]
    assert evaluate.main(args + ["--out", str(out), "--no-progress"]) == 0
    assert "1: on eGLB-Off's frontier" in capsys.readouterr().out
    rows = json.loads((out / "frontier.json").read_text())
    assert {r["algo"] for r in rows} == {"glb-cost", "eglb", "eglb-off"}  # the reference is added
    scenario = make_synthetic(100, hours=48)
    for scale in (0.0, 1.0, 4.0):
        at = {r["algo"]: r for r in rows if r["scale"] == scale}
        weighted = scenario.with_changes(mu_water=scale * 60.0, mu_carbon=scale * 1500.0)
        assert at["eglb-off"]["J"] == pytest.approx(EGLBOffline().solve(weighted).objective, rel=1e-9)
        assert all(r["J"] >= at["eglb-off"]["J"] * (1 - 1e-9) for r in at.values())
        assert at["eglb"]["worst_water"] == max(at["eglb"]["region_water"].values())
        # At scale 0 J is the energy cost, GLB-Cost's minimum.
        if scale == 0:
            assert at["glb-cost"]["J"] == pytest.approx(at["eglb-off"]["J"], rel=1e-7)
    # The frontier trades cost for equity: a larger weight never cheapens eGLB-Off nor worsens its J's footprint part.
    offline = sorted((r for r in rows if r["algo"] == "eglb-off"), key=lambda r: r["scale"])
    assert [r["cost"] for r in offline] == sorted(r["cost"] for r in offline)
    for name in ("frontier.png", "frontier.pdf", "frontier_summary.json"):
        assert (out / name).is_file()


def test_frontier_mistakes_are_one_line(run_cli):
    for args, message in (
        (["--scales", "1,2"], "--scales sets the weights' factors of --frontier"),
        (["--frontier", "--scales", "1,1"], "lists a factor twice"),
        (["--frontier", "--sweep"], "--frontier is a report of its own"),
    ):
        done = run_cli("evaluate.py", "--synthetic-hours", "24", "--no-progress", *args)
        assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_named_scenarios_load_what_their_loaders_load(monkeypatch, tmp_path):
    from eglb.envs.eglb2022 import PARTIAL_MASK, default_data_path, load_eglb2022

    names = eglb.scenarios.named()
    assert {"synthetic", "synthetic-history", "eglb-2022", "eglb-2022-partial"} <= set(names)
    assert [n for n in names if n.startswith("history-")] == [f"history-{y}" for y in eglb.scenarios.HISTORY_YEARS]
    listing = eglb.scenarios.describe_named()
    assert all(name in listing for name in names) and "US-TEX-ERCO" in listing and "test year" in listing
    (synthetic,) = eglb.scenarios.load("synthetic", synthetic_hours=24)
    np.testing.assert_array_equal(synthetic.price, make_synthetic(0, hours=24).price)
    if default_data_path().is_dir():
        (published,) = eglb.scenarios.load("eglb-2022")
        np.testing.assert_array_equal(published.workload, load_eglb2022().workload)
        (partial,) = eglb.scenarios.load("eglb-2022-partial")
        np.testing.assert_array_equal(partial.mask, PARTIAL_MASK)
    with pytest.raises(InputError, match="unknown scenario 'eglb-2023' \\(named scenarios: synthetic, "):
        eglb.scenarios.load("eglb-2023")
    monkeypatch.setenv("EGLB2022_DATA", str(tmp_path / "nowhere"))
    assert not eglb.scenarios.named()["eglb-2022"].available
    with pytest.raises(InputError, match="needs its data in .*nowhere"):
        eglb.scenarios.load("eglb-2022")
    assert "(data missing)" in eglb.scenarios.describe_named()


def test_named_history_years_load_that_year(small_history, monkeypatch):
    monkeypatch.setenv("EGLB_HISTORY_DATA", str(small_history))
    (scenario,) = eglb.scenarios.load("history-2022", regions="US-TEX-ERCO,DE-LU", hours=(0, 24))
    assert scenario.regions == ("US-TEX-ERCO", "DE-LU") and scenario.n_hours == 24
    assert str(scenario.timestamps[0]).startswith("2022-01-01")


def test_the_fill_report_goes_to_a_file_or_verbose(small_history, tmp_path, capsys):
    from eglb.scenarios import history_scenario

    args = ["--traces", str(small_history), "--regions", "US-TEX-ERCO,DE-LU", "--years", "2021", "--hours", "0:48"]
    args += ["--algos", "eglb", "--no-progress"]
    config = eglb.ScenarioConfig(traces=str(small_history), regions="US-TEX-ERCO,DE-LU", years="2021", hours=(0, 48))
    lines = history_scenario(config).metadata["summary"]
    assert len(lines) > 2
    assert evaluate.main(args + ["--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out
    assert not any(line in printed for line in lines)
    assert (
        f"fill report ({len(lines)} lines: what was missing and how it was filled) is in {tmp_path / 'a' / 'fill_report.txt'}"
        in printed
    )
    assert (tmp_path / "a" / "fill_report.txt").read_text().splitlines() == lines
    assert evaluate.main(args) == 0
    assert "printed with --verbose" in capsys.readouterr().out
    assert evaluate.main(args + ["--verbose"]) == 0
    printed = capsys.readouterr().out
    assert all(line in printed for line in lines) and "fill report" not in printed
    # Synthetic data has nothing to report.
    assert evaluate.main(["--synthetic", "100", "--synthetic-hours", "24", "--algos", "eglb", "--no-progress"]) == 0
    assert "fill report" not in capsys.readouterr().out
