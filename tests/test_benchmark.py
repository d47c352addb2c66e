"""The cross-year benchmark (eglb/benchmark.py, evaluate.py --benchmark history) on a small history folder the tests write."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.envs.metrics import metrics_from_energy
from eglb.envs.routing import fill_cheapest
from eglb.importers.history import load_history
from eglb.importers.workload import FittedLoads
from history_files import history_args

from eglb.benchmark import BenchmarkConfig, benchmark, benchmark_algos, season, summarize
from eglb.cli import evaluate, run_cli
from eglb.evaluation import FORECAST_CONTROLLERS, EvaluationConfig
from eglb.registry import CLASSICAL, build
from eglb.scenarios import ScenarioConfig

ROBUST = "robust(glb-cost,lambda=0.05)"


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def run(small_history, tmp_path_factory):
    """Three day-long windows of 2022 (January, April, July), every classical algorithm, RHC and AFHC with the
    published prices, and a robust policy."""
    out = tmp_path_factory.mktemp("bench")
    argv = ["--benchmark", "history", *history_args(small_history, "2022"), "--window-hours", "24", "--windows", "0,100,200",
            "--algos", ROBUST, "--seed", "2", "--out", str(out), "--no-progress"]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EGLB_CACHE", str(tmp_path_factory.getbasetemp() / "parsed-cache"))
        assert evaluate.main(argv) == 0
    return out


def test_every_window_runs_every_classical_algorithm_and_the_given_policies(run, small_history):
    rows = json.loads((run / "results.json").read_text())
    assert [r["algo"] for r in rows[:9]] == [*CLASSICAL, *FORECAST_CONTROLLERS, ROBUST]
    assert len(rows) == 3 * 9
    assert [(r["window"], r["start"], r["season"]) for r in rows[::9]] == [
        (0, "2022-01-01T00", "Dec-Feb"),
        (100, "2022-04-11T00", "Mar-May"),
        (200, "2022-07-20T00", "Jun-Aug"),
    ]
    # The offline optimum is per window; GLB-Cost's J is recomputed on the window independently.
    scenario = load_history(small_history, regions="US-TEX-ERCO,DE-LU", years=2022, workload=FittedLoads("bloom"), seed=2)
    for k, window in enumerate((0, 100, 200)):
        part = scenario.window(24 * window, 24 * window + 24)
        mine = rows[9 * k : 9 * k + 9]
        assert next(r for r in mine if r["algo"] == "eglb-off")["ratio_to_offline"] == 1.0
        energy = fill_cheapest(part.price, part.total_workload, part.capacity)
        cost = next(r for r in mine if r["algo"] == "glb-cost")
        assert cost["J"] == pytest.approx(metrics_from_energy(part, energy).J, rel=1e-9)
        assert all(r["ratio_to_offline"] >= 1 - 1e-7 for r in mine)
    robust = [r for r in rows if r["algo"] == ROBUST]
    assert all(r["within_bound"] == (r["J"] <= r["bound"] * (1 + 1e-9)) for r in robust)
    assert all(r["within_bound"] for r in robust)  # the layer's guarantee


def test_summary_and_seasons_are_the_means_of_the_windows(run):
    rows = json.loads((run / "results.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    seasons = json.loads((run / "seasons.json").read_text())
    eglb = {r["window"]: r["ratio_to_offline"] for r in rows if r["algo"] == "eglb"}
    for row in summary:
        mine = [r for r in rows if r["algo"] == row["algo"]]
        assert row["ratio_to_offline"] == pytest.approx(np.mean([r["ratio_to_offline"] for r in mine]))
        assert row["ratio_worst"] == max(r["ratio_to_offline"] for r in mine) and row["windows"] == 3
        assert row["below_eglb"] == sum(r["ratio_to_offline"] < eglb[r["window"]] for r in mine)
    assert next(r for r in summary if r["algo"] == ROBUST)["within_bound"] == 3
    assert "within_bound" not in next(r for r in summary if r["algo"] == "eglb")
    july = next(s for s in seasons if s["algo"] == "glb-cost" and s["season"] == "Jun-Aug")
    assert july["windows"] == 1 and july["ratio_to_offline"] == next(
        r["ratio_to_offline"] for r in rows if r["algo"] == "glb-cost" and r["window"] == 200
    )
    assert {s["season"] for s in seasons} == {"Dec-Feb", "Mar-May", "Jun-Aug"}


def test_it_writes_tables_plots_and_a_report(run):
    for name in ("results", "summary", "seasons"):
        assert (run / f"{name}.json").is_file() and (run / f"{name}.csv").is_file()
    for png in ("windows.png", "regions.png", "ratios.png"):
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (run / "report.md").read_text()
    assert "# Cross-year benchmark on 2022" in report and "not the test year" in report
    assert "--benchmark history" in report and "Open Database License" in report
    assert f"| `{ROBUST}` | present only |" in report and "3 / 3" in report
    assert f"| `{FORECAST_CONTROLLERS[0]}` | {build(FORECAST_CONTROLLERS[0]).information} |" in report
    assert "published prices + seasonal-day forecasts" in build(FORECAST_CONTROLLERS[0]).information
    assert "| `eglb-off` | oracle: hindsight (the whole episode) |" in report


def test_seasons_follow_the_middle_hour_of_a_window():
    hours = np.arange(np.datetime64("2024-02-27T00"), np.datetime64("2024-03-05T00")).astype("datetime64[s]")
    assert season(hours) == "Mar-May"  # 27 Feb .. 4 Mar: its middle hour is on 1 March (2024 is a leap year)
    assert season(hours[:72]) == "Dec-Feb"
    assert benchmark_algos(("bc:runs/x", "eglb")) == (*CLASSICAL, *FORECAST_CONTROLLERS, "bc:runs/x")


def test_summaries_count_windows_below_the_expert():
    rows = [
        {
            "algo": a,
            "window": w,
            "season": "Dec-Feb",
            "ratio_to_offline": v,
            "cost": 1.0,
            "par_water": 1.0,
            "par_carbon": 1.0,
            "J": v,
        }
        for a, w, v in (("eglb", 0, 1.1), ("eglb", 1, 1.2), ("ml", 0, 1.05), ("ml", 1, 1.3))
    ]
    summary, seasons = summarize(rows)
    assert summary[1]["below_eglb"] == 1 and summary[1]["ratio_to_offline"] == pytest.approx(1.175)
    assert summary[0]["below_eglb"] == 0 and len(seasons) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--synthetic", "3"], "--benchmark runs on the history folder: it takes neither --synthetic nor --sweep"),
        (["--sweep"], "--benchmark runs on the history folder"),
        (["--hours", "0:10"], "--hours does not apply to the benchmark"),
        (["--shift", "drought"], "--shift does not apply to the benchmark"),
        (["--windows", "0,400"], "2022 has 365 whole windows of 24 hours (indices 0..364); --windows asks for 400"),
        (["--window-hours", "0"], "--window-hours must be in 1..8784"),
        (["--algos", "glb-magic"], "unknown algorithm 'glb-magic'"),
    ],
)
def test_benchmark_mistakes_give_one_line(small_history, capsys, args, message):
    argv = ["--benchmark", "history", "--regions", "US-TEX-ERCO", "--years", "2022", "--window-hours", "24", "--no-progress"]
    if "--synthetic" not in args:
        argv += ["--traces", str(small_history)]
    argv += args
    assert run_cli(evaluate.main, argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_window_options_need_the_benchmark(capsys):
    assert run_cli(evaluate.main, ["--windows", "0-3", "--no-progress"]) == 2
    assert "--windows and --window-hours choose the windows of --benchmark history" in capsys.readouterr().err


def test_the_benchmark_needs_the_history_folder(tmp_path):
    with pytest.raises(InputError, match="the history benchmark needs the history folder"):
        BenchmarkConfig(EvaluationConfig(scenario=ScenarioConfig(traces=str(tmp_path))))


def test_the_api_takes_a_mapper(small_history):
    seen = []

    def mapper(function, items):
        seen.append(len(items))
        return [function(item) for item in items]

    scenario = ScenarioConfig(traces=str(small_history), regions="US-TEX-ERCO,DE-LU", years="2021")
    config = BenchmarkConfig(EvaluationConfig(algos=("eglb-off", "eglb"), scenario=scenario), window_hours=48, windows=(3, 4))
    result = benchmark(config, mapper)
    assert seen == [2] and result.year == "2021" and len(result.rows) == 4 and result.files == []
    # Without algos the API runs the command line's default set.
    result = benchmark(BenchmarkConfig(EvaluationConfig(scenario=scenario), window_hours=48, windows=(3,)))
    assert [r["algo"] for r in result.summary] == list(benchmark_algos(()))
