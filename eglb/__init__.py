"""The Python API of eGLB: names to policies (the registry), evaluation, sweeps and training.

    import eglb
    rows = eglb.evaluate(eglb.EvaluationConfig(algos=("eglb", "eglb-off"), scenario=eglb.ScenarioConfig(synthetic=(3,))))
    summary = eglb.train(eglb.training_config("bc"), folder="runs/bc", callbacks=[print])

The command-line programs ``train.py`` and ``evaluate.py`` are thin wrappers of these functions.
"""

from eglb.environments import register as _register_environments
from eglb.evaluation import EvaluationConfig, EvaluationResult, SweepConfig, evaluate, sweep
from eglb.registry import AlgorithmOptions, build
from eglb.scenarios import ScenarioConfig, build_scenarios
from eglb.training import TrainingSummary, train, training_config

__all__ = [
    "AlgorithmOptions",
    "EvaluationConfig",
    "EvaluationResult",
    "ScenarioConfig",
    "SweepConfig",
    "TrainingSummary",
    "build",
    "build_scenarios",
    "evaluate",
    "sweep",
    "train",
    "training_config",
]

_register_environments()
