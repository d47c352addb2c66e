"""Corrupted learned policies are refused on load, and a non-finite action is never repaired silently
(issue 17, cause 3): NaN or infinite weights, observation scales of 0, NaN or < 0 (policy.json, config.yaml),
a NaN training set, a scenario in other units than the policy's (cents for USD), and NaN network outputs."""

from __future__ import annotations

import io
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from eglb.agents.dual_network import DualNetwork, NetworkPredictor
from eglb.agents.learned import LearnedPolicy, PolicyIO, policy_from_predictor
from eglb.envs.errors import InputError
from eglb.envs.observation import SCALE_TOLERANCE, UNIT_SIGNALS, ObservationScale
from eglb.envs.shifts import SHIFTS, apply_shift, parse_shift
from eglb.envs.synthetic import make_synthetic
from eglb.report.run import run_algorithms
from eglb.report.tables import format_table, mean_rows, result_rows
from eglb.robust.layer import RobustPolicy
from eglb.robust.learned import load_learned
from eglb.training.evaluator import PeriodicEvaluator
from test_learning import short_run

from eglb.cli import train

SCALE = ObservationScale.from_scenario(make_synthetic(0, hours=457))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A bc run of two DAgger iterations (a checkpoint with a dataset), shared read-only: tests copy it."""
    return short_run(tmp_path_factory.mktemp("trained"), "bc", 24 * 3 * 2, "--eval-freq", "72")


@pytest.fixture
def run(trained, tmp_path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "run"))


def corrupt_weights(path: Path, key: str, value: float) -> None:
    state = torch.load(path, weights_only=True)
    state[key] = state[key].clone()
    state[key].view(-1)[3] = value
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused_naming_file_and_tensor(run, value, run_cli):
    corrupt_weights(run / "best_policy.pt", "body.0.weight", value)
    with pytest.raises(InputError, match=r"best_policy.pt: tensor 'body.0.weight' holds NaN or infinite values"):
        load_learned(run)
    done = run_cli("evaluate.py", "--synthetic-hours", "24", "--algos", f"bc:{run}", "--no-progress")
    assert done.returncode == 2 and "tensor 'body.0.weight' holds NaN" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_non_finite_checkpoint_state_is_refused_on_resume(run):
    trainer = next(run.glob("checkpoint-*/trainer.pt"))
    state = torch.load(trainer, weights_only=True)
    state["network"]["body.2.bias"][0] = float("nan")
    torch.save(state, trainer)
    with pytest.raises(InputError, match=r"trainer.pt: tensor 'network.body.2.bias' holds NaN"):
        train.main(["--resume", str(run), "--timesteps", str(24 * 3 * 3), "--no-progress"])


def test_a_nan_training_set_is_refused_on_resume(run):
    dataset = next(run.glob("checkpoint-*/dataset.npz"))
    with np.load(dataset) as data:
        observations, labels = data["observations"], data["labels"].copy()
    labels[2, 1] = np.nan
    np.savez(dataset, observations=observations, labels=labels)
    with pytest.raises(InputError, match=r"dataset.npz: array 'labels' holds NaN or infinite values \(row 2\)"):
        train.main(["--resume", str(run), "--timesteps", str(24 * 3 * 3), "--no-progress"])


@pytest.mark.parametrize(
    "literal, message",
    [
        ("0", "observation scale water must be a finite number > 0, got 0.0"),
        ("-1", "observation scale water must be a finite number > 0, got -1.0"),
        ('"abc"', "observation scale water must be a finite number > 0, got 'abc'"),
        ("null", "observation scale water must be a finite number > 0, got None"),
        ("true", "observation scale water must be a finite number > 0, got True"),
        ("NaN", "is not standard JSON: NaN is not a number JSON allows"),
        ("-Infinity", "is not standard JSON: -Infinity is not a number JSON allows"),
        ("1e400", "the number 1e400 is beyond the range of a float"),
        ("1" + "0" * 400, "an integer of 401 digits"),
    ],
)
def test_bad_observation_scales_in_the_policy_card_are_refused(run, literal, message):
    card = json.loads((run / "policy.json").read_text())
    card["io"]["observation_scale"]["water"] = "__VALUE__"
    (run / "policy.json").write_text(json.dumps(card).replace('"__VALUE__"', literal))
    with pytest.raises(InputError, match="policy.json") as error:
        load_learned(run)
    assert message in str(error.value)


@pytest.mark.parametrize("value", [0, -1, ".nan", ".inf"])
def test_bad_observation_scales_in_the_run_configuration_are_refused_on_resume(run, value):
    config = (run / "config.yaml").read_text()
    values = yaml.safe_load(config)
    scale = values["observation_scale"]["price"]
    (run / "config.yaml").write_text(config.replace(f"price: {scale}", f"price: {value}"))
    assert yaml.safe_load((run / "config.yaml").read_text())["observation_scale"]["price"] != scale
    with pytest.raises(InputError, match=r"config.yaml: .*price must be a finite number"):
        train.main(["--resume", str(run), "--no-progress"])


@pytest.mark.parametrize("signal", UNIT_SIGNALS)
@pytest.mark.parametrize("factor", [100.0, 1 / 1000])
def test_a_scenario_in_other_units_is_refused(signal, factor):
    """Prices in cents instead of USD (x100), intensities in kg instead of t (x1000) ..., either way round."""
    scenario = make_synthetic(3, hours=48)
    # Loads and capacities move together (MW read as kW), which keeps the scenario feasible.
    moved = ("workload", "capacity") if signal in ("workload", "capacity") else (signal,)
    changed = scenario.with_changes(**{name: getattr(scenario, name) * factor for name in moved})
    policy = LearnedPolicy(lambda obs: np.zeros(20), PolicyIO(SCALE, (10, 10)), "bc:run")
    named = "|".join(moved)
    with pytest.raises(
        InputError, match=rf"policy 'bc:run' observes ({named}) in units .* times apart \(at most 10 is accepted\)"
    ):
        policy.reset(changed)
    policy.reset(scenario)  # the same scenario in USD, t, MW


def test_a_card_whose_scale_is_in_cents_is_refused(run):
    card = json.loads((run / "policy.json").read_text())
    card["io"]["observation_scale"]["price"] *= 100
    (run / "policy.json").write_text(json.dumps(card))
    _, policy = load_learned(run)
    with pytest.raises(InputError, match="observes price in units"):
        run_algorithms([("bc", policy)], make_synthetic(3, hours=24), progress=False)


def test_every_shift_and_the_published_data_stay_within_the_unit_check(published_full):
    """The documented tolerance leaves room for what evaluations really see: every shift at severity
    5 of a held-out trace, and the published data set, under a synthetic-trained scale."""
    base = make_synthetic(3, hours=168)
    scenarios = [published_full] + [apply_shift(base, parse_shift(f"{name}:severity=5"), 0).scenario for name in SHIFTS]
    for scenario in scenarios:
        found = ObservationScale.magnitudes(scenario)
        worst = max(max(found[s] / getattr(SCALE, s), getattr(SCALE, s) / found[s]) for s in UNIT_SIGNALS if found[s] > 0)
        assert worst < SCALE_TOLERANCE / 4, scenario.name
        SCALE.check_units(scenario, "policy")


def dual_predictor(scenario, nan_hours, residual=False):
    """A real network's predictor that outputs NaN at the given hours of an episode (an overflow)."""
    io_ = PolicyIO(SCALE, (scenario.n_regions, scenario.n_gateways), residual=residual)
    network = DualNetwork(io_.observation_size(), scenario.n_regions, (8,))
    inner = NetworkPredictor(network)
    hour = {"t": 0}

    def predict(observation):
        action = inner(observation)
        if hour["t"] in nan_hours:
            action = np.full_like(action, np.nan)
        hour["t"] += 1
        return action

    predict.reset = lambda: hour.update(t=0)
    return predict


@pytest.mark.parametrize("wrap", ["plain", "residual", "robust"])
def test_non_finite_actions_are_counted_in_the_rows_the_summary_and_a_warning(wrap):
    scenario = make_synthetic(4, hours=24)
    nan_hours = {0, 5, 6, 23}
    io_ = PolicyIO(SCALE, (scenario.n_regions, scenario.n_gateways), residual=wrap == "residual")
    policy = policy_from_predictor(dual_predictor(scenario, nan_hours, io_.residual), io_, "bc:nan")
    if wrap == "robust":
        policy = RobustPolicy(policy, lam=0.1, name="robust(bc:nan)")
    clean = policy_from_predictor(dual_predictor(scenario, set(), io_.residual), io_, "bc:clean")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results, offline = run_algorithms([(policy.name, policy), ("bc:clean", clean)], scenario, progress=False)
    messages = [str(w.message) for w in caught]
    assert any(f"{policy.name}: 4 of 24 hours" in m and "non-finite action" in m for m in messages), messages
    assert not any("bc:clean" in m for m in messages)
    rows = result_rows(results, scenario, offline)
    assert [r["nonfinite_actions"] for r in rows] == [4, 0]
    assert all(np.isfinite(r["J"]) for r in rows)  # what was played is still measured
    assert "nonfinite_actions" in format_table(rows).splitlines()[0]
    assert "nonfinite_actions" not in format_table(rows[1:]).splitlines()[0]
    summary = mean_rows([{**r, "scenario": s} for s in ("a", "b") for r in rows])
    assert [r["nonfinite_actions"] for r in summary] == [8, 0]


def test_an_evaluation_with_non_finite_actions_is_never_the_best():
    scenario = make_synthetic(4, hours=24)
    io_ = PolicyIO(SCALE, (scenario.n_regions, scenario.n_gateways))
    evaluator = PeriodicEvaluator([scenario])
    _, improved = evaluator.record(24, policy_from_predictor(dual_predictor(scenario, set(range(24))), io_, "bc"))
    assert not improved and evaluator.history[-1]["nonfinite_actions"] == 24 and evaluator.best == float("inf")
    _, improved = evaluator.record(48, policy_from_predictor(dual_predictor(scenario, set()), io_, "bc"))
    assert improved and evaluator.best == evaluator.history[-1]["ratio_to_offline"]
