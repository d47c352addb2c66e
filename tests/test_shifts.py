"""Distribution shifts: each does what it says, severity 0 changes nothing, errors are clear;
the sweep and its report; the layer under shift."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.agents.baselines import glb_cost
from eglb.agents.eglb_online import EGLBOnline
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.flow import servable_scale
from eglb.envs.shifts import SHIFTS, ShiftSpec, apply_shift, parse_shift
from eglb.envs.synthetic import SELECTION_SEEDS, TEST_SEEDS, make_synthetic
from eglb.robust.layer import RobustPolicy
from eglb.training.config import DataConfig

from eglb.cli import evaluate

BASE = make_synthetic(4, hours=96)
REGION = {name: i for i, name in enumerate(BASE.regions)}


def shift(text: str, scenario=BASE):
    return apply_shift(scenario, parse_shift(text)).scenario


@pytest.mark.parametrize("name", list(SHIFTS))
def test_severity_zero_changes_nothing(name):
    shifted = apply_shift(BASE, ShiftSpec(name, {"severity": 0}))
    for field in ("price", "carbon", "water", "workload", "capacity"):
        np.testing.assert_array_equal(getattr(shifted.scenario, field), getattr(BASE, field), err_msg=field)
    assert shifted.forecast_noise in (None, 0.0)


def test_heat_wave_raises_water_in_its_regions_and_window():
    s = shift("heat-wave:regions=Texas+Japan,increase=0.5,start=0.25,end=0.75")
    ratio = s.water / BASE.water
    middle = slice(40, 56)
    np.testing.assert_allclose(ratio[[REGION["Texas"], REGION["Japan"]], middle], 1.5)
    np.testing.assert_allclose(np.delete(ratio, [REGION["Texas"], REGION["Japan"]], axis=0), 1.0)
    np.testing.assert_allclose(ratio[:, :5], 1.0)
    np.testing.assert_array_equal(s.carbon, BASE.carbon)


def test_price_and_carbon_shifts():
    spike = shift("price-spike:regions=Texas,factor=3,severity=2")  # severity doubles the excess factor
    assert (spike.price[REGION["Texas"]] / BASE.price[REGION["Texas"]]).max() == pytest.approx(5.0)
    negative = shift("negative-prices:regions=Denmark,depth=500,hours=10-16")
    hours = negative.timestamps.astype("datetime64[h]").astype(int) % 24
    assert (negative.price[REGION["Denmark"], (hours >= 10) & (hours < 16)] < 0).all()
    np.testing.assert_array_equal(negative.price[REGION["Denmark"], hours < 10], BASE.price[REGION["Denmark"], hours < 10])
    dirtier = shift("carbon-shift:increase=1.0,start=0")
    assert (dirtier.carbon >= BASE.carbon).all() and dirtier.carbon.sum() > BASE.carbon.sum()
    drought = shift("drought")
    assert drought.water[:, -1] == pytest.approx(BASE.water[:, -1] * 1.5)


def test_load_shifts_stay_servable():
    surge = shift("surge:increase=0.5")
    assert (surge.workload >= BASE.workload - 1e-12).all()
    assert (surge.total_workload <= surge.capacity.sum(axis=0) + 1e-9).all()
    assert (servable_scale(surge.workload, surge.capacity, surge.mask) >= 1 - 1e-9).all()
    phase = shift("phase-shift:hours=5")
    np.testing.assert_array_equal(phase.workload[:, 5:], BASE.workload[:, :-5])
    outage = shift("outage:regions=Virginia+Texas,start=0.5,end=0.75")
    down = outage.capacity[REGION["Virginia"]] == 0
    assert down.sum() == 24 and (outage.capacity[REGION["Texas"]] == 0).sum() == 24
    assert (outage.total_workload[down] <= 8 + 1e-9).all()  # eight regions left
    partial = make_synthetic(4, hours=96, setting="partial")
    cut = shift("outage:regions=Japan+Singapore+Nevada,start=0,end=1", partial)  # gateways 8, 9 lose every region
    assert cut.workload[8:].max() == 0.0


def test_region_swap_and_noisy_forecast():
    s = shift("region-swap:a=Texas,b=Japan")
    np.testing.assert_array_equal(s.water[REGION["Texas"]], BASE.water[REGION["Japan"]])
    np.testing.assert_array_equal(s.price[REGION["Japan"]], BASE.price[REGION["Texas"]])
    noisy = apply_shift(BASE, parse_shift("noisy-forecast:noise=0.3,severity=2"))
    assert noisy.forecast_noise == pytest.approx(0.6)
    np.testing.assert_array_equal(noisy.scenario.price, BASE.price)


@pytest.mark.parametrize(
    "text, message",
    [
        ("tsunami", "unknown shift 'tsunami'"),
        ("heat-wave:colour=red", "heat-wave has no parameter 'colour'"),
        ("heat-wave:increase", "expected KEY=VALUE"),
        ("heat-wave:increase=lots", "increase must be a finite number"),
        ("heat-wave:regions=Atlantis", "unknown region 'Atlantis'"),
        ("heat-wave:start=0.9,end=0.1", "need 0 <= start < end <= 1"),
        ("drought:severity=-1", "severity must be >= 0"),
        ("negative-prices:hours=noon", "hours must look like 10-16"),
    ],
)
def test_bad_shifts_are_clear(text, message):
    with pytest.raises(InputError, match=message):
        apply_shift(BASE, parse_shift(text))


def test_the_layer_under_shift_stays_within_its_bound_and_near_the_expert():
    # GLB-Cost plays the ML policy that is worse than eGLB on this shifted trace.
    scenario = shift("carbon-shift:severity=2")
    expert = rollout(EGLBOnline(), scenario).metrics.J
    assert rollout(glb_cost(), scenario).metrics.J > 1.1 * expert
    layer = RobustPolicy(glb_cost(), lam=0.05)
    robust = rollout(layer, scenario).metrics.J
    assert robust <= layer.summary()["bound"] * (1 + 1e-12)
    assert robust <= 1.05 * expert + 1e-6


def test_evaluate_shift_option(capsys):
    assert (
        evaluate.main(
            ["--synthetic-hours", "48", "--algos", "eglb", "--shift", "drought:severity=2", "--shift", "surge", "--no-progress"]
        )
        == 0
    )
    assert "drought:severity=2 + surge" in capsys.readouterr().out
    with pytest.raises(InputError, match="unknown shift 'flood'"):
        evaluate.main(["--synthetic-hours", "48", "--algos", "eglb", "--shift", "flood", "--no-progress"])


def test_sweep_writes_tables_plots_and_a_report(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = [
        "--sweep",
        "--synthetic-hours",
        "48",
        "--shifts",
        "heat-wave,outage",
        "--severities",
        "1,2",
        "--algos",
        "eglb,glb-cost,robust(glb-cost,lambda=0.05)",
        "--lambdas",
        "0,0.1",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert evaluate.main(args) == 0
    rows = json.loads((out / "sweep.json").read_text())
    assert {(r["shift"], r["severity"]) for r in rows} == {(s, v) for s in ("heat-wave", "outage") for v in (0.0, 1.0, 2.0)}
    # The default scenarios are the held-out test seeds, which training never selects checkpoints on.
    assert sorted({r["scenario"] for r in rows}) == [f"synthetic seed {s} full" for s in TEST_SEEDS]
    assert not set(TEST_SEEDS) & set(SELECTION_SEEDS) and DataConfig().eval_seeds == SELECTION_SEEDS
    assert len(rows) == 2 * 3 * 3 * len(TEST_SEEDS)
    summary = json.loads((out / "sweep_summary.json").read_text())
    point = next(r for r in summary if (r["shift"], r["severity"], r["algo"]) == ("outage", 2.0, "glb-cost"))
    mine = [r["ratio_to_offline"] for r in rows if (r["shift"], r["severity"], r["algo"]) == ("outage", 2.0, "glb-cost")]
    assert point["ratio_to_offline"] == pytest.approx(np.mean(mine), rel=1e-12) and point["scenarios"] == 3
    assert point["ratio_ci_low"] <= point["ratio_to_offline"] <= point["ratio_ci_high"]
    tradeoff = json.loads((out / "tradeoff.json").read_text())
    assert [r["algo"] for r in tradeoff] == ["glb-cost", "eglb", "robust(glb-cost,lambda=0)", "robust(glb-cost,lambda=0.1)"]
    zero = next(r for r in tradeoff if r["lambda"] == 0)
    expert = next(r for r in tradeoff if r["algo"] == "eglb")
    assert zero["in_distribution"] == pytest.approx(expert["in_distribution"], rel=1e-9)  # lambda = 0 plays the expert
    for name in ("sweep.png", "tradeoff.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text()
    assert "![consistency-robustness trade-off](tradeoff.png)" in report and "| heat-wave |" in report
    assert "stay within their bound" in report and "(all of them)" in report
    # Every robust run counted once: robust(glb-cost, 0.05) on 1 + 2 x 2 grid cases, the 2 lambdas on the
    # unshifted and the 2 shifted trade-off cases, per scenario; the severity-0 rows shared by the shifts are one run.
    assert f"{(5 + 2 * 3) * 3} of {(5 + 2 * 3) * 3} robust runs" in report
    assert "python evaluate.py --sweep" in report


def test_the_api_sweep_report_names_the_command_that_reproduces_it(tmp_path):
    import eglb

    evaluation = eglb.EvaluationConfig(
        algos=("eglb", "glb-cost"), scenario=eglb.ScenarioConfig(synthetic=(4,), synthetic_hours=24), out=str(tmp_path / "api")
    )
    config = eglb.SweepConfig(evaluation, shifts=("heat-wave",), severities=(1.0,), lambdas=(0.5,))
    result = eglb.sweep(config)
    assert repr(result).startswith("SweepResult(4 rows: 2 algorithms x 1 scenario;")
    command = (tmp_path / "api" / "report.md").read_text().split("Command:\n\n    ", 1)[1].splitlines()[0]
    assert command == (
        "python evaluate.py --sweep --algos eglb,glb-cost --synthetic 4 --synthetic-hours 24 --shifts heat-wave "
        f"--severities 1 --lambdas 0.5 --out {tmp_path / 'api'}"
    )
    # The command, run, gives the same rows.
    args = command.split()[2:-1] + [str(tmp_path / "cli"), "--no-progress"]
    assert evaluate.main(args) == 0
    again = json.loads((tmp_path / "cli" / "sweep.json").read_text())
    assert [r["J"] for r in again] == [r["J"] for r in result.rows]
