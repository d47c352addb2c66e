"""Aggregates over seeds and scenarios (report/statistics.py) against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.report.statistics import aggregate, format_interval, interquartile_mean, iqm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


def loop_bootstrap(matrix: np.ndarray, reps: int, seed: int, over_tasks: bool) -> np.ndarray:
    """The stratified bootstrap written as a plain loop: tasks drawn with replacement (if asked), then
    each task's runs drawn with replacement; the 2.5 and 97.5 percentiles of the resampled means."""
    rng = np.random.default_rng(seed)
    runs, tasks = matrix.shape
    means = []
    for _ in range(reps):
        chosen = rng.integers(0, tasks, tasks) if over_tasks else np.arange(tasks)
        total = 0.0
        for task in chosen:
            total += matrix[rng.integers(0, runs, runs), task].sum()
        means.append(total / matrix.size)
    return np.percentile(means, [2.5, 97.5])


@pytest.mark.parametrize("over_tasks", [True, False])
def test_the_interval_is_the_stratified_bootstrap(over_tasks):
    matrix = 1 + np.random.default_rng(3).gamma(2.0, 0.01, size=(3, 20))
    found = aggregate(matrix, over_tasks=over_tasks, reps=4000)
    reference = loop_bootstrap(matrix, 6000, seed=11, over_tasks=over_tasks)
    width = reference[1] - reference[0]
    assert found.mean == pytest.approx(matrix.mean(), rel=1e-12)
    assert np.allclose(found.mean_ci, reference, atol=0.1 * width)
    assert found.runs == 3 and found.tasks == 20


def test_iqm_is_the_mean_of_the_middle_half():
    scores = np.arange(1.0, 9.0)  # 1..8: the middle half is 3, 4, 5, 6
    assert iqm(scores) == pytest.approx(4.5)
    assert iqm(np.array([[1.0, 100.0], [2.0, 3.0]])) == pytest.approx(2.5)  # the outlier does not move it


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 41)), elements=st.floats(-1e6, 1e6)))
def test_interquartile_mean_equals_scipys_trim_mean(matrix):
    from scipy.stats import trim_mean

    assert np.array_equal(interquartile_mean(matrix, axis=1), trim_mean(matrix, 0.25, axis=1))
    assert np.array_equal(interquartile_mean(matrix, axis=0), trim_mean(matrix, 0.25, axis=0))


def test_the_same_seed_gives_the_same_interval_and_tasks_widen_it():
    matrix = np.random.default_rng(0).normal(1.0, 0.02, size=(5, 30))
    assert aggregate(matrix, seed=4) == aggregate(matrix, seed=4)
    assert aggregate(matrix, seed=4).mean_ci != aggregate(matrix, seed=5).mean_ci
    fixed, both = aggregate(matrix, over_tasks=False), aggregate(matrix, over_tasks=True)
    assert both.mean_ci[1] - both.mean_ci[0] > fixed.mean_ci[1] - fixed.mean_ci[0]


def test_one_score_has_a_point_interval():
    single = aggregate([[1.25]])
    assert single.mean_ci == (1.25, 1.25) and single.iqm_ci == (1.25, 1.25)
    assert format_interval(single.mean, single.mean_ci, 2) == "1.25 [1.25, 1.25]"


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 12)), elements=st.floats(0.5, 3.0)))
def test_intervals_hold_their_estimates_within_the_scores(matrix):
    found = aggregate(matrix, reps=200)
    low, high = matrix.min(), matrix.max()
    for estimate, interval in ((found.mean, found.mean_ci), (found.iqm, found.iqm_ci)):
        assert low - 1e-12 <= interval[0] <= interval[1] <= high + 1e-12
        assert low - 1e-12 <= estimate <= high + 1e-12


@pytest.mark.parametrize(
    "scores, message",
    [([], "non-empty"), ([[1.0, np.nan]], "finite"), (np.ones((2, 2, 2)), "matrix"), ([[1.0, np.inf]], "finite")],
)
def test_bad_scores_are_refused(scores, message):
    with pytest.raises(InputError, match=message):
        aggregate(scores)


def test_bad_reps_are_refused():
    with pytest.raises(InputError, match="reps"):
        aggregate([1.0, 2.0], reps=0)
