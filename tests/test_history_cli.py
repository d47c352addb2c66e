"""evaluate.py and train.py on the history folder: --regions, --years, --eval-years, and one clear line for every mistake.

Most tests use a small history folder the tests write (two zones, 2021-2022, in the real formats);
the last ones read the real folder (../shared/data/history or $EGLB_HISTORY_DATA) through the
parsed-file cache and skip when it is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from eglb.envs.csv_format import save_scenario
from eglb.envs.metrics import metrics_from_energy
from eglb.envs.routing import fill_cheapest
from eglb.envs.synthetic import make_synthetic
from eglb.importers.history import load_history
from eglb.importers.workload import FittedLoads
from eglb.training.config import DataConfig
from history_files import TINY_BC, history_args

from eglb.benchmark import trained_on
from eglb.cli import evaluate, run_cli, train
from eglb.trainer import history_scenarios, training_config

ROOT = Path(__file__).resolve().parents[1]
TWO = "US-TEX-ERCO,DE-LU"
SAME_TEXT = "--regions and --years select regions and years of the history folder: give it with --traces"
NOT_SYNTHETIC = "--regions, --years and --eval-years select the history folder's data: give it with --traces"
pytestmark = pytest.mark.usefixtures("private_cache")


def error_line(main, argv, capsys) -> str:
    """Run a CLI main as the console entry does; the one line it printed on stderr (status 2)."""
    assert run_cli(main, argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_evaluate_on_history_regions_years_and_hours(small_history, tmp_path, capsys):
    out = tmp_path / "res"
    algos = ["--algos", "glb-cost,eglb-off,eglb", "--seed", "3", "--out", str(out), "--no-progress"]
    assert evaluate.main(history_args(small_history, "2022", "24:72") + algos) == 0
    printed = capsys.readouterr().out
    # The importer's report, one line per zone and signal, goes to a file; one line says where.
    report = (out / "fill_report.txt").read_text()
    assert "US-TEX-ERCO carbon: 2022: 8760 rows" in report and "DE-LU price" in report and "DE-LU price" not in printed
    assert f"fill report (6 lines: what was missing and how it was filled) is in {out / 'fill_report.txt'}" in printed
    assert "hours 2022-01-02T00:00:00 .. 2022-01-03T23:00:00" in printed
    rows = json.loads((out / "results.json").read_text())
    assert [r["algo"] for r in rows] == ["glb-cost", "eglb-off", "eglb"]
    assert set(rows[0]["region_water"]) == {"US-TEX-ERCO", "DE-LU"}
    # Recompute GLB-Cost independently on the same scenario (same regions, hours and workload seed).
    scenario = load_history(small_history, regions=TWO, years=2022, hours=(24, 72), workload=FittedLoads("bloom"), seed=3)
    energy = fill_cheapest(scenario.price, scenario.total_workload, scenario.capacity)
    assert rows[0]["J"] == pytest.approx(metrics_from_energy(scenario, energy).J, rel=1e-9)
    assert rows[1]["ratio_to_offline"] == 1.0 and rows[0]["ratio_to_offline"] >= 1.0
    # A region table of one's own, and the carbon basis.
    table = str(small_history / "my_regions.csv")
    more = ["--carbon", "lca", "--algos", "glb-cost", "--out", str(tmp_path / "b"), "--no-progress"]
    assert evaluate.main(history_args(small_history, "2021", "0:24", regions=table) + more) == 0
    rows = json.loads((tmp_path / "b" / "results.json").read_text())
    assert set(rows[0]["region_carbon"]) == {"Dallas", "Frankfurt", "Brussels"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--regions", "complete14"], SAME_TEXT),
        (["--years", "2023"], SAME_TEXT),
        (["--traces", "{csv}", "--years", "2022"], "is not the history folder"),
        (["--traces", "{history}", "--years", "2019"], "missing file"),
        (["--traces", "{history}", "--years", "twenty"], "years must look like 2022, 2021-2022 or 2021,2022"),
        (["--traces", "{history}", "--years", "2021,2023"], "years must be one year or consecutive years"),
        (["--traces", "{history}", "--regions", "Atlantis"], "unknown region 'Atlantis'"),
        (["--traces", "{history}", "--regions", "US-TEX-ERCO,US-TEX-ERCO"], "region 'US-TEX-ERCO' is chosen twice"),
        (["--traces", "{history}", "--regions", "US-TEX-ERCO", "--setting", "partial"], "--setting partial is the published"),
        (["--traces", "{history}", "--years", "2022", "--hours", "0:9000"], "hours 0:9000 are not inside the 8760 hours"),
    ],
)
def test_evaluate_mistakes_give_one_line(small_history, tmp_path, capsys, args, message):
    csv_folder = tmp_path / "csv"
    save_scenario(make_synthetic(0, hours=4), csv_folder)
    argv = [a.format(history=small_history, csv=csv_folder) for a in args] + ["--algos", "glb-cost", "--no-progress"]
    line = error_line(evaluate.main, argv, capsys)
    assert "error: " in line and message in line, line


def test_train_on_history_years_holds_out_windows_of_the_selection_year(small_history, tmp_path):
    held_out = ["--eval-years", "2022", "--eval-windows", "2", "--out", str(tmp_path), "--name", "bc"]
    assert train.main(["--algo", "bc"] + history_args(small_history, "2021") + held_out + TINY_BC) == 0
    folder = tmp_path / "bc"
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert config["data"]["years"] == "2021" and config["data"]["eval_years"] == "2022"
    assert config["data"]["regions"] == TWO and config["scenario_shape"] == [2, 2]
    rows = json.loads((folder / "results.json").read_text())
    windows = sorted({r["scenario"] for r in rows})
    # Two evenly spaced 24-hour windows of 2022, the first and the last day, each named by its first hour.
    first, last = (f"history 2022-2022 2 regions, 24 h from 2022-{day}T00" for day in ("01-01", "12-31"))
    assert windows == [first, last]
    assert {r["algo"] for r in rows} == {f"bc:{folder}", "eglb", "eglb-off", "glb-cost"}
    # The trained policy reloads and acts on a history scenario of the same regions.
    out = tmp_path / "eval"
    algos = ["--algos", f"bc:{folder},eglb-off", "--out", str(out), "--no-progress"]
    assert evaluate.main(history_args(small_history, "2022", "0:24") + algos) == 0
    evaluated = json.loads((out / "results.json").read_text())
    assert evaluated[0]["ratio_to_offline"] >= 1.0 - 1e-9
    # The benchmark says what the policy was trained on, also inside the robust layer.
    assert trained_on(f"bc:{folder}") == "history 2021 (US-TEX-ERCO,DE-LU), selected on 2022"
    assert trained_on(f"robust(bc:{folder},lambda=0.1)") == trained_on(f"bc:{folder}") and trained_on("eglb") == ""


def test_history_scenarios_split_training_and_selection_years(small_history):
    data = DataConfig(traces=str(small_history), regions=TWO, years="2021", eval_years="2022", eval_windows=3)
    config = training_config("bc", data=data, sets=["env.episode_hours=48"])
    training, held_out, reference = history_scenarios(config)
    assert reference is training
    assert str(training.timestamps[0]) == "2021-01-01T00:00:00" and str(training.timestamps[-1]) == "2021-12-31T23:00:00"
    starts = [int((w.timestamps[0] - np.datetime64("2022-01-01T00")) // np.timedelta64(1, "h")) for w in held_out]
    assert starts == [0, (8760 - 48) // 2, 8760 - 48]
    assert all(w.n_hours == 48 for w in held_out)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--synthetic", "--years", "2021"], NOT_SYNTHETIC),
        (["--synthetic", "--regions", "complete14"], NOT_SYNTHETIC),
        (["--traces", "{history}", "--years", "2021-2022", "--eval-years", "2022"], "and evaluation years 2022 overlap"),
        (["--traces", "{history}", "--years", "2021", "--eval-years", "2024"], "--eval-years includes 2024, the test year"),
        (["--traces", "{history}", "--years", "2023-2024", "--eval-years", "2022"], "--years includes 2024, the test year"),
        (["--traces", "{history}", "--years", "2021", "--eval-years", "2022", "--hours", "0:100"],
         "with the history folder choose --years (training) and --eval-years"),
        (["--traces", "{history}", "--years", "2021", "--eval-years", "2022", "--set", "env.episode_hours=9000"],
         "env.episode_hours=9000 is longer than the history years chosen"),
    ],
)  # fmt: skip
def test_train_mistakes_give_one_line(small_history, capsys, tmp_path, args, message):
    argv = ["--algo", "bc", *[a.format(history=small_history) for a in args], "--out", str(tmp_path), "--no-progress"]
    if "--traces" in args:
        argv += ["--regions", "US-TEX-ERCO"]
    line = error_line(train.main, argv, capsys)
    assert message in line, line
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_history_mistake_is_one_line_without_traceback_from_the_console(small_history):
    done = subprocess.run([sys.executable, "evaluate.py", "--traces", str(small_history), "--years", "2019", "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "missing file" in done.stderr and "2019" in done.stderr


# ----------------------------------------------------------------------------------- the real folder
def test_evaluate_on_the_real_history_folder(history_path, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EGLB_CACHE")  # the shared parsed-file cache keeps this to seconds
    out = tmp_path / "real"
    options = ["--algos", "eglb-off,eglb", "--out", str(out), "--no-progress"]
    assert evaluate.main(history_args(history_path, "2023", "0:48", regions="US-TEX-ERCO,DE-LU,JP-TK") + options) == 0
    printed = capsys.readouterr().out
    assert "hours 2023-01-01T00:00:00 .. 2023-01-02T23:00:00" in printed
    rows = json.loads((out / "results.json").read_text())
    assert set(rows[0]["region_water"]) == {"US-TEX-ERCO", "DE-LU", "JP-TK"}
    assert rows[0]["ratio_to_offline"] == 1.0 and rows[1]["ratio_to_offline"] > 1.0
