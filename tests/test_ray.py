"""Work on Ray: a real local Ray (2 CPUs) and a simulated two-node cluster (ray.cluster_utils.Cluster,
one CPU per node). Results equal the local path's number for number; a killed worker loses and
doubles no row; Tune trials are run folders, spread over the nodes, resumed after an interruption."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml
from eglb.envs.errors import InputError
from eglb.envs.synthetic import make_synthetic
from eglb.training.config import DataConfig

import eglb
from eglb.cli import evaluate, train

ray = pytest.importorskip("ray")
from eglb.sweeps.ray_map import RayMapper  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

RAY_OPTIONS = {"include_dashboard": False, "log_to_driver": False, "object_store_memory": 100 * 2**20}


class Rays:
    """One Ray at a time for the module: the local one or the two-node cluster, started on first use
    and shut down when the other is needed and at the end of the module."""

    def __init__(self):
        self.kind, self.cluster = None, None

    def use(self, kind: str):
        if self.kind != kind:
            self.stop()
            if kind == "local":
                ray.init(address="local", num_cpus=2, **RAY_OPTIONS)  # its own, whatever else runs on the machine
            else:
                self.cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": 100 * 2**20})
                self.cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20)
                self.cluster.wait_for_nodes()
                ray.init(address=self.cluster.address, log_to_driver=False)
            self.kind = kind
        return self.cluster

    def stop(self):
        ray.shutdown()
        if self.cluster is not None:
            self.cluster.shutdown()
        self.kind, self.cluster = None, None


@pytest.fixture(scope="module")
def rays():
    started = Rays()
    yield started
    started.stop()


@pytest.fixture
def local_ray(rays):
    rays.use("local")


@pytest.fixture
def two_nodes(rays):
    return rays.use("cluster")


def without_timings(rows: list[dict]) -> list[dict]:
    """Rows without what the clock measures (run and decision times)."""
    return [{k: v for k, v in row.items() if "seconds" not in k and k != "ms_per_hour"} for row in rows]


def node_recording(mapper, nodes: set):
    """``mapper`` that also notes the Ray node each item ran on."""

    def run(function, items):
        pairs = mapper(lambda item: (ray.get_runtime_context().get_node_id(), function(item)), items)
        nodes.update(node for node, _ in pairs)
        return [result for _, result in pairs]

    return run


def sweep_config(out: Path) -> eglb.SweepConfig:
    evaluation = eglb.EvaluationConfig(
        algos=("eglb", "glb-cost", "robust(glb-cost,lambda=0.05)"),
        scenario=eglb.ScenarioConfig(synthetic=(0,), synthetic_hours=48),
        out=str(out),
    )
    return eglb.SweepConfig(evaluation, shifts=("heat-wave", "outage", "surge"), severities=(1.0, 2.0), lambdas=(0.0, 0.1))


# ----------------------------------------------------------------------------------- the mapper
def test_the_mapper_keeps_order_and_returns_our_errors_as_themselves(local_ray):
    items = list(range(23))
    assert RayMapper()(lambda x: x * x, items) == [x * x for x in items]
    assert RayMapper(items_per_task=5)(lambda x: -x, items) == [-x for x in items]
    assert RayMapper()(abs, []) == []

    def refuse(x):
        if x == 3:
            raise InputError("item 3 is bad")
        return x

    with pytest.raises(InputError, match="^item 3 is bad$"):
        RayMapper()(refuse, items)
    with pytest.raises(InputError, match="cpus_per_task > 0"):
        RayMapper(cpus_per_task=0)


def test_multi_scenario_evaluation_on_ray_equals_the_local_one(local_ray, tmp_path, capsys):
    args = ["--synthetic", "0-2", "--synthetic-hours", "48", "--algos", "eglb,eglb-off,glb-cost", "--no-progress"]
    assert evaluate.main([*args, "--out", str(tmp_path / "local")]) == 0
    assert evaluate.main([*args, "--out", str(tmp_path / "ray"), "--ray"]) == 0
    for name in ("results.json", "summary.json"):
        local = json.loads((tmp_path / "local" / name).read_text())
        remote = json.loads((tmp_path / "ray" / name).read_text())
        assert len(remote) == len(local) and without_timings(remote) == without_timings(local), name
    assert len(json.loads((tmp_path / "ray" / "results.json").read_text())) == 3 * 3


def test_dagger_labels_on_ray_equal_the_local_ones(local_ray, tmp_path):
    from eglb.training.dagger import label

    scenario = make_synthetic(5, hours=48)
    footprint = np.zeros((2, scenario.n_regions))
    jobs = [(scenario.window(k, 48), footprint + k) for k in range(0, 40, 5)]
    local = [label(job) for job in jobs]
    remote = RayMapper(items_per_task=3)(label, jobs)
    assert len(remote) == len(local) and all(np.array_equal(a, b) for a, b in zip(local, remote))
    # train.py --ray: the same run, number for number (the labels and so the network are the same).
    common = [
        "--algo",
        "bc",
        "--synthetic",
        "--timesteps",
        "96",
        "--eval-freq",
        "48",
        "--set",
        "env.episode_hours=24",
        "--eval-seeds",
        "0",
        "--set",
        "model.episodes_per_iteration=2",
        "--set",
        "model.epochs=3",
        "--out",
        str(tmp_path),
        "--no-progress",
    ]
    assert train.main([*common, "--name", "local", "--set", "model.workers=2"]) == 0
    assert train.main([*common, "--name", "ray", "--ray"]) == 0
    rows = {name: (tmp_path / name / "eval.csv").read_text().splitlines() for name in ("local", "ray")}
    columns = rows["local"][0].split(",")
    keep = [columns.index(c) for c in ("steps", "ratio_to_offline", "loss", "labels")]
    pick = lambda lines: [[line.split(",")[k] for k in keep] for line in lines[1:]]  # noqa: E731
    assert pick(rows["ray"]) == pick(rows["local"]) and len(rows["local"]) == 3


def test_an_interrupted_tune_resumes_its_trials_from_their_checkpoints(local_ray, tmp_path):
    """The first start stops the trial at its second evaluation (as a lost driver or Ctrl-C would
    leave them); running the same search again continues each run folder from its checkpoint."""

    def stop_at_48(row):
        if row["steps"] == 48:
            raise RuntimeError("interrupted")

    config = eglb.TuneConfig(
        tiny_bc(),
        space=write_space(tmp_path / "space.yml"),
        samples=1,
        storage=str(tmp_path / "tune"),
        name="resumed",
        max_failures=0,
    )
    first = eglb.tune(config, callbacks=(stop_at_48,))
    assert [(row["status"], row["evaluations"]) for row in first.trials] == [("error", 2)]
    again = eglb.tune(config)
    assert [row["trial_id"] for row in sorted(again.trials, key=lambda r: r["trial_id"])] == [
        row["trial_id"] for row in sorted(first.trials, key=lambda r: r["trial_id"])
    ]
    for row in again.trials:
        folder = Path(row["folder"])
        assert row["status"] == "done"
        history = [int(line.split(",")[0]) for line in (folder / "eval.csv").read_text().splitlines()[1:]]
        assert history == [24, 48, 72]  # the row of the interrupted evaluation is not doubled
        assert (folder / "progress-2.csv").is_file() and (folder / "results.json").is_file()


def test_a_seed_group_trains_as_tune_trials_like_the_local_one(local_ray, tmp_path):
    """train.py --seeds --ray: each seed a Tune trial in GROUP/seed-K, the same runs as one after another."""
    config = tiny_bc()
    remote = eglb.train_seeds(config, seeds=(0, 1), folder=tmp_path / "ray", address="local")
    local = eglb.train_seeds(config, seeds=(0, 1), folder=tmp_path / "local")
    assert remote.trained == local.trained == (0, 1)
    assert sorted(p.name for p in (tmp_path / "ray").glob("seed-*")) == ["seed-0", "seed-1"]
    for seed in (0, 1):
        ray_rows = [r["ratio_to_offline"] for r in remote.curves[seed]]
        assert ray_rows == [r["ratio_to_offline"] for r in local.curves[seed]] and len(ray_rows) == 3
    assert [r["ratio_to_offline"] for r in remote.summary] == [r["ratio_to_offline"] for r in local.summary]
    again = eglb.train_seeds(folder=tmp_path / "ray", resume=True, address="local")
    assert again.trained == ()  # finished seeds are not trained again


# ----------------------------------------------------------------------------------- two nodes
def test_the_sweep_spreads_over_two_nodes_and_equals_the_local_one(two_nodes, tmp_path):
    local = eglb.sweep(sweep_config(tmp_path / "local"))
    nodes: set = set()
    remote = eglb.sweep(sweep_config(tmp_path / "ray"), node_recording(RayMapper(), nodes))
    assert len(nodes) == 2, "every task ran on one node"
    assert len(remote.rows) == len(local.rows) == 3 * 3 * 3
    assert without_timings(remote.rows) == without_timings(local.rows)
    assert remote.tradeoff == local.tradeoff


def test_a_worker_killed_mid_sweep_loses_and_doubles_no_row(two_nodes, tmp_path):
    marker = tmp_path / "killed"

    def kill_once(function, items):
        def run(item):
            if item[1] == "outage" and not marker.exists():
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-task
            return function(item)

        return RayMapper(max_retries=2)(run, items)

    local = eglb.sweep(sweep_config(tmp_path / "local"))
    remote = eglb.sweep(sweep_config(tmp_path / "ray"), kill_once)
    assert marker.exists()
    keys = [(r["shift"], r["severity"], r["algo"]) for r in remote.rows]
    assert len(keys) == len(set(keys)) == len(local.rows)
    assert without_timings(remote.rows) == without_timings(local.rows)


def tiny_bc(**sets) -> eglb.TrainingSummary:
    values = {"env.episode_hours": 24, "model.episodes_per_iteration": 1, "model.epochs": 2, "model.workers": 1, **sets}
    return eglb.training_config(
        "bc", data=DataConfig(eval_seeds=(0,)), timesteps=72, eval_freq=24, sets=[f"{k}={v}" for k, v in values.items()]
    )


def write_space(path: Path) -> Path:
    path.write_text("model.learning_rate: {loguniform: [1.0e-4, 3.0e-3]}\nmodel.epochs: {choice: [2, 3]}\n")
    return path


def test_a_two_trial_tune_spreads_over_both_nodes_and_gives_run_folders(two_nodes, tmp_path):
    from eglb.robust.learned import load_learned

    nodes = tmp_path / "nodes"
    nodes.mkdir()
    note_node = lambda row: (nodes / ray.get_runtime_context().get_node_id()).touch()  # noqa: E731
    config = eglb.TuneConfig(
        tiny_bc(),
        space=write_space(tmp_path / "space.yml"),
        samples=2,
        scheduler="asha",
        storage=str(tmp_path / "tune"),
        name="bc-search",
    )
    outcome = eglb.tune(config, callbacks=(note_node,))
    assert len(list(nodes.iterdir())) == 2, "both trials ran on one node"
    assert len(outcome.trials) == 2 and outcome.best == outcome.trials[0]
    assert outcome.best["best_ratio"] <= outcome.trials[1]["best_ratio"]
    for row in outcome.trials:
        folder = Path(row["folder"])
        assert folder.parent == tmp_path / "tune" / "bc-search" / "runs"
        history = [int(line.split(",")[0]) for line in (folder / "eval.csv").read_text().splitlines()[1:]]
        # ASHA may stop the worse trial at its second evaluation; a trial that ran to its end has its results.
        assert len(history) >= 2 and history == [24, 48, 72][: len(history)]
        assert (folder / "results.json").is_file() == (history == [24, 48, 72] and (folder / "summary.json").is_file())
        saved = yaml.safe_load((folder / "config.yaml").read_text())
        assert saved["model"]["learning_rate"] == pytest.approx(row["param.model.learning_rate"], rel=1e-12)
        assert saved["model"]["epochs"] == row["param.model.epochs"] in (2, 3)
        load_learned(folder)  # loads like any run (bc:FOLDER)
    assert json.loads((tmp_path / "tune" / "bc-search" / "trials.json").read_text())[0]["folder"] == outcome.best["folder"]


@pytest.mark.slow
def test_a_tune_on_uri_storage_uploads_each_trials_run_folder(local_ray, tmp_path):
    """With a URI storage (file:// here, s3:// on a cluster) each finished run folder comes back as the
    trial's Tune checkpoint, and the trials table goes to ``out``."""
    from eglb.robust.learned import load_learned

    config = eglb.TuneConfig(
        tiny_bc(),
        space=write_space(tmp_path / "space.yml"),
        samples=1,
        storage=f"file://{tmp_path / 'store'}",
        name="uri",
        out=str(tmp_path / "out"),
    )
    outcome = eglb.tune(config)
    (row,) = outcome.trials
    assert row["evaluations"] == 3 and row["folder"].startswith(f"file://{tmp_path / 'store' / 'uri'}")
    folder = Path(row["folder"].removeprefix("file://"))
    assert [int(line.split(",")[0]) for line in (folder / "eval.csv").read_text().splitlines()[1:]] == [24, 48, 72]
    assert (folder / "results.json").is_file() and (tmp_path / "out" / "uri" / "trials.json").is_file()
    load_learned(folder)


@pytest.mark.slow
def test_the_rllib_example_trains_on_our_env_and_is_scored_by_our_metrics(local_ray):
    """examples/rllib_ppo.py (the optional ``rllib`` extra): RLlib's PPO on gymnasium 1.4 and our env."""
    import importlib.util

    from eglb.agents.eglb_online import EGLBOnline
    from eglb.agents.offline import EGLBOffline
    from eglb.agents.rollout import rollout

    for module in ("tree", "lz4", "ormsgpack"):
        pytest.importorskip(module, reason="the rllib extra is not installed (pip install -e '.[rllib]')")
    spec = importlib.util.spec_from_file_location("rllib_ppo", Path(__file__).resolve().parents[1] / "examples" / "rllib_ppo.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    means = example.main(["--iterations", "2", "--episode-hours", "24", "--batch", "96", "--eval-seeds", "0"])
    scenario = make_synthetic(0, hours=24)
    expert = rollout(EGLBOnline(), scenario).metrics.J / EGLBOffline().solve(scenario).objective
    assert means["eglb"] == pytest.approx(expert, rel=1e-12)
    assert 1.0 <= means["rllib-ppo"] < 2.0  # a feasible policy, scored like every other


# ----------------------------------------------------------------------------------- space files
@pytest.mark.parametrize(
    "text, message",
    [
        (
            "model.learning_rate: {loguniform: [0, 1]}\n",
            r"space.yml, line 1, model.learning_rate: loguniform takes \[LOW, HIGH\] with 0 < LOW",
        ),
        (
            "model.epochs: {choice: [2]}\nmodel.lr: {uniform: [1, 2]}\n",
            r"space.yml, line 2: unknown bc hyperparameter|space.yml, line 2: .*model.lr",
        ),
        ("model.epochs: {pick: [1, 2]}\n", r"line 1, model.epochs: a distribution is one of \{uniform: ...\}"),
        ("learning_rate: 0.1\n", r"line 1: unknown configuration key 'learning_rate'"),
        ("model.epochs: {randint: [5, 2]}\n", r"randint takes .* with LOW < HIGH"),
        ("model.workers: {choice: [1, 2]}\n", r"model.workers sets the CPUs a trial reserves"),
        ("model.epochs: {choice: [0, 2]}\n", r"line 1: model.epochs must be >= 1"),
        ("- a\n- b\n", r"must be a mapping of dotted keys"),
        ("model.epochs: [1, 2\n", r"line 2: not valid YAML"),
    ],
)
def test_space_file_mistakes_name_the_file_line_and_key(tmp_path, text, message):
    from eglb.sweeps.spaces import load_space

    from eglb.tuning import check_space

    path = tmp_path / "space.yml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        check_space(tiny_bc(), load_space(path))


@pytest.mark.parametrize("algo", ["bc", "ppo", "a2c", "sac", "td3", "recurrent-ppo"])
def test_the_shipped_space_of_each_algorithm_is_valid(algo):
    from eglb.sweeps.spaces import load_space, space_file

    from eglb.tuning import check_space

    space = load_space(space_file(algo))
    assert space.domains and check_space(eglb.training_config(algo), space) >= 1


def test_tune_options_need_tune_and_give_one_line(run_cli):
    result = run_cli("train.py", "--algo", "bc", "--samples", "3")
    assert result.returncode == 2 and result.stderr.strip().endswith(
        "--samples, --scheduler and --storage go with --tune SPACE.yml"
    )
    result = run_cli("train.py", "--algo", "bc", "--tune", "missing.yml", "--no-progress")
    assert result.returncode == 2 and "cannot read search space missing.yml" in result.stderr and "Traceback" not in result.stderr
