"""The knobs as users type them (``evaluate.py --jobs ... --models ...``; docs/model/flexibility.md).

::

    --jobs stream                               the calibrated job stream (envs/job_stream.py), seed 0
    --jobs stream:share=0.5,seed=3,residency=0.2,capacity=2   its settings: deferrable_share, seed,
                                                residency_share, job_capacity
    --jobs path/to/jobs.csv                     your own job list (envs/jobs_csv.py)
    --models llama3.1-batch128:target=80        a preset of envs/flexibility.py MODEL_PRESETS, with
                                                the accuracy target; share=, penalty= optional
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.flexibility import MODEL_PRESETS, ModelChoice
from eglb.envs.job_stream import JobStream
from eglb.envs.scenario import Scenario

STREAM_KEYS = {"share": "deferrable_share", "residency": "residency_share", "capacity": "job_capacity", "seed": None}
MODEL_KEYS = ("target", "share", "penalty")


def _settings(text: str, option: str, keys) -> tuple[str, dict[str, float]]:
    name, _, body = text.partition(":")
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep or key not in keys:
            raise InputError(f"{option} {text!r}: expected KEY=VALUE with KEY in {', '.join(keys)}, got {part!r}")
        if key in values:
            raise InputError(f"{option} {text!r}: {key} is given twice")
        try:
            values[key] = float(value)
        except ValueError:
            raise InputError(f"{option} {text!r}: {key}={value!r} is not a number") from None
    return name.strip(), values


def model_choice(text: str) -> ModelChoice:
    """``PRESET:target=T[,share=S,penalty=P]`` as a :class:`ModelChoice`."""
    name, values = _settings(text, "--models", MODEL_KEYS)
    if name not in MODEL_PRESETS:
        raise InputError(f"--models {text!r}: unknown preset {name!r}; presets: {', '.join(MODEL_PRESETS)}")
    if "target" not in values:
        raise InputError(f"--models {text!r}: give the accuracy target, e.g. {name}:target=80")
    return MODEL_PRESETS[name].choice(**values)


def job_stream(jobs: str) -> tuple[JobStream, int] | None:
    """``--jobs stream[:...]`` as (the stream, its seed); None for a job list file."""
    if not (jobs == "stream" or jobs.startswith("stream:")):
        return None
    _, values = _settings(jobs, "--jobs", tuple(STREAM_KEYS))
    seed = values.pop("seed", 0.0)
    if seed != int(seed) or seed < 0:
        raise InputError(f"--jobs {jobs!r}: seed must be a whole number >= 0")
    try:
        return JobStream(**{STREAM_KEYS[k]: v for k, v in values.items()}), int(seed)
    except InputError as exc:
        raise InputError(f"--jobs {jobs!r}: {exc}") from None


def with_knobs(scenario: Scenario, jobs: str | None = None, models: str | None = None) -> Scenario:
    """``scenario`` with the jobs and models the options name (see the module docstring).

    A job list read from a file is checked against the scenario job by job here; whether all jobs
    fit together is :func:`eglb.agents.deliverable.check_deliverable` (an LP), which the API runs."""
    if models:
        scenario = scenario.with_changes(models=model_choice(models))
    if not jobs:
        return scenario
    stream = job_stream(jobs)
    if stream is not None:
        return stream[0].draw(scenario, stream[1])
    from eglb.envs.jobs_csv import load_jobs

    path = Path(jobs)
    if not path.is_file():
        raise InputError(f"--jobs {jobs!r} is neither 'stream[:...]' nor an existing job list file")
    return scenario.with_changes(jobs=load_jobs(path, scenario))


#: The knob variants of a scenario, to measure what each knob is worth (benchmarks/knobs.py).
VARIANTS = ("spatial", "deferral", "models", "both")


def variant(scenario: Scenario, name: str) -> Scenario:
    """``scenario`` with some knobs turned off.

    * ``spatial``: spatial routing alone: every job runs at full power from its release (its deadline
      moved to release + ceil(energy / max power): no slack), every request at model 0.
    * ``deferral``: the jobs as given, every request at model 0.
    * ``models``: the model choice as given, the jobs without slack.
    * ``both``: the scenario itself.

    A schedule of the ``spatial`` variant is a run-now schedule of the scenario: the same energy and
    transfers, no work undone, and model 0 meets any target, so its J is comparable.
    """
    if name not in VARIANTS:
        raise InputError(f"knob variant must be one of {', '.join(VARIANTS)}, got {name!r}")
    changes = {}
    if name in ("spatial", "deferral"):
        changes["models"] = None
    jobs = scenario.jobs
    if name in ("spatial", "models") and jobs is not None and jobs.count:
        run = np.maximum(np.ceil(jobs.energy / jobs.max_power - 1e-9), 1).astype(int)
        deadline = np.minimum(jobs.release + run, jobs.deadline)
        changes["jobs"] = replace(jobs, deadline=deadline)
    return (
        scenario.with_changes(**changes, name=f"{scenario.name} [{name}]")
        if changes
        else scenario.with_changes(name=f"{scenario.name} [{name}]")
    )
