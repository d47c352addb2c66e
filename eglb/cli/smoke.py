"""Smoke runs: ``EGLB_SMOKE=1`` caps the budgets of train.py and evaluate.py, keeping each command's meaning.

The documentation test (tests/test_docs.py) runs every documented command with ``EGLB_SMOKE=1``, so
that a command which trains for an hour, or evaluates a thousand seeds, runs in seconds there and
still exercises the same code paths: the same algorithms, data, shifts, output files and messages.
Every cap only shortens (fewer seeds, hours, steps, samples); nothing is lengthened or switched on.
This module is the only place that reads the variable (docs/development/docs.md lists the caps).
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

#: The environment variable; "1" turns smoke runs on.
VARIABLE = "EGLB_SMOKE"
#: Synthetic seeds kept (the first ones given).
SEEDS = 2
#: Hours of an evaluated scenario, a benchmark window, a training episode's held-out trace (x 1/2).
HOURS = 48
#: Training budget: environment steps, episode length, one evaluation at the end.
TIMESTEPS = 48
EPISODE_HOURS = 24
#: SB3 keyword arguments capped at this many steps or samples (rollouts, batches, warm-up).
SB3_STEPS = 32
SB3_CAPPED = ("n_steps", "batch_size", "learning_starts", "train_freq")
#: Benchmark windows, sweep severities and lambdas, frontier weight factors, Tune samples kept.
WINDOWS = 2
SWEEP_VALUES = 2
FRONTIER_SCALES = 2
SAMPLES = 2


def enabled() -> bool:
    """True when ``EGLB_SMOKE=1``."""
    return os.environ.get(VARIABLE) == "1"


def announce(program: str, what: str) -> None:
    """One line on stderr, so a smoke run is never mistaken for a real one."""
    print(f"{program}: {VARIABLE}=1: a smoke run ({what})", file=sys.stderr)


def _hours(hours: tuple[int, int] | None) -> tuple[int, int]:
    """The first HOURS hours of a (start, end) window, or of the scenario (end -1: the last hour)."""
    start, end = hours if hours is not None else (0, -1)
    return (start, start + HOURS if end == -1 else min(end, start + HOURS))


def scenario(config):
    """A ScenarioConfig shortened: the first SEEDS seeds, at most HOURS hours."""
    if config.traces is None:
        hours = _hours(config.hours) if config.hours is not None else None
        synthetic_hours = min(config.synthetic_hours, max(HOURS, hours[1] if hours else 0))
        return replace(config, synthetic=config.synthetic[:SEEDS], synthetic_hours=synthetic_hours, hours=hours)
    return replace(config, hours=_hours(config.hours))


def evaluation(config, program: str = "evaluate.py", benchmark: bool = False):
    """An EvaluationConfig on shortened scenarios (a benchmark keeps its year: its windows are capped instead)."""
    if not benchmark:
        config = replace(config, scenario=scenario(config.scenario))
        announce(program, f"at most {SEEDS} synthetic seeds and {HOURS} hours")
    return config


def sweep(config):
    """A SweepConfig with its first severities and lambdas."""
    return replace(config, severities=config.severities[:SWEEP_VALUES], lambdas=config.lambdas[:SWEEP_VALUES])


def frontier_scales(scales: tuple[float, ...]) -> tuple[float, ...]:
    """The first FRONTIER_SCALES factors of the equity frontier's weights."""
    return tuple(scales)[:FRONTIER_SCALES]


def benchmark(config, program: str = "evaluate.py"):
    """A BenchmarkConfig with its first WINDOWS windows of at most HOURS hours."""
    announce(program, f"the first {WINDOWS} windows of at most {HOURS} hours")
    windows = tuple(config.windows or range(WINDOWS))[:WINDOWS]
    return replace(config, window_hours=min(config.window_hours, HOURS), windows=windows)


def training(config, program: str = "train.py"):
    """A RunConfig with a budget of seconds: TIMESTEPS steps, EPISODE_HOURS-hour episodes, one
    environment, one held-out trace of EPISODE_HOURS hours (or one window) scored once at the end."""
    from eglb.training.algorithms import algorithm

    model = dict(config.model)
    if algorithm(config.algo).family == "imitation":
        model.update(episodes_per_iteration=2, epochs=2, workers=1)
    else:
        for key in SB3_CAPPED:
            if isinstance(model.get(key), int) and model[key] > SB3_STEPS:
                model[key] = SB3_STEPS
    timesteps = min(config.timesteps, TIMESTEPS)
    announce(program, f"{timesteps} timesteps of {EPISODE_HOURS}-hour episodes, one evaluation")
    return replace(
        config,
        timesteps=timesteps,
        eval_freq=timesteps,
        n_envs=1,
        env=replace(config.env, episode_hours=min(config.env.episode_hours, EPISODE_HOURS)),
        data=replace(
            config.data,
            eval_seeds=config.data.eval_seeds[:1],
            eval_synthetic_hours=min(config.data.eval_synthetic_hours, EPISODE_HOURS),
            eval_windows=1,
        ),
        model=model,
    )


def resumed_timesteps(timesteps: int | None) -> int | None:
    """``--resume RUN --timesteps N``: a smoke run extends by at most TIMESTEPS steps past a smoke run's own."""
    return None if timesteps is None else min(timesteps, 2 * TIMESTEPS)


def samples(count: int) -> int:
    """Tune samples kept."""
    return min(count, SAMPLES)
