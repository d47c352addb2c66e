"""Hostile arguments, specs, configurations and actions (issue 17, causes 6 to 9): each ends in one clear
line naming the argument and what was expected, through one mechanism per surface:

* the command lines: every option without a type of its own refuses blank text (eglb.cli.text); seed
  and window lists refuse duplicates (parse_seeds); numbers are checked by the configurations;
* the typed configurations and the API functions: envs.validation.check_fields and typed_arguments;
* the specs (rhc/afhc, forecasters, shifts, robust(...)): envs.validation.parse_settings and parse_number;
* the environments: GLBEnv's own step checks, and envs.glb_env.StepChecks outermost on the composed ones.
"""

from __future__ import annotations

import json
import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.envs.glb_env import GLBEnv
from eglb.envs.synthetic import make_synthetic
from eglb.envs.validation import check_value, parse_settings
from eglb.training.config import DataConfig, RobustConfig, RunConfig
from gymnasium.utils.env_checker import check_env
from hypothesis import given
from hypothesis import strategies as st

import eglb
from eglb.cli import evaluate, run_cli, train
from eglb.registry import split_specs


@pytest.fixture
def cli_error(capsys, monkeypatch, tmp_path):
    """Run a CLI's main in an empty working folder: exit status 2, one line on stderr, nothing written."""

    def run(main, argv: list[str]) -> str:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # run_cli replaces it
        try:
            status = run_cli(main, argv)
        except SystemExit as exc:  # argparse's own usage errors
            status = exc.code
        assert status == 2
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert ": error: " in lines[0]
        assert list(tmp_path.iterdir()) == [], "nothing may be written when the arguments are refused"
        return lines[0]

    return run


# ----------------------------------------------------------------------------------- evaluate.py
EVALUATE_CASES = [
    # cause 6: flags and specs
    (["--ray", "::::"], "the Ray address (--ray) must be 'auto', HOST:PORT or ray://HOST:PORT"),
    (["--ray", "host:notaport"], "got 'host:notaport'"),
    (["--ray", "host:70000"], "with a port in 1..65535"),
    (["--ray", "ray://"], "got 'ray://'"),
    (["--ray", ""], "argument --ray: expected non-blank text, got ''"),
    (["--seed", "-1"], "ScenarioConfig.seed (--seed) must be >= 0, got -1"),
    (["--seed", str(2**32)], "ScenarioConfig.seed (--seed) must be <= 4294967295"),
    (["--algos", "rhc:w=24,seed=-1"], "rhc: seed must be a whole number in 0..4294967295, got '-1'"),
    (["--algos", "afhc:w=1e9"], "afhc: w must be a whole number in 1..8784, got '1e9'"),
    (["--algos", "rhc:w=0"], "rhc: w must be a whole number in 1..8784, got '0'"),
    (["--algos", "rhc:tail_days=100000"], "rhc: tail_days must be a whole number in 1..366"),
    (["--algos", "rhc:forecaster=noisy,noise=nan"], "forecaster parameter noise must be a finite number in 0..10"),
    (["--algos", "rhc:forecaster=seasonal,period=0"], "forecaster parameter period must be a whole number in 1..8784"),
    (["--algos", "py::f"], "py::f: expected py:MODULE:FUNCTION with a dotted module name"),
    (["--algos", "py:..x:f"], "py:..x:f: expected py:MODULE:FUNCTION with a dotted module name"),
    (["--algos", "py:os.:f"], "expected py:MODULE:FUNCTION"),
    (["--algos", "robust(glb-cost,lambda=inf)"], "robust(glb-cost,lambda=inf): lambda must be a finite number in 0..1e+12"),
    (["--algos", "robust(glb-cost,magic=1)"], "unknown setting 'magic'"),
    # cause 9: silent defaults, duplicates and overflow
    (["--zones", ""], "argument --zones: expected non-blank text"),
    (["--years", " "], "argument --years: expected non-blank text"),
    (["--regions", ""], "argument --regions: expected non-blank text"),
    (["--nearest", ""], "argument --nearest: expected non-blank text"),
    (["--synthetic", ""], "argument --synthetic: expected non-blank text"),
    (["--algos", ""], "argument --algos: expected non-blank text"),
    (["--out", "a\x00b"], "argument --out: expected text without control characters"),
    (["--synthetic", "0,0"], "--synthetic lists 0 twice"),
    (["--synthetic", "0-3,2"], "--synthetic lists 2 twice"),
    (["--synthetic", "0-99999999999"], "--synthetic lists more than 10000 values"),
    (["--hours", "20:-1"], "--hours must look like START:END with 0 <= START < END (END empty: to the last hour)"),
    (["--hours", "8700:-1"], "got '8700:-1'"),
    (["--shift", "outage:start=0.1,start=0.2"], "shift outage: start is given twice"),
    (["--shift", "outage:start="], "shift outage: expected KEY=VALUE, got 'start='"),
    (["--algos", "rhc:w=24,w=12"], "rhc:w=24,w=12: w is given twice"),
    (["--algos", "rhc:forecaster=noisy,noise=0.1,noise=0.2"], "noise is given twice"),
    (["--algos", "robust(glb-cost,lambda=0.1,lambda=0.2)"], "lambda is given twice"),
    (
        ["--algos", "robust(glb-cost,floor=-1e308)"],
        "robust(glb-cost,floor=-1e308): floor must be a finite number in -1e+12..1e+12",
    ),
    (["--algos", "eglb", "--eta", "1e308"], "AlgorithmOptions.eta (--eta) must be <= 1e+12, got 1e+308"),
    (["--algos", "eglb", "--eta", "nan"], "AlgorithmOptions.eta must be a finite number, got nan"),
    (["--algos", "eglb", "--eta-scale", "-1"], "AlgorithmOptions.eta_scale (--eta-scale) must be >= 0"),
    (["--shift", "heat-wave:severity=1e308"], "shift heat-wave: severity must be a finite number in -1e+12..1e+12"),
    (["--shift", "surge:increase=1e308"], "shift surge: increase must be a finite number in -1e+12..1e+12"),
    (["--shift", "negative-prices:hours=25-3"], "hours must look like 10-16 (hours of the day, 0 <= FIRST < LAST <= 24)"),
    (["--shift", "region-swap:a=Texas,b=Texas"], "shift region-swap: a and b must be two different regions, got 'Texas' twice"),
    (["--shift", "outage", "--shift", "outage"], "ScenarioConfig.shifts lists 'outage' twice"),
    (["--traces", "x" * 5000], "argument --traces: expected at most 4096 characters, got 5000"),
    (["--traces", "x" * 300], "traces folder " + "x" * 300 + " cannot be read (File name too long)"),
    (["--out", "x" * 300], "cannot create --out folder"),
    # options that would be silently ignored
    (["--shifts", "outage"], "--shifts applies only with --sweep"),
    (["--severities", "1", "--lambdas", "0.1"], "--severities, --lambdas apply only with --sweep"),
    (["--synthetic-hours", "24", "--traces", "somewhere"], "--synthetic-hours applies only with synthetic scenarios"),
    (["--workload", "alibaba-genai"], "--workload applies only with the history folder (--traces) or --zones"),
    (["--carbon", "lca"], "--carbon applies only with the history folder (--traces)"),
    (["--nearest", "Texas"], "--nearest applies only with glb-dist in --algos"),
    (["--eta", "0.1"], "--eta applies only with eglb in --algos"),
    (["--sweep", "--ml", "nope"], "unknown algorithm 'nope'"),
    (["--time-limit", "0"], "AlgorithmOptions.offline_time_limit (--time-limit) must be > 0"),
    (["--time-limit", "inf"], "AlgorithmOptions.offline_time_limit must be a finite number, got inf"),
    (["--sweep", "--severities", "0,nan"], "--severities must be finite numbers >= 0"),
    (["--sweep", "--lambdas", "0.1,0.1"], "SweepConfig.lambdas lists 0.1 twice"),
    (["--sweep", "--lambdas", "1e300"], "SweepConfig.lambdas must be <= 1e+12"),
    (["--sweep", "--shifts", "outage,outage"], "SweepConfig.shifts lists 'outage' twice"),
    (["--sweep", "--shifts", "outage:start=0.1"], "SweepConfig.shifts names shifts (the sweep sets their severity)"),
]


@pytest.mark.parametrize("args, message", EVALUATE_CASES)
def test_evaluate_refuses_hostile_arguments_in_one_line(args, message, cli_error):
    line = cli_error(evaluate.main, ["--no-progress", "--algos", "glb-cost", *args])  # each fails before a scenario is built
    assert message in line, line


@pytest.mark.parametrize(
    "args, message",
    [
        (["--window-hours", "8761"], "--window-hours 8761 is longer than 2022's 8760 hours"),
        (["--windows", "0,0"], "--windows lists 0 twice"),
        (["--windows", "1-2,2"], "--windows lists 2 twice"),
    ],
)
@pytest.mark.usefixtures("private_cache")
def test_the_benchmark_refuses_impossible_windows(args, message, cli_error, small_history):
    argv = [
        "--no-progress",
        "--benchmark",
        "history",
        "--traces",
        str(small_history),
        "--regions",
        "US-TEX-ERCO",
        "--years",
        "2022",
    ]
    line = cli_error(evaluate.main, argv + args)
    assert message in line, line


# ----------------------------------------------------------------------------------- train.py
TRAIN_CASES = [
    (["--eval-windows", "0"], "--eval-windows applies only with the history folder (--traces)"),
    (["--years", ""], "argument --years: expected non-blank text"),
    (["--zones", " "], "argument --zones: expected non-blank text"),
    (["--name", ""], "argument --name: expected non-blank text"),
    (["--eval-seeds", "0,0"], "--eval-seeds lists 0 twice"),
    (["--ray", "host:notaport"], "the Ray address (--ray) must be"),
    (["--torch-threads", "100000"], "--torch-threads must be in 1..256"),
    (["--robust", "1e308"], "robust.lam must be <= 1e+12"),
    (["--timesteps", "0"], "timesteps must be >= 1"),
    (["--eval-freq", "-1"], "eval_freq must be >= 0"),
    (["--samples", "0"], "--samples, --scheduler and --storage go with --tune SPACE.yml"),
    (["--tune", "sweeps/spaces/bc.yml", "--samples", "0"], "TuneConfig.samples (--samples) must be >= 1"),
    (["--tune", "sweeps/spaces/bc.yml", "--ray", "a b:1"], "the Ray address (--ray) must be"),
    (["--tune", "sweeps/spaces/bc.yml", "--storage", ""], "argument --storage: expected non-blank text"),
    (["--resume", "runs/bc"], "--algo, --synthetic apply only to start a run: --resume continues one with its own config.yaml"),
    (
        ["--algo", "ppo", "--set", "model.policy_kwargs.net_arch=[100000]"],
        "model.policy_kwargs.net_arch[0] must be a whole number from 1 to 16,384",
    ),
    (["--eval-windows", "3"], "--eval-windows applies only with the history folder (--traces)"),
    (["--workload", "alibaba-genai"], "--workload applies only with the history folder (--traces) or --zones"),
    (["--zones", "NOPE"], "unknown zone 'NOPE'"),
    (["--set", "model.hidden=[10000000000]"], "model.hidden[0] must be a whole number from 1 to 16,384, got 10000000000"),
    (["--set", "model.hidden=[8]", "--set", "model.workers=100000"], "model.workers must be <= 256"),
    (["--set", "model.label_every=200"], "model.label_every=200 labels no hour of a 168-hour episode"),
    (["--set", "model.label_every=1000000"], "model.label_every=1000000 labels no hour of a 168-hour episode"),
    (["--set", "model=[1, 2]"], "model must be a mapping, got [1, 2]"),
    (["--set", "model.episodes_per_iteration=1000000000"], "model.episodes_per_iteration must be <= 10000"),
]


@pytest.mark.parametrize("args, message", TRAIN_CASES)
def test_train_refuses_hostile_arguments_in_one_line(args, message, cli_error):
    line = cli_error(train.main, ["--no-progress", "--algo", "bc", "--synthetic", *args])
    assert message in line, line


# ----------------------------------------------------------------------------------- the Python API
BASE = RunConfig("bc")

API_CASES = [
    (lambda: eglb.evaluate(None), "evaluate() argument 'config' must be an EvaluationConfig, got None"),
    (lambda: eglb.build(5), "build() argument 'spec' must be text or Policy or OfflineSolver, got 5"),
    (
        lambda: eglb.evaluate(eglb.EvaluationConfig(algos=("glb-cost",)), mapper=5),
        "evaluate() argument 'mapper' must be a function (callable), got 5",
    ),
    (lambda: eglb.build("glb-cost", options={}), "build() argument 'options' must be an AlgorithmOptions, got {}"),
    (lambda: eglb.ScenarioConfig(synthetic=3), "ScenarioConfig.synthetic must be a list or tuple, got 3"),
    (lambda: eglb.ScenarioConfig(shifts="outage"), "ScenarioConfig.shifts must be a list or tuple of text, not one string"),
    (lambda: eglb.ScenarioConfig(years=""), "ScenarioConfig.years must be non-blank text (None for the default)"),
    (lambda: eglb.ScenarioConfig(zones=""), "ScenarioConfig.zones must be non-blank text"),
    (lambda: eglb.ScenarioConfig(synthetic_hours=True), "ScenarioConfig.synthetic_hours must be a whole number, got true"),
    (lambda: eglb.ScenarioConfig(hours=(5, 2)), "ScenarioConfig.hours must be (START, END) with 0 <= START < END"),
    (lambda: eglb.ScenarioConfig(hours=(0, 1, 2)), "ScenarioConfig.hours must hold 2 values"),
    (lambda: eglb.ScenarioConfig(mu_water=float("nan")), "ScenarioConfig.mu_water must be a finite number, got nan"),
    (lambda: eglb.ScenarioConfig(workload="llama"), "--workload must be one of bloom"),
    (lambda: eglb.TuneConfig(BASE, "space.yml", samples="2"), "TuneConfig.samples must be a whole number, got '2'"),
    (lambda: eglb.TuneConfig(BASE, "space.yml", address="::::"), "the Ray address (--ray) must be"),
    (lambda: eglb.TuneConfig(BASE, "space.yml", name="../x"), "--name must be a plain folder name"),
    (lambda: eglb.TuneConfig(BASE, None), "TuneConfig.space must be text or Path, got None"),
    (
        lambda: eglb.training_config("bc", sets="model.epochs=2"),
        "training_config() argument 'sets' must be a list or tuple of text",
    ),
    (lambda: eglb.training_config(5), "training_config() argument 'algo' must be text, got 5"),
    (lambda: eglb.train(5), "train() argument 'config' must be a RunConfig, got 5"),
    (lambda: eglb.train(BASE, callbacks=print), "train() argument 'callbacks' must be a list or tuple"),
    (lambda: eglb.train(BASE, torch_threads=10**6), "torch_threads (--torch-threads) must be in 1..256"),
    (lambda: eglb.vary(BASE, "model.epochs=2"), "vary() argument 'values' must be a mapping"),
    (lambda: eglb.tune(None), "tune() argument 'config' must be a TuneConfig, got None"),
    (lambda: eglb.sweep("x"), "sweep() argument 'config' must be a SweepConfig, got 'x'"),
    (lambda: eglb.benchmark.benchmark(3), "benchmark() argument 'config' must be a BenchmarkConfig, got 3"),
    (lambda: eglb.build_scenarios(None), "build_scenarios() argument 'config' must be a ScenarioConfig"),
    (lambda: eglb.mapper_for(5), "mapper_for() argument 'address' must be text, got 5"),
    (lambda: eglb.mapper_for(None, items_per_task=0).__enter__(), "items_per_task must be >= 1"),
    (lambda: eglb.mapper_for("::::").__enter__(), "the Ray address (--ray) must be"),
    (lambda: eglb.EvaluationConfig(progress=1), "EvaluationConfig.progress must be true or false, got 1"),
    (lambda: eglb.EvaluationConfig(scenario="synthetic"), "EvaluationConfig.scenario must be a ScenarioConfig"),
    (lambda: eglb.EvaluationConfig(algos=("eglb", 3)), "EvaluationConfig.algos[1]: an algorithm must be a spec string"),
    (lambda: eglb.EvaluationConfig(out=""), "EvaluationConfig.out must be non-blank text"),
    (lambda: eglb.AlgorithmOptions(nearest="Texas"), "AlgorithmOptions.nearest must be a list or tuple of text, not one string"),
    (lambda: eglb.AlgorithmOptions(eta=True), "AlgorithmOptions.eta must be a finite number, got true"),
    (lambda: eglb.AlgorithmOptions(allow_pickle="yes"), "AlgorithmOptions.allow_pickle must be true or false"),
    (lambda: eglb.SweepConfig(shifts="outage"), "SweepConfig.shifts must be a list or tuple of text, not one string"),
    (lambda: eglb.SweepConfig(severities=(float("nan"),)), "SweepConfig.severities[0] must be a finite number, got nan"),
    (lambda: eglb.SweepConfig(lambdas=()), "SweepConfig.lambdas must list at least one value"),
    (lambda: eglb.benchmark.BenchmarkConfig(window_hours=1.5), "BenchmarkConfig.window_hours must be a whole number"),
    (lambda: RunConfig("bc", env=5), "env must be an EnvConfig, got 5"),
    (lambda: RunConfig(5), "algo must be text, got 5"),
    (lambda: DataConfig(eval_seeds="012"), "data.eval_seeds must be a list or tuple, not one string, got '012'"),
    (lambda: DataConfig(eval_seeds=(0, 0)), "data.eval_seeds lists 0 twice"),
    (lambda: DataConfig(eval_windows=0), "data.eval_windows must be >= 1, got 0"),
    (lambda: DataConfig(regions=""), "data.regions must be non-blank text"),
    (lambda: RobustConfig(lam=1e300), "robust.lam must be <= 1e+12"),
    (lambda: split_specs(None), "split_specs() argument 'text' must be text, got None"),
    (lambda: GLBEnv(episode_hours=float("nan")), "GLBEnv() argument 'episode_hours' must be a whole number, got nan"),
    (lambda: GLBEnv(random_start="yes"), "GLBEnv() argument 'random_start' must be true or false"),
    (lambda: GLBEnv(forecast_hours=10**12), "argument 'forecast_hours' must be <= 8784"),
    (lambda: GLBEnv(observation_scale=5), "GLBEnv() argument 'observation_scale' must be ObservationScale or dict or empty"),
    (lambda: gym.make("GLB-Synthetic-v0", foo=1), "gymnasium.make('GLB-Synthetic-v0'): unknown configuration key 'foo'"),
    (lambda: gym.make("GLB-Synthetic-v0", episode_hours="a week"), "episode_hours must be a whole number, got 'a week'"),
]


@pytest.mark.parametrize("call, message", API_CASES)
def test_the_api_refuses_wrong_types_naming_the_argument(call, message):
    with pytest.raises(InputError) as caught:
        call()
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_typed_configs_store_normalized_values():
    from pathlib import Path

    scenario = eglb.ScenarioConfig(synthetic=[1, 2], shifts=["outage"], traces=None, mu_water=3)
    assert scenario.synthetic == (1, 2) and scenario.shifts == ("outage",) and scenario.mu_water == 3.0
    assert isinstance(scenario.mu_water, float)
    assert eglb.EvaluationConfig(out=Path("results/x")).out == "results/x"
    assert eglb.EvaluationConfig(algos="eglb,glb-cost").algos == ("eglb", "glb-cost")  # the documented one-string form
    assert eglb.AlgorithmOptions(nearest=["Texas"], eta=np.float64(0.5)).nearest == ("Texas",)
    assert eglb.ScenarioConfig(seed=np.int64(3)).seed == 3


@given(st.text(max_size=30))
def test_a_string_is_never_split_into_characters(text):
    for hint in (tuple[str, ...], tuple[int, ...]):
        with pytest.raises(InputError, match="not one string"):
            check_value("k", text, hint)


# ----------------------------------------------------------------------------------- spec settings
@given(
    st.dictionaries(
        st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.from_regex(r"[A-Za-z0-9.+:/-]{1,8}", fullmatch=True), max_size=5
    ),
    st.data(),
)
def test_spec_settings_read_back_and_refuse_a_key_given_twice(settings, data):
    body = ",".join(f"{k}={v}" for k, v in settings.items())
    assert parse_settings(body, "spec") == settings
    if settings:
        key = data.draw(st.sampled_from(sorted(settings)))
        with pytest.raises(InputError, match=f"spec: {key} is given twice"):
            parse_settings(f"{body},{key}=1", "spec")


# ----------------------------------------------------------------------------------- environments
ENV_CASES = [
    ("GLB-v0", {"action_mode": "routing"}),
    ("GLB-v0", {"action_mode": "dual"}),
    ("GLB-v0", {"action_mode": "share"}),
    ("GLB-Synthetic-v0", {}),
    ("GLB-Synthetic-v0", {"residual": False}),
    ("GLB-Synthetic-v0", {"residual": False, "action_mode": "routing", "reward": "J"}),
    ("GLB-Eglb2022-v0", {}),
]


def robust_env():
    from eglb.training.envs import make_env

    config = eglb.training_config("ppo", robust=RobustConfig(lam=0.1), sets=["env.episode_hours=4"])
    return make_env(config.for_scenario(make_synthetic(0, hours=24)), None, seed=None)


def make(env_id: str, kwargs: dict, request) -> gym.Env:
    if env_id == "GLB-Eglb2022-v0":
        request.getfixturevalue("published_path")
    if env_id == "GLB-v0":
        return gym.make(env_id, scenario=make_synthetic(0, hours=24), episode_hours=4, **kwargs)
    return gym.make(env_id, episode_hours=4, **kwargs)


@pytest.mark.parametrize("env_id, kwargs", ENV_CASES + [("robust", {})])
def test_every_ready_environment_passes_the_checkers_and_refuses_bad_steps(env_id, kwargs, request):
    env = robust_env() if env_id == "robust" else make(env_id, kwargs, request)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version")
        check_env(env, skip_render_check=True)
    shape = env.action_space.shape
    with pytest.raises(gym.error.ResetNeeded):
        (robust_env() if env_id == "robust" else make(env_id, kwargs, request)).step(env.action_space.sample())
    env.reset(seed=0)
    for junk in ("abc", np.full(shape, "0.5"), object(), np.full(shape, None), np.zeros(shape) + 0.5j, np.zeros(shape[0] + 1)):
        with pytest.raises(InputError, match=rf"action must be an array of shape \({shape[0]},\) of real numbers"):
            env.step(junk)
    done = False
    while not done:  # the refused actions did not advance the episode: four steps end it
        _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(reward)
        done = terminated or truncated
    with pytest.raises(gym.error.ResetNeeded, match="the episode has ended; call reset()"):
        env.step(env.action_space.sample())
    env.reset(seed=1)
    env.step(env.action_space.sample())


# ----------------------------------------------------------------------------------- py: policies
POLICIES = """
import numpy as np
from eglb.agents.base import Policy

def wrong_shape():
    return lambda view: np.zeros((3, 3))

def text():
    return lambda view: "all to Texas"

def complex_routing():
    return lambda view: np.zeros((10, 10)) + 1j

class Short(Policy):
    def act(self, view):
        return [0.0] * 5

def short():
    return Short()
"""


@pytest.mark.parametrize(
    "function, got",
    [
        ("wrong_shape", "ndarray of shape (3, 3)"),
        ("text", "str 'all to Texas'"),
        ("complex_routing", "complex128 values"),
        ("short", "list of shape (5,)"),
    ],
)
def test_a_python_policy_returning_junk_is_one_clear_error(function, got, tmp_path, monkeypatch):
    (tmp_path / "hostile_policies.py").write_text(POLICIES)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = f"py:hostile_policies:{function}"
    config = eglb.EvaluationConfig(algos=(spec,), scenario=eglb.ScenarioConfig(synthetic_hours=4))
    with pytest.raises(InputError) as caught:
        eglb.evaluate(config)
    message = str(caught.value)
    assert f"the routing {spec} gave for hour 0 must be an array of shape (10, 10) of real numbers" in message
    assert got in message


# ----------------------------------------------------------------------------------- search spaces
@pytest.mark.parametrize(
    "text, message",
    [
        ("model.clip_range: {quniform: [0, 1.0e+308, 1.0e-300]}", "quniform's bounds must be <= 1e+12, got 1e+308"),
        ("model.clip_range: {quniform: [0, 1.0e+10, 1.0e-10]}", "quniform's step Q=1e-10 is too fine"),
        ("model.gamma: {uniform: [-1.0e+308, 1.0e+308]}", "uniform's bounds must be >= -1e+12"),
        ("model.batch_size: {randint: [0, 1000000000000000000000000000000]}", "randint's bounds must be <= 1e+12"),
        (
            "model.gamma: {uniform: [0.9, 0.99]}\nmodel.gamma: {uniform: [0.5, 0.6]}\n",
            "line 2: model.gamma is given twice (first on line 1)",
        ),
        ("[" * 3000 + "]" * 3000, "nested too deeply"),
    ],
)
def test_search_spaces_refuse_overflowing_and_duplicate_entries(text, message, tmp_path):
    from eglb.sweeps.spaces import load_space

    path = tmp_path / "space.yml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_space(path)
    assert message in str(caught.value)


# ----------------------------------------------------------------------------------- overflow
def test_the_largest_accepted_settings_run_without_overflow_or_null(tmp_path):
    """eta, lambda, b and the price floor at their bounds: no overflow warning, every number finite in JSON."""
    config = eglb.EvaluationConfig(
        algos="robust(glb-cost,floor=-1e12,lambda=1e12,b=1e12),eglb",
        scenario=eglb.ScenarioConfig(synthetic_hours=24),
        options=eglb.AlgorithmOptions(eta=1e12),
        out=str(tmp_path),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eglb.evaluate(config)
    rows = json.loads((tmp_path / "results.json").read_text())
    for row in rows:
        # (seed is null by design where no training seed exists: a classical algorithm's row)
        numbers = [v for k, v in row.items() if k != "seed" and not isinstance(v, (str, dict, list, bool))]
        assert all(v is not None and math.isfinite(v) for v in numbers), row
    assert rows[0]["expert_J"] > 0
