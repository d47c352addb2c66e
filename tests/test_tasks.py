"""Versioned benchmark tasks (eglb/tasks.py), their normalized scores and reference file (eglb/scores.py),
the leaderboard (eglb/leaderboard.py) and the Minari datasets (eglb/datasets.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from eglb.envs.errors import InputError
from gymnasium.utils.env_checker import check_env

import eglb
from eglb.registry import AlgorithmOptions
from eglb.scores import (
    episode_rows,
    figures_algos,
    learned_references,
    load_reference,
    normalized_score,
    regenerate,
    score,
)
from eglb.tasks import TASKS, task

ROOT = Path(__file__).resolve().parents[1]
#: Deterministic and cheap: recomputed on every task's first test episode to catch a silent drift.
DRIFT_ALGOS = ("glb-cost", "eglb", "eglb-off")


def test_the_table_has_versioned_tasks_with_disjoint_splits():
    assert len(TASKS) >= 8
    for task_id, chosen in TASKS.items():
        assert task_id == f"{chosen.name}-v{chosen.version}" and chosen.version >= 1
        card = chosen.card()
        assert card["sources"] and card["information"] and card["splits"]["test"]["description"]
        train, select, test = chosen.train, chosen.select, chosen.test
        if chosen.data.startswith("synthetic"):
            assert not set(select.seeds) & set(test.seeds) and min(test.seeds) >= 0
            assert max(test.seeds) < 1000  # training draws seeds >= 1000
        elif chosen.data == "eglb2022":
            assert train.hours[1] <= test.hours[0]
        else:
            assert not {train.years, select.years} & {test.years} and test.years == "2024"
    assert task("history14-2024-weekly") is TASKS["history14-2024-weekly-v1"]  # a bare name is its latest version


@pytest.mark.parametrize("bad", ["nope-v1", "", 5, None])
def test_unknown_tasks_are_named(bad):
    with pytest.raises(InputError, match="task"):
        task(bad)


def test_every_task_is_a_gymnasium_id_on_its_training_split():
    for task_id in TASKS:
        assert f"eglb/{task_id}" in gym.registry
    env = gym.make("eglb/synthetic-457-v1", action_mode="share")
    check_env(env.unwrapped, skip_render_check=True)
    env.reset(seed=3)
    assert env.unwrapped.scenario.name.startswith("synthetic") and env.unwrapped.hours == 457


def test_the_normalized_score_is_zero_at_glb_cost_and_100_at_the_optimum():
    J_ref, J_opt = np.array([200.0, 300.0]), np.array([100.0, 250.0])
    assert np.allclose(normalized_score(J_ref, J_ref, J_opt), 0.0)
    assert np.allclose(normalized_score(J_opt, J_ref, J_opt), 100.0)
    assert np.allclose(normalized_score([150.0, 260.0], J_ref, J_opt), [50.0, 80.0])
    with pytest.raises(InputError, match="undefined"):
        normalized_score(1.0, 2.0, 2.0)


def test_episode_rows_score_against_an_independent_run():
    chosen = TASKS["synthetic-457-v1"]
    episode = chosen.test_episodes()[0]
    rows = {r["algo"]: r for r in episode_rows(("eglb", "glb-carbon"), AlgorithmOptions(), episode)}
    result = eglb.evaluate(
        eglb.EvaluationConfig(
            algos=("glb-cost", "eglb-off", "eglb", "glb-carbon"), scenario=eglb.ScenarioConfig(synthetic=(100,))
        )
    )
    J = {r["algo"]: r["J"] for r in result.rows}
    for algo in ("eglb", "glb-carbon"):
        expected = 100 * (J["glb-cost"] - J[algo]) / (J["glb-cost"] - J["eglb-off"])
        assert rows[algo]["score"] == pytest.approx(expected, rel=1e-9)
        assert rows[algo]["J_opt"] == pytest.approx(J["eglb-off"], rel=1e-9)


def test_every_task_has_reference_scores_of_every_reference_algorithm():
    reference = load_reference()
    assert set(reference["tasks"]) == set(TASKS)
    for task_id, recorded in reference["tasks"].items():
        assert len(recorded["algorithms"]) >= 8 and set(figures_algos(TASKS[task_id])) <= set(recorded["algorithms"])
        for spec in learned_references(TASKS[task_id]):  # learned rows are over three training seeds
            assert recorded["algorithms"][spec]["seeds"] == 3 and len(recorded["algorithms"][spec]["per_seed"]) == 3
        assert recorded["algorithms"]["eglb-off"]["score"] == pytest.approx(100.0)
        assert recorded["algorithms"]["glb-cost"]["score"] == pytest.approx(0.0, abs=1e-9)
        assert len(recorded["episodes"]) == len(recorded["algorithms"]["eglb"]["per_episode"])


@pytest.mark.parametrize("task_id", list(TASKS))
def test_recorded_reference_scores_have_not_drifted(task_id, request):
    """The first test episode's J of the deterministic references, recomputed, equals the recorded one:
    a change to data handling, the objective or the dynamics must bump the task's version."""
    chosen = TASKS[task_id]
    if chosen.needs_data:
        request.getfixturevalue("published_path" if chosen.needs_data == "eglb2022" else "history_path")
    recorded = load_reference()["tasks"][task_id]
    episode = chosen.test_episodes()[0]
    for row in episode_rows(DRIFT_ALGOS, AlgorithmOptions(), episode):
        was = recorded["algorithms"][row["algo"]]["per_episode"][episode.id]["J"]
        assert row["J"] == pytest.approx(was, rel=1e-6), f"{task_id}: {row['algo']} drifted; bump the task's version"


def test_score_of_recorded_results_is_the_recorded_score():
    reference = load_reference()
    recorded = reference["tasks"]["synthetic-457-v1"]["algorithms"]["eglb"]
    results = {episode: values["J"] for episode, values in recorded["per_episode"].items()}
    found = eglb.score("synthetic-457-v1", results)
    assert found["score"] == pytest.approx(recorded["score"], rel=1e-9)
    assert found["score_ci_low"] <= found["score"] <= found["score_ci_high"] and found["episodes"] == 30
    seeds = [{"episode": e, "J": j * (1 + 0.001 * s), "seed": s} for s in range(3) for e, j in results.items()]
    assert eglb.score("synthetic-457-v1", seeds)["seeds"] == 3


@pytest.mark.parametrize(
    "results, message",
    [
        ({"seed-100": 1.0}, "miss"),
        ({"seed-99": 1.0}, "not a test episode"),
        ("J", "mapping"),
        ({f"seed-{k}": float("nan") for k in range(100, 130)}, "finite"),
        (
            [{"episode": "seed-100", "J": 1.0, "seed": 0}] * 2 + [{"episode": f"seed-{k}", "J": 1.0} for k in range(101, 130)],
            "seed",
        ),
    ],
)
def test_score_refuses_incomplete_or_bad_results(results, message):
    with pytest.raises(InputError, match=message):
        score("synthetic-457-v1", results)


def test_a_policy_of_ones_own_module_gets_a_leaderboard_row_with_one_command(tmp_path):
    (tmp_path / "my_policy.py").write_text(
        "from eglb.agents.baselines import glb_carbon\n\ndef make():\n    return glb_carbon()\n"
    )
    out = tmp_path / "entry"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "evaluate.py"),
            "--task",
            "synthetic14-week-v1",
            "--algos",
            "py:my_policy:make",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert "py:my_policy:make" in done.stdout and "score" in done.stdout
    (entry,) = json.loads((out / "leaderboard.json").read_text())["entries"]
    assert entry["task"] == "synthetic14-week-v1" and len(entry["per_episode"]) == 30
    rescored = score("synthetic14-week-v1", {r["episode"]: r["J"] for r in entry["per_episode"]})
    assert rescored["score"] == pytest.approx(entry["summary"]["score"], rel=1e-9)
    recorded = load_reference()["tasks"]["synthetic14-week-v1"]["algorithms"]["glb-carbon"]
    assert entry["summary"]["score"] == pytest.approx(recorded["score"], rel=1e-6)  # the same policy as the reference


def test_task_scoring_refuses_scenario_options(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "evaluate.py"), "--task", "synthetic-457-v1", "--algos", "eglb", "--synthetic", "3"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--task fixes" in done.stderr and "Traceback" not in done.stderr


def test_a_minari_dataset_loads_and_trains_behaviour_cloning(tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    import torch

    from eglb.datasets import DatasetConfig, make_dataset

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    config = DatasetConfig("synthetic14-week-v1", "eglb-off", episodes=2, seed=5, root=str(tmp_path))
    make_dataset(config)
    dataset = minari.load_dataset(config.dataset_id)
    assert dataset.total_episodes == 2 and dataset.total_steps == 2 * 168
    returns = np.array([episode.rewards.sum() for episode in dataset.iterate_episodes()])
    assert 100 * minari.get_normalized_score(dataset, returns.mean()) == pytest.approx(100.0)  # the optimum's own return
    with pytest.raises(InputError, match="exists"):
        make_dataset(config)
    episodes = list(dataset.iterate_episodes())
    observations = torch.tensor(np.concatenate([e.observations[:-1] for e in episodes]), dtype=torch.float32)
    actions = torch.tensor(np.concatenate([e.actions for e in episodes]), dtype=torch.float32)
    assert ((actions >= 0) & (actions <= 1 + 1e-9)).all()
    observations = (observations - observations.mean(0)) / (observations.std(0) + 1e-6)
    torch.manual_seed(0)
    network = torch.nn.Sequential(
        torch.nn.Linear(observations.shape[1], 64), torch.nn.Tanh(), torch.nn.Linear(64, actions.shape[1])
    )
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = torch.nn.functional.mse_loss(torch.sigmoid(network(observations)), actions)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def _submission(**summary_changes) -> dict:
    from eglb.leaderboard import ENTRY_FORMAT, SUBMISSION_FORMAT

    summary = {
        "algo": "my-policy",
        "score": 55.5,
        "score_ci_low": 50.0,
        "score_ci_high": 60.0,
        "score_iqm": 55.0,
        "ratio_to_offline": 1.05,
        "ratio_worst": 1.07,
    }
    summary.update(summary_changes)
    return {"format": SUBMISSION_FORMAT, "entries": [{"format": ENTRY_FORMAT, "task": "eglb2022-full-v1", "summary": summary}]}


def test_the_pages_show_submitted_entries_next_to_the_reference(tmp_path):
    from eglb.leaderboard import write_pages

    (tmp_path / "leaderboard").mkdir()
    (tmp_path / "leaderboard" / "mine.json").write_text(json.dumps(_submission()))
    reference = load_reference()
    written = write_pages(tmp_path / "pages", reference, tmp_path / "leaderboard")
    assert len(written) == 1 + len(TASKS)
    page = (tmp_path / "pages" / "leaderboard.md").read_text()
    section = page.split("## [eglb2022-full-v1]")[1].split("## [")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = [line.split("`")[1] for line in rows]
    assert "my-policy (submitted)" in names and len(names) == len(reference["tasks"]["eglb2022-full-v1"]["algorithms"]) + 1
    scores = [float(line.split("|")[3].split()[0]) for line in rows]
    assert scores == sorted(scores, reverse=True)  # best first
    card = (tmp_path / "pages" / "tasks" / "history14-2024-weekly-v1.md").read_text()
    assert "python evaluate.py --task history14-2024-weekly-v1" in card


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "mapping"),
        ('{"format": "other", "entries": []}', "not a leaderboard submission"),
        (json.dumps({**_submission(), "entries": [{"format": "x"}]}), "entry 0: not a leaderboard entry"),
        (json.dumps(_submission(algo="a | b")), "one-line name"),
        (json.dumps(_submission(algo="x" * 500)), "one-line name"),
        (json.dumps(_submission(score="high")), "summary.score must be a finite number"),
        (json.dumps(_submission(ratio_worst=True)), "summary.ratio_worst must be a finite number"),
        (json.dumps(_submission()).replace("55.5", "NaN"), "not standard JSON"),
        ("\x00\x01", "not valid JSON"),
    ],
)
def test_hostile_submissions_are_refused_naming_the_file(tmp_path, content, message):
    from eglb.leaderboard import read_entries

    (tmp_path / "evil.json").write_text(content)
    with pytest.raises(InputError, match=message) as error:
        read_entries(tmp_path)
    assert "evil.json" in str(error.value)


def test_an_unknown_task_in_a_submission_is_named(tmp_path):
    from eglb.leaderboard import read_entries

    content = _submission()
    content["entries"][0]["task"] = "chess-v1"
    (tmp_path / "e.json").write_text(json.dumps(content))
    with pytest.raises(InputError, match="unknown task 'chess-v1'"):
        read_entries(tmp_path)


@pytest.fixture
def one_episode(monkeypatch):
    """synthetic14-week-v1 cut to its first test episode (the recorded file is never touched)."""
    chosen = TASKS["synthetic14-week-v1"]
    first = chosen.test_episodes()[:1]
    monkeypatch.setattr(type(chosen), "test_episodes", lambda self: first)
    return chosen


def test_a_group_of_seeds_is_recorded_per_seed(one_episode, tmp_path):
    """A tail group (one policy per training seed) gets one row per seed and a summary over them."""
    spec = "rhc:w=12,forecaster=seasonal,tail=learned,tail_model=reference:history14"
    content = regenerate([one_episode.id], (spec,), tmp_path / "reference.json", progress=None)
    recorded = content["tasks"][one_episode.id]["algorithms"][spec]
    episode = one_episode.test_episodes()[0].id
    assert recorded["seeds"] == 3 and "per_episode" not in recorded
    per_seed = {seed: values[episode]["score"] for seed, values in recorded["per_seed"].items()}
    assert set(per_seed) == {"0", "1", "2"} and len(set(per_seed.values())) == 3
    assert recorded["score"] == pytest.approx(np.mean(list(per_seed.values())), rel=1e-12)
    assert recorded["score_ci_low"] <= recorded["score"] <= recorded["score_ci_high"]


def test_adding_algorithms_keeps_the_recorded_ones_and_refuses_drifted_anchors(one_episode, tmp_path):
    path = tmp_path / "reference.json"
    regenerate([one_episode.id], ("eglb",), path, progress=None)
    added = regenerate([one_episode.id], ("glb-carbon",), path, progress=None, add=True)["tasks"][one_episode.id]
    both = regenerate([one_episode.id], ("eglb", "glb-carbon"), tmp_path / "both.json", progress=None)["tasks"][one_episode.id]
    assert list(added["algorithms"]) == ["eglb", "glb-carbon"] and added["episodes"] == both["episodes"]
    for algo, recorded in both["algorithms"].items():
        assert added["algorithms"][algo]["score"] == recorded["score"]
    content = json.loads(path.read_text())
    content["tasks"][one_episode.id]["episodes"][0]["J_opt"] *= 1.001  # as if recorded by another version
    path.write_text(json.dumps(content))
    with pytest.raises(InputError, match="differ from the recorded ones"):
        regenerate([one_episode.id], ("glb-water",), path, progress=None, add=True)
    assert "glb-water" not in json.loads(path.read_text())["tasks"][one_episode.id]["algorithms"]  # nothing written
    with pytest.raises(InputError, match="records nothing for eglb2022-full-v1 to add to"):
        regenerate(["eglb2022-full-v1"], ("glb-water",), path, progress=None, add=True)


def test_the_learned_references_are_seed_groups_with_the_strongest_classical_expert():
    from eglb.evaluation import FORECAST_CONTROLLERS
    from eglb.registry import build, seed_members

    for chosen in TASKS.values():
        learned, layered = learned_references(chosen)
        assert f"expert={FORECAST_CONTROLLERS[0].replace(':', '(', 1)})" in layered and layered.startswith(f"robust({learned},")
        for spec in (learned, layered):
            members = seed_members(spec)
            assert [seed for seed, _ in members] == [0, 1, 2]
            assert all(build(member) is not None for _, member in members)
