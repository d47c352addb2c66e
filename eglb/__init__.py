"""The Python API of eGLB: names to policies (the registry), evaluation, sweeps and training.

    import eglb
    rows = eglb.evaluate(eglb.EvaluationConfig(algos=("eglb", "eglb-off"), scenario=eglb.ScenarioConfig(synthetic=(3,))))
    summary = eglb.train(eglb.training_config("bc"), folder="runs/bc", callbacks=[print])
    outcome = eglb.tune(eglb.TuneConfig(eglb.training_config("bc"), space="sweeps/spaces/bc.yml", samples=4))

Every function runs on this machine's processes by default; ``mapper_for(address)`` gives the Ray
version of the maps (``evaluate(config, mapper=...)``, ``train(..., label_mapper=...)``) and
``TuneConfig.address`` says where trials run.

The command-line programs ``train.py`` and ``evaluate.py`` are thin wrappers of these functions.
"""

from eglb.cluster import mapper_for
from eglb.environments import register as _register_environments
from eglb.evaluation import EvaluationConfig, EvaluationResult, SweepConfig, evaluate, sweep
from eglb.registry import AlgorithmOptions, build
from eglb.scenarios import ScenarioConfig, build_scenarios
from eglb.training import TrainingSummary, train, training_config, vary
from eglb.tuning import TuneConfig, tune

__all__ = [
    "AlgorithmOptions",
    "EvaluationConfig",
    "EvaluationResult",
    "ScenarioConfig",
    "SweepConfig",
    "TrainingSummary",
    "TuneConfig",
    "build",
    "build_scenarios",
    "evaluate",
    "mapper_for",
    "sweep",
    "train",
    "training_config",
    "tune",
    "vary",
]

_register_environments()
