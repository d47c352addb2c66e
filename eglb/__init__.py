"""eGLB: equity-aware geographical load balancing of AI workloads.

The Python API: names to policies (the registry), evaluation, benchmarks, sweeps and training.

    import eglb
    rows = eglb.evaluate(eglb.EvaluationConfig(algos=("eglb", "eglb-off"), scenario=eglb.ScenarioConfig(synthetic=(3,))))
    summary = eglb.train(eglb.training_config("bc"), folder="runs/bc", callbacks=[print])
    group = eglb.train_seeds(eglb.training_config("bc"), seeds=(0, 1, 2), folder="runs/bc3")   # runs/bc3/seed-K
    outcome = eglb.tune(eglb.TuneConfig(eglb.training_config("bc"), space="bc", samples=4))

Every function runs on this machine's processes by default; ``mapper_for(address)`` gives the Ray
version of the maps (``evaluate(config, mapper=...)``, ``train(..., label_mapper=...)``) and
``TuneConfig.address`` says where trials run.

The layers are subpackages, each importing only the ones below it: ``eglb.envs`` (scenarios, the
objective, the Gymnasium environment), ``eglb.importers`` (real history), ``eglb.forecasts``,
``eglb.agents`` (policies), ``eglb.robust`` (the layer), ``eglb.training``, ``eglb.report``,
``eglb.sweeps`` (Ray), then this API (``eglb.registry``, ``eglb.evaluation``, ``eglb.benchmark``,
``eglb.trainer``, ``eglb.groups`` (several seeds as a run group), ``eglb.equity`` (the equity trade-off frontier), ``eglb.tuning``, ``eglb.scenarios``, ``eglb.cluster``; the versioned benchmark tasks
``eglb.tasks``, their scores ``eglb.scores`` and ``eglb.leaderboard``) and the command-line
programs (``eglb.cli.train``, ``eglb.cli.evaluate``). In the repository the layers are the top-level
folders ``envs/``, ``agents/``, ...; installed, they live under ``eglb`` only.

The API and every subpackage are imported on first use (``eglb.benchmark``, ``eglb.evaluate``...),
so that ``import eglb.envs`` stays light; ``import eglb`` registers the Gymnasium ids.
"""

from __future__ import annotations

import importlib

#: Public name -> the module that defines it.
_API = {
    "AlgorithmOptions": "eglb.registry",
    "build": "eglb.registry",
    "EvaluationConfig": "eglb.evaluation",
    "EvaluationResult": "eglb.evaluation",
    "SweepConfig": "eglb.evaluation",
    "evaluate": "eglb.evaluation",
    "sweep": "eglb.evaluation",
    "ScenarioConfig": "eglb.scenarios",
    "build_scenarios": "eglb.scenarios",
    "TrainingSummary": "eglb.trainer",
    "train": "eglb.trainer",
    "training_config": "eglb.trainer",
    "vary": "eglb.trainer",
    "GroupSummary": "eglb.groups",
    "train_seeds": "eglb.groups",
    "TuneConfig": "eglb.tuning",
    "tune": "eglb.tuning",
    "mapper_for": "eglb.cluster",
    "score": "eglb.scores",
    "FrontierConfig": "eglb.equity",
    "frontier": "eglb.equity",
}

#: Submodules reachable as attributes after ``import eglb`` (imported on first use).
_SUBMODULES = (
    "envs",
    "importers",
    "forecasts",
    "agents",
    "robust",
    "training",
    "report",
    "sweeps",
    "registry",
    "evaluation",
    "benchmark",
    "scenarios",
    "trainer",
    "groups",
    "equity",
    "tuning",
    "cluster",
    "environments",
    "tasks",
    "scores",
    "leaderboard",
    "datasets",
    "zoo",
    "cli",
)

__all__ = sorted(_API) + list(_SUBMODULES)


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"eglb.{name}")
    else:
        raise AttributeError(f"module 'eglb' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


importlib.import_module("eglb.environments").register()
importlib.import_module("eglb.tasks").register()
