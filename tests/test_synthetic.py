"""The embedded synthetic generator: determinism, variety, and closeness to the published set."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.envs.calibration import CALIBRATION_FILE, measure
from eglb.envs.eglb2022 import PARTIAL_MASK
from eglb.envs.errors import InputError
from eglb.envs.metrics import metrics_from_energy
from eglb.envs.routing import fill_cheapest
from eglb.envs.synthetic import HELD_OUT_SEEDS, SyntheticSource, correlated_ar1, make_synthetic


def test_same_seed_same_arrays_different_seed_different_trace():
    a, b, c = make_synthetic(7, hours=200), make_synthetic(7, hours=200), make_synthetic(8, hours=200)
    assert a == b
    for name in ("price", "carbon", "water", "workload"):
        assert not np.array_equal(getattr(a, name), getattr(c, name))


@pytest.mark.parametrize("seed", range(4))
def test_the_ar1_recursion_is_scipys_filter(seed):
    """Each series is the first-order filter y[t] = e[t] + phi y[t-1] started at phi times the stationary draw."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    count, steps = 5, 300
    spread, phi = rng.uniform(0.1, 3.0, count), rng.uniform(-0.95, 0.99, count)
    loadings = rng.normal(size=(count, count))
    correlation = np.corrcoef(loadings)
    found = correlated_ar1(np.random.default_rng(seed), spread, phi, correlation, steps)
    values, vectors = np.linalg.eigh(correlation)
    shocks = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ np.random.default_rng(seed).standard_normal((count, steps + 1))
    for k in range(count):
        innovations = spread[k] * np.sqrt(1.0 - phi[k] ** 2) * shocks[k, 1:]
        expected, _ = lfilter([1.0], [1.0, -phi[k]], innovations, zi=[phi[k] * (spread[k] * shocks[k, 0])])
        np.testing.assert_array_equal(found[k], expected)


def test_settings_and_shape():
    s = make_synthetic(0, hours=48, setting="partial")
    assert (s.n_regions, s.n_gateways, s.n_hours) == (10, 10, 48)
    np.testing.assert_array_equal(s.mask, PARTIAL_MASK)
    assert s.workload.max() <= 1.0 and s.capacity.min() == 1.0
    with pytest.raises(InputError, match="'hours' must be a positive integer"):
        make_synthetic(0, hours=0)
    with pytest.raises(InputError, match="'level_jitter' must be >= 0"):
        make_synthetic(0, level_jitter=-1)


def test_calibration_file_is_what_measure_gives_on_the_published_set(published_full):
    stored = json.loads(CALIBRATION_FILE.read_text())
    fresh = measure(published_full)
    for name in ("price", "carbon", "water", "workload"):
        for figure in ("mean", "std", "residual_std", "autocorrelation"):
            np.testing.assert_allclose(stored[name][figure], fresh[name][figure], rtol=1e-12)


def test_summary_statistics_are_close_to_the_published_set(published_full):
    published = measure(published_full)
    runs = [measure(make_synthetic(seed, hours=2000)) for seed in range(5)]
    for name, mean_tol, std_tol in (("price", 0.12, 0.25), ("carbon", 0.05, 0.35), ("water", 0.05, 0.35)):
        mean = np.mean([r[name]["mean"] for r in runs], axis=0)
        std = np.mean([r[name]["std"] for r in runs], axis=0)
        np.testing.assert_allclose(mean, published[name]["mean"], rtol=mean_tol, err_msg=name)
        np.testing.assert_allclose(std, published[name]["std"], rtol=std_tol, err_msg=name)
        # Regions keep their ranking (the cheap and the clean regions stay cheap and clean).
        assert np.corrcoef(mean, published[name]["mean"])[0, 1] > 0.97
    load = np.mean([r["workload"]["mean"][0] for r in runs])
    assert load == pytest.approx(published["workload"]["mean"][0], rel=0.03)
    # The daily cycle of the workload keeps its shape.
    profile = np.mean([r["workload"]["daily_profile"][0] for r in runs], axis=0)
    assert np.corrcoef(profile, published["workload"]["daily_profile"][0])[0, 1] > 0.95


def test_benchmark_outcome_is_like_the_published_one(published_full):
    # GLB-Cost on synthetic traces lands near its published cost per hour and PAR.
    def glb_cost(s):
        return metrics_from_energy(s, fill_cheapest(s.price, s.total_workload, s.capacity))

    reference = glb_cost(published_full)
    runs = [glb_cost(make_synthetic(seed, hours=457)) for seed in range(8)]
    assert np.mean([m.cost for m in runs]) == pytest.approx(reference.cost, rel=0.1)
    assert np.mean([m.par_water for m in runs]) == pytest.approx(reference.par_water, abs=0.15)
    assert np.mean([m.J for m in runs]) == pytest.approx(reference.J, rel=0.08)


def test_source_draws_training_seeds_above_the_held_out_ones():
    source = SyntheticSource(hours=24)
    rng = np.random.default_rng(0)
    names = {source(rng).name for _ in range(5)}
    assert len(names) == 5
    assert all(int(n.split()[2]) >= HELD_OUT_SEEDS for n in names)
