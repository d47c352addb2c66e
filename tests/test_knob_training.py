"""train.py with the knobs (--jobs, --models): PPO trains on FlexGLBEnv, the run folder keeps the knobs in
config.yaml and the policy card, reloads without pickle, evaluates with the knobs' costs in J, resumes;
bad knob options are one line."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import yaml
from eglb.agents.learned import PolicyCard, load_predictor, weights_path
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.flex_env import GLOBAL_FEATURES, SLOT_FEATURES, FlexGLBEnv, most_pending
from eglb.envs.knob_specs import with_knobs
from eglb.envs.synthetic import SyntheticSource, make_synthetic
from eglb.robust.learned import load_learned
from eglb.training.config import KnobConfig, RunConfig
from test_learning import TINY, short_run

from eglb.cli import evaluate
from eglb.scenarios import ScenarioConfig, build_scenarios

MODELS = "llama3.1-batch128:target=80"
KNOBS = ("--jobs", "stream", "--models", MODELS)


def knob_j(metrics, scenario) -> float:
    """J from its parts (SPEC: cost + mu_w max W + mu_c max C, plus the knobs' transfers and penalties)."""
    footprints = scenario.mu_water * metrics.region_water.max() + scenario.mu_carbon * metrics.region_carbon.max()
    return metrics.cost_total + footprints + metrics.transfer_cost + metrics.unfinished_penalty + metrics.accuracy_penalty


@pytest.fixture(scope="module")
def knob_run(tmp_path_factory):
    return short_run(tmp_path_factory.mktemp("knobs"), "ppo", 128, *KNOBS, name="ppo-knobs")


def test_a_run_with_knobs_keeps_them_in_its_config_and_card(knob_run):
    config = RunConfig.from_dict(yaml.safe_load((knob_run / "config.yaml").read_text()), "config")
    assert RunConfig.from_dict(config.to_dict()) == config
    # The job slots are the most jobs pending at once in the first training episode (FlexGLBEnv's default).
    first = with_knobs(SyntheticSource(hours=24)(np.random.default_rng(0)), "stream", MODELS)
    assert config.knobs == KnobConfig(jobs="stream", models=MODELS, job_slots=max(most_pending(first), 1), n_models=2)
    assert config.env.residual is False  # residual duals correct routing only: off with knobs
    card = PolicyCard.load(knob_run)
    q = config.knobs.job_slots
    assert card.io.knobs == {"job_slots": q, "models": 2}
    plain = replace(card.io, knobs=None).observation_size()
    assert card.network["observation_size"] == card.io.observation_size() == plain + q * SLOT_FEATURES + GLOBAL_FEATURES
    assert card.io.action_size() == 2 * 10 + q + 1  # the dual action: 2N duals, Q work levels, the accuracy dual
    assert not [p for p in knob_run.rglob("*") if p.suffix in (".zip", ".pkl", ".pickle")]
    # Without knobs the files are those of today: no knobs key at all.
    assert "knobs" not in replace(config, knobs=None).to_dict()
    assert "knobs" not in PolicyCard(card.algo, card.network, replace(card.io, knobs=None)).to_dict()["io"]


def test_the_reloaded_policy_plays_as_the_network_in_its_environment_and_pays_the_knobs(knob_run):
    scenario = with_knobs(make_synthetic(7, hours=24), "stream:seed=3", MODELS)
    assert scenario.jobs.count > 0
    card, policy = load_learned(knob_run)
    played = rollout(policy, scenario)
    assert played.metrics.J == pytest.approx(-played.returns, rel=1e-10)
    assert played.metrics.J == pytest.approx(knob_j(played.metrics, scenario), rel=1e-10)
    # By hand: the network's actions in a FlexGLBEnv built from the card give the same J.
    predict = load_predictor(card, weights_path(knob_run))
    env = FlexGLBEnv(
        scenario, action_mode="dual", job_slots=card.io.knobs["job_slots"], observation_scale=card.io.observation_scale
    )
    obs, _ = env.reset(options={"start": 0})
    total, done = 0.0, False
    while not done:
        obs, reward, done, _, info = env.step(predict(obs))
        total += reward
    assert -total == pytest.approx(played.metrics.J, rel=1e-10)
    again = rollout(load_learned(knob_run)[1], scenario)
    np.testing.assert_array_equal(played.energy, again.energy)


def test_evaluate_on_the_run_folder_reports_j_with_the_knobs(knob_run, tmp_path):
    out = tmp_path / "eval"
    spec = f"ppo:{knob_run}"
    argv = ["--synthetic", "5", "--synthetic-hours", "24", *KNOBS, "--algos", f"{spec},eglb", "--out", str(out), "--no-progress"]
    assert evaluate.main(argv) == 0
    rows = {r["algo"]: r for r in json.loads((out / "results.json").read_text())}
    scenario = build_scenarios(ScenarioConfig(synthetic=(5,), synthetic_hours=24, jobs="stream", models=MODELS))[0].scenario
    metrics = rollout(load_learned(knob_run)[1], scenario).metrics
    assert rows[spec]["J"] == pytest.approx(metrics.J, rel=1e-10)
    assert rows[spec]["J"] == pytest.approx(knob_j(metrics, scenario), rel=1e-10)
    assert rows[spec]["unfinished_usd"] == pytest.approx(metrics.unfinished_penalty)
    # The run's own held-out comparison was made on scenarios with the knobs too.
    held = json.loads((knob_run / "results.json").read_text())
    assert {r["algo"] for r in held} == {spec, "eglb", "eglb-off", "glb-cost"} and all("jobs" in r["scenario"] for r in held)


def test_a_knob_policy_refuses_a_scenario_with_another_model_choice(knob_run):
    _, policy = load_learned(knob_run)
    with pytest.raises(InputError, match="trained with a choice of 2 models"):
        rollout(policy, make_synthetic(0, hours=24))


def test_job_slots_given_are_kept_and_shape_the_policy(tmp_path):
    folder = short_run(tmp_path, "ppo", 64, *KNOBS, "--job-slots", "3", "--set", "env.action_mode=routing")
    config = RunConfig.from_dict(yaml.safe_load((folder / "config.yaml").read_text()), "config")
    assert (config.knobs.job_slots, config.knobs.n_models) == (3, 2)
    card, policy = load_learned(folder)
    assert card.io.action_size() == 10 * 10 + 3 + 2 * 10  # the routing action: N x J shares, Q work levels, K x N model scores
    scenario = with_knobs(make_synthetic(2, hours=24), "stream", MODELS)
    assert most_pending(scenario) > 3  # more jobs than slots: the others get their must-run work
    played = rollout(policy, scenario)
    assert played.metrics.J == pytest.approx(knob_j(played.metrics, scenario), rel=1e-10)


def test_an_interrupted_knob_run_resumes_from_its_checkpoint(tmp_path):
    from eglb.training.config import DataConfig

    from eglb.trainer import train, training_config

    sets = TINY["ppo"][1::2]  # the values of its --set options
    config = training_config(
        "ppo",
        data=DataConfig(eval_seeds=(0,)),
        timesteps=192,
        n_envs=1,
        eval_freq=64,
        sets=[*sets, "env.episode_hours=24"],
        knobs=KnobConfig(jobs="stream", models=MODELS),
    )

    def stop_at_the_second_evaluation(row):
        if row["steps"] >= 128:
            raise KeyboardInterrupt

    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(config, folder, callbacks=[stop_at_the_second_evaluation])
    before = yaml.safe_load((folder / "config.yaml").read_text())
    summary = train(folder=folder, resume=True)
    assert [row["steps"] for row in summary.history] == [64, 128, 192]
    assert yaml.safe_load((folder / "config.yaml").read_text()) == before  # the knobs and their shape are kept
    assert PolicyCard.load(folder).io.knobs == {"job_slots": before["knobs"]["job_slots"], "models": 2}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--jobs", "stream:sahre=0.2"], "--jobs 'stream:sahre=0.2': expected KEY=VALUE"),
        (["--jobs", "stream:seed=1.5"], "seed must be a whole number"),
        (["--jobs", "stream:share=2"], "--jobs 'stream:share=2': job stream setting deferrable_share = 2.0 is out of range"),
        (["--jobs", "no-such-jobs.csv"], "--jobs 'no-such-jobs.csv' is neither 'stream[:...]' nor an existing job list file"),
        (["--models", "llama3.1-batch128"], "--models 'llama3.1-batch128': give the accuracy target"),
        (["--models", "gpt9:target=80"], "--models 'gpt9:target=80': unknown preset 'gpt9'"),
        (["--models", MODELS.replace("80", "eighty")], "target='eighty' is not a number"),
        (["--jobs", ""], "argument --jobs: expected non-blank text"),
        (["--algo", "bc", "--jobs", "stream"], "bc imitates routing duals only"),
        (["--jobs", "stream", "--set", "env.residual=true"], "--jobs and --models with env.residual are not supported"),
        (["--resume", "/nonexistent/run", "--models", MODELS], "--models applies only to start a run"),
        (["--models", MODELS, "--job-slots", "4"], "--job-slots sets how many of the --jobs the policy sees: give --jobs"),
        (["--jobs", "stream", "--job-slots", "-1"], "--job-slots must be in 0..100,000, got -1"),
    ],
)
def test_bad_knob_options_give_one_line(args, message, tmp_path, run_cli):
    if "--resume" in args:  # it takes no other run option
        done = run_cli("train.py", "--no-progress", *args)
    else:
        algo = [] if "--algo" in args else ["--algo", "ppo"]
        done = run_cli("train.py", "--no-progress", "--set", "env.episode_hours=24", "--out", str(tmp_path), *algo, *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not list(tmp_path.iterdir())


def test_a_run_config_with_bad_knobs_is_one_line():
    values = RunConfig("ppo", knobs=KnobConfig(jobs="stream")).to_dict()
    values["knobs"]["job_slots"] = -1
    with pytest.raises(InputError, match="config.yaml: knobs.job_slots must be >= 0"):
        RunConfig.from_dict(values, "config.yaml")
    values["knobs"] = {"jobs": None, "models": None}
    with pytest.raises(InputError, match="knobs: give jobs"):
        RunConfig.from_dict(values, "config.yaml")


def test_robust_aware_training_with_knobs_reloads_inside_its_layer_and_keeps_the_guarantee(tmp_path):
    from eglb.agents.knob_policies import EGLBKnobs
    from eglb.robust.knob_layer import KnobRobustPolicy
    from eglb.robust.layer import Slack
    from eglb.robust.wrapper import KnobRobustTrainingEnv

    folder = short_run(tmp_path, "ppo", 128, *KNOBS, "--robust", "0.05", name="robust-knobs")
    card, policy = load_learned(folder)
    assert card.io.robust == {"lam": 0.05, "b": 0.0, "slack": "const"} and isinstance(policy, KnobRobustPolicy)
    scenario = with_knobs(make_synthetic(7, hours=24), "stream:seed=3", MODELS)
    played = rollout(policy, scenario)
    expert = rollout(EGLBKnobs(), scenario)
    assert played.metrics.J <= policy.summary()["bound"] + 1e-7 * expert.metrics.J
    assert played.metrics.unfinished <= expert.metrics.unfinished + 1e-9
    # The training environment shows the network what the reloaded layer shows it: the same J by hand.
    predict = load_predictor(card, weights_path(folder))
    flex = FlexGLBEnv(
        scenario, action_mode="dual", job_slots=card.io.knobs["job_slots"], observation_scale=card.io.observation_scale
    )
    env = KnobRobustTrainingEnv(flex, 0.05, Slack(), reward="J")
    assert env.observation_space.shape == (card.io.observation_size(),)
    obs, _ = env.reset(options={"start": 0})
    total, done, thetas = 0.0, False, []
    while not done:
        obs, reward, done, _, info = env.step(predict(obs))
        total += reward
        thetas.append(info["theta"])
    assert -total == pytest.approx(played.metrics.J, rel=1e-10)
    assert thetas == pytest.approx(policy.thetas)


def test_the_vs_expert_reward_with_knobs_compares_with_eglb_playing_the_knobs():
    from eglb.agents.knob_policies import EGLBKnobs
    from eglb.training.envs import knob_shape, make_env

    from eglb.trainer import training_config

    scenario = with_knobs(make_synthetic(4, hours=24), "stream", MODELS)
    config = training_config("ppo", sets=["env.episode_hours=24"], knobs=KnobConfig(jobs="stream", models=MODELS))
    config = knob_shape(config.for_scenario(scenario), scenario)
    assert config.env.reward == "vs-expert"
    env = make_env(config, scenario, seed=0)
    env.reset(options={"start": 0})
    rng = np.random.default_rng(0)
    total, done = 0.0, False
    while not done:
        _, reward, done, _, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
        total += reward
    expert = rollout(EGLBKnobs(), scenario).metrics.J
    assert info["expert_J"] == pytest.approx(expert, rel=1e-10)
    assert total == pytest.approx((expert - info["J"]) * config.env.reward_scale, rel=1e-9)
