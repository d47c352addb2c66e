"""evaluate.py end to end: outputs, and one clear line for every user mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from eglb.envs.metrics import metrics_from_energy
from eglb.envs.synthetic import make_synthetic

from eglb.cli import evaluate
from eglb.evaluation import FORECAST_CONTROLLERS
from eglb.registry import CLASSICAL, build

ROOT = Path(__file__).resolve().parents[1]


def test_writes_tables_and_plots(tmp_path, capsys):
    out = tmp_path / "res"
    assert evaluate.main(["--synthetic", "3", "--synthetic-hours", "72", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "J / J(eGLB-Off)" in printed and "glb-water" in printed
    rows = json.loads((out / "results.json").read_text())
    assert [r["algo"] for r in rows] == [*CLASSICAL, *FORECAST_CONTROLLERS]  # the default set
    assert "information" in printed and build(FORECAST_CONTROLLERS[0]).information in printed
    for row in rows:
        assert {"algo", "cost", "par_water", "par_carbon", "J", "ratio_to_offline"} <= set(row)
        assert set(row["region_water"]) == set(make_synthetic(3, hours=1).regions)
    offline = next(r for r in rows if r["algo"] == "eglb-off")
    assert offline["ratio_to_offline"] == 1.0
    assert all(r["ratio_to_offline"] >= 1 - 1e-9 for r in rows)
    # The JSON's J is the metrics of the replayed routing: recompute GLB-Dist's independently.
    scenario = make_synthetic(3, hours=72)
    assert rows[3]["J"] == pytest.approx(metrics_from_energy(scenario, scenario.workload).J, rel=1e-12)
    table = pd.read_csv(out / "results.csv")
    assert "water_Texas" in table.columns and len(table) == 8 and "information" in table.columns
    for png in ("regions.png", "cumulative.png", "ratios.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / png).with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"  # beside each PNG, for papers
    assert not list(out.glob(".*tmp"))  # no leftovers of atomic writes


def test_options_change_the_run(tmp_path, capsys):
    args = ["--synthetic", "1", "--synthetic-hours", "100", "--hours", "10:58", "--algos", "eglb,eglb-off", "--no-progress"]
    assert evaluate.main(args + ["--mu-water", "0", "--mu-carbon", "0", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    # With no equity weights eGLB-Off is GLB-Cost and J is the energy cost.
    assert rows[1]["J"] == pytest.approx(rows[1]["cost_total"])
    assert evaluate.main(args + ["--eta", "0", "--out", str(tmp_path / "b")]) == 0
    eta0 = json.loads((tmp_path / "b" / "results.json").read_text())[0]
    assert evaluate.main(args + ["--algos", "glb-cost", "--out", str(tmp_path / "c")]) == 0
    cost = json.loads((tmp_path / "c" / "results.json").read_text())[0]
    assert eta0["J"] == pytest.approx(cost["J"], rel=1e-12)


def test_published_layout_and_setting(published_path, capsys):
    assert evaluate.main(["--traces", str(published_path), "--setting", "partial", "--algos", "glb-cost", "--no-progress"]) == 0
    assert "29,659" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hours", "5:2"], "--hours must look like START:END with 0 <= START < END"),
        (["--hours", "a:b"], "--hours must look like START:END with whole numbers"),
        (["--hours", "0:999"], "hour window 0:999 is not inside"),
        (["--algos", "glb-magic"], "unknown algorithm 'glb-magic'"),
        (["--algos", "eglb,eglb"], "lists an algorithm twice"),
        (["--traces", "/nonexistent/folder"], "traces folder /nonexistent/folder does not exist"),
        (["--setting", "half"], "argument --setting: invalid choice"),
        (["--mu-water", "-3"], "'mu_water' must be a finite number in 0..1e+12"),
        (["--mu-water", "1e308"], "'mu_water' must be a finite number in 0..1e+12"),
        (["--synthetic", "1", "--traces", "x"], "not allowed with argument"),
        (["--eta", "-1"], "eta must be a finite number >= 0"),
    ],
)
def test_user_mistakes_give_one_line_and_status_2(args, message):
    done = subprocess.run(
        [sys.executable, "evaluate.py", "--no-progress", "--synthetic-hours", "48", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_several_synthetic_seeds_give_per_seed_rows_and_their_mean(tmp_path, capsys):
    out = tmp_path / "multi"
    assert (
        evaluate.main(
            ["--synthetic", "1-2,5", "--synthetic-hours", "30", "--algos", "eglb,glb-cost", "--out", str(out), "--no-progress"]
        )
        == 0
    )
    rows = json.loads((out / "results.json").read_text())
    assert sorted({r["scenario"] for r in rows}) == ["synthetic seed 1 full", "synthetic seed 2 full", "synthetic seed 5 full"]
    summary = json.loads((out / "summary.json").read_text())
    eglb = [r["ratio_to_offline"] for r in rows if r["algo"] == "eglb"]
    assert summary[0]["algo"] == "eglb" and summary[0]["ratio_to_offline"] == pytest.approx(sum(eglb) / 3)
    assert summary[0]["ratio_worst"] == max(eglb) and summary[0]["scenarios"] == 3
    assert "mean over 3 scenarios" in capsys.readouterr().out
    with pytest.raises(Exception, match="--synthetic takes a seed"):
        evaluate.main(["--synthetic", "a-b", "--no-progress"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--synthetic", "12-3"], "--synthetic range '12-3' runs backwards: write 3-12"),
        (["--synthetic-hours", "1000000000"], "--synthetic-hours must be in 1..87600"),
        (["--synthetic-hours", "1e9"], "argument --synthetic-hours: invalid int value"),
        (
            ["--shift", "outage:regions=0+1+2+3+4+5+6+7+8+9,start=0,end=1"],
            "has no load to route after the shifts (they shed all of it)",
        ),
        (["--shift", "outage:start=0.8,end=0.2"], "need 0 <= start < end <= 1, got start=0.8, end=0.2"),
        (["--out", "/proc/forbidden/results"], "cannot create --out folder /proc/forbidden/results"),
        (["--algos", "sb3:ppo:nowhere.zip"], "--allow-pickle"),
        (["--algos", "py:no_such_module:make"], "cannot import module 'no_such_module'"),
        (["--algos", "py:json:loads"], "py:json:loads: loads() must take no arguments"),
        (["--traces", __file__], "is a file, not a folder"),
        (["--regions", "Texas"], "--regions and --years select regions and years of the history folder"),
    ],
)
def test_hostile_input_gives_one_line(args, message, run_cli):
    done = run_cli("evaluate.py", "--no-progress", "--synthetic-hours", "48", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_a_read_only_out_folder_is_one_line(tmp_path, run_cli):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        done = run_cli("evaluate.py", "--no-progress", "--synthetic-hours", "24", "--algos", "glb-cost", "--out", str(out))
    finally:
        out.chmod(0o700)
    if os.geteuid() == 0:  # root writes anywhere: nothing to refuse
        assert done.returncode == 0
    else:
        assert done.returncode == 2 and "cannot" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_shed_load_is_reported_and_json_is_strict(tmp_path):
    out = tmp_path / "outage"
    args = [
        "--synthetic-hours",
        "48",
        "--algos",
        "eglb,eglb-off",
        "--shift",
        "outage:regions=0+1+2+3+4+5,start=0.2,end=0.5",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert evaluate.main(args) == 0
    text = (out / "results.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    rows = json.loads(text)
    scenario = make_synthetic(0, hours=48)
    for row in rows:
        assert row["unserved_mwh"] > 0
        assert row["served_mwh"] + row["unserved_mwh"] == pytest.approx(scenario.total_workload.sum(), rel=1e-9)
    assert "unserved_mwh" in pd.read_csv(out / "results.csv").columns


def test_json_writes_non_finite_numbers_as_null(tmp_path):
    from eglb.envs.files import atomic_write_json

    path = atomic_write_json(tmp_path / "x.json", {"a": float("nan"), "b": [np.float64("inf"), 1.5], "c": np.int64(3)})
    assert json.loads(path.read_text()) == {"a": None, "b": [None, 1.5], "c": 3}


def test_a_python_policy_is_scored_like_any_other(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_policies.py").write_text(
        "from eglb.agents.baselines import glb_cost\n"
        "def make():\n    return glb_cost()\n"
        "def cheapest_callable():\n    policy = glb_cost()\n"
        "    def act(view):\n        if view.t == 0 or policy.scenario is not view.scenario:\n            policy.reset(view.scenario)\n"
        "        return policy.act(view)\n    return act\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert (
        evaluate.main(
            [
                "--synthetic-hours",
                "30",
                "--algos",
                "py:my_policies:make,py:my_policies:cheapest_callable,glb-cost",
                "--no-progress",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    assert rows[0]["J"] == rows[1]["J"] == rows[2]["J"]


def test_the_api_takes_algos_as_one_comma_separated_string():
    import eglb

    scenario = eglb.ScenarioConfig(synthetic_hours=24)
    from_string = eglb.evaluate(eglb.EvaluationConfig(algos="eglb,robust(glb-cost,lambda=0.1)", scenario=scenario))
    from_tuple = eglb.evaluate(eglb.EvaluationConfig(algos=("eglb", "robust(glb-cost,lambda=0.1)"), scenario=scenario))
    assert [row["algo"] for row in from_string.rows] == ["eglb", "robust(glb-cost,lambda=0.1)"]
    assert [row["J"] for row in from_string.rows] == [row["J"] for row in from_tuple.rows]
