"""Aggregates over seeds and scenarios with 95 % stratified-bootstrap confidence intervals.

The practice of Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical
Precipice" (NeurIPS 2021): report the mean and the interquartile mean (IQM, the mean of the middle
50 % of all run x task scores, robust to outliers) of a score matrix ``[runs, tasks]`` (runs:
training seeds of one algorithm; tasks: evaluation scenarios or windows), each with a bootstrap
confidence interval. The resampling is theirs (the percentile stratified bootstrap of their
``rliable`` package): runs are resampled within each task and, by default, tasks are resampled too,
so the interval covers both the training seeds and the choice of weeks or traces. A deterministic
classical algorithm has one run: its interval is over the tasks alone. (rliable itself is not a
dependency: it pins ``arch<8``, whose releases before 8 do not import with pandas 3.)

Scores here are J / J(eGLB-Off) (lower is better) or the normalized task score (higher is better);
the aggregates do not care which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eglb.envs.errors import InputError

#: Bootstrap replications: 2,000 keeps a 95 % interval's end stable to about 1e-4 on our ratios
#: (rliable's default of 50,000 costs seconds per algorithm and changes nothing we print).
#: Replications are drawn in chunks of at most this many resampled scores, to bound memory.
BOOTSTRAP_REPS = 2000
CONFIDENCE = 0.95
_CHUNK_SCORES = 2_000_000


@dataclass(frozen=True)
class Aggregate:
    """Point estimates and 95 % confidence intervals of one algorithm's scores.

    Attributes:
        mean, iqm: point estimates over all runs x tasks.
        mean_ci, iqm_ci: (low, high) bootstrap intervals.
        runs, tasks: the shape of the score matrix (seeds, scenarios or windows).
    """

    mean: float
    iqm: float
    mean_ci: tuple[float, float]
    iqm_ci: tuple[float, float]
    runs: int
    tasks: int

    def as_dict(self, prefix: str = "") -> dict:
        """Flat JSON-ready columns (``mean``, ``mean_ci_low``, ``mean_ci_high``, ``iqm``, ...)."""
        return {
            f"{prefix}mean": self.mean,
            f"{prefix}mean_ci_low": self.mean_ci[0],
            f"{prefix}mean_ci_high": self.mean_ci[1],
            f"{prefix}iqm": self.iqm,
            f"{prefix}iqm_ci_low": self.iqm_ci[0],
            f"{prefix}iqm_ci_high": self.iqm_ci[1],
            f"{prefix}seeds": self.runs,
            f"{prefix}tasks": self.tasks,
        }


def score_matrix(scores) -> np.ndarray:
    """``scores`` as a finite float matrix [runs, tasks] (a 1-D sequence is one run over its tasks)."""
    matrix = np.asarray(scores, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.size == 0:
        raise InputError(f"scores must be a non-empty [runs, tasks] matrix, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise InputError("scores must be finite numbers (a NaN or infinite J cannot be aggregated)")
    return matrix


def rows_matrix(rows, value: str, task: str) -> tuple[np.ndarray, list, list]:
    """Result rows of one algorithm as the score matrix [seeds, tasks] of their ``value`` column.

    Rows carry ``task`` (the scenario, window or episode) and optionally ``seed`` (the training seed;
    absent or None for an algorithm that is not trained: one run). Returns (matrix, seeds, tasks), both
    in order of appearance. Every seed must have exactly one row on every task.
    """
    rows = list(rows)
    tasks = list(dict.fromkeys(r[task] for r in rows))
    seeds = list(dict.fromkeys(r.get("seed") for r in rows))
    index = {(r.get("seed"), r[task]): r for r in rows}
    if len(index) != len(rows) or len(index) != len(seeds) * len(tasks):
        raise InputError(
            f"every training seed must have one result on every {task} ({len(rows)} rows for "
            f"{len(seeds)} seeds x {len(tasks)} {task}s: a missing or repeated row)"
        )
    return np.array([[index[s, t][value] for t in tasks] for s in seeds], dtype=float), seeds, tasks


def interquartile_mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean of the middle 50 % along ``axis``: ``int(n / 4)`` values cut from each end, as
    ``scipy.stats.trim_mean(values, 0.25)`` cuts them (written here because importing scipy.stats
    costs every command that reports a second)."""
    values = np.asarray(values, dtype=float)
    count = values.shape[axis]
    cut = int(0.25 * count)
    middle = np.partition(values, (cut, count - cut - 1), axis=axis)
    return np.take(middle, np.arange(cut, count - cut), axis=axis).mean(axis=axis)


def iqm(scores) -> float:
    """Interquartile mean of all scores: the mean of the middle 50 % (25 % trimmed from each end)."""
    return float(interquartile_mean(np.asarray(scores, dtype=float).ravel()))


def bootstrap_samples(matrix: np.ndarray, reps: int, rng: np.random.Generator, over_tasks: bool):
    """Yield resampled matrices [chunk, runs, tasks]: runs drawn with replacement within each task
    (after drawing the tasks themselves with replacement when ``over_tasks``)."""
    runs, tasks = matrix.shape
    chunk = max(1, _CHUNK_SCORES // matrix.size)
    for start in range(0, reps, chunk):
        n = min(chunk, reps - start)
        columns = rng.integers(0, tasks, size=(n, 1, tasks)) if over_tasks else np.arange(tasks)[None, None, :]
        rows = rng.integers(0, runs, size=(n, runs, tasks))
        yield matrix[rows, np.broadcast_to(columns, rows.shape)]


def aggregate(scores, seed: int = 0, over_tasks: bool = True, reps: int = BOOTSTRAP_REPS) -> Aggregate:
    """Mean and IQM of ``scores`` [runs, tasks] with 95 % stratified-bootstrap percentile intervals.

    Args:
        scores: [runs, tasks] (or [tasks] for one run).
        seed: seed of the bootstrap (the same seed gives the same interval).
        over_tasks: also resample the tasks (an interval over seeds and scenarios); False keeps the
            tasks fixed (an interval over the training seeds only, rliable's default).
        reps: bootstrap replications (>= 1).
    """
    matrix = score_matrix(scores)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise InputError(f"reps must be a positive integer, got {reps!r}")
    means, iqms = [], []
    for sample in bootstrap_samples(matrix, reps, np.random.default_rng(seed), over_tasks):
        flat = sample.reshape(len(sample), -1)
        means.append(flat.mean(axis=1))
        iqms.append(interquartile_mean(flat, axis=1))
    tail = 100 * (1 - CONFIDENCE) / 2
    interval = lambda values: tuple(float(v) for v in np.percentile(np.concatenate(values), [tail, 100 - tail]))  # noqa: E731
    return Aggregate(
        mean=float(matrix.mean()),
        iqm=iqm(matrix),
        mean_ci=interval(means),
        iqm_ci=interval(iqms),
        runs=matrix.shape[0],
        tasks=matrix.shape[1],
    )


def format_interval(estimate: float, interval: tuple[float, float], digits: int = 4) -> str:
    """``1.0350 [1.0300, 1.0410]``: an estimate with its 95 % interval."""
    return f"{estimate:.{digits}f} [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"
