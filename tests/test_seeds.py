"""Several training seeds as one run group: train.py --seeds, evaluation of every seed, intervals across them."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from eglb.envs.errors import InputError
from eglb.report.statistics import aggregate, rows_matrix
from eglb.training.config import DataConfig
from eglb.training.run_group import is_finished, read_group

from eglb.cli import evaluate, train
from eglb.registry import seed_members

TINY_BC = ["--set", "model.episodes_per_iteration=2", "--set", "model.epochs=2", "--set", "model.workers=1"]


def group_args(out: Path, name: str, seeds: str = "0-1", *extra: str) -> list[str]:
    return [
        "--algo",
        "bc",
        "--synthetic",
        "--seeds",
        seeds,
        "--timesteps",
        "48",
        "--set",
        "env.episode_hours=24",
        "--eval-seeds",
        "0,1",
        "--out",
        str(out),
        "--name",
        name,
        "--no-progress",
        *TINY_BC,
        *extra,
    ]


@pytest.fixture(scope="module")
def group(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("groups")
    assert train.main(group_args(out, "bc2")) == 0
    return out / "bc2"


def test_a_group_holds_one_run_folder_per_seed_and_the_report_across_them(group):
    card = read_group(group)
    assert card.seeds == (0, 1) and card.config.algo == "bc" and card.config.seed == 0
    for seed in (0, 1):
        folder = group / f"seed-{seed}"
        config = json.loads((folder / "results.json").read_text())
        assert any(r["seed"] == seed for r in config)  # the trained policy's rows carry its seed
        assert (folder / "config.yaml").read_text().count(f"seed: {seed}\n") == 1
        assert is_finished(folder, 48)
    for name in ("results.json", "results.csv", "summary.json", "curves.csv", "learning_curve.png", "learning_curve.pdf"):
        assert (group / name).is_file(), name
    assert (group / "learning_curve.pdf").read_bytes()[:4] == b"%PDF"
    curves = pd.read_csv(group / "curves.csv")
    assert sorted(curves["seed"].unique()) == [0, 1]


def test_the_group_summary_is_the_bootstrap_over_seeds_and_held_out_traces(group):
    rows = json.loads((group / "results.json").read_text())
    summary = {r["algo"]: r for r in json.loads((group / "summary.json").read_text())}
    name = f"bc:{group}"
    learned = [r for r in rows if r["algo"] == name]
    # One row per (seed, held-out trace), recomputed from each seed's own results.json.
    assert sorted((r["seed"], r["scenario"]) for r in learned) == sorted(
        (s, f"synthetic seed {k} full") for s in (0, 1) for k in (0, 1)
    )
    for seed in (0, 1):
        own = json.loads((group / f"seed-{seed}" / "results.json").read_text())
        mine = {r["scenario"]: r["J"] for r in own if r["algo"].startswith("bc:")}
        assert {r["scenario"]: r["J"] for r in learned if r["seed"] == seed} == mine
    # The classical algorithms once per trace (the held-out traces do not depend on the training seed).
    assert sorted(r["scenario"] for r in rows if r["algo"] == "eglb") == ["synthetic seed 0 full", "synthetic seed 1 full"]
    matrix = np.array([[r["ratio_to_offline"] for r in learned if r["seed"] == s] for s in (0, 1)])
    expected = aggregate(matrix)
    assert summary[name]["ratio_to_offline"] == pytest.approx(matrix.mean(), rel=1e-12)
    assert (summary[name]["ratio_ci_low"], summary[name]["ratio_ci_high"]) == pytest.approx(expected.mean_ci, rel=1e-12)
    assert summary[name]["ratio_iqm"] == pytest.approx(expected.iqm, rel=1e-12)
    assert summary[name]["seeds"] == 2 and summary["eglb"]["seeds"] == 1 and summary["eglb-off"]["ratio_to_offline"] == 1.0


def test_evaluating_a_group_runs_every_seed_and_aggregates(group, tmp_path, capsys):
    out = tmp_path / "eval"
    spec = f"bc:{group}"
    args = ["--algos", f"{spec},robust({spec},lambda=0.1),eglb", "--synthetic", "100-101", "--synthetic-hours", "24"]
    assert evaluate.main(args + ["--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "2 seeds of bc:" in printed and "95 % CI" in printed
    rows = json.loads((out / "results.json").read_text())
    assert {(r["algo"], r["seed"]) for r in rows} == {
        (spec, 0),
        (spec, 1),
        (f"robust({spec},lambda=0.1)", 0),
        (f"robust({spec},lambda=0.1)", 1),
        ("eglb", None),
    }
    # Each seed's rows are exactly what its run folder gives alone.
    alone = tmp_path / "alone"
    assert evaluate.main(["--algos", f"bc:{group / 'seed-1'}"] + args[2:] + ["--out", str(alone), "--no-progress"]) == 0
    single = {r["scenario"]: r["J"] for r in json.loads((alone / "results.json").read_text())}
    assert {r["scenario"]: r["J"] for r in rows if r["algo"] == spec and r["seed"] == 1} == single
    summary = {r["algo"]: r for r in json.loads((out / "summary.json").read_text())}
    matrix, seeds, scenarios = rows_matrix([r for r in rows if r["algo"] == spec], "ratio_to_offline", "scenario")
    assert seeds == [0, 1] and len(scenarios) == 2
    assert summary[spec]["ratio_to_offline"] == pytest.approx(matrix.mean(), rel=1e-12) and summary[spec]["seeds"] == 2
    csv = pd.read_csv(out / "results.csv")
    assert {"seed", "scenario"} <= set(csv.columns)
    for name in ("regions", "ratios"):
        assert (out / f"{name}.pdf").read_bytes()[:4] == b"%PDF"


def test_a_single_scenario_with_a_group_is_aggregated_too(group, tmp_path):
    import eglb

    config = eglb.EvaluationConfig(
        algos=(f"bc:{group}", "eglb"), scenario=eglb.ScenarioConfig(synthetic=(100,), synthetic_hours=24)
    )
    result = eglb.evaluate(config)
    assert len(result.rows) == 3 and [r["seeds"] for r in result.summary] == [2, 1]
    assert repr(result) == f"EvaluationResult(3 rows: 2 algorithms x 1 scenario (2 seeds of bc:{group}); files: 0)"
    assert len(str(result).splitlines()) == 3 + 2  # a heading, the table's header and rule, one line per algorithm
    assert all(r["scenario"] == "synthetic seed 100 full" for r in result.rows)


def test_seed_members_expand_groups_inside_robust_and_leave_the_rest(group):
    spec = f"bc:{group}"
    assert seed_members(spec) == [(0, f"bc:{group / 'seed-0'}"), (1, f"bc:{group / 'seed-1'}")]
    assert seed_members(f"robust({spec}, lambda=0.2, b=0)") == [
        (0, f"robust(bc:{group / 'seed-0'},lambda=0.2,b=0)"),
        (1, f"robust(bc:{group / 'seed-1'},lambda=0.2,b=0)"),
    ]
    assert seed_members(f"bc:{group / 'seed-1'}") == [(1, f"bc:{group / 'seed-1'}")]
    assert seed_members("eglb") == [(None, "eglb")] and seed_members("rhc:w=6") == [(None, "rhc:w=6")]


def test_resuming_a_group_trains_only_its_unfinished_seeds(group, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(group, copy, ignore=shutil.ignore_patterns(".lock"))
    # Seed 1 as if killed before its held-out comparison; seed 0 finished.
    (copy / "seed-1" / "results.json").unlink()
    before = (copy / "seed-0" / "eval.csv").read_text()
    assert train.main(["--resume", str(copy), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "trained seeds 1 in" in printed
    assert (copy / "seed-0" / "eval.csv").read_text() == before and not (copy / "seed-0" / "progress-2.csv").exists()
    assert (copy / "seed-1" / "results.json").is_file() and (copy / "seed-1" / "progress-2.csv").is_file()
    assert train.main(["--resume", str(copy), "--no-progress"]) == 0
    assert "every seed was already trained" in capsys.readouterr().out


def test_a_missing_seed_is_started_and_a_new_total_extends_every_seed(group, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(group, copy, ignore=shutil.ignore_patterns(".lock", "seed-1"))
    assert train.main(["--resume", str(copy), "--timesteps", "96", "--no-progress"]) == 0
    assert read_group(copy).config.timesteps == 96
    for seed in (0, 1):
        history = pd.read_csv(copy / f"seed-{seed}" / "eval.csv")
        assert history["steps"].iloc[-1] == 96
    assert "trained seeds 0-1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seed", "3"], "--seeds trains a run group: it goes without --seed"),
        (["--seeds", "1,1"], "lists 1 twice"),
        (["--seeds", "2-1"], "--seeds range '2-1' runs backwards"),
        (["--seeds", "x"], "--seeds takes a seed"),
    ],
)
def test_group_mistakes_give_one_line(tmp_path, run_cli, extra, message):
    args = group_args(tmp_path, "g")
    if extra[0] == "--seeds":
        args[args.index("--seeds") + 1] = extra[1]
        extra = []
    done = run_cli("train.py", *args, *extra)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_group_is_never_overwritten(group, run_cli):
    done = run_cli("train.py", *group_args(group.parent, group.name))
    assert done.returncode == 2 and f"run group {group} exists: continue it with --resume" in done.stderr
    single = group.parent / "single"
    single.mkdir()
    (single / "notes.txt").write_text("mine")
    done = run_cli("train.py", *group_args(group.parent, "single"))
    assert done.returncode == 2 and "is not an empty folder" in done.stderr
    assert (single / "notes.txt").read_text() == "mine"


def test_an_unfinished_seed_is_named_when_a_group_is_evaluated(group, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(group, copy, ignore=shutil.ignore_patterns(".lock"))
    (copy / "seed-1" / "policy.json").unlink()
    with pytest.raises(InputError, match=f"seed 1 of run group {copy} has no trained policy yet"):
        seed_members(f"bc:{copy}")


def test_rows_matrix_refuses_a_missing_or_repeated_row():
    rows = [{"seed": s, "scenario": t, "r": float(s + t)} for s in (0, 1) for t in (0, 1)]
    matrix, seeds, tasks = rows_matrix(rows, "r", "scenario")
    assert matrix.tolist() == [[0.0, 1.0], [1.0, 2.0]] and seeds == [0, 1] and tasks == [0, 1]
    with pytest.raises(InputError, match="missing or repeated"):
        rows_matrix(rows[:3], "r", "scenario")
    with pytest.raises(InputError, match="missing or repeated"):
        rows_matrix(rows + rows[:1], "r", "scenario")


def test_history_held_out_windows_do_not_depend_on_the_training_seed(small_history):
    import eglb
    from eglb.trainer import scenarios_for

    data = DataConfig(traces=str(small_history), regions="US-TEX-ERCO,DE-LU", years="2021", eval_years="2022", eval_windows=2)
    base = eglb.training_config("bc", data=data, sets=["env.episode_hours=48"])
    _, first, _ = scenarios_for(base)
    training, second, _ = scenarios_for(replace(base, seed=5))
    assert [s.name for s in first] == [s.name for s in second]
    for a, b in zip(first, second):
        assert np.array_equal(a.workload, b.workload)
    assert not np.array_equal(scenarios_for(base)[0].workload, training.workload)  # training loads follow the seed
